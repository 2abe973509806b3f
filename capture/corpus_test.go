package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir returns ../shared/corpus from the module root, or skips.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("corpus of real captures not found at %s: %v", dir, err)
	}
	return dir
}

// corpusFrames is the number of frames in each corpus capture, as counted by
// Wireshark (capinfos -c, tshark 4.0.17).
var corpusFrames = map[string]int{
	"PcapPlusPlus/sdp.pcap":                                             1,
	"PcapPlusPlus/sip_non_default_port.pcap":                            2,
	"PcapPlusPlus/sip_not_sdp.pcap":                                     1,
	"PcapPlusPlus/sip_reqs.pcap":                                        4,
	"PcapPlusPlus/sip_resp.pcap":                                        7,
	"arkime/arkime-gtp-iphone.pcap":                                     106,
	"arkime/arkime_synthetic.pcap":                                      918,
	"hep-wireshark/hep.pcap":                                            8,
	"hep-wireshark/hep3_compressed.pcapng":                              21,
	"heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap":                         7217,
	"heplify/erspan_sip_ipv4_udp.pcapng":                                140,
	"heplify/rtp_rtcp_sip_ipv4_udp.pcap":                                4269,
	"heplify/sip_ipv4_tcp.pcap":                                         84,
	"heplify/sip_ipv4_tcp_fragmented.pcap":                              1542,
	"heplify/sip_ipv4_tcp_retrans.pcap":                                 196,
	"heplify/sip_ipv6_udp.pcap":                                         6,
	"heplify/sip_sctp.pcap":                                             5,
	"heplify/sip_tcp_websocket.pcap":                                    61,
	"ipfixprobe/ipfixprobe-sip.pcap":                                    50,
	"nDPI/fuzz-2006-06-26-2594.pcap":                                    691,
	"nDPI/gre_sip.pcapng":                                               36,
	"nDPI/http_on_sip_port.pcap":                                        4,
	"nDPI/rtp.pcapng":                                                   112,
	"nDPI/sip_hello.pcapng":                                             30,
	"nDPI/webex.pcap":                                                   1110,
	"sip3-captain-ce/sip3-BootstrapTest.pcap":                           1,
	"sipp/dtmf_2833_1.pcap":                                             10,
	"sipp/g711a.pcap":                                                   236,
	"sngrep/aaa.pcap":                                                   691,
	"sngrep/ipip.pcap":                                                  4,
	"sngrep/ipv6frag.pcap":                                              34,
	"sngrep/tlssaved.pcap":                                              12,
	"suricata-verify/sip-body-frames__public-cloudshark-sip-s0.pcap":    10,
	"suricata-verify/sip-body-large__sip-body-large.pcap":               16,
	"suricata-verify/sip-compact-form__sip_compact_form.pcap":           1,
	"suricata-verify/sip-header-multi-value__sip_header_multi_val.pcap": 1,
	"suricata-verify/sip-options-method__input.pcap":                    2,
	"suricata-verify/sip-pattern-matching__sip.pcap":                    2,
	"suricata-verify/sip-sdp__sdp.pcap":                                 2,
	"suricata-verify/sip-tcp-method__sip-tcp.pcap":                      11,
	"suricata-verify/sip-tcp-pattern-matching__sip.pcap":                7,
	"zeek/invalid-content-length.pcap":                                  2,
	"zeek/sip-junk-before-request.pcap":                                 2,
	"zeek/sip-long-request-response-paths.pcap":                         2,
	"zeek/wireshark.pcap":                                               81,
}

