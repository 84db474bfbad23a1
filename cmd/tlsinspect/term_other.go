//go:build !unix

package main

import "io"

// terminalWidth is unknown here: the progress line keeps to 79 columns.
func terminalWidth(io.Writer) int { return 0 }
