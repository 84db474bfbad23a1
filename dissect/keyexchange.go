package dissect

//go:generate go run ./internal/kxgen -csv ../iana/csv/tls-parameters-4.csv -o keyexchange_gen.go

import (
	"fmt"
	"math/bits"
)

// KeyExchange is the key-exchange method of a TLS 1.0–1.2 cipher suite. It
// decides the layout of ServerKeyExchange and ClientKeyExchange.
type KeyExchange int

// Key-exchange methods, named after the <KX> part of TLS_<KX>_WITH_… suite names.
const (
	KeyExchangeUnknown   KeyExchange = iota
	KeyExchangeRSA                   // RSA
	KeyExchangeDHE                   // DHE_RSA, DHE_DSS (incl. EXPORT)
	KeyExchangeECDHE                 // ECDHE_RSA, ECDHE_ECDSA
	KeyExchangePSK                   // PSK
	KeyExchangeDHEPSK                // DHE_PSK, PSK_DHE
	KeyExchangeECDHEPSK              // ECDHE_PSK
	KeyExchangeRSAPSK                // RSA_PSK
	KeyExchangeDH                    // static DH_RSA, DH_DSS
	KeyExchangeECDH                  // static ECDH_RSA, ECDH_ECDSA
	KeyExchangeSRP                   // SRP_SHA, SRP_SHA_RSA, SRP_SHA_DSS
	KeyExchangeGOST                  // GOSTR341112_256 (RFC 9189)
	KeyExchangeRSAExport             // RSA_EXPORT (ServerKeyExchange carries a temporary RSA key)
	KeyExchangeDHAnon                // DH_anon: ephemeral DH, unsigned
	KeyExchangeECDHAnon              // ECDH_anon: ephemeral ECDH, unsigned
	KeyExchangeKRB5                  // KRB5 (RFC 2712)
	KeyExchangeECCPWD                // ECCPWD (RFC 8492)
)

var keyExchangeNames = [...]string{
	KeyExchangeUnknown:   "unknown",
	KeyExchangeRSA:       "RSA",
	KeyExchangeDHE:       "DHE",
	KeyExchangeECDHE:     "ECDHE",
	KeyExchangePSK:       "PSK",
	KeyExchangeDHEPSK:    "DHE_PSK",
	KeyExchangeECDHEPSK:  "ECDHE_PSK",
	KeyExchangeRSAPSK:    "RSA_PSK",
	KeyExchangeDH:        "DH",
	KeyExchangeECDH:      "ECDH",
	KeyExchangeSRP:       "SRP",
	KeyExchangeGOST:      "GOST",
	KeyExchangeRSAExport: "RSA_EXPORT",
	KeyExchangeDHAnon:    "DH_anon",
	KeyExchangeECDHAnon:  "ECDH_anon",
	KeyExchangeKRB5:      "KRB5",
	KeyExchangeECCPWD:    "ECCPWD",
}

func (k KeyExchange) String() string {
	if k >= 0 && int(k) < len(keyExchangeNames) {
		return keyExchangeNames[k]
	}
	return fmt.Sprintf("KeyExchange(%d)", int(k))
}

// KeyExchangeOf returns the key exchange of a TLS 1.0–1.2 cipher suite, from
// a table generated from the IANA registry. TLS 1.3 suites (0x13xx and the
// other suites that name no key exchange), SCSVs, GREASE and unassigned
// values give KeyExchangeUnknown: in TLS 1.3 the caller decides ECDHE/PSK
// from the key_share and pre_shared_key extensions.
func KeyExchangeOf(suite uint16) KeyExchange {
	return suiteKeyExchange[suite]
}

