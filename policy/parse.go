package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The keys of each mapping, in the order the documentation gives them;
// unknown keys are errors that list these.
var (
	topKeys       = []string{"expect_connections", "fail_on_unmatched", "rules"}
	ruleKeys      = []string{"name", "required", "on_unknown", "match", "require", "deny_findings"}
	matchKeys     = []string{"server", "client", "sni", "client_ja4", "client_ja3"}
	requireKeys   = []string{"version", "suites", "groups", "alpn", "client_cert", "established", "sni", "certificate"}
	versionKeys   = []string{"min", "max"}
	listKeys      = []string{"allow", "deny"}
	clientKeys    = []string{"requested", "sent"}
	certKeys      = []string{"not_expired", "sni_matches", "issuer", "min_key_bits"}
	keyBitsKeys   = []string{"rsa", "ec"}
	maxParseError = 20 // errors reported before giving up
)

// Load reads and parses a policy file (at most MaxFileSize bytes).
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads a YAML policy; name is the file name used in errors. Every
// error line starts with "name:LINE: " (or "name: " when no line applies);
// up to 20 problems are reported at once, one per line.
func Parse(name string, data []byte) (*Policy, error) {
	p := &parser{file: name}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: policy file larger than %d bytes", name, MaxFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty policy file (expected keys: %s)", name, strings.Join(topKeys, ", "))
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, p.yamlError(err)
		}
		return nil, fmt.Errorf("%s:%d: more than one YAML document (--- separates documents)", name, extra.Line)
	}
	pol := p.policy(&doc)
	if len(p.errs) > 0 {
		// Checks run key by key in schema order; the file's order reads
		// better.
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].line < p.errs[j].line })
		errs := make([]error, 0, len(p.errs)+1)
		for _, e := range p.errs {
			errs = append(errs, e.err)
		}
		if p.dropped > 0 {
			errs = append(errs, fmt.Errorf("%s: and %d more errors", name, p.dropped))
		}
		return nil, errors.Join(errs...)
	}
	return pol, nil
}

type parser struct {
	file     string
	errs     []lineError
	dropped  int
	patterns int // globs compiled so far, against maxTotalPatterns
}

type lineError struct {
	line int
	err  error
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxParseError {
		p.dropped++
		return
	}
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		p.errs = append(p.errs, lineError{n.Line, fmt.Errorf("%s:%d: %s", p.file, n.Line, msg)})
		return
	}
	p.errs = append(p.errs, lineError{0, fmt.Errorf("%s: %s", p.file, msg)})
}

// yamlLine matches the position yaml puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError rewrites a syntax error as "file:line: message".
func (p *parser) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", p.file, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", p.file, strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows an alias to its anchored node, so that anchors can share
// lists between rules.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// describe names what a node is, for type errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean (" + n.Value + ")"
		case "!!int", "!!float":
			return "a number (" + n.Value + ")"
		}
		return fmt.Sprintf("a string (%q)", n.Value)
	}
	return "an alias"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// fields checks that n is a mapping with only known keys, each once, and
// returns the value of each key given. where says where the mapping is
// (`in rule "x" require`); ok is false when n is not a mapping.
func (p *parser) fields(n *yaml.Node, where string, known []string) (map[string]*yaml.Node, bool) {
	n = resolve(n)
	sep := " " + where // " in rule ..." after a message
	if where == "" {
		sep = ""
	}
	if n.Kind != yaml.MappingNode {
		what := strings.TrimPrefix(where, "in ")
		if what == "" {
			what = "the policy"
		}
		p.errorf(n, "%s: expected a mapping with keys %s, got %s", what, strings.Join(known, ", "), describe(n))
		return nil, false
	}
	out := map[string]*yaml.Node{}
	keyLine := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "expected a key%s, got %s", sep, describe(k))
			continue
		}
		if k.Value == "<<" {
			p.errorf(k, "merge keys (<<) are not supported%s; repeat the keys or use an alias for a whole value", sep)
			continue
		}
		if !contains(known, k.Value) {
			p.errorf(k, "unknown key %q%s (expected one of: %s)", k.Value, sep, strings.Join(known, ", "))
			continue
		}
		if first, dup := keyLine[k.Value]; dup {
			p.errorf(k, "duplicate key %q%s (first at line %d)", k.Value, sep, first)
			continue
		}
		keyLine[k.Value] = k.Line
		out[k.Value] = resolve(v)
	}
	return out, true
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, "%s: expected true or false, got %s", what, describe(n))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int64) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		p.errorf(n, "%s: expected a whole number, got %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < lo || v > hi {
		p.errorf(n, "%s: %s is not a number from %d to %d", what, n.Value, lo, hi)
		return 0, false
	}
	return int(v), true
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, "%s: expected a string, got %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

