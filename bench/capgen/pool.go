package capgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Kind is the type of handshake of a pool entry.
type Kind int

// Kinds, cycled through by NewPool.
const (
	TLS12RSA       Kind = iota // TLS 1.2 ECDHE-RSA AES-128-GCM, RSA leaf + intermediate + root
	TLS12RSAMutual             // TLS 1.2 ECDHE-RSA AES-256-GCM, client certificate
	TLS12Resumed               // TLS 1.2 ECDHE-RSA ChaCha20, resumed with a session ticket
	TLS12ECDSA                 // TLS 1.2 ECDHE-ECDSA AES-128-GCM
	TLS13RSA                   // TLS 1.3, RSA chain
	TLS13Mutual                // TLS 1.3, ECDSA chain, client certificate
	TLS13Resumed               // TLS 1.3 PSK resumption
	TLS13ALPN                  // TLS 1.3, ECDSA chain, X25519 only, ALPN h2
	numKinds
)

var kindNames = [...]string{"tls12-rsa", "tls12-rsa-mtls", "tls12-resumed", "tls12-ecdsa", "tls13-rsa", "tls13-mtls", "tls13-resumed", "tls13-alpn"}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Entry is one recorded TLS session: handshake, a request, a response,
// close_notify from both sides.
type Entry struct {
	Index       int
	Kind        Kind
	SNI         string
	Version     uint16 // negotiated, from tls.ConnectionState
	CipherSuite uint16
	Resumed     bool
	Mutual      bool // the client sent a certificate
	ALPN        string
	Chunks      []Chunk
	// Chunks[RespStart:RespEnd] are the records of the server's response
	// (one per chunk: crypto/tls writes each record separately).
	RespStart, RespEnd int
}

// Pool is a set of recorded sessions that captures are synthesized from.
type Pool struct {
	Entries []*Entry
}

// requestSize is the size of the client's request in every session.
const requestSize = 200

// NewPool records n sessions, cycling through the Kinds; in each the server
// answers the client's 200-byte request with responseBytes bytes, written
// 16 KB at a time (crypto/tls makes records of at most 16 KB).
func NewPool(n, responseBytes int) (*Pool, error) {
	if n <= 0 || responseBytes <= 0 {
		return nil, errors.New("capgen: pool size and response size must be positive")
	}
	p, err := getPKI()
	if err != nil {
		return nil, fmt.Errorf("capgen: certificates: %w", err)
	}
	pool := &Pool{Entries: make([]*Entry, n)}
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pool.Entries[i], errs[i] = recordEntry(p, i, Kind(i%int(numKinds)), responseBytes)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return pool, nil
}

func configs(p *pki, k Kind, sni string) (*tls.Config, *tls.Config) {
	cc := &tls.Config{ServerName: sni, RootCAs: p.roots}
	sc := &tls.Config{}
	switch k {
	case TLS12RSA, TLS12RSAMutual, TLS12Resumed, TLS13RSA, TLS13Resumed:
		sc.Certificates = []tls.Certificate{p.rsaServer}
	default:
		sc.Certificates = []tls.Certificate{p.ecServer}
	}
	switch k {
	case TLS12RSA:
		cc.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	case TLS12RSAMutual:
		cc.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	case TLS12Resumed:
		cc.CipherSuites = []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}
	case TLS12ECDSA:
		cc.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}
	case TLS13ALPN:
		cc.CurvePreferences = []tls.CurveID{tls.X25519}
		cc.NextProtos = []string{"h2", "http/1.1"}
		sc.NextProtos = []string{"h2"}
	}
	switch k {
	case TLS12RSA, TLS12RSAMutual, TLS12Resumed, TLS12ECDSA:
		cc.MaxVersion = tls.VersionTLS12
	default:
		cc.MinVersion = tls.VersionTLS13
	}
	if k == TLS12RSAMutual || k == TLS13Mutual {
		cc.Certificates = []tls.Certificate{p.clientCert}
		sc.ClientAuth = tls.RequireAndVerifyClientCert
		sc.ClientCAs = p.roots
	}
	if k == TLS12Resumed || k == TLS13Resumed {
		cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	return cc, sc
}

func recordEntry(p *pki, i int, k Kind, responseBytes int) (*Entry, error) {
	sni := fmt.Sprintf("svc%02d.%s", i, Domain)
	cc, sc := configs(p, k, sni)
	if cc.ClientSessionCache != nil {
		// A first, unrecorded session fills the client's cache.
		if _, err := session(cc, sc, requestSize); err != nil {
			return nil, fmt.Errorf("capgen: entry %d (%v) first session: %w", i, k, err)
		}
	}
	e, err := session(cc, sc, responseBytes)
	if err != nil {
		return nil, fmt.Errorf("capgen: entry %d (%v): %w", i, k, err)
	}
	e.Index, e.Kind, e.SNI = i, k, sni
	if (k == TLS12Resumed || k == TLS13Resumed) != e.Resumed {
		return nil, fmt.Errorf("capgen: entry %d (%v): resumed=%v", i, k, e.Resumed)
	}
	return e, nil
}

// session runs one client/server session over a recording pipe.
func session(cc, sc *tls.Config, responseBytes int) (*Entry, error) {
	rec := &recorder{}
	cEnd, sEnd := newPipe(rec)
	e := &Entry{}
	srvErr := make(chan error, 1)
	go func() {
		srvErr <- func() error {
			s := tls.Server(sEnd, sc)
			defer s.Close()
			if err := s.Handshake(); err != nil {
				return err
			}
			req := make([]byte, requestSize)
			if _, err := io.ReadFull(s, req); err != nil {
				return fmt.Errorf("server reading request: %w", err)
			}
			e.RespStart = rec.len()
			chunk := make([]byte, 16<<10)
			for i := range chunk {
				chunk[i] = byte(i * 7)
			}
			for left := responseBytes; left > 0; {
				n := min(left, len(chunk))
				if _, err := s.Write(chunk[:n]); err != nil {
					return err
				}
				left -= n
			}
			e.RespEnd = rec.len()
			// Wait for the client's close_notify, then send ours.
			if _, err := s.Read(make([]byte, 1)); err != io.EOF {
				return fmt.Errorf("server waiting for close_notify: %v", err)
			}
			return s.Close()
		}()
	}()
	err := func() error {
		c := tls.Client(cEnd, cc)
		defer c.Close()
		if err := c.Handshake(); err != nil {
			return err
		}
		if _, err := c.Write(make([]byte, requestSize)); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, c, int64(responseBytes)); err != nil {
			return fmt.Errorf("client reading response: %w", err)
		}
		st := c.ConnectionState()
		e.Version, e.CipherSuite, e.Resumed, e.ALPN = st.Version, st.CipherSuite, st.DidResume, st.NegotiatedProtocol
		e.Mutual = len(cc.Certificates) > 0
		return c.Close()
	}()
	if err != nil {
		cEnd.Close()
		sEnd.Close()
		<-srvErr
		return nil, err
	}
	if err := <-srvErr; err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	rec.mu.Lock()
	e.Chunks = rec.chunks
	rec.mu.Unlock()
	return e, nil
}
