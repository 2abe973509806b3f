package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open as standard input and reads every
// frame: no panic, no hang, and either an Open error or frames plus at most
// one warning. Seeds: small corpus captures (plain and gzip), the synthetic
// files of the other tests, and cut copies of them.
func FuzzOpen(f *testing.F) {
	ng, _ := multiInterface(binary.LittleEndian)
	ngBE, _ := multiInterface(binary.BigEndian)
	seeds := [][]byte{
		pcapFile(binary.LittleEndian, false, LinkEthernet, threePkts...),
		pcapFile(binary.BigEndian, true, LinkRaw, threePkts...),
		ng, ngBE, badNgLength(), gz(ng),
	}
	if dir := filepath.Join("..", "..", "shared", "corpus"); dirExists(dir) {
		for _, name := range corpusCaptures(f, dir) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil && len(b) <= 32<<10 {
				seeds = append(seeds, b)
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)*2/3])
	}
	f.Add(gz(seeds[0]))
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := Open([]string{"-"}, Options{Stdin: bytes.NewReader(b)})
		if err != nil {
			if src != nil {
				t.Fatal("Open returned a source and an error")
			}
			return
		}
		defer src.Close()
		var fr Frame
		n := 0
		for {
			err := src.Next(&fr)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			n++
			if fr.Number != int64(n) || len(fr.Data) > len(b)*1100+1<<20 {
				t.Fatalf("frame %d: number %d, %d bytes", n, fr.Number, len(fr.Data))
			}
		}
		if w := src.Warnings(); len(w) > 1 {
			t.Fatalf("got %d warnings for one input: %q", len(w), w)
		}
		if err := src.Next(&fr); err != io.EOF {
			t.Fatalf("Next after the end: got %v, want io.EOF", err)
		}
	})
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
