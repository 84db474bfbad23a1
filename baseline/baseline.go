package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Format is the version of the file format Write produces and Read accepts.
const Format = 1

// MaxFileSize is the largest file Read accepts, so that a corrupt or
// hostile file cannot exhaust memory; real baselines are kilobytes.
const MaxFileSize = 256 << 20

// Baseline is what one capture negotiated, per server. Its JSON form is the
// file format (see the package documentation).
type Baseline struct {
	Format int `json:"format"`
	// First and Last are the earliest and latest Summary.TS seen (UTC),
	// zero (and absent) when no summary carried a time.
	First time.Time `json:"first_ts,omitzero"`
	Last  time.Time `json:"last_ts,omitzero"`
	// Handshakes counts every summary added; DroppedHandshakes those of
	// servers beyond the Builder's server cap.
	Handshakes        int      `json:"handshakes"`
	DroppedHandshakes int      `json:"dropped_handshakes"`
	Servers           []Server `json:"servers"` // sorted by Name, then SNI
}

// Server is the record of one server.
type Server struct {
	Name string `json:"server"` // the SNI, or the address:port when SNI is false
	SNI  bool   `json:"sni"`

	Addresses Set `json:"addresses"` // information only, never compared

	Handshakes  int `json:"handshakes"`
	Established int `json:"established"`
	Failed      int `json:"failed"` // Handshakes - Established
	Resumed     int `json:"resumed"`

	// From established handshakes only.
	Versions            Set        `json:"versions"`
	LowestVersion       *CodePoint `json:"lowest_version"`
	HighestVersion      *CodePoint `json:"highest_version"`
	CipherSuites        Set        `json:"cipher_suites"`
	WeakestSuite        *CodePoint `json:"weakest_suite"`
	Groups              Set        `json:"groups"`
	ALPN                Set        `json:"alpn"` // "" = none chosen
	ClientCertRequested Tally      `json:"client_cert_requested"`
	ClientCertSent      Tally      `json:"client_cert_sent"`

	// From every handshake.
	LeafSHA256  Set `json:"leaf_sha256"`
	LeafIssuers Set `json:"leaf_issuers"`
	JA4         Set `json:"ja4"`
	JA3         Set `json:"ja3"`
}

// CodePoint is a version or cipher suite with its number: the number ranks
// it, the name is for people.
type CodePoint struct {
	Name string `json:"name"`
	ID   int    `json:"id"`
}

// Set is a sorted set of distinct values; Dropped counts the values not
// recorded because the set was full (per handshake, so one value dropped
// twice counts twice).
type Set struct {
	Values  []string `json:"values"`
	Dropped int      `json:"dropped,omitempty"`
}

// Tally counts handshakes by a yes/no/unknown fact.
type Tally struct {
	Yes     int `json:"yes"`
	No      int `json:"no"`
	Unknown int `json:"unknown"`
}

// Write writes bl as indented JSON with a trailing newline. The same
// Baseline always gives the same bytes.
func (bl *Baseline) Write(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Issuers and SNIs are easier to read and diff unescaped; HTML safety
	// is irrelevant for a file.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bl); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Read reads a baseline written by Write. It is strict, because a baseline
// silently misread would hide drift: a file over MaxFileSize, invalid JSON,
// unknown fields, a missing or unsupported "format", trailing data,
// negative counts and duplicate servers are errors that name the file.
// Sets are sorted and de-duplicated, so a hand-edited file need not be.
func Read(r io.Reader, name string) (*Baseline, error) {
	return readLimit(r, name, MaxFileSize)
}

func readLimit(r io.Reader, name string, limit int64) (*Baseline, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: baseline larger than %d bytes", name, limit)
	}
	// Check the format first, leniently, so that a newer file is reported
	// as such rather than as an unknown field.
	var head struct {
		Format *int `json:"format"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		return nil, fmt.Errorf("%s: not a baseline: %w", name, err)
	}
	if head.Format == nil {
		return nil, fmt.Errorf("%s: not a baseline: no \"format\"", name)
	}
	if *head.Format != Format {
		return nil, fmt.Errorf("%s: baseline format %d is not supported (want %d)", name, *head.Format, Format)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	bl := new(Baseline)
	if err := dec.Decode(bl); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: data after the baseline", name)
	}
	if err := bl.normalize(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return bl, nil
}

// normalize checks what JSON types cannot and puts bl in the canonical form
// Builder produces, so that Read then Write gives Builder's bytes.
func (bl *Baseline) normalize() error {
	if bl.Handshakes < 0 || bl.DroppedHandshakes < 0 {
		return errors.New("negative handshake count")
	}
	bl.First, bl.Last = bl.First.UTC(), bl.Last.UTC()
	if bl.Servers == nil {
		bl.Servers = []Server{}
	}
	for i := range bl.Servers {
		s := &bl.Servers[i]
		for _, n := range []int{s.Handshakes, s.Established, s.Failed, s.Resumed,
			s.ClientCertRequested.Yes, s.ClientCertRequested.No, s.ClientCertRequested.Unknown,
			s.ClientCertSent.Yes, s.ClientCertSent.No, s.ClientCertSent.Unknown} {
			if n < 0 {
				return fmt.Errorf("server %q: negative count", s.Name)
			}
		}
		for _, set := range s.sets() {
			if set.Dropped < 0 {
				return fmt.Errorf("server %q: negative dropped count", s.Name)
			}
			set.Values = sortedUnique(set.Values)
		}
	}
	slices.SortFunc(bl.Servers, compareServers)
	for i := 1; i < len(bl.Servers); i++ {
		if compareServers(bl.Servers[i-1], bl.Servers[i]) == 0 {
			return fmt.Errorf("server %q (sni %t) appears twice", bl.Servers[i].Name, bl.Servers[i].SNI)
		}
	}
	return nil
}

func (s *Server) sets() []*Set {
	return []*Set{&s.Addresses, &s.Versions, &s.CipherSuites, &s.Groups, &s.ALPN,
		&s.LeafSHA256, &s.LeafIssuers, &s.JA4, &s.JA3}
}

func compareServers(a, b Server) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	switch {
	case a.SNI == b.SNI:
		return 0
	case !a.SNI:
		return -1
	}
	return 1
}

// sortedUnique returns vs sorted without duplicates, never nil (so that an
// empty set is written as [] whatever its origin).
func sortedUnique(vs []string) []string {
	out := append([]string{}, vs...)
	slices.Sort(out)
	return slices.Compact(out)
}
