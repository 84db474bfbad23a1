package certinfo

import (
	"github.com/tlsinspect/tlsinspect/internal/testcorpus"
	"os"
	"path/filepath"
	"testing"
)

// TestCorpusMLDSA cross-checks an ML-DSA-44 certificate from Zeek's test
// traces against Zeek's x509.log. The capture is third-party and not in the
// repository; the test skips when ../shared is absent.
func TestCorpusMLDSA(t *testing.T) {
	pcap, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), "zeek/testing/btest/Traces/tls/ml-dsa-44-cert.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	// Find the certificate by shape: SEQUENCE(2-byte length) holding one.
	var c *Certificate
	for i := 0; i+8 < len(pcap) && c == nil; i++ {
		if pcap[i] != 0x30 || pcap[i+1] != 0x82 || pcap[i+4] != 0x30 || pcap[i+5] != 0x82 {
			continue
		}
		n := 4 + (int(pcap[i+2])<<8 | int(pcap[i+3]))
		if i+n > len(pcap) {
			continue
		}
		if got := Parse(pcap[i : i+n]); got.ParseError == "" {
			c = got
		}
	}
	if c == nil {
		t.Fatal("no certificate found in the capture")
	}
	// Values from ml-dsa-44-cert.pcap.zeek.ml-dsa-44-cert.x509.log.
	want := Certificate{
		Subject: "CN=ml-dsa.example.com,O=PQC-Test,C=US", SubjectCN: "ml-dsa.example.com",
		Issuer: "CN=ml-dsa.example.com,O=PQC-Test,C=US", Serial: "6CC93D07602EC79CFD5201B425D1A93C7023197F",
		KeyType: "ML-DSA-44", SignatureAlgorithm: "ML-DSA-44", Version: 3, IsCA: true, SelfSigned: true,
		SHA256:    "fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758",
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, SHA1: c.SHA1, Length: c.Length, DNSNames: c.DNSNames,
	}
	diff(t, c, &want)
	if c.NotBefore.Unix() != 1775199968 || c.NotAfter.Unix() != 1806735968 {
		t.Errorf("validity %v - %v", c.NotBefore, c.NotAfter)
	}
}
