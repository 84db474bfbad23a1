package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/rotate"
	"github.com/tlsinspect/tlsinspect/pcapout"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// rotation is how a written file (-w, -o) is split into several: tcpdump's
// -C, -G and -W.
type rotation struct {
	size     sizeFlag    // begin a new file when the current one is larger (bytes)
	interval secondsFlag // begin a new file when this much time has passed
	count    int         // keep at most this many files
}

func (r rotation) set() bool { return r.size > 0 || r.interval > 0 || r.count != 0 }

func (r rotation) config(name string, now func() time.Time) rotate.Config {
	return rotate.Config{Name: name, MaxBytes: int64(r.size), Interval: time.Duration(r.interval), MaxFiles: r.count, Now: now}
}

// check validates the flags of one output; what names the flags in
// messages, file is the output's file name ("" when not given).
func (r rotation) check(file, fileFlag, sizeFlag, timeFlag, countFlag string) error {
	switch {
	case r.set() && file == "":
		return fmt.Errorf("%s, %s and %s go with %s FILE", sizeFlag, timeFlag, countFlag, fileFlag)
	case r.count < 0:
		return fmt.Errorf("%s must be positive", countFlag)
	case r.count > 0 && r.size == 0 && r.interval == 0:
		return fmt.Errorf("%s (the number of files kept) goes with %s or %s", countFlag, sizeFlag, timeFlag)
	}
	if r.interval > 0 {
		if _, err := rotate.Strftime(file, time.Now()); err != nil {
			return fmt.Errorf("%s: %v", fileFlag, err)
		}
	}
	return nil
}

// warning says when the names made for time rotation repeat, so that a
// file would overwrite an earlier one (tcpdump does so silently).
func (r rotation) warning(file, fileFlag, timeFlag string) string {
	if r.interval == 0 {
		return ""
	}
	g := rotate.Granularity(file)
	switch {
	case g == 0:
		return fmt.Sprintf("warning: %s %s has no time field (such as %%Y%%m%%d-%%H%%M%%S), so each file begun by %s overwrites the previous one", fileFlag, file, timeFlag)
	case time.Duration(r.interval) < g:
		return fmt.Sprintf("warning: %s %s: its time fields change only every %v, more slowly than %s %v, so some files will overwrite earlier ones", fileFlag, file, g, timeFlag, time.Duration(r.interval))
	}
	return ""
}

// sizeFlag is a file size given as tcpdump -C takes it: millions of bytes,
// or with a suffix k, m or g (KiB, MiB, GiB) as newer tcpdump versions
// accept.
type sizeFlag int64

func (s *sizeFlag) String() string {
	if *s == 0 {
		return "0"
	}
	return strconv.FormatInt(int64(*s), 10) + " bytes"
}

func (s *sizeFlag) Type() string { return "size" }

func (s *sizeFlag) Set(v string) error {
	unit := int64(1_000_000)
	num := v
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k', 'K':
			unit, num = 1<<10, v[:n-1]
		case 'm', 'M':
			unit, num = 1<<20, v[:n-1]
		case 'g', 'G':
			unit, num = 1<<30, v[:n-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/unit {
		return fmt.Errorf("want a positive number of millions of bytes, or of KiB, MiB, GiB with a suffix k, m, g (as tcpdump -C): %q", v)
	}
	*s = sizeFlag(n * unit)
	return nil
}

// secondsFlag is an interval in seconds (as tcpdump -G), or a Go duration
// (90s, 15m, 1h).
type secondsFlag time.Duration

func (d *secondsFlag) String() string {
	if *d == 0 {
		return "0"
	}
	return time.Duration(*d).String()
}

func (d *secondsFlag) Type() string { return "seconds" }

func (d *secondsFlag) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 || n > int64(1<<62/time.Second) {
			return fmt.Errorf("want a positive number of seconds: %q", v)
		}
		*d = secondsFlag(time.Duration(n) * time.Second)
		return nil
	}
	t, err := time.ParseDuration(v)
	if err != nil || t < time.Second {
		return fmt.Errorf("want seconds (3600) or a duration of at least 1s (1h, 15m): %q", v)
	}
	*d = secondsFlag(t)
	return nil
}

// handshakeFile is the -w output: one pcapng file, or several (-C, -G).
type handshakeFile struct {
	files *rotate.File
	w     *pcapout.Writer
}

func createHandshakeFile(path, name string, snaplen int, rot rotation, now func() time.Time) (*handshakeFile, error) {
	f, err := rotate.Create(rot.config(path, now))
	if err != nil {
		return nil, fmt.Errorf("-w: %w", err)
	}
	return &handshakeFile{files: f, w: pcapout.NewRotating(f, name, snaplen)}, nil
}

func (h *handshakeFile) close() error {
	err := h.w.Flush()
	if cerr := h.files.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-w %s: %w", h.files.Name(), err)
	}
	return nil
}

// describeFiles names what was written, for the statistics line: the file,
// or "4 files (hs0 … hs3)", "9 files, the last 4 kept (…)".
func describeFiles(f *rotate.File) string {
	kept := f.Files()
	if f.Begun() == 1 && len(kept) == 1 {
		return kept[0]
	}
	names := strings.Join(kept, ", ")
	if len(kept) > 3 {
		names = kept[0] + " … " + kept[len(kept)-1]
	}
	if f.Begun() == len(kept) {
		return fmt.Sprintf("%d files (%s)", len(kept), names)
	}
	return fmt.Sprintf("%d files, the last %d kept (%s)", f.Begun(), len(kept), names)
}

// outputFile is the -o output: the report written to a file, or to a
// succession of files (--output-rotate-*). A new file is begun only
// between two summaries, with a report writer of its own, so that every
// file is complete: whole lines, with the header of its format (CSV,
// Zeek) and its closing lines. Each summary is flushed to the file as it
// is written, for whatever follows the file (tail, Vector, Fluent Bit).
type outputFile struct {
	files *rotate.File
	open  func(io.Writer) (report.Writer, error)
	w     report.Writer
	n     int // summaries in the current file
}

func createOutputFile(path string, rot rotation, now func() time.Time, open func(io.Writer) (report.Writer, error)) (*outputFile, error) {
	f, err := rotate.Create(rot.config(path, now))
	if err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	w, err := open(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &outputFile{files: f, open: open, w: w}, nil
}

func (o *outputFile) Write(s *tlsconn.Summary) error {
	if o.files.Due() {
		var err error
		if o.n > 0 {
			// An empty file's writer is dropped unclosed: it has written
			// nothing (CSV would write its header, Markdown "No TLS
			// connections"), so that rotate removes the file.
			err = o.w.Close()
		}
		if err == nil {
			err = o.files.Rotate()
		}
		if err == nil {
			o.w, err = o.open(o.files)
			o.n = 0
		}
		if err != nil {
			return fmt.Errorf("%s: beginning a new file: %w", o.files.Name(), err)
		}
	}
	if err := o.w.Write(s); err != nil {
		return fmt.Errorf("%s: %w", o.files.Name(), err)
	}
	o.n++
	if err := o.files.Flush(); err != nil {
		return fmt.Errorf("%s: %w", o.files.Name(), err)
	}
	return nil
}

func (o *outputFile) Close() error {
	err := o.w.Close()
	if cerr := o.files.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", o.files.Name(), err)
	}
	return nil
}
