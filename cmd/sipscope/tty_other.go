//go:build !linux

package main

import "os"

func ttyWidth() int { return 0 }

// isTerminal says whether f looks like a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
