package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// TestHostileCaptureLimits: a live capture (HEP in, over loopback) says at
// the end which limits bit, as messages --stats does: the decoder's
// (--limit-headers on a crafted message) and the HEP listener's own
// (--limit-hep-conns on the TCP connections beyond the first).
func TestHostileCaptureLimits(t *testing.T) {
	msgs := fileMessages(t, []string{filepath.Join("..", "..", "testdata", "sipp", "udp-basic.pcap")})
	db := filepath.Join(t.TempDir(), "x.db")
	udpPort, tcpPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut bytes.Buffer
	cmd := newCaptureCmd(&streams{Out: &bytes.Buffer{}, ErrOut: &errOut})
	cmd.SetArgs([]string{"--hep-listen", fmt.Sprintf("udp:127.0.0.1:%d", udpPort),
		"--hep-listen", fmt.Sprintf("tcp:127.0.0.1:%d", tcpPort), "--db", db, "--stats",
		"--limit-headers", "12", "--limit-hep-conns", "1"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	waitBoundUDP(t, udpPort)
	var first net.Conn
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort))
		if err == nil {
			first = c
			break
		}
		if i == 200 {
			t.Fatal("TCP listener not up")
		}
		time.Sleep(25 * time.Millisecond)
	}
	defer first.Close()
	time.Sleep(200 * time.Millisecond) // the first one is accepted and held
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(100 * time.Millisecond)
	}

	u, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i, m := range msgs {
		raw := m.Raw
		if i == 0 { // the INVITE gets 40 more headers
			head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
			raw = append(append(bytes.Clone(head), strings.Repeat("\r\nX-Pad: 1", 40)...), append([]byte("\r\n\r\n"), body...)...)
		}
		b, err := capture.AppendHEP3(nil, capture.HEPSendOptions{ID: 1}, m.Src, m.Dst, 17, m.Time, raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("capture: %v\n%s", err, errOut.String())
	}
	out := errOut.String()
	for _, re := range []string{`(?m)^limit --limit-headers +1 messages with too many headers \(the first kept\)$`,
		`(?m)^limit --limit-hep-conns +2 HEP TCP connections refused$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("capture --stats: no line matching %s in:\n%s", re, out)
		}
	}
	if strings.Contains(out, "--limit-hep-queue") {
		t.Errorf("capture --stats names --limit-hep-queue, which did not bite:\n%s", out)
	}
}
