package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
)

// hepMsg is what must survive a trip through HEP.
type hepMsg struct {
	src, dst netip.AddrPort
	at       int64 // microseconds: HEP3 carries no finer time
	raw      string
}

func (m hepMsg) String() string {
	return fmt.Sprintf("%v > %v at %d: %.40q", m.src, m.dst, m.at, m.raw)
}

func hepMsgOf(m *decode.Message) hepMsg {
	return hepMsg{m.Src, m.Dst, m.Time.UnixMicro(), string(m.Raw)}
}

// decodeSource decodes every frame of src.
func decodeSource(t *testing.T, src capture.Source) ([]hepMsg, []*decode.Message) {
	t.Helper()
	var out []hepMsg
	var full []*decode.Message
	d := decode.New(decode.Options{}, decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		out = append(out, hepMsgOf(m))
		full = append(full, m.Clone())
	}})
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	return out, full
}

func decodePath(t *testing.T, path string) ([]hepMsg, []*decode.Message) {
	t.Helper()
	src, err := capture.Open([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return decodeSource(t, src)
}

func sortMsgs(ms []hepMsg) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].String() < ms[j].String() })
}

// freePort finds a free loopback UDP port for a program that needs to be
// told one.
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitBoundUDP waits until something listens on 127.0.0.1:port (binding it
// ourselves fails), so that nothing is sent before a listener is up.
func waitBoundUDP(t *testing.T, port int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("nothing listens on udp 127.0.0.1:%d after 5 s", port)
}

// TestHEPFromSngrep has sngrep (not written here) replay captures as HEP
// to our --hep-listen listener, and checks every SIP message arrives with
// its original addresses, time and bytes.
func TestHEPFromSngrep(t *testing.T) {
	sngrep, err := exec.LookPath("sngrep")
	if err != nil {
		t.Skip("sngrep not installed")
	}
	files := []string{filepath.Join("..", "..", "testdata", "sipp", "udp-basic.pcap"),
		filepath.Join("..", "..", "testdata", "sipp", "register-401.pcap")}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err == nil {
		files = append(files, filepath.Join(corpus, "sngrep", "aaa.pcap"), filepath.Join(corpus, "heplify", "sip_ipv6_udp.pcap"), filepath.Join(corpus, "ipfixprobe", "ipfixprobe-sip.pcap"))
	} else {
		t.Logf("%s absent: only testdata captures", corpus)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want, _ := decodePath(t, file)
			if len(want) == 0 {
				t.Fatalf("%s: no SIP messages", file)
			}
			port := freePort(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := &hepOptions{listen: []string{fmt.Sprintf("udp:127.0.0.1:%d", port)}}
			srcs, err := o.listeners(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll(srcs)
			cmd := exec.Command(sngrep, "-N", "-q", "-I", file, "-H", fmt.Sprintf("udp:127.0.0.1:%d", port))
			cmd.Env = append(os.Environ(), "TERM=dumb")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sngrep: %v: %s", err, out)
			}
			// sngrep has sent everything when it exits; let the listener
			// drain the socket, then end it.
			l := srcs[0].(*capture.HEPListener)
			deadline := time.Now().Add(5 * time.Second)
			for last := uint64(0); time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				n := l.Stats().Packets
				if n == last && n > 0 {
					break
				}
				last = n
			}
			cancel()
			got, full := decodeSource(t, srcs[0])
			if st := l.Stats(); st.Bad+st.BadPassword+st.Dropped != 0 {
				t.Errorf("listener stats %+v: packets dropped", st)
			}
			for _, m := range full {
				if m.HEP == nil || m.HEP.Version != 3 {
					t.Fatalf("message not from HEP3: %+v", m.HEP)
				}
			}
			sortMsgs(want)
			sortMsgs(got)
			if len(got) != len(want) {
				t.Errorf("got %d messages, want %d", len(got), len(want))
			}
			for i := 0; i < len(got) && i < len(want); i++ {
				if got[i] != want[i] {
					t.Errorf("message %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
			t.Logf("%d messages through sngrep -H", len(got))
		})
	}
}

// TestHEPToSngrep sends a capture's messages with our --hep-send sender to
// sngrep -L (not written here), which writes what it understood to a pcap;
// that pcap must hold every message with its addresses and bytes.
func TestHEPToSngrep(t *testing.T) {
	sngrep, err := exec.LookPath("sngrep")
	if err != nil {
		t.Skip("sngrep not installed")
	}
	file := filepath.Join("..", "..", "testdata", "sipp", "udp-basic.pcap")
	want, full := decodePath(t, file)
	if len(want) == 0 {
		t.Fatalf("%s: no SIP messages", file)
	}
	port := freePort(t)
	out := filepath.Join(t.TempDir(), "out.pcap")
	cmd := exec.Command(sngrep, "-N", "-q", "-L", fmt.Sprintf("udp:127.0.0.1:%d", port), "-O", out)
	cmd.Env = append(os.Environ(), "TERM=dumb")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(700 * time.Millisecond) // sngrep binds its socket
	o := &hepOptions{send: fmt.Sprintf("udp:127.0.0.1:%d", port), id: 77, name: "agent-x"}
	s, err := o.sender()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range full {
		if err := s.Send(m.Src, m.Dst, 17, m.Time, m.Raw); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	got, _ := decodePath(t, out)
	sortMsgs(want)
	sortMsgs(got)
	if len(got) != len(want) {
		t.Fatalf("sngrep wrote %d messages, want %d (stderr %q)", len(got), len(want), stderr.String())
	}
	for i := range got {
		// sngrep's pcap has its own frame times; addresses and bytes must hold.
		g, w := got[i], want[i]
		g.at, w.at = 0, 0
		if g != w {
			t.Errorf("message %d:\n got %v\nwant %v", i, g, w)
		}
	}
}

func TestHEPFlags(t *testing.T) {
	var o hepOptions
	fs := pflag.NewFlagSet("capture", pflag.ContinueOnError)
	addHEPFlags(fs, &o)
	err := fs.Parse([]string{"--hep-listen", "udp:127.0.0.1:0", "--hep-listen", "tcp:127.0.0.1:0",
		"--hep-password", "pw", "--hep-id", "9", "--hep-name", "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.listen) != 2 || o.password != "pw" || o.id != 9 || o.name != "n1" {
		t.Fatalf("options %+v", o)
	}
	srcs, err := o.listeners(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("%d listeners, want 2", len(srcs))
	}
	closeAll(srcs)
	var f capture.Frame
	if err := srcs[0].Next(&f); !errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
	if s, err := o.sender(); s != nil || err != nil {
		t.Errorf("sender without --hep-send = %v, %v; want nil, nil", s, err)
	}
	for _, bad := range []hepOptions{{listen: []string{"udp:127.0.0.1"}}, {listen: []string{"9060"}}} {
		_, err := bad.listeners(context.Background())
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--hep-listen") {
			t.Errorf("listeners(%q) = %v, want a usage error naming --hep-listen", bad.listen, err)
		}
	}
	bad := hepOptions{send: "http://x"}
	if _, err := bad.sender(); err == nil || !strings.Contains(err.Error(), "--hep-send") {
		t.Errorf("sender(%q) = %v, want an error naming --hep-send", bad.send, err)
	}
}
