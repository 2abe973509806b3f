package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// buildSipscope builds the command into a temporary folder: the hostile
// tests measure a real process (peak RSS) or kill it.
func buildSipscope(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "sipscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeFragFlood writes a pcap of n IPv4 first fragments (More Fragments
// set, offset 0, a new Identification each) of 1480 bytes that never
// complete: the reassembly cache's worst case. Each starts like a SIP
// INVITE over UDP so that nothing tells it from a real large INVITE.
func writeFragFlood(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var gh [24]byte
	binary.LittleEndian.PutUint32(gh[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(gh[4:], 2)
	binary.LittleEndian.PutUint16(gh[6:], 4)
	binary.LittleEndian.PutUint32(gh[16:], 65535)
	binary.LittleEndian.PutUint32(gh[20:], 1) // Ethernet
	bw.Write(gh[:])
	const ipLen = 1500
	frame := make([]byte, 14+ipLen)
	copy(frame[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(frame[6:12], []byte{2, 0, 0, 0, 0, 1})
	frame[12], frame[13] = 0x08, 0x00
	ip := frame[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], ipLen)
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], []byte{198, 51, 100, 1})
	copy(ip[16:20], []byte{198, 51, 100, 2})
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], 5060)
	binary.BigEndian.PutUint16(udp[2:], 5060)
	binary.BigEndian.PutUint16(udp[4:], 3000) // the whole datagram would be 3000 bytes
	sip := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKflood\r\nX-Pad: " +
		strings.Repeat("x", 1400)
	copy(udp[8:], sip)
	var rh [16]byte
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint16(ip[4:], uint16(i))
		ip[12+2] = byte(i >> 16)                   // vary the source too: more than 65536 IDs
		binary.BigEndian.PutUint16(ip[6:], 0x2000) // MF, offset 0
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:20]))
		us := 10 * i // 10 µs apart: one second, well inside the 30 s reassembly timer
		binary.LittleEndian.PutUint32(rh[0:], uint32(1700000000+us/1e6))
		binary.LittleEndian.PutUint32(rh[4:], uint32(us%1e6))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(frame)))
		bw.Write(rh[:])
		if _, err := bw.Write(frame); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// TestHostileFragFlood feeds 100,000 IP first fragments that never complete
// to `sipscope messages --stats` and reads the process' peak RSS: the
// reassembly cache must stay bounded (issue 13: under 100 MB by default),
// and the fragments it dropped must be counted.
func TestHostileFragFlood(t *testing.T) {
	bin := buildSipscope(t)
	cmd := exec.Command(bin, "messages", "--stats", "-")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	werr := writeFragFlood(in, 100000)
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sipscope messages: %v\n%s", err, stderr.String())
	}
	if werr != nil {
		t.Fatal(werr)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	peakMB := float64(ru.Maxrss) / 1024 // Linux: kilobytes
	t.Logf("peak RSS %.1f MB\n%s", peakMB, stderr.String())
	if peakMB >= 100 {
		t.Errorf("peak RSS %.1f MB for 100,000 incomplete fragments, want < 100 MB", peakMB)
	}
	if !strings.Contains(stderr.String(), "fragments expired              100000") {
		t.Errorf("--stats does not count the 100000 expired fragments:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "limit --limit-frag-datagrams") {
		t.Errorf("--stats does not name the limit that bit:\n%s", stderr.String())
	}
}
