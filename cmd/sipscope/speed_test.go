package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// allCaptures lists every capture of the repository's testdata and of the
// shared corpus (../shared/corpus, skipped when absent: it is never copied
// into the project).
func allCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, root := range []string{filepath.Join("..", "..", "testdata"), filepath.Join("..", "..", "..", "shared", "corpus")} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if n := d.Name(); !d.IsDir() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") ||
				strings.HasSuffix(n, ".pcap.gz") || strings.HasSuffix(n, ".cap")) {
				files = append(files, p)
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("no %s: its captures are not compared", root)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatal("no captures found")
	}
	return files
}

// messagesReference is `messages --format jsonl` as encoding/json writes
// it, a message at a time on the decoding goroutine: the output before the
// hand-rolled appender and the writer stage.
func messagesReference(t *testing.T, file string) []byte {
	t.Helper()
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	var index int64
	job := &decodeJob{files: []string{file}, handler: decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		index++
		r := newMessageRecord(index, m)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}}}
	if _, err := job.run(context.Background()); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return out.Bytes()
}

// TestMessagesJSONLHandRolled: `messages --format jsonl` (hand-rolled JSON,
// written by a second stage) gives the bytes encoding/json gives, on every
// capture, with one core and with two.
func TestMessagesJSONLHandRolled(t *testing.T) {
	files := allCaptures(t)
	t.Logf("%d captures", len(files))
	for _, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		for _, f := range files {
			want := messagesReference(t, f)
			var got bytes.Buffer
			io := &streams{In: bytes.NewReader(nil), Out: &got, ErrOut: io.Discard}
			if err := runMessages(context.Background(), &messagesOptions{files: []string{f}, format: "jsonl"}, io); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("GOMAXPROCS=%d %s: output differs from encoding/json's at byte %d (%d vs %d bytes)",
					procs, f, firstDiff(got.Bytes(), want), got.Len(), len(want))
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestAppendJSONString holds the string escaper to encoding/json's on the
// strings that need escapes: quotes, control bytes, invalid UTF-8, the
// JavaScript line separators, and HTML characters left as they are.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b\c`, "tab\tnl\ncr\r\b\f\x00\x1f\x7f", "bad \xff\xfe utf8 \xe2\x82",
		"sep \u2028 \u2029", "<sip:a&b@x>", "ünïcødé ☎", "\xed\xa0\x80"} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(appendJSONString(nil, s)); got != want {
			t.Errorf("appendJSONString(%q): got %s, want %s", s, got, want)
		}
	}
}

// TestMessageJSONAllocs: copying a message into a batch and appending its
// record allocate nothing once the buffers have grown (issue 12: no allocation per message).
func TestMessageJSONAllocs(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "sipp", "udp-basic.pcap")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("no %s", file)
	}
	var msgs []*decode.Message
	job := &decodeJob{files: []string{file}, handler: decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		msgs = append(msgs, m.Clone())
	}}}
	if _, err := job.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 {
		t.Fatalf("no messages in %s", file)
	}
	var mj messageJSON
	var b msgBatch
	buf := make([]byte, 0, 64<<10)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		// A batch as the decoding stage fills it, encoded as the other
		// stage does.
		if len(b.rows) == msgBatchRows {
			b.reset()
		}
		b.add(int64(i), msgs[i%len(msgs)])
		buf = mj.append(buf[:0], &b, &b.rows[len(b.rows)-1])
		i++
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per message, want 0", allocs)
	}
}

// TestJSONTime holds the cached time writer to correlate.FormatTime,
// across seconds, days, years, the zero time and far years.
func TestJSONTime(t *testing.T) {
	var j jsonTime
	base := time.Date(2026, 12, 31, 23, 59, 58, 999999999, time.UTC)
	ts := []time.Time{{}, base, base.Add(1), base.Add(time.Nanosecond * 1500000001), base.Add(2 * time.Second),
		base.In(time.FixedZone("x", 3600)), time.Date(12000, 1, 1, 0, 0, 0, 5, time.UTC), base.Add(-time.Hour * 24 * 400),
		time.Unix(0, 0), time.Unix(-1, 7), base}
	for _, x := range ts {
		want := `"` + correlate.FormatTime(x) + `"`
		if got := string(j.append(nil, x)); got != want {
			t.Errorf("time %v: got %s, want %s", x, got, want)
		}
	}
}

// TestCallsSameOnOneAndTwoCores: the pipeline's stages (decoding and
// correlating, the writer, reading back and encoding) overlap on two
// cores; `calls --format jsonl` gives the same bytes when they cannot,
// on every capture.
func TestCallsSameOnOneAndTwoCores(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: every capture twice")
	}
	files := allCaptures(t)
	outs := map[int][][]byte{}
	for _, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		for _, f := range files {
			var got bytes.Buffer
			io := &streams{In: bytes.NewReader(nil), Out: &got, ErrOut: io.Discard}
			opts := &callsOptions{format: "jsonl", source: sourceOptions{files: []string{f}, quiet: true}}
			opts.filter.sort = "start"
			if err := runCalls(context.Background(), opts, io); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			outs[procs] = append(outs[procs], got.Bytes())
		}
		runtime.GOMAXPROCS(old)
	}
	for i, f := range files {
		if !bytes.Equal(outs[1][i], outs[2][i]) {
			t.Errorf("%s: calls output on one core differs from two at byte %d", f, firstDiff(outs[1][i], outs[2][i]))
		}
	}
}

