package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sipscope runs the command line in-process and returns its exit code,
// standard output and standard error.
func sipscope(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &streams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// tsharkRTPStreams is tshark's RTP streams table of a capture, a row per
// stream without its start and end (relative to the first frame, which an
// export changes), sorted.
func tsharkRTPStreams(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams", "-r", path).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var rows []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 7 && strings.HasPrefix(f[6], "0x") {
			rows = append(rows, strings.Join(f[2:], " "))
		}
	}
	slices.Sort(rows)
	return rows
}

// tsharkCount counts the frames of path that match a display filter.
func tsharkCount(t *testing.T, path, filter string) int {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-o", "rtp.heuristic_rtp:TRUE", "-r", path, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	return len(strings.Fields(string(out)))
}

// mediaCalls returns the Call-IDs `media` ties streams to in a capture,
// and how many streams each has.
func mediaCalls(t *testing.T, args ...string) map[string]int {
	calls := map[string]int{}
	for id, ss := range mediaStreams(t, args...) {
		calls[id] = len(ss)
	}
	return calls
}

// mediaStreams returns the src and dst of the streams `media` ties to each
// call.
func mediaStreams(t *testing.T, args ...string) map[string][][2]netip.AddrPort {
	t.Helper()
	code, out, errOut := sipscope(t, append([]string{"media", "--format", "jsonl", "-q"}, args...)...)
	if code != 0 {
		t.Fatalf("media %v: exit %d: %s", args, code, errOut)
	}
	calls := map[string][][2]netip.AddrPort{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			CallID   string `json:"call_id"`
			Src, Dst string
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("media line %q: %v", line, err)
		}
		if r.CallID != "" {
			calls[r.CallID] = append(calls[r.CallID], [2]netip.AddrPort{netip.MustParseAddrPort(r.Src), netip.MustParseAddrPort(r.Dst)})
		}
	}
	return calls
}

// TestExportRTP: `export --call ID --rtp` writes the call's SIP, RTP and
// RTCP frames; tshark reads in it the same RTP streams as in the source
// capture (the source's streams of that call: every stream, for the SIPp
// captures), and the same RTCP packets.
func TestExportRTP(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: cannot read the exported pcap as Wireshark does")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "media", "*.pcap"))
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "heplify", "rtp_rtcp_sip_ipv4_udp.pcap")
	if _, err := os.Stat(corpus); err == nil {
		files = append(files, corpus)
	} else {
		t.Logf("corpus capture %s not available (%v): SIPp captures only", corpus, err)
	}
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			want := tsharkRTPStreams(t, src)
			calls := mediaStreams(t, src)
			if len(calls) == 0 {
				t.Fatalf("no stream of %s has a call", src)
			}
			var got []string
			for id, ss := range calls {
				n := len(ss)
				out := filepath.Join(t.TempDir(), "call.pcap")
				if code, _, errOut := sipscope(t, "export", "-q", "--call", id, "--rtp", "-o", out, src); code != 0 {
					t.Fatalf("export --rtp: exit %d: %s", code, errOut)
				}
				rows := tsharkRTPStreams(t, out)
				if len(rows) != n {
					t.Errorf("call %s: tshark finds %d streams in the export, want the %d sipscope tied to it", id, len(rows), n)
				}
				got = append(got, rows...)
				if sip := tsharkCount(t, out, "sip"); sip == 0 {
					t.Errorf("call %s: no SIP in the export", id)
				}
				// RTCP (RFC 3550 §11: on the next port up) between the
				// call's RTP addresses is the call's; a B2BUA's report on
				// its other leg about an SSRC of this call may be too.
				if all := tsharkCount(t, src, "rtcp"); all > 0 {
					var f []string
					for _, s := range ss {
						f = append(f, fmt.Sprintf("(ip.src==%s && udp.srcport==%d && ip.dst==%s && udp.dstport==%d)",
							s[0].Addr(), s[0].Port()+1, s[1].Addr(), s[1].Port()+1))
					}
					mine := tsharkCount(t, src, "rtcp && ("+strings.Join(f, " || ")+")")
					n := tsharkCount(t, out, "rtcp")
					t.Logf("call %s: %d RTCP packets exported; the source has %d, %d between the call's RTP addresses", id, n, all, mine)
					if mine == 0 || n < mine || n > all {
						t.Errorf("call %s: got %d RTCP packets, want at least the %d between its RTP addresses (of %d)", id, n, mine, all)
					}
				}
			}
			slices.Sort(got)
			for _, r := range got {
				if !slices.Contains(want, r) {
					t.Errorf("stream in the exports not in the source (or with other figures):\n%s\nsource:\n%s", r, strings.Join(want, "\n"))
				}
			}
			if filepath.Dir(src) != filepath.Dir(corpus) && !slices.Equal(got, want) {
				t.Errorf("streams of the exports:\n%s\nwant those of the source:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestExportRTPDB: with --db the RTP comes from the capture file the
// database was imported from; once that file is gone, a one-line error
// says so. --rtp with a format other than pcap is a usage error.
func TestExportRTPDB(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: cannot read the exported pcap as Wireshark does")
	}
	dir := t.TempDir()
	orig := filepath.Join("..", "..", "testdata", "media", "dtmf-rfc4733.pcap")
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "trace.pcap")
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "calls.db")
	if code, _, errOut := sipscope(t, "import", "-q", "--db", db, src); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	var id string
	for id = range mediaCalls(t, "--db", db) {
	}
	out := filepath.Join(dir, "call.pcap")
	if code, _, errOut := sipscope(t, "export", "--db", db, "--call", id, "--rtp", "-o", out); code != 0 {
		t.Fatalf("export --db --rtp: exit %d: %s", code, errOut)
	}
	if got, want := tsharkRTPStreams(t, out), tsharkRTPStreams(t, orig); !slices.Equal(got, want) {
		t.Errorf("streams of the export:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := sipscope(t, "export", "--db", db, "--call", id, "--rtp", "-o", out)
	if code != 1 || !strings.Contains(errOut, "is gone") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("export --db --rtp without the capture: got exit %d, %q; want 1 and one line saying the file is gone", code, errOut)
	}
	if code, _, errOut := sipscope(t, "export", "--db", db, "--call", id, "--rtp", "-o", filepath.Join(dir, "x.html")); code != 2 {
		t.Errorf("--rtp with html: got exit %d (%q), want 2", code, errOut)
	}
}

