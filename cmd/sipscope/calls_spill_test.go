package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestSpillFile: records written past several chunks come back whole,
// read in the order written, backwards and at random, those still
// buffered included; the file is gone from the temporary folder while in
// use and after close.
func TestSpillFile(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s, err := newSpillFile()
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		off int64
		b   []byte
	}
	var recs []rec
	rng := rand.New(rand.NewPCG(1, 2))
	total := 0
	for i := 0; total < 3*spillChunk+12345; i++ {
		b := []byte(fmt.Sprintf("record %d:", i))
		b = append(b, bytes.Repeat([]byte{byte(i)}, rng.IntN(900))...)
		if i == 50 {
			b = bytes.Repeat([]byte("big"), spillChunk) // larger than a chunk
		}
		off, err := s.add(b)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{off, b})
		total += len(b)
	}
	for i := range 5 { // and some still in the buffer
		b := []byte(fmt.Sprintf("buffered %d", i))
		off, err := s.add(b)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{off, b})
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "*")); len(left) != 0 {
		t.Errorf("scratch file visible while in use: %v", left)
	}
	check := func(how string, order []int) {
		for _, i := range order {
			got, err := s.read(recs[i].off, len(recs[i].b))
			if err != nil {
				t.Fatalf("%s: record %d: %v", how, i, err)
			}
			if !bytes.Equal(got, recs[i].b) {
				t.Fatalf("%s: record %d (at %d, %d bytes) read back wrong", how, i, recs[i].off, len(recs[i].b))
			}
		}
	}
	n := len(recs)
	fwd, back := make([]int, n), make([]int, n)
	for i := range n {
		fwd[i], back[i] = i, n-1-i
	}
	check("in order", fwd)
	check("backwards", back)
	check("at random", rng.Perm(n))
	if s.flushed < 3*spillChunk || len(s.wbuf) == 0 {
		t.Errorf("flushed %d bytes, %d buffered: the test should cover both", s.flushed, len(s.wbuf))
	}
	s.close()
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "*")); len(left) != 0 {
		t.Errorf("scratch file left after close: %v", left)
	}
}
