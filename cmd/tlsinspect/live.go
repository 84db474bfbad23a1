package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// runLive captures on o.iface until ctx is done (--count), --duration
// passes, or SIGINT/SIGTERM arrives; a second signal exits at once. It
// returns the exit status and the statistics line.
//
// With -Z, privileges are given up as soon as the socket is open, and
// afterDrop (which creates the -w file) is called after that.
func runLive(ctx context.Context, cancel context.CancelFunc, o options, flt *filter, cfg analyze.Config, afterDrop func(*analyze.Config) error, emit func(*tlsconn.Summary), stderr io.Writer) (int, string) {
	lc := capture.LiveConfig{Interface: o.iface, Snaplen: o.snaplen, Promiscuous: !o.noPromisc}
	if flt != nil {
		lc.Filter = flt.compile
	}
	srcs, err := openLive(lc, workers(o, 1), o.writeFile != "")
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
		if flt != nil && flt.isCompileError(err) {
			return exitUsage, ""
		}
		return exitInput, ""
	}
	defer func() {
		for _, src := range srcs {
			src.Close()
		}
	}()
	if o.dropUser != "" {
		ids, err := dropPrivileges(o.dropUser)
		if err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			return exitInput, ""
		}
		if !o.quiet {
			fmt.Fprintf(stderr, "tlsinspect: capture socket open; running as user %s (%s) from now on\n", o.dropUser, ids)
		}
		if afterDrop != nil {
			if err := afterDrop(&cfg); err != nil {
				fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
				return exitInput, ""
			}
		}
	}
	src := srcs[0]
	if !o.quiet {
		// As tcpdump does; scripts and tests wait for this line before
		// making traffic.
		fmt.Fprintf(stderr, "tlsinspect: listening on %s, link type %s, snapshot length %d bytes (interrupt to stop)\n", src.Interface(), src.LinkType(), o.snaplen)
	}
	if o.verbose > 1 {
		cfg.DecodeError = func(err error) { fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", o.iface, err) }
	}
	cfg.Panic = panicReporter(stderr, o.verbose)
	if o.duration > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, o.duration)
		defer stop()
	}

	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
		case <-ctx.Done():
			return
		}
		cancel()
		if !o.quiet {
			fmt.Fprintln(stderr, "tlsinspect: stopping: reporting connections in progress (interrupt again to quit at once)")
		}
		<-sig
		os.Exit(130)
	}()

	var c analyze.Counts
	if len(srcs) == 1 {
		cfg.Workers = workers(o, 1) // sharded after reading, when fanout is not available
		c, err = analyze.RunContext(ctx, src, cfg, emit)
	} else {
		c, err = runFanout(ctx, srcs, cfg, emit)
	}
	status := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", o.iface, err)
		status = exitInput
	}
	kernel := "unknown" // unless every socket says
	var dropped uint64
	for i, src := range srcs {
		st, serr := src.Stats()
		if serr != nil {
			break
		}
		dropped += st.KernelDropped
		if i == len(srcs)-1 {
			kernel = fmt.Sprint(dropped)
		}
	}
	// tlsinspect itself drops only packets it cannot decode; what the
	// limits made it give up is counted by cause (and, for a TLS
	// connection, is in its warnings).
	line := fmt.Sprintf("%d packets captured on %s, %s dropped by the kernel, %d dropped by tlsinspect (undecodable); %d TCP connections, %d TLS connections, %d handshakes (%d completed), %d warnings",
		c.Packets, src.Interface(), kernel, c.DecodeErrors, c.TLS.TCPConnections, c.TLS.TLSConnections, c.TLS.Handshakes, c.TLS.Established, c.TLS.Warnings)
	if len(srcs) > 1 {
		line += fmt.Sprintf(" (%d capture sockets in a fanout group)", len(srcs))
	}
	if d := c.Dropped(); len(d) > 0 {
		line += ", " + strings.Join(d, ", ")
	}
	return status, line
}

// openLive opens the capture: with n > 1 workers, n sockets in an AF_PACKET
// fanout group, each read by its own worker, the kernel spreading
// connections among them; else (or when this build has no fanout, or
// single, which -w needs: its file follows packets in order) one socket.
func openLive(lc capture.LiveConfig, n int, single bool) ([]*capture.LiveSource, error) {
	if n > 1 && !single {
		lc.FanoutGroup = capture.FanoutGroupID()
		srcs := make([]*capture.LiveSource, 0, n)
		var err error
		for range n {
			var src *capture.LiveSource
			if src, err = capture.OpenLive(lc); err != nil {
				break
			}
			srcs = append(srcs, src)
		}
		if err == nil {
			return srcs, nil
		}
		for _, src := range srcs {
			src.Close()
		}
		if !errors.Is(err, capture.ErrFanoutUnsupported) {
			return nil, err
		}
		lc.FanoutGroup = 0
	}
	src, err := capture.OpenLive(lc)
	if err != nil {
		return nil, err
	}
	return []*capture.LiveSource{src}, nil
}

// runFanout analyses each source of a fanout group in its own goroutine.
// The kernel gives all the packets of a connection to one source, so each
// run follows whole connections; what they report goes out one at a time.
func runFanout(ctx context.Context, srcs []*capture.LiveSource, cfg analyze.Config, emit func(*tlsconn.Summary)) (analyze.Counts, error) {
	var mu sync.Mutex
	locked := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	if de := cfg.DecodeError; de != nil {
		cfg.DecodeError = func(err error) { locked(func() { de(err) }) }
	}
	if p := cfg.Panic; p != nil {
		cfg.Panic = func(id uint64, v any, stack []byte) { locked(func() { p(id, v, stack) }) }
	}
	if cfg.MaxFlows > 0 {
		cfg.MaxFlows = (cfg.MaxFlows + len(srcs) - 1) / len(srcs)
	}
	// A source that fails stops the others: the capture is then
	// incomplete, as with one source.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var total analyze.Counts
	var firstErr error
	var wg sync.WaitGroup
	for i, src := range srcs {
		c := cfg
		c.Workers, c.Share, c.Shares = 1, i, len(srcs)
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts, err := analyze.RunContext(ctx, src, c, func(s *tlsconn.Summary) { locked(func() { emit(s) }) })
			locked(func() {
				total.Add(counts)
				if err != nil && firstErr == nil {
					firstErr = err
					stop()
				}
			})
		}()
	}
	wg.Wait()
	return total, firstErr
}

// listInterfaces prints the interfaces live capture can use (-D).
func listInterfaces(stdout, stderr io.Writer) int {
	ifs, err := capture.ListInterfaces()
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: listing interfaces: %v\n", err)
		return exitInput
	}
	for i, it := range ifs {
		state := "down"
		if it.Up {
			state = "up"
		}
		if it.Loopback {
			state += ", loopback"
		}
		addrs := make([]string, len(it.Addrs))
		for j, a := range it.Addrs {
			addrs[j] = a.String()
		}
		line := fmt.Sprintf("%d. %s [%s]", i+1, it.Name, state)
		if len(addrs) > 0 {
			line += " " + strings.Join(addrs, ", ")
		}
		fmt.Fprintln(stdout, line)
	}
	return exitOK
}
