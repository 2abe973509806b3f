package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/sipscope/sipscope/correlate"
)

// callsOutput runs sipscope calls with args and returns its output,
// failing the test on a non-zero exit.
func callsOutput(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := sipscope(t, append([]string{"calls"}, args...)...)
	if code != 0 {
		t.Fatalf("sipscope calls %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// streamCaptures are every capture of testdata and of the shared corpus
// (when it is there).
func streamCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"../../testdata", "../../../shared/corpus"} {
		filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng") ||
				strings.HasSuffix(p, ".cap") || strings.HasSuffix(p, ".pcap.gz")) {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Fatal("no captures found in testdata")
	}
	return files
}

// TestCallsStreamSameAsStore: `calls FILE` writes each dialog once complete,
// without a database (callStream); --sort start lists through the scratch
// store. On every capture we have (links, continuations, RTP, SIP INFO,
// TCP, TLS, fragments, hostile ones) both give the same bytes, with and
// without the findings, in each format, and with the held records in the
// scratch file.
func TestCallsStreamSameAsStore(t *testing.T) {
	if _, err := os.Stat("../../../shared/corpus"); err != nil {
		t.Log("../shared/corpus is absent: comparing on testdata's captures only")
	}
	files := streamCaptures(t)
	n := 0
	for _, f := range files {
		for _, extra := range [][]string{{"--format", "jsonl"}, {"--format", "jsonl", "--no-findings"}, {"--format", "csv"}, {"--format", "table"}} {
			args := append([]string{"-q", f}, extra...)
			streamed := callsOutput(t, args...)
			stored := callsOutput(t, append(args, "--sort", "start")...)
			if streamed != stored {
				i := firstDiff([]byte(streamed), []byte(stored))
				t.Errorf("calls %s: streamed output differs from the store's at byte %d:\n  streamed: %.300s\n  stored:   %.300s",
					strings.Join(args, " "), i, streamed[max(0, i-100):], stored[max(0, i-100):])
			}
			n += strings.Count(streamed, "\n")
			if extra[1] == "jsonl" {
				// Every held record in the scratch file (calls_spill.go).
				old := streamMemory
				streamMemory = 0
				spilled := callsOutput(t, args...)
				// And through the store, every media view in the
				// scratch file (mediaViews' recordStore).
				spilledStore := callsOutput(t, append(args, "--sort", "start")...)
				streamMemory = old
				if spilledStore != stored {
					i := firstDiff([]byte(spilledStore), []byte(stored))
					t.Errorf("calls %s --sort start: with every media view spilled, output differs at byte %d:\n  spilled: %.300s\n  in memory: %.300s",
						strings.Join(args, " "), i, spilledStore[max(0, i-100):], stored[max(0, i-100):])
				}
				if spilled != stored {
					i := firstDiff([]byte(spilled), []byte(stored))
					t.Errorf("calls %s: with every held record spilled, output differs from the store's at byte %d:\n  spilled: %.300s\n  stored:   %.300s",
						strings.Join(args, " "), i, spilled[max(0, i-100):], stored[max(0, i-100):])
				}
			}
		}
	}
	// Several files at once, merged by time (dialogs of one file wait on
	// those of the others).
	sipp, _ := filepath.Glob("../../testdata/sipp/*.pcap")
	if len(sipp) < 2 {
		t.Fatal("testdata/sipp has fewer than two captures")
	}
	args := append([]string{"-q", "--format", "jsonl"}, sipp...)
	if streamed, stored := callsOutput(t, args...), callsOutput(t, append(args, "--sort", "start")...); streamed != stored {
		i := firstDiff([]byte(streamed), []byte(stored))
		t.Errorf("calls on %d SIPp captures at once: streamed output differs from the store's at byte %d", len(sipp), i)
	}
	if n == 0 {
		t.Fatal("no dialogs listed at all")
	}
	if viewsSpilled.Load() == 0 {
		t.Error("no media view went to the scratch file with streamMemory 0")
	}
	t.Logf("%d captures, %d lines compared, %d media views spilled", len(files), n, viewsSpilled.Load())
}

// TestCallStreamOrderAndMerge drives a callStream directly: records come
// out by start (ties in arrival order) once complete and before the
// horizon, a continuation replaces its dialog's summary and widens its
// span, links are listed both ways and sorted, and the window bounds what
// is held (counted in the warnings).
func TestCallStreamOrderAndMerge(t *testing.T) {
	var got []string
	var linked = map[string][]string{}
	cs := newCallStream(func(d *correlate.Dialog, _ []correlate.Stream) error {
		got = append(got, d.CallID+"/"+strconv.Itoa(d.Messages))
		linked[d.CallID] = d.Linked
		return nil
	}, false)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dlg := func(id string, start, end int, msgs, part int, links ...string) *correlate.Dialog {
		return &correlate.Dialog{CallID: id, Kind: correlate.KindCall, Start: t0.Add(time.Duration(start) * time.Second),
			End: t0.Add(time.Duration(end) * time.Second), Messages: msgs, Part: part, Linked: links}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.Dialog(dlg("b", 2, 3, 3, 0), nil))
	must(cs.Dialog(dlg("a", 1, 5, 5, 0), nil))
	must(cs.Dialog(dlg("c", 2, 4, 2, 0, "a"), nil)) // same start as b, came later; names a
	// b is complete but a, which starts before it, is not: nothing yet.
	must(cs.Final("b", t0.Add(10*time.Second)))
	if len(got) != 0 {
		t.Fatalf("written before an earlier dialog was complete: %v", got)
	}
	must(cs.Dialog(dlg("a", 1, 9, 7, 1), nil)) // a continuation of a
	must(cs.Final("a", t0.Add(10*time.Second)))
	if want := "a/7 b/3"; strings.Join(got, " ") != want {
		t.Fatalf("written %v, want %s", got, want)
	}
	must(cs.Final("c", t0.Add(10*time.Second)))
	// d is complete but does not start before the horizon (the
	// correlator's, less the disorder allowance): held.
	must(cs.Dialog(dlg("d", 20, 21, 1, 0), nil))
	must(cs.Final("d", t0.Add(21*time.Second)))
	if want := "a/7 b/3 c/2"; strings.Join(got, " ") != want {
		t.Fatalf("written %v, want %s (d waits for the horizon)", got, want)
	}
	must(cs.finish())
	if want := "a/7 b/3 c/2 d/1"; strings.Join(got, " ") != want {
		t.Fatalf("written %v, want %s", got, want)
	}
	if l := linked["a"]; len(l) != 1 || l[0] != "c" {
		t.Errorf("a's linked = %v, want [c] (c named it)", l)
	}
	if l := linked["c"]; len(l) != 1 || l[0] != "a" {
		t.Errorf("c's linked = %v, want [a]", l)
	}
	if w := cs.warnings(); len(w) != 0 {
		t.Errorf("warnings %v, want none", w)
	}

	// Past the window the earliest goes at once, counted.
	got = nil
	cs = newCallStream(func(d *correlate.Dialog, _ []correlate.Stream) error {
		got = append(got, d.CallID)
		return nil
	}, false)
	cs.window = 2
	for i, id := range []string{"x", "y", "z"} {
		must(cs.Dialog(dlg(id, i, i+1, 1, 0), nil))
	}
	if strings.Join(got, " ") != "x" {
		t.Fatalf("past a window of 2 wrote %v, want [x]", got)
	}
	must(cs.Dialog(dlg("x", 0, 9, 2, 1), nil)) // a later part of x, written already
	must(cs.finish())
	if want := "x x y z"; strings.Join(got, " ") != want { // the late part of x is the earliest held
		t.Fatalf("written %v, want %s", got, want)
	}
	if w := strings.Join(cs.warnings(), "\n"); !strings.Contains(w, "2 dialog(s) were written out of start order") ||
		!strings.Contains(w, "1 later part(s)") {
		t.Errorf("warnings %q, want the forced write and the late part counted", w)
	}
}

// TestByCallBounded: what waits for a Call-ID is bounded (the oldest go,
// counted), and the queue of its keys does not grow with Call-IDs taken
// long ago (SIP INFO digits arrive just before every such call's dialog).
func TestByCallBounded(t *testing.T) {
	b := newByCall[int]()
	for i := range 100000 {
		id := "c" + strconv.Itoa(i)
		if d := b.add(id, i); d != 0 {
			t.Fatalf("dropped %d while under the bound", d)
		}
		if v := b.take(id); len(v) != 1 || v[0] != i {
			t.Fatalf("take(%s) = %v", id, v)
		}
	}
	if len(b.q) > 2048 {
		t.Errorf("%d keys queued for an empty map: taken keys are not compacted", len(b.q))
	}
	dropped := 0
	for i := range maxEarly + 10 {
		dropped += b.add("k"+strconv.Itoa(i), i)
	}
	if dropped != 10 || len(b.m) != maxEarly {
		t.Errorf("past the bound dropped %d, holds %d; want 10 and %d", dropped, len(b.m), maxEarly)
	}
	if v := b.take("k0"); v != nil {
		t.Errorf("the oldest is still held: %v", v)
	}
}

// TestHeldCallSmall: a callStream holds up to streamWindow dialogs at once
// (65,536 on a busy capture), each a heldCall: kept in the 96-byte size
// class (it was 208 with the links, streams and Diagnosis inline).
func TestHeldCallSmall(t *testing.T) {
	if n := unsafe.Sizeof(heldCall{}); n > 96 {
		t.Errorf("heldCall is %d bytes, over 96: move what most calls lack into heldMore", n)
	}
}
