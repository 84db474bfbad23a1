// Package fingerprint computes TLS client and server fingerprints from
// dissected hello messages:
//
//   - JA3 and JA3S (salesforce/ja3, BSD-3-Clause): the README and the
//     reference implementations python/ja3.py and python/ja3s.py.
//   - JA4, the TLS client fingerprint (FoxIO-LLC/ja4, technical_details/JA4.md,
//     BSD-3-Clause), with its raw form JA4_r.
//
// JA4S, JA4X and the rest of JA4+ are under the FoxIO License 1.1 and are
// deliberately not implemented here.
//
// The functions take the typed messages of package dissect, never bytes,
// and never panic: a nil message gives empty strings. GREASE values
// (RFC 8701: 0x0a0a, 0x1a1a, … 0xfafa) are removed wherever the
// specifications say so; each function's comment says where a rule comes
// from.
package fingerprint
