// Package capture is where packets come from: capture files (FileSource)
// and live interfaces (LiveSource). Both yield Packets through the same
// Next method, so everything after this package is shared.
//
// A FileSource recognises the file format by its content, not its name:
// classic pcap (microsecond and nanosecond timestamps, either byte order),
// pcapng (several sections and interfaces, mixed link types, either byte
// order) and either of them gzip-compressed. Reading is done with
// github.com/gopacket/gopacket/pcapgo; this package adds format detection,
// gzip for pcapng, a bound on the size of a single packet and precise
// errors for damaged files.
//
// Next returns the packets one by one, each with its 1-based index in the
// file, its own link type (pcapng files may mix interfaces), its timestamp,
// the captured bytes and the length on the wire. The bytes are only valid
// until the next call to Next.
//
// A damaged file is read as far as it is intact: every packet before the
// damage is returned, then Next returns a *ReadError naming the file and the
// packet that could not be read, for example
//
//	capture.pcap: packet 7: truncated packet record (header says 1514 bytes, 200 present)
//
// A clean end of file is io.EOF. errors.Is(err, ErrTruncated) tells a file
// that ends early from one whose content is invalid (ErrCorrupt).
//
// pcapng Decryption Secrets Blocks, such as the TLS key logs that
// editcap --inject-secrets embeds, are handed to FileSource.OnSecrets in
// file order, before the packets that follow them. pcapgo skips these
// blocks, so FileSource finds them itself by following the block headers
// in the byte stream as it is read, without copying it.
//
// OpenLive captures from an interface: on Linux through an AF_PACKET
// TPACKET_V3 ring (pure Go), with the capture filter and the drop of
// loopback's duplicate outgoing copies done in the kernel; with the build
// tag pcap through libpcap; elsewhere it returns ErrLiveUnsupported. Its
// Next returns ErrNoPacket after about 100 ms without a packet, so the
// caller can act on time passing on a quiet link. On Linux, sources
// opened with the same LiveConfig.FanoutGroup share an interface through
// an AF_PACKET fanout group, each connection going whole to one of them,
// so that several workers can analyse its traffic in parallel.
// ListInterfaces lists what can be captured on.
package capture
