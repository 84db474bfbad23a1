package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/testpki"
)

// These tests capture real handshakes live: on the loopback interface, and
// across a veth pair between two network namespaces the test creates. No
// traffic goes anywhere else. They need root (or CAP_NET_RAW and
// CAP_NET_ADMIN) and skip without it.

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (CAP_NET_RAW)")
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds the command once for the tests that run it as a process
// (signals, namespaces).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tlsinspect-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "tlsinspect")
		args := []string{"build", "-o", builtBin}
		if raceBuild {
			args = append(args, "-race")
		}
		if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// liveRun is a running `tlsinspect -i …`.
type liveRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLive starts the command with args (prefix, e.g. `ip netns exec`,
// before it) and waits until it says it is listening.
func startLive(t *testing.T, prefix []string, args ...string) *liveRun {
	t.Helper()
	argv := append(append(append([]string{}, prefix...), binary(t)), args...)
	r := &liveRun{cmd: exec.Command(argv[0], argv[1:]...), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.stderr.String(), "listening on") {
		select {
		case err := <-r.done:
			t.Fatalf("tlsinspect exited before listening: %v\n%s", err, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.cmd.Process.Kill()
			t.Fatalf("tlsinspect did not start listening:\n%s", r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { r.cmd.Process.Kill() })
	return r
}

// wait waits for the process to end and returns its exit status.
func (r *liveRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-r.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		t.Fatalf("tlsinspect did not stop within %v:\n%s", timeout, r.stderr.String())
	}
	return -1
}

// summaries decodes the JSON lines written so far, keyed by server port.
func (r *liveRun) summaries(t *testing.T) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	for _, o := range jsonLines(t, r.stdout.String()) {
		_, port, _ := net.SplitHostPort(o["server"].(string))
		got[port] = o
	}
	return got
}

// handshake runs one TLS handshake between a crypto/tls server on ln and a
// client dialling addr, with a little application data, and returns the
// server's port.
func handshake(t *testing.T, ln net.Listener, scfg, ccfg *tls.Config, wantErr bool) {
	t.Helper()
	serverErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			serverErr <- err
			return
		}
		defer c.Close()
		tc := tls.Server(c, scfg)
		if err := tc.Handshake(); err != nil {
			serverErr <- err
			return
		}
		_, err = io.Copy(tc, io.LimitReader(tc, 5))
		serverErr <- err
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
	if err == nil {
		// TLS 1.3 client certificates are checked after the client's
		// Finished: an exchange makes a refusal visible.
		if _, err = c.Write([]byte("hello")); err == nil {
			_, err = io.ReadFull(c, make([]byte, 5))
		}
		c.Close()
	}
	if serr := <-serverErr; err == nil {
		err = serr
	}
	if (err != nil) != wantErr {
		t.Fatalf("handshake error = %v, want error %v", err, wantErr)
	}
}

// TestLiveLoopback captures, on lo, mutual TLS 1.2, TLS 1.3 and a handshake
// refused with an alert, and stops after three connections (--count).
func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	pki, err := testpki.New(t.TempDir(), net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	var lns []net.Listener
	var ports []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		lns = append(lns, ln)
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, p)
	}
	filter := fmt.Sprintf("tcp and (port %s or port %s or port %s)", ports[0], ports[1], ports[2])
	w := filepath.Join(t.TempDir(), "hs.pcapng")
	r := startLive(t, nil, "-i", "lo", "-T", "json", "-c", "3", "-w", w, filter)

	s12, c12 := pki.ServerConfig(true), pki.ClientConfig(true)
	s12.MaxVersion = tls.VersionTLS12
	handshake(t, lns[0], s12, c12, false)
	handshake(t, lns[1], pki.ServerConfig(false), pki.ClientConfig(false), false)
	s10 := pki.ServerConfig(false)
	s10.MinVersion = tls.VersionTLS13
	c10 := pki.ClientConfig(false)
	c10.MaxVersion = tls.VersionTLS12
	handshake(t, lns[2], s10, c10, true)

	if code := r.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	got := r.summaries(t)
	checkLive(t, got[ports[0]], map[string]any{"version": "TLS 1.2", "sni": "server.test", "client_cert_requested": true, "client_cert_sent": true, "established": true})
	checkLive(t, got[ports[1]], map[string]any{"version": "TLS 1.3", "sni": "server.test", "established": true})
	checkLive(t, got[ports[2]], map[string]any{"version": nil, "established": false})
	if a, _ := got[ports[2]]["alerts"].([]any); len(a) == 0 || !strings.Contains(fmt.Sprint(a), "protocol_version") {
		t.Errorf("refused handshake: alerts = %v, want protocol_version", a)
	}
	if len(got) != 3 {
		t.Errorf("%d connections reported, want 3 (the filter keeps only the test's ports)", len(got))
	}
	stats := r.stderr.String()
	for _, want := range []string{"packets captured on lo", "dropped by the kernel", "3 TLS connections"} {
		if !strings.Contains(stats, want) {
			t.Errorf("statistics lack %q:\n%s", want, stats)
		}
	}

	// The -w file holds the three handshakes, and reads back the same.
	out, stderr, code := runCmd("-q", "-T", "json", "-r", w)
	if code != 0 {
		t.Fatalf("reading -w file: exit %d: %s", code, stderr)
	}
	back := map[string]bool{}
	for _, o := range jsonLines(t, out) {
		_, p, _ := net.SplitHostPort(o["server"].(string))
		back[p] = o["established"].(bool)
	}
	if !back[ports[0]] || !back[ports[1]] || len(back) != 3 {
		t.Errorf("-w file reads back as %v", back)
	}
}

