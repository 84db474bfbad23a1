package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	src, err := capture.OpenLive(lc)
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
		if flt != nil && flt.isCompileError(err) {
			return exitUsage, ""
		}
		return exitInput, ""
	}
	defer src.Close()
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
	if !o.quiet {
		// As tcpdump does; scripts and tests wait for this line before
		// making traffic.
		fmt.Fprintf(stderr, "tlsinspect: listening on %s, link type %s, snapshot length %d bytes (interrupt to stop)\n", src.Interface(), src.LinkType(), o.snaplen)
	}
	if o.verbose > 1 {
		cfg.DecodeError = func(err error) { fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", o.iface, err) }
	}
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

	c, err := analyze.RunContext(ctx, src, cfg, emit)
	status := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", o.iface, err)
		status = exitInput
	}
	st, serr := src.Stats()
	kernel := "unknown"
	if serr == nil {
		kernel = fmt.Sprint(st.KernelDropped)
	}
	// tlsinspect itself drops only packets it cannot decode; what the
	// limits made it give up is counted by cause (and, for a TLS
	// connection, is in its warnings).
	line := fmt.Sprintf("%d packets captured on %s, %s dropped by the kernel, %d dropped by tlsinspect (undecodable); %d TCP connections, %d TLS connections, %d handshakes (%d completed), %d warnings",
		c.Packets, src.Interface(), kernel, c.DecodeErrors, c.TLS.TCPConnections, c.TLS.TLSConnections, c.TLS.Handshakes, c.TLS.Established, c.TLS.Warnings)
	if d := c.Dropped(); len(d) > 0 {
		line += ", " + strings.Join(d, ", ")
	}
	return status, line
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