// TestInfoDTMF: the digits testdata/media/dtmf-info.pcap's caller sends in
// SIP INFO (README there: 1 then 5) reach calls (info_dtmf, with each
// digit's sender) and media (info_dtmf on the caller's stream only), from
// the capture and from a database.
func TestInfoDTMF(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "media", "dtmf-info.pcap")
	db := filepath.Join(t.TempDir(), "calls.db")
	if code, _, errOut := sipscope(t, "import", "-q", "--db", db, file); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	for _, src := range [][]string{{file}, {"--db", db}} {
		code, out, errOut := sipscope(t, append([]string{"calls", "--format", "jsonl", "-q"}, src...)...)
		if code != 0 {
			t.Fatalf("calls %v: exit %d: %s", src, code, errOut)
		}
		var c struct {
			InfoDTMF string `json:"info_dtmf"`
			Events   []struct {
				Digit, Direction string
				DurationMs       float64 `json:"duration_ms"`
			} `json:"info_dtmf_events"`
			Media []json.RawMessage `json:"media"`
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("calls %v: %v in %q", src, err, out)
		}
		if c.InfoDTMF != "15" || len(c.Events) != 2 || c.Events[0].Direction != "from-caller" || c.Events[0].DurationMs != 160 || len(c.Media) != 2 {
			t.Errorf("calls %v: got info_dtmf %q, events %+v, %d streams; want \"15\", the caller's 1 (160 ms) and 5, 2 streams", src, c.InfoDTMF, c.Events, len(c.Media))
		}
		code, out, errOut = sipscope(t, append([]string{"media", "--format", "jsonl", "-q"}, src...)...)
		if code != 0 {
			t.Fatalf("media %v: exit %d: %s", src, code, errOut)
		}
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var s struct {
				Direction string `json:"direction"`
				InfoDTMF  string `json:"info_dtmf"`
				DTMF      string `json:"dtmf"`
			}
			if err := json.Unmarshal([]byte(line), &s); err != nil {
				t.Fatal(err)
			}
			n++
			want := map[string]string{"from-caller": "15", "from-callee": ""}[s.Direction]
			if s.InfoDTMF != want || s.DTMF != "" {
				t.Errorf("media %v: stream %s: got info_dtmf %q, dtmf %q; want %q, \"\" (no RFC 4733)", src, s.Direction, s.InfoDTMF, s.DTMF, want)
			}
		}
		if n != 2 {
			t.Errorf("media %v: got %d streams, want 2 (the INFO digits are no stream)", src, n)
		}
	}
}

