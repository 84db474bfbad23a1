//go:build race

package main

// raceBuild: the tests run with -race, and so does the command they start
// as a process (binary), so that the live capture paths are checked too.
const raceBuild = true
