//go:build !unix

package main

import "fmt"

// dropPrivileges is not available here: -Z is refused.
func dropPrivileges(name string) (string, error) {
	return "", fmt.Errorf("-Z %s: giving up privileges is not supported on this system", name)
}
