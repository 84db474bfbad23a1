package policy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tlsinspect/tlsinspect/certinfo"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

func ptr[T any](v T) *T { return &v }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func cert(subject, issuer, cn string) *certinfo.Certificate {
	return &certinfo.Certificate{
		Subject: subject, Issuer: issuer, SubjectCN: cn,
		NotBefore: day("2020-01-01"), NotAfter: day("2030-01-01"),
		KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA",
		SelfSigned: subject == issuer,
	}
}

const (
	leafDN  = "CN=api.payments.internal"
	interDN = "CN=Internal CA 2,O=Example"
	rootDN  = "CN=Internal Root,O=Example"
)

// tls12 is a clean TLS 1.2 mutual-TLS handshake: every requirement of
// the tests holds for it until a test changes a field.
func tls12() *tlsconn.Summary {
	leaf := cert(leafDN, interDN, "api.payments.internal")
	leaf.DNSNames = []string{"api.payments.internal", "*.payments.internal"}
	inter := cert(interDN, rootDN, "Internal CA 2")
	root := cert(rootDN, rootDN, "Internal Root")
	return &tlsconn.Summary{
		TS:                  day("2026-11-27").Add(10*time.Hour + time.Second),
		Client:              "10.0.0.9:51514",
		Server:              "10.0.0.5:8443",
		Connection:          1,
		Handshake:           1,
		SNI:                 ptr("api.payments.internal"),
		ClientVersions:      []string{"TLS 1.2"},
		ClientLegacyVersion: ptr("TLS 1.2"),
		Version:             ptr("TLS 1.2"),
		VersionID:           ptr(0x0303),
		CipherSuite:         ptr("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
		CipherSuiteID:       ptr(0xc02f),
		ClientALPN:          []string{"h2", "http/1.1"},
		ALPN:                ptr("h2"),
		KeyExchange:         ptr("ECDHE"),
		Group:               ptr("x25519"),
		Resumed:             ptr(false),
		JA3:                 "262f4a21eae158bb75ff8237bf557104",
		JA4:                 "t12d101100_a8cf61a50a39_c60f93f0ffe7",
		ClientCertRequested: ptr(true),
		ClientCertSent:      ptr(true),
		ServerCertificates:  []*certinfo.Certificate{leaf, inter, root},
		Findings:            []tlsconn.Finding{},
		Established:         true,
	}
}

// tls13 is a TLS 1.3 handshake: certificates and client authentication
// are encrypted, so unknown.
func tls13() *tlsconn.Summary {
	s := tls12()
	s.ClientVersions = []string{"TLS 1.3", "TLS 1.2"}
	s.Version, s.VersionID = ptr("TLS 1.3"), ptr(0x0304)
	s.CipherSuite, s.CipherSuiteID = ptr("TLS_AES_128_GCM_SHA256"), ptr(0x1301)
	s.Group, s.KeyExchange = ptr("X25519MLKEM768"), ptr("ECDHE-MLKEM")
	s.ALPN = nil
	s.ClientCertRequested, s.ClientCertSent = nil, nil
	s.ClientCertInferred = &tlsconn.CertInference{Requested: ptr(true), Sent: ptr(false), Reason: "sizes"}
	s.ServerCertificates = []*certinfo.Certificate{}
	s.JA4 = "t13d131300_f57a46bbacb6_fb48f8b98a29"
	return s
}

// refused is a ClientHello answered by a fatal alert: nothing negotiated.
func refused() *tlsconn.Summary {
	s := tls12()
	s.Version, s.VersionID, s.CipherSuite, s.CipherSuiteID = nil, nil, nil, nil
	s.ALPN, s.KeyExchange, s.Group, s.Resumed = nil, nil, nil, nil
	s.ClientCertRequested, s.ClientCertSent = nil, nil
	s.ServerCertificates = []*certinfo.Certificate{}
	s.Alerts = []tlsconn.Alert{{From: "server", Level: "fatal", Description: "protocol_version"}}
	s.Established = false
	return s
}

func with(s *tlsconn.Summary, f func(*tlsconn.Summary)) *tlsconn.Summary {
	f(s)
	return s
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

// short is a violation without its connection: "requirement: expected
// E, got A".
func short(vs []Violation) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s: expected %s, got %s", v.Requirement, v.Expected, v.Actual))
	}
	return out
}

// indent shifts a YAML fragment so it can be pasted under a key.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}
