package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tlsinspect/tlsinspect/baseline"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// gate is the CI side of a run: the baseline recorded or compared, and
// (policy.go) the policy checks. It sees every summary as it is emitted.
type gate struct {
	builder     *baseline.Builder // for --save-baseline and --baseline
	old         *baseline.Baseline
	oldName     string
	saveTo      string
	failOnDrift string
	policy      *policyGate
}

// newGate reads what the run is checked against. Its errors are usage
// errors (exit 2): the run must not start with a broken policy or baseline.
func newGate(o options, stderr io.Writer) (*gate, error) {
	g := &gate{saveTo: o.saveBaseline, failOnDrift: o.failOnDrift, oldName: o.baseline}
	switch o.failOnDrift {
	case "", "downgrade", "any":
	default:
		return nil, fmt.Errorf("--fail-on-drift %q: want downgrade or any", o.failOnDrift)
	}
	if o.failOnDrift != "" && o.baseline == "" {
		return nil, fmt.Errorf("--fail-on-drift needs --baseline FILE")
	}
	if o.baseline != "" {
		f, err := os.Open(o.baseline)
		if err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		defer f.Close()
		if g.old, err = baseline.Read(f, o.baseline); err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
	}
	if o.baseline != "" || o.saveBaseline != "" {
		g.builder = baseline.NewBuilder()
	}
	p, err := newPolicyGate(o, stderr)
	if err != nil {
		return nil, err
	}
	g.policy = p
	return g, nil
}

// add takes one summary.
func (g *gate) add(s *tlsconn.Summary) {
	if g.builder != nil {
		g.builder.Add(s)
	}
	if g.policy != nil {
		g.policy.add(s)
	}
}

// finish writes the baseline, reports drift and policy results, and says
// whether the run fails (exit 1). An error is a file that could not be
// written (exit 3).
func (g *gate) finish(stdout, stderr io.Writer, quiet bool) (failed bool, err error) {
	if g.builder != nil {
		cur := g.builder.Baseline()
		if g.saveTo != "" {
			if err := writeFile(g.saveTo, cur.Write); err != nil {
				return false, fmt.Errorf("--save-baseline: %w", err)
			}
		}
		if g.old != nil {
			drifts := baseline.Compare(g.old, cur)
			downgrades := 0
			for _, d := range drifts {
				fmt.Fprintf(stderr, "tlsinspect: drift from %s: %s\n", g.oldName, d)
				if d.Downgrade {
					downgrades++
				}
			}
			if !quiet {
				fmt.Fprintf(stderr, "tlsinspect: %d changes from the baseline %s, %d of them downgrades\n", len(drifts), g.oldName, downgrades)
			}
			switch g.failOnDrift {
			case "any":
				failed = failed || len(drifts) > 0
			case "downgrade":
				failed = failed || downgrades > 0
			}
		}
	}
	if g.policy != nil {
		pf, err := g.policy.finish(stdout, quiet)
		if err != nil {
			return false, err
		}
		failed = failed || pf
	}
	return failed, nil
}

// writeFile writes a file through write, reporting the first error.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
