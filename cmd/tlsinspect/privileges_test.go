package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLiveDropsPrivileges: with -Z nobody, once the capture socket is open
// the process runs as nobody (user, group and supplementary groups, no
// capabilities left), still captures, and creates its -w file as nobody.
func TestLiveDropsPrivileges(t *testing.T) {
	needRoot(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	groups, _ := nobody.GroupIds()
	if !slices.Contains(groups, nobody.Gid) {
		groups = append(groups, nobody.Gid)
	}
	slices.SortFunc(groups, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })

	pki, ln, port := loopbackServer(t)
	out := t.TempDir()
	os.Chmod(out, 0o777)
	reachable(out)
	w := filepath.Join(out, "hs.pcapng")
	os.Chmod(filepath.Dir(binary(t)), 0o755)
	r := startLive(t, nil, "-Z", "nobody", "-i", "lo", "-T", "json", "-c", "1", "-w", w, "tcp port "+port)

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:\s*(.*)$`).FindSubmatch(status)
		if m == nil {
			t.Fatalf("no %s in /proc/PID/status", name)
		}
		return strings.Join(strings.Fields(string(m[1])), " ")
	}
	u, g := nobody.Uid, nobody.Gid
	for name, want := range map[string]string{
		"Uid":    strings.Join([]string{u, u, u, u}, " "), // real, effective, saved, filesystem
		"Gid":    strings.Join([]string{g, g, g, g}, " "),
		"Groups": strings.Join(groups, " "),
		"CapEff": "0000000000000000",
		"CapPrm": "0000000000000000",
	} {
		if got := field(name); got != want {
			t.Errorf("%s: %q after the socket is open, want %q", name, got, want)
		}
	}
	if want := "tlsinspect: capture socket open; running as user nobody (uid " + u + ", gid " + g; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}

	handshake(t, ln, pki.ServerConfig(false), pki.ClientConfig(false), false)
	if code := r.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.stderr.String())
	}
	checkLive(t, r.summaries(t)[port], map[string]any{"version": "TLS 1.3", "established": true})
	fi, err := os.Stat(w)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); strconv.Itoa(int(st.Uid)) != u {
		t.Errorf("-w file owned by uid %d, want %s (created after giving up root)", st.Uid, u)
	}
}

// TestDropPrivilegesErrors: -Z without live capture, for a user that does
// not exist, and without root.
func TestDropPrivilegesErrors(t *testing.T) {
	_, stderr, code := runCmd("-Z", "nobody", "-r", filepath.Join(pcapDir, "tls13-go.pcap"))
	if code != exitUsage || !strings.HasPrefix(stderr, "tlsinspect: -Z is for live capture (-i)\n") {
		t.Errorf("-Z with -r: exit %d, %q", code, stderr)
	}
	needRoot(t)
	// The user is looked up once the socket is open; failing, nothing changed.
	_, stderr, code = runCmd("-Z", "no-such-user-9", "-i", "lo", "port 1")
	if code != exitInput || !strings.HasPrefix(stderr, "tlsinspect: -Z no-such-user-9: user: unknown user no-such-user-9: give an existing user, e.g. nobody\n") {
		t.Errorf("unknown user: exit %d, %q", code, stderr)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the test process changed user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	bin := binary(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	out, err := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-Z", "nobody", "-i", "lo").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitUsage || !strings.HasPrefix(string(out), "tlsinspect: -Z nobody: not running as root, so there is no privilege to give up; run without -Z (see the README for capturing without root)\n") {
		t.Errorf("without root: %v, %s", err, out)
	}
}
