//go:build pcap || !linux

package capture

import (
	"errors"
	"strings"
	"testing"
)

// TestLiveFanoutUnsupported: builds without the AF_PACKET source refuse a
// fanout group, before needing any privilege.
func TestLiveFanoutUnsupported(t *testing.T) {
	s, err := OpenLive(LiveConfig{Interface: "lo", FanoutGroup: FanoutGroupID()})
	if err == nil {
		s.Close()
		t.Fatal("OpenLive with a fanout group succeeded")
	}
	if !errors.Is(err, ErrFanoutUnsupported) || !strings.Contains(err.Error(), "fanout needs the Linux AF_PACKET source") {
		t.Errorf("error %q: want ErrFanoutUnsupported, saying that fanout needs the Linux AF_PACKET source", err)
	}
}
