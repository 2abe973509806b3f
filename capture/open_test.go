package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readAll reads every frame of src, copying Data, and closes src.
func readAll(t testing.TB, src Source) []Frame {
	t.Helper()
	defer src.Close()
	var out []Frame
	var f Frame
	for {
		err := src.Next(&f)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		f.Data = bytes.Clone(f.Data)
		out = append(out, f)
	}
}

func openAll(t testing.TB, paths ...string) ([]Frame, []string) {
	t.Helper()
	src, err := Open(paths, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	frames := readAll(t, src)
	return frames, src.Warnings()
}

var threePkts = []pkt{
	{t: ts(0), data: []byte("first frame")},
	{t: ts(time.Second), data: []byte("second"), orig: 1500},
	{t: ts(2 * time.Second), data: []byte("3")},
}

func TestOpenPcap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order byteOrder
		nano  bool
		gzip  bool
	}{
		{"le-micro", binary.LittleEndian, false, false},
		{"le-nano", binary.LittleEndian, true, false},
		{"be-micro", binary.BigEndian, false, false},
		{"be-nano", binary.BigEndian, true, false},
		{"gzip-le-nano", binary.LittleEndian, true, true},
		{"gzip-be-micro", binary.BigEndian, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := pcapFile(tc.order, tc.nano, LinkLinuxSLL, threePkts...)
			if tc.gzip {
				b = gz(b)
			}
			// The name says nothing: formats are found by magic.
			p := writeFile(t, "capture.bin", b)
			frames, warns := openAll(t, p)
			if len(warns) != 0 {
				t.Errorf("warnings %q, want none", warns)
			}
			if len(frames) != len(threePkts) {
				t.Fatalf("got %d frames, want %d", len(frames), len(threePkts))
			}
			for i, f := range frames {
				want := threePkts[i]
				wantTime := want.t
				if !tc.nano {
					wantTime = wantTime.Truncate(time.Microsecond)
				}
				wantOrig := want.orig
				if wantOrig == 0 {
					wantOrig = len(want.data)
				}
				if f.Number != int64(i+1) || f.Source != 0 || f.File != p {
					t.Errorf("frame %d: got number %d source %d file %q", i, f.Number, f.Source, f.File)
				}
				if !f.Time.Equal(wantTime) || f.Time.Location() != time.UTC {
					t.Errorf("frame %d: got time %v, want %v UTC", i, f.Time, wantTime)
				}
				if f.Link != LinkLinuxSLL {
					t.Errorf("frame %d: got link %d, want %d", i, f.Link, LinkLinuxSLL)
				}
				if !bytes.Equal(f.Data, want.data) || f.OrigLen != wantOrig {
					t.Errorf("frame %d: got data %q orig %d, want %q %d", i, f.Data, f.OrigLen, want.data, wantOrig)
				}
			}
		})
	}
}

// multiInterface builds a pcapng with two sections: the first with an
// Ethernet interface in microseconds and a raw IPv4 interface in
// nanoseconds, plus blocks to skip; the second with a Linux SLL2 interface
// in milliseconds.
func multiInterface(order byteOrder) ([]byte, []Frame) {
	n := &ngBuilder{order: order, comments: true}
	n.shb("section comment")
	n.idb(ngIface{link: LinkEthernet})
	n.other()
	n.idb(ngIface{link: LinkIPv4, tsresol: 9})
	pk := []pkt{
		{t: ts(0), data: []byte("eth0"), ifc: 0},
		{t: ts(1), data: []byte("ipv4-1"), ifc: 1, orig: 100},
		{t: ts(2 * time.Millisecond), data: []byte("eth2"), ifc: 0},
	}
	want := []Frame{
		{Number: 1, Time: ts(0).Truncate(time.Microsecond), Link: LinkEthernet, Data: []byte("eth0"), OrigLen: 4},
		{Number: 2, Time: ts(1), Link: LinkIPv4, Data: []byte("ipv4-1"), OrigLen: 100},
		{Number: 3, Time: ts(2 * time.Millisecond).Truncate(time.Microsecond), Link: LinkEthernet, Data: []byte("eth2"), OrigLen: 4},
	}
	for _, p := range pk {
		n.epb(p)
		n.other()
	}
	n.shb("")
	n.idb(ngIface{link: LinkLinuxSLL2, tsresol: 3})
	n.epb(pkt{t: ts(time.Second), data: []byte("sll2")})
	want = append(want, Frame{Number: 4, Time: ts(time.Second).Truncate(time.Millisecond), Link: LinkLinuxSLL2, Data: []byte("sll2"), OrigLen: 4})
	return n.b.Bytes(), want
}

