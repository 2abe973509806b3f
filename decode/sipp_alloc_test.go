package decode

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// sippFrames reads every frame of the SIPp captures in testdata/sipp (real
// SIPp peers recorded by tcpdump: UDP, TCP, IPv6, fragments), each frame's
// bytes copied, as the capture readers reuse theirs.
func sippFrames(t testing.TB) []capture.Frame {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "sipp", "*.pcap"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SIPp captures in testdata/sipp: %v", err)
	}
	var frames []capture.Frame
	for i, p := range paths {
		src, err := capture.Open([]string{p}, capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var f capture.Frame
		for {
			if err := src.Next(&f); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("read %s: %v", p, err)
				}
				break
			}
			f.Data = append([]byte(nil), f.Data...)
			f.Source = i
			frames = append(frames, f)
		}
		src.Close()
	}
	return frames
}

// shiftFrames moves every frame later by dt, so that decoding the same
// frames again is not taken for duplicates (Options.DupWindow) and runs
// the whole parse, as new packets do.
func shiftFrames(frames []capture.Frame, dt time.Duration) {
	for i := range frames {
		frames[i].Time = frames[i].Time.Add(dt)
	}
}

// TestSIPpZeroAlloc: decoding real SIPp packets, every message parsed
// (SDP included) and delivered, allocates nothing per packet in the steady
// state. For each capture of testdata/sipp, a first pass warms a decoder up
// (its Message scratch, the interned encapsulation paths); later passes
// over the same frames, moved in time so that they are new packets, must
// allocate nothing, except for the state a flow needs, which is per flow
// and not per packet (bounds per pass below, each with why).
func TestSIPpZeroAlloc(t *testing.T) {
	// perFlow is the allowed allocations per pass for the captures that
	// carry per-flow state. They are counts of flows, not of packets:
	// doubling a flow's packets does not change them.
	perFlow := map[string]float64{
		// IPv4/IPv6 reassembly (RFC 791 §3.2, RFC 8200 §4.5): each
		// datagram in progress has its buffer, part and frame lists (the
		// capture reader reuses the fragments' bytes, so they are copied),
		// and the whole datagram is one new buffer; each capture holds one
		// INVITE sent in three fragments.
		"fragmented-udp.pcap":  11,
		"fragmented-ipv6.pcap": 11,
		// ICMP port unreachable (RFC 792): each error is an Event whose
		// strings (the quoted message's Call-ID, the detail) outlive the
		// packet, so they are copies.
		"noanswer.pcap": 20,
		// TCP (RFC 9293): a stream per connection direction and its
		// reassembly buffer and segment list, grown on first use.
		"tcp-basic.pcap": 8,
	}
	all := sippFrames(t)
	var order []string
	by := map[string][]capture.Frame{}
	for _, f := range all {
		name := filepath.Base(f.File)
		if by[name] == nil {
			order = append(order, name)
		}
		by[name] = append(by[name], f)
	}
	for _, name := range order {
		frames := by[name]
		t.Run(name, func(t *testing.T) {
			n := 0
			d := New(Options{}, HandlerFuncs{OnMessage: func(*Message) { n++ }})
			for i := range frames {
				d.Frame(&frames[i])
			}
			d.Flush()
			if n == 0 {
				t.Fatalf("no SIP message decoded from %d frames", len(frames))
			}
			perPass := n
			allocs := testing.AllocsPerRun(5, func() {
				shiftFrames(frames, time.Hour)
				for i := range frames {
					d.Frame(&frames[i])
				}
				d.Flush()
			})
			if want := perFlow[name]; allocs > want {
				t.Errorf("got %v allocations per pass of %d frames, want at most %v", allocs, len(frames), want)
			}
			// The warm-up, AllocsPerRun's own warm-up run, then 5 runs:
			// every pass decodes every message (none taken for a copy).
			if n != perPass*7 {
				t.Errorf("decoded %d messages in 7 passes, want %d (%d per pass)", n, perPass*7, perPass)
			}
		})
	}
}

// BenchmarkSIPpFrames decodes the frames of the SIPp captures of
// testdata/sipp, one frame per iteration, held in memory: per-packet cost
// of the mix SIPp makes (UDP mostly; TCP, IPv6, fragments), SDP included.
// On a shared machine read the best of -count runs.
func BenchmarkSIPpFrames(b *testing.B) {
	frames := sippFrames(b)
	d := New(Options{}, nopHandler{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Frame(&frames[i])
		if i++; i == len(frames) {
			i = 0
			shiftFrames(frames, time.Hour)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