func checkLive(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	if got == nil {
		t.Errorf("connection not reported; want %v", want)
		return
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s: %s = %v, want %v", got["server"], k, got[k], v)
		}
	}
}

// TestLiveStop: SIGINT and SIGTERM end a capture cleanly: the connection in
// progress (a ClientHello nobody answers) is reported as incomplete, the
// statistics are printed and the exit status is 0. --duration does the same.
func TestLiveStop(t *testing.T) {
	needRoot(t)
	for _, how := range []string{"SIGINT", "SIGTERM", "duration"} {
		t.Run(how, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			args := []string{"-i", "lo", "-T", "json", "port " + port}
			if how == "duration" {
				args = append(args, "--duration", "2s")
			}
			r := startLive(t, nil, args...)
			go func() {
				if c, err := ln.Accept(); err == nil {
					defer c.Close()
					io.Copy(io.Discard, c) // never answers
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A real ClientHello, with nobody answering it.
			go tls.Client(c, &tls.Config{ServerName: "stop.test", InsecureSkipVerify: true}).Handshake()
			time.Sleep(500 * time.Millisecond)
			switch how {
			case "SIGINT":
				r.cmd.Process.Signal(os.Interrupt)
			case "SIGTERM":
				r.cmd.Process.Signal(syscall.SIGTERM)
			}
			if code := r.wait(t, 10*time.Second); code != 0 {
				t.Fatalf("exit %d:\n%s", code, r.stderr.String())
			}
			got := r.summaries(t)[port]
			checkLive(t, got, map[string]any{"sni": "stop.test", "established": false})
			if w := fmt.Sprint(got["warnings"]); !strings.Contains(w, "handshake still in progress when the capture ended") {
				t.Errorf("in-progress connection not marked: warnings %s", w)
			}
			if !strings.Contains(r.stderr.String(), "packets captured on lo") {
				t.Errorf("no statistics line:\n%s", r.stderr.String())
			}
		})
	}
}

// TestLiveSecondInterruptQuits: a second interrupt ends the process at once
// even if it is busy finishing.
func TestLiveSecondInterruptQuits(t *testing.T) {
	needRoot(t)
	r := startLive(t, nil, "-i", "lo", "port 1")
	r.cmd.Process.Signal(os.Interrupt)
	r.cmd.Process.Signal(os.Interrupt)
	code := r.wait(t, 10*time.Second)
	if code != 0 && code != 130 {
		t.Errorf("exit %d, want 0 (finished first) or 130:\n%s", code, r.stderr.String())
	}
}

// TestLiveNamespaces captures across a veth pair between two namespaces the
// test creates: OpenSSL server in one, OpenSSL client in the other, and
// tlsinspect on the server's end of the link.
func TestLiveNamespaces(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"ip", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	suffix := fmt.Sprint(os.Getpid())
	nsS, nsC := "tlsi-s-"+suffix, "tlsi-c-"+suffix
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", nsS)
	defer exec.Command("ip", "netns", "del", nsS).Run()
	ip("netns", "add", nsC)
	defer exec.Command("ip", "netns", "del", nsC).Run()
	ip("link", "add", "veth-s", "netns", nsS, "type", "veth", "peer", "name", "veth-c", "netns", nsC)
	ip("-n", nsS, "addr", "add", "10.77.0.1/24", "dev", "veth-s")
	ip("-n", nsC, "addr", "add", "10.77.0.2/24", "dev", "veth-c")
	ip("-n", nsS, "link", "set", "veth-s", "up")
	ip("-n", nsC, "link", "set", "veth-c", "up")
	ip("-n", nsS, "link", "set", "lo", "up")
	ip("-n", nsC, "link", "set", "lo", "up")

	dir := t.TempDir()
	if _, err := testpki.New(dir, net.ParseIP("10.77.0.1")); err != nil {
		t.Fatal(err)
	}
	r := startLive(t, []string{"ip", "netns", "exec", nsS}, "-i", "veth-s", "-T", "json", "-c", "4", "tcp portrange 4433-4436")

	// Mutual TLS 1.2 (the server demands a certificate), then TLS 1.3 with
	// no client certificate.
	runOpenSSL := func(port string, serverArgs, clientArgs []string) {
		t.Helper()
		srv := exec.Command("ip", append([]string{"netns", "exec", nsS, "openssl", "s_server", "-accept", "10.77.0.1:" + port,
			"-cert", filepath.Join(dir, "server.pem"), "-key", filepath.Join(dir, "server.key"), "-CAfile", filepath.Join(dir, "ca.pem"), "-naccept", "1", "-quiet"}, serverArgs...)...)
		srv.Stdin = strings.NewReader("")
		var srvOut bytes.Buffer
		srv.Stdout, srv.Stderr = &srvOut, &srvOut
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer srv.Process.Kill()
		// Wait for the server to listen.
		var out []byte
		var err error
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			cl := exec.Command("ip", append([]string{"netns", "exec", nsC, "openssl", "s_client", "-connect", "10.77.0.1:" + port,
				"-servername", "server.test", "-CAfile", filepath.Join(dir, "ca.pem"), "-verify_return_error"}, clientArgs...)...)
			cl.Stdin = strings.NewReader("Q\n")
			out, err = cl.CombinedOutput()
			if err == nil || !bytes.Contains(out, []byte("connect:errno")) {
				break
			}
		}
		if !bytes.Contains(out, []byte("Verification: OK")) && !bytes.Contains(out, []byte("Verify return code: 0 (ok)")) {
			t.Fatalf("openssl s_client on port %s:\n%s\nserver:\n%s", port, out, srvOut.String())
		}
	}
	runOpenSSL("4433", []string{"-Verify", "1", "-tls1_2"}, []string{"-cert", filepath.Join(dir, "client.pem"), "-key", filepath.Join(dir, "client.key")})
	runOpenSSL("4434", []string{"-tls1_3"}, nil)
	// A handshake the server refuses: it only speaks TLS 1.3.
	refused := exec.Command("ip", "netns", "exec", nsS, "openssl", "s_server", "-accept", "10.77.0.1:4435", "-naccept", "1", "-quiet", "-tls1_3",
		"-cert", filepath.Join(dir, "server.pem"), "-key", filepath.Join(dir, "server.key"))
	if err := refused.Start(); err != nil {
		t.Fatal(err)
	}
	defer refused.Process.Kill()
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		cl := exec.Command("ip", "netns", "exec", nsC, "openssl", "s_client", "-connect", "10.77.0.1:4435", "-servername", "server.test", "-tls1_2")
		cl.Stdin = strings.NewReader("")
		if out, _ := cl.CombinedOutput(); !bytes.Contains(out, []byte("connect:errno")) {
			break
		}
	}
	// Go crypto/tls on both ends (internal/tlspeer): mutual TLS 1.3.
	peer := filepath.Join(t.TempDir(), "tlspeer")
	if out, err := exec.Command("go", "build", "-o", peer, "../../internal/tlspeer").CombinedOutput(); err != nil {
		t.Fatalf("build tlspeer: %v\n%s", err, out)
	}
	ready := filepath.Join(dir, "ready")
	gsrv := exec.Command("ip", "netns", "exec", nsS, peer, "-mode", "server", "-addr", "10.77.0.1:4436", "-cert", filepath.Join(dir, "server.pem"),
		"-key", filepath.Join(dir, "server.key"), "-ca", filepath.Join(dir, "ca.pem"), "-client-auth", "require-verify", "-ready", ready, "-out", filepath.Join(dir, "srv.jsonl"))
	if err := gsrv.Start(); err != nil {
		t.Fatal(err)
	}
	defer gsrv.Process.Kill()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := exec.Command("ip", "netns", "exec", nsC, peer, "-mode", "client", "-addr", "10.77.0.1:4436", "-sni", "server.test",
		"-ca", filepath.Join(dir, "ca.pem"), "-cert", filepath.Join(dir, "client.pem"), "-key", filepath.Join(dir, "client.key")).CombinedOutput(); err != nil {
		t.Fatalf("tlspeer client: %v\n%s", err, out)
	}

	if code := r.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	got := r.summaries(t)
	checkLive(t, got["4433"], map[string]any{"version": "TLS 1.2", "sni": "server.test", "client_cert_requested": true, "client_cert_sent": true, "established": true})
	checkLive(t, got["4434"], map[string]any{"version": "TLS 1.3", "sni": "server.test", "established": true})
	checkLive(t, got["4435"], map[string]any{"version": nil, "sni": "server.test", "established": false})
	if a := fmt.Sprint(got["4435"]["alerts"]); !strings.Contains(a, "protocol_version") {
		t.Errorf("refused handshake: alerts %s, want protocol_version", a)
	}
	// TLS 1.3 hides the client certificate; the size-based inference sees it.
	checkLive(t, got["4436"], map[string]any{"version": "TLS 1.3", "sni": "server.test", "established": true, "client_cert_requested": nil})
	if inf, _ := got["4436"]["client_cert_inferred"].(map[string]any); inf == nil || inf["sent"] != true {
		t.Errorf("Go mutual TLS 1.3: client_cert_inferred = %v, want sent true", got["4436"]["client_cert_inferred"])
	}
	if c, _ := got["4433"]["client"].(string); !strings.HasPrefix(c, "10.77.0.2:") {
		t.Errorf("client = %q, want 10.77.0.2:…", c)
	}
	if !strings.Contains(r.stderr.String(), "captured on veth-s") {
		t.Errorf("statistics:\n%s", r.stderr.String())
	}
}

