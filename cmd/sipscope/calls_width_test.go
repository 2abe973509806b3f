package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallsTableWidth: on a terminal the calls table keeps to its width
// (every cell but the Call-ID, which is never cut), each shown state the
// same as in the full table; piped, the full table is written as before.
func TestCallsTableWidth(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/qa/*.pcap")
	sipp, _ := filepath.Glob("../../testdata/sipp/*.pcap")
	files = append(files, sipp...)
	if len(files) == 0 {
		t.Skip("no testdata/qa or testdata/sipp captures")
	}
	calls := func(t *testing.T, tty bool) []string {
		var out, errOut bytes.Buffer
		args := append([]string{"calls"}, files...)
		if code := run(args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutTTY: tty}); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		return strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	}
	full := calls(t, false)
	if h := strings.Fields(full[0]); len(h) != 14 || h[1] != "START" || h[13] != "CALL-ID" {
		t.Fatalf("piped header %q: want the 14 full columns", h)
	}
	// Each dialog's state and Call-ID, by row number, in the full table.
	type cells struct{ state, callID string }
	want := map[string]cells{}
	for _, l := range full[1:] {
		f := strings.Fields(l)
		want[f[0]] = cells{f[4], f[len(f)-1]}
	}
	for _, width := range []int{80, 60, 132} {
		t.Setenv("COLUMNS", itoa(int64(width)))
		got := calls(t, true)
		if len(got) != len(full) {
			t.Fatalf("width %d: %d lines, piped %d", width, len(got), len(full))
		}
		head := strings.Fields(got[0])
		if head[0] != "#" || !strings.Contains(got[0], " STATE ") || head[len(head)-1] != "CALL-ID" {
			t.Errorf("width %d: header %q", width, head)
		}
		for _, l := range got {
			f := strings.Fields(l)
			w, ok := want[f[0]]
			if !ok {
				if n := len([]rune(l)); n > width {
					t.Errorf("width %d: header of %d: %q", width, n, l)
				}
				continue
			}
			// Every cell but the Call-ID fits, leaving it 20 cells; the
			// Call-ID itself is whole, for `flow --call`.
			if n := len([]rune(strings.TrimSuffix(l, w.callID))); n > width-20 {
				t.Errorf("width %d: row %s's cells before its Call-ID take %d: %q", width, f[0], n, l)
			}
			if !strings.Contains(l, " "+w.state+" ") {
				t.Errorf("width %d: row %s lost its state %q: %q", width, f[0], w.state, l)
			}
			if f[len(f)-1] != w.callID {
				t.Errorf("width %d: row %s's Call-ID %q, want %q whole", width, f[0], f[len(f)-1], w.callID)
			}
		}
	}
}
