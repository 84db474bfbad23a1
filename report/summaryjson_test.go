package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/analyze"
	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"github.com/tlsinspect/tlsinspect/keylog"
	"github.com/tlsinspect/tlsinspect/msgview"
	"github.com/tlsinspect/tlsinspect/report"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// The JSON writer has its own encoder for Summary (summaryjson.go); these
// tests hold it to encoding/json's output, byte for byte.

// encodingJSON is what the JSON writer wrote before it had its own
// encoder: encoding/json, HTML escaping off, one value per line.
func encodingJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// checkSummaryJSON fails t unless the fast encoder writes s exactly as
// encoding/json does.
func checkSummaryJSON(t *testing.T, s *tlsconn.Summary) {
	t.Helper()
	want, err := encodingJSON(s)
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	got, err := report.AppendSummaryJSON(nil, s)
	if err != nil {
		t.Fatalf("AppendSummaryJSON: %v (encoding/json wrote %s)", err, want)
	}
	if got = append(got, '\n'); !bytes.Equal(got, want) {
		t.Fatalf("AppendSummaryJSON differs from encoding/json %s", firstDifference(got, want))
	}
}

// firstDifference describes where got and want part.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-60)
	return "at byte " + strconv.Itoa(i) + ":\n got: …" + string(got[from:min(len(got), i+60)]) +
		"\nwant: …" + string(want[from:min(len(want), i+60)])
}

// summariesOf runs a capture through the pipeline as `tlsinspect -r path
// --keylog KEYS` would, KEYS being the key log beside it (x.keys for
// x.pcap) when there is one, and secrets embedded in a pcapng file too;
// with messages, as -v would, it fills the per-message view. A capture
// the pipeline gives up on (some of the shared corpus is damaged on
// purpose) keeps the summaries it got.
func summariesOf(tb testing.TB, path string, messages bool) []*tlsconn.Summary {
	tb.Helper()
	keys := keylog.New()
	base := strings.TrimSuffix(path, ".gz")
	if _, err := keys.ParseFile(strings.TrimSuffix(base, filepath.Ext(base)) + ".keys"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	src.OnSecrets = func(typ uint32, data []byte) {
		if typ == capture.SecretsTLSKeyLog {
			if _, err := keys.Parse(bytes.NewReader(data), path); err != nil {
				tb.Logf("%s: embedded secrets: %v", path, err)
			}
		}
	}
	cfg := analyze.Config{MaxMessage: 1 << 20, ScanLimit: 16 << 10, MaxBuffer: 256 << 10, IdleTimeout: 2 * time.Minute, Messages: messages, Keys: keys}
	var out []*tlsconn.Summary
	if _, err := analyze.Run(src, cfg, func(s *tlsconn.Summary) { out = append(out, s) }); err != nil {
		tb.Logf("%s: %v", path, err)
	}
	return out
}

// checkCaptures compares, for every summary of every capture, the fast
// encoder with encoding/json, and the JSON writer's whole output with
// encoding/json's. It returns the summaries.
func checkCaptures(t *testing.T, files []string) []*tlsconn.Summary {
	var all []*tlsconn.Summary
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sums := summariesOf(t, path, true)
			var want []byte
			for _, s := range sums {
				checkSummaryJSON(t, s)
				line, _ := encodingJSON(s)
				want = append(want, line...)
			}
			if got := render(t, "json", sums); got != string(want) {
				t.Fatalf("JSON writer differs from encoding/json %s", firstDifference([]byte(got), want))
			}
			all = append(all, sums...)
		})
	}
	if len(all) == 0 {
		t.Fatal("the captures gave no summaries")
	}
	t.Logf("%d summaries from %d captures", len(all), len(files))
	return all
}