// stringList reads a string or a list of strings (a single value needs no
// brackets). It returns the node of each string for messages. An empty
// list is an error saying emptyErr, unless emptyErr is "": an empty list
// of addresses, say, would silently match every connection.
func (p *parser) stringList(n *yaml.Node, what, emptyErr string) ([]string, []*yaml.Node, bool) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return []string{n.Value}, []*yaml.Node{n}, true
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: expected a string or a list of strings, got %s", what, describe(n))
		return nil, nil, false
	}
	if len(n.Content) > maxPatterns {
		p.errorf(n, "%s: more than %d entries", what, maxPatterns)
		return nil, nil, false
	}
	if len(n.Content) == 0 && emptyErr != "" {
		p.errorf(n, "%s: %s", what, emptyErr)
		return nil, nil, false
	}
	var vals []string
	var nodes []*yaml.Node
	ok := true
	for _, e := range n.Content {
		e = resolve(e)
		s, good := p.str(e, what)
		if !good {
			ok = false
			continue
		}
		vals, nodes = append(vals, s), append(nodes, e)
	}
	return vals, nodes, ok
}

func (p *parser) globs(n *yaml.Node, what, emptyErr string) (globs, bool) {
	vals, nodes, ok := p.stringList(n, what, emptyErr)
	var gs globs
	for i, v := range vals {
		// Aliases can repeat one long list many times; the budget keeps
		// parsing, and each connection's check, fast.
		if p.patterns++; p.patterns > maxTotalPatterns {
			if p.patterns == maxTotalPatterns+1 {
				p.errorf(nodes[i], "more than %d patterns in the policy", maxTotalPatterns)
			}
			return gs, false
		}
		g, err := compileGlob(v)
		if err != nil {
			p.errorf(nodes[i], "%s: %v", what, err)
			ok = false
			continue
		}
		gs = append(gs, g)
	}
	return gs, ok
}

func (p *parser) policy(doc *yaml.Node) *Policy {
	pol := &Policy{source: p.file}
	top := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			p.errorf(doc, "empty policy file")
			return nil
		}
		top = doc.Content[0]
	}
	if isNull(resolve(top)) {
		p.errorf(top, "empty policy file (expected keys: %s)", strings.Join(topKeys, ", "))
		return nil
	}
	f, ok := p.fields(top, "", topKeys)
	if !ok {
		return nil
	}
	if n := f["expect_connections"]; n != nil {
		pol.expectConnections, _ = p.integer(n, "expect_connections", 0, 1<<40)
	}
	if n := f["fail_on_unmatched"]; n != nil {
		pol.failOnUnmatched, _ = p.boolean(n, "fail_on_unmatched")
	}
	n := f["rules"]
	if n == nil {
		if f["expect_connections"] == nil && len(p.errs) == 0 {
			p.errorf(top, "the policy has no rules and no expect_connections")
		}
		return pol
	}
	if isNull(n) {
		p.errorf(n, "rules: expected a list of rules, got nothing")
		return pol
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "rules: expected a list of rules, got %s", describe(n))
		return pol
	}
	if len(n.Content) > MaxRules {
		p.errorf(n, "rules: more than %d rules", MaxRules)
		return pol
	}
	names := map[string]int{}
	for i, rn := range n.Content {
		if r := p.rule(resolve(rn), i+1, names); r != nil {
			pol.rules = append(pol.rules, r)
		}
	}
	return pol
}

// ruleLabel names a rule in messages before its name is checked: by name
// when it has a usable one, else by position.
func ruleLabel(n *yaml.Node, index int) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
			if k.Value == "name" && v.Kind == yaml.ScalarNode && !isNull(v) && v.Value != "" {
				return fmt.Sprintf("rule %q", v.Value)
			}
		}
	}
	return fmt.Sprintf("rule #%d", index)
}

