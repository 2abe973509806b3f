package decode

import (
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
