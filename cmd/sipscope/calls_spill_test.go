package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

// TestRecordStore: records stay in memory up to streamMemory bytes, then
// go to the spill file; each comes back as written, in order and at
// random, the same bytes whichever side it is on. When the scratch file
// cannot be made (TMPDIR missing) they all stay in memory, and err says
// why. After close the file is gone.
func TestRecordStore(t *testing.T) {
	old := streamMemory
	streamMemory = 10_000
	defer func() { streamMemory = old }()
	for _, tmp := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		t.Setenv("TMPDIR", tmp)
		var rs recordStore
		var refs []recRef
		var want [][]byte
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; i < 3000; i++ {
			b := append([]byte(fmt.Sprintf("view %d;", i)), bytes.Repeat([]byte{byte(i)}, rng.IntN(600))...)
			refs = append(refs, rs.add(b))
			want = append(want, bytes.Clone(b))
			b[0] = 'X' // add copied it: the record keeps its 'v'
		}
		mem := len(rs.mem)
		if _, err := os.Stat(tmp); err == nil {
			if rs.spill.err != nil || rs.spill.spilled == 0 || mem > streamMemory {
				t.Fatalf("TMPDIR %s: err %v, %d spilled, %d bytes in memory; want records past %d bytes spilled", tmp, rs.spill.err, rs.spill.spilled, mem, streamMemory)
			}
		} else if rs.spill.err == nil || rs.spill.spilled != 0 {
			t.Fatalf("TMPDIR %s missing: err %v, %d spilled; want the error and every record in memory", tmp, rs.spill.err, rs.spill.spilled)
		}
		check := func(i int) {
			got, err := rs.get(refs[i])
			if err != nil || !bytes.Equal(got, want[i]) {
				t.Fatalf("record %d (ref %+v): %v, %.20q; want %.20q", i, refs[i], err, got, want[i])
			}
		}
		for i := range refs {
			check(i)
		}
		for range 2000 {
			check(rng.IntN(len(refs)))
		}
		rs.close()
		left, _ := filepath.Glob(filepath.Join(tmp, "*"))
		if len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	}
}

// TestCallsNoScratchFile: when the scratch file cannot be made (TMPDIR
// missing), `calls` keeps every held record in memory, lists the same
// bytes, and says so in a warning naming the reason.
func TestCallsNoScratchFile(t *testing.T) {
	p := "../../testdata/sipp/udp-basic.pcap"
	want := callsOutput(t, "-q", "--format", "jsonl", p)
	old := streamMemory
	streamMemory = 0
	defer func() { streamMemory = old }()
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	code, out, errOut := sipscope(t, "calls", "--format", "jsonl", p)
	if code != 0 || out != want {
		t.Errorf("exit %d, output differs at byte %d from the one with a scratch file", code, firstDiff([]byte(out), []byte(want)))
	}
	if !strings.Contains(errOut, "stayed in memory") || !strings.Contains(errOut, "missing") {
		t.Errorf("no warning that the records stayed in memory, naming the reason:\n%s", errOut)
	}
}

// TestImportNoScratchFile: when the scratch file for import's media views
// cannot be made (TMPDIR missing), the views stay in memory, the database
// holds the same calls and findings, and a warning names the reason.
func TestImportNoScratchFile(t *testing.T) {
	p := "../../testdata/sipp/udp-basic.pcap"
	listing := func(db string) string {
		code, out, errOut := sipscope(t, "calls", "--db", db, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("calls --db %s: exit %d: %s", db, code, errOut)
		}
		return out
	}
	ref := filepath.Join(t.TempDir(), "ref.db")
	if code, _, errOut := sipscope(t, "import", "-q", "--db", ref, p); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	want := listing(ref)
	old := streamMemory
	streamMemory = 0
	defer func() { streamMemory = old }()
	db := filepath.Join(t.TempDir(), "x.db")
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	code, _, errOut := sipscope(t, "import", "--db", db, p)
	if code != 0 {
		t.Fatalf("import without a scratch file: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "media views of the calls stayed in memory") || !strings.Contains(errOut, "missing") {
		t.Errorf("no warning that the media views stayed in memory, naming the reason:\n%s", errOut)
	}
	if got := listing(db); got != want {
		t.Errorf("calls of the database differ at byte %d from the import with a scratch file", firstDiff([]byte(got), []byte(want)))
	}
	_, _, quiet := sipscope(t, "import", "-q", "--db", filepath.Join(t.TempDir(), "q.db"), p)
	if strings.Contains(quiet, "stayed in memory") {
		t.Errorf("-q still warns: %s", quiet)
	}
}
