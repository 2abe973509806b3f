package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// udpFrame is an Ethernet/IPv4/UDP frame from src to dst (last octets of
// 192.0.2.x, port 5060) carrying payload.
func udpFrame(src, dst byte, id uint16, payload []byte) []byte {
	b := make([]byte, 14+20+8+len(payload))
	b[12], b[13] = 0x08, 0x00
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], id)
	ip[8], ip[9] = 64, 17
	copy(ip[12:], []byte{192, 0, 2, src})
	copy(ip[16:], []byte{192, 0, 2, dst})
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:20]))
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], 5060)
	binary.BigEndian.PutUint16(u[2:], 5060)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	return b
}

// writeTestPcap writes frames (Ethernet) 10 ms apart to a new pcap in dir.
func writeTestPcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(f, "pcap")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, b := range frames {
		fr := &capture.Frame{Number: int64(i + 1), Time: at.Add(time.Duration(i) * 10 * time.Millisecond),
			Link: capture.LinkEthernet, Data: b, OrigLen: len(b)}
		if err := w.WriteFrame(fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// Escape sequences a stranger's message may carry (ECMA-48): OSC 0 sets
// the window title, CSI 2J clears the screen, backspaces and a bare CR
// overwrite what is shown, C1 CSI (U+009B) is CSI on some terminals.
const (
	evilTitle = "\x1b]0;owned\x07"
	evilUA    = "softphone " + evilTitle + "\x1b[2J\x1b[H\b\b\b\rfake \u009b31m"
)

// hostileCall returns frames of a call whose User-Agent sets the terminal
// title and whose reason phrase, From display name and body carry other
// control sequences.
func hostileCall() [][]byte {
	sdp := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=\x1b]2;sdp\x07\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	inv := "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKevil1\r\n" +
		"From: \"Al\x1b[31mice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob\x1b]0;t\x07@example.com>\r\n" +
		"Call-ID: evil-1@192.0.2.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"User-Agent: " + evilUA + "\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	busy := "SIP/2.0 486 Busy " + evilTitle + "\x1b[2J\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKevil1\r\n" +
		"From: \"Al\x1b[31mice\" <sip:alice@example.com>;tag=a1\r\n" +
		"To: <sip:bob\x1b]0;t\x07@example.com>;tag=b1\r\n" +
		"Call-ID: evil-1@192.0.2.1\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"Server: " + evilUA + "\r\n" +
		"Content-Length: 0\r\n\r\n"
	opt := "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKevil2\r\n" +
		"From: <sip:alice@example.com>;tag=a2\r\nTo: <sip:bob@example.com>\r\n" +
		"Call-ID: evil-2" + evilTitle + "@192.0.2.1\r\n" +
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	return [][]byte{udpFrame(1, 2, 1, []byte(inv)), udpFrame(2, 1, 2, []byte(busy)), udpFrame(1, 2, 3, []byte(opt))}
}

// TestHostileTerminal runs every command that prints strangers' text on a
// capture whose User-Agent sets the terminal title (and whose reason,
// From, To, Call-ID and body carry other escapes), as if stdout were a
// terminal: no ESC, BEL, backspace, CR or C1 control may reach it; each is
// shown escaped. `show` piped (or --raw) keeps the bytes as captured.
func TestHostileTerminal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil.pcap")
	if p := os.Getenv("HOSTILE_KEEP"); p != "" {
		file = p
	}
	writeTestPcap(t, file, hostileCall())
	cmds := [][]string{
		{"messages", file},
		{"calls", file},
		{"show", "evil-1@192.0.2.1", file},
		{"flow", "--call", "evil-1@192.0.2.1", "--color", "never", "--width", "200", file},
		{"diagnose", file},
		{"show", "no-such-call\x1b]0;x\x07", file}, // an error that names the Call-ID
		{"messages", file + "\x1b]0;x\x07"},        // an error that names the file
	}
	for _, args := range cmds {
		t.Run(args[0], func(t *testing.T) {
			var out, errOut bytes.Buffer
			run(args, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, OutTTY: true, ErrTTY: true})
			for name, b := range map[string][]byte{"stdout": out.Bytes(), "stderr": errOut.Bytes()} {
				if i := bytes.IndexFunc(b, func(r rune) bool {
					return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f
				}); i >= 0 {
					t.Errorf("%s on a terminal holds control %q at %d:\n%s", name, b[i], i, b)
				}
			}
			if args[0] == "show" && args[1] == "evil-1@192.0.2.1" && !strings.Contains(out.String(), `User-Agent: softphone \x1b]0;owned\x07\x1b[2J\x1b[H\x08\x08\x08\rfake \u009b31m`) {
				t.Errorf("show does not show the User-Agent escaped:\n%s", out.String())
			}
		})
	}
	// Piped, show writes the bytes as captured: a ticket holds the truth.
	var out bytes.Buffer
	if code := run([]string{"show", "evil-1@192.0.2.1", file}, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}}); code != exitOK {
		t.Fatalf("show piped: exit %d", code)
	}
	if !strings.Contains(out.String(), "User-Agent: "+evilUA+"\r\n") {
		t.Errorf("show piped does not keep the raw bytes:\n%q", out.String())
	}
	out.Reset()
	run([]string{"show", "--raw", "evil-1@192.0.2.1", file}, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}, OutTTY: true})
	if !strings.Contains(out.String(), evilTitle) {
		t.Errorf("show --raw on a terminal does not keep the raw bytes")
	}
}
