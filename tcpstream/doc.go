// Package tcpstream reassembles TCP segments into in-order bytes per
// connection and direction for a passive TLS handshake analyzer.
//
// It is purpose-built rather than a wrapper around gopacket/reassembly: the
// analyzer only needs the first bytes of each direction (the handshake), so
// buffering stops the moment the consumer says it has what it needs, and a
// finished connection shrinks to a cheap tombstone that absorbs its
// remaining packets with a single map lookup. Every anomaly (gaps, conflicting
// retransmissions, buffer overflow, mid-connection pickup) is counted and
// reported, and memory stays flat over long captures because out-of-order
// data, connections and tombstones are all bounded and expire on packet time.
//
// # Model
//
// The caller feeds already-decoded TCP segments to [Assembler.Segment] in
// capture order. A connection is keyed by its unordered 4-tuple; the first
// packet of an unknown 4-tuple asks the [Handler] for a [Receiver] (nil
// ignores the connection). Client and server roles come from the SYN /
// SYN-ACK when seen; otherwise they are guessed (see [ConnInfo.SawSYN]).
//
// Per direction the Receiver gets in-order payload through Data, Gap for
// bytes that will never be seen (lost from the capture, skipped because the
// out-of-order buffer is full, or outstanding when the connection ends), and
// Note for anomalies. Sequence numbers use serial arithmetic (RFC 1982), so
// streams crossing 2^32 are handled. Overlapping data keeps the first copy;
// a retransmission whose bytes differ from it (still buffered out of order,
// or among the last 4 KiB delivered in that direction) is counted in
// Stats.Conflicts and noted.
//
// A hole is skipped (Gap, then the buffered bytes after it) when:
//   - the peer acknowledges bytes beyond the hole (the endpoint received the
//     segment but the capture did not, so it will never be retransmitted);
//   - the out-of-order buffer would exceed [Config.MaxBufferedPerDir];
//   - the connection closes (FIN in both directions, RST, idle timeout,
//     eviction, tuple reuse, or end of input).
//
// When Wants(dir) returns false the direction's buffer is dropped and its
// payload ignored; when both directions are unwanted all reassembly state is
// freed and only a tombstone remains, which still tracks FIN/RST so Close is
// reported with the real reason. Close is called exactly once per Receiver.
//
// Time is packet time: idle timeouts compare packet timestamps, never the
// wall clock, so offline captures behave like live ones. The caller decides
// when idle connections are looked for (FlushIdle, every
// Config.FlushInterval of packet time), so that connections spread over
// several Assemblers expire at the same packets. The Assembler is not
// safe for concurrent use, and Receivers must not call back into it.
package tcpstream