func TestOpenPcapng(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order byteOrder
		gzip  bool
	}{
		{"little-endian", binary.LittleEndian, false},
		{"big-endian", binary.BigEndian, false},
		{"gzip", binary.LittleEndian, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, want := multiInterface(tc.order)
			if tc.gzip {
				b = gz(b)
			}
			p := writeFile(t, "x.pcap", b) // pcapng despite the name
			frames, warns := openAll(t, p)
			if len(warns) != 0 {
				t.Errorf("warnings %q, want none", warns)
			}
			if len(frames) != len(want) {
				t.Fatalf("got %d frames, want %d", len(frames), len(want))
			}
			for i, f := range frames {
				w := want[i]
				if f.Number != w.Number || !f.Time.Equal(w.Time) || f.Link != w.Link ||
					!bytes.Equal(f.Data, w.Data) || f.OrigLen != w.OrigLen {
					t.Errorf("frame %d: got #%d %v link %d %q orig %d, want #%d %v link %d %q orig %d",
						i, f.Number, f.Time, f.Link, f.Data, f.OrigLen, w.Number, w.Time, w.Link, w.Data, w.OrigLen)
				}
			}
		})
	}
}

func TestOpenStdin(t *testing.T) {
	b := gz(pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...))
	src, err := Open([]string{"-"}, Options{Stdin: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	if _, total := src.(Progresser).Progress(); total != -1 {
		t.Errorf("got total %d for stdin, want -1", total)
	}
	frames := readAll(t, src)
	if len(frames) != 3 || frames[0].File != "-" || frames[2].Number != 3 {
		t.Fatalf("got %d frames (first %+v), want 3 from \"-\"", len(frames), frames[0])
	}
	if done, _ := src.(Progresser).Progress(); done != int64(len(b)) {
		t.Errorf("got done %d, want %d", done, len(b))
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "good.pcap", pcapFile(binary.LittleEndian, false, LinkEthernet, threePkts...))
	mk := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kuz := pcapFile(binary.LittleEndian, false, LinkEthernet)
	binary.LittleEndian.PutUint32(kuz, magicPcapKuz)
	badVersion := pcapFile(binary.LittleEndian, false, LinkEthernet)
	badVersion[4] = 9
	for _, tc := range []struct {
		name  string
		path  string
		want  string
		isErr error
	}{
		{"missing", filepath.Join(dir, "missing.pcap"), "no such file or directory", os.ErrNotExist},
		{"directory", dir, "is a directory", nil},
		{"empty", mk("empty.pcap", nil), "empty file", ErrEmpty},
		{"http", mk("calls.pcap", []byte("GET / HTTP/1.1\r\n")), `not a pcap or pcapng file (starts with "GET / HT")`, ErrNotCapture},
		{"short", mk("short.pcap", []byte("ab")), `not a pcap or pcapng file (starts with "ab")`, ErrNotCapture},
		{"gzip-text", mk("text.gz", gz([]byte("hello world"))), "not a pcap or pcapng file", ErrNotCapture},
		{"gzip-empty", mk("empty.gz", gz(nil)), "empty file after gzip decompression", ErrEmpty},
		{"gzip-broken", mk("broken.gz", []byte{0x1f, 0x8b, 1, 2}), "gzip:", nil},
		{"pcap-header-cut", mk("cut.pcap", pcapFile(binary.LittleEndian, false, LinkEthernet)[:20]), "pcap file header cut short", nil},
		{"pcap-version", mk("ver.pcap", badVersion), "pcap file header", nil},
		{"pcapng-header-cut", mk("cut.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c}), "pcapng section header", nil},
		{"kuznetzov", mk("kuz.pcap", kuz), "modified (Kuznetzov) pcap", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A bad file among good ones fails Open as a whole.
			_, err := Open([]string{good, tc.path}, Options{})
			if err == nil {
				t.Fatal("got no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "open "+tc.path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("got error %q, want one line \"open %s: ...%s...\"", msg, tc.path, tc.want)
			}
			if tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Errorf("got error %v, want errors.Is %v", err, tc.isErr)
			}
		})
	}
	if _, err := Open(nil, Options{}); err == nil {
		t.Error("Open(nil): got no error")
	}
}

func TestTruncated(t *testing.T) {
	pcap := pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...)
	ng, _ := multiInterface(binary.LittleEndian)
	for _, tc := range []struct {
		name   string
		b      []byte
		frames int
		want   string
	}{
		{"pcap-mid-record", pcap[:len(pcap)-1], 2, "cut short after frame 2: last record is incomplete"},
		{"pcap-mid-header", pcap[:24+16+len(threePkts[0].data)+5], 1, "cut short after frame 1: last record is incomplete"},
		{"pcap-no-frame", pcap[:24+3], 0, "damaged before the first frame"},
		{"pcap-gzip-cut", gz(pcap)[:len(gz(pcap))-12], -1, "cut short after frame"},
		{"pcapng-mid-block", ng[:len(ng)-6], 3, "cut short after frame 3"},
		{"pcapng-bad-length", badNgLength(), 1, "cut short after frame 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "cut.pcap", tc.b)
			good := writeFile(t, "good.pcap", pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...))
			frames, warns := openAll(t, p, good)
			n := 0
			for _, f := range frames {
				if f.Source == 0 {
					n++
				}
			}
			if tc.frames >= 0 && n != tc.frames {
				t.Errorf("got %d frames from the damaged file, want %d", n, tc.frames)
			}
			if len(frames)-n != len(threePkts) {
				t.Errorf("got %d frames from the good file, want %d", len(frames)-n, len(threePkts))
			}
			if len(warns) != 1 || !strings.HasPrefix(warns[0], p+": ") || !strings.Contains(warns[0], tc.want) {
				t.Errorf("got warnings %q, want one \"%s: ...%s...\"", warns, p, tc.want)
			}
		})
	}
}

