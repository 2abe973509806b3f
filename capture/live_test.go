package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readAll returns copies of every frame of src.
func liveReadAll(t *testing.T, src Source) []Frame {
	t.Helper()
	var out []Frame
	var f Frame
	for {
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		c := f
		c.Data = bytes.Clone(f.Data)
		out = append(out, c)
	}
}

func openOne(t *testing.T, path string) Source {
	t.Helper()
	src, err := Open([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

var sippCaptures = []string{
	"../testdata/sipp/busy.pcap",
	"../testdata/sipp/cancelled.pcap",
	"../testdata/sipp/fragmented-udp.pcap",
}

// TestJoin fans in three captures: every frame of each arrives once, in
// its source's order, with the right Source index and bytes intact
// although Join reuses its buffers.
func TestJoin(t *testing.T) {
	var want [][]Frame
	var srcs []Source
	for _, p := range sippCaptures {
		s := openOne(t, p)
		want = append(want, liveReadAll(t, s))
		s.Close()
		srcs = append(srcs, openOne(t, p))
	}
	j := Join(srcs...)
	got := liveReadAll(t, j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Err(); err != nil {
		t.Errorf("Err: %v, want nil", err)
	}
	next := make([]int, len(want))
	for _, f := range got {
		i := f.Source
		if i < 0 || i >= len(want) || next[i] >= len(want[i]) {
			t.Fatalf("frame %d of %s: unexpected Source %d", f.Number, f.File, i)
		}
		w := want[i][next[i]]
		if f.Number != w.Number || f.File != w.File || !bytes.Equal(f.Data, w.Data) || !f.Time.Equal(w.Time) {
			t.Fatalf("source %d frame %d: got %s #%d (%d bytes), want %s #%d (%d bytes)",
				i, next[i], f.File, f.Number, len(f.Data), w.File, w.Number, len(w.Data))
		}
		next[i]++
	}
	for i := range want {
		if next[i] != len(want[i]) {
			t.Errorf("source %d: got %d frames, want %d", i, next[i], len(want[i]))
		}
	}
}

// stuck is a Live source that has nothing until stopped, then fails.
type stuck struct {
	stop chan struct{}
	err  error
}

func (s *stuck) Next(f *Frame) error { <-s.stop; return io.EOF }
func (s *stuck) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}
func (s *stuck) Stats() LiveStats   { return LiveStats{Packets: 2, KernelDrops: 1} }
func (s *stuck) Err() error         { return s.err }
func (s *stuck) Warnings() []string { return nil }
func (s *stuck) Close() error       { return nil }

// TestJoinStop: Stop ends a join of idle live sources; their errors and
// counters add up.
func TestJoinStop(t *testing.T) {
	a := &stuck{stop: make(chan struct{})}
	b := &stuck{stop: make(chan struct{}), err: errors.New("interface x went away during the capture")}
	j := Join(a, b)
	done := make(chan error, 1)
	go func() {
		var f Frame
		done <- j.Next(&f)
	}()
	time.Sleep(20 * time.Millisecond)
	j.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Next after Stop: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Stop")
	}
	if st := j.Stats(); st.Packets != 4 || st.KernelDrops != 2 {
		t.Errorf("Stats: got %+v, want 4 packets, 2 drops", st)
	}
	if err := j.Err(); err == nil || !strings.Contains(err.Error(), "went away") {
		t.Errorf("Err: got %v, want the source's error", err)
	}
	j.Close()
}

// TestRotator writes a capture through a 512-byte rotation: numbered files,
// each a capture on its own, together every frame in order.
func TestRotator(t *testing.T) {
	src := openOne(t, "../testdata/sipp/busy.pcap")
	frames := liveReadAll(t, src)
	src.Close()
	dir := t.TempDir()
	r, err := NewRotator(filepath.Join(dir, "out.pcap"), "pcap", 512, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range frames {
		if err := r.WriteFrame(&frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	files := r.Files()
	if len(files) < 2 {
		t.Fatalf("got %d files, want several", len(files))
	}
	var got []Frame
	for i, name := range files {
		if want := filepath.Join(dir, fmt.Sprintf("out.%d.pcap", i+1)); name != want {
			t.Errorf("file %d: got %s, want %s", i, name, want)
		}
		s := openOne(t, name)
		got = append(got, liveReadAll(t, s)...)
		s.Close()
	}
	if len(got) != len(frames) {
		t.Fatalf("got %d frames back, want %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, frames[i].Data) || !got[i].Time.Equal(frames[i].Time) {
			t.Fatalf("frame %d differs after rotation", i+1)
		}
	}
}

// TestRotatorPlain: without limits the file is the path itself.
func TestRotatorPlain(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plain.pcap")
	r, err := NewRotator(p, "pcapng", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if fs := r.Files(); len(fs) != 1 || fs[0] != p {
		t.Errorf("Files: %v, want [%s]", fs, p)
	}
	s := openOne(t, p) // an empty capture is still a valid file
	s.Close()
	if _, err := NewRotator(filepath.Join(t.TempDir(), "no", "such", "x.pcap"), "pcap", 0, 0); err == nil ||
		!strings.Contains(err.Error(), "x.pcap") {
		t.Errorf("unwritable path: got %v, want an error naming it", err)
	}
}

func TestOpenLiveErrors(t *testing.T) {
	_, err := OpenLive([]string{"live-nosuch0"}, LiveOptions{})
	if runtime.GOOS != "linux" {
		if !errors.Is(err, ErrLiveUnsupported) {
			t.Fatalf("got %v, want ErrLiveUnsupported", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "interface live-nosuch0: no such interface") {
		t.Errorf("unknown interface: got %v, want an error naming it", err)
	}
	if _, err := OpenLive(nil, LiveOptions{}); err == nil {
		t.Error("no interface: got nil error")
	}
	if os.Geteuid() != 0 {
		if _, err := OpenLive([]string{"lo"}, LiveOptions{}); err == nil || !strings.Contains(err.Error(), "CAP_NET_RAW") {
			t.Errorf("lo without root: got %v, want a hint about CAP_NET_RAW", err)
		}
	}
}

// TestRotatorAge: --rotate-time starts a new file once the current one is
// old, but never leaves an empty file behind after a quiet start.
func TestRotatorAge(t *testing.T) {
	src := openOne(t, "../testdata/sipp/busy.pcap")
	frames := liveReadAll(t, src)
	src.Close()
	r, err := NewRotator(filepath.Join(t.TempDir(), "age.pcap"), "pcap", 0, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // quiet start: no frame yet
	for i := 0; i < 2; i++ {
		if err := r.WriteFrame(&frames[i]); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(60 * time.Millisecond)
	if err := r.WriteFrame(&frames[2]); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, name := range r.Files() {
		s := openOne(t, name)
		counts = append(counts, len(liveReadAll(t, s)))
		s.Close()
	}
	if fmt.Sprint(counts) != "[2 1]" {
		t.Errorf("frames per file: got %v, want [2 1]", counts)
	}
}
