package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

// streamFiles are captures of several dialogs, the first without RTP and
// later ones with it, so that the timeline pass starts mid-page.
var streamFiles = []string{"../../testdata/sipp/busy.pcap", "../../testdata/qa/rejects.pcap", "../../testdata/media/lossy.pcap", "../../testdata/qa/many-tcp6.pcap"}

// streamStore opens streamFiles as export does and lists their dialogs,
// one ladder each.
func streamStore(t *testing.T) (*store.Store, sourceOptions, [][]string) {
	t.Helper()
	ctx := context.Background()
	src := sourceOptions{files: streamFiles, quiet: true}
	quiet := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
	st, release, err := openSource(ctx, &src, keepEverything, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	var groups [][]string
	for d, err := range st.Dialogs(ctx, store.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, []string{d.CallID})
	}
	if len(groups) < 10 {
		t.Fatalf("%d dialogs in %v, want 10 or more", len(groups), streamFiles)
	}
	return st, src, groups
}

// TestExportOneLadderAtATime: html, txt and json exports ask for the next
// ladder only once every earlier one can be collected, so that memory
// holds one ladder whatever the number of calls (a structural check: a
// full collection before each ladder, then weak pointers to the earlier
// ones).
func TestExportOneLadderAtATime(t *testing.T) {
	ctx := context.Background()
	st, src, groups := streamStore(t)
	for _, format := range []string{"html", "txt", "json"} {
		t.Run(format, func(t *testing.T) {
			var built []weak.Pointer[render.Ladder]
			most, media := 0, 0
			ladder := func(g []string) (*render.Ladder, error) {
				runtime.GC()
				alive := 0
				for _, p := range built {
					if p.Value() != nil {
						alive++
					}
				}
				most = max(most, alive)
				l, err := (&ladderOptions{}).ladder(ctx, st, g)
				if err != nil {
					return nil, err
				}
				media += len(l.Media)
				built = append(built, weak.Make(l))
				return l, nil
			}
			opts := &exportOptions{format: format, out: filepath.Join(t.TempDir(), "calls."+format), source: src}
			if err := writeLadders(ctx, io.Discard, opts, groups, ladder); err != nil {
				t.Fatal(err)
			}
			if len(built) != len(groups) {
				t.Fatalf("%d ladders built, want %d", len(built), len(groups))
			}
			if media == 0 {
				t.Fatal("no ladder with RTP: the timeline pass went untested")
			}
			if most != 0 {
				t.Errorf("%d earlier ladders still reachable when the next was built, want 0", most)
			}
		})
	}
}

// TestExportHTMLSameAsAllAtOnce: the page written call by call is the one
// laid out from every ladder at once, with all the calls' findings in one
// map and the timelines of every call, as export wrote it before.
func TestExportHTMLSameAsAllAtOnce(t *testing.T) {
	ctx := context.Background()
	st, src, groups := streamStore(t)
	lopt := &ladderOptions{}
	ladder := func(g []string) (*render.Ladder, error) { return lopt.ladder(ctx, st, g) }

	// The timelines of every stream from one pass over the files, then
	// set on every ladder: not exportTimelines, which is under test.
	tl := correlate.NewStreamTimeline(time.Second)
	md := correlate.NewMedia(correlate.MediaOptions{Sink: tl.Packet})
	job := &decodeJob{files: src.files, handler: decode.HandlerFuncs{OnMessage: md.Message, OnDatagram: md.Datagram}}
	if _, err := job.run(ctx); err != nil {
		t.Fatal(err)
	}
	all := map[string][]correlate.Finding{}
	var pages []render.CallPage
	charts := 0
	for _, g := range groups {
		l, err := ladder(g)
		if err != nil {
			t.Fatal(err)
		}
		for i := range l.Media {
			s := &l.Media[i].Stream
			l.Media[i].Timeline, _ = tl.Series(correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC})
			charts += len(l.Media[i].Timeline)
		}
		maps.Copy(all, ladderFindings(l))
		pages = append(pages, render.CallPage{Ladder: l})
	}
	if charts == 0 || len(all) == 0 {
		t.Fatalf("%d timeline points, %d calls with findings: want some of both", charts, len(all))
	}
	var want bytes.Buffer
	if err := render.HTMLMulti(&want, pages, render.HTMLOptions{Findings: all}); err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	opts := &exportOptions{format: "html", out: filepath.Join(t.TempDir(), "calls.html"), source: src}
	if err := writeLadders(ctx, &got, opts, groups, ladder); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("the page differs from the one laid out at once (%d bytes, want %d)", got.Len(), want.Len())
	}
}

// TestExportHTMLScratchRemoved: the scratch file of the sections goes
// away after the export, and after a failed one.
func TestExportHTMLScratchRemoved(t *testing.T) {
	ctx := context.Background()
	st, src, groups := streamStore(t)
	errBroken := errors.New("broken ladder")
	for _, fail := range []bool{false, true} {
		dir := t.TempDir()
		n := 0
		ladder := func(g []string) (*render.Ladder, error) {
			if n++; fail && n == 3 {
				return nil, errBroken
			}
			return (&ladderOptions{}).ladder(ctx, st, g)
		}
		opts := &exportOptions{format: "html", out: filepath.Join(dir, "calls.html"), source: src}
		err := writeLadders(ctx, io.Discard, opts, groups, ladder)
		if fail != errors.Is(err, errBroken) {
			t.Errorf("fail %v: got %v", fail, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("fail %v: %s left in the output's folder, want nothing", fail, ents[0].Name())
		}
	}
}

func TestScratchDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "old.html")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, want string }{
		{filepath.Join(dir, "new.html"), dir},
		{file, dir},
		{"-", os.TempDir()},
		{os.DevNull, os.TempDir()}, // a device: its folder is not for files
	} {
		if got := scratchDir(c.out); got != c.want {
			t.Errorf("scratchDir(%s): got %s, want %s", c.out, got, c.want)
		}
	}
}

// BenchmarkExport is `sipscope export --format F -o FILE` of every dialog
// of the benchmark capture: the page of 50,000 calls.
func BenchmarkExport(b *testing.B) {
	file := benchCapture(b)
	for _, format := range []string{"html", "txt", "json"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			out := filepath.Join(b.TempDir(), "calls."+format)
			for b.Loop() {
				io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
				opts := &exportOptions{format: format, out: out, source: sourceOptions{files: []string{file}, quiet: true}}
				if err := runExport(context.Background(), opts, io); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
