package decode

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// fragments splits a UDP datagram carrying msg into IPv4 fragments of
// size bytes (a multiple of 8) and returns the Ethernet frames.
func fragments(id uint16, msg []byte, size int) [][]byte {
	u := tUDP(5060, 5060, msg)
	var out [][]byte
	for off := 0; off < len(u); off += size {
		end := min(off+size, len(u))
		out = append(out, tEth(0x0800, tIPv4(17, id, end < len(u), off, u[off:end])))
	}
	return out
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestFragmentsAnyOrder(t *testing.T) {
	parserReady(t)
	msg := tSIP("perm")
	frs := fragments(7, msg, 64) // 4 fragments
	if len(frs) != 4 {
		t.Fatalf("got %d fragments, want 4", len(frs))
	}
	for _, perm := range permutations(len(frs)) {
		r := &recorder{}
		d := New(Options{}, r)
		for i, k := range perm {
			d.Frame(frameOf(int64(i+1), capture.LinkEthernet, append([]byte(nil), frs[k]...), t0.Add(time.Duration(i)*time.Millisecond)))
		}
		if len(r.msgs) != 1 {
			t.Fatalf("order %v: got %d messages, want 1", perm, len(r.msgs))
		}
		m := r.msgs[0]
		if m.Raw != string(msg) || !reflect.DeepEqual(m.Frames, []int64{1, 2, 3, 4}) || !m.Time.Equal(t0.Add(3*time.Millisecond)) {
			t.Errorf("order %v: got frames %v time %v raw ok %v", perm, m.Frames, m.Time, m.Raw == string(msg))
		}
		if st := d.Stats(); st.Fragments != 4 || st.FragmentsExpired != 0 {
			t.Errorf("order %v: stats %+v", perm, st)
		}
	}
}

func TestFragmentsOverlapAndDuplicate(t *testing.T) {
	parserReady(t)
	msg := tSIP("overlap")
	u := tUDP(5060, 5060, msg)
	mk := func(off, end int, more bool, fill byte) []byte {
		p := append([]byte(nil), u[off:end]...)
		if fill != 0 {
			for i := range p {
				p[i] = fill
			}
		}
		return tEth(0x0800, tIPv4(17, 9, more, off, p))
	}
	n := len(u)
	frames := [][]byte{
		mk(0, 96, true, 0),
		mk(48, 144, true, 'X'), // overlaps the first; its bytes at 48..96 lose to the earlier ones
		mk(0, 96, true, 0),     // duplicate
		mk(96, n, false, 0),    // completes; at 96..144 the earlier X bytes win
	}
	r := &recorder{}
	d := New(Options{}, r)
	for i, b := range frames {
		d.Frame(frameOf(int64(i+1), capture.LinkEthernet, b, t0))
	}
	if len(r.msgs) != 1 {
		t.Fatalf("got %d messages, want 1 (stats %+v)", len(r.msgs), d.Stats())
	}
	// First arrival wins: bytes 96..144 came first from the X fragment.
	want := append([]byte(nil), msg...)
	for i := 96 - 8; i < 144-8; i++ {
		want[i] = 'X'
	}
	m := r.msgs[0]
	if m.Raw != string(want[:len(m.Raw)]) {
		t.Errorf("raw: got %q", m.Raw)
	}
	if !reflect.DeepEqual(m.Frames, []int64{1, 2, 3, 4}) {
		t.Errorf("frames: got %v, want [1 2 3 4]", m.Frames)
	}
}

func TestFragmentFrameCopies(t *testing.T) {
	var refs []FrameRef
	h := handlerFunc(func(m *Message) { refs = append(refs, m.Frames...) })
	d := New(Options{}, h)
	frs := fragments(3, tSIP("copy"), 128)
	orig := make([][]byte, len(frs))
	for i, b := range frs {
		orig[i] = append([]byte(nil), b...)
		d.Frame(frameOf(int64(i+1), capture.LinkEthernet, b, t0))
		for j := range b { // the capture reader reuses its buffer
			b[j] = 0xee
		}
	}
	parserReady(t)
	if len(refs) != len(frs) {
		t.Fatalf("got %d frame refs, want %d", len(refs), len(frs))
	}
	for i, fr := range refs {
		if string(fr.Data) != string(orig[i]) {
			t.Errorf("frame %d: data not kept", i+1)
		}
	}
}

type handlerFunc func(*Message)

func (f handlerFunc) Message(m *Message) { f(m) }
func (handlerFunc) Event(*Event)         {}

func TestFragmentTimeout(t *testing.T) {
	frs := fragments(5, tSIP("late"), 64)
	d := New(Options{FragTimeout: 10 * time.Second}, &recorder{})
	d.Frame(frameOf(1, capture.LinkEthernet, frs[0], t0))
	d.Frame(frameOf(2, capture.LinkEthernet, frs[1], t0.Add(5*time.Second)))
	other := tEth(0x0806, make([]byte, 28))
	d.Frame(frameOf(3, capture.LinkEthernet, other, t0.Add(11*time.Second)))
	if st := d.Stats(); st.FragmentsExpired != 2 {
		t.Errorf("after timeout: expired %d, want 2", st.FragmentsExpired)
	}
	d.Frame(frameOf(4, capture.LinkEthernet, frs[2], t0.Add(12*time.Second)))
	d.Flush()
	if st := d.Stats(); st.FragmentsExpired != 3 || st.Fragments != 3 || st.SIPMessages != 0 {
		t.Errorf("after flush: %+v, want 3 fragments all expired", st)
	}
	if len(d.ip.frags) != 0 || d.ip.fragBytes != 0 {
		t.Errorf("state not empty: %d datagrams %d bytes", len(d.ip.frags), d.ip.fragBytes)
	}
}

func TestFragmentMemoryBound(t *testing.T) {
	d := New(Options{MaxFragBytes: 1000}, &recorder{})
	for id := uint16(1); id <= 20; id++ {
		frs := fragments(id, tSIP("mem"), 64)
		d.Frame(frameOf(int64(id), capture.LinkEthernet, frs[0], t0.Add(time.Duration(id)*time.Millisecond)))
		if d.ip.fragBytes > 1000 {
			t.Fatalf("held %d bytes, bound 1000", d.ip.fragBytes)
		}
	}
	st := d.Stats()
	if st.FragmentsExpired == 0 || int(st.FragmentsExpired)+len(d.ip.frags) != 20 {
		t.Errorf("expired %d held %d, want evictions summing to 20", st.FragmentsExpired, len(d.ip.frags))
	}
}

func TestIPv6FragCorpus(t *testing.T) {
	parserReady(t)
	r, st := decodeFile(t, filepath.Join(corpusDir(t), "sngrep", "ipv6frag.pcap"), Options{})
	if len(r.msgs) != 32 {
		t.Fatalf("got %d messages, want 32", len(r.msgs))
	}
	multi := 0
	for _, m := range r.msgs {
		if len(m.Frames) > 1 {
			multi++
			if m.Encap != "sll/ipv6/udp" {
				t.Errorf("encap %q", m.Encap)
			}
		}
	}
	if multi != 2 || st.Fragments != 4 || st.FragmentsExpired != 0 {
		t.Errorf("got %d reassembled messages, stats %+v; want 2 from 4 fragments", multi, st)
	}
}
