// Certificates with negative serial numbers exist in the wild; crypto/x509
// rejects them since Go 1.23 unless this setting restores the old behaviour.
//go:debug x509negativeserial=1

// Command tlsinspect reports, for every TLS connection in a capture, what
// the two peers offered and negotiated.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/dissect"
	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Exit statuses (README "Exit status").
const (
	exitOK        = 0
	exitViolation = 1 // a policy rule or --fail-on-drift failed
	exitUsage     = 2
	exitInput     = 3
)

var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type options struct {
	read         []string
	iface        string
	listIfaces   bool
	snaplen      int
	noPromisc    bool
	count        int
	duration     time.Duration
	filter       string
	bpfFile      string
	writeFile    string
	format       string
	zeekJSON     bool
	saveBaseline string
	baseline     string
	failOnDrift  string
	policy       policyOptions
	keylogs      []string
	quiet        bool
	verbose      int
	maxMessage   int
	scanLimit    int
	maxBuffer    int
	maxFlows     int
	idleTimeout  time.Duration
	dropUser     string
	showVersion  bool
	color        report.ColorMode
	summary      bool
}

func newFlagSet(o *options, stderr io.Writer) *pflag.FlagSet {
	// Our own FlagSet: gopacket registers flags on the standard library's
	// global set, which must not leak into this command line.
	fs := pflag.NewFlagSet("tlsinspect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.StringArrayVarP(&o.read, "read", "r", nil, "read packets from `FILE` (pcap or pcapng, optionally gzip-compressed; - for standard input); repeatable")
	fs.StringVarP(&o.iface, "interface", "i", "", "capture live on `IFACE` (or any); needs root or CAP_NET_RAW")
	fs.BoolVarP(&o.listIfaces, "list-interfaces", "D", false, "list the interfaces live capture can use, with their addresses, and exit")
	fs.IntVarP(&o.snaplen, "snaplen", "s", 262144, "live capture: `bytes` kept of each packet")
	fs.BoolVar(&o.noPromisc, "no-promisc", false, "live capture: do not put the interface into promiscuous mode")
	fs.StringVarP(&o.dropUser, "relinquish-privileges", "Z", "", "live capture: once the capture socket is open, give up root and run on as `USER` (as tcpdump -Z)")
	fs.IntVarP(&o.count, "count", "c", 0, "stop after `N` TLS connections are reported")
	fs.DurationVar(&o.duration, "duration", 0, "live capture: stop after this long (e.g. 30s, 5m)")
	fs.StringVarP(&o.filter, "filter", "f", "", "capture filter `EXPR`, tcpdump style (host, net, port, portrange, tcp, udp, ip, ip6, vlan, and/or/not, parentheses); also given as trailing arguments")
	fs.StringVar(&o.bpfFile, "bpf-file", "", "capture filter as a compiled classic BPF program in `FILE` (tcpdump -ddd output), for expressions beyond -f's subset")
	fs.StringArrayVar(&o.keylogs, "keylog", nil, "decrypt handshakes (TLS 1.3; TLS 1.0-1.2 Finished, alerts, renegotiations) with the secrets in `FILE` (NSS key log, as SSLKEYLOGFILE writes); repeatable. $SSLKEYLOGFILE and secrets embedded in pcapng files are used too")
	fs.StringVarP(&o.writeFile, "write", "w", "", "also write the packets of TLS handshakes (not bulk data) to `FILE` (pcapng)")
	fs.StringVarP(&o.format, "format", "T", "table", "output `format`: "+strings.Join(report.Formats, ", ")+" (README \"Output formats\")")
	fs.BoolVar(&o.zeekJSON, "zeek-json", false, "with --format zeek: Zeek's JSON log format instead of TSV")
	fs.StringVar(&o.saveBaseline, "save-baseline", "", "record per server what was negotiated to `FILE` (JSON), for --baseline later")
	fs.StringVar(&o.baseline, "baseline", "", "compare what was negotiated with the baseline in `FILE` and report drift on standard error")
	fs.StringVar(&o.failOnDrift, "fail-on-drift", "", "with --baseline: exit 1 on `drift`: downgrade (weaker version, suite, client auth, new issuer, failing handshakes) or any")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary line on standard error")
	fs.CountVarP(&o.verbose, "verbose", "v", "list every handshake message with its decoded fields under each connection (JSON: a \"messages\" array); -vv also reports each undecodable packet on standard error")
	fs.IntVar(&o.maxMessage, "max-message", dissect.DefaultMaxMessage, "largest handshake message reassembled, in `bytes`; larger ones are reported and skipped")
	fs.IntVar(&o.scanLimit, "scan-limit", tlsconn.DefaultScanLimit, "`bytes` of each direction searched for the start of TLS (after STARTTLS and other preambles)")
	fs.IntVar(&o.maxBuffer, "max-buffer", 256<<10, "out-of-order TCP `bytes` held per direction while waiting for a lost segment")
	fs.IntVar(&o.maxFlows, "max-flows", tcpstream.DefaultMaxConnections, "track at most `N` TCP connections at once; beyond it the least recently active is evicted, reported and counted")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "forget a connection idle this long in packet time")
	fs.Var(&o.color, "color", "colour the table: auto (when standard output is a terminal and NO_COLOR is not set), always or never")
	fs.BoolVar(&o.summary, "summary", false, "print counts (by version, cipher suite, SNI, fingerprint, finding, outcome, client certificate) instead of one row per connection")
	addPolicyFlags(fs, &o.policy)
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage:
  tlsinspect -r FILE [-r FILE…] [flags] [FILTER]
  tlsinspect -i IFACE [flags] [FILTER]
  tlsinspect -D

Reports what the peers of every TLS connection offered and negotiated, from
capture files or live from an interface. FILTER is a tcpdump-style capture
filter (host, net, port, portrange, tcp, udp, ip, ip6, vlan, and/or/not).

Flags:
%s
Exit status: 0 all input read and every policy rule held; 1 a policy rule
was violated (or --fail-on-drift found drift); 2 usage error (flags, policy
file, baseline); 3 an input could not be read completely, or live capture
could not start.
`, fs.FlagUsages())
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
		return usageError(stderr, "%v", err)
	}
	if o.showVersion {
		fmt.Fprintf(stdout, "tlsinspect %s\n", version)
		return exitOK
	}
	if o.listIfaces {
		return listInterfaces(stdout, stderr)
	}
	// Trailing arguments are a capture filter, as with tcpdump.
	if fs.NArg() > 0 {
		if o.filter != "" {
			return usageError(stderr, "a capture filter is given both with -f and as arguments (%q)", strings.Join(fs.Args(), " "))
		}
		o.filter = strings.Join(fs.Args(), " ")
	}
	switch {
	case len(o.read) == 0 && o.iface == "":
		return usageError(stderr, "no input: give a capture file with -r FILE (or -r - for standard input), or an interface with -i IFACE")
	case len(o.read) > 0 && o.iface != "":
		return usageError(stderr, "-r and -i cannot be used together")
	case o.duration != 0 && o.iface == "":
		return usageError(stderr, "--duration is for live capture (-i)")
	case o.filter != "" && o.bpfFile != "":
		return usageError(stderr, "give a capture filter either as an expression or with --bpf-file, not both")
	case o.dropUser != "" && o.iface == "":
		return usageError(stderr, "-Z is for live capture (-i)")
	case o.dropUser != "" && os.Geteuid() != 0:
		return usageError(stderr, "-Z %s: not running as root, so there is no privilege to give up; run without -Z (see the README for capturing without root)", o.dropUser)
	}
	if o.maxMessage <= 0 || o.scanLimit <= 0 || o.maxBuffer <= 0 || o.maxFlows <= 0 || o.idleTimeout <= 0 || o.snaplen <= 0 || o.count < 0 || o.duration < 0 {
		return usageError(stderr, "--max-message, --scan-limit, --max-buffer, --max-flows, --idle-timeout and --snaplen must be positive; --count and --duration must not be negative")
	}
	flt, err := newFilter(o.filter, o.bpfFile)
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	if o.zeekJSON {
		if o.format != "zeek" {
			return usageError(stderr, "--zeek-json goes with --format zeek")
		}
		o.format = "zeek-json"
	}
	gate, err := newGate(o, stderr)
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	out, err := report.Open(o.format, stdout, report.Options{Color: o.color.Enabled(stdout), Summary: o.summary})
	if err != nil {
		return usageError(stderr, "--format: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writeErr error
	reported := 0
	emit := func(s *tlsconn.Summary) {
		if writeErr == nil {
			writeErr = out.Write(s)
		}
		gate.add(s)
		reported++
		if o.count > 0 && reported >= o.count {
			cancel()
		}
		if writeErr != nil {
			cancel() // e.g. a closed pipe: stop reading
		}
	}
	cfg := analyze.Config{MaxMessage: o.maxMessage, ScanLimit: o.scanLimit, MaxBuffer: o.maxBuffer, MaxFlows: o.maxFlows, IdleTimeout: o.idleTimeout, Messages: o.verbose > 0 && !o.summary}
	cfg.Panic = func(id uint64, v any, stack []byte) {
		fmt.Fprintf(stderr, "tlsinspect: connection %d: internal error (%v): reported with a warning, the rest of the connection skipped; this is a bug, please report it with the capture\n", id, v)
		if o.verbose > 1 {
			stderr.Write(stack)
		}
	}
	keys, err := loadKeys(o, stderr)
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	cfg.Keys = keys
	var hw *handshakeFile
	openW := func(cfg *analyze.Config) error {
		if o.writeFile == "" {
			return nil
		}
		name := o.iface
		if name == "" {
			name = strings.Join(o.read, ",")
		}
		h, err := createHandshakeFile(o.writeFile, name, o.snaplen)
		if err != nil {
			return err
		}
		hw, cfg.Handshakes = h, h.w
		return nil
	}
	// With -Z, as with tcpdump, the -w file is created once root is given
	// up, so that it belongs to that user.
	if o.dropUser == "" {
		if err := openW(&cfg); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			return exitInput
		}
	}

	var status int
	var statLine string
	if o.iface != "" {
		var afterDrop func(*analyze.Config) error
		if o.dropUser != "" {
			afterDrop = openW
		}
		status, statLine = runLive(ctx, cancel, o, flt, cfg, afterDrop, emit, stderr)
	} else {
		status, statLine = runFiles(ctx, o, flt, cfg, stdin, emit, stderr)
	}
	if err := out.Close(); err != nil && writeErr == nil {
		writeErr = err
	}
	if hw != nil {
		if err := hw.close(); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			status = exitInput
		} else if !o.quiet {
			statLine += fmt.Sprintf("; %d handshake packets written to %s", hw.w.Stats().Written, o.writeFile)
		}
	}
	if writeErr != nil {
		fmt.Fprintf(stderr, "tlsinspect: writing output: %v\n", writeErr)
		return exitInput
	}
	if !o.quiet && statLine != "" {
		fmt.Fprintln(stderr, "tlsinspect: "+statLine)
	}
	failed, err := gate.finish(stdout, stderr, o.quiet)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
		return exitInput
	case status != exitOK:
		// An input read only in part cannot vouch for the rules.
		return status
	case failed:
		return exitViolation
	}
	return status
}

func usageError(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "tlsinspect: "+format+"\nRun 'tlsinspect --help' for usage.\n", args...)
	return exitUsage
}

// runFiles reads every -r file in turn and returns the exit status and the
// statistics line.
func runFiles(ctx context.Context, o options, flt *filter, cfg analyze.Config, stdin io.Reader, emit func(*tlsconn.Summary), stderr io.Writer) (int, string) {
	var total analyze.Counts
	status := exitOK
	if flt != nil {
		if err := flt.prepareFiles(func(err error) { fmt.Fprintf(stderr, "tlsinspect: capture filter: %v\n", err) }); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			return exitUsage, ""
		}
		cfg.Match = flt.match
	}
	for _, name := range o.read {
		if o.verbose > 1 {
			cfg.DecodeError = func(err error) { fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", name, err) }
		}
		c, err := readFile(ctx, name, stdin, cfg, emit, stderr)
		total.Add(c)
		if err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", fileError(err))
			status = exitInput
		}
		if unsupportedLinkTypes(stderr, name, c) {
			status = exitInput
		}
		if ctx.Err() != nil {
			break // --count reached, or the output is gone
		}
	}
	line := total.String()
	if len(o.read) > 1 {
		line += fmt.Sprintf(" in %d files", len(o.read))
	}
	return status, line
}

// readFile runs one capture file through the pipeline.
func readFile(ctx context.Context, name string, stdin io.Reader, cfg analyze.Config, emit func(*tlsconn.Summary), stderr io.Writer) (analyze.Counts, error) {
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
	if log, ok := cfg.Keys.(*keylog.Log); ok {
		// Secrets embedded in a pcapng file (Decryption Secrets Block)
		// join the key log before the packets that need them.
		src.OnSecrets = func(typ uint32, data []byte) {
			what := name + " (embedded secrets)"
			if typ != capture.SecretsTLSKeyLog {
				fmt.Fprintf(stderr, "tlsinspect: %s: secrets of type %#x are not used (only TLS key logs are)\n", what, typ)
				return
			}
			st, err := log.Parse(bytes.NewReader(data), what)
			switch {
			case err != nil:
				fmt.Fprintf(stderr, "tlsinspect: %s: %v\n", what, err)
			case st.Malformed > 0 || st.Conflicts > 0:
				fmt.Fprintf(stderr, "tlsinspect: %s: %s\n", what, st)
			}
		}
	}
	return analyze.RunContext(ctx, src, cfg, emit)
}

// loadKeys reads the key logs of --keylog and $SSLKEYLOGFILE. The Log is
// returned even when empty: pcapng files may bring their own secrets.
func loadKeys(o options, stderr io.Writer) (*keylog.Log, error) {
	log := keylog.New()
	files := o.keylogs
	if env := os.Getenv(keylog.EnvVar); env != "" {
		files = append(files, env)
		if !o.quiet {
			fmt.Fprintf(stderr, "tlsinspect: using the key log in $%s (%s)\n", keylog.EnvVar, env)
		}
	}
	for _, f := range files {
		st, err := log.ParseFile(f)
		if err != nil {
			return nil, fmt.Errorf("--keylog: %w", err)
		}
		for _, w := range st.Warnings {
			fmt.Fprintf(stderr, "tlsinspect: warning: %s\n", w)
		}
		if !o.quiet {
			fmt.Fprintf(stderr, "tlsinspect: key log %s: %s\n", f, st)
		}
	}
	return log, nil
}