func TestSummaryJSONProjectCaptures(t *testing.T) {
	sums := checkCaptures(t, testcorpus.Files(t, pcapDir))
	// Every summary twice through one writer: its certificates' JSON is
	// then mostly taken from what it kept (certJSON), across captures.
	var want []byte
	for range 2 {
		for _, s := range sums {
			line, _ := encodingJSON(s)
			want = append(want, line...)
		}
	}
	if got := render(t, "json", append(sums[:len(sums):len(sums)], sums...)); got != string(want) {
		t.Fatalf("JSON writer, certificates kept, differs from encoding/json %s", firstDifference([]byte(got), want))
	}
	// The key logs must have reached the pipeline, or what only
	// decryption fills went untested.
	var decrypted, serverParams, certs int
	for _, s := range sums {
		if s.Decrypted {
			decrypted++
		}
		if s.ServerTransportParameters != nil {
			serverParams++
		}
		if len(s.ClientCertificates) > 0 {
			certs++
		}
	}
	if decrypted == 0 || serverParams == 0 || certs == 0 {
		t.Errorf("%d decrypted handshakes, %d with the QUIC server's transport parameters, %d with client certificates; want some of each", decrypted, serverParams, certs)
	}
}

func TestSummaryJSONSharedCorpus(t *testing.T) {
	checkCaptures(t, testcorpus.Captures(t))
}

// awkwardStrings are what wire-derived strings can hold: every class of
// byte that encoding/json escapes or replaces, and some it leaves alone.
var awkwardStrings = []string{
	"example.com",
	`quote " backslash \ slash /`,
	"html <script>&amp;</script> >",
	"controls \x00\x01\x07\b\t\n\v\f\r\x1b\x1f and DEL \x7f",
	"invalid \xff\xfe \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf cut \xe2\x80",
	"separators \u2028 \u2029 and neighbours \u2027 \u202a",
	"non-ASCII é ü 日本語 🔒 \ufeff \ufffd \u0080\u009f",
	strings.Repeat("long ", 100),
}

var awkwardInts = []int64{1, -1, 255, 0x0304, 65535, 1<<31 - 1, -1 << 31, 1<<53 + 1, math.MaxInt64, math.MinInt64}

// awkwardFloats cross encoding/json's switches between 'f' and 'e'
// formats (1e-6 and 1e21) and its exponent clean-up.
var awkwardFloats = []float64{0.001, 1.5, 123.456, 0.1 + 0.2, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.5e300, 5e-324, math.MaxFloat64, -2.5e-10, -12.25, math.Copysign(0, -1)}

var awkwardTimes = []time.Time{
	time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
	time.Date(1999, 12, 31, 1, 2, 3, 100, time.FixedZone("IST", 5*3600+1800)),
	time.Date(2038, 1, 19, 3, 14, 8, 0, time.FixedZone("", -(23*3600+59*60))),
	time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC),
	time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", 3600+7)),
	time.Unix(1700000000, 500000000),
}

// filler sets every field of a value, recursively, through reflection:
// a field added to Summary, or to a type it holds, is set like the others
// and so shows up in encoding/json's output, where the fast encoder must
// write it too. A kind it does not know fails the test, so that the
// filler is taught it rather than skipping it.
type filler struct {
	tb     testing.TB
	strs   []string
	ints   []int64 // also bit patterns for unsigned fields
	floats []float64
	times  []time.Time

	n          int  // elements in each slice
	zeroLeaves bool // leave strings, numbers and bools zero; set only pointers and slices
	nilEvery   int  // when > 0, leave every nilEvery-th pointer nil
	count      int  // values set so far, to vary them from field to field
}

var timeType = reflect.TypeFor[time.Time]()

func (f *filler) next() int {
	f.count++
	return f.count
}

