package bpf_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	xbpf "golang.org/x/net/bpf"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/capture/bpf"
)

// exprs are compared with libpcap's programs packet by packet.
var exprs = []string{
	"ip", "ip6", "arp", "tcp", "udp", "sctp", "icmp", "icmp6",
	"port 5060", "udp port 5060", "tcp port 5060", "sctp port 5060",
	"src port 5060", "dst port 5060", "tcp dst port 6060", "port 5060 or 5061",
	"portrange 5060-5070", "udp portrange 10000-20000", "src portrange 1024-65535",
	"host 192.168.1.2", "src host 10.186.207.1", "dst host 10.186.205.131",
	"host fe80::21a:a0ff:fe07:32e0", "dst host fec0::216:d3ff:fe0d:22c",
	"net 10.0.0.0/8", "net 192.168.0.0/16", "src net 10.186.0.0/16", "net fe80::/10",
	"vlan", "vlan and udp port 5060", "vlan 100", "not vlan", "vlan and host 10.0.0.1",
	"not port 5060", "! udp", "udp and not port 5060", "tcp || icmp",
	"(udp port 5060 or tcp port 5060) and not host 192.168.1.2",
	"ip and (tcp or udp) && !(portrange 1-1023)",
	"icmp or port 5060",
}

func TestCompileMatchesLibpcap(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed: cannot compare with libpcap's programs")
	}
	frames := ethernetFrames(t)
	if len(frames) == 0 {
		t.Skip("no Ethernet frames: ../../../shared/corpus and ../../testdata absent")
	}
	totalAcc, totalRej := 0, 0
	for _, e := range exprs {
		t.Run(e, func(t *testing.T) {
			want := libpcap(t, tcpdump, e)
			raw, err := bpf.Compile(e, 1, 262144)
			if err != nil {
				t.Fatalf("Compile(%q): %v", e, err)
			}
			got := vm(t, raw)
			acc := 0
			for _, f := range frames {
				w, err1 := want.Run(f.data)
				g, err2 := got.Run(f.data)
				if err1 != nil || err2 != nil {
					t.Fatalf("run: %v %v", err1, err2)
				}
				if (w != 0) != (g != 0) {
					t.Errorf("%s frame %d: ours returns %d, libpcap %d", f.name, f.num, g, w)
				}
				if w != 0 {
					acc++
				}
			}
			totalAcc += acc
			totalRej += len(frames) - acc
			t.Logf("%d of %d frames accepted", acc, len(frames))
		})
	}
	// The comparison means something only if the table both keeps and drops.
	if totalAcc == 0 || totalRej == 0 {
		t.Errorf("accepted %d, rejected %d: the corpus does not exercise the filters", totalAcc, totalRej)
	}
}

func TestCompileEmptyAcceptsAll(t *testing.T) {
	for _, e := range []string{"", "  "} {
		raw, err := bpf.Compile(e, 1, 1500)
		if err != nil {
			t.Fatal(err)
		}
		v := vm(t, raw)
		for _, pkt := range [][]byte{make([]byte, 14), make([]byte, 60)} {
			if n, _ := v.Run(pkt); n != 1500 {
				t.Errorf("Compile(%q) returns %d on a %d-byte frame, want 1500", e, n, len(pkt))
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		link int
		pos  string
	}{
		{"port", 1, "position 5"},
		{"port foo", 1, "position 6"},
		{"host example.com", 1, "position 6"},
		{"udp and", 1, "position 8"},
		{"(udp", 1, "position 5"},
		{"udp)", 1, "position 4"},
		{"portrange 10", 1, "position 11"},
		{"net 10.0.0.1/8", 1, "position 5"},
		{"vlan 5000", 1, "position 6"},
		{"vlan", 113, "position 1"},
		{"tcp host 1.2.3.4", 1, "position 10"},
		{"udp $", 1, "position 5"},
		{"frobnicate", 1, "position 1"},
		{"src 1.2.3.4", 1, "position 5"},
	} {
		_, err := bpf.Compile(tc.expr, tc.link, 0)
		if err == nil {
			t.Errorf("Compile(%q) accepted it, want an error", tc.expr)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(tc.expr)) || !strings.Contains(err.Error(), tc.pos+":") {
			t.Errorf("Compile(%q) = %q, want the expression and %q", tc.expr, err, tc.pos)
		}
	}
	if _, err := bpf.Compile("udp", 147, 0); err == nil {
		t.Error("Compile on link type 147 accepted it, want an error")
	}
}

// TestCompileLinkTypes runs a port filter over frames of other link types
// in testdata and checks it against what their Ethernet-independent bytes
// say (libpcap's -y only compiles for the link type tcpdump is given).
func TestCompileLinkTypes(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump not installed")
	}
	for _, tc := range []struct {
		file string
		link int
		dlt  string
	}{
		{"sll.pcap", 113, "LINUX_SLL"},
		{"sll2.pcap", 276, "LINUX_SLL2"},
		{"raw4.pcap", 228, "IPV4"},
		{"raw6.pcap", 101, "RAW"},
		{"null.pcap", 0, "NULL"},
	} {
		compared := 0
		path := filepath.Join("..", "..", "testdata", "encap", tc.file)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s absent", path)
			continue
		}
		for _, e := range []string{"udp port 5060", "ip", "ip6", "tcp", "host 10.0.0.1", "not udp"} {
			out, err := exec.Command(tcpdump, "-ddd", "-r", path, e).Output()
			if err != nil {
				t.Logf("tcpdump -r %s %q: %v", tc.file, e, err)
				continue
			}
			want := vm(t, parseDDD(t, string(out)))
			raw, err := bpf.Compile(e, tc.link, 262144)
			if err != nil {
				t.Fatalf("Compile(%q, %d): %v", e, tc.link, err)
			}
			got := vm(t, raw)
			for _, f := range readFrames(t, path, capture.LinkType(tc.link)) {
				w, _ := want.Run(f.data)
				g, _ := got.Run(f.data)
				if (w != 0) != (g != 0) {
					t.Errorf("%s %q frame %d: ours returns %d, libpcap %d", tc.file, e, f.num, g, w)
				}
				compared++
			}
		}
		if compared == 0 {
			t.Errorf("%s: no frame of link type %d compared", tc.file, tc.link)
		}
	}
}

