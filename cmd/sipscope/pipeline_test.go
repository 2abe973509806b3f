package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// goroutinesSettle waits for the goroutine count to come back to n.
func goroutinesSettle(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < 100 && runtime.NumGoroutine() > n; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > n {
		t.Errorf("got %d goroutines after the run, want %d: the writer goroutine leaked", g, n)
	}
}

// TestAsyncSinkError checks that the writer's first error cancels the
// pipeline, is returned by later Dialog calls and by close, and that the
// goroutine ends.
func TestAsyncSinkError(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("disk full")
	n := 0
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s := newAsyncSink(correlate.SinkFunc(func(*correlate.Dialog, []*correlate.Message) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	}), cancel)
	var sendErr error
	for i := 0; i < 100*asyncBatch && sendErr == nil; i++ {
		sendErr = s.Dialog(&correlate.Dialog{CallID: "x"}, nil)
	}
	if err := s.close(); !errors.Is(err, boom) {
		t.Errorf("close: got %v, want %v", err, boom)
	}
	if !errors.Is(sendErr, errWriterFailed) {
		t.Errorf("Dialog after the failure: got %v, want %v", sendErr, errWriterFailed)
	}
	if !errors.Is(context.Cause(ctx), boom) {
		t.Errorf("pipeline cause: got %v, want %v", context.Cause(ctx), boom)
	}
	if n != 10 {
		t.Errorf("sink called %d times, want 10 (nothing after the error)", n)
	}
	goroutinesSettle(t, before)
}

// TestImportCancelled checks that an interrupted import (Ctrl-C cancels
// the context) returns context.Canceled, which main turns into exit 130,
// stores nothing and leaves no goroutine behind.
func TestImportCancelled(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "sipp", "*.pcap"))
	if len(files) == 0 {
		t.Skip("no testdata/sipp captures")
	}
	before := runtime.NumGoroutine()
	for _, mode := range []storeMode{keepEverything, dialogsOnly} {
		st, err := store.Open(filepath.Join(t.TempDir(), "x.db"), store.Options{DialogsOnly: mode == dialogsOnly})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
		imp := &importer{store: st, files: files, io: io, quiet: true,
			correlate: correlate.Options{Summaries: mode == dialogsOnly, Early: true}}
		if _, err := imp.run(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("mode %d: got %v, want context.Canceled", mode, err)
		}
		c, err := st.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.Dialogs != 0 {
			t.Errorf("mode %d: %d dialogs stored by a cancelled import, want 0", mode, c.Dialogs)
		}
		st.Close()
	}
	goroutinesSettle(t, before)
}

// TestMsgPool: the structs the writer puts back come out again, a put
// that would pass maxPooled is dropped, and an empty pool gives nil (the
// caller allocates).
func TestMsgPool(t *testing.T) {
	p := &msgPool{}
	if p.get() != nil {
		t.Fatal("empty pool gave a struct")
	}
	a, b := &decode.Message{}, &decode.Message{}
	p.put([]*correlate.Message{{Message: a}, nil, {Message: b}, {}})
	got := map[*decode.Message]bool{p.get(): true, p.get(): true}
	if !got[a] || !got[b] || p.get() != nil {
		t.Errorf("got %v back, want the two structs put, then nil", got)
	}
	many := make([]*correlate.Message, maxPooled+10)
	for i := range many {
		many[i] = &correlate.Message{Message: &decode.Message{}}
	}
	p.put(many)
	n := 0
	for p.get() != nil {
		n++
	}
	if n != maxPooled {
		t.Errorf("pool kept %d structs, want %d", n, maxPooled)
	}
}