func (f *filler) fill(v reflect.Value) {
	t := v.Type()
	if t == timeType {
		if !f.zeroLeaves {
			v.Set(reflect.ValueOf(f.times[f.next()%len(f.times)]))
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if !f.zeroLeaves {
			v.SetString(f.strs[f.next()%len(f.strs)])
		}
	case reflect.Bool:
		v.SetBool(!f.zeroLeaves)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !f.zeroLeaves {
			x := f.ints[f.next()%len(f.ints)]
			shift := 64 - t.Bits()
			if x = x << shift >> shift; x == 0 {
				x = 1
			}
			v.SetInt(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !f.zeroLeaves {
			x := uint64(f.ints[f.next()%len(f.ints)])
			if x = x << (64 - t.Bits()) >> (64 - t.Bits()); x == 0 {
				x = 1
			}
			v.SetUint(x)
		}
	case reflect.Float32, reflect.Float64:
		if !f.zeroLeaves {
			v.SetFloat(f.floats[f.next()%len(f.floats)])
		}
	case reflect.Pointer:
		if f.nilEvery > 0 && f.next()%f.nilEvery == 0 {
			return
		}
		v.Set(reflect.New(t.Elem()))
		f.fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, f.n, f.n))
		for i := range f.n {
			f.fill(v.Index(i))
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() { // encoding/json skips the others
				f.fill(v.Field(i))
			}
		}
	case reflect.Interface:
		// msgview.Field.Value: one of the kinds msgview documents.
		if f.zeroLeaves {
			return
		}
		i := f.next()
		s := f.strs[i%len(f.strs)]
		values := []any{s, f.ints[i%len(f.ints)], f.floats[i%len(f.floats)], true, []string{s, s}, msgview.Fields{{Name: s, Value: s}}}
		v.Set(reflect.ValueOf(values[i%len(values)]))
	default:
		f.tb.Fatalf("filler: cannot set a %s (%s); teach the filler, and summaryjson.go, this kind", t, t.Kind())
	}
}

// checkAllSet fails tb where v, filled with n >= 1 and nothing left
// zero, still has a zero value: the filler missed it.
func checkAllSet(tb testing.TB, v reflect.Value, path string) {
	tb.Helper()
	if v.IsZero() {
		tb.Fatalf("filler left %s zero", path)
	}
	if v.Type() == timeType {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		checkAllSet(tb, v.Elem(), path)
	case reflect.Slice:
		for i := range v.Len() {
			checkAllSet(tb, v.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				checkAllSet(tb, v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	}
}

// TestSummaryJSONEveryField sets every field of Summary, and of every type
// it holds, and compares the encoders' output: it fails when a field is
// added without being added to summaryjson.go.
func TestSummaryJSONEveryField(t *testing.T) {
	type fillCase struct {
		name       string
		strs       []string // default awkwardStrings
		n          int
		zeroLeaves bool
		nilEvery   int
	}
	tests := []fillCase{
		{name: "empty slices", n: 0},
		{name: "one element each", n: 1},
		{name: "two elements each", n: 2},
		{name: "three elements each", n: 3},
		{name: "empty slices, pointers to zero values", n: 0, zeroLeaves: true},
		{name: "one element each, zero values", n: 1, zeroLeaves: true},
		{name: "two elements each, zero values", n: 2, zeroLeaves: true},
		{name: "every second pointer nil", n: 2, nilEvery: 2},
		{name: "every third pointer nil", n: 2, nilEvery: 3},
		{name: "every fifth pointer nil, zero values", n: 2, nilEvery: 5, zeroLeaves: true},
		{name: "all awkward strings in one", strs: []string{strings.Join(awkwardStrings, "")}, n: 2},
	}
	for _, awkward := range awkwardStrings {
		tests = append(tests, fillCase{name: "only " + awkward[:min(len(awkward), 12)], strs: []string{awkward}, n: 2})
	}
	t.Run("zero", func(t *testing.T) { checkSummaryJSON(t, &tlsconn.Summary{}) })
	t.Run("nil", func(t *testing.T) { checkSummaryJSON(t, nil) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filler{tb: t, strs: tt.strs, ints: awkwardInts, floats: awkwardFloats, times: awkwardTimes,
				n: tt.n, zeroLeaves: tt.zeroLeaves, nilEvery: tt.nilEvery}
			if f.strs == nil {
				f.strs = awkwardStrings
			}
			var s tlsconn.Summary
			f.fill(reflect.ValueOf(&s).Elem())
			if tt.n > 0 && !tt.zeroLeaves && tt.nilEvery == 0 {
				checkAllSet(t, reflect.ValueOf(s), "Summary")
			}
			checkSummaryJSON(t, &s)
		})
	}
}

// TestSummaryJSONStrings compares the quoting of every one- and two-byte
// string, of every byte at every place of longer strings, and of runes at
// the edges of UTF-8's ranges, with encoding/json.
func TestSummaryJSONStrings(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := encodingJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		want = bytes.TrimSuffix(want, []byte("\n"))
		if got := report.AppendStringJSON(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
	for i := range 256 {
		check(string([]byte{byte(i)}))
		for j := range 256 {
			check(string([]byte{byte(i), byte(j)}))
		}
	}
	// Strings of 8 bytes and more are tested 8 bytes at a time: put
	// every byte at every place of such strings.
	for _, n := range []int{8, 9, 15, 16, 17, 24} {
		for at := range n {
			for c := range 256 {
				s := []byte(strings.Repeat("abcdefgh", 3)[:n])
				s[at] = byte(c)
				check(string(s))
			}
			for _, r := range []string{"\u2028", "é", "\xe2\x80", "\n\n"} {
				s := strings.Repeat("x", at) + r + strings.Repeat("y", n)
				check(s)
			}
		}
	}
	for _, r := range []rune{0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0x2027, 0x2028, 0x2029, 0x202a, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		check(string(r))
		check("a" + string(r) + "\x00")
	}
	for _, s := range awkwardStrings {
		check(s)
		check(s[:len(s)-1]) // cut inside a multi-byte sequence, sometimes
	}
}

// TestSummaryJSONFloats compares the number format of per-message offsets
// with encoding/json's.
func TestSummaryJSONFloats(t *testing.T) {
	floats := append([]float64{0, 1, 100, 1e6, 1e-5, 123456789.125, 1.0000001e21, 9.999999e20, 2.5e-7, 1e-10, 1e-100, -1e21, math.SmallestNonzeroFloat64, math.Nextafter(1e21, 0), math.Nextafter(1e-6, 0)}, awkwardFloats...)
	for _, x := range floats {
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := report.AppendFloatJSON(nil, x)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%g: got %s, %v; want %s", x, got, err, want)
		}
	}
}

// TestSummaryJSONRefused gives the JSON writer values encoding/json
// refuses: it must report encoding/json's error, write nothing for that
// summary, and go on with the next.
func TestSummaryJSONRefused(t *testing.T) {
	tests := []struct {
		name string
		s    tlsconn.Summary
	}{
		{"year 10000", tlsconn.Summary{TS: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"year -1", tlsconn.Summary{TS: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"zone +24h", tlsconn.Summary{TS: time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))}},
		{"certificate zone -25h", tlsconn.Summary{ClientCertificates: []*certinfo.Certificate{{NotAfter: time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -25*3600))}}}},
		{"NaN offset", tlsconn.Summary{Messages: []tlsconn.Message{{OffsetMS: math.NaN()}}}},
		{"infinite offset", tlsconn.Summary{Messages: []tlsconn.Message{{OffsetMS: math.Inf(-1)}}}},
		{"field value encoding/json cannot marshal", tlsconn.Summary{Messages: []tlsconn.Message{{Fields: msgview.Fields{{Name: "x", Value: func() {}}}}}}},
		{"NaN field value", tlsconn.Summary{Messages: []tlsconn.Message{{Fields: msgview.Fields{{Name: "x", Value: math.NaN()}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, wantErr := encodingJSON(&tt.s)
			if wantErr == nil {
				t.Fatal("encoding/json accepts the summary")
			}
			if _, err := report.AppendSummaryJSON(nil, &tt.s); err == nil {
				t.Fatal("AppendSummaryJSON accepts the summary")
			}
			var out bytes.Buffer
			w := report.NewJSON(&out)
			if err := w.Write(&tt.s); err == nil || err.Error() != wantErr.Error() {
				t.Fatalf("Write: %v, want %v", err, wantErr)
			}
			if out.Len() != 0 {
				t.Fatalf("Write wrote %q", out.Bytes())
			}
			good := tlsconn.Summary{Client: "a", Server: "b"}
			if err := w.Write(&good); err != nil {
				t.Fatal(err)
			}
			if want, _ := encodingJSON(&good); out.String() != string(want) {
				t.Fatalf("after the refusal, got %s, want %s", out.Bytes(), want)
			}
		})
	}
}

// FuzzSummaryJSON fills a Summary from the fuzzer's values (strings,
// numbers, time, shape) and compares the encoders: equal bytes, or an
// error from both.
func FuzzSummaryJSON(f *testing.F) {
	f.Add("example.com", "h2", int64(1700000000123456789), uint64(0x0304), 0.25, uint8(1))
	f.Add("", "", int64(0), uint64(0), 0.0, uint8(0))
	f.Add("<&>\u2028\u2029", "\x00\x1f\"\\\x7f", int64(-1), uint64(math.MaxUint64), 1e21, uint8(2))
	f.Add("\xff\xc3\x28\xed\xa0\x80", "日本語 🔒", int64(math.MinInt64), uint64(1<<32), 1e-7, uint8(0x26))
	f.Add("a\u2028b", "\ufffd", int64(86400e9), uint64(25*3600), math.NaN(), uint8(0x81))
	f.Add("x", "y", int64(1), uint64(1), math.Inf(1), uint8(0x0a))
	f.Fuzz(func(t *testing.T, s1, s2 string, i int64, u uint64, x float64, shape uint8) {
		// The zone offset ranges over ±24 hours and beyond, which
		// time.Time.MarshalJSON refuses.
		zone := time.FixedZone("", int(u%(52*3600))-26*3600)
		fl := filler{
			tb:     t,
			strs:   []string{s1, s2, s1 + s2},
			ints:   []int64{i, int64(u), i ^ int64(u)},
			floats: []float64{x, x / 3, float64(i)},
			times:  []time.Time{time.Unix(0, i).In(zone), time.Unix(int64(u%(1<<40)), i%1e9).UTC()},

			n:          int(shape % 3),
			zeroLeaves: shape&0x80 != 0,
			nilEvery:   int(shape>>3) % 4,
		}
		var s tlsconn.Summary
		fl.fill(reflect.ValueOf(&s).Elem())

		want, wantErr := encodingJSON(&s)
		got, err := report.AppendSummaryJSON(nil, &s)
		switch {
		case wantErr != nil && err == nil:
			t.Fatalf("AppendSummaryJSON accepts what encoding/json refuses: %v", wantErr)
		case wantErr == nil && err != nil:
			t.Fatalf("AppendSummaryJSON: %v; encoding/json accepts the summary", err)
		case wantErr == nil && !bytes.Equal(append(got, '\n'), want):
			t.Fatalf("AppendSummaryJSON differs from encoding/json %s", firstDifference(append(got, '\n'), want))
		}
	})
}

// BenchmarkSummaryJSON encodes the summaries of the project's captures
// (as `-T json` makes them: no per-message view), one per operation, with
// encoding/json and with the JSON writer's own encoder.
func BenchmarkSummaryJSON(b *testing.B) {
	var sums []*tlsconn.Summary
	for _, path := range testcorpus.Files(b, pcapDir) {
		sums = append(sums, summariesOf(b, path, false)...)
	}
	b.Run("encoding_json", func(b *testing.B) {
		enc := json.NewEncoder(io.Discard)
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := enc.Encode(sums[i%len(sums)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("fast", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var err error
			if buf, err = report.AppendSummaryJSON(buf[:0], sums[i%len(sums)]); err != nil {
				b.Fatal(err)
			}
			buf = append(buf, '\n')
			i++
		}
	})
}
