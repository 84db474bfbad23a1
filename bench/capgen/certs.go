package capgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"time"
)

// Domain is the parent domain of every SNI in the pool; the server
// certificates are valid for *.Domain.
const Domain = "bench.example"

// pki is the certificate material shared by every pool: a root CA, an
// intermediate CA, RSA and ECDSA server leaves and an ECDSA client leaf,
// all issued by the intermediate.
type pki struct {
	roots      *x509.CertPool
	rsaServer  tls.Certificate // leaf, intermediate, root: three certificates sent
	ecServer   tls.Certificate // leaf, intermediate, root
	clientCert tls.Certificate // leaf, intermediate
}

var (
	pkiOnce sync.Once
	pkiVal  *pki
	pkiErr  error
)

// getPKI makes the certificates once per process (RSA key generation is the
// slow part).
func getPKI() (*pki, error) {
	pkiOnce.Do(func() { pkiVal, pkiErr = newPKI() })
	return pkiVal, pkiErr
}

func newPKI() (*pki, error) {
	// Valid both now, when the sessions are made (crypto/tls verifies the
	// chain), and at the packet times of a capture (DefaultStart on):
	// real traffic mostly carries certificates valid when it is seen.
	now := time.Now()
	notBefore := now.Add(-time.Hour)
	if DefaultStart.Before(notBefore) {
		notBefore = DefaultStart.Add(-24 * time.Hour)
	}
	notAfter := now.Add(2 * 365 * 24 * time.Hour)
	serial := int64(1)
	issue := func(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, signer crypto.Signer) (*x509.Certificate, error) {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = notBefore, notAfter
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			return nil, err
		}
		return x509.ParseCertificate(der)
	}
	ecKey := func() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

	rootKey, err := ecKey()
	if err != nil {
		return nil, err
	}
	root, err := issue(&x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"tlsinspect bench"}, CommonName: "tlsinspect bench root CA"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}, rootKey.Public(), nil, rootKey)
	if err != nil {
		return nil, err
	}
	interKey, err := ecKey()
	if err != nil {
		return nil, err
	}
	inter, err := issue(&x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"tlsinspect bench"}, CommonName: "tlsinspect bench intermediate CA"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, interKey.Public(), root, rootKey)
	if err != nil {
		return nil, err
	}
	leaf := func(cn string, key crypto.Signer, usage x509.ExtKeyUsage, dns []string, chain ...*x509.Certificate) (tls.Certificate, error) {
		ku := x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			ku |= x509.KeyUsageKeyEncipherment
		}
		c, err := issue(&x509.Certificate{
			Subject:     pkix.Name{Organization: []string{"tlsinspect bench"}, CommonName: cn},
			DNSNames:    dns,
			KeyUsage:    ku,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}, key.Public(), inter, interKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		tc := tls.Certificate{PrivateKey: key, Leaf: c, Certificate: [][]byte{c.Raw}}
		for _, p := range chain {
			tc.Certificate = append(tc.Certificate, p.Raw)
		}
		return tc, nil
	}

	p := &pki{roots: x509.NewCertPool()}
	p.roots.AddCert(root)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	wild := []string{"*." + Domain, Domain}
	if p.rsaServer, err = leaf("*."+Domain, rsaKey, x509.ExtKeyUsageServerAuth, wild, inter, root); err != nil {
		return nil, err
	}
	k, err := ecKey()
	if err != nil {
		return nil, err
	}
	if p.ecServer, err = leaf("*."+Domain, k, x509.ExtKeyUsageServerAuth, wild, inter, root); err != nil {
		return nil, err
	}
	if k, err = ecKey(); err != nil {
		return nil, err
	}
	if p.clientCert, err = leaf("bench client", k, x509.ExtKeyUsageClientAuth, nil, inter); err != nil {
		return nil, err
	}
	return p, nil
}
