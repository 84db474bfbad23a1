// Command capgen writes a pcap file of synthesized TLS connections for
// benchmarking tlsinspect (see bench/README.md).
//
//	capgen -shape bulk -n 600 -min 65536 -max 262144 -o bulk.pcap
//	capgen -shape handshakes -n 20000 -o hs.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tlsinspect/tlsinspect/bench/capgen"
)

func main() {
	shape := flag.String("shape", "handshakes", "`shape` of the capture: bulk or handshakes")
	n := flag.Int("n", 1000, "number of connections")
	minB := flag.Int("min", 64<<10, "bulk: smallest response in `bytes`")
	maxB := flag.Int("max", 256<<10, "bulk: largest response in `bytes`")
	seed := flag.Uint64("seed", 1, "seed of the layout")
	gap := flag.Duration("gap", 40*time.Microsecond, "mean packet time between two packets")
	conc := flag.Int("concurrency", 50, "connections open at once")
	out := flag.String("o", "-", "output `file` (- for standard output)")
	flag.Parse()
	opt := capgen.Options{Seed: *seed, Concurrency: *conc, Gap: *gap}
	if *shape == "bulk" {
		opt.MinBytes, opt.MaxBytes = *minB, *maxB
	}
	if err := run(*shape, *n, opt, *out); err != nil {
		fmt.Fprintln(os.Stderr, "capgen:", err)
		os.Exit(1)
	}
}

func run(shape string, n int, opt capgen.Options, out string) (err error) {
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var pool *capgen.Pool
	switch shape {
	case "bulk":
		pool, err = capgen.NewPool(capgen.PoolSize, opt.MaxBytes)
	case "handshakes":
		pool, err = capgen.NewPool(capgen.PoolSize, capgen.ShortResponse)
	default:
		return fmt.Errorf("unknown -shape %q (bulk or handshakes)", shape)
	}
	if err != nil {
		return err
	}
	m, err := capgen.Write(bw, pool, n, opt)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "capgen: %s: %d connections, %d packets, %d bytes, %.1f s of packet time\n",
		shape, len(m.Conns), m.Packets, m.Bytes, m.Last.Sub(m.First).Seconds())
	return nil
}
