package capture

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestPermissionErrorMessage(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, cause := range []error{syscall.EPERM, syscall.EACCES, fmt.Errorf("socket: %w", syscall.EPERM)} {
		err := permissionError("eth0", cause)
		var pe *PermissionError
		if !errors.As(err, &pe) {
			t.Fatalf("permissionError(%v) = %T %v, want *PermissionError", cause, err, err)
		}
		if !errors.Is(err, ErrPermission) || !errors.Is(err, os.ErrPermission) || !errors.Is(err, cause) {
			t.Errorf("%v: errors.Is ErrPermission %v, os.ErrPermission %v, cause %v; want all true",
				err, errors.Is(err, ErrPermission), errors.Is(err, os.ErrPermission), errors.Is(err, cause))
		}
		msg := err.Error()
		for _, want := range []string{`"eth0"`, cause.Error()} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		if pe.Executable != exe {
			t.Errorf("Executable = %q, want %q", pe.Executable, exe)
		}
		checkGrantHint(t, msg, exe)
	}
	for _, other := range []error{nil, syscall.EINVAL, errors.New("boom")} {
		if got := permissionError("eth0", other); got != other {
			t.Errorf("permissionError(%v) = %v, want it unchanged", other, got)
		}
	}
}

// checkGrantHint checks that a permission error says what is needed and
// how to grant it to exe.
func checkGrantHint(t *testing.T, msg, exe string) {
	t.Helper()
	wants := []string{"live capture needs", exe}
	if runtime.GOOS == "linux" {
		wants = append(wants, "needs root or the CAP_NET_RAW capability", "sudo setcap cap_net_raw,cap_net_admin=eip "+exe)
	}
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestNormSnaplen(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, MaxPacketSize}, {1, 1}, {96, 96}, {MaxPacketSize, MaxPacketSize}, {MaxPacketSize + 1, MaxPacketSize}} {
		if got, err := normSnaplen(tt.in); err != nil || got != tt.want {
			t.Errorf("normSnaplen(%d) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := normSnaplen(-1); err == nil {
		t.Error("normSnaplen(-1) succeeded")
	}
}

func TestOpenLiveNoInterfaceName(t *testing.T) {
	_, err := OpenLive(LiveConfig{})
	if err == nil {
		t.Fatal("OpenLive with no interface succeeded")
	}
	if runtime.GOOS == "linux" && !strings.Contains(err.Error(), "no interface given") {
		t.Errorf("error %q does not say that the interface is missing", err)
	}
}

func TestFanoutGroupID(t *testing.T) {
	id := FanoutGroupID()
	if id == 0 {
		t.Fatal("FanoutGroupID is 0, which means no fanout")
	}
	if again := FanoutGroupID(); again != id {
		t.Errorf("FanoutGroupID changed from %d to %d", id, again)
	}
	pid := uint32(os.Getpid())
	if want := uint16(pid) ^ uint16(pid>>16); want != 0 && id != want {
		t.Errorf("FanoutGroupID = %d for process %d, want %d", id, pid, want)
	}
}