// TestLiveNeedsPrivilege: without CAP_NET_RAW the command says what is
// missing and how to grant it, and exits non-zero.
func TestLiveNeedsPrivilege(t *testing.T) {
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "-i", "lo")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInput {
		t.Fatalf("exit %v, want %d:\n%s", err, exitInput, out)
	}
	for _, want := range []string{"needs root or the CAP_NET_RAW capability", "setcap cap_net_raw,cap_net_admin=eip " + bin} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message lacks %q:\n%s", want, out)
		}
	}
}

// TestListInterfaces: -D lists lo with its address, and "any".
func TestListInterfaces(t *testing.T) {
	out, stderr, code := runCmd("-D")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !regexp.MustCompile(`(?m)^\d+\. lo \[up, loopback\] 127\.0\.0\.1/8`).MatchString(out) || !regexp.MustCompile(`(?m)^\d+\. any \[up\]$`).MatchString(out) {
		t.Errorf("-D output:\n%s", out)
	}
}

// TestLiveWorkers captures with three workers, each reading its own socket
// of an AF_PACKET fanout group: 30 concurrent connections are each
// reported once, whole, with distinct connection numbers, and the
// statistics count every one of them.
func TestLiveWorkers(t *testing.T) {
	needRoot(t)
	pki, ln, port := loopbackServer(t)
	r := startLive(t, nil, "-i", "lo", "-T", "json", "--workers", "3", "tcp port "+port)

	const n = 30
	scfg, ccfg := pki.ServerConfig(true), pki.ClientConfig(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, scfg)
				if tc.Handshake() == nil {
					io.Copy(tc, io.LimitReader(tc, 5))
				}
			}()
		}
	}()
	var wg sync.WaitGroup
	clients := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
			if err != nil {
				t.Error(err)
				return
			}
			clients <- c.LocalAddr().String()
			c.Write([]byte("hello"))
			io.ReadFull(c, make([]byte, 5))
			c.Close()
		}()
	}
	wg.Wait()
	close(clients)
	time.Sleep(300 * time.Millisecond) // the last packets through the rings
	r.cmd.Process.Signal(os.Interrupt)
	if code := r.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	byClient := map[string]map[string]any{}
	ids := map[float64]bool{}
	for _, o := range jsonLines(t, r.stdout.String()) {
		if byClient[o["client"].(string)] != nil {
			t.Errorf("%s reported twice", o["client"])
		}
		byClient[o["client"].(string)] = o
		ids[o["connection"].(float64)] = true
	}
	for c := range clients {
		checkLive(t, byClient[c], map[string]any{"version": "TLS 1.3", "client_cert_requested": nil, "established": true})
	}
	if len(byClient) != n || len(ids) != n {
		t.Errorf("%d connections reported with %d numbers, want %d", len(byClient), len(ids), n)
	}
	stats := r.stderr.String()
	for _, want := range []string{fmt.Sprintf("%d TLS connections, %d handshakes (%d completed)", n, n, n), "(3 capture sockets in a fanout group)"} {
		if !strings.Contains(stats, want) {
			t.Errorf("statistics lack %q:\n%s", want, stats)
		}
	}
}

// loopbackServer makes a PKI for 127.0.0.1 and a listener on a free port of
// it (closed when the test ends).
func loopbackServer(t *testing.T) (*testpki.PKI, net.Listener, string) {
	t.Helper()
	pki, err := testpki.New(t.TempDir(), net.ParseIP("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return pki, ln, port
}
