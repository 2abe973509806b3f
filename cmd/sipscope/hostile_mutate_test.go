package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"
)

// hostileCaptures lists the real captures the mutation test starts from:
// the project's own (testdata) and the third-party corpus when present.
func hostileCaptures(t *testing.T) []string {
	var files []string
	for _, root := range []string{filepath.Join("..", "..", "testdata"), filepath.Join("..", "..", "..", "shared", "corpus")} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			n := strings.ToLower(d.Name())
			for _, ext := range []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"} {
				if strings.HasSuffix(n, ext) {
					files = append(files, p)
					break
				}
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Skip("no captures found in testdata or ../shared/corpus")
	}
	sort.Strings(files)
	return files
}

// mutation is one way of damaging a capture.
type mutation struct {
	name string
	fn   func(r *rand.Rand, b []byte) []byte
}

// records returns the offsets of the record (pcap) or block (pcapng)
// headers of b, walking the lengths they give while they make sense.
func records(b []byte) (offs []int, ng bool) {
	if len(b) < 24 {
		return nil, false
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(b) {
	case 0x0a0d0d0a: // pcapng section header
		if binary.LittleEndian.Uint32(b[8:]) != 0x1a2b3c4d {
			bo = binary.BigEndian
		}
		for off := 0; off+12 <= len(b); {
			offs = append(offs, off)
			n := int(bo.Uint32(b[off+4:]))
			if n < 12 || n%4 != 0 {
				break
			}
			off += n
		}
		return offs, true
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	}
	for off := 24; off+16 <= len(b); {
		offs = append(offs, off)
		off += 16 + int(bo.Uint32(b[off+8:]))
	}
	return offs, false
}

// putLen writes v as a length in b's byte order (guessed from the magic).
func putLen(b []byte, at int, v uint32) {
	if at+4 > len(b) {
		return
	}
	switch binary.LittleEndian.Uint32(b) {
	case 0xd4c3b2a1, 0x4d3cb2a1:
		binary.BigEndian.PutUint32(b[at:], v)
		return
	case 0x0a0d0d0a:
		if binary.LittleEndian.Uint32(b[8:]) != 0x1a2b3c4d {
			binary.BigEndian.PutUint32(b[at:], v)
			return
		}
	}
	binary.LittleEndian.PutUint32(b[at:], v)
}

var lyingLengths = []uint32{0, 1, 7, 11, 12, 13, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 65536, 1 << 24}

var mutations = []mutation{
	{"bitflips", func(r *rand.Rand, b []byte) []byte {
		for range 1 + r.IntN(64) {
			i := r.IntN(len(b))
			b[i] ^= 1 << r.IntN(8)
		}
		return b
	}},
	{"truncate", func(r *rand.Rand, b []byte) []byte { return b[:r.IntN(len(b))] }},
	{"garbage-overwrite", func(r *rand.Rand, b []byte) []byte {
		at := r.IntN(len(b))
		n := min(len(b)-at, 1+r.IntN(4096))
		for i := range n {
			b[at+i] = byte(r.Uint32())
		}
		return b
	}},
	{"garbage-insert", func(r *rand.Rand, b []byte) []byte {
		at := r.IntN(len(b))
		g := make([]byte, 1+r.IntN(2048))
		for i := range g {
			g[i] = byte(r.Uint32())
		}
		return append(b[:at:at], append(g, b[at:]...)...)
	}},
	{"lying-record-length", func(r *rand.Rand, b []byte) []byte {
		offs, ng := records(b)
		if len(offs) == 0 {
			return b
		}
		off := offs[r.IntN(len(offs))]
		v := lyingLengths[r.IntN(len(lyingLengths))]
		if ng {
			putLen(b, off+4, v) // block total length (leading copy)
		} else {
			putLen(b, off+8+4*r.IntN(2), v) // captured or original length
		}
		return b
	}},
	{"pcapng-impossible-block", func(r *rand.Rand, b []byte) []byte {
		offs, ng := records(b)
		if !ng || len(offs) < 2 {
			// Not pcapng: make a pcap record claim to be longer than the file.
			if len(offs) > 0 {
				putLen(b, offs[len(offs)-1]+8, uint32(len(b)*4))
			}
			return b
		}
		off := offs[1+r.IntN(len(offs)-1)]
		switch r.IntN(3) {
		case 0: // trailing length disagrees with the leading one
			n := int(binary.LittleEndian.Uint32(b[off+4:]))
			if off+n-4 >= 0 && off+n <= len(b) {
				putLen(b, off+n-4, uint32(n+8))
			}
		case 1: // interface block with an impossible snap length and link
			putLen(b, off, 1)
			putLen(b, off+4, 0xfffffffc)
		default: // option lengths running past the block
			if off+24 <= len(b) {
				b[off+20], b[off+21], b[off+22], b[off+23] = 0xff, 0xff, 0xff, 0xff
			}
		}
		return b
	}},
	{"sip-mangled", func(r *rand.Rand, b []byte) []byte {
		marks := [][]byte{[]byte("Content-Length:"), []byte("SIP/2.0"), []byte("\r\n\r\n"), []byte("Via:"), []byte("m=audio"), []byte("CSeq:"), []byte("Call-ID:")}
		repl := [][]byte{[]byte("Content-Length: 99999999999"), []byte("Content-Length: -5"), []byte("SIP/9"), []byte("\n"), []byte("\x00\x00"), []byte("Via: SIP/2.0/UDP ["), []byte("m=audio 99999999 RTP/AVP " + strings.Repeat("0 ", 100)), []byte("CSeq: 4294967296999 INVITE"), []byte("Call-ID: \x1b]0;x\x07"), []byte("\r\n \r\n\t")}
		for range 1 + r.IntN(8) {
			m := marks[r.IntN(len(marks))]
			var all []int
			for i := 0; ; {
				j := bytes.Index(b[i:], m)
				if j < 0 {
					break
				}
				all = append(all, i+j)
				i += j + 1
			}
			if len(all) == 0 {
				continue
			}
			at := all[r.IntN(len(all))]
			rp := repl[r.IntN(len(repl))]
			n := copy(b[at:], rp) // in place: record lengths stay true
			_ = n
		}
		return b
	}},
}

// TestHostileMutations damages real captures a few hundred ways (bit
// flips, truncation, garbage, lying record lengths, impossible pcapng
// blocks, mangled SIP text) and runs the whole pipeline on each: messages,
// import into a database, calls, flow, show, export to HTML and diagnose of
// the first dialog. Each mutant has a time limit; a panic, a hang, an exit
// code other than 0 or 1, or an error or warning that does not name the
// file fails the test with the file, the mutation and the seed to replay
// it (HOSTILE_SEED). HOSTILE_MUTANTS sets how many (default 300; 40 with
// -short).
func TestHostileMutations(t *testing.T) {
	files := hostileCaptures(t)
	total := 300
	if testing.Short() {
		total = 40
	}
	if v, err := fmt.Sscan(os.Getenv("HOSTILE_MUTANTS"), &total); v == 1 && err == nil && total < 1 {
		total = 1
	}
	seed := uint64(time.Now().UnixNano())
	fmt.Sscan(os.Getenv("HOSTILE_SEED"), &seed)
	t.Logf("HOSTILE_SEED=%d", seed)
	r := rand.New(rand.NewPCG(seed, 13))
	bases := map[string][]byte{}
	damageWarnings = 0
	dir := t.TempDir()
	for i := range total {
		src := files[i%len(files)]
		base, ok := bases[src]
		if !ok {
			var err error
			if base, err = readCapture(src); err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			bases[src] = base
		}
		if len(base) == 0 {
			continue
		}
		mu := mutations[r.IntN(len(mutations))]
		b := mu.fn(r, bytes.Clone(base))
		if r.IntN(8) == 0 { // a second, different damage now and then
			if len(b) > 0 {
				b = mutations[r.IntN(len(mutations))].fn(r, b)
			}
		}
		name := fmt.Sprintf("m%03d-%s-%s", i, mu.name, filepath.Base(src))
		name = strings.TrimSuffix(name, ".gz")
		path := filepath.Join(dir, name)
		if r.IntN(6) == 0 {
			path += ".gz" // damaged inside gzip too
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(b)
			zw.Close()
			b = z.Bytes()
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg := pipelineOnce(path, dir); msg != "" {
			keep := filepath.Join(os.TempDir(), "hostile-"+name)
			os.WriteFile(keep, b, 0o644)
			t.Errorf("%s (from %s, %s; kept as %s; HOSTILE_SEED=%d): %s", name, src, mu.name, keep, seed, msg)
		}
		os.Remove(path)
	}
	if damageWarnings < total/20 {
		t.Errorf("only %d commands warned of damage over %d mutants: the mutations do not reach the readers", damageWarnings, total)
	}
	t.Logf("%d mutants, %d commands warned of a damaged capture", total, damageWarnings)
}

// readCapture returns the bytes of a capture, gunzipped, at most 256 KiB
// (the start of a larger one: a cut capture is one more damage).
func readCapture(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	b, err := io.ReadAll(io.LimitReader(r, 256<<10))
	if err != nil && len(b) == 0 {
		return nil, err
	}
	return b, nil
}

// pipelineOnce runs every command on one damaged capture, each within a
// deadline, and says what went wrong ("" when nothing did).
func pipelineOnce(path, dir string) string {
	db := filepath.Join(dir, "m.db")
	defer os.Remove(db)
	defer os.Remove(db + "-wal")
	defer os.Remove(db + "-shm")
	html := filepath.Join(dir, "m.html")
	defer os.Remove(html)
	steps := [][]string{
		{"messages", "--format", "jsonl", path},
		{"import", "--db", db, path},
		{"calls", "--db", db, "--format", "jsonl"},
	}
	for _, args := range steps {
		out, msg := runBounded(args, path)
		if msg != "" {
			return msg
		}
		if args[0] == "calls" {
			var rec struct {
				CallID string `json:"call_id"`
			}
			line, _, _ := strings.Cut(out, "\n")
			if line == "" || json.Unmarshal([]byte(line), &rec) != nil || rec.CallID == "" {
				return ""
			}
			for _, more := range [][]string{
				{"flow", "--db", db, "--call", rec.CallID, "--width", "100"},
				{"show", "--db", db, rec.CallID},
				{"export", "--db", db, "--call", rec.CallID, "-o", html},
				{"diagnose", "--db", db},
			} {
				if _, msg := runBounded(more, path); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

// damageWarnings counts the commands that warned of a damaged capture,
// so that the mutation test can tell it damaged something.
var damageWarnings int

// mutantDeadline bounds one command on one mutant: generous, for a loaded
// machine; a real hang never ends.
const mutantDeadline = 60 * time.Second

// runBounded runs one command in this process with a deadline, recovering
// a panic, and checks its exit code and standard error.
func runBounded(args []string, file string) (stdout, problem string) {
	ctx, cancel := context.WithTimeout(context.Background(), mutantDeadline)
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan string, 1)
	code := -1
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Sprintf("%v: panic: %v\n%s", args[:1], p, debug.Stack())
			}
		}()
		code = runContext(ctx, args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		done <- ""
	}()
	select {
	case msg := <-done:
		if msg != "" {
			return "", msg
		}
	case <-time.After(mutantDeadline + 10*time.Second):
		return "", fmt.Sprintf("%v: still running %v after its deadline (a hang)", args[:1], mutantDeadline)
	}
	if ctx.Err() != nil {
		return "", fmt.Sprintf("%v: took longer than %v", args[:1], mutantDeadline)
	}
	if code != exitOK && code != exitError {
		return "", fmt.Sprintf("%v: exit %d, want 0 or 1: %s", args[:1], code, errOut.String())
	}
	base := filepath.Base(file)
	if strings.Contains(errOut.String(), "cut short after frame") || strings.Contains(errOut.String(), "damaged before the first frame") {
		damageWarnings++
	}
	for _, line := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
		if line == "" || !strings.HasPrefix(line, "sipscope:") {
			continue
		}
		// Warnings about reading the capture, and errors of the commands
		// that read it, name it (a note about a message's bytes, the
		// database or a Call-ID need not).
		aboutFile := strings.Contains(line, "frame") || strings.Contains(line, "damaged") || strings.Contains(line, "cut short") ||
			code == exitError && (args[0] == "messages" || args[0] == "import")
		if aboutFile && !strings.Contains(line, base) {
			return "", fmt.Sprintf("%v: a message that does not name the file: %q", args[:1], line)
		}
	}
	return out.String(), ""
}

// FuzzPipeline runs the whole pipeline (messages, import, calls, flow,
// show, export, diagnose) on arbitrary capture bytes, with the checks of
// TestHostileMutations. Seeds: the small captures of testdata and the
// corpus.
func FuzzPipeline(f *testing.F) {
	for _, p := range hostileCapturesOrNone() {
		if b, err := readCapture(p); err == nil && len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "fuzz.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg := pipelineOnce(path, dir); msg != "" {
			t.Fatal(msg)
		}
	})
}

// hostileCapturesOrNone is hostileCaptures without a test to skip.
func hostileCapturesOrNone() []string {
	var files []string
	for _, root := range []string{filepath.Join("..", "..", "testdata"), filepath.Join("..", "..", "..", "shared", "corpus")} {
		m, _ := filepath.Glob(filepath.Join(root, "*", "*.pcap"))
		files = append(files, m...)
	}
	return files
}
