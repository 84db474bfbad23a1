// Certificates with negative serial numbers exist in the wild; crypto/x509
// rejects them since Go 1.23 unless this setting restores the old behaviour.
//go:debug x509negativeserial=1

// Command tlsinspect reports, for every TLS connection in a capture, what
// the two peers offered and negotiated.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlsinspect/tlsinspect/analyze"
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
	writeRot     rotation // -C, -G, -W
	output       string
	outputRot    rotation
	jobs         int
	workers      int
	noProgress   bool
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
	fs.VarP(&o.writeRot.size, "write-rotate-size", "C", "with -w: begin a new file (FILE1, FILE2, …) when the current one exceeds `SIZE` millions of bytes (k, m, g suffix: KiB, MiB, GiB), as tcpdump -C")
	fs.VarP(&o.writeRot.interval, "write-rotate-time", "G", "with -w: begin a new file every `SECONDS` (or a duration: 1h), named by FILE's time fields (%Y %m %d %H %M %S), as tcpdump -G")
	fs.IntVarP(&o.writeRot.count, "write-rotate-count", "W", 0, "with -C or -G: keep at most `N` files (with -C a ring FILE0…FILE{N-1}, as tcpdump -W; with -G the oldest is removed)")
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.Var(&o.outputRot.size, "output-rotate-size", "with -o: begin a new file when the current one exceeds `SIZE` (as -C)")
	fs.Var(&o.outputRot.interval, "output-rotate-time", "with -o: begin a new file every `SECONDS` (as -G)")
	fs.IntVar(&o.outputRot.count, "output-rotate-count", 0, "with --output-rotate-size or -time: keep at most `N` files (as -W)")
	fs.StringVarP(&o.format, "format", "T", "table", "output `format`: "+strings.Join(report.Formats, ", ")+" (README \"Output formats\")")
	fs.BoolVar(&o.zeekJSON, "zeek-json", false, "with --format zeek: Zeek's JSON log format instead of TSV")
	fs.StringVar(&o.saveBaseline, "save-baseline", "", "record per server what was negotiated to `FILE` (JSON), for --baseline later")
	fs.StringVar(&o.baseline, "baseline", "", "compare what was negotiated with the baseline in `FILE` and report drift on standard error")
	fs.StringVar(&o.failOnDrift, "fail-on-drift", "", "with --baseline: exit 1 on `drift`: downgrade (weaker version, suite, client auth, new issuer, failing handshakes) or any")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary line (nor the progress of reading files) on standard error")
	fs.CountVarP(&o.verbose, "verbose", "v", "list every handshake message with its decoded fields under each connection (JSON: a \"messages\" array); -vv also reports each undecodable packet on standard error")
	fs.IntVar(&o.maxMessage, "max-message", dissect.DefaultMaxMessage, "largest handshake message reassembled, in `bytes`; larger ones are reported and skipped")
	fs.IntVar(&o.scanLimit, "scan-limit", tlsconn.DefaultScanLimit, "`bytes` of each direction searched for the start of TLS (after STARTTLS and other preambles)")
	fs.IntVar(&o.maxBuffer, "max-buffer", 256<<10, "out-of-order TCP `bytes` held per direction while waiting for a lost segment")
	fs.IntVar(&o.maxFlows, "max-flows", tcpstream.DefaultMaxConnections, "track at most `N` TCP connections at once; beyond it the least recently active is evicted, reported and counted")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "forget a connection idle this long in packet time")
	fs.IntVarP(&o.jobs, "jobs", "j", 0, "read up to `N` -r files at once (default 0: as many as CPUs); the output is the same as reading them one by one")
	fs.IntVar(&o.workers, "workers", 0, "follow connections in `N` goroutines, spread by a hash of their addresses and ports (default 0: as many as CPUs, shared among --jobs files); the output is the same whatever N (--max-flows is shared out among them, so what it evicts may differ)")
	fs.BoolVar(&o.noProgress, "no-progress", false, "do not show the progress of reading files on standard error (shown only when it is a terminal)")
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
	return runEnv(defaultEnvironment, args, stdin, stdout, stderr)
}

