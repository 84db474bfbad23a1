// Package dissect parses TLS bytes: the record layer (one direction of a
// stream in, events out) and the handshake messages those events carry.
// DTLSHalf is the record layer of DTLS (one direction's datagrams in, the
// same events out, handshake messages reassembled from their fragments).
//
// It knows nothing of packets, flows or captures, and nothing of names:
// every protocol value is kept as a number (package iana names them), so
// dissect is reusable as a library on any source of TLS bytes.
//
// The message parsers (ParseClientHello, ParseServerHello, ParseCertificate,
// ParseServerKeyExchange, ParseCertificateRequest, ParseNewSessionTicket,
// ParseCertificateStatus, ParseClientKeyExchange, ParseSSLv2ClientHello,
// ParseDTLSClientHello, ParseHelloVerifyRequest)
// take a handshake message body, without the 4-byte msg_type/length
// header. They are written for an observer, not a participant:
//
//   - they read as far as the bytes allow and return what was read even
//     when they also return an error; a non-nil error always comes with a
//     non-nil, partially filled message;
//   - errors are *MessageError values that name the message, the field and
//     the byte offset within the body, e.g.
//     "ClientHello: extension 0x002b (supported_versions): length 7 exceeds remaining 3 at offset 212";
//   - oddities that do not stop parsing (duplicate extensions, trailing
//     bytes, an out-of-place pre_shared_key, over-long session IDs) are
//     recorded in the message's Anomalies and are not errors;
//   - every length is checked by golang.org/x/crypto/cryptobyte, and no
//     input makes them panic (each parser has a fuzz target).
package dissect
