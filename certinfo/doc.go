// Package certinfo reports the details of one X.509 certificate seen on the
// wire in a TLS Certificate message.
//
// Parse first tries crypto/x509. A passive observer must not drop what
// crypto/x509 rejects (negative serials, unsupported curves such as
// brainpool, malformed names or extensions, truncated captures), because
// such certificates are often the interesting ones. On error Parse walks the
// DER again with golang.org/x/crypto/cryptobyte, keeps every field it can
// read and sets ParseError to the x509 error, followed by the fallback's own
// error when it too stops early. Fingerprints and length come from the raw
// bytes and are always present.
//
// Distinguished names are formatted by one function for both paths, so the
// same certificate reads the same whether or not crypto/x509 accepted it:
// RDNs in reverse wire order (RFC 4514, like pkix.RDNSequence.String),
// multi-valued RDNs joined with "+", RFC 4514 escaping of special characters,
// OpenSSL short names for common attributes (CN, O, OU, C, ST, L,
// emailAddress, serialNumber, DC, ...), and other attributes as
// dotted-OID=#hex of the DER value.
//
// Strings from the wire are kept as they are (escaping for display is the
// writer's job) with one exception: bytes that are not valid UTF-8 are
// replaced by the four characters \xNN (lowercase hex), so that JSON output
// stays faithful instead of silently becoming U+FFFD. In Subject and Issuer
// this is unambiguous because a literal backslash is escaped as \\ there; in
// other fields a literal "\x41" and an escaped byte look alike, which only a
// deliberately odd certificate would produce.
//
// Serial is the hex of the INTEGER's content bytes exactly as encoded: a
// leading 00 padding byte is kept and negative serials show their two's
// complement bytes, so the value can be matched byte for byte against other
// tools' raw output.
package certinfo
