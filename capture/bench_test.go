package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeSynthetic writes a pcap (or pcapng with two Ethernet interfaces) of
// n frames of size bytes each to a temporary file.
func writeSynthetic(tb testing.TB, n, size int, ng bool) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "synthetic")
	fh, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriter(fh)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i)
	}
	if ng {
		b := &ngBuilder{order: binary.LittleEndian}
		b.shb("")
		b.idb(ngIface{link: LinkEthernet})
		b.idb(ngIface{link: LinkEthernet, tsresol: 9})
		for i := 0; i < n; i++ {
			b.epb(pkt{t: ts(time.Duration(i) * time.Millisecond), data: data, ifc: i % 2})
			if b.b.Len() > 1<<20 {
				bw.Write(b.b.Bytes())
				b.b.Reset()
			}
		}
		bw.Write(b.b.Bytes())
	} else {
		bw.Write(pcapFile(binary.LittleEndian, true, LinkEthernet)) // header only
		var h [16]byte
		for i := 0; i < n; i++ {
			t := ts(time.Duration(i) * time.Millisecond)
			binary.LittleEndian.PutUint32(h[0:], uint32(t.Unix()))
			binary.LittleEndian.PutUint32(h[4:], uint32(t.Nanosecond()))
			binary.LittleEndian.PutUint32(h[8:], uint32(size))
			binary.LittleEndian.PutUint32(h[12:], uint32(size))
			bw.Write(h[:])
			bw.Write(data)
		}
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	fh.Close()
	return p
}

// TestNextAllocs checks that Next allocates nothing per frame in the steady
// state, for pcap, pcapng and a merge of two inputs.
func TestNextAllocs(t *testing.T) {
	pcap := writeSynthetic(t, 2000, 300, false)
	ng := writeSynthetic(t, 2000, 300, true)
	for _, tc := range []struct {
		name  string
		paths []string
	}{
		{"pcap", []string{pcap}},
		{"pcapng", []string{ng}},
		{"merge", []string{pcap, ng}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := Open(tc.paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var f Frame
			for i := 0; i < 10; i++ {
				if err := src.Next(&f); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if err := src.Next(&f); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("got %v allocations per frame, want 0", allocs)
			}
		})
	}
}

// BenchmarkRead reads a synthetic 100,000-frame capture (300-byte frames).
func BenchmarkRead(b *testing.B) {
	const frames = 100000
	for _, bc := range []struct {
		name string
		ng   bool
	}{{"pcap", false}, {"pcapng", true}} {
		b.Run(bc.name, func(b *testing.B) {
			p := writeSynthetic(b, frames, 300, bc.ng)
			st, _ := os.Stat(p)
			b.SetBytes(st.Size())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src, err := Open([]string{p}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				var f Frame
				n := 0
				for src.Next(&f) != io.EOF {
					n++
				}
				src.Close()
				if n != frames {
					b.Fatalf("read %d frames, want %d", n, frames)
				}
			}
			b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