// ServerKeyExchange is a parsed ServerKeyExchange body (RFC 5246 §7.4.3,
// RFC 8422 §5.4, RFC 4279 §2–§4, RFC 5489 §2, RFC 5054 §2.5.3, RFC 8492 §4.2.2).
type ServerKeyExchange struct {
	KeyExchange KeyExchange
	// CurveType is the ECParameters curve_type: 1 explicit_prime,
	// 2 explicit_char2, 3 named_curve (0 when not an EC key exchange).
	CurveType uint8
	Group     uint16 // named curve; 0 for explicit curves
	// DHPrimeBits is the size of the DH prime p (or the SRP modulus N), in
	// bits, leading zero bits excluded.
	DHPrimeBits int
	// RSAModulusBits is the size of the temporary RSA key (RSA_EXPORT).
	RSAModulusBits int
	// PublicKeyLength is the length of the server's public value: dh_Ys,
	// the EC point, SRP B, ECCPWD element.
	PublicKeyLength int
	PSKIdentityHint []byte // PSK key exchanges
	// SignatureScheme is the TLS 1.2 SignatureAndHashAlgorithm
	// (hash<<8 | signature); 0 when not present (TLS 1.0/1.1, anonymous).
	SignatureScheme uint16
	HasSignature    bool
	SignatureLength int
	Anomalies       []string
}

// ParseServerKeyExchange parses a ServerKeyExchange body for key exchange kx
// (from KeyExchangeOf of the negotiated suite). version is the negotiated
// version; it decides whether the signature carries a SignatureAndHashAlgorithm
// (TLS 1.2, DTLS 1.2). With version 0 that is guessed from the bytes.
func ParseServerKeyExchange(body []byte, kx KeyExchange, version uint16) (*ServerKeyExchange, error) {
	m := &ServerKeyExchange{KeyExchange: kx}
	r := newReader("ServerKeyExchange", body, &m.Anomalies)
	signed := false
	switch kx {
	case KeyExchangeRSA, KeyExchangeRSAExport:
		if kx == KeyExchangeRSA {
			r.note("", 0, "ServerKeyExchange with RSA key exchange")
		}
		var mod, exp []byte
		if err := r.vecBytes("rsa_modulus", 2, &mod); err != nil {
			return m, err
		}
		m.RSAModulusBits = bitLen(mod)
		if err := r.vecBytes("rsa_exponent", 2, &exp); err != nil {
			return m, err
		}
		signed = true
	case KeyExchangeDHE, KeyExchangeDH, KeyExchangeDHAnon:
		if kx == KeyExchangeDH {
			r.note("", 0, "ServerKeyExchange with static DH key exchange")
		}
		if err := m.readDHParams(r); err != nil {
			return m, err
		}
		signed = kx != KeyExchangeDHAnon
	case KeyExchangeECDHE, KeyExchangeECDH, KeyExchangeECDHAnon:
		if kx == KeyExchangeECDH {
			r.note("", 0, "ServerKeyExchange with static ECDH key exchange")
		}
		if err := m.readECDHParams(r); err != nil {
			return m, err
		}
		signed = kx != KeyExchangeECDHAnon
	case KeyExchangePSK, KeyExchangeRSAPSK, KeyExchangeDHEPSK, KeyExchangeECDHEPSK:
		if err := r.vecBytes("psk_identity_hint", 2, &m.PSKIdentityHint); err != nil {
			return m, err
		}
		switch kx {
		case KeyExchangeDHEPSK:
			if err := m.readDHParams(r); err != nil {
				return m, err
			}
		case KeyExchangeECDHEPSK:
			if err := m.readECDHParams(r); err != nil {
				return m, err
			}
		}
	case KeyExchangeSRP:
		var n, g, salt, b []byte
		if err := r.vecBytes("srp_N", 2, &n); err != nil {
			return m, err
		}
		m.DHPrimeBits = bitLen(n)
		if err := r.vecBytes("srp_g", 2, &g); err != nil {
			return m, err
		}
		if err := r.vecBytes("srp_s", 1, &salt); err != nil {
			return m, err
		}
		if err := r.vecBytes("srp_B", 2, &b); err != nil {
			return m, err
		}
		m.PublicKeyLength = len(b)
		signed = true // SRP_SHA_RSA / SRP_SHA_DSS; SRP_SHA leaves no bytes
	case KeyExchangeECCPWD:
		var salt, elem, scalar []byte
		if err := r.vecBytes("salt", 1, &salt); err != nil {
			return m, err
		}
		if err := m.readECParams(r); err != nil {
			return m, err
		}
		if err := r.vecBytes("elem", 1, &elem); err != nil {
			return m, err
		}
		m.PublicKeyLength = len(elem)
		if err := r.vecBytes("scalar", 1, &scalar); err != nil {
			return m, err
		}
	default:
		return m, r.errAt("key exchange", 0, "no ServerKeyExchange layout for key exchange %v", kx)
	}
	if len(r.s) == 0 {
		return m, nil
	}
	if !signed {
		r.trailing("message")
		return m, nil
	}
	if kx == KeyExchangeDHAnon || kx == KeyExchangeECDHAnon {
		r.note("", r.off(), "signature on an anonymous key exchange")
	}
	withAlg := false
	switch versionLayout(version) {
	case layoutTLS12, layoutTLS13:
		withAlg = true
	case layoutGuess:
		// TLS 1.2: alg(2) len(2) sig; earlier: len(2) sig.
		s := r.s
		var n uint16
		withAlg = !(s.ReadUint16(&n) && int(n) == len(s))
	}
	m.HasSignature = true
	if withAlg {
		if err := r.u16("algorithm", &m.SignatureScheme); err != nil {
			return m, err
		}
	}
	var sig []byte
	if err := r.vecBytes("signature", 2, &sig); err != nil {
		return m, err
	}
	m.SignatureLength = len(sig)
	r.trailing("message")
	return m, nil
}

