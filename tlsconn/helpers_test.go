package tlsconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"maps"
	"math/big"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/internal/hostile"
	"github.com/tlsinspect/tlsinspect/tcpstream"
)

// chunk is one Write of one peer, in the order the writes happened.
type chunk struct {
	dir tcpstream.Dir
	b   []byte
}

// wireLog is the ordered record of every Write on both ends of a connection.
type wireLog struct {
	mu     sync.Mutex
	chunks []chunk
}

func (l *wireLog) add(dir tcpstream.Dir, p []byte) {
	l.mu.Lock()
	l.chunks = append(l.chunks, chunk{dir, append([]byte(nil), p...)})
	l.mu.Unlock()
}

func (l *wireLog) get() []chunk {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]chunk(nil), l.chunks...)
}

// loggingConn appends every Write to the shared log before sending it, so
// the peer can never read bytes that are not yet logged: the log's order is
// the causal order.
type loggingConn struct {
	net.Conn
	dir tcpstream.Dir
	log *wireLog
}

func (c *loggingConn) Write(p []byte) (int, error) {
	c.log.add(c.dir, p)
	return c.Conn.Write(p)
}

// testPKI is a CA with a server and a client leaf, made once.
type testPKI struct {
	ca               *x509.Certificate
	pool             *x509.CertPool
	server, client   tls.Certificate
	serverDER, caDER []byte
}

var pki = sync.OnceValue(func() *testPKI {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	nb := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tlsinspect test CA", Organization: []string{"tlsinspect"}},
		NotBefore:             nb,
		NotAfter:              na,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	leaf := func(serial int64, cn string, eku x509.ExtKeyUsage) (tls.Certificate, []byte) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"tlsinspect"}},
			DNSNames:     []string{cn},
			NotBefore:    nb,
			NotAfter:     na,
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{eku},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		must(err)
		return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: k}, der
	}
	p := &testPKI{ca: ca, pool: x509.NewCertPool(), caDER: caDER}
	p.pool.AddCert(ca)
	p.server, p.serverDER = leaf(2, "server.test", x509.ExtKeyUsageServerAuth)
	p.client, _ = leaf(3, "client.test", x509.ExtKeyUsageClientAuth)
	return p
})

// serverConfig is a server presenting server.test's chain (leaf + CA).
func serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pki().server}}
}

// clientConfig trusts the test CA and names server.test.
func clientConfig() *tls.Config {
	return &tls.Config{RootCAs: pki().pool, ServerName: "server.test"}
}

// handshakeResult is what both ends of a real connection saw.
type handshakeResult struct {
	chunks     []chunk
	state      tls.ConnectionState // client's view
	clientErr  error
	serverErr  error
	serverSide tls.ConnectionState
}

// realHandshake runs crypto/tls over loopback TCP and returns every byte
// each side wrote, in order. When both handshakes succeed, the client writes
// "ping" and reads "pong" so that TLS 1.3 session tickets reach the client.
// Deadlines only guard against hangs; nothing asserts timing.
func realHandshake(t testing.TB, ccfg, scfg *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	log := &wireLog{}
	deadline := time.Now().Add(20 * time.Second)

	type srvOut struct {
		err   error
		state tls.ConnectionState
	}
	srvDone := make(chan srvOut, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			srvDone <- srvOut{err: err}
			return
		}
		defer raw.Close()
		_ = raw.SetDeadline(deadline)
		sc := tls.Server(&loggingConn{raw, tcpstream.ServerToClient, log}, scfg)
		if err := sc.Handshake(); err != nil {
			srvDone <- srvOut{err: err}
			return
		}
		buf := make([]byte, 4)
		if _, err := readFull(sc, buf); err != nil {
			srvDone <- srvOut{err: err, state: sc.ConnectionState()}
			return
		}
		_, err = sc.Write([]byte("pong"))
		srvDone <- srvOut{err: err, state: sc.ConnectionState()}
		// Wait for the client to finish reading before closing.
		_, _ = sc.Read(buf)
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = raw.SetDeadline(deadline)
	cc := tls.Client(&loggingConn{raw, tcpstream.ClientToServer, log}, ccfg)
	res := handshakeResult{}
	res.clientErr = cc.Handshake()
	if res.clientErr == nil {
		if _, err := cc.Write([]byte("ping")); err != nil {
			res.clientErr = err
		} else {
			buf := make([]byte, 4)
			if _, err := readFull(cc, buf); err != nil {
				res.clientErr = err
			}
		}
	}
	res.state = cc.ConnectionState()
	if res.clientErr != nil {
		// Unblock a server still waiting for the client.
		_ = raw.Close()
	}
	so := <-srvDone
	res.serverErr, res.serverSide = so.err, so.state
	// Everything of interest is logged; closing now writes close_notify
	// alerts that the tests do not want in the log.
	res.chunks = log.get()
	_ = raw.Close()
	return res
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// mustHandshake is realHandshake that requires both ends to succeed.
func mustHandshake(t testing.TB, ccfg, scfg *tls.Config) handshakeResult {
	t.Helper()
	r := realHandshake(t, ccfg, scfg)
	if r.clientErr != nil || r.serverErr != nil {
		t.Fatalf("real handshake failed: client %v, server %v", r.clientErr, r.serverErr)
	}
	return r
}

// Fixed endpoints: the Summary never sees the loopback sockets.
var (
	clientEP = tcpstream.Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Port: 49152}
	serverEP = tcpstream.Endpoint{Addr: netip.MustParseAddr("198.51.100.20"), Port: 443}
	t0       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func connInfo() tcpstream.ConnInfo {
	return tcpstream.ConnInfo{ID: 7, Client: clientEP, Server: serverEP, SawSYN: true, Start: t0}
}

// chunkTime is the timestamp given to the i-th delivered chunk.
func chunkTime(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }

// harness drives one Tracker and collects what it emits.
type harness struct {
	t    testing.TB
	tr   *Tracker
	got  []*Summary
	rcv  tcpstream.Receiver
	n    int // chunks delivered, for timestamps
	flip bool
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t}
	h.tr = NewTracker(cfg, func(s *Summary) { h.got = append(h.got, s) })
	return h
}

