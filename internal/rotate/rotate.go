// Package rotate writes a stream of records (packets, lines) to a file that
// is replaced by a new one when it grows past a size or when an interval
// has passed, as tcpdump's -C and -G do, and keeps at most a given number
// of files (-W).
//
// Files are named as tcpdump 4.99 names them:
//
//   - With an Interval, the name is expanded with strftime-like time fields
//     (%Y %m %d %H %M %S …, see Strftime) at the time the file is begun;
//     without one it is taken as it is.
//   - With MaxBytes, the files after the first of a period get a number:
//     FILE, FILE1, FILE2, …; with MaxFiles too, the number wraps around at
//     MaxFiles (a ring of files overwritten in turn) and is zero-padded to
//     the width of MaxFiles-1, the first file included: with MaxFiles 10,
//     FILE0 … FILE9; with 100, FILE00 … FILE99.
//
// The caller decides where a file may end: it asks Due before each record
// and calls Rotate when it says so, so that every file holds whole records
// and begins with whatever header the caller writes first.
package rotate

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says when to begin a new file and how to name it.
type Config struct {
	// Name is the file name; with Interval, a pattern with time fields.
	Name string
	// MaxBytes: a new file is begun before a record when the current one
	// holds more than this many bytes (0: never). As with tcpdump, a file
	// exceeds it by at most one record.
	MaxBytes int64
	// Interval: a new file is begun before the first record written once
	// this much time has passed since the current period began (0: never).
	Interval time.Duration
	// MaxFiles: at most this many files are kept (0: no limit). With
	// MaxBytes the numbers wrap around (tcpdump -C -W); otherwise the
	// oldest file is removed when one more is begun. tcpdump stops
	// capturing instead when -G reaches -W files.
	MaxFiles int
	// Now is the clock (time.Now when nil); the time fields of Name are
	// written in its location.
	Now func() time.Time
}

// File is the file being written and its successors. It is not safe for
// concurrent use.
type File struct {
	cfg    Config
	digits int
	f      *os.File
	bw     *bufio.Writer
	name   string
	size   int64     // bytes written to the current file, buffered ones included
	begun  time.Time // start of the current period (Interval)
	count  int       // number of the current file within its period
	files  []string  // files kept, oldest first
	total  int       // files begun
	err    error
}

