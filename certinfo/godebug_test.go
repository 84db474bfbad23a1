//go:debug x509negativeserial=1

// Same setting as cmd/tlsinspect, so tests see what production sees.
package certinfo
