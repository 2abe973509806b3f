package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// ttyWidth asks the terminal on standard output for its width (0 if unknown).
func ttyWidth() int {
	ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// isTerminal says whether f is a terminal: a TCGETS that succeeds. A
// character device is not enough (/dev/null is one, and output sent there
// must be treated as piped: no colour, no progress, pcap allowed).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