// corpusCaptures lists the capture files of the corpus, relative to dir.
func corpusCaptures(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".tsv") || strings.HasSuffix(p, ".md") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpus reads every corpus capture: no error, no warning, Wireshark's
// frame count, numbers 1..N in file order, and for every frame that
// Wireshark lists as SIP in NAME.tshark.tsv the same capture time for the
// same frame number (which checks the numbering on pcapng files, where
// frames of several interfaces interleave).
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range corpusCaptures(t, dir) {
		t.Run(name, func(t *testing.T) {
			frames, warns := openAll(t, filepath.Join(dir, name))
			if len(warns) != 0 {
				t.Errorf("got warnings %q", warns)
			}
			if want, ok := corpusFrames[name]; !ok {
				t.Logf("no frame count known for %s (read %d frames)", name, len(frames))
			} else if len(frames) != want {
				t.Errorf("got %d frames, want %d", len(frames), want)
			}
			for i, f := range frames {
				if f.Number != int64(i+1) {
					t.Fatalf("frame %d: got number %d", i+1, f.Number)
				}
			}
			tsv := filepath.Join(dir, strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")+".tshark.tsv")
			fh, err := os.Open(tsv)
			if err != nil {
				t.Logf("no tshark reading: %v", err)
				return
			}
			defer fh.Close()
			sc := bufio.NewScanner(fh)
			checked := 0
			for sc.Scan() {
				cols := strings.Split(sc.Text(), "\t")
				if len(cols) < 2 {
					continue
				}
				n, err := strconv.Atoi(cols[0])
				if err != nil || n < 1 || n > len(frames) {
					t.Errorf("tsv frame %q out of range 1..%d", cols[0], len(frames))
					continue
				}
				f := frames[n-1]
				if got := fmt.Sprintf("%d.%09d", f.Time.Unix(), f.Time.Nanosecond()); got != cols[1] {
					t.Errorf("frame %d: got time %s, want %s", n, got, cols[1])
				}
				checked++
			}
			t.Logf("%d frames, %d SIP frame times checked", len(frames), checked)
		})
	}
}

// TestCorpusMerged reads the whole corpus at once: every frame of every
// file comes out once, each file's frames in order.
func TestCorpusMerged(t *testing.T) {
	dir := corpusDir(t)
	names := corpusCaptures(t, dir)
	paths := make([]string, len(names))
	want := 0
	for i, n := range names {
		paths[i] = filepath.Join(dir, n)
		want += corpusFrames[n]
	}
	frames, warns := openAll(t, paths...)
	if len(warns) != 0 {
		t.Errorf("got warnings %q", warns)
	}
	if len(frames) != want {
		t.Errorf("got %d frames, want %d", len(frames), want)
	}
	next := make([]int64, len(paths))
	for i, f := range frames {
		next[f.Source]++
		if f.Number != next[f.Source] || f.File != paths[f.Source] {
			t.Fatalf("output %d: got %s #%d, want #%d", i, f.File, f.Number, next[f.Source])
		}
		if i > 0 && f.Time.Before(frames[i-1].Time) && f.Source != frames[i-1].Source {
			// Going back in time is only allowed where a file itself does.
			t.Errorf("output %d: %s #%d at %v comes after %s #%d at %v",
				i, f.File, f.Number, f.Time, frames[i-1].File, frames[i-1].Number, frames[i-1].Time)
		}
	}
}

// TestMergecap checks two things against Wireshark's mergecap, when it is
// on PATH: a real pcapng with several interfaces of different link types
// (mergecap writes one interface per input) reads right, and our merge of
// the inputs gives the same frames in the same order as mergecap's.
func TestMergecap(t *testing.T) {
	dir := corpusDir(t)
	if _, err := exec.LookPath("mergecap"); err != nil {
		t.Skip("mergecap not on PATH")
	}
	var inputs []string
	for _, n := range []string{"heplify/sip_ipv4_tcp_retrans.pcap", "heplify/sip_ipv6_udp.pcap", "nDPI/sip_hello.pcapng", "sngrep/aaa.pcap"} {
		inputs = append(inputs, filepath.Join(dir, n))
	}
	out := filepath.Join(t.TempDir(), "merged.pcapng")
	if b, err := exec.Command("mergecap", append([]string{"-F", "pcapng", "-w", out}, inputs...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, b)
	}
	theirs, warns := openAll(t, out)
	if len(warns) != 0 {
		t.Errorf("got warnings %q", warns)
	}
	ours, _ := openAll(t, inputs...)
	if len(theirs) != len(ours) {
		t.Fatalf("mergecap output has %d frames, our merge %d", len(theirs), len(ours))
	}
	links := map[LinkType]bool{}
	for i := range ours {
		a, b := ours[i], theirs[i]
		links[b.Link] = true
		if !a.Time.Equal(b.Time) || a.Link != b.Link || !bytes.Equal(a.Data, b.Data) || a.OrigLen != b.OrigLen {
			t.Fatalf("output %d: ours %s #%d %v link %d, mergecap's frame %d %v link %d",
				i, a.File, a.Number, a.Time, a.Link, b.Number, b.Time, b.Link)
		}
	}
	if len(links) < 2 {
		t.Errorf("got link types %v, want several", links)
	}
}
