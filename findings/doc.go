// Package findings derives notable properties ("findings") of one TLS
// handshake from its tlsconn.Summary: old protocol versions, weak cipher
// suites, protocol violations, fatal alerts, renegotiation and certificate
// problems. It only reads the Summary; analyze.Run stores the result in
// Summary.Findings before each Summary is emitted.
//
// Each finding has a stable kebab-case ID, a fixed severity per ID, and a
// one-line text naming the specific value. An ID appears at most once per
// Summary (several occurrences share one text, joined by "; "), and
// findings come in the order of the table below. Certificate validity is
// judged at the handshake's capture time (Summary.TS), never the wall
// clock. Checks that need an unknown value (no ServerHello, no ClientHello,
// TLS 1.3 encrypted certificates) report nothing rather than guess.
//
// # Severities
//
//   - high: the connection has no meaningful confidentiality or
//     authentication against a network attacker today: SSL 2.0/3.0
//     (DROWN, POODLE), NULL, export-grade, anonymous, RC4 and single-DES
//     suites.
//   - medium: deprecated or attackable with effort, or a failure a correct
//     client would refuse: TLS 1.0/1.1 (RFC 8996), 3DES (Sweet32), TLS
//     compression (CRIME), a server choosing what the client never offered
//     (a protocol violation: broken server, middlebox or downgrade attempt),
//     expired, not-yet-valid, self-signed or misnamed server certificates,
//     weak keys (below the CA/Browser Forum minimums) and MD5/SHA-1
//     signatures (chosen-prefix collisions).
//   - low: worth a look, little direct risk: suites IANA does not mark
//     Recommended (e.g. CBC or RSA key exchange), renegotiation, fatal
//     alerts (the handshake failed, so no data was exposed, but they show
//     misconfiguration or probing), unparsable certificates and chains out
//     of order (strict clients reject them).
//   - info: no SNI (normal for IP-address clients and SSLv2 hellos, but it
//     hides which virtual host was meant).
//
// There is no separate ID for CBC-mode SHA-1 suites: HMAC-SHA1 is not
// weak, and every such suite is already not IANA-Recommended, so
// suite-not-recommended covers them; a second ID would only split one
// policy in two. The specific suite families (null, export, anon, rc4,
// des, 3des) take precedence over suite-not-recommended; a suite can be in
// several families (TLS_DH_anon_EXPORT_WITH_RC4_40_MD5: export, anon and
// rc4).
//
// # IDs
//
// | id | severity | when |
// |---|---|---|
// | `version-ssl2` | high | SSL 2.0 negotiated |
// | `version-ssl3` | high | SSL 3.0 negotiated |
// | `version-tls10` | medium | TLS 1.0 negotiated |
// | `version-tls11` | medium | TLS 1.1 negotiated |
// | `server-chose-unoffered-version` | medium | the negotiated version is not in the client's `supported_versions`, or (without that extension) is above the ClientHello version |
// | `suite-null` | high | suite without encryption (`_WITH_NULL_`, RFC 9150 `TLS_SHA256_SHA256`/`TLS_SHA384_SHA384`) |
// | `suite-export` | high | export-grade suite (`_EXPORT_`, `_EXPORT1024_`) |
// | `suite-anon` | high | anonymous key exchange (`_anon_`, `TLS_NULL_WITH_NULL_NULL`) |
// | `suite-rc4` | high | RC4 suite (RFC 7465) |
// | `suite-des` | high | single-DES suite (`DES`, `DES40`) |
// | `suite-3des` | medium | 3DES suite (Sweet32) |
// | `suite-not-recommended` | low | suite in none of the families above whose IANA Recommended value is not `Y` (`N`, `D`, or unassigned) |
// | `server-chose-unoffered-suite` | medium | the chosen suite is not in the client's `client_cipher_suites` |
// | `compression` | medium | compression other than `null` chosen (CRIME) |
// | `no-sni` | info | a ClientHello without server_name |
// | `renegotiation` | low | a second handshake on the connection (`handshake` > 1), or an encrypted handshake message after a TLS ≤ 1.2 handshake |
// | `alert-fatal` | low | a fatal alert; the text names it and who sent it |
// | `cert-unparsable` | low | a server certificate crypto/x509 rejects (`parse_error`) |
// | `cert-expired` | medium | the leaf or an intermediate expired before the handshake (roots, i.e. self-signed certificates after the leaf, are ignored) |
// | `cert-not-yet-valid` | medium | the leaf or an intermediate is valid only after the handshake |
// | `cert-weak-key` | medium | any certificate in the chain with an RSA key < 2048 bits, an EC key < 224 bits, or a DSA key |
// | `cert-weak-signature` | medium | the leaf or an intermediate signed with MD2, MD5 or SHA-1 (self-signed certificates are skipped: their signature is not checked) |
// | `cert-self-signed` | medium | the server's leaf certificate is self-signed |
// | `cert-chain-order` | low | a certificate's issuer is not the subject of the certificate after it |
// | `cert-name-mismatch` | medium | the SNI matches no DNS SAN of the leaf (no IP SAN for an IP SNI; the CN when there are no SANs); wildcards per RFC 6125 §6.4.3: `*` as the whole left-most label, one label |
// | `client-cert-unparsable`, `client-cert-expired`, `client-cert-not-yet-valid`, `client-cert-weak-key`, `client-cert-weak-signature`, `client-cert-chain-order` | as above | the same checks on the client's certificate chain (not name or self-signed: client certificates carry no host name, and self-signed ones are normal where servers pin them) |
package findings
