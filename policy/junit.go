package policy

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML as GitLab, Jenkins and the GitHub reporters read it: a
// <testsuites> root, one <testsuite> per rule, one <testcase> per rule and
// connection. time="0" because these are not timed tests (and some readers
// choke on a missing time); no timestamp, so that output depends only on
// the input.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Cases     []junitCase `xml:"testcase"`
		SystemOut string      `xml:"system-out,omitempty"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure"`
		Skipped   *junitSkipped `xml:"skipped"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// WriteJUnit writes the result as JUnit XML: one <testsuite> per rule in
// policy order, one <testcase> per rule and matching handshake in the
// order checked (named "client → server (sni)", classname the rule), a
// <failure type="requirement"> listing the violations of a failing one.
// Passing cases beyond MaxPassingCasesPerRule and failing ones beyond
// MaxViolations are counted in the suite's <system-out>. A rule that
// matched no connection is one <testcase> with <skipped>, or a <failure
// type="unmatched"> when it is required; expect_connections is a suite of
// its own. Output is deterministic for the same input.
func (r *Result) WriteJUnit(w io.Writer) error {
	root := junitSuites{Name: "tlsinspect", Time: "0"}
	for _, rr := range r.Rules {
		s := junitSuite{Name: escape(rr.Name), Time: "0"}
		class := escape(rr.Name)
		if rr.Matched == 0 {
			c := junitCase{Name: "matched no connection", Classname: class, Time: "0"}
			if rr.Required {
				c.Failure = &junitFailure{
					Message: "matched no connection",
					Type:    "unmatched",
					Text:    fmt.Sprintf("rule %s is required but matched none of %d TLS %s", escape(rr.Name), r.Connections, plural(r.Connections, "connection")),
				}
			} else {
				c.Skipped = &junitSkipped{Message: "matched no connection"}
			}
			s.Cases = append(s.Cases, c)
		}
		for _, cs := range rr.Cases {
			c := junitCase{Name: cs.Name, Classname: class, Time: "0"}
			if len(cs.Violations) > 0 {
				c.Failure = failureOf(cs.Violations)
			}
			s.Cases = append(s.Cases, c)
		}
		var notes []string
		if rr.UnlistedPassed > 0 {
			notes = append(notes, fmt.Sprintf("and %d more passing %s (not listed)", rr.UnlistedPassed, plural(rr.UnlistedPassed, "connection")))
		}
		if rr.UnlistedFailed > 0 {
			notes = append(notes, fmt.Sprintf("and %d more failing %s (not listed: more than %d violations)", rr.UnlistedFailed, plural(rr.UnlistedFailed, "connection"), MaxViolations))
		}
		s.SystemOut = strings.Join(notes, "\n")
		root.Suites = append(root.Suites, s)
	}
	if n := r.ExpectConnections; n > 0 {
		expected := fmt.Sprintf("at least %d TLS %s", n, plural(n, "connection"))
		c := junitCase{Name: expected, Classname: "expect_connections", Time: "0"}
		for _, v := range r.Violations {
			if v.Requirement == "expect_connections" && v.Rule == "" {
				c.Failure = failureOf([]Violation{v})
			}
		}
		root.Suites = append(root.Suites, junitSuite{Name: "expect_connections", Time: "0", Cases: []junitCase{c}})
	}
	for i := range root.Suites {
		s := &root.Suites[i]
		for _, c := range s.Cases {
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureOf is one <failure> for a case's violations: JUnit readers take
// one failure per test case, so several violations share it; the message
// lists them briefly, the text one per line in full.
func failureOf(vs []Violation) *junitFailure {
	msgs := make([]string, len(vs))
	lines := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = fmt.Sprintf("%s: expected %s, got %s", escape(v.Requirement), escape(v.Expected), escape(v.Actual))
		lines[i] = v.String()
	}
	return &junitFailure{Message: strings.Join(msgs, "; "), Type: "requirement", Text: strings.Join(lines, "\n")}
}
