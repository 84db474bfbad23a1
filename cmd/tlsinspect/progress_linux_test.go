package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the command writes to slave, the test
// reads what a terminal would show from master.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pty slave: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestProgressOnPseudoTerminal runs the command with standard error on a
// real (pseudo-)terminal, found to be one by isatty as in production: the
// progress line appears while standard input is still being read, fits the
// terminal's 60 columns, and is cleared before the statistics line;
// --no-progress turns it off.
func TestProgressOnPseudoTerminal(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(pcapDir, "tls13-hrr-go.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, noProgress := range []bool{false, true} {
		master, slave := openPTY(t, 60)
		if !fileIsTerminal(slave) {
			t.Fatal("the pty slave is not a terminal to isatty")
		}
		shown := &lockedBuffer{}
		copied := make(chan struct{})
		go func() {
			io.Copy(shown, master) // ends with EIO once the slave is closed
			close(copied)
		}()
		env := defaultEnvironment
		env.getenv = func(string) string { return "" } // not $CI of the machine running the tests
		env.progressDelay, env.progressInterval = 0, time.Millisecond
		var stdin io.Reader = bytes.NewReader(data)
		args := []string{"-T", "json", "-r", "-"}
		if noProgress {
			args = append(args, "--no-progress")
		} else {
			stdin = &gatedReader{data: data, half: len(data) / 2, ready: func() bool {
				return strings.Contains(shown.String(), "tlsinspect: ")
			}}
		}
		var stdout bytes.Buffer
		code := runEnv(env, args, stdin, &stdout, slave)
		slave.Close()
		<-copied
		term := shown.String()
		if code != 0 || strings.Count(stdout.String(), "\n") != 1 {
			t.Fatalf("exit %d, output %q, terminal %q", code, stdout.String(), term)
		}
		stats := strings.Index(term, "tlsinspect: 24 packets")
		if stats < 0 {
			t.Fatalf("no statistics line on the terminal: %q", term)
		}
		if noProgress {
			if strings.ContainsAny(term, "\x1b") || stats != 0 {
				t.Errorf("--no-progress: terminal shows %q", term)
			}
			continue
		}
		draws := progressSeq.FindAllString(term[:stats], -1)
		if len(draws) < 2 || draws[len(draws)-1] != "\r\x1b[K" {
			t.Fatalf("want progress lines then a clear before the statistics line, terminal shows %q", term)
		}
		for _, d := range draws[:len(draws)-1] {
			if !strings.HasPrefix(d, "\rtlsinspect: ") || len(d)-4 > 59 {
				t.Errorf("progress line %q (%d columns, terminal 60)", d, len(d)-4)
			}
		}
	}
}
