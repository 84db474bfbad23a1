// Certificates with negative serial numbers exist in the wild; crypto/x509
// rejects them since Go 1.23 unless this setting restores the old behaviour.
//go:debug x509negativeserial=1

// Command tlsinspect reports, for every TLS connection in a capture, what
// the two peers offered and negotiated.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Exit statuses (README "Exit status").
const (
	exitOK    = 0 // 1 is kept for policy violations
	exitUsage = 2
	exitInput = 3
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	read        []string
	format      string
	quiet       bool
	verbose     int
	maxMessage  int
	scanLimit   int
	maxBuffer   int
	idleTimeout time.Duration
	showVersion bool
	color       report.ColorMode
	summary     bool
}

func newFlagSet(o *options, stderr io.Writer) *pflag.FlagSet {
	// Our own FlagSet: gopacket registers flags on the standard library's
	// global set, which must not leak into this command line.
	fs := pflag.NewFlagSet("tlsinspect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringArrayVarP(&o.read, "read", "r", nil, "read packets from `FILE` (pcap or pcapng, optionally gzip-compressed; - for standard input); repeatable")
	fs.StringVarP(&o.format, "format", "f", "table", "output `format`: table or json (JSON lines, one object per connection)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary line on standard error")
	fs.CountVarP(&o.verbose, "verbose", "v", "list every handshake message with its decoded fields under each connection (JSON: a \"messages\" array); -vv also reports each undecodable packet on standard error")
	fs.IntVar(&o.maxMessage, "max-message", dissect.DefaultMaxMessage, "largest handshake message reassembled, in `bytes`; larger ones are reported and skipped")
	fs.IntVar(&o.scanLimit, "scan-limit", tlsconn.DefaultScanLimit, "`bytes` of each direction searched for the start of TLS (after STARTTLS and other preambles)")
	fs.IntVar(&o.maxBuffer, "max-buffer", 256<<10, "out-of-order TCP `bytes` held per direction while waiting for a lost segment")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "forget a connection idle this long in packet time")
	fs.Var(&o.color, "color", "colour the table: auto (when standard output is a terminal and NO_COLOR is not set), always or never")
	fs.BoolVar(&o.summary, "summary", false, "print counts (by version, cipher suite, SNI, fingerprint, finding, outcome, client certificate) instead of one row per connection")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tlsinspect -r FILE [-r FILE…] [flags]\n\nReports what the peers of every TLS connection in a capture offered and negotiated.\n\nFlags:\n%s", fs.FlagUsages())
	}
	return fs
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "tlsinspect: %v\nRun 'tlsinspect --help' for usage.\n", err)
		return exitUsage
	}
	if o.showVersion {
		fmt.Fprintf(stdout, "tlsinspect %s\n", version)
		return exitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tlsinspect: unexpected argument %q (capture files are given with -r)\n", fs.Arg(0))
		return exitUsage
	}
	if len(o.read) == 0 {
		fmt.Fprintln(stderr, "tlsinspect: no input: give a capture file with -r FILE (or -r - for standard input)")
		return exitUsage
	}
	out, err := report.Open(o.format, stdout, report.Options{Color: o.color.Enabled(stdout), Summary: o.summary})
	if err != nil {
		fmt.Fprintf(stderr, "tlsinspect: --format: %v\n", err)
		return exitUsage
	}
	if o.maxMessage <= 0 || o.scanLimit <= 0 || o.maxBuffer <= 0 || o.idleTimeout <= 0 {
		fmt.Fprintln(stderr, "tlsinspect: --max-message, --scan-limit, --max-buffer and --idle-timeout must be positive")
		return exitUsage
	}

	var total analyze.Counts
	status := exitOK
	var writeErr error
	emit := func(s *tlsconn.Summary) {
		if writeErr == nil {
			writeErr = out.Write(s)
		}
	}
	cfg := analyze.Config{MaxMessage: o.maxMessage, ScanLimit: o.scanLimit, MaxBuffer: o.maxBuffer, IdleTimeout: o.idleTimeout, Messages: o.verbose > 0 && !o.summary}
	for _, name := range o.read {
		if o.verbose > 1 {
			cfg.DecodeError = func(err error) { fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", name, err) }
		}
		c, err := readFile(name, stdin, cfg, emit)
		total.Add(c)
		if err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			status = exitInput
		}
		if writeErr != nil {
			break
		}
	}
	if err := out.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if writeErr != nil {
		fmt.Fprintf(stderr, "tlsinspect: writing output: %v\n", writeErr)
		return exitInput
	}
	if !o.quiet {
		line := "tlsinspect: " + total.String()
		if len(o.read) > 1 {
			line += fmt.Sprintf(" in %d files", len(o.read))
		}
		fmt.Fprintln(stderr, line)
	}
	return status
}

// readFile runs one capture file through the pipeline.
func readFile(name string, stdin io.Reader, cfg analyze.Config, emit func(*tlsconn.Summary)) (analyze.Counts, error) {
	var src *capture.FileSource
	var err error
	if name == "-" {
		src, err = capture.NewFileSource("(standard input)", stdin)
	} else {
		src, err = capture.OpenFile(name)
	}
	if err != nil {
		return analyze.Counts{}, err
	}
	defer src.Close()
	return analyze.Run(src, cfg, emit)
}
