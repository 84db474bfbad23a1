// Package baseline records, per server, what a capture negotiated, and
// reports how a later capture differs from that record ("drift"). It backs
// --save-baseline, --baseline and --fail-on-drift: a CI job records a
// baseline during integration tests once, then fails the build when a new
// run negotiates something weaker.
//
// # Server key
//
// A server is keyed by the SNI when the ClientHello carried one, else by
// the server's address:port (Summary.Server). The SNI comes first because
// it names the service: addresses and ports change between CI runs
// (ephemeral ports, containers, load balancers) while host names rarely
// do, and one SNI may be served by several addresses. The addresses seen
// are kept in each record as information, never compared. A record keyed
// by address is marked "sni": false so that it cannot be confused with an
// SNI spelled like an address.
//
// # What is recorded
//
// Negotiated values (versions, cipher suites, groups, ALPN, client
// authentication, the lowest version and the weakest suite) come from
// established handshakes only: a handshake that failed negotiated nothing
// that was used, and counting it would turn one refused client into a
// "downgrade". Failed handshakes (not established, including those cut off
// by the end of the capture) are counted in "failed", which drives the
// handshakes-failing drift.
//
// What was presented whatever the outcome comes from every handshake: the
// leaf certificate's SHA-256 and issuer (a new certificate that clients
// refuse is the first thing to look at when handshakes start failing), the
// client fingerprints (JA4, and JA3 as information), and the addresses.
//
// ALPN is recorded as the protocol chosen, or "" when a TLS 1.2-or-earlier
// ServerHello chose none (ALPN protocol names cannot be empty, so "" is
// unambiguous); TLS 1.3 hides the choice, so it is not recorded at all.
//
// Client authentication is tallied per established handshake as yes, no or
// unknown for "requested" and "sent". TLS 1.3 hides it (unknown; the
// size-based guess in Summary.ClientCertInferred is not used: a guess must
// not fail a build), and a resumed TLS 1.2 handshake does not repeat the
// CertificateRequest, so it counts as unknown rather than "not requested".
//
// # Bounded memory
//
// The Builder never keeps a Summary. It keeps at most MaxServers servers
// (handshakes of further servers are counted in "dropped_handshakes") and
// at most MaxValues values per set (further values are counted in the
// set's "dropped"). Wire strings longer than MaxValueLen bytes are cut and
// suffixed with the SHA-256 of the whole, so distinct values stay
// distinct. Compare does not claim that a value was added when the old set
// dropped values, nor removed when the new one did, nor a new or lost
// server when either side dropped handshakes.
//
// # File format
//
// Write produces indented JSON with a trailing newline. It is
// deterministic: slices are sorted, there are no maps, and the only times
// are the capture's first and last handshake (Summary.TS), never the wall
// clock, so the same capture always gives the same bytes and a baseline
// can be committed and diffed. "format" is 1; Read refuses other values,
// unknown fields, trailing data and files over MaxFileSize. See
// testdata/example.json.
//
//	{
//	  "format": 1,
//	  "first_ts": "...", "last_ts": "...",   // absent when no time was seen
//	  "handshakes": 5,                       // every Summary added
//	  "dropped_handshakes": 0,               // of servers beyond MaxServers
//	  "servers": [{
//	    "server": "server.test", "sni": true,
//	    "addresses": {"values": ["127.0.0.1:44312"]},
//	    "handshakes": 2, "established": 2, "failed": 0, "resumed": 1,
//	    "versions": {"values": ["TLS 1.2"]},
//	    "lowest_version": {"name": "TLS 1.2", "id": 771},
//	    "highest_version": {"name": "TLS 1.2", "id": 771},
//	    "cipher_suites": {...}, "weakest_suite": {"name": ..., "id": ...},
//	    "groups": {...}, "alpn": {...},
//	    "client_cert_requested": {"yes": 0, "no": 1, "unknown": 1},
//	    "client_cert_sent": {...},
//	    "leaf_sha256": {...}, "leaf_issuers": {...},
//	    "ja4": {...}, "ja3": {...}
//	  }]
//	}
//
// A set is {"values": [sorted], "dropped": N}, "dropped" absent when 0.
//
// # Drift kinds
//
// The Kind strings are stable ids (policies and CI scripts match them).
// Downgrade marks the kinds that weaken security; --fail-on-drift
// downgrade fails on those only.
//
//	kind                        downgrade  when
//	new-server                  no         a server absent from the baseline
//	lost-server                 no         a baseline server absent now (a test did not run)
//	version-downgrade           yes        the lowest version is lower than the baseline's lowest
//	version-upgrade             no         the highest version rose, or the lowest rose
//	suite-added                 no         a suite not in the baseline
//	suite-removed               no         a baseline suite not seen now
//	suite-downgrade             yes        the weakest suite is in a weaker class than the baseline's weakest
//	group-added                 no         a key-exchange group not in the baseline
//	group-removed               no         a baseline group not seen now
//	alpn-changed                no         the set of ALPN choices differs (both sides known)
//	client-auth-dropped         yes        the server requested a client certificate before, and now does not
//	client-auth-added           no         the server did not request one before, and now does
//	client-cert-no-longer-sent  yes        the server still requests one, clients sent one before, and now none completes with one
//	new-certificate             no         a leaf certificate (SHA-256) not in the baseline: rotation is routine
//	new-issuer                  yes        a leaf issuer not in the baseline
//	new-client-fingerprint      no         a JA4 not in the baseline
//	handshakes-failing          yes        handshakes fail now where none did, or none is established any more
//
// Additions and removals of suites and groups are reported only when both
// captures established a handshake with the server (otherwise
// handshakes-failing says it instead of every value "removed"), and group
// removals only when the new capture has a full handshake (a resumed
// TLS 1.2 handshake has no key exchange). ALPN is compared only when both
// sides know it. Client authentication is compared on known answers only,
// so a server that moved to TLS 1.3 shows no client-auth drift.
//
// new-issuer is a downgrade because issuer names, unlike fingerprints, stay
// the same when test certificates are regenerated on every run; a new one
// means a CA change (update the baseline) or an interception proxy, and
// failing closed is the safe default. handshakes-failing is a downgrade
// because negotiated values come only from established handshakes: a
// server that no longer completes handshakes would otherwise show no
// drift at all. JA3 is not compared: clients that randomise extension
// order (Chrome since version 110) change it on every connection, while
// JA4 sorts the extensions.
//
// Cipher-suite classes, weakest first, reuse the findings package and
// IANA's Recommended column rather than a second table: "broken" (the
// findings suite-null, suite-export, suite-anon, suite-rc4, suite-des),
// "3DES" (suite-3des), "not recommended" (suite-not-recommended: IANA
// Recommended N, D or none, which covers every CBC suite and RSA key
// exchange), "recommended" (IANA Y: AEAD with forward secrecy, and the
// TLS 1.3 AEAD suites). Suites in one class count as equally strong.
package baseline