// TestMediaCLITshark is the held-out check run on the command line: for
// every capture of testdata/media and the corpus captures with RTP,
// `sipscope media --format jsonl` (streams handed on as calls end and
// read back from the store) lists the streams tshark does, with the same
// packets and lost and jitter within 15% or 1 ms.
func TestMediaCLITshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: cannot compare with Wireshark's RTP analysis")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "media", "*.pcap"))
	for _, name := range []string{"heplify/rtp_rtcp_sip_ipv4_udp.pcap", "heplify/sip_ipv4_tcp.pcap", "sipp/g711a.pcap",
		"sipp/dtmf_2833_1.pcap", "nDPI/rtp.pcapng", "sngrep/aaa.pcap", "arkime/arkime-gtp-iphone.pcap"} {
		p := filepath.Join("..", "..", "..", "shared", "corpus", name)
		if _, err := os.Stat(p); err != nil {
			t.Logf("corpus capture %s not available: skipped", name)
			continue
		}
		files = append(files, p)
	}
	near := func(got, want float64) bool {
		d := got - want
		if d < 0 {
			d = -d
		}
		return d <= 1 || d <= 0.15*want
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			code, out, errOut := sipscope(t, "media", "--format", "jsonl", "-q", path)
			if code != 0 {
				t.Fatalf("media: exit %d: %s", code, errOut)
			}
			type rec struct {
				Src, Dst, SSRC   string
				Packets, Lost    int
				JitterMean, JMax float64
			}
			ours := map[string]rec{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var r struct {
					Src        string  `json:"src"`
					Dst        string  `json:"dst"`
					SSRC       string  `json:"ssrc"`
					Packets    int     `json:"packets"`
					Lost       int     `json:"lost"`
					JitterMean float64 `json:"jitter_mean_ms"`
					JitterMax  float64 `json:"jitter_max_ms"`
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				k := r.Src + ">" + r.Dst + "/" + strings.ToLower(r.SSRC)
				if _, dup := ours[k]; dup {
					t.Errorf("%s: listed twice", k)
				}
				ours[k] = rec{r.Src, r.Dst, r.SSRC, r.Packets, r.Lost, r.JitterMean, r.JitterMax}
			}
			rows := tsharkRTPStreams(t, path)
			if len(rows) != len(ours) {
				t.Errorf("got %d streams, want %d (tshark)", len(ours), len(rows))
			}
			for _, row := range rows {
				f := strings.Fields(row) // src port dst port ssrc payload... pkts lost (pct) 6 numbers [X]
				if f[len(f)-1] == "X" {
					f = f[:len(f)-1]
				}
				n := len(f)
				k := netip.AddrPortFrom(netip.MustParseAddr(f[0]), uint16(atoi(t, f[1]))).String() + ">" +
					netip.AddrPortFrom(netip.MustParseAddr(f[2]), uint16(atoi(t, f[3]))).String() + "/" + strings.ToLower(f[4])
				r, ok := ours[k]
				if !ok {
					t.Errorf("tshark's stream %s: not listed", k)
					continue
				}
				pk, lost := atoi(t, f[n-9]), atoi(t, f[n-8])
				jmean, jmax := atof(t, f[n-2]), atof(t, f[n-1])
				if r.Packets != pk || r.Lost != lost {
					t.Errorf("%s: got %d packets, %d lost; want %d, %d (tshark)", k, r.Packets, r.Lost, pk, lost)
				}
				if atof(t, f[n-3]) >= 0 && (!near(r.JitterMean, jmean) || !near(r.JMax, jmax)) {
					t.Errorf("%s: got jitter %.3f/%.3f ms, want %.3f/%.3f (tshark)", k, r.JitterMean, r.JMax, jmean, jmax)
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("tshark field %q: %v", s, err)
	}
	return v
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("tshark field %q: %v", s, err)
	}
	return v
}
