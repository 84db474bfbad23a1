package capgen

import "io"

// PoolSize is the number of distinct recorded sessions Bulk and Handshakes
// draw their connections from.
const PoolSize = 64

// ShortResponse is the server's response in Handshakes captures (the client's
// request is 200 bytes).
const ShortResponse = 1200

// Bulk writes nConns connections, each a handshake, a 200-byte request and a
// response of minBytes to maxBytes of application data (real TLS records,
// cut at a record boundary), then close_notify and FIN from both sides.
func Bulk(w io.Writer, nConns, minBytes, maxBytes int, seed uint64) (*Manifest, error) {
	pool, err := NewPool(PoolSize, maxBytes)
	if err != nil {
		return nil, err
	}
	return Write(w, pool, nConns, Options{Seed: seed, MinBytes: minBytes, MaxBytes: maxBytes})
}

// Handshakes writes nConns short connections: a handshake, a 200-byte
// request, a 1200-byte response, close_notify and FIN from both sides.
func Handshakes(w io.Writer, nConns int, seed uint64) (*Manifest, error) {
	pool, err := NewPool(PoolSize, ShortResponse)
	if err != nil {
		return nil, err
	}
	return Write(w, pool, nConns, Options{Seed: seed})
}
