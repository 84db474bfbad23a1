package quic

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// Space is a packet number space (RFC 9000 §12.3).
type Space uint8

const (
	SpaceInitial Space = iota
	SpaceHandshake
	SpaceApplication
)

func (s Space) String() string {
	switch s {
	case SpaceInitial:
		return "Initial"
	case SpaceHandshake:
		return "Handshake"
	case SpaceApplication:
		return "Application"
	}
	return fmt.Sprintf("Space(%d)", uint8(s))
}

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventMessage: a TLS handshake message was reassembled (Message).
	EventMessage EventKind = iota + 1
	// EventConnectionClose: a CONNECTION_CLOSE frame was read (Close).
	EventConnectionClose
	// EventRetry: the server sent a Retry whose integrity tag verified
	// (Packet); the client's next Initials start the handshake again.
	EventRetry
	// EventVersionNegotiation: the server sent a Version Negotiation
	// packet (Packet, whose SupportedVersions it lists).
	EventVersionNegotiation
	// EventProblem: something could not be read or broke the protocol
	// (Err); what was read around it stands.
	EventProblem
)

func (k EventKind) String() string {
	switch k {
	case EventMessage:
		return "message"
	case EventConnectionClose:
		return "connection_close"
	case EventRetry:
		return "retry"
	case EventVersionNegotiation:
		return "version_negotiation"
	case EventProblem:
		return "problem"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is something Connection found in a datagram. Its slices are the
// caller's: they do not alias the datagram.
type Event struct {
	Kind       EventKind
	FromClient bool
	Space      Space                 // the packet number space (messages, closes, problems with a packet)
	Message    *HandshakeMessage     // EventMessage
	Close      *ConnectionCloseFrame // EventConnectionClose
	Packet     *Packet               // EventRetry, EventVersionNegotiation
	Err        error                 // EventProblem
}

// Counts are the packets one side sent, by type, and how many of the
// protected ones were opened.
type Counts struct {
	Initial, ZeroRTT, Handshake, Retry, VersionNegotiation, OneRTT, UnknownVersion int
	// Opened are the Initial and Handshake packets decrypted.
	Opened int
	// Unopened are the Initial and Handshake packets that were not: no
	// keys (Handshake without a key log), wrong keys, or damage.
	Unopened int
}

func (c *Counts) add(t PacketType) {
	switch t {
	case PacketInitial:
		c.Initial++
	case Packet0RTT:
		c.ZeroRTT++
	case PacketHandshake:
		c.Handshake++
	case PacketRetry:
		c.Retry++
	case PacketVersionNegotiation:
		c.VersionNegotiation++
	case Packet1RTT:
		c.OneRTT++
	case PacketUnknownVersion:
		c.UnknownVersion++
	}
}

// Limits on what a Connection holds.
const (
	// maxHeldHandshake is how many bytes of Handshake packets per side are
	// held, while HandshakeSecrets is set, until the keys are known (the
	// server's Handshake packets can arrive before its Initial with the
	// ServerHello when packets are reordered or lost).
	maxHeldHandshake = 16 << 10
	// maxRetryCandidates bounds the Retry packets waiting for the client
	// to answer one of them.
	maxRetryCandidates = 4
	// maxKeyVersions bounds the versions keys are derived for.
	maxKeyVersions = 3
)

// Connection follows the handshake of one QUIC connection as an observer:
// it takes the UDP payloads of both directions in capture order, splits
// them into packets, decrypts Initial packets with keys derived from the
// client's first Destination Connection ID, and Handshake packets when the
// TLS handshake secrets are known, reassembles the CRYPTO streams and
// returns the handshake messages as events.
//
// It knows nothing of addresses: which datagrams belong to a connection,
// and which side is the client (see IsClientInitial), is the caller's
// business. 0-RTT and 1-RTT packets are only counted. Memory is bounded:
// CryptoStream.Max per stream, 16 KiB of held Handshake packets per side.
//
// A Connection is not safe for concurrent use. Fields are maintained by
// Datagram; the caller reads them and sets only the configuration fields
// (MaxCryptoBuffer, HandshakeSecrets) before the first Datagram.
type Connection struct {
	// MaxCryptoBuffer is the CryptoStream.Max of each stream; 0 means
	// DefaultMaxCryptoBuffer.
	MaxCryptoBuffer int
	// HandshakeSecrets, when set, is asked for the TLS 1.3 handshake
	// traffic secrets (a key log's CLIENT_HANDSHAKE_TRAFFIC_SECRET and
	// SERVER_HANDSHAKE_TRAFFIC_SECRET) once the ServerHello has been
	// read, by the ClientHello's random; either may be nil when unknown.
	// With them the Handshake packets are decrypted.
	HandshakeSecrets func(clientRandom []byte) (client, server []byte)

	// Version is the version of the client's latest Initial packet;
	// ServerVersion that of the server's, which differs after compatible
	// version negotiation (RFC 9368).
	Version, ServerVersion Version
	// OriginalDCID is the Destination Connection ID of the client's first
	// Initial packet (Zeek's client_initial_dcid).
	OriginalDCID []byte
	// InitialDCID is the connection ID the Initial keys derive from:
	// OriginalDCID, the Source Connection ID of the Retry the client
	// followed, or the client's new DCID after Version Negotiation.
	InitialDCID []byte
	// ClientSCID and ServerSCID are the Source Connection IDs of the
	// first Initial packet of each side that decrypted.
	ClientSCID, ServerSCID []byte
	// Retries counts the Retry packets whose integrity tag verified.
	Retries int
	// VersionNegotiation is the version list of the server's Version
	// Negotiation packet, if it sent one.
	VersionNegotiation []Version
	// Client and Server count the packets of each side.
	Client, Server Counts

	retrySCIDs  [][]byte
	initialKeys map[Version][2]*Keys // [client, server]
	sides       [2]side              // [client, server]

	clientRandom []byte
	askedSecrets bool // HandshakeSecrets has been asked: hold no more packets
	suite        uint16
	secrets      [2][]byte // handshake traffic secrets [client, server]
	hsKeys       map[Version][2]*Keys
}

// side is what one sender's packets build up.
type side struct {
	spaces   [2]spaceState // Initial, Handshake
	held     [][]byte      // Handshake packets waiting for keys
	heldSize int
	dropped  bool // a Handshake packet was dropped for want of keys and room
}

type spaceState struct {
	// next is one more than the largest packet number opened, 0 before
	// the first: the zero value is a space with nothing received.
	next   uint64
	crypto CryptoStream
}

// largest is the largest packet number opened, or NoPacketNumber.
func (st *spaceState) largest() int64 { return int64(st.next) - 1 }

func sideIndex(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

func (c *Connection) side(fromClient bool) *side { return &c.sides[sideIndex(fromClient)] }

func (c *Connection) counts(fromClient bool) *Counts {
	if fromClient {
		return &c.Client
	}
	return &c.Server
}

func (c *Connection) space(fromClient bool, sp Space) *spaceState {
	st := &c.side(fromClient).spaces[sp]
	st.crypto.Max = c.MaxCryptoBuffer // 0 is CryptoStream's default too
	return st
}

// resetInitial starts the Initial packet number space again, for both
// sides: after a Retry the client sends its ClientHello again from offset
// 0 (keeping its packet numbers, RFC 9000 §17.2.5.3); after Version
// Negotiation it starts a new connection (and numbers from 0).
func (c *Connection) resetInitial(keepNumbers bool) {
	for i := range c.sides {
		st := &c.sides[i].spaces[SpaceInitial]
		st.crypto = CryptoStream{}
		if !keepNumbers {
			st.next = 0
		}
	}
	c.initialKeys = nil
}

// Datagram processes one UDP payload sent by the client (fromClient) or
// the server, and returns what it found, in order.
func (c *Connection) Datagram(fromClient bool, datagram []byte) []Event {
	var ev []Event
	packets, err := SplitDatagram(datagram)
	for i := range packets {
		ev = c.packet(ev, fromClient, &packets[i])
	}
	if err != nil {
		ev = append(ev, Event{Kind: EventProblem, FromClient: fromClient, Err: err})
	}
	return ev
}

func (c *Connection) packet(ev []Event, fromClient bool, p *Packet) []Event {
	c.counts(fromClient).add(p.Type)
	switch p.Type {
	case PacketVersionNegotiation:
		return c.versionNegotiation(ev, fromClient, p)
	case PacketRetry:
		return c.retry(ev, fromClient, p)
	case PacketInitial:
		return c.initial(ev, fromClient, p)
	case PacketHandshake:
		return c.handshake(ev, fromClient, p)
	}
	return ev
}

func problem(fromClient bool, sp Space, format string, args ...any) Event {
	return Event{Kind: EventProblem, FromClient: fromClient, Space: sp, Err: fmt.Errorf(format, args...)}
}

// ownedPacket re-parses a copy of a long-header packet, so that an event
// can hold it without aliasing the datagram.
func ownedPacket(p *Packet) *Packet {
	q, err := ParseLongHeader(bytes.Clone(p.Raw))
	if err != nil { // cannot happen: p parsed from the same bytes
		return nil
	}
	return &q
}

func (c *Connection) versionNegotiation(ev []Event, fromClient bool, p *Packet) []Event {
	if fromClient {
		return append(ev, problem(true, SpaceInitial, "Version Negotiation packet from the client"))
	}
	if c.OriginalDCID != nil && !bytes.Equal(p.SCID, c.InitialDCID) {
		ev = append(ev, problem(false, SpaceInitial, "Version Negotiation packet's SCID %x does not echo the client's DCID %x", p.SCID, c.InitialDCID))
	}
	c.VersionNegotiation = slices.Clone(p.SupportedVersions)
	return append(ev, Event{Kind: EventVersionNegotiation, Packet: ownedPacket(p)})
}

func (c *Connection) retry(ev []Event, fromClient bool, p *Packet) []Event {
	if fromClient {
		return append(ev, problem(true, SpaceInitial, "Retry packet from the client"))
	}
	if c.InitialDCID == nil {
		return append(ev, problem(false, SpaceInitial, "Retry packet before any client Initial: cannot verify it"))
	}
	current := VerifyRetry(p, c.InitialDCID) == nil
	// A Retry answering the first attempt that arrives after the client
	// followed another one is genuine too, but the client ignores it.
	if !current && VerifyRetry(p, c.OriginalDCID) != nil {
		return append(ev, problem(false, SpaceInitial, "Retry packet (scid %x) for dcid %x: %w", p.SCID, c.InitialDCID, ErrRetryIntegrity))
	}
	c.Retries++
	if current && len(c.retrySCIDs) < maxRetryCandidates {
		c.retrySCIDs = append(c.retrySCIDs, bytes.Clone(p.SCID))
	}
	return append(ev, Event{Kind: EventRetry, Packet: ownedPacket(p)})
}

// initialKeysFor derives (once per version) the Initial keys from InitialDCID.
func (c *Connection) initialKeysFor(v Version) ([2]*Keys, error) {
	if k, ok := c.initialKeys[v]; ok {
		return k, nil
	}
	client, server, err := InitialKeys(v, c.InitialDCID)
	if err != nil {
		return [2]*Keys{}, err
	}
	if c.initialKeys == nil || len(c.initialKeys) >= maxKeyVersions {
		c.initialKeys = map[Version][2]*Keys{}
	}
	c.initialKeys[v] = [2]*Keys{client, server}
	return c.initialKeys[v], nil
}

// clientInitial updates the connection IDs the keys derive from for a
// client Initial: its first, one that follows a Retry, or the first of a
// new attempt after Version Negotiation.
func (c *Connection) clientInitial(p *Packet) {
	switch {
	case c.InitialDCID == nil:
		c.InitialDCID = bytes.Clone(p.DCID)
		c.OriginalDCID = c.InitialDCID
	case len(c.retrySCIDs) > 0 && slices.ContainsFunc(c.retrySCIDs, func(id []byte) bool { return bytes.Equal(id, p.DCID) }):
		c.InitialDCID = bytes.Clone(p.DCID)
		c.retrySCIDs = nil
		c.resetInitial(true)
	case c.VersionNegotiation != nil && p.Version != c.Version && slices.Contains(c.VersionNegotiation, p.Version):
		c.InitialDCID = bytes.Clone(p.DCID)
		c.resetInitial(false)
	}
	c.Version = p.Version
}

func (c *Connection) initial(ev []Event, fromClient bool, p *Packet) []Event {
	if fromClient {
		c.clientInitial(p)
	}
	if c.InitialDCID == nil {
		c.counts(fromClient).Unopened++
		return append(ev, problem(fromClient, SpaceInitial, "server Initial packet before any client Initial: its keys are unknown"))
	}
	keys, err := c.initialKeysFor(p.Version)
	if err != nil {
		c.counts(fromClient).Unopened++
		return append(ev, problem(fromClient, SpaceInitial, "%w", err))
	}
	ev, ok := c.open(ev, fromClient, SpaceInitial, keys[sideIndex(fromClient)], p)
	if ok {
		if fromClient && c.ClientSCID == nil {
			c.ClientSCID = bytes.Clone(p.SCID)
		}
		if !fromClient && c.ServerSCID == nil {
			c.ServerSCID = bytes.Clone(p.SCID)
			c.ServerVersion = p.Version
		}
	}
	return ev
}

func (c *Connection) handshake(ev []Event, fromClient bool, p *Packet) []Event {
	k := c.handshakeKeysFor(p.Version, fromClient)
	if k == nil {
		s := c.side(fromClient)
		if c.HandshakeSecrets != nil && !c.askedSecrets && s.heldSize+len(p.Raw) <= maxHeldHandshake {
			s.held = append(s.held, bytes.Clone(p.Raw))
			s.heldSize += len(p.Raw)
			return ev
		}
		c.counts(fromClient).Unopened++
		if c.HandshakeSecrets != nil && !c.askedSecrets && !s.dropped {
			s.dropped = true
			ev = append(ev, problem(fromClient, SpaceHandshake, "Handshake packet dropped: no keys for it"))
		}
		return ev
	}
	ev, _ = c.open(ev, fromClient, SpaceHandshake, k, p)
	return ev
}

// handshakeKeysFor derives (once per version) the Handshake keys from the
// secrets, or returns nil when the side's secret is unknown.
func (c *Connection) handshakeKeysFor(v Version, fromClient bool) *Keys {
	i := sideIndex(fromClient)
	if c.secrets[i] == nil {
		return nil
	}
	if k, ok := c.hsKeys[v]; ok && k[i] != nil {
		return k[i]
	}
	if c.hsKeys == nil || len(c.hsKeys) >= maxKeyVersions {
		c.hsKeys = map[Version][2]*Keys{}
	}
	k := c.hsKeys[v]
	var err error
	if k[i], err = NewKeys(v, c.suite, c.secrets[i]); err != nil {
		return nil
	}
	c.hsKeys[v] = k
	return k[i]
}

// setHandshakeSecrets takes the TLS 1.3 handshake traffic secrets of the
// connection and the cipher suite its ServerHello chose; either secret may
// be nil. It opens the Handshake packets held while the keys were unknown
// and returns what they gave.
func (c *Connection) setHandshakeSecrets(suite uint16, client, server []byte) ([]Event, error) {
	sp := suiteParams(suite)
	if sp == nil {
		return nil, fmt.Errorf("%w: 0x%04x", ErrUnsupportedSuite, suite)
	}
	for _, s := range [][]byte{client, server} {
		if s == nil {
			continue
		}
		if err := sp.checkSecret(s); err != nil {
			return nil, err
		}
	}
	c.suite = suite
	c.secrets = [2][]byte{bytes.Clone(client), bytes.Clone(server)}
	c.hsKeys = nil
	var ev []Event
	for i := range c.sides {
		s := &c.sides[i]
		held := s.held
		s.held, s.heldSize = nil, 0
		for _, raw := range held {
			p, err := ParseLongHeader(raw)
			if err != nil {
				continue
			}
			ev = c.handshake(ev, i == 0, &p)
		}
	}
	return ev, nil
}

// dropHeld forgets the held Handshake packets when no keys will come.
func (c *Connection) dropHeld() {
	for i := range c.sides {
		s := &c.sides[i]
		c.counts(i == 0).Unopened += len(s.held)
		s.held, s.heldSize = nil, 0
	}
}

// open decrypts a packet, parses its frames, feeds its CRYPTO frames to
// the space's stream and returns the messages and closes they complete.
func (c *Connection) open(ev []Event, fromClient bool, sp Space, k *Keys, p *Packet) ([]Event, bool) {
	st := c.space(fromClient, sp)
	op, err := k.Open(p, st.largest())
	if err != nil {
		c.counts(fromClient).Unopened++
		return append(ev, problem(fromClient, sp, "%w", err)), false
	}
	c.counts(fromClient).Opened++
	st.next = max(st.next, op.PacketNumber+1)
	if op.ReservedBits != 0 {
		ev = append(ev, problem(fromClient, sp, "%s packet %d: reserved header bits set (%d)", p.Type, op.PacketNumber, op.ReservedBits))
	}
	frames, ferr := ParseFrames(op.Payload, p.Type)
	for _, f := range frames {
		switch f := f.(type) {
		case *CryptoFrame:
			if st.crypto.Err() != nil {
				continue // reported once, when it stopped the stream
			}
			if err := st.crypto.Add(op.PacketNumber, f.Offset, f.Data); err != nil {
				ev = append(ev, problem(fromClient, sp, "%s packet %d: %w", p.Type, op.PacketNumber, err))
			}
		case *ConnectionCloseFrame:
			ev = append(ev, Event{Kind: EventConnectionClose, FromClient: fromClient, Space: sp, Close: f})
		}
	}
	if ferr != nil {
		ev = append(ev, problem(fromClient, sp, "%s packet %d: %w", p.Type, op.PacketNumber, ferr))
	}
	return c.messages(ev, fromClient, sp, st), true
}

// messages takes the complete handshake messages off a stream.
func (c *Connection) messages(ev []Event, fromClient bool, sp Space, st *spaceState) []Event {
	if st.crypto.Err() != nil {
		return ev // reported when it stopped the stream
	}
	for {
		m, ok, err := st.crypto.Next()
		if err != nil {
			return append(ev, problem(fromClient, sp, "%w", err))
		}
		if !ok {
			return ev
		}
		ev = append(ev, Event{Kind: EventMessage, FromClient: fromClient, Space: sp, Message: &m})
		if sp == SpaceInitial {
			ev = c.learnFromHello(ev, fromClient, &m)
		}
	}
}

// Handshake message types read by Connection.
const (
	typeClientHello = 1
	typeServerHello = 2
)

// helloRetryRequestRandom is SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
var helloRetryRequestRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// learnFromHello keeps the ClientHello's random and, at the ServerHello,
// asks HandshakeSecrets for the secrets of the chosen suite, opening the
// Handshake packets held until then. It reads only the fixed fields it
// needs; parsing the hellos is package dissect's job.
func (c *Connection) learnFromHello(ev []Event, fromClient bool, m *HandshakeMessage) []Event {
	s := cryptobyte.String(m.Body)
	var version uint16
	var random, sid []byte
	if !s.ReadUint16(&version) || !s.ReadBytes(&random, 32) || !s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sid)) {
		return ev
	}
	switch {
	case fromClient && m.Type == typeClientHello:
		c.clientRandom = bytes.Clone(random)
	case !fromClient && m.Type == typeServerHello && !bytes.Equal(random, helloRetryRequestRandom):
		var suite uint16
		if c.HandshakeSecrets == nil || c.clientRandom == nil || !s.ReadUint16(&suite) {
			return ev
		}
		c.askedSecrets = true
		client, server := c.HandshakeSecrets(c.clientRandom)
		if client == nil && server == nil {
			c.dropHeld()
			return ev
		}
		held, err := c.setHandshakeSecrets(suite, client, server)
		if err != nil {
			ev = append(ev, problem(false, SpaceHandshake, "handshake secrets: %w", err))
		}
		ev = append(ev, held...)
	}
	return ev
}