// TestCallJSONHandRolled: the hand-rolled `calls` record equals
// encoding/json's for every dialog of every capture, for records with
// every optional field set, nil and empty lists, and floats of every size.
func TestCallJSONHandRolled(t *testing.T) {
	check := func(what string, r *callRecord) {
		t.Helper()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		got, err := appendCallJSON(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s:\n got %s\nwant %s", what, got, want.Bytes())
		}
	}
	n := 0
	for _, f := range allCaptures(t) {
		var ds []*correlate.Dialog
		opts := &callsOptions{format: "jsonl", source: sourceOptions{files: []string{f}, quiet: true}}
		opts.filter.sort = "start"
		st, release, err := openSource(context.Background(), &opts.source, dialogsOnly, nil,
			&streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		media, err := streamsByCall(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		if err := eachDialog(context.Background(), st, opts.filter.mustBuild(t), func(d *correlate.Dialog) error {
			ds = append(ds, d)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		release()
		for _, d := range ds {
			r := callWithMedia(d, media[d.CallID])
			check(f+" "+d.CallID, &r)
			n++
		}
	}
	t.Logf("%d dialogs compared", n)
	for _, v := range []float64{0, 1, -1, 0.35, 1e-7, 1.5e-7, 123456789.125, 1e21, 1e20, 5e-324, 0.000001, 1003.171} {
		r := callRecord{Record: correlate.Record{CallID: "a\"b\x01\u2028", SetupMS: &v, AnswerMS: &v, DurationMS: &v, Linked: []string{"x", "y<z>"}}, MOS: &v}
		check("float "+strconv.FormatFloat(v, 'g', -1, 64), &r)
	}
	check("nil lists", &callRecord{Media: []callMedia{}})
	mos := 4.1
	check("media", &callRecord{Record: correlate.Record{CallID: "<a&b>"}, Media: []callMedia{{Src: "<x>", MOS: &mos}}, MOS: &mos})
	check("zero", &callRecord{})
}

func (f *filterOptions) mustBuild(t *testing.T) store.Filter {
	t.Helper()
	sf, err := f.build()
	if err != nil {
		t.Fatal(err)
	}
	return sf
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

// TestMessagesWriteError: a failing output stops `messages` with the
// error, whether the encoding stage or the last flush meets it, and the
// encoding goroutine ends.
func TestMessagesWriteError(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "sipp", "retransmissions.pcap")
	before := runtime.NumGoroutine()
	io := &streams{In: bytes.NewReader(nil), Out: failWriter{}, ErrOut: io.Discard}
	err := runMessages(context.Background(), &messagesOptions{files: []string{file}, format: "jsonl"}, io)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("runMessages: got %v, want the write error", err)
	}
	// The pipe itself, with more than a batch queued behind the failure.
	var msgs []*decode.Message
	job := &decodeJob{files: []string{file}, handler: decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		msgs = append(msgs, m.Clone())
	}}}
	if _, err := job.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := newMsgPipe(failWriter{})
	var addErr error
	for i := 0; i < 20*msgBatchRows && addErr == nil; i++ {
		addErr = p.Add(int64(i), msgs[i%len(msgs)])
	}
	if err := p.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: got %v, want the write error", err)
	}
	if !errors.Is(addErr, errWriterFailed) {
		t.Errorf("Add after the failure: got %v, want %v", addErr, errWriterFailed)
	}
	goroutinesSettle(t, before)
}

// TestCallsReleaseSame: calls taking the messages of dialogs whose BYE went
// unanswered Grace after their last message (correlate.Options.Release,
// which keeps memory flat on big captures) lists, in JSON Lines and CSV,
// the bytes it lists holding them until the dialogs' Idle hand-off, on
// every capture; and some captures have such dialogs.
func TestCallsReleaseSame(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: every capture four times")
	}
	files := allCaptures(t)
	before := releasedDialogs.Load()
	calls := func(f, format string, release bool) []byte {
		old := releaseDialogs
		releaseDialogs = release
		defer func() { releaseDialogs = old }()
		var got bytes.Buffer
		io := &streams{In: bytes.NewReader(nil), Out: &got, ErrOut: io.Discard}
		opts := &callsOptions{format: format, source: sourceOptions{files: []string{f}, quiet: true}}
		opts.filter.sort = "start"
		if err := runCalls(context.Background(), opts, io); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		return got.Bytes()
	}
	for _, f := range files {
		for _, format := range []string{"jsonl", "csv"} {
			held, released := calls(f, format, false), calls(f, format, true)
			if !bytes.Equal(held, released) {
				t.Errorf("%s: calls --format %s with released dialogs differs at byte %d", f, format, firstDiff(held, released))
			}
		}
	}
	// With room for one media view only, which calls get their media
	// findings depends on the order views are added: a released dialog's
	// must still be added at its hand-off (the 500,000-call capture has
	// more calls than maxViews: 42 of its lines changed when a released
	// dialog's view was added at its release).
	old := maxViews
	maxViews = 1
	defer func() { maxViews = old }()
	for _, f := range files {
		held, released := calls(f, "jsonl", false), calls(f, "jsonl", true)
		if !bytes.Equal(held, released) {
			t.Errorf("%s: calls --format jsonl with one media view and released dialogs differs at byte %d", f, firstDiff(held, released))
		}
	}
	if n := releasedDialogs.Load() - before; n == 0 {
		t.Error("no capture has a dialog whose BYE went unanswered: nothing was released")
	} else {
		t.Logf("%d dialogs released", n)
	}
}