// badNgLength is a pcapng whose second packet block claims a length of 8,
// shorter than its own header.
func badNgLength() []byte {
	n := &ngBuilder{order: binary.LittleEndian}
	n.shb("")
	n.idb(ngIface{link: LinkEthernet})
	n.epb(pkt{t: ts(0), data: []byte("one")})
	at := n.b.Len()
	n.epb(pkt{t: ts(1), data: []byte("two")})
	n.epb(pkt{t: ts(2), data: []byte("three")})
	b := n.b.Bytes()
	binary.LittleEndian.PutUint32(b[at+4:], 8)
	return b
}

func TestMerge(t *testing.T) {
	// a: 0s, 2s, 2s, 5s; b: 1s, 2s, 3s; c (pcapng): 2s, 0s (backwards).
	a := writeFile(t, "a.pcap", pcapFile(binary.LittleEndian, true, LinkEthernet,
		pkt{t: ts(0), data: []byte("a1")}, pkt{t: ts(2 * time.Second), data: []byte("a2")},
		pkt{t: ts(2 * time.Second), data: []byte("a3")}, pkt{t: ts(5 * time.Second), data: []byte("a4")}))
	b := writeFile(t, "b.pcap.gz", gz(pcapFile(binary.BigEndian, true, LinkRaw,
		pkt{t: ts(time.Second), data: []byte("b1")}, pkt{t: ts(2 * time.Second), data: []byte("b2")},
		pkt{t: ts(3 * time.Second), data: []byte("b3")})))
	n := &ngBuilder{order: binary.LittleEndian}
	n.shb("")
	n.idb(ngIface{link: LinkEthernet, tsresol: 9})
	n.epb(pkt{t: ts(2 * time.Second), data: []byte("c1")})
	n.epb(pkt{t: ts(0), data: []byte("c2")})
	c := writeFile(t, "c.pcapng", n.b.Bytes())

	frames, warns := openAll(t, a, b, c)
	if len(warns) != 0 {
		t.Errorf("got warnings %q", warns)
	}
	var got []string
	for _, f := range frames {
		got = append(got, string(f.Data))
		if want := fmt.Sprintf("%c%d", 'a'+f.Source, f.Number); string(f.Data) != want {
			t.Errorf("frame %q: got source %d number %d", f.Data, f.Source, f.Number)
		}
	}
	// c2 is earlier than c1 but comes after it: an input's order is kept.
	want := "a1 b1 a2 a3 b2 c1 c2 b3 a4"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("got order %s, want %s", g, want)
	}
}

func TestProgress(t *testing.T) {
	pa := pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...)
	pb := gz(pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...))
	a := writeFile(t, "a.pcap", pa)
	b := writeFile(t, "b.pcap.gz", pb)
	src, err := Open([]string{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pr := src.(Progresser)
	done, total := pr.Progress()
	if total != int64(len(pa)+len(pb)) {
		t.Errorf("got total %d, want %d", total, len(pa)+len(pb))
	}
	if done <= 0 || done > total {
		t.Errorf("after Open got done %d, want in (0, %d]", done, total)
	}
	readAll(t, src)
	if done, _ = pr.Progress(); done != total {
		t.Errorf("at the end got done %d, want %d", done, total)
	}
}

// TestDataValidUntilNext checks the zero-copy contract across inputs: the
// frame returned last keeps its bytes while other inputs are read.
func TestDataValidUntilNext(t *testing.T) {
	a := writeFile(t, "a.pcap", pcapFile(binary.LittleEndian, true, LinkEthernet,
		pkt{t: ts(0), data: []byte("aaaa")}, pkt{t: ts(3), data: []byte("AAAA")}))
	b := writeFile(t, "b.pcap", pcapFile(binary.LittleEndian, true, LinkEthernet,
		pkt{t: ts(1), data: []byte("bbbb")}, pkt{t: ts(2), data: []byte("BBBB")}))
	src, err := Open([]string{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f Frame
	for _, want := range []string{"aaaa", "bbbb", "BBBB", "AAAA"} {
		if err := src.Next(&f); err != nil {
			t.Fatal(err)
		}
		if string(f.Data) != want {
			t.Errorf("got %q, want %q", f.Data, want)
		}
	}
	if err := src.Next(&f); err != io.EOF {
		t.Errorf("got %v at the end, want io.EOF", err)
	}
}

// TestProgressConcurrent calls Progress from another goroutine while the
// frames are read, as a progress bar does (run with -race).
func TestProgressConcurrent(t *testing.T) {
	p := writeFile(t, "a.pcap", pcapFile(binary.LittleEndian, true, LinkEthernet, threePkts...))
	src, err := Open([]string{p, p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				src.(Progresser).Progress()
			}
		}
	}()
	frames := readAll(t, src)
	close(stop)
	<-done
	if len(frames) != 6 {
		t.Errorf("got %d frames, want 6", len(frames))
	}
}
