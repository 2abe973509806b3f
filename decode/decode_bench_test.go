package decode

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// benchPcap returns the capture named by $SIPSCOPE_BENCH_PCAP (made by
// `scripts/mkbench.sh DIR 300kpkt`), or skips.
func benchPcap(b *testing.B) string {
	b.Helper()
	path := os.Getenv("SIPSCOPE_BENCH_PCAP")
	if path == "" {
		b.Skip("SIPSCOPE_BENCH_PCAP not set (make the capture with scripts/mkbench.sh DIR 300kpkt)")
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("SIPSCOPE_BENCH_PCAP: %v", err)
	}
	return path
}

// BenchmarkDecodeFile decodes every frame of the capture at
// $SIPSCOPE_BENCH_PCAP with a no-op handler, one whole file per iteration.
// It reports packets per second and heap allocations per packet.
//
//	read+decode: capture.Open and Next (file I/O, pcap parsing) then Frame
//	decode:      frames read into memory beforehand; Frame alone
//
// Run it on one core, as issue 2 asks:
//
//	SIPSCOPE_BENCH_PCAP=/tmp/sipscope-bench/sipp-300k-packets.pcap \
//	  go test ./decode -run XXX -bench DecodeFile -cpu 1 -benchtime 5x
func BenchmarkDecodeFile(b *testing.B) {
	path := benchPcap(b)

	b.Run("read+decode", func(b *testing.B) {
		var frames int64
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		b.ReportAllocs()
		for b.Loop() {
			src, err := capture.Open([]string{path}, capture.Options{})
			if err != nil {
				b.Fatalf("open %s: %v", path, err)
			}
			d := New(Options{}, nopHandler{})
			var f capture.Frame
			for {
				if err := src.Next(&f); err != nil {
					if !errors.Is(err, io.EOF) {
						b.Fatalf("read %s: %v", path, err)
					}
					break
				}
				d.Frame(&f)
				frames++
			}
			d.Flush()
			src.Close()
		}
		runtime.ReadMemStats(&ms1)
		report(b, frames, ms1.Mallocs-ms0.Mallocs, cpuTime()-cpu0)
	})

	b.Run("decode", func(b *testing.B) {
		frames := readAll(b, path)
		var n int64
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		b.ReportAllocs()
		for b.Loop() {
			d := New(Options{}, nopHandler{})
			for i := range frames {
				d.Frame(&frames[i])
			}
			d.Flush()
			n += int64(len(frames))
		}
		runtime.ReadMemStats(&ms1)
		report(b, n, ms1.Mallocs-ms0.Mallocs, cpuTime()-cpu0)
	})
}

// report adds to a benchmark's results: pkts/s (wall clock), pkts/cpu-s
// (per second of CPU time the process used, GC included: steadier than
// wall time on a machine shared with other work) and allocs/pkt.
func report(b *testing.B, frames int64, mallocs uint64, cpu time.Duration) {
	if frames == 0 {
		return
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "pkts/s")
	if cpu > 0 {
		b.ReportMetric(float64(frames)/cpu.Seconds(), "pkts/cpu-s")
	}
	b.ReportMetric(float64(mallocs)/float64(frames), "allocs/pkt")
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readAll reads every frame of the capture at path into memory, the bytes
// of all frames in one buffer, so that decoding can be timed without I/O.
func readAll(b *testing.B, path string) []capture.Frame {
	b.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		b.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	var frames []capture.Frame
	var data []byte
	var offs []int
	var f capture.Frame
	for {
		if err := src.Next(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				b.Fatalf("read %s: %v", path, err)
			}
			break
		}
		offs = append(offs, len(data))
		data = append(data, f.Data...)
		frames = append(frames, f)
	}
	offs = append(offs, len(data))
	for i := range frames {
		frames[i].Data = data[offs[i]:offs[i+1]:offs[i+1]]
	}
	return frames
}

// splitOld splits a UDP payload into messages the way onUDP did before
// parseNext: frameLen first, then Parse on each piece. It is the oracle of
// FuzzParseNext.
func splitOld(rest []byte, f func(raw []byte, err error)) {
	rest = skipPad(rest)
	for len(rest) > 0 {
		n := udpFrameLen(rest)
		var m Message
		err := Parse(rest[:n], &m)
		f(m.Raw, err)
		rest = skipPad(rest[n:])
	}
}

// FuzzParseNext checks the one-pass datagram split (parseNext, as onUDP
// uses it) against the two-pass split it replaced: the same messages with
// the same bytes, and never a length outside the input. The two readings
// may differ only where frameLen cannot see what Parse sees, a
// Content-Length on a folded line or ending in a stray CR; such inputs are
// only checked for bounds.
func FuzzParseNext(f *testing.F) {
	two := crlf("OPTIONS sip:a@b SIP/2.0\nCall-ID: 1\nCSeq: 1 OPTIONS\nContent-Length: 3\n\nabc")
	f.Add([]byte(testInvite))
	f.Add([]byte(test200))
	f.Add([]byte(two + "\r\n" + two))
	f.Add([]byte(two + two + "\x00\x00"))
	f.Add([]byte(two + "junk" + two))
	f.Add([]byte(crlf("SIP/2.0 200 OK\nl: 0\n\n") + two))
	f.Fuzz(func(t *testing.T, b []byte) {
		b = skipPad(b)
		if len(b) == 0 || !isSIPStart(b) {
			return
		}
		var got [][]byte
		var gotErr []bool
		var m Message
		for rest := b; len(rest) > 0; {
			n, err := parseNext(rest, &m)
			if err != nil {
				n = udpFrameLen(rest)
			}
			if n <= 0 || n > len(rest) {
				t.Fatalf("parseNext consumed %d of %d bytes", n, len(rest))
			}
			got = append(got, append([]byte(nil), m.Raw...))
			gotErr = append(gotErr, err != nil)
			rest = skipPad(rest[n:])
		}
		if bytes.Contains(b, []byte("\n ")) || bytes.Contains(b, []byte("\n\t")) || bytes.Contains(b, []byte("\r\r")) {
			return
		}
		i := 0
		splitOld(b, func(raw []byte, err error) {
			if i >= len(got) {
				t.Fatalf("old split has more than %d messages", len(got))
			}
			if !bytes.Equal(raw, got[i]) || (err != nil) != gotErr[i] {
				t.Fatalf("message %d: got %q (error %v), old split %q (error %v)", i, got[i], gotErr[i], raw, err)
			}
			i++
		})
		if i != len(got) {
			t.Fatalf("got %d messages, old split %d", len(got), i)
		}
	})
}
