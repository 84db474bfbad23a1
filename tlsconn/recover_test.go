package tlsconn

import (
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// panicKeys stands for a bug reached in the middle of a dissection: the
// tracker asks it for secrets at the ServerHello, and the first left times
// it panics. Nothing in the production code can be made to panic on
// purpose.
type panicKeys struct{ left int }

func (k *panicKeys) Lookup([]byte) *keylog.Secrets {
	if k.left > 0 {
		k.left--
		panic("injected failure")
	}
	return nil
}

func (k *panicKeys) Len() int { return 0 }

const failureWarning = "internal error while dissecting this connection (injected failure): the rest of it was not analysed; this is a bug in tlsinspect, please report it with the capture"

// TestPanicIsContained: a panic while dissecting one connection reports
// that connection with a warning naming the failure, counts it, stops
// feeding it, and leaves the tracker working for the next connection.
func TestPanicIsContained(t *testing.T) {
	r13 := mustHandshake(t, clientConfig(), serverConfig())
	r12 := tls12Handshake(t)
	var panics []string
	h := newHarness(t, Config{Keys: &panicKeys{left: 1}, Panic: func(id uint64, v any, stack []byte) {
		if !strings.Contains(string(stack), "panicKeys") || id != 7 {
			t.Errorf("connection %d: stack does not show where the panic was:\n%s", id, stack)
		}
		panics = append(panics, v.(string))
	}}).open(connInfo())
	h.replay(r13.chunks, 500)
	if h.rcv.Wants(c2s) || h.rcv.Wants(s2c) {
		t.Error("the failed connection is still fed")
	}
	got := h.one()
	checkFields(t, got, `{"sni": "server.test", "version": "TLS 1.3", "established": false, "connection": 7}`)
	if len(got.Warnings) == 0 || got.Warnings[len(got.Warnings)-1] != failureWarning {
		t.Errorf("warnings = %q, want last %q", got.Warnings, failureWarning)
	}
	h.close(tcpstream.CloseFIN) // nothing more is reported
	if len(h.got) != 1 || len(panics) != 1 || panics[0] != "injected failure" {
		t.Fatalf("%d summaries, panics %q", len(h.got), panics)
	}
	if st := h.tr.Stats(); st.Failed != 1 || st.Handshakes != 1 || st.Warnings != len(got.Warnings) {
		t.Errorf("Stats = %+v", st)
	}

	// The next connection is unaffected.
	h.got = nil
	h.open(connInfo())
	h.replay(r12.chunks, 500)
	if s := h.one(); !s.Established || len(s.Warnings) != 0 {
		t.Errorf("next connection: established %v, warnings %q", s.Established, s.Warnings)
	}
	if st := h.tr.Stats(); st.Failed != 1 || st.Established != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestPanicWhileReporting: a panic in what a summary is handed to (the
// findings, the report writer) is contained too: the connection is
// reported once more with the warning, and a panic in that second report
// is swallowed rather than repeated.
func TestPanicWhileReporting(t *testing.T) {
	r := tls12Handshake(t)
	for _, always := range []bool{false, true} {
		var got []*Summary
		calls := 0
		tr := NewTracker(Config{}, func(s *Summary) {
			calls++
			if calls == 1 || always {
				panic("injected failure")
			}
			got = append(got, s)
		})
		rcv := tr.Open(connInfo())
		for i, c := range r.chunks {
			if rcv.Wants(c.dir) {
				rcv.Data(c.dir, c.b, chunkTime(i))
			}
		}
		rcv.Close(tcpstream.CloseFIN, chunkTime(len(r.chunks)))
		switch {
		case always && (calls != 2 || len(got) != 0):
			t.Errorf("always panicking: %d calls, %d summaries; want 2, 0", calls, len(got))
		case !always && (len(got) != 1 || got[0].Warnings[len(got[0].Warnings)-1] != failureWarning || got[0].Client != clientEP.String()):
			t.Errorf("second report: %s", dump(got))
		}
		if st := tr.Stats(); st.Failed != 1 {
			t.Errorf("Stats = %+v", st)
		}
	}
}

// TestFailureBeforeTLS: a connection that fails before any handshake began
// is still reported, by its endpoints, with the warning.
func TestFailureBeforeTLS(t *testing.T) {
	h := newHarness(t, Config{}).open(connInfo())
	h.rcv.(*lazyConn).get().fail("injected failure", nil)
	got := h.one()
	checkFields(t, got, `{"client": "192.0.2.10:49152", "server": "198.51.100.20:443", "version": null, "established": false}`)
	if len(got.Warnings) != 1 || got.Warnings[0] != failureWarning {
		t.Errorf("warnings = %q", got.Warnings)
	}
	if !got.TS.Equal(t0) {
		t.Errorf("ts = %v, want the connection's start %v", got.TS, t0)
	}
}
