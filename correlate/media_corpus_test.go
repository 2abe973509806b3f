package correlate

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// mediaFile decodes a capture and runs the media tracker over it.
func mediaFile(t *testing.T, path string, opts MediaOptions) ([]Stream, MediaStats) {
	t.Helper()
	md := NewMedia(opts)
	h := decode.HandlerFuncs{
		OnMessage:  md.Message,
		OnDatagram: md.Datagram,
	}
	decodeFile(t, path, h)
	return md.Streams(), md.Stats()
}

// tsharkStream is one row of tshark -z rtp,streams.
type tsharkStream struct {
	key                  StreamKey
	packets, lost        int
	maxDelta             float64
	jitterMean, jitterMx float64
	noJitter             bool // tshark's Min Jitter -1: no clock rate known
}

// tsharkStreams runs tshark's RTP stream statistics with the RTP
// heuristic on, as the issue says the numbers must agree with.
func tsharkStreams(t *testing.T, path string) []tsharkStream {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: cannot compare with Wireshark's RTP analysis")
	}
	out, err := exec.Command("tshark", "-n", "-q", "-o", "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams", "-r", path).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	var rows []tsharkStream
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// start end srcip srcport dstip dstport ssrc payload... pkts lost (pct) 6 numbers [X]
		if len(f) < 17 || !strings.HasPrefix(f[6], "0x") {
			continue
		}
		if f[len(f)-1] == "X" {
			f = f[:len(f)-1]
		}
		n := len(f)
		num := func(s string) float64 {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("tshark row %q: %v", sc.Text(), err)
			}
			return v
		}
		ssrc, _ := strconv.ParseUint(f[6][2:], 16, 32)
		src := netip.AddrPortFrom(netip.MustParseAddr(f[2]), uint16(num(f[3])))
		dst := netip.AddrPortFrom(netip.MustParseAddr(f[4]), uint16(num(f[5])))
		rows = append(rows, tsharkStream{
			key:     StreamKey{Src: src, Dst: dst, SSRC: uint32(ssrc)},
			packets: int(num(f[n-9])), lost: int(num(f[n-8])),
			maxDelta: num(f[n-4]), jitterMean: num(f[n-2]), jitterMx: num(f[n-1]),
			noJitter: num(f[n-3]) < 0,
		})
	}
	return rows
}

// near reports whether got is within 15% or 1 ms of want (the issue's
// tolerance for jitter).
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1 || math.Abs(got-want) <= 0.15*math.Abs(want)
}

// compareTshark checks every stream tshark lists against ours: packets and
// lost exactly, jitter mean and max within tolerance.
func compareTshark(t *testing.T, path string, ours []Stream) {
	t.Helper()
	want := tsharkStreams(t, path)
	if len(want) == 0 {
		t.Fatalf("tshark found no RTP stream in %s", path)
	}
	byKey := map[StreamKey][]*Stream{}
	for i := range ours {
		s := &ours[i]
		k := StreamKey{Src: netip.AddrPortFrom(s.Src.Addr().Unmap(), s.Src.Port()), Dst: netip.AddrPortFrom(s.Dst.Addr().Unmap(), s.Dst.Port()), SSRC: s.SSRC}
		byKey[k] = append(byKey[k], s)
	}
	for _, w := range want {
		t.Run(fmt.Sprintf("%v>%v/0x%08X", w.key.Src, w.key.Dst, w.key.SSRC), func(t *testing.T) {
			got := byKey[w.key]
			if len(got) != 1 {
				t.Fatalf("got %d streams with this key, want 1", len(got))
			}
			s := got[0]
			t.Logf("ours: packets %d lost %d max delta %.3f jitter %.3f/%.3f; tshark: %d %d %.3f %.3f/%.3f",
				s.Packets, s.Lost, s.MaxDeltaMs, s.JitterMeanMs, s.JitterMaxMs, w.packets, w.lost, w.maxDelta, w.jitterMean, w.jitterMx)
			if s.Packets != w.packets {
				t.Errorf("packets: got %d, want %d (tshark)", s.Packets, w.packets)
			}
			if s.Lost != w.lost {
				t.Errorf("lost: got %d, want %d (tshark)", s.Lost, w.lost)
			}
			if !near(s.MaxDeltaMs, w.maxDelta) {
				t.Errorf("max delta: got %.3f ms, want %.3f (tshark)", s.MaxDeltaMs, w.maxDelta)
			}
			if w.noJitter {
				if s.JitterMaxMs != 0 {
					t.Errorf("jitter: got max %.3f ms, want none (tshark knows no clock rate)", s.JitterMaxMs)
				}
				return
			}
			if !near(s.JitterMeanMs, w.jitterMean) {
				t.Errorf("mean jitter: got %.3f ms, want %.3f (tshark)", s.JitterMeanMs, w.jitterMean)
			}
			if !near(s.JitterMaxMs, w.jitterMx) {
				t.Errorf("max jitter: got %.3f ms, want %.3f (tshark)", s.JitterMaxMs, w.jitterMx)
			}
		})
	}
	if len(ours) != len(want) {
		for _, s := range ours {
			t.Logf("ours: %v>%v 0x%08X pt %d %s packets %d call %q link %s", s.Src, s.Dst, s.SSRC, s.PayloadType, s.Codec, s.Packets, s.CallID, s.Link)
		}
		t.Errorf("got %d streams, want %d (tshark)", len(ours), len(want))
	}
}

func TestMediaCorpusTshark(t *testing.T) {
	for _, name := range []string{
		"heplify/rtp_rtcp_sip_ipv4_udp.pcap",
		"heplify/sip_ipv4_tcp.pcap",
		"sipp/g711a.pcap",
		"sipp/dtmf_2833_1.pcap",
		"nDPI/rtp.pcapng",
		"sngrep/aaa.pcap",
		"arkime/arkime-gtp-iphone.pcap",
		// Not heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap: a gateway goes on
		// sending PCMA on ports that re-INVITEs (some answered 488) moved
		// to T.38, and Wireshark's reading of those 2010 frames as T.38
		// follows its own SDP conversation rules; its Max Delta (9.2 s)
		// is not a gap between any two of the stream's packets it lists.
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpusDir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("corpus capture %s not available (%v)", name, err)
			}
			ours, _ := mediaFile(t, path, MediaOptions{})
			compareTshark(t, path, ours)
		})
	}
}

// TestMediaSIPpTshark checks the captures of testdata/media (SIPp calling
// SIPp with G.711 audio: clean, one-way, lossy, jittery, DTMF, NAT)
// against tshark run on them now, and that every stream found its call.
func TestMediaSIPpTshark(t *testing.T) {
	files, _ := filepath.Glob("../testdata/media/*.pcap")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/media")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ours, _ := mediaFile(t, path, MediaOptions{})
			compareTshark(t, path, ours)
			for _, s := range ours {
				if s.CallID == "" {
					t.Errorf("stream %v>%v 0x%08X: no call, want the capture's one call (SDP announced it)", s.Src, s.Dst, s.SSRC)
				}
				if s.Direction == DirectionUnknown {
					t.Errorf("stream %v>%v: no direction", s.Src, s.Dst)
				}
			}
		})
	}
}
