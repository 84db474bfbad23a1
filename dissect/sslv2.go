package dissect

import "golang.org/x/crypto/cryptobyte"

// ParseSSLv2ClientHello parses an SSLv2-format CLIENT-HELLO (the form TLS
// clients use for backward compatibility, RFC 5246 appendix E.2) and
// converts it to a ClientHello with SSLv2 set. msg is the SSLv2 record body
// starting at the msg_type byte (1):
//
//	msg_type(1) version(2) cipher_spec_length(2) session_id_length(2)
//	challenge_length(2) cipher_specs(3 each) session_id challenge
//
// Cipher specs of the form 0x00XXYY become the TLS suite 0xXXYY in
// CipherSuites; SSLv2-only kinds (first byte non-zero, e.g. 0x010080) go to
// SSLv2CipherSpecs. The challenge becomes Random, right-aligned and padded
// with leading zeros to 32 bytes. There are no extensions or compression
// methods; PaddingLength is -1.
func ParseSSLv2ClientHello(msg []byte) (*ClientHello, error) {
	m := &ClientHello{Raw: msg, SSLv2: true, PaddingLength: -1}
	r := newReader("SSLv2ClientHello", msg, &m.Anomalies)
	var typ uint8
	if err := r.u8("msg_type", &typ); err != nil {
		return m, err
	}
	if typ != SSLv2ClientHello {
		return m, r.errAt("msg_type", 0, "got %d, want 1 (CLIENT-HELLO)", typ)
	}
	if err := r.u16("version", &m.Version); err != nil {
		return m, err
	}
	var specLen, sidLen, chLen uint16
	if err := r.u16("cipher_spec_length", &specLen); err != nil {
		return m, err
	}
	if err := r.u16("session_id_length", &sidLen); err != nil {
		return m, err
	}
	if err := r.u16("challenge_length", &chLen); err != nil {
		return m, err
	}
	var specs cryptobyte.String
	start := r.off()
	if !r.s.ReadBytes((*[]byte)(&specs), int(specLen)) {
		return m, r.errAt("cipher_specs", start, "length %d exceeds remaining %d", specLen, len(r.s))
	}
	if specLen%3 != 0 {
		r.note("cipher_specs", start, "length %d is not a multiple of 3", specLen)
	}
	m.CipherSuites = []uint16{}
	var spec uint32
	for specs.ReadUint24(&spec) {
		if spec>>16 == 0 {
			m.CipherSuites = append(m.CipherSuites, uint16(spec))
		} else {
			m.SSLv2CipherSpecs = append(m.SSLv2CipherSpecs, spec)
		}
	}
	start = r.off()
	if err := r.bytes("session_id", int(sidLen), &m.SessionID); err != nil {
		return m, err
	}
	if sidLen != 0 && sidLen != 16 {
		r.note("session_id", start, "length %d is neither 0 nor 16", sidLen)
	}
	start = r.off()
	var challenge []byte
	if err := r.bytes("challenge", int(chLen), &challenge); err != nil {
		return m, err
	}
	if chLen < 16 || chLen > 32 {
		r.note("challenge", start, "length %d outside 16..32", chLen)
	}
	if len(challenge) > 32 {
		challenge = challenge[len(challenge)-32:]
	}
	m.Random = make([]byte, 32)
	copy(m.Random[32-len(challenge):], challenge)
	r.trailing("message")
	return m, nil
}
