// Command hostilegen writes the large hostile captures of bench/hostile.sh
// (internal/hostile makes them; the tests use smaller ones):
//
//	hostilegen -kind synflood -n 1000000 -o flood.pcap
//	hostilegen -kind repeat -size 3000 -o big.pcap testdata/pcaps/tls12-ecdhe-go.pcap …
//
// synflood: n SYN-only connections, each from its own address, 1 µs apart.
// repeat: copies of the connections in the capture files given as
// arguments, each copy with its own client address, interleaved
// (-concurrency at once), until the file holds -size megabytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/tlsinspect/tlsinspect/internal/hostile"
)

func main() {
	kind := flag.String("kind", "synflood", "`kind` of capture: synflood or repeat")
	n := flag.Int("n", 1000000, "synflood: number of connections")
	size := flag.Int64("size", 3000, "repeat: size of the file in `MB` (10^6 bytes)")
	conc := flag.Int("concurrency", 100, "repeat: copies interleaved at once")
	out := flag.String("o", "", "output `file`")
	flag.Parse()
	if err := run(*kind, *n, *size, *conc, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "hostilegen:", err)
		os.Exit(1)
	}
}

func run(kind string, n int, size int64, conc int, out string, inputs []string) (err error) {
	if out == "" {
		return fmt.Errorf("no output file (-o)")
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	switch kind {
	case "synflood":
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := hostile.SYNFlood(bw, n); err != nil {
			return err
		}
		return bw.Flush()
	case "repeat":
		if len(inputs) == 0 {
			return fmt.Errorf("repeat: give the capture files to repeat as arguments")
		}
		copies, err := hostile.Repeat(f, inputs, hostile.RepeatOptions{Bytes: size * 1e6, Concurrency: conc})
		if err != nil {
			return err
		}
		fmt.Printf("%d copies of %d captures\n", copies, len(inputs))
		return nil
	}
	return fmt.Errorf("unknown -kind %q", kind)
}
