package decode

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// dupRecorder notes, per message, its first frame and Duplicate flag.
type dupRecorder struct {
	frames []int64
	dup    []bool
}

func (r *dupRecorder) Message(m *Message) {
	r.frames = append(r.frames, m.Frames[0].Number)
	r.dup = append(r.dup, m.Duplicate)
}
func (r *dupRecorder) Event(*Event) {}

func decodeDup(t *testing.T, path string, opts Options) (*dupRecorder, Stats) {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := &dupRecorder{}
	d := New(opts, r)
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	return r, d.Stats()
}

// TestDuplicateFrames: the FAX capture sees every datagram between
// 10.35.40.25 and 10.35.40.200 twice; frame 26 is frame 24 again (IP ID
// 0x3f9e, 1.4 ms later). Its message is delivered marked Duplicate, and
// counted in Stats.Duplicates, once per second copy.
func TestDuplicateFrames(t *testing.T) {
	path := filepath.Join(corpusDir(t), "heplify", "FAX-Call-t38-CA-TDM-SIP-FB-1.pcap")
	r, st := decodeDup(t, path, Options{})
	byFrame := map[int64]bool{}
	dups := 0
	for i, n := range r.frames {
		byFrame[n] = r.dup[i]
		if r.dup[i] {
			dups++
		}
	}
	if dup, ok := byFrame[24]; !ok || dup {
		t.Errorf("frame 24: got message %v, duplicate %v; want the first copy, not a duplicate", ok, dup)
	}
	if dup, ok := byFrame[26]; !ok || !dup {
		t.Errorf("frame 26: got message %v, duplicate %v; want a duplicate of frame 24", ok, dup)
	}
	if st.Duplicates == 0 || int64(dups) != st.Duplicates {
		t.Errorf("got %d messages marked, Stats.Duplicates %d; want the same, > 0", dups, st.Duplicates)
	}
	// Off, nothing is marked.
	r, st = decodeDup(t, path, Options{DupWindow: -1})
	for i, dup := range r.dup {
		if dup {
			t.Fatalf("DupWindow -1: frame %d marked duplicate", r.frames[i])
		}
	}
	if st.Duplicates != 0 {
		t.Errorf("DupWindow -1: Stats.Duplicates %d", st.Duplicates)
	}
}

// TestDuplicateNotResend: a resend (the same bytes with a new IP ID, or
// the same ID after the window) is not a duplicate; a copy within the
// window is, once per copy.
func TestDuplicateNotResend(t *testing.T) {
	sip := []byte("OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" +
		"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: dup-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
	frame := func(id uint16) []byte {
		b := make([]byte, 20+8+len(sip))
		b[0], b[8], b[9] = 0x45, 64, protoUDP
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		binary.BigEndian.PutUint16(b[4:], id)
		copy(b[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
		binary.BigEndian.PutUint16(b[20:], 5060)
		binary.BigEndian.PutUint16(b[22:], 5060)
		binary.BigEndian.PutUint16(b[24:], uint16(8+len(sip)))
		copy(b[28:], sip)
		return b
	}
	t0 := time.Unix(1700000000, 0)
	r := &dupRecorder{}
	d := New(Options{}, r)
	for _, c := range []struct {
		id uint16
		at time.Duration
	}{{1, 0}, {1, time.Millisecond}, {2, 500 * time.Millisecond}, {2, 502 * time.Millisecond}, {2, 2 * time.Second}} {
		d.Frame(&capture.Frame{Number: 1, Time: t0.Add(c.at), Link: capture.LinkRaw, Data: frame(c.id)})
	}
	got := r.dup
	want := []bool{false, true, false, true, false}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: got duplicate %v, want %v", i, got[i], want[i])
		}
	}
	if s := d.Stats(); s.Duplicates != 2 {
		t.Errorf("got Stats.Duplicates %d, want 2", s.Duplicates)
	}
}

// TestOverlapAcrossInputs: sngrep's aaa.pcap and zeek's wireshark.pcap (a
// SIP-only extract of it) hold the same 81 messages at the same times.
// Read together, each is delivered once; the other copy is counted in
// Stats.Overlaps.
func TestOverlapAcrossInputs(t *testing.T) {
	dir := corpusDir(t)
	paths := []string{filepath.Join(dir, "sngrep", "aaa.pcap"), filepath.Join(dir, "zeek", "wireshark.pcap")}
	src, err := capture.Open(paths, capture.Options{})
	if err != nil {
		t.Skipf("corpus captures: %v", err)
	}
	defer src.Close()
	r := &dupRecorder{}
	d := New(Options{}, r)
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if len(r.frames) != 81 || st.Overlaps != 81 || st.Duplicates != 0 {
		t.Errorf("got %d messages, %d overlaps, %d duplicates; want 81, 81, 0", len(r.frames), st.Overlaps, st.Duplicates)
	}
}

// TestDupRingFilter: the low-byte counts that let checkDup skip the scan
// agree with the ring through many wraps: a copy of any of the last
// dupSlots datagrams is found, and the counts add up to the slots taken.
func TestDupRingFilter(t *testing.T) {
	d := New(Options{}, nopHandler{})
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	dst := netip.MustParseAddrPort("192.0.2.2:5060")
	t0 := time.Unix(1700000000, 0)
	payload := func(i int) []byte { return []byte(fmt.Sprintf("OPTIONS sip:%d@example.com SIP/2.0\r\n\r\n", i)) }
	p := &pkt{}
	for i := range 5 * dupSlots {
		p.time, p.ipid = t0.Add(time.Duration(i)*time.Millisecond), uint32(i)
		if k := d.checkDup(p, src, dst, payload(i)); k != dupNone {
			t.Fatalf("datagram %d: verdict %d, want new", i, k)
		}
		total := 0
		for _, c := range d.dup.low {
			total += int(c)
		}
		if want := min(i+1, dupSlots); total != want || d.dup.filled != want {
			t.Fatalf("after %d datagrams: counts add to %d, filled %d; want %d", i+1, total, d.dup.filled, want)
		}
		// A copy of a datagram still in the ring (within 63 ms): found
		// through the counts, and a copy is not remembered.
		j := max(i-(i*7)%dupSlots, 0)
		q := &pkt{time: p.time, ipid: uint32(j)}
		if k := d.checkDup(q, src, dst, payload(j)); k != dupFrame {
			t.Fatalf("datagram %d again after %d: verdict %d, want a duplicate", j, i, k)
		}
		if h := maphash.Bytes(d.dup.seed, payload(j)); d.dup.low[uint8(h)] == 0 {
			t.Fatalf("datagram %d in the ring, but its low byte counts 0", j)
		}
	}
}
