package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestQuietEverywhere: -q takes the warnings off standard error in
// messages as in calls and diagnose (a script passes it to each), and
// messages --stats still prints its counters with it. The capture is TLS
// without its keys: a warning and a "no SIP messages" note without -q.
func TestQuietEverywhere(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "tls", "tls12-rsa-aes128gcm.pcap")
	for _, cmd := range []string{"messages", "calls", "diagnose"} {
		code, _, errOut := sipscope(t, cmd, file)
		if code != 0 || !strings.Contains(errOut, "warning:") {
			t.Errorf("%s %s: exit %d, stderr %q; want 0 and the TLS warning", cmd, file, code, errOut)
		}
		code, _, errOut = sipscope(t, cmd, "-q", file)
		if code != 0 || errOut != "" {
			t.Errorf("%s -q %s: exit %d, stderr %q; want 0 and nothing", cmd, file, code, errOut)
		}
	}
	code, _, errOut := sipscope(t, "messages", "-q", "--stats", file)
	if code != 0 || !strings.Contains(errOut, "frames read") || strings.Contains(errOut, "warning:") {
		t.Errorf("messages -q --stats: exit %d, stderr %q; want the counters only", code, errOut)
	}
}
