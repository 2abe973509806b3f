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
