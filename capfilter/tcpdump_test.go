package capfilter

import (
	"testing"
)

// TestAgainstTcpdumpPrograms compiles each expression with tcpdump -ddd
// -y for each link type and requires that its program and ours, both run
// in bpf.VM, give the same verdict on every synthetic packet, truncated
// ones included. The programs need not be the same instructions.
func TestAgainstTcpdumpPrograms(t *testing.T) {
	tcpdumpPath(t)
	pkts := synthPackets(3000, 1)
	for _, d := range dltNames {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			datas := make([][]byte, len(pkts))
			for i, p := range pkts {
				datas[i] = p.data(d.lt)
			}
			nontrivial, truncDiffs := 0, 0
			for _, s := range fileExprs {
				ours := NewMatcher(mustParse(t, s))
				oursErr := ours.Prepare(d.lt)
				raw, err := tcpdumpProgram(t, d.name, s)
				switch {
				case rejectsAll(err):
					raw = nil // compare with "matches nothing"
				case err != nil && oursErr != nil:
					continue // both refuse, e.g. vlan on a link type without tags
				case err != nil || oursErr != nil:
					t.Errorf("%q: tcpdump: %v; ours: %v", s, err, oursErr)
					continue
				}
				var theirs *Matcher
				if raw != nil {
					if theirs, err = NewProgramMatcher(raw); err != nil {
						t.Fatalf("%q: tcpdump's program: %v", s, err)
					}
				}
				matched, diffs := 0, 0
				for i, data := range datas {
					want := theirs != nil && theirs.Match(d.lt, data)
					got := ours.Match(d.lt, data)
					if want {
						matched++
					}
					if got != want && pkts[i].cutEnd > 0 {
						// libpcap's optimizer reorders loads, and a load
						// past the end rejects the packet: see the package
						// documentation.
						if truncDiffs++; testing.Verbose() && truncDiffs <= 2 {
							t.Logf("%s %q: truncated packet %d % x: ours %v, tcpdump's %v", d.name, s, i, data, got, want)
						}
						continue
					}
					if got != want {
						if diffs++; diffs <= 3 {
							t.Errorf("%s %q: packet %d (%+v) % x: ours %v, tcpdump's %v", d.name, s, i, pkts[i], data, got, want)
						}
					}
				}
				if matched > 0 && matched < len(datas) {
					nontrivial++
				}
			}
			t.Logf("%s: %d expressions x %d packets; %d match some but not all packets; %d verdicts differ on truncated packets", d.name, len(fileExprs), len(pkts), nontrivial, truncDiffs)
		})
	}
}
