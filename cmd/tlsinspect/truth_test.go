package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsinspect/tlsinspect/iana"
)

// endpointView is what one endpoint of a test capture reported about its own
// connection (testdata/pcaps/*.truth.json, written by generate.sh from Go's
// ConnectionState or OpenSSL's and curl's output).
type endpointView struct {
	Conn                int       `json:"conn"`
	Local               string    `json:"local"`
	Remote              string    `json:"remote"`
	Version             string    `json:"version"`
	VersionID           int       `json:"version_id"`
	CipherSuite         string    `json:"cipher_suite"`
	CipherSuiteID       int       `json:"cipher_suite_id"`
	Cipher              string    `json:"cipher"`
	GroupID             int       `json:"group_id"`
	ALPN                string    `json:"alpn"`
	DidResume           *bool     `json:"did_resume"`
	ServerName          string    `json:"server_name"`
	SNI                 string    `json:"sni"`
	PeerCertCount       *int      `json:"peer_cert_count"`
	HelloRetryRequest   bool      `json:"hello_retry_request"`
	ClientCertRequested firstBool `json:"client_cert_requested"`
	ClientCertSent      firstBool `json:"client_cert_sent"`
	Error               string    `json:"error"`
}

// firstBool is a truth file's boolean; where an endpoint reported one per
// handshake of a connection (a renegotiation), the first handshake's.
type firstBool struct{ v *bool }

func (f *firstBool) UnmarshalJSON(b []byte) error {
	var list []*bool
	if json.Unmarshal(b, &list) == nil {
		if len(list) > 0 {
			f.v = list[0]
		}
		return nil
	}
	return json.Unmarshal(b, &f.v)
}

type truthFile struct {
	Client []endpointView `json:"client"`
}

// openSSLVersion maps OpenSSL's protocol names to ours.
var openSSLVersion = map[string]string{"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}

// TestAgainstEndpoints checks tlsinspect's view of each test capture against
// what the client itself negotiated: an oracle independent of any dissector.
func TestAgainstEndpoints(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(pcapDir, "*.truth.json"))
	if len(files) == 0 {
		t.Fatal("no truth files")
	}
	for _, tf := range files {
		name := strings.TrimSuffix(filepath.Base(tf), ".truth.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(tf)
			if err != nil {
				t.Fatal(err)
			}
			var truth truthFile
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatal(err)
			}
			// A capture recorded with its client's key log is read with it:
			// the truth is what the endpoints saw, encrypted parts included.
			args := []string{"-q", "-T", "json", "-r", filepath.Join(pcapDir, name+".pcap")}
			keys := filepath.Join(pcapDir, name+".keys")
			if _, err := os.Stat(keys); err == nil {
				args = append(args, "--keylog", keys)
			}
			out, stderr, code := runCmd(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// The first handshake of each connection; a renegotiation's is
			// checked by TestKeylogCaptures.
			var objs []map[string]any
			for _, o := range jsonLines(t, out) {
				if o["handshake"] == 1.0 {
					objs = append(objs, o)
				}
			}
			if len(objs) != len(truth.Client) {
				t.Fatalf("%d connections reported, the client made %d", len(objs), len(truth.Client))
			}
			for i, want := range truth.Client {
				checkEndpoint(t, objs[i], want)
			}
		})
	}
}

func checkEndpoint(t *testing.T, got map[string]any, want endpointView) {
	t.Helper()
	eq := func(field string, w any) {
		t.Helper()
		if g := got[field]; g != w {
			t.Errorf("conn %d: %s = %v, the client says %v", want.Conn, field, g, w)
		}
	}
	if want.Local != "" {
		eq("client", want.Local)
		eq("server", want.Remote)
	}
	if want.Error != "" {
		eq("established", false)
		if alerts, _ := got["alerts"].([]any); len(alerts) == 0 {
			t.Errorf("conn %d: the client failed (%s) but no alert is reported", want.Conn, want.Error)
		}
		return
	}
	eq("established", true)
	version := want.Version
	if v, ok := openSSLVersion[version]; ok {
		version = v
	}
	eq("version", version)
	if want.DidResume != nil {
		eq("resumed", *want.DidResume)
	}
	if want.SNI != "" {
		eq("sni", want.SNI)
	}
	if strings.HasPrefix(want.Cipher, "TLS_") {
		eq("cipher_suite", want.Cipher)
	}
	if want.VersionID == 0 {
		return // OpenSSL and curl views stop here
	}
	tls13 := want.VersionID == 0x0304
	resumed := want.DidResume != nil && *want.DidResume
	eq("version_id", float64(want.VersionID))
	eq("cipher_suite_id", float64(want.CipherSuiteID))
	eq("cipher_suite", want.CipherSuite)
	eq("hello_retry", want.HelloRetryRequest)
	if want.ServerName == "" {
		eq("sni", nil)
	} else {
		eq("sni", want.ServerName)
	}
	if tls13 || !resumed {
		eq("group", iana.GroupName(uint16(want.GroupID)))
	}
	if tls13 && got["decrypted"] != true {
		// Encrypted in TLS 1.3: unknown, not guessed.
		eq("alpn", nil)
		eq("client_cert_requested", nil)
		eq("client_cert_sent", nil)
		return
	}
	if want.ALPN == "" {
		eq("alpn", nil)
	} else {
		eq("alpn", want.ALPN)
	}
	if want.ClientCertRequested.v != nil {
		eq("client_cert_requested", *want.ClientCertRequested.v)
	}
	if want.ClientCertSent.v != nil {
		eq("client_cert_sent", *want.ClientCertSent.v)
	}
	if certs, _ := got["server_certificates"].([]any); !resumed && want.PeerCertCount != nil && len(certs) != *want.PeerCertCount {
		t.Errorf("conn %d: %d server certificates, the client received %d", want.Conn, len(certs), *want.PeerCertCount)
	}
}
