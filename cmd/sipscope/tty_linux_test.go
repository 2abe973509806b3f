package main

import (
	"os"
	"testing"
)

// /dev/null is a character device but no terminal: output sent there is
// piped output (no colour, no progress, pcap to "-o -" allowed).
func TestIsTerminalDevNull(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no %s: %v", os.DevNull, err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("isTerminal(%s) = true, want false", os.DevNull)
	}
}
