package decode

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// tlsCaptures lists testdata/tls/*.pcap (made by scripts/mktls.sh with real
// TLS stacks), each with its key log NAME.keys and Wireshark's reading of
// it with that key log, NAME.tshark.tsv.
func tlsCaptures(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "tls", "*.pcap"))
	if len(files) == 0 {
		t.Fatal("no captures in testdata/tls (make them with sudo scripts/mktls.sh)")
	}
	sort.Strings(files)
	return files
}

// decodeTLS runs a capture through Run (so that Decryption Secrets Blocks
// are read) with the given key log.
func decodeTLS(t *testing.T, path string, keys *KeyLog) (*recorder, *Decoder) {
	t.Helper()
	r := &recorder{}
	d := New(Options{Keys: keys}, r)
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	return r, d
}

// tsharkRows reads the oracle as one "frame method|status call-id" line
// per message, sorted.
func tsharkRows(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		c := strings.Split(line, "\t")
		if len(c) < 6 {
			continue
		}
		// Several messages in one frame: tshark joins their values with commas.
		ms, ss, ids := strings.Split(c[2], ","), strings.Split(c[3], ","), strings.Split(c[5], ",")
		mi, si := 0, 0
		for _, id := range ids {
			what := ""
			if mi < len(ms) && ms[mi] != "" {
				what = ms[mi]
				mi++
			} else if si < len(ss) {
				what = ss[si]
				si++
			}
			rows = append(rows, c[0]+" "+what+" "+id)
		}
	}
	sort.Strings(rows)
	return rows
}

func ourRows(r *recorder) []string {
	var rows []string
	for _, m := range r.msgs {
		what := m.Method
		if m.Status != 0 {
			what = strconv.Itoa(m.Status)
		}
		rows = append(rows, strconv.FormatInt(m.Frames[len(m.Frames)-1], 10)+" "+what+" "+m.CallID)
	}
	sort.Strings(rows)
	return rows
}

// TestTLSMatchesTshark decrypts every capture of testdata/tls with its key
// log and checks each message against what Wireshark decodes with the same
// key log: the frame that completes it, its method or status, its Call-ID.
func TestTLSMatchesTshark(t *testing.T) {
	for _, path := range tlsCaptures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(path, ".pcap")
			keys, err := ReadKeyLogFile(base + ".keys")
			if err != nil {
				t.Fatal(err)
			}
			r, d := decodeTLS(t, path, keys)
			st := d.Stats()
			got, want := ourRows(r), tsharkRows(t, base+".tshark.tsv")
			extra := tlsBeyondTshark[name]
			if len(got) != len(want)+extra {
				t.Errorf("got %d messages, want %d (tshark) + %d; stats %+v", len(got), len(want), extra, st)
			}
			// Every message tshark decodes, we decode the same way.
			have := map[string]int{}
			for _, g := range got {
				have[g]++
			}
			for _, w := range want {
				if have[w] == 0 {
					t.Errorf("missing %s", w)
				}
				have[w]--
			}
			wantTr := TLS
			if strings.HasPrefix(name, "wss") {
				wantTr = WSS
			}
			for _, m := range r.msgs {
				if m.Transport != wantTr {
					t.Errorf("%s %s: transport %s, want %s", m.Method, m.CallID, m.Transport, wantTr)
				}
			}
			if st.TLSNoKeys != 0 || st.TLSBadRecords != 0 || st.TLSSessions == 0 || st.TLSDecrypted != st.TLSSessions {
				t.Errorf("stats %+v: want every session decrypted", st)
			}
		})
	}
}

// tlsBeyondTshark are the messages we decrypt that tshark does not: the
// resumed TLS 1.2 session of tls12-resumed (Go's key log writer logs no
// line for an abbreviated handshake; we carry the master secret over from
// the session the ticket came from, RFC 5077).
var tlsBeyondTshark = map[string]int{"tls12-resumed": 6}