func (m *ServerKeyExchange) readDHParams(r *reader) error {
	var p, g, ys []byte
	if err := r.vecBytes("dh_p", 2, &p); err != nil {
		return err
	}
	m.DHPrimeBits = bitLen(p)
	if err := r.vecBytes("dh_g", 2, &g); err != nil {
		return err
	}
	if err := r.vecBytes("dh_Ys", 2, &ys); err != nil {
		return err
	}
	m.PublicKeyLength = len(ys)
	return nil
}

// readECParams reads ECParameters (RFC 4492 §5.4; explicit curves were
// deprecated by RFC 8422 but are read so the point after them can be found).
// readECDHParams reads ServerECDHParams: the curve, then the public point.
func (m *ServerKeyExchange) readECDHParams(r *reader) error {
	if err := m.readECParams(r); err != nil {
		return err
	}
	var point []byte
	if err := r.vecBytes("point", 1, &point); err != nil {
		return err
	}
	m.PublicKeyLength = len(point)
	return nil
}

func (m *ServerKeyExchange) readECParams(r *reader) error {
	start := r.off()
	if err := r.u8("curve_type", &m.CurveType); err != nil {
		return err
	}
	var v []byte
	switch m.CurveType {
	case 3: // named_curve
		return r.u16("namedcurve", &m.Group)
	case 1: // explicit_prime
		if err := r.vecBytes("prime_p", 1, &v); err != nil {
			return err
		}
	case 2: // explicit_char2
		var mm uint16
		var basis uint8
		if err := r.u16("m", &mm); err != nil {
			return err
		}
		if err := r.u8("basis", &basis); err != nil {
			return err
		}
		switch basis {
		case 1: // trinomial
			if err := r.vecBytes("k", 1, &v); err != nil {
				return err
			}
		case 2: // pentanomial
			for _, f := range []string{"k1", "k2", "k3"} {
				if err := r.vecBytes(f, 1, &v); err != nil {
					return err
				}
			}
		default:
			return r.errAt("basis", r.off()-1, "unknown basis type %d", basis)
		}
	default:
		return r.errAt("curve_type", start, "unknown curve type %d", m.CurveType)
	}
	r.note("curve_type", start, "explicit curve parameters (type %d)", m.CurveType)
	for _, f := range []string{"curve.a", "curve.b", "base", "order", "cofactor"} {
		if err := r.vecBytes(f, 1, &v); err != nil {
			return err
		}
	}
	return nil
}

