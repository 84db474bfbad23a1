// Package iana names TLS code points (cipher suites, extensions, groups,
// signature schemes, alerts, ...) from IANA's registries.
//
// The tables in tables_gen.go are generated from the registry CSVs in csv/
// (see csv/README.md for where each file came from). Unknown values are
// returned as hex ("0x1a2b") so callers never lose the number, and RFC 8701
// GREASE values are named "GREASE(0x0a0a)".
package iana

//go:generate go run ./internal/gen
