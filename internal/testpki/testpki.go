// Package testpki makes a throwaway PKI for tests that run real TLS
// handshakes: a root CA, a server certificate for "server.test" (and
// 127.0.0.1, ::1, 10.0.0.0/8 test addresses given), and a client
// certificate, as crypto/tls configurations and as PEM files for OpenSSL
// and GnuTLS.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI holds the certificates and their files.
type PKI struct {
	Pool   *x509.CertPool
	Server tls.Certificate
	Client tls.Certificate
	// Files in Dir: ca.pem, server.pem, server.key, client.pem, client.key.
	Dir string
}

// New makes a PKI and writes its files to dir. The server certificate
// names server.test and the given IP addresses.
func New(dir string, ips ...net.IP) (*PKI, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tlsinspect test root", Organization: []string{"tlsinspect test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &PKI{Pool: x509.NewCertPool(), Dir: dir}
	p.Pool.AddCert(ca)
	if err := writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, file string) (tls.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"tlsinspect test"}},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{cn},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = ips
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := writePEM(filepath.Join(dir, file+".pem"), "CERTIFICATE", der); err != nil {
			return tls.Certificate{}, err
		}
		if err := writePEM(filepath.Join(dir, file+".key"), "PRIVATE KEY", kder); err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	if p.Server, err = leaf(2, "server.test", x509.ExtKeyUsageServerAuth, "server"); err != nil {
		return nil, err
	}
	if p.Client, err = leaf(3, "client.test", x509.ExtKeyUsageClientAuth, "client"); err != nil {
		return nil, err
	}
	return p, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// ServerConfig returns a server configuration; with mutual set it requires
// and verifies a client certificate.
func (p *PKI) ServerConfig(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.Server}}
	if mutual {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.Pool
	}
	return c
}

// ClientConfig returns a client configuration for server.test; with
// withCert set it offers the client certificate.
func (p *PKI) ClientConfig(withCert bool) *tls.Config {
	c := &tls.Config{RootCAs: p.Pool, ServerName: "server.test"}
	if withCert {
		c.Certificates = []tls.Certificate{p.Client}
	}
	return c
}