// Create checks cfg and creates the first file.
func Create(cfg Config) (*File, error) {
	if cfg.Name == "" {
		return nil, errors.New("empty file name")
	}
	if cfg.MaxBytes < 0 || cfg.Interval < 0 || cfg.MaxFiles < 0 {
		return nil, errors.New("negative size, interval or file count")
	}
	if cfg.Interval > 0 {
		if _, err := Strftime(cfg.Name, time.Time{}); err != nil {
			return nil, err
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &File{cfg: cfg}
	if cfg.MaxBytes > 0 {
		// tcpdump's getWflagChars: the digits of MaxFiles-1.
		for x := cfg.MaxFiles - 1; x > 0; x /= 10 {
			f.digits++
		}
	}
	f.begun = cfg.Now()
	if err := f.open(f.fileName()); err != nil {
		return nil, err
	}
	return f, nil
}

// fileName is the name of the current file (tcpdump's MakeFilename).
func (f *File) fileName() string {
	base := f.cfg.Name
	if f.cfg.Interval > 0 {
		base, _ = Strftime(base, f.begun) // checked by Create
	}
	if f.count == 0 && f.digits == 0 {
		return base
	}
	return fmt.Sprintf("%s%0*d", base, f.digits, f.count)
}

func (f *File) open(name string) error {
	file, err := os.Create(name)
	if err != nil {
		return err
	}
	f.f, f.name, f.size = file, name, 0
	if f.bw == nil {
		f.bw = bufio.NewWriterSize(file, 64<<10)
	} else {
		f.bw.Reset(file)
	}
	f.total++
	// A name begun again (a ring, or a pattern whose time fields repeat)
	// is overwritten: it moves to the end of the list.
	if i := slices.Index(f.files, name); i >= 0 {
		f.files = slices.Delete(f.files, i, i+1)
	}
	f.files = append(f.files, name)
	for f.cfg.MaxFiles > 0 && len(f.files) > f.cfg.MaxFiles {
		if err := os.Remove(f.files[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the oldest file: %w", err)
		}
		f.files = f.files[1:]
	}
	return nil
}

// Due reports whether a new file should be begun before the next record.
func (f *File) Due() bool {
	if f.cfg.MaxBytes > 0 && f.size > f.cfg.MaxBytes {
		return true
	}
	return f.cfg.Interval > 0 && f.cfg.Now().Sub(f.begun) >= f.cfg.Interval
}

// Rotate closes the current file and begins the next: a new period when
// Interval has passed (named after the time now), else the next number.
// A file that received nothing is removed rather than left empty.
func (f *File) Rotate() error {
	if f.err != nil {
		return f.err
	}
	now := f.cfg.Now()
	if f.cfg.Interval > 0 && now.Sub(f.begun) >= f.cfg.Interval {
		f.begun, f.count = now, 0
	} else {
		f.count++
		if f.cfg.MaxFiles > 0 && f.count >= f.cfg.MaxFiles {
			f.count = 0
		}
	}
	empty := f.size == 0
	if err := f.closeFile(); err != nil {
		f.err = err
		return err
	}
	if empty {
		if err := os.Remove(f.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.err = err
			return err
		}
		f.files = slices.DeleteFunc(f.files, func(n string) bool { return n == f.name })
	}
	if err := f.open(f.fileName()); err != nil {
		f.err = err
		return err
	}
	return nil
}

// Write adds p to the current file (buffered: see Flush).
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.bw.Write(p)
	f.size += int64(n)
	if err != nil {
		f.err = err
	}
	return n, err
}

// Flush writes the buffered bytes to the file.
func (f *File) Flush() error {
	if f.err != nil {
		return f.err
	}
	if err := f.bw.Flush(); err != nil {
		f.err = err
	}
	return f.err
}

func (f *File) closeFile() error {
	err := f.bw.Flush()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close flushes and closes the current file. The last file is kept even
// when it received nothing.
func (f *File) Close() error {
	if f.f == nil {
		return nil
	}
	err := f.closeFile()
	f.f = nil
	if f.err != nil {
		return f.err // the first failure
	}
	f.err = err
	if err == nil {
		f.err = os.ErrClosed // for any later Write
	}
	return err
}

// Discard closes the current file and removes it, for a file created by a
// run that fails before it writes anything (another output could not be
// created).
func (f *File) Discard() error {
	if f.f == nil {
		return nil
	}
	f.f.Close()
	f.f, f.err = nil, os.ErrClosed
	return os.Remove(f.name)
}

// Name returns the name of the current file.
func (f *File) Name() string { return f.name }

// Files returns the names of the files kept, oldest first.
func (f *File) Files() []string { return slices.Clone(f.files) }

// Begun returns the number of files begun, those removed or overwritten
// since included.
func (f *File) Begun() int { return f.total }

// Strftime expands the time fields of pattern with t, as strftime(3) does
// for these conversions: %Y (year), %y (year in the century), %m (month),
// %d (day), %j (day of the year), %H (hour), %M (minute), %S (second),
// %s (seconds since 1970), %F (%Y-%m-%d), %T (%H:%M:%S) and %% (a %).
// Any other conversion is an error, rather than a name left with a %.
func Strftime(pattern string, t time.Time) (string, error) {
	if !strings.Contains(pattern, "%") {
		return pattern, nil
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(pattern) {
			return "", fmt.Errorf("%q ends with a lone %%", pattern)
		}
		i++
		switch pattern[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'F':
			fmt.Fprintf(&b, "%04d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
		case 'T':
			fmt.Fprintf(&b, "%02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("%q: time field %%%c is not supported (use %%Y %%y %%m %%d %%j %%H %%M %%S %%s %%F %%T or %%%%)", pattern, pattern[i])
		}
	}
	return b.String(), nil
}

// Granularity is the shortest time within which the names Strftime makes
// of pattern can differ: a second for %S, a minute for %M, … ; 0 when
// pattern has no time field (every name is the same).
func Granularity(pattern string) time.Duration {
	const day = 24 * time.Hour
	g := time.Duration(0)
	finer := func(d time.Duration) {
		if g == 0 || d < g {
			g = d
		}
	}
	for i := 0; i+1 < len(pattern); i++ {
		if pattern[i] != '%' {
			continue
		}
		i++
		switch pattern[i] {
		case 'S', 's', 'T':
			finer(time.Second)
		case 'M':
			finer(time.Minute)
		case 'H':
			finer(time.Hour)
		case 'd', 'j', 'F':
			finer(day)
		case 'm':
			finer(28 * day)
		case 'Y', 'y':
			finer(365 * day)
		}
	}
	return g
}
