// Package keylog reads TLS key log files: the NSS key log format that
// SSLKEYLOGFILE makes curl, Firefox, Chrome, GnuTLS, Python and Node write,
// that OpenSSL writes with -keylogfile and Go with tls.Config.KeyLogWriter,
// and that Wireshark's editcap embeds in pcapng Decryption Secrets Blocks.
//
// Each line is
//
//	LABEL <client random, 64 hex digits> <secret, hex>
//
// and lines starting with '#' are comments. A Log maps the client random of
// a handshake (the 32 bytes every ClientHello carries) to the Secrets
// logged for it: the TLS 1.0–1.2 master secret (CLIENT_RANDOM) or the TLS
// 1.3 (and QUIC, DTLS 1.3) traffic secrets.
//
// Parsing is lenient where real files differ and strict where a mistake
// would mean wrong keys: CRLF line ends, surrounding blanks and a UTF-8 byte
// order mark are accepted; labels it does not know, and the RSA,
// PMS_CLIENT_RANDOM and ECH lines it cannot use, are counted and skipped; a
// line whose values are not hex or have the wrong length is counted as
// malformed, with its line number, and skipped. Only a file that is not a
// key log at all is an error.
//
// Key material is secret. Nothing here prints it: Secret, Secrets and Log
// format as a redacted summary under every fmt verb, and as JSON, YAML,
// text and slog values; messages name line numbers and lengths, never hex.
// Secrets and Log keep the bytes out of reach of fmt's reflection too, when
// they sit in an unexported field of another struct; a lone Secret kept in
// an unexported field does not, so keep the *Secrets instead. ParseFile
// warns about a file that other users can read.
package keylog
