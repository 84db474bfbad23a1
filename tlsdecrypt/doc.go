// Package tlsdecrypt decrypts the protected records of one direction of a
// TLS connection, given the session secrets a peer wrote to an NSS key log.
//
// A passive observer uses it to read what TLS encrypts: in TLS 1.3 the
// EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
// Finished, NewSessionTicket and KeyUpdate messages and the alerts; in
// TLS 1.0–1.2 the Finished messages, encrypted alerts and renegotiation
// handshakes. The package is pure cryptography on bytes: it knows nothing of
// packets, streams or key-log files, and takes secrets as byte slices.
//
// One [Decrypter] decrypts one direction under one set of keys:
//
//   - [NewTLS13] takes a TLS 1.3 traffic secret (from the key log's
//     CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
//     CLIENT_TRAFFIC_SECRET_0 or SERVER_TRAFFIC_SECRET_0). The caller moves
//     from the handshake secret to the application secret after the
//     direction's Finished, and calls [Decrypter.Update] after a KeyUpdate.
//   - [NewTLS12] takes the 48-byte master secret (the key log's
//     CLIENT_RANDOM line) and both hello randoms, for TLS 1.0, 1.1 and 1.2.
//     The caller starts using it after the direction's ChangeCipherSpec, and
//     makes a new one after a renegotiation's ChangeCipherSpec.
//
// [Decrypter.Open] takes one whole record, header included, and returns the
// plaintext and the real content type. Records must be given in the order
// they were sent, each exactly once: the sequence number (and for TLS 1.0
// CBC suites the chained IV) advances with every record that authenticates.
// A record that fails authentication ([ErrAuth]) leaves the state as it was,
// so that a stray record does not desynchronise the rest.
//
// Which suites are supported is listed in suites.go (see [Supported]); the
// others, such as RC4, NULL, Camellia, ARIA, SEED, SM4 and SSL 3.0, give
// [ErrUnsupportedSuite] or [ErrUnsupportedVersion].
//
// Key material is never printed: a Decrypter formats as its version, suite
// and sequence number only, and errors never quote key bytes. Nothing here
// is constant-time: a passive observer has no peer to leak timing to.
//
// A Decrypter is not safe for concurrent use.
package tlsdecrypt