func runEnv(env environment, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	case o.jobs < 0:
		return usageError(stderr, "--jobs must not be negative (0: as many as CPUs)")
	case o.workers < 0:
		return usageError(stderr, "--workers must not be negative (0: as many as CPUs)")
	case fs.Changed("jobs") && o.iface != "":
		return usageError(stderr, "--jobs is for -r files")
	case o.outputRot.set() && o.summary:
		return usageError(stderr, "--summary writes its counts once, at the end: the --output-rotate flags do not apply")
	case o.outputRot.set() && o.format == "markdown":
		return usageError(stderr, "--format markdown writes its table once, at the end: the --output-rotate flags do not apply")
	}
	if err := o.writeRot.check(o.writeFile, "-w", "-C", "-G", "-W"); err != nil {
		return usageError(stderr, "%v", err)
	}
	if err := o.outputRot.check(o.output, "--output", "--output-rotate-size", "--output-rotate-time", "--output-rotate-count"); err != nil {
		return usageError(stderr, "%v", err)
	}
	for _, w := range []string{o.writeRot.warning(o.writeFile, "-w", "-G"), o.outputRot.warning(o.output, "--output", "--output-rotate-time")} {
		if w != "" {
			fmt.Fprintln(stderr, "tlsinspect: "+w)
		}
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
	ropts := report.Options{Color: o.color.Enabled(stdout), Summary: o.summary}
	if o.output != "" {
		ropts.Color = o.color == "always"
	}
	if _, err := report.Open(o.format, io.Discard, ropts); err != nil {
		return usageError(stderr, "--format: %v", err)
	}
	openReport := func(w io.Writer) (report.Writer, error) { return report.Open(o.format, w, ropts) }

	// The progress of reading files, on a terminal: what else goes to
	// the terminal takes the line away first.
	var prog *progress
	if progressWanted(o, env.isTerminal(stderr), env.getenv) {
		prog = newProgress(stderr, inputSize(o.read, stdin), env)
		if o.output == "" && env.isTerminal(stdout) {
			stdout = prog.wrap(stdout)
		}
		stderr = prog.wrap(stderr)
	}
	var plan filePlan
	if len(o.read) > 0 {
		plan = planFiles(o)
	}
	// Not on a terminal, with a core to spare, the report is made on a
	// goroutine of its own (below); both it and the batches of lines
	// then wait at most half the time, so that lines leave as soon.
	background := plan.spare && (o.output != "" || !env.isTerminal(stdout)) // plan.spare: reading files
	var out report.Writer
	var batched *batchWriter // standard output when reading files into a pipe or file
	if o.output == "" {
		reportTo := stdout
		if len(o.read) > 0 && !env.isTerminal(stdout) {
			delay := batchDelay
			if background {
				delay = batchDelay - backgroundDelay
			}
			batched = newBatchWriter(stdout, delay)
			reportTo = batched
		}
		out, _ = openReport(reportTo) // checked above
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writeErr error
	reported := 0
	emit := func(s *tlsconn.Summary) {
		if o.count > 0 && reported >= o.count {
			// Connections in progress when the count was reached (and,
			// with several workers, those found in packets already read
			// beyond it) are not reported: -c N gives N.
			return
		}
		if writeErr == nil {
			writeErr = out.Write(s)
		}
		gate.add(s)
		if prog != nil {
			prog.added(s.Handshake)
		}
		reported++
		if o.count > 0 && reported >= o.count {
			cancel()
		}
		if writeErr != nil {
			cancel() // e.g. a closed pipe: stop reading
		}
	}
	cfg := analyze.Config{MaxMessage: o.maxMessage, ScanLimit: o.scanLimit, MaxBuffer: o.maxBuffer, MaxFlows: o.maxFlows, IdleTimeout: o.idleTimeout, Messages: o.verbose > 0 && !o.summary}
	keys, err := loadKeys(o, stderr)
	if err != nil {
		return usageError(stderr, "%v", err)
	}
	cfg.Keys = keys
	var hw *handshakeFile
	var of *outputFile
	// openW creates the -o and -w files; when one cannot be created, the
	// other is removed: the run writes nothing.
	openW := func(cfg *analyze.Config) error {
		if o.output != "" {
			f, err := createOutputFile(o.output, o.outputRot, env.now, openReport)
			if err != nil {
				return err
			}
			of, out = f, f
		}
		if o.writeFile == "" {
			return nil
		}
		name := o.iface
		if name == "" {
			name = strings.Join(o.read, ",")
		}
		h, err := createHandshakeFile(o.writeFile, name, o.snaplen, o.writeRot, env.now)
		if err != nil {
			if of != nil {
				of.files.Discard()
			}
			return err
		}
		hw, cfg.Handshakes = h, h.w
		return nil
	}
	// With -Z, as with tcpdump, the -w and -o files are created once root
	// is given up, so that they belong to that user.
	if o.dropUser == "" {
		if err := openW(&cfg); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			return exitInput
		}
	}

	if background {
		// Formatting runs beside the analysis (README "Live capture"). A
		// failed write stops the reading at once all the same. (With no
		// core to spare, as with --workers 2 on 2 CPUs, it would cost 2%.)
		out = report.NewBackground(out, backgroundDelay, func(error) { cancel() })
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
		if prog != nil {
			prog.Start()
			defer prog.Stop()
		}
		status, statLine = runFiles(ctx, o, plan, flt, cfg, keys, stdin, prog, emit, stderr)
		if prog != nil {
			prog.Stop() // before the statistics line
		}
	}
	if out != nil {
		if err := out.Close(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if batched != nil {
		if err := batched.Flush(); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	if hw != nil {
		if err := hw.close(); err != nil {
			fmt.Fprintf(stderr, "tlsinspect: %v\n", err)
			status = exitInput
		} else if !o.quiet {
			statLine += fmt.Sprintf("; %d handshake packets written to %s", hw.w.Stats().Written, describeFiles(hw.files))
		}
	}
	if of != nil && !o.quiet && of.files.Begun() > 1 {
		statLine += "; report written to " + describeFiles(of.files)
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
