// Command dtlsrelay forwards UDP datagrams between one client and one server
// and, on request, drops, duplicates or reorders chosen datagrams, so that a
// real DTLS client and server retransmit and reassemble for real. It is used
// by testdata/pcaps/generate-dtls.sh, which captures the client's side of the
// relay: what the capture shows is exactly what the client sent and received.
//
//	dtlsrelay -listen 127.0.0.1:44450 -to 127.0.0.1:44451 -rules s2c:drop:3,s2c:swap:4,c2s:dup:2
//
// A rule is DIRECTION:ACTION:N, where DIRECTION is c2s (client to server) or
// s2c, N counts the datagrams of that direction from 1, and ACTION is
//
//   - drop: datagram N is not forwarded;
//   - dup: datagram N is forwarded twice;
//   - swap: datagram N is held and forwarded right after datagram N+1.
//
// Each rule applies once. The relay exits when no datagram has passed for
// -idle, or after -timeout. What it did is printed as one JSON line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type rule struct {
	Dir    string `json:"dir"`
	Action string `json:"action"`
	N      int    `json:"n"`
}

type relay struct {
	mu      sync.Mutex
	rules   []rule
	count   map[string]int
	held    map[string]held
	last    time.Time
	applied []rule
}

// held is a datagram that a swap rule holds back.
type held struct {
	n int // its number in its direction
	p []byte
}

func parseRules(s string) ([]rule, error) {
	var out []rule
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		f := strings.Split(part, ":")
		if len(f) != 3 || (f[0] != "c2s" && f[0] != "s2c") || (f[1] != "drop" && f[1] != "dup" && f[1] != "swap") {
			return nil, fmt.Errorf("bad rule %q (want c2s|s2c:drop|dup|swap:N)", part)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad rule %q: N must be a positive number", part)
		}
		out = append(out, rule{f[0], f[1], n})
	}
	return out, nil
}

// plan returns the datagrams to send for the next datagram p of direction
// dir, after the rules.
func (r *relay) plan(dir string, p []byte) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = time.Now()
	r.count[dir]++
	n := r.count[dir]
	out := [][]byte{p}
	for _, ru := range r.rules {
		if ru.Dir != dir || ru.N != n {
			continue
		}
		r.applied = append(r.applied, ru)
		switch ru.Action {
		case "drop":
			out = nil
		case "dup":
			out = [][]byte{p, p}
		case "swap":
			r.held[dir] = held{n, p}
			out = nil
		}
	}
	if h, ok := r.held[dir]; ok && out != nil && h.n == n-1 {
		out = append(out, h.p)
		delete(r.held, dir)
	}
	return out
}

func main() {
	listen := flag.String("listen", "127.0.0.1:44450", "address the client sends to")
	to := flag.String("to", "127.0.0.1:44451", "server address")
	rulesFlag := flag.String("rules", "", "comma-separated DIRECTION:ACTION:N rules")
	idle := flag.Duration("idle", 3*time.Second, "exit after this long without a datagram")
	timeout := flag.Duration("timeout", 20*time.Second, "exit after this long in any case")
	ready := flag.String("ready", "", "file to create once listening")
	flag.Parse()
	rules, err := parseRules(*rulesFlag)
	if err != nil {
		log.Fatal(err)
	}
	front, err := net.ListenPacket("udp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := net.ResolveUDPAddr("udp", *to)
	if err != nil {
		log.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, srv)
	if err != nil {
		log.Fatal(err)
	}
	r := &relay{rules: rules, count: map[string]int{}, held: map[string]held{}, last: time.Now()}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("ok\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	var clientMu sync.Mutex
	var client net.Addr
	go func() {
		buf := make([]byte, 65536)
		for {
			n, addr, err := front.ReadFrom(buf)
			if err != nil {
				return
			}
			clientMu.Lock()
			client = addr
			clientMu.Unlock()
			for _, p := range r.plan("c2s", append([]byte(nil), buf[:n]...)) {
				_, _ = back.Write(p)
			}
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := back.Read(buf)
			if err != nil {
				return
			}
			clientMu.Lock()
			c := client
			clientMu.Unlock()
			if c == nil {
				continue
			}
			for _, p := range r.plan("s2c", append([]byte(nil), buf[:n]...)) {
				_, _ = front.WriteTo(p, c)
			}
		}
	}()
	start := time.Now()
	for time.Since(start) < *timeout {
		time.Sleep(50 * time.Millisecond)
		r.mu.Lock()
		quiet := time.Since(r.last) > *idle && (r.count["c2s"] > 0)
		r.mu.Unlock()
		if quiet {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"relay": "dtlsrelay", "rules": r.rules, "applied": r.applied, "datagrams": r.count})
}
