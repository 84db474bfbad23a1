// Package capgen generates pcap captures of many TLS connections for
// benchmarks.
//
// The TLS bytes are real: a small pool of handshakes (TLS 1.2 ECDHE-RSA and
// ECDHE-ECDSA with a three-certificate chain, TLS 1.3, mutual TLS, session
// resumption) is run with crypto/tls over an in-memory pipe that records
// every write of either peer in order. Many connections are then synthesized
// from the pool: Ethernet/IPv4/TCP frames with a three-way handshake, the
// recorded bytes split at an MSS of 1448, acknowledgements, a FIN exchange,
// a distinct client address and port per connection, increasing timestamps,
// and several connections open at once, their packets interleaved.
//
// Nothing is sent on any network: the addresses (10.0.0.0/8 clients,
// 192.0.2.0/24 servers) only appear inside the generated packets. Given a
// seed the layout of a capture (addresses, sizes, which pool entry each
// connection replays, interleaving, timestamps) is deterministic; the
// recorded TLS bytes themselves differ from run to run.
package capgen
