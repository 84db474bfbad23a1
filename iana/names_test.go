package iana

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana/internal/ianagen"
)

// TestTablesUpToDate regenerates tables_gen.go in memory from csv/ and fails
// if the committed file differs (someone edited a CSV or the generator
// without running go generate, or edited the generated file by hand).
func TestTablesUpToDate(t *testing.T) {
	want, err := ianagen.Generate(os.DirFS("csv"))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	got, err := os.ReadFile("tables_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, []byte(ianagen.Header+"\n")) {
		t.Errorf("tables_gen.go does not start with %q", ianagen.Header)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tables_gen.go is stale: run go generate ./iana/")
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a, err := ianagen.Generate(os.DirFS("csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ianagen.Generate(os.DirFS("csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two runs of the generator differ")
	}
}

func TestUint16Names(t *testing.T) {
	tests := []struct {
		fn   string
		f    func(uint16) string
		in   uint16
		want string
	}{
		{"CipherSuiteName", CipherSuiteName, 0x1301, "TLS_AES_128_GCM_SHA256"},
		{"CipherSuiteName", CipherSuiteName, 0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
		{"CipherSuiteName", CipherSuiteName, 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{"CipherSuiteName", CipherSuiteName, 0x0000, "TLS_NULL_WITH_NULL_NULL"},
		{"CipherSuiteName", CipherSuiteName, 0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{"CipherSuiteName", CipherSuiteName, 0x5600, "TLS_FALLBACK_SCSV"},
		{"CipherSuiteName", CipherSuiteName, 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{"CipherSuiteName", CipherSuiteName, 0x0a0a, "GREASE(0x0a0a)"},
		{"CipherSuiteName", CipherSuiteName, 0xfafa, "GREASE(0xfafa)"},
		{"CipherSuiteName", CipherSuiteName, 0x1a2b, "0x1a2b"},
		{"CipherSuiteName", CipherSuiteName, 0x0060, "0x0060"}, // range "0x00,0x60-66" is Reserved
		{"CipherSuiteName", CipherSuiteName, 0xfeff, "0xfeff"}, // range "0xFE,0xFE-FF" is Reserved
		{"CipherSuiteName", CipherSuiteName, 0xffff, "0xffff"}, // Private Use
		{"ExtensionName", ExtensionName, 0, "server_name"},
		{"ExtensionName", ExtensionName, 10, "supported_groups"}, // note stripped
		{"ExtensionName", ExtensionName, 35, "session_ticket"},
		{"ExtensionName", ExtensionName, 43, "supported_versions"},
		{"ExtensionName", ExtensionName, 51, "key_share"},
		{"ExtensionName", ExtensionName, 53, "connection_id"}, // "(deprecated)" stripped
		{"ExtensionName", ExtensionName, 54, "connection_id"},
		{"ExtensionName", ExtensionName, 65037, "encrypted_client_hello"},
		{"ExtensionName", ExtensionName, 65281, "renegotiation_info"},
		{"ExtensionName", ExtensionName, 40, "0x0028"}, // Reserved
		{"ExtensionName", ExtensionName, 0x4469, "0x4469"},
		{"ExtensionName", ExtensionName, 0xffce, "0xffce"},
		{"ExtensionName", ExtensionName, 0x2a2a, "GREASE(0x2a2a)"},
		{"GroupName", GroupName, 23, "secp256r1"},
		{"GroupName", GroupName, 29, "x25519"},
		{"GroupName", GroupName, 256, "ffdhe2048"},
		{"GroupName", GroupName, 260, "ffdhe8192"},
		{"GroupName", GroupName, 4588, "X25519MLKEM768"},
		{"GroupName", GroupName, 4585, "SecP256r1MLKEM512"},
		{"GroupName", GroupName, 25497, "X25519Kyber768Draft00"}, // "(OBSOLETE)" stripped
		{"GroupName", GroupName, 65281, "arbitrary_explicit_prime_curves"},
		{"GroupName", GroupName, 0, "0x0000"},
		{"GroupName", GroupName, 0x3a3a, "GREASE(0x3a3a)"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0403, "ecdsa_secp256r1_sha256"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0804, "rsa_pss_rsae_sha256"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0807, "ed25519"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0201, "rsa_pkcs1_sha1"},
		{"SignatureSchemeName", SignatureSchemeName, 0x070a, "gostr34102012_256b"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0905, "mldsa65"},
		{"SignatureSchemeName", SignatureSchemeName, 0x0402, "0x0402"}, // Reserved for backward compatibility
		{"SignatureSchemeName", SignatureSchemeName, 0x0a0a, "GREASE(0x0a0a)"},
		{"VersionName", VersionName, 0x0002, "SSL 2.0"},
		{"VersionName", VersionName, 0x0300, "SSL 3.0"},
		{"VersionName", VersionName, 0x0301, "TLS 1.0"},
		{"VersionName", VersionName, 0x0302, "TLS 1.1"},
		{"VersionName", VersionName, 0x0303, "TLS 1.2"},
		{"VersionName", VersionName, 0x0304, "TLS 1.3"},
		{"VersionName", VersionName, 0x7f17, "TLS 1.3 (draft 23)"},
		{"VersionName", VersionName, 0x7f1c, "TLS 1.3 (draft 28)"},
		{"VersionName", VersionName, 0x7e02, "TLS 1.3 (experiment 0x7e02)"},
		{"VersionName", VersionName, 0xfb17, "TLS 1.3 (Facebook draft 23)"},
		{"VersionName", VersionName, 0xfeff, "DTLS 1.0"},
		{"VersionName", VersionName, 0xfefd, "DTLS 1.2"},
		{"VersionName", VersionName, 0xfefc, "DTLS 1.3"},
		{"VersionName", VersionName, 0x0100, "DTLS 1.0 (OpenSSL pre-0.9.8f)"},
		{"VersionName", VersionName, 0x0a0a, "GREASE(0x0a0a)"},
		{"VersionName", VersionName, 0xdada, "GREASE(0xdada)"},
		{"VersionName", VersionName, 0x0305, "0x0305"},
		{"VersionName", VersionName, 0x0000, "0x0000"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%s(0x%04x) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func TestUint8Names(t *testing.T) {
	tests := []struct {
		fn   string
		f    func(uint8) string
		in   uint8
		want string
	}{
		{"AlertName", AlertName, 0, "close_notify"},
		{"AlertName", AlertName, 40, "handshake_failure"},
		{"AlertName", AlertName, 70, "protocol_version"},
		{"AlertName", AlertName, 86, "inappropriate_fallback"},
		{"AlertName", AlertName, 100, "no_renegotiation"},
		{"AlertName", AlertName, 112, "unrecognized_name"},
		{"AlertName", AlertName, 116, "certificate_required"},
		{"AlertName", AlertName, 120, "no_application_protocol"},
		{"AlertName", AlertName, 121, "ech_required"},
		{"AlertName", AlertName, 0x8f, "0x8f"},
		{"AlertName", AlertName, 1, "0x01"},
		{"HandshakeTypeName", HandshakeTypeName, 1, "client_hello"},
		{"HandshakeTypeName", HandshakeTypeName, 2, "server_hello"},
		{"HandshakeTypeName", HandshakeTypeName, 4, "new_session_ticket"}, // note stripped
		{"HandshakeTypeName", HandshakeTypeName, 8, "encrypted_extensions"},
		{"HandshakeTypeName", HandshakeTypeName, 11, "certificate"},
		{"HandshakeTypeName", HandshakeTypeName, 12, "server_key_exchange"}, // "_RESERVED" dropped for TLS 1.2 messages
		{"HandshakeTypeName", HandshakeTypeName, 13, "certificate_request"},
		{"HandshakeTypeName", HandshakeTypeName, 20, "finished"},
		{"HandshakeTypeName", HandshakeTypeName, 254, "message_hash"},
		{"HandshakeTypeName", HandshakeTypeName, 0x1f, "0x1f"},
		{"HandshakeTypeName", HandshakeTypeName, 7, "0x07"},
		{"ContentTypeName", ContentTypeName, 20, "change_cipher_spec"},
		{"ContentTypeName", ContentTypeName, 21, "alert"},
		{"ContentTypeName", ContentTypeName, 22, "handshake"},
		{"ContentTypeName", ContentTypeName, 23, "application_data"},
		{"ContentTypeName", ContentTypeName, 24, "heartbeat"},
		{"ContentTypeName", ContentTypeName, 0x80, "0x80"},
		{"ECPointFormatName", ECPointFormatName, 0, "uncompressed"},
		{"ECPointFormatName", ECPointFormatName, 1, "ansiX962_compressed_prime"},
		{"ECPointFormatName", ECPointFormatName, 0xf8, "0xf8"}, // Private Use
		{"CompressionMethodName", CompressionMethodName, 0, "null"},
		{"CompressionMethodName", CompressionMethodName, 1, "DEFLATE"},
		{"CompressionMethodName", CompressionMethodName, 64, "LZS"},
		{"CompressionMethodName", CompressionMethodName, 2, "0x02"},
		{"PSKKeyExchangeModeName", PSKKeyExchangeModeName, 0, "psk_ke"},
		{"PSKKeyExchangeModeName", PSKKeyExchangeModeName, 1, "psk_dhe_ke"},
		{"PSKKeyExchangeModeName", PSKKeyExchangeModeName, 0x0b, "GREASE(0x0b)"},
		{"PSKKeyExchangeModeName", PSKKeyExchangeModeName, 0xe4, "GREASE(0xe4)"},
		{"PSKKeyExchangeModeName", PSKKeyExchangeModeName, 2, "0x02"},
		{"CertificateTypeName", CertificateTypeName, 1, "rsa_sign"},
		{"CertificateTypeName", CertificateTypeName, 2, "dss_sign"},
		{"CertificateTypeName", CertificateTypeName, 3, "rsa_fixed_dh"},
		{"CertificateTypeName", CertificateTypeName, 4, "dss_fixed_dh"},
		{"CertificateTypeName", CertificateTypeName, 5, "rsa_ephemeral_dh_RESERVED"},
		{"CertificateTypeName", CertificateTypeName, 6, "dss_ephemeral_dh_RESERVED"},
		{"CertificateTypeName", CertificateTypeName, 20, "fortezza_dms_RESERVED"},
		{"CertificateTypeName", CertificateTypeName, 64, "ecdsa_sign"},
		{"CertificateTypeName", CertificateTypeName, 65, "rsa_fixed_ecdh"},
		{"CertificateTypeName", CertificateTypeName, 66, "ecdsa_fixed_ecdh"},
		{"CertificateTypeName", CertificateTypeName, 0, "0x00"},
		{"CertificateTypeName", CertificateTypeName, 7, "0x07"},
	}
	for _, tt := range tests {
		if got := tt.f(tt.in); got != tt.want {
			t.Errorf("%s(%d) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func TestCipherSuiteRecommended(t *testing.T) {
	tests := []struct {
		id   uint16
		want string
	}{
		{0x1301, "Y"}, // TLS_AES_128_GCM_SHA256
		{0xc02f, "Y"}, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
		{0x002f, "N"}, // TLS_RSA_WITH_AES_128_CBC_SHA
		{0x00ff, "N"}, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
		{0x0a0a, ""},  // GREASE: IANA lists Recommended N, but it is no suite
		{0x1a2b, ""},  // unassigned
	}
	for _, tt := range tests {
		if got := CipherSuiteRecommended(tt.id); got != tt.want {
			t.Errorf("CipherSuiteRecommended(0x%04x) = %q, want %q", tt.id, got, tt.want)
		}
	}
	// Every named suite has a Recommended value in {Y,N,D,""}, and only
	// named suites have one.
	counts := map[string]int{}
	for v := range 1 << 16 {
		id := uint16(v)
		rec := CipherSuiteRecommended(id)
		counts[rec]++
		if rec != "" && cipherSuiteName(id) == "" {
			t.Errorf("0x%04x: Recommended %q but no name", id, rec)
		}
	}
	if counts["D"] == 0 || counts["Y"] == 0 || counts["N"] == 0 {
		t.Errorf("Recommended counts %v: want some Y, N and D", counts)
	}
}

func TestIsGREASE(t *testing.T) {
	var got []uint16
	for v := range 1 << 16 {
		if IsGREASE(uint16(v)) {
			got = append(got, uint16(v))
		}
	}
	if len(got) != 16 {
		t.Fatalf("IsGREASE true for %d values, want 16: %04x", len(got), got)
	}
	for i, v := range got {
		if want := uint16(i)<<12 | uint16(i)<<4 | 0x0a0a; v != want {
			t.Errorf("GREASE value %d = 0x%04x, want 0x%04x", i, v, want)
		}
	}
	for _, v := range []uint16{0x0a0b, 0x0a1a, 0x1a0a, 0xaaaa - 1, 0x0000, 0xffff} {
		if IsGREASE(v) {
			t.Errorf("IsGREASE(0x%04x) = true", v)
		}
	}
}

// TestTablesWellFormed checks properties of every generated entry: names
// have no spaces or leftover notes, GREASE never reaches a table, and every
// unnamed value falls back to lowercase hex of the right width.
func TestTablesWellFormed(t *testing.T) {
	tables16 := map[string]struct {
		table, public func(uint16) string
	}{
		"cipherSuite":     {cipherSuiteName, CipherSuiteName},
		"extension":       {extensionName, ExtensionName},
		"group":           {groupName, GroupName},
		"signatureScheme": {signatureSchemeName, SignatureSchemeName},
	}
	for reg, fns := range tables16 {
		n := 0
		for v := range 1 << 16 {
			id := uint16(v)
			name := fns.table(id)
			got := fns.public(id)
			switch {
			case IsGREASE(id):
				if name != "" {
					t.Errorf("%s 0x%04x: GREASE value has table name %q", reg, id, name)
				}
				if want := fmt.Sprintf("GREASE(0x%04x)", id); got != want {
					t.Errorf("%s 0x%04x = %q, want %q", reg, id, got, want)
				}
			case name == "":
				if want := fmt.Sprintf("0x%04x", id); got != want {
					t.Errorf("%s 0x%04x = %q, want %q", reg, id, got, want)
				}
			default:
				n++
				checkName(t, reg, int(id), name)
			}
		}
		if n < 10 {
			t.Errorf("%s: only %d names", reg, n)
		}
	}
	tables8 := map[string]func(uint8) string{
		"alert": alertName, "handshakeType": handshakeTypeName, "contentType": contentTypeName,
		"ecPointFormat": ecPointFormatName, "compressionMethod": compressionMethodName,
		"pskKeyExchangeMode": pskKeyExchangeModeName,
	}
	for reg, table := range tables8 {
		n := 0
		for v := range 1 << 8 {
			if name := table(uint8(v)); name != "" {
				n++
				checkName(t, reg, v, name)
			}
		}
		if n < 2 {
			t.Errorf("%s: only %d names", reg, n)
		}
	}
}

func checkName(t *testing.T, reg string, v int, name string) {
	t.Helper()
	if strings.ContainsAny(name, " \t\r\n()\"") {
		t.Errorf("%s %#x: name %q has spaces or notes", reg, v, name)
	}
	if strings.HasPrefix(name, "Reserved") || strings.HasPrefix(name, "Unassigned") {
		t.Errorf("%s %#x: unassigned row named %q", reg, v, name)
	}
}