type frame struct {
	name string
	num  int64
	data []byte
}

// ethernetFrames reads the Ethernet frames of the corpus and testdata
// captures (at most 3000 per file, to keep the test quick).
func ethernetFrames(t *testing.T) []frame {
	var paths []string
	for _, root := range []string{filepath.Join("..", "..", "..", "shared", "corpus"), filepath.Join("..", "..", "testdata")} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
				paths = append(paths, p)
			}
			return nil
		})
	}
	var out []frame
	for _, p := range paths {
		out = append(out, readFrames(t, p, capture.LinkEthernet)...)
	}
	return out
}

func readFrames(t *testing.T, path string, link capture.LinkType) []frame {
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Logf("skip %s: %v", path, err)
		return nil
	}
	defer src.Close()
	var out []frame
	var f capture.Frame
	for n := 0; n < 3000; n++ {
		if err := src.Next(&f); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: %v", path, err)
			}
			break
		}
		if f.Link == link {
			out = append(out, frame{path, f.Number, append([]byte(nil), f.Data...)})
		}
	}
	return out
}

func libpcap(t *testing.T, tcpdump, expr string) *xbpf.VM {
	out, err := exec.Command(tcpdump, "-ddd", "-y", "EN10MB", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump -ddd -y EN10MB %q: %v", expr, err)
	}
	return vm(t, parseDDD(t, string(out)))
}

// parseDDD reads tcpdump -ddd output: a count, then "code jt jf k" lines.
func parseDDD(t *testing.T, s string) []xbpf.RawInstruction {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var raw []xbpf.RawInstruction
	for _, l := range lines[1:] {
		var v [4]uint64
		fs := strings.Fields(l)
		if len(fs) != 4 {
			t.Fatalf("tcpdump -ddd line %q", l)
		}
		for i, f := range fs {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatalf("tcpdump -ddd line %q: %v", l, err)
			}
			v[i] = n
		}
		raw = append(raw, xbpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	return raw
}

func vm(t *testing.T, raw []xbpf.RawInstruction) *xbpf.VM {
	ins, ok := xbpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble: %v", raw)
	}
	v, err := xbpf.NewVM(ins)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	return v
}

// FuzzCompile: any expression either fails with an error or gives a
// program the kernel's rules accept (x/net/bpf's VM checks them too).
func FuzzCompile(f *testing.F) {
	for _, e := range exprs {
		f.Add(e, 1)
	}
	f.Add("vlan 1 and vlan 2 and host ::1", 113)
	f.Fuzz(func(t *testing.T, expr string, link int) {
		raw, err := bpf.Compile(expr, link, 65535)
		if err != nil {
			return
		}
		ins, ok := xbpf.Disassemble(raw)
		if !ok {
			t.Fatalf("Compile(%q) gave a program that does not disassemble", expr)
		}
		if _, err := xbpf.NewVM(ins); err != nil {
			t.Fatalf("Compile(%q): %v", expr, err)
		}
	})
}
