package iana

import (
	"fmt"
	"strings"
)

// IsGREASE reports whether v is one of the 16 RFC 8701 GREASE values
// 0x0a0a, 0x1a1a, ..., 0xfafa: both bytes equal, low nibble 0xa.
func IsGREASE(v uint16) bool {
	return v>>8 == v&0xff && v&0x0f == 0x0a
}

func greaseName(v uint16) string { return fmt.Sprintf("GREASE(0x%04x)", v) }

// name16 applies the common rules for uint16 registries: GREASE first (IANA
// lists it as Reserved, or not at all), then the table, else 4 hex digits.
func name16(v uint16, table func(uint16) string) string {
	if IsGREASE(v) {
		return greaseName(v)
	}
	if n := table(v); n != "" {
		return n
	}
	return fmt.Sprintf("0x%04x", v)
}

// name8 is the uint8 counterpart: the table, else 2 hex digits. IANA marks
// alerts and handshake types that TLS 1.3 dropped as "_RESERVED"; an
// observer of TLS 1.2 and SSL 3.0 traffic reports them by their own name.
func name8(v uint8, table func(uint8) string) string {
	if n := table(v); n != "" {
		return strings.TrimSuffix(n, "_RESERVED")
	}
	return fmt.Sprintf("0x%02x", v)
}

// CipherSuiteName returns the IANA name, e.g. "TLS_AES_128_GCM_SHA256",
// "GREASE(0x0a0a)", or "0x1a2b" for an unassigned value.
func CipherSuiteName(id uint16) string { return name16(id, cipherSuiteName) }

// CipherSuiteRecommended returns IANA's Recommended column for a cipher
// suite: "Y", "N", "D" (discouraged, RFC 9847) or "" (unassigned, GREASE,
// or no value given).
func CipherSuiteRecommended(id uint16) string { return cipherSuiteRecommended(id) }

// ExtensionName returns the extension name, e.g. "server_name"; notes such as
// "(renamed from ...)" are stripped. Unknown: "0xffce".
func ExtensionName(id uint16) string { return name16(id, extensionName) }

// GroupName returns the supported group name, e.g. "x25519", "secp256r1",
// "X25519MLKEM768", "ffdhe2048". Unknown: "0x1234".
func GroupName(id uint16) string { return name16(id, groupName) }

// SignatureSchemeName returns the scheme name, e.g. "ecdsa_secp256r1_sha256".
// Unknown, including TLS 1.2 hash/signature pairs IANA only lists as
// "Reserved for backward compatibility": "0x0402".
func SignatureSchemeName(id uint16) string { return name16(id, signatureSchemeName) }

// AlertName returns the alert description name, e.g. "handshake_failure".
// Unknown: "0x8f".
func AlertName(desc uint8) string { return name8(desc, alertName) }

// HandshakeTypeName returns the handshake message name, e.g. "client_hello".
// Unknown: "0x1f".
func HandshakeTypeName(t uint8) string { return name8(t, handshakeTypeName) }

// ContentTypeName returns the record content type name, e.g. "handshake".
func ContentTypeName(t uint8) string { return name8(t, contentTypeName) }

// ECPointFormatName returns the EC point format name, e.g. "uncompressed".
func ECPointFormatName(f uint8) string { return name8(f, ecPointFormatName) }

// CompressionMethodName returns the compression method name: "null",
// "DEFLATE", "LZS".
func CompressionMethodName(m uint8) string {
	// IANA writes "NULL"; RFC 5246's CompressionMethod enum and every other
	// name in this package use lower case, so follow the RFC here.
	if m == 0 {
		return "null"
	}
	return name8(m, compressionMethodName)
}

// PSKKeyExchangeModeName returns "psk_ke" or "psk_dhe_ke". The RFC 8701
// GREASE values for this field (0x0b, 0x2a, ..., 0xe4) are named
// "GREASE(0x0b)"; anything else unknown is "0x05".
func PSKKeyExchangeModeName(m uint8) string {
	// RFC 8701 §2 reserves 0x0B + n*0x1F (n = 0..7) for PskKeyExchangeModes.
	if m%0x1f == 0x0b {
		return fmt.Sprintf("GREASE(0x%02x)", m)
	}
	return name8(m, pskKeyExchangeModeName)
}

// CertificateTypeName returns the ClientCertificateType name used in TLS 1.2
// CertificateRequest messages, e.g. "rsa_sign", "ecdsa_sign". Unknown: "0x07".
func CertificateTypeName(t uint8) string {
	// This registry (tls-parameters-2) is not among the CSVs; values from
	// RFC 5246 §7.4.4, RFC 8422 §5.5 and RFC 9189 §6.
	switch t {
	case 1:
		return "rsa_sign"
	case 2:
		return "dss_sign"
	case 3:
		return "rsa_fixed_dh"
	case 4:
		return "dss_fixed_dh"
	case 5:
		return "rsa_ephemeral_dh_RESERVED"
	case 6:
		return "dss_ephemeral_dh_RESERVED"
	case 20:
		return "fortezza_dms_RESERVED"
	case 64:
		return "ecdsa_sign"
	case 65:
		return "rsa_fixed_ecdh"
	case 66:
		return "ecdsa_fixed_ecdh"
	case 67:
		return "gost_sign256"
	case 68:
		return "gost_sign512"
	}
	return fmt.Sprintf("0x%02x", t)
}

// VersionName returns a protocol version name: "SSL 2.0", "SSL 3.0",
// "TLS 1.0".."TLS 1.3", "DTLS 1.0".."DTLS 1.3", pre-standard TLS 1.3 drafts
// and experiments, "GREASE(0x0a0a)", else "0x7f1c"-style hex.
func VersionName(v uint16) string {
	switch v {
	case 0x0002:
		return "SSL 2.0"
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	case 0x0100:
		// DTLS1_BAD_VER: OpenSSL's DTLS before 0.9.8f, still seen on old devices.
		return "DTLS 1.0 (OpenSSL pre-0.9.8f)"
	case 0xfeff:
		return "DTLS 1.0"
	case 0xfefd:
		return "DTLS 1.2"
	case 0xfefc:
		return "DTLS 1.3"
	}
	switch v >> 8 {
	case 0x7f:
		// draft-ietf-tls-tls13-NN advertised 0x7f00 | NN.
		return fmt.Sprintf("TLS 1.3 (draft %d)", v&0xff)
	case 0x7e:
		// Google's 2017-2018 middlebox experiments (0x7e01..0x7e03).
		return fmt.Sprintf("TLS 1.3 (experiment 0x%04x)", v)
	case 0xfb:
		// Facebook's Fizz used 0xfb00 | draft number (0xfb17 = draft 23).
		return fmt.Sprintf("TLS 1.3 (Facebook draft %d)", v&0xff)
	}
	if IsGREASE(v) {
		return greaseName(v)
	}
	return fmt.Sprintf("0x%04x", v)
}

// CertCompressionAlgorithmName names an RFC 8879 certificate compression
// algorithm. IANA's registry for them is not among the CSVs in csv/, and it
// has only these three entries.
func CertCompressionAlgorithmName(a uint16) string {
	switch a {
	case 1:
		return "zlib"
	case 2:
		return "brotli"
	case 3:
		return "zstd"
	}
	return fmt.Sprintf("0x%04x", a)
}