func (p *parser) rule(n *yaml.Node, index int, names map[string]int) *rule {
	label := ruleLabel(n, index)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: expected a mapping with keys %s, got %s", label, strings.Join(ruleKeys, ", "), describe(n))
		return nil
	}
	f, _ := p.fields(n, "in "+label, ruleKeys)
	r := &rule{}
	ok := true
	if nn := f["name"]; nn == nil {
		p.errorf(n, "%s has no name", label)
		ok = false
	} else if name, good := p.str(nn, label+" name"); !good {
		ok = false
	} else if msg := checkName(name); msg != "" {
		p.errorf(nn, "%s: %s", label, msg)
		ok = false
	} else if first, dup := names[name]; dup {
		p.errorf(nn, "duplicate rule name %q (first at line %d)", name, first)
		ok = false
	} else {
		names[name] = nn.Line
		r.name = name
	}
	if nn := f["required"]; nn != nil {
		r.required, _ = p.boolean(nn, label+" required")
	}
	if nn := f["on_unknown"]; nn != nil {
		switch v, _ := p.str(nn, label+" on_unknown"); v {
		case "fail":
		case "pass":
			r.passUnknown = true
		default:
			if nn.Kind == yaml.ScalarNode && !isNull(nn) {
				p.errorf(nn, "%s on_unknown: %q is neither fail nor pass", label, v)
			}
		}
	}
	if nn := f["match"]; nn != nil && !isNull(nn) {
		r.match = p.match(nn, label)
	}
	if nn := f["require"]; nn != nil && !isNull(nn) {
		r.checks = p.require(nn, label)
	}
	if nn := f["deny_findings"]; nn != nil {
		vals, nodes, _ := p.stringList(nn, label+" deny_findings", "")
		var pats []findingPattern
		for i, v := range vals {
			fp, err := parseFindingPattern(v)
			if err != nil {
				p.errorf(nodes[i], "%s deny_findings: %v", label, err)
				continue
			}
			pats = append(pats, fp)
		}
		if len(pats) > 0 {
			r.checks = append(r.checks, checkFindings(pats))
		}
	}
	if !ok {
		return nil
	}
	return r
}

// checkName says what is wrong with a rule name, or "". Names appear in
// one-line messages, JUnit and Markdown: they stay short and printable.
func checkName(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "empty name"
	case len(name) > maxNameLen:
		return fmt.Sprintf("name longer than %d bytes", maxNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("name %q contains a control or invisible character", name)
		}
	}
	return ""
}

// emptyMatch: an empty list under match would select nothing, which is
// never what was meant.
const emptyMatch = "an empty list would match no connection"

func (p *parser) match(n *yaml.Node, label string) matcher {
	var m matcher
	f, ok := p.fields(n, "in "+label+" match", matchKeys)
	if !ok {
		return m
	}
	for _, key := range []string{"server", "client"} {
		nn := f[key]
		if nn == nil {
			continue
		}
		what := label + " match." + key
		vals, nodes, _ := p.stringList(nn, what, emptyMatch)
		for i, v := range vals {
			ap, err := parseAddrPattern(v)
			if err != nil {
				p.errorf(nodes[i], "%s: %v", what, err)
				continue
			}
			if key == "server" {
				m.server = append(m.server, ap)
			} else {
				m.client = append(m.client, ap)
			}
		}
	}
	if nn := f["sni"]; nn != nil {
		m.sni, _ = p.globs(nn, label+" match.sni", emptyMatch)
	}
	if nn := f["client_ja4"]; nn != nil {
		m.ja4, _ = p.globs(nn, label+" match.client_ja4", emptyMatch)
	}
	if nn := f["client_ja3"]; nn != nil {
		m.ja3, _ = p.globs(nn, label+" match.client_ja3", emptyMatch)
	}
	return m
}