// TestTLSNoKeys reads the captures without keys and with the wrong keys:
// nothing decoded, no crash, the sessions counted and named.
func TestTLSNoKeys(t *testing.T) {
	for _, path := range tlsCaptures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		t.Run(name, func(t *testing.T) {
			r, d := decodeTLS(t, path, nil)
			st := d.Stats()
			if len(r.msgs) != 0 || st.TLSNoKeys == 0 || st.TLSNoKeys != st.TLSSessions || st.Encrypted == 0 {
				t.Errorf("no keys: %d messages, stats %+v", len(r.msgs), st)
			}
			if len(d.TLSMissing()) != int(st.TLSNoKeys) || len(d.TLSMissing()) == 0 || len(d.TLSMissing()[0]) != 64 {
				t.Errorf("no keys: missing %v, want %d client randoms", d.TLSMissing(), st.TLSNoKeys)
			}
			// The right client randoms with damaged secrets: every
			// session has keys, and they are wrong.
			b, err := os.ReadFile(strings.TrimSuffix(path, ".pcap") + ".keys")
			if err != nil {
				t.Fatal(err)
			}
			wrong := NewKeyLog()
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) == 3 {
					f[2] = strings.Repeat("5a", len(f[2])/2)
					wrong.line([]byte(strings.Join(f, " ")))
				}
			}
			r, d = decodeTLS(t, path, wrong)
			st = d.Stats()
			if len(r.msgs) != 0 || st.TLSBadRecords == 0 {
				t.Errorf("wrong keys: %d messages, stats %+v", len(r.msgs), st)
			}
		})
	}
}

// TestTLSSecretsBlock reads captures whose key log is inside them, in a
// pcapng Decryption Secrets Block (editcap --inject-secrets): no key log
// given, every message tshark decodes from the plain capture with its key
// log is decoded.
func TestTLSSecretsBlock(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "tls", "*-dsb.pcapng"))
	if len(files) == 0 {
		t.Fatal("no *-dsb.pcapng in testdata/tls (scripts/mktls.sh makes them)")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r, d := decodeTLS(t, path, nil)
			got := ourRows(r)
			want := tsharkRows(t, strings.TrimSuffix(path, "-dsb.pcapng")+".tshark.tsv")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s\nstats %+v", strings.Join(got, "\n"), strings.Join(want, "\n"), d.Stats())
			}
		})
	}
}

// TestTLSJoinedMidRecord cuts a capture's connection in the middle of a
// record (as a capture started during a call does): no keys can help, and
// the decoder says the session began before the capture.
func TestTLSJoinedMidRecord(t *testing.T) {
	c, s := tlsSeedStreams(t, filepath.Join("..", "testdata", "tls", "tls13-aes128gcm.pcap"))
	keys, err := ReadKeyLogFile(filepath.Join("..", "testdata", "tls", "tls13-aes128gcm.keys"))
	if err != nil {
		t.Fatal(err)
	}
	// Skip the handshake and 3 bytes into the next record.
	cut := func(b []byte) []byte {
		for off := 0; off+5 <= len(b); {
			n := int(b[off+3])<<8 | int(b[off+4])
			if b[off] == tlsAppData && off > 600 {
				return b[off+3:]
			}
			off += 5 + n
		}
		t.Fatal("no record to cut")
		return nil
	}
	var got int
	emitHook = func(Transport, netip.AddrPort, netip.AddrPort, []byte, []FrameRef, time.Time, *HEPInfo) { got++ }
	defer func() { emitHook = nil }()
	d := New(Options{Keys: keys}, stNopHandler{})
	cc, ss := cut(c), cut(s)
	for i, seg := range [][]byte{cc[:300], ss[:300], cc[300:], ss[300:]} {
		src, dst, sp, dp := stA, stB, uint16(40000), uint16(5061)
		seq := uint32(1000)
		if i%2 == 1 {
			src, dst, sp, dp = stB, stA, 5061, 40000
			seq = 9000
		}
		if i >= 2 {
			seq += 300
		}
		b := stSeg(sp, dp, seq, stACK, string(seg))
		d.onTCP(stPkt(int64(i+1), src, dst, b), b)
	}
	d.Flush()
	st := d.Stats()
	if got != 0 || st.TLSMidSession == 0 || st.Encrypted == 0 || st.TLSDecrypted != 0 {
		t.Errorf("got %d messages, stats %+v; want none, joined mid-session", got, st)
	}
}

// TestTLS13AppSecretsOnly decrypts with a key log that has only the
// application traffic secrets (some exporters write no handshake secrets):
// the SIP, all of it, is in the application data.
func TestTLS13AppSecretsOnly(t *testing.T) {
	base := filepath.Join("..", "testdata", "tls", "tls13-aes128gcm")
	b, err := os.ReadFile(base + ".keys")
	if err != nil {
		t.Fatal(err)
	}
	k := NewKeyLog()
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "_TRAFFIC_SECRET_0 ") {
			k.line([]byte(line))
		}
	}
	r, d := decodeTLS(t, base+".pcap", k)
	got, want := ourRows(r), tsharkRows(t, base+".tshark.tsv")
	if strings.Join(got, "\n") != strings.Join(want, "\n") || d.Stats().TLSBadRecords != 0 {
		t.Errorf("got %d messages, want %d; stats %+v", len(got), len(want), d.Stats())
	}
}