func (h *harness) open(info tcpstream.ConnInfo) *harness {
	h.rcv = h.tr.Open(info)
	if h.rcv == nil {
		h.t.Fatal("Open returned nil")
	}
	return h
}

// data delivers p in pieces of at most split bytes (all at once when
// split <= 0), as the TCP layer would: only while the direction is wanted.
// Every piece of one chunk carries the same timestamp.
func (h *harness) data(dir tcpstream.Dir, p []byte, split int) {
	if h.flip {
		dir ^= 1
	}
	ts := chunkTime(h.n)
	h.n++
	for len(p) > 0 {
		n := len(p)
		if split > 0 && split < n {
			n = split
		}
		if !h.rcv.Wants(dir) {
			return
		}
		h.rcv.Data(dir, p[:n], ts)
		p = p[n:]
	}
}

func (h *harness) replay(chunks []chunk, split int) {
	for _, c := range chunks {
		h.data(c.dir, c.b, split)
	}
}

// replayConns replays the recorded handshake on n connections (IDs 1 to
// n), one after the other, and fails unless each gave one summary.
func (h *harness) replayConns(chunks []chunk, n int) []*Summary {
	h.t.Helper()
	for i := range n {
		info := connInfo()
		info.ID = uint64(i + 1)
		h.open(info)
		h.replay(chunks, 0)
		h.close(tcpstream.CloseFIN)
	}
	if len(h.got) != n {
		h.t.Fatalf("%d summaries, want %d", len(h.got), n)
	}
	return h.got
}

func (h *harness) close(reason tcpstream.CloseReason) {
	h.rcv.Close(reason, chunkTime(h.n))
}

// one returns the only Summary emitted so far.
func (h *harness) one() *Summary {
	h.t.Helper()
	if len(h.got) != 1 {
		h.t.Fatalf("got %d summaries, want 1:\n%s", len(h.got), dump(h.got))
	}
	return h.got[0]
}

func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// until returns the chunks before the first one for which stop is true.
func until(chunks []chunk, stop func(chunk) bool) []chunk {
	for i, c := range chunks {
		if stop(c) {
			return chunks[:i]
		}
	}
	return chunks
}

// allRecords flattens the chunks into records, keeping the direction.
func allRecords(chunks []chunk) []chunk {
	var out []chunk
	for _, c := range chunks {
		for _, r := range hostile.Records(c.b) {
			out = append(out, chunk{c.dir, r})
		}
	}
	return out
}

// isCCS reports a ChangeCipherSpec record.
func isCCS(c chunk) bool { return len(c.b) > 0 && c.b[0] == 20 }

// absent marks a field that must not appear in the JSON object.
const absent = "<absent>"

// checkFields compares the Summary's JSON object with want, JSON objects
// listing only the fields under test (a later object overrides an earlier
// one). Every listed field must match exactly (null means null; the string
// "<absent>" means the key is omitted).
func checkFields(t testing.TB, s *Summary, want ...string) {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(Summary): %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	exp := map[string]any{}
	for _, w := range want {
		var m map[string]any
		if err := json.Unmarshal([]byte(w), &m); err != nil {
			t.Fatalf("bad want JSON: %v\n%s", err, w)
		}
		maps.Copy(exp, m)
	}
	for k, w := range exp {
		g, ok := got[k]
		if w == absent {
			if ok {
				t.Errorf("%s = %s, want absent", k, mustJSON(g))
			}
			continue
		}
		if !ok {
			t.Errorf("%s absent, want %s", k, mustJSON(w))
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %s, want %s", k, mustJSON(g), mustJSON(w))
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// subjects lists the certificates' subjects.
func subjects(cs []*certinfo.Certificate) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Subject)
	}
	return out
}