// bitLen is the bit length of a big-endian unsigned integer.
func bitLen(b []byte) int {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	return (len(b)-1)*8 + bits.Len8(b[0])
}

// ClientKeyExchange is a best-effort reading of a ClientKeyExchange body.
type ClientKeyExchange struct {
	Length int // body length
	// PublicKeyLength is the length of the client's key-exchange value: the
	// encrypted premaster secret (RSA, RSA_PSK), dh_Yc, the EC point, SRP A,
	// ECCPWD element. 0 for an implicit (static, certificate-based) value.
	PublicKeyLength int
	PSKIdentity     []byte // PSK key exchanges
	Anomalies       []string
}

// ParseClientKeyExchange reads a ClientKeyExchange body for key exchange kx
// (RFC 5246 §7.4.7, RFC 8422 §5.7, RFC 4279, RFC 5054 §2.8, RFC 8492 §4.2.3).
// For RSA, TLS 1.0+ prefixes the encrypted premaster secret with a uint16
// length and SSL 3.0 does not; with version 0 the form is guessed.
func ParseClientKeyExchange(body []byte, kx KeyExchange, version uint16) (*ClientKeyExchange, error) {
	m := &ClientKeyExchange{Length: len(body)}
	r := newReader("ClientKeyExchange", body, &m.Anomalies)
	var v []byte
	var err error
	if kx == KeyExchangePSK || kx == KeyExchangeRSAPSK || kx == KeyExchangeDHEPSK || kx == KeyExchangeECDHEPSK {
		if err := r.vecBytes("psk_identity", 2, &m.PSKIdentity); err != nil {
			return m, err
		}
	}
	switch kx {
	case KeyExchangeRSA, KeyExchangeRSAExport:
		prefixed := version != VersionSSL30
		if version == 0 {
			s := r.s
			var n uint16
			prefixed = s.ReadUint16(&n) && int(n) == len(s)
		}
		if !prefixed {
			m.PublicKeyLength = len(r.s)
			r.s = nil
			return m, nil
		}
		err = r.vecBytes("encrypted_pre_master_secret", 2, &v)
	case KeyExchangeRSAPSK:
		err = r.vecBytes("encrypted_pre_master_secret", 2, &v)
	case KeyExchangeDHE, KeyExchangeDH, KeyExchangeDHAnon, KeyExchangeDHEPSK:
		if len(r.s) == 0 && kx == KeyExchangeDH {
			return m, nil // implicit: Yc is in the client certificate
		}
		err = r.vecBytes("dh_Yc", 2, &v)
	case KeyExchangeECDHE, KeyExchangeECDH, KeyExchangeECDHAnon, KeyExchangeECDHEPSK:
		if len(r.s) == 0 && kx == KeyExchangeECDH {
			return m, nil // implicit: the point is in the client certificate
		}
		err = r.vecBytes("ecdh_Yc", 1, &v)
	case KeyExchangePSK:
	case KeyExchangeSRP:
		err = r.vecBytes("srp_A", 2, &v)
	case KeyExchangeECCPWD:
		var scalar []byte
		if err := r.vecBytes("elem", 1, &v); err != nil {
			return m, err
		}
		err = r.vecBytes("scalar", 1, &scalar)
	case KeyExchangeGOST, KeyExchangeKRB5:
		// An ASN.1 structure / Kerberos ticket: kept as a length only.
		m.PublicKeyLength = len(r.s)
		r.s = nil
	default:
		return m, r.errAt("key exchange", 0, "no ClientKeyExchange layout for key exchange %v", kx)
	}
	m.PublicKeyLength = max(m.PublicKeyLength, len(v))
	if err != nil {
		return m, err
	}
	r.trailing("message")
	return m, nil
}
