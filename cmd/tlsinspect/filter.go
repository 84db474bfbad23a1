package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/tlsinspect/tlsinspect/capfilter"
	"github.com/tlsinspect/tlsinspect/capture"
)

// filter is the capture filter of -f / trailing arguments / --bpf-file:
// compiled into the kernel for live capture, run in user space on files.
type filter struct {
	expr    *capfilter.Expr
	program []bpf.RawInstruction // from --bpf-file
	matcher *capfilter.Matcher
	warned  map[layers.LinkType]bool
	warn    func(layers.LinkType, error)
}

// newFilter returns nil when no filter was given.
func newFilter(expr, bpfFile string) (*filter, error) {
	switch {
	case bpfFile != "":
		f, err := os.Open(bpfFile)
		if err != nil {
			return nil, fmt.Errorf("--bpf-file: %w", err)
		}
		defer f.Close()
		prog, err := capfilter.ParseDDD(f)
		if err != nil {
			return nil, fmt.Errorf("--bpf-file %s: %w", bpfFile, err)
		}
		return &filter{program: prog}, nil
	case expr != "":
		e, err := capfilter.Parse(expr)
		if err != nil {
			return nil, err
		}
		if e.Empty() {
			return nil, nil
		}
		return &filter{expr: e}, nil
	}
	return nil, nil
}

// compile is the capture.LiveConfig.Filter callback.
func (f *filter) compile(lt layers.LinkType, cooked bool) ([]bpf.RawInstruction, error) {
	if f.program != nil {
		// A compiled program is taken as is: it must be for this link type.
		return f.program, nil
	}
	return f.expr.Assemble(capfilter.Target{LinkType: lt, Live: true, Cooked: cooked})
}

// isCompileError tells a filter that cannot be compiled for the interface
// (a usage error) from a capture failure.
func (f *filter) isCompileError(err error) bool {
	var syn *capfilter.SyntaxError
	var uns *capfilter.UnsupportedError
	return errors.As(err, &syn) || errors.As(err, &uns)
}

// prepareFiles makes the user-space matcher for -r files; warn is told,
// once per link type, when the filter cannot apply to a link type (its
// packets are then all filtered out).
func (f *filter) prepareFiles(warn func(layers.LinkType, error)) error {
	f.warn, f.warned = warn, map[layers.LinkType]bool{}
	if f.program != nil {
		m, err := capfilter.NewProgramMatcher(f.program)
		if err != nil {
			return fmt.Errorf("--bpf-file: %w", err)
		}
		f.matcher = m
		return nil
	}
	f.matcher = capfilter.NewMatcher(f.expr)
	return nil
}

// forFile returns a copy of f, prepared by prepareFiles, with a matcher of
// its own for one file read while others are (a Matcher is not safe for
// concurrent use), and its own warn.
func (f *filter) forFile(warn func(layers.LinkType, error)) *filter {
	c := &filter{expr: f.expr, program: f.program}
	c.prepareFiles(warn) // cannot fail: f's did not
	return c
}

// match is analyze.Config.Match for files.
func (f *filter) match(p capture.Packet) bool {
	if !f.warned[p.LinkType] {
		f.warned[p.LinkType] = true
		if err := f.matcher.Prepare(p.LinkType); err != nil && f.warn != nil {
			f.warn(p.LinkType, err)
		}
	}
	return f.matcher.Match(p.LinkType, p.Data)
}
