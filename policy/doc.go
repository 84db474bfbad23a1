// Package policy decides, for each handshake Summary as it is emitted,
// which rules of a policy apply and whether they hold, so that a CI job
// recording traffic during integration tests can fail when a service
// negotiates something it must not. It reads only tlsconn.Summary, the
// finding IDs and severities of package findings and certinfo
// certificates; it writes one-line violations, JUnit XML and Markdown.
//
// A Policy comes from a YAML file (Load, Parse), from the quick flags
// (FromFlags: one rule named "command-line" matching every connection), or
// both (Merge). A Checker applies it: Check once per Summary, Finish after
// the last one, then Result.Failed, WriteJUnit and WriteMarkdown.
//
// # Unknown values fail
//
// A requirement holds only when what was seen confirms it. A value that
// could not be seen (null in the JSON output) fails the requirement, and
// the violation's actual value says "unknown (why)": no ServerHello (the
// handshake failed or the capture missed it), TLS 1.3, which encrypts the
// server's certificate, its ALPN choice and the whole client-certificate
// exchange, or a resumed session, which sends no certificate. For TLS 1.3
// client certificates the record-size guess (client_cert_inferred) is
// quoted as "record sizes suggest true", never taken as proof. A rule with
// on_unknown: pass skips such requirements instead (they neither fail nor
// count): useful for certificate rules on mixed TLS 1.2/1.3 traffic.
//
// "None" is not unknown: an RSA key exchange uses no group, a TLS 1.2
// server that chose no ALPN protocol negotiated none. None fails an allow
// list (nothing allowed was negotiated) and passes a deny list.
//
// # Rules that match nothing
//
// A rule that matched no connection is usually a typo in its match. It is
// listed in Result.Unmatched (a warning line, a skipped JUnit test case)
// and fails the run only when the rule says required: true or the policy
// says fail_on_unmatched: true.
//
// # Policy file
//
//	expect_connections: 3          # at least this many TLS connections in total (a capture that recorded nothing fails)
//	fail_on_unmatched: false       # true: every rule (merged ones too) that matches no connection fails the run
//	rules:                         # checked in this order; every matching rule applies
//	  - name: payments-api-mtls    # required, unique, printable, at most 128 bytes
//	    required: true             # fail when the rule matches no connection (default false)
//	    on_unknown: fail           # fail (default) or pass: what an unknown value does
//	    match:                     # every key given must hold; no match: every connection
//	      server: "10.0.0.5:8443"  # ADDR, ADDR:PORT, [V6]:PORT, CIDR, CIDR:PORT, [V6CIDR]:PORT or :PORT; a list means any of them
//	      client: "10.1.0.0/16"    # the same forms, for the client's address
//	      sni: "*.payments.internal"   # glob(s); a connection without SNI matches as "" (so "*" matches it too)
//	      client_ja4: "t13d*"      # glob(s) on the JA4 of the (first) ClientHello
//	      client_ja3: "0123456789abcdef*"  # glob(s) on the JA3 MD5
//	    require:
//	      version: {min: "1.2", max: "1.3"}   # 1.0, 1.1, 1.2, 1.3 (also "TLS 1.2", "tls1.2", "TLSv1.2")
//	      suites: {allow: ["TLS_AES_*", "TLS_ECDHE_*_GCM_*"], deny: ["*_CBC_*"]}   # globs on IANA names
//	      groups: {allow: ["x25519", "X25519MLKEM768", "secp256r1"], deny: ["ffdhe*"]}
//	      alpn: {allow: ["h2"], deny: ["http/1.0"]}
//	      client_cert: {requested: true, sent: true}
//	      established: true        # the handshake completed (false: it must fail)
//	      sni: true                # the ClientHello carried an SNI (false: it must not)
//	      certificate:             # the server's chain
//	        not_expired: true      # at capture time; leaf and intermediates (roots sent in the chain are ignored)
//	        sni_matches: true      # the leaf names the SNI (RFC 6125 wildcards, as finding cert-name-mismatch)
//	        issuer: "CN=Internal CA*"   # glob(s) on the leaf's issuer (RFC 4514 string)
//	        min_key_bits: {rsa: 2048, ec: 256}   # RSA/RSA-PSS/DSA modulus; EC curve size (P-256: 256, Ed25519: 256)
//	    deny_findings: ["suite-*", "cert-expired", ">=medium"]   # finding ID globs, or a severity and above
//
// Globs are shell patterns (* ? [a-z] [!a-z] \x) matched against the whole
// value, ignoring case; * also matches dots, so "*.example.com" matches
// "a.b.example.com" too. A string may replace a one-entry list; an empty
// list is an error except under deny and deny_findings. A deny_findings
// glob must match at least one finding ID of this build (a typo would
// otherwise pass silently). Anchors and aliases may share values; merge
// keys (<<) are refused.
//
// Errors name the file and line: unknown keys (with the keys expected
// there), duplicate keys, wrong types, bad versions, globs, addresses and
// networks, min above max, empty, duplicate or missing rule names; up to
// 20 at once, one per line. Files are limited to MaxFileSize bytes,
// MaxRules rules and 10,000 patterns.
//
// # Results
//
// Violation.String is one line with wire-derived text escaped; Violation
// has JSON field names. A Result keeps every violation up to
// MaxViolations and, per rule, the passing cases up to
// MaxPassingCasesPerRule (MaxPassingCases over all rules); beyond those it
// only counts, so a capture of a million connections costs a few short
// strings per recorded case. Outputs depend only on the input: no wall
// clock, no map order.
package policy
