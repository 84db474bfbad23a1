// Package quic reads the handshake of QUIC connections (RFC 9000, RFC 9001;
// QUIC version 2, RFC 9369) from their UDP payloads, as a passive
// observer: which packets a datagram holds, the TLS handshake messages the
// Initial packets carry (decrypted with keys anyone can derive), and, given
// the TLS secrets from a key log, those of the Handshake packets.
//
// Like package dissect it knows nothing of packets, flows or captures: it
// takes UDP payloads as byte slices. Every length is checked with
// golang.org/x/crypto/cryptobyte, buffering is bounded, and no input makes
// it panic (fuzz targets cover every parser).
//
// The pieces, bottom up:
//
//   - Packets (RFC 9000 §17, RFC 8999): IsLongHeader and IsClientInitial
//     recognise QUIC by content, strictly (a known version, the fixed bit,
//     connection IDs of at most 20 bytes, a Length that fits), so that
//     other UDP protocols are rarely taken for it. SplitDatagram splits a
//     datagram into its coalesced packets: Initial (with its token),
//     0-RTT, Handshake, Retry, Version Negotiation and 1-RTT;
//     ParseShortHeader reads a 1-RTT header once the connection ID length
//     is known.
//   - Protection (RFC 9001 §5, RFC 9369 §3.3): InitialKeys derives both
//     sides' Initial keys from the client's first Destination Connection
//     ID (v1, v2 and draft-29 salts and labels); NewKeys derives keys from
//     a TLS 1.3 traffic secret for TLS_AES_128_GCM_SHA256,
//     TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256 (AES or
//     ChaCha20 header protection). Keys.Open removes header protection,
//     decodes the packet number (DecodePacketNumber, RFC 9000 A.3) and
//     decrypts. VerifyRetry checks a Retry's integrity tag.
//   - Frames (RFC 9000 §19): ParseFrames reads the frames allowed in
//     Initial and Handshake packets (PADDING, PING, ACK, ACK_ECN, CRYPTO,
//     CONNECTION_CLOSE of both kinds) and stops, with an error naming it,
//     at any other.
//   - CRYPTO streams: CryptoStream reassembles one packet number space's
//     CRYPTO frames, out of order, repeated or overlapping, across
//     packets, and yields whole TLS handshake messages (QUIC has no TLS
//     records) with the packet numbers that carried them: a post-quantum
//     ClientHello spans several Initial packets.
//   - Transport parameters (RFC 9000 §18, RFC 9368, RFC 9287):
//     ParseTransportParameters decodes the quic_transport_parameters
//     extension (57) of a ClientHello or EncryptedExtensions.
//   - Connections: Connection ties these together for one QUIC
//     connection: fed the datagrams of both directions, it derives and
//     re-derives the Initial keys (after Retry, after Version Negotiation,
//     for the server's version after compatible version negotiation), asks
//     for the handshake secrets once the ServerHello is read, and returns
//     events: handshake messages, CONNECTION_CLOSE frames, Retry and
//     Version Negotiation packets, and problems.
//
// What it does not do:
//
//   - It does not group datagrams into connections or decide which side
//     is the client; the caller does, by UDP addresses and
//     IsClientInitial. A new connection on the same addresses is the
//     caller's to notice.
//   - It does not parse TLS messages: package dissect does, on the bodies
//     of the HandshakeMessages.
//   - Connection only counts 0-RTT and 1-RTT packets; Keys can open them
//     given the traffic secrets, but key updates, STREAM frames and
//     HTTP/3 are out of scope, and ParseFrames stops at STREAM frames.
//   - Versions other than 1, 2 and draft-29 are recognised only by their
//     version-independent header fields (RFC 8999); AES-128-CCM packet
//     protection is not supported.
//   - It is an observer, not an endpoint: it reports breaches of the
//     protocol (reserved bits set, a frame not allowed in a packet type,
//     conflicting retransmissions, invalid transport parameter values) and
//     goes on; it never discards what it could read.
package quic
