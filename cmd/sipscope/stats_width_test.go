package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// sippStats returns a function that runs `sipscope stats FLAGS` on
// testdata/sipp's captures, as on a terminal (tty) or piped, and returns
// its output; the test is skipped without the captures.
func sippStats(t *testing.T, flags ...string) func(t *testing.T, tty bool) string {
	files, _ := filepath.Glob("../../testdata/sipp/*.pcap")
	if len(files) == 0 {
		t.Skip("no testdata/sipp captures")
	}
	args := append(append([]string{"stats"}, flags...), files...)
	return func(t *testing.T, tty bool) string {
		var out, errOut bytes.Buffer
		if code := run(args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutTTY: tty}); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		return out.String()
	}
}

// TestStatsTableWidth: on a terminal, stats --by leaves out columns until
// the table fits, names them in a note that fits too, and keeps the values
// of the columns it shows; piped, every column is written.
func TestStatsTableWidth(t *testing.T) {
	stats := sippStats(t, "--by", "callee")
	full := stats(t, false)
	header := strings.Fields(strings.SplitN(full, "\n", 2)[0])
	if got, want := len(header), 1+len(statsColumns); got != want {
		t.Fatalf("piped: %d columns, want %d: %q", got, want, header)
	}
	// column returns each row's cell of the named column, by header position.
	column := func(table, name string) []string {
		var cells []string
		lines := strings.Split(table, "\n")
		i := -1
		for j, h := range strings.Fields(lines[0]) {
			if h == name {
				i = j
			}
		}
		if i < 0 {
			return nil
		}
		for _, l := range lines[1:] {
			if f := strings.Fields(l); len(f) == len(strings.Fields(lines[0])) {
				cells = append(cells, f[i])
			}
		}
		return cells
	}
	for _, width := range []int{80, 60, 132} {
		t.Setenv("COLUMNS", itoa(int64(width)))
		got := stats(t, true)
		for _, l := range strings.Split(strings.TrimRight(got, "\n"), "\n") {
			if n := len([]rune(l)); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, l)
			}
		}
		if !strings.Contains(got, "Left out to fit") {
			t.Errorf("width %d: no note naming the columns left out:\n%s", width, got)
		}
		for _, name := range []string{"CALLS", "ANS", "ASR%", "NER%", "ACD", "PDD50"} {
			if a, b := column(got, name), column(full, name); strings.Join(a, " ") != strings.Join(b, " ") || len(a) == 0 {
				t.Errorf("width %d: column %s is %q, piped %q", width, name, a, b)
			}
		}
	}
}

// TestStatsSheetWidth: on a terminal, the sheet stats prints without --by
// keeps to the width by wrapping its descriptions, and says the same words
// in the same order as piped (where nothing is wrapped).
func TestStatsSheetWidth(t *testing.T) {
	stats := sippStats(t)
	piped := stats(t, false)
	long := 0
	for _, l := range strings.Split(piped, "\n") {
		long = max(long, len([]rune(l)))
	}
	if long <= 80 {
		t.Fatalf("piped sheet's longest line is %d: nothing to wrap at 80, the test proves nothing", long)
	}
	for _, width := range []int{80, 60} {
		t.Setenv("COLUMNS", itoa(int64(width)))
		got := stats(t, true)
		for _, l := range strings.Split(got, "\n") {
			if n := len([]rune(l)); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, l)
			}
		}
		if a, b := strings.Join(strings.Fields(got), " "), strings.Join(strings.Fields(piped), " "); a != b {
			t.Errorf("width %d: the words differ from the piped sheet:\n%s\n---\n%s", width, got, piped)
		}
	}
}