func (p *parser) require(n *yaml.Node, label string) []check {
	var checks []check
	f, ok := p.fields(n, "in "+label+" require", requireKeys)
	if !ok {
		return nil
	}
	if nn := f["version"]; nn != nil {
		if c := p.version(nn, label); c != nil {
			checks = append(checks, c)
		}
	}
	for _, kind := range []struct {
		key string
		get func(*view) value
	}{{"suites", suiteOf}, {"groups", groupOf}, {"alpn", alpnOf}} {
		nn := f[kind.key]
		if nn == nil {
			continue
		}
		where := label + " require." + kind.key
		lf, ok := p.fields(nn, "in "+where, listKeys)
		if !ok {
			continue
		}
		var allow, deny globs
		if an := lf["allow"]; an != nil {
			allow, _ = p.globs(an, where+".allow", "an empty list would reject every connection")
		}
		if dn := lf["deny"]; dn != nil {
			deny, _ = p.globs(dn, where+".deny", "")
		}
		if len(allow) > 0 || len(deny) > 0 {
			checks = append(checks, checkAllowDeny(kind.key, allow, deny, kind.get))
		}
	}
	if nn := f["client_cert"]; nn != nil {
		where := label + " require.client_cert"
		if cf, ok := p.fields(nn, "in "+where, clientKeys); ok {
			var requested, sent *bool
			if rn := cf["requested"]; rn != nil {
				if b, ok := p.boolean(rn, where+".requested"); ok {
					requested = &b
				}
			}
			if sn := cf["sent"]; sn != nil {
				if b, ok := p.boolean(sn, where+".sent"); ok {
					sent = &b
				}
			}
			if requested != nil && sent != nil && !*requested && *sent {
				p.errorf(nn, "%s: sent: true needs requested: true (a client sends a certificate only when asked)", where)
			} else if requested != nil || sent != nil {
				checks = append(checks, checkClientCert(requested, sent))
			}
		}
	}
	if nn := f["established"]; nn != nil {
		if b, ok := p.boolean(nn, label+" require.established"); ok {
			checks = append(checks, checkEstablished(b))
		}
	}
	if nn := f["sni"]; nn != nil {
		if b, ok := p.boolean(nn, label+" require.sni"); ok {
			checks = append(checks, checkSNI(b))
		}
	}
	if nn := f["certificate"]; nn != nil {
		if spec, ok := p.certificate(nn, label); ok {
			checks = append(checks, checkCertificate(spec))
		}
	}
	return checks
}

func (p *parser) version(n *yaml.Node, label string) check {
	where := label + " require.version"
	f, ok := p.fields(n, "in "+where, versionKeys)
	if !ok {
		return nil
	}
	ids := map[string]int{}
	for _, key := range versionKeys {
		nn := f[key]
		if nn == nil {
			continue
		}
		// An unquoted 1.2 is a YAML number; its text is what counts.
		if nn.Kind != yaml.ScalarNode || isNull(nn) {
			p.errorf(nn, "%s.%s: expected a TLS version such as 1.2, got %s", where, key, describe(nn))
			continue
		}
		id, ok := parseVersion(nn.Value)
		if !ok {
			p.errorf(nn, "%s.%s: %q is not a TLS version (expected 1.0, 1.1, 1.2 or 1.3)", where, key, nn.Value)
			continue
		}
		ids[key] = id
	}
	lo, hi := ids["min"], ids["max"]
	if lo != 0 && hi != 0 && versionRanks[lo] > versionRanks[hi] {
		p.errorf(f["min"], "%s: min %s is above max %s", where, versionName(lo), versionName(hi))
		return nil
	}
	if lo == 0 && hi == 0 {
		return nil
	}
	return checkVersion(lo, hi)
}

func (p *parser) certificate(n *yaml.Node, label string) (certSpec, bool) {
	var spec certSpec
	where := label + " require.certificate"
	f, ok := p.fields(n, "in "+where, certKeys)
	if !ok {
		return spec, false
	}
	if nn := f["not_expired"]; nn != nil {
		spec.notExpired, _ = p.boolean(nn, where+".not_expired")
	}
	if nn := f["sni_matches"]; nn != nil {
		spec.sniMatches, _ = p.boolean(nn, where+".sni_matches")
	}
	if nn := f["issuer"]; nn != nil {
		spec.issuer, _ = p.globs(nn, where+".issuer", "an empty list would reject every certificate")
	}
	if nn := f["min_key_bits"]; nn != nil {
		if nn.Kind == yaml.ScalarNode {
			p.errorf(nn, "%s.min_key_bits: expected a mapping {rsa: BITS, ec: BITS}, got %s: one number cannot fit both RSA (2048) and EC (256) keys", where, describe(nn))
		} else if kf, ok := p.fields(nn, "in "+where+".min_key_bits", keyBitsKeys); ok {
			if rn := kf["rsa"]; rn != nil {
				spec.minRSA, _ = p.integer(rn, where+".min_key_bits.rsa", 1, 1<<16)
			}
			if en := kf["ec"]; en != nil {
				spec.minEC, _ = p.integer(en, where+".min_key_bits.ec", 1, 1<<10)
			}
		}
	}
	empty := !spec.notExpired && !spec.sniMatches && len(spec.issuer) == 0 && spec.minRSA == 0 && spec.minEC == 0
	return spec, !empty
}
