package tlsdecrypt

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OpenSSL tests cover what crypto/tls cannot produce: the TLS 1.3 suites
// Go will not pick against itself (AES-256-GCM) or lacks (AES-128-CCM,
// AES-128-CCM-8), KeyUpdate, encrypt-then-MAC, TLS 1.2 CCM, DHE and PSK
// suites, and renegotiation. openssl s_client talks to openssl s_server
// through a relay here that records both directions; s_client writes the
// key log. They skip when openssl is not installed.

// proc is a running openssl command whose output the test watches.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
	done  chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command("openssl", args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor waits until the output satisfies cond.
func (p *proc) waitFor(t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if cond(p.output()) {
			return
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-p.done:
			if cond(p.output()) {
				return
			}
			t.Fatalf("openssl %s exited before %s:\n%s", p.cmd.Args[1], what, p.output())
		case <-deadline:
			t.Fatalf("openssl %s: timed out waiting for %s:\n%s", p.cmd.Args[1], what, p.output())
		}
	}
}

func (p *proc) waitText(t *testing.T, s string) {
	t.Helper()
	p.waitFor(t, strconv.Quote(s), func(out string) bool { return strings.Contains(out, s) })
}

func (p *proc) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, s); err != nil {
		t.Fatalf("writing to openssl %s: %v", p.cmd.Args[1], err)
	}
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("openssl %s did not exit:\n%s", p.cmd.Args[1], p.output())
	}
}

// relay accepts one connection, connects it to target and records what
// each side sends.
type relay struct {
	ln       net.Listener
	wg       sync.WaitGroup
	c2s, s2c bytes.Buffer
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		var copies sync.WaitGroup
		pipe := func(dst, src net.Conn, rec *bytes.Buffer) {
			defer copies.Done()
			io.Copy(dst, io.TeeReader(src, rec))
			dst.(*net.TCPConn).CloseWrite()
		}
		copies.Add(2)
		go pipe(s, c, &r.c2s)
		go pipe(c, s, &r.s2c)
		copies.Wait()
		c.Close()
		s.Close()
	}()
	t.Cleanup(func() { ln.Close() })
	return r
}

func (r *relay) finish(t *testing.T) (c2s, s2c []byte) {
	t.Helper()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("relay did not finish")
	}
	return r.c2s.Bytes(), r.s2c.Bytes()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type opensslCase struct {
	name      string
	suite     uint16   // the suite it must negotiate
	common    []string // both sides: version and suite options
	serverOpt []string // e.g. -no_etm
	clientOpt []string
	cert      string // "ecdsa", "rsa", or "" for PSK without certificates
	tls13     bool
	wantETM   bool
	reneg     bool // server-initiated renegotiation
}

type opensslResult struct {
	c2s, s2c []byte
	keyLog   keyLog
}

// runOpenSSL runs one connection. With -rev the server echoes each line
// reversed and closes on "CLOSE"; the client sends a KeyUpdate first in
// TLS 1.3. For renegotiation the server is interactive instead.
func runOpenSSL(t *testing.T, c opensslCase, cc *testCerts) *opensslResult {
	t.Helper()
	addr := freePort(t)
	sargs := []string{"s_server", "-accept", addr, "-naccept", "1"}
	if c.cert == "" {
		sargs = append(sargs, "-nocert")
	} else {
		sargs = append(sargs, "-cert", filepath.Join(cc.dir, c.cert+".pem"), "-key", filepath.Join(cc.dir, c.cert+".key"))
	}
	if c.reneg {
		sargs = append(sargs, "-msg")
	} else {
		sargs = append(sargs, "-rev")
	}
	srv := startProc(t, append(append(sargs, c.common...), c.serverOpt...)...)
	srv.waitText(t, "ACCEPT")

	r := startRelay(t, addr)
	kl := filepath.Join(t.TempDir(), "keylog")
	cargs := []string{"s_client", "-connect", r.ln.Addr().String(), "-keylogfile", kl}
	cli := startProc(t, append(append(cargs, c.common...), c.clientOpt...)...)
	cli.waitText(t, "SSL handshake has read")

	switch {
	case c.reneg:
		cli.send(t, "ping\n")
		srv.waitText(t, "ping")
		finished := func(out string) bool { return strings.Count(out, "Finished") >= 4 }
		srv.send(t, "r\n")
		srv.waitFor(t, "a second handshake", finished)
		srv.send(t, "pong\n")
		cli.waitText(t, "pong")
		cli.send(t, "Q\n")
	default:
		if c.tls13 {
			cli.send(t, "K\n")
			cli.waitText(t, "KEYUPDATE")
		}
		cli.send(t, "ping\n")
		cli.waitText(t, "gnip")
		cli.send(t, "CLOSE\n")
	}
	cli.wait(t)
	srv.stdin.Close()
	srv.wait(t)
	c2s, s2c := r.finish(t)
	b, err := os.ReadFile(kl)
	if err != nil {
		t.Fatal(err)
	}
	return &opensslResult{c2s: c2s, s2c: s2c, keyLog: parseKeyLog(t, string(b))}
}

func TestOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	cc := certs(t)
	psk := []string{"-psk", "0123456789abcdef0123456789abcdef"}
	tls12 := func(cipher string, extra ...string) []string {
		return append([]string{"-tls1_2", "-cipher", cipher}, extra...)
	}
	cases := []opensslCase{
		{name: "TLS 1.3 AES-256-GCM", suite: 0x1302, common: []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"}, cert: "ecdsa", tls13: true},
		{name: "TLS 1.3 AES-128-CCM", suite: 0x1304, common: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"}, cert: "ecdsa", tls13: true},
		{name: "TLS 1.3 AES-128-CCM-8", suite: 0x1305, common: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"}, cert: "rsa", tls13: true},
		{name: "TLS 1.3 ChaCha20", suite: 0x1303, common: []string{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, cert: "ecdsa", tls13: true},
		{name: "TLS 1.3 AES-128-GCM", suite: 0x1301, common: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}, cert: "rsa", tls13: true},

		// CBC: OpenSSL negotiates encrypt-then-MAC unless told not to.
		{name: "TLS 1.2 ECDHE-ECDSA-AES128-SHA EtM", suite: 0xC009, common: tls12("ECDHE-ECDSA-AES128-SHA"), cert: "ecdsa", wantETM: true},
		{name: "TLS 1.2 ECDHE-ECDSA-AES128-SHA MtE", suite: 0xC009, common: tls12("ECDHE-ECDSA-AES128-SHA"), clientOpt: []string{"-no_etm"}, cert: "ecdsa"},
		{name: "TLS 1.2 ECDHE-RSA-AES256-SHA384 EtM", suite: 0xC028, common: tls12("ECDHE-RSA-AES256-SHA384"), cert: "rsa", wantETM: true},
		{name: "TLS 1.2 DHE-RSA-AES256-SHA256 EtM", suite: 0x006B, common: tls12("DHE-RSA-AES256-SHA256"), cert: "rsa", wantETM: true},
		{name: "TLS 1.2 AES256-SHA MtE", suite: 0x0035, common: tls12("AES256-SHA"), serverOpt: []string{"-no_etm"}, cert: "rsa"},
		{name: "TLS 1.1 ECDHE-ECDSA-AES256-SHA EtM", suite: 0xC00A, common: []string{"-tls1_1", "-cipher", "ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0"}, cert: "ecdsa", wantETM: true},
		{name: "TLS 1.0 ECDHE-RSA-AES128-SHA EtM", suite: 0xC013, common: []string{"-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"}, cert: "rsa", wantETM: true},
		{name: "TLS 1.0 DHE-RSA-AES256-SHA MtE", suite: 0x0039, common: []string{"-tls1", "-cipher", "DHE-RSA-AES256-SHA:@SECLEVEL=0", "-no_etm"}, cert: "rsa"},

		// AEAD suites Go does not implement.
		{name: "TLS 1.2 ECDHE-ECDSA-AES128-CCM", suite: 0xC0AC, common: tls12("ECDHE-ECDSA-AES128-CCM"), cert: "ecdsa"},
		{name: "TLS 1.2 ECDHE-ECDSA-AES256-CCM8", suite: 0xC0AF, common: tls12("ECDHE-ECDSA-AES256-CCM8"), cert: "ecdsa"},
		{name: "TLS 1.2 DHE-RSA-AES256-GCM-SHA384", suite: 0x009F, common: tls12("DHE-RSA-AES256-GCM-SHA384"), cert: "rsa"},
		{name: "TLS 1.2 DHE-RSA-CHACHA20-POLY1305", suite: 0xCCAA, common: tls12("DHE-RSA-CHACHA20-POLY1305"), cert: "rsa"},
		{name: "TLS 1.2 AES128-CCM8", suite: 0xC0A0, common: tls12("AES128-CCM8"), cert: "rsa"},

		// PSK, no certificates.
		{name: "TLS 1.2 PSK-AES128-GCM-SHA256", suite: 0x00A8, common: tls12("PSK-AES128-GCM-SHA256", psk...)},
		{name: "TLS 1.2 PSK-AES256-CBC-SHA384 EtM", suite: 0x00AF, common: tls12("PSK-AES256-CBC-SHA384", psk...), wantETM: true},
		{name: "TLS 1.2 ECDHE-PSK-CHACHA20-POLY1305", suite: 0xCCAC, common: tls12("ECDHE-PSK-CHACHA20-POLY1305", psk...)},
		{name: "TLS 1.2 PSK-AES128-CCM8", suite: 0xC0A8, common: tls12("PSK-AES128-CCM8", psk...)},

		{name: "TLS 1.2 renegotiation GCM", suite: 0xC02B, common: tls12("ECDHE-ECDSA-AES128-GCM-SHA256"), cert: "ecdsa", reneg: true},
		{name: "TLS 1.2 renegotiation CBC EtM", suite: 0xC014, common: tls12("ECDHE-RSA-AES256-SHA"), cert: "rsa", reneg: true, wantETM: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := runOpenSSL(t, c, cc)
			if c.tls13 {
				if got := checkOpenSSL13(t, res); got != c.suite {
					t.Errorf("negotiated %s, want %s", SuiteName(got), SuiteName(c.suite))
				}
				return
			}
			checkOpenSSL12(t, c, res)
		})
	}
}

func checkOpenSSL13(t *testing.T, res *opensslResult) uint16 {
	t.Helper()
	cf, sf, suite := conn13(t, res.c2s, res.s2c, res.keyLog)
	want := []uint8{hsServerHello, hsEncryptedExtensions, hsCertificate, hsCertificateVerify, hsFinished}
	if got := sf.msgTypes(); len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
		t.Errorf("%s server messages %v, want %v first", SuiteName(suite), got, want)
	}
	// The client asked for a KeyUpdate with update_requested, so both sides
	// sent one, and the records after it opened under the next secret.
	for name, f := range map[string]*flow{"client": cf, "server": sf} {
		n := 0
		for _, m := range f.msgs {
			if m.typ == hsKeyUpdate {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s sent %d KeyUpdates, want 1; messages %v", name, n, f.msgTypes())
		}
	}
	if !bytes.Contains(cf.app, []byte("ping\n")) || !bytes.Contains(sf.app, []byte("gnip")) {
		t.Errorf("application data %q / %q", cf.app, sf.app)
	}
	if cf.d.Seq() == 0 || sf.d.Seq() == 0 {
		t.Error("no record opened after the KeyUpdate")
	}
	return suite
}

func checkOpenSSL12(t *testing.T, c opensslCase, res *opensslResult) {
	t.Helper()
	cf, sf, conn := decodeConn12(t, res.c2s, res.s2c, res.keyLog)
	epochs := 1
	if c.reneg {
		epochs = 2
	}
	if len(conn.decrypters) != 2*epochs {
		t.Fatalf("%d decrypters, want %d", len(conn.decrypters), 2*epochs)
	}
	for _, sh := range conn.serverHellos {
		if sh.suite != c.suite {
			t.Errorf("negotiated %s, want %s", SuiteName(sh.suite), SuiteName(c.suite))
		}
		if sh.etm != c.wantETM {
			t.Errorf("encrypt_then_mac negotiated: %v, want %v", sh.etm, c.wantETM)
		}
	}
	for name, f := range map[string]*flow{"client": cf, "server": sf} {
		fins := 0
		for _, m := range f.msgs {
			if m.typ == hsFinished {
				fins++
				if len(m.body) != 12 {
					t.Errorf("%s Finished of %d bytes", name, len(m.body))
				}
			}
		}
		if fins != epochs {
			t.Errorf("%s: %d Finished, want %d; messages %v", name, fins, epochs, f.msgTypes())
		}
	}
	if c.reneg {
		// The renegotiation's hellos were read from encrypted records.
		if len(conn.clientHellos) != 2 || len(conn.serverHellos) != 2 {
			t.Errorf("%d ClientHellos, %d ServerHellos", len(conn.clientHellos), len(conn.serverHellos))
		}
		if !bytes.Contains(sf.msgTypes(), []byte{hsHelloRequest}) {
			t.Errorf("no HelloRequest from the server: %v", sf.msgTypes())
		}
		if !bytes.Contains(cf.app, []byte("ping\n")) || !bytes.Contains(sf.app, []byte("pong\n")) {
			t.Errorf("application data %q / %q", cf.app, sf.app)
		}
		return
	}
	if !bytes.Contains(cf.app, []byte("ping\n")) || !bytes.Contains(sf.app, []byte("gnip")) {
		t.Errorf("application data %q / %q", cf.app, sf.app)
	}
}
