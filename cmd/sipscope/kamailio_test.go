package main

import (
	"bytes"
	"context"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/store"
)

// TestKamailioSiptrace is how Kamailio users get readable SIP: Kamailio (not
// written here; Debian's kamailio with its siptrace module and
// scripts/kamailio/siptrace.cfg) proxies 20 SIPp calls, UAC -> Kamailio ->
// UAS, and mirrors every message it receives and sends as HEPv3 to
// `sipscope capture --hep-listen`. Every call must be stored complete with
// both legs (each message once per leg, with the addresses of that leg), and
// the capture id Kamailio was given kept on every message.
func TestKamailioSiptrace(t *testing.T) {
	if _, err := exec.LookPath("kamailio"); err != nil {
		t.Skip("kamailio not installed (apt-get install kamailio)")
	}
	e := newLiveEnv(t, "kam")
	cfg, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "kamailio", "siptrace.cfg"))
	if out, err := exec.Command("kamailio", "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c -f %s: %v\n%s", cfg, err, out)
	}

	c := e.cmd(e.bin, "capture", "--hep-listen", "udp:127.0.0.1:9060", "--hep-password", "kam-secret",
		"--db", "x.db", "--stats")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	e.waitUDP("127.0.0.1:9060")

	kam := e.cmd("kamailio", "-f", cfg, "-DD", "-E", "-Y", e.dir,
		"-A", `HEP_DEST="sip:127.0.0.1:9060"`, "-A", "HEP_ID=4711", "-A", `HEP_KEY="kam-secret"`)
	var kamOut bytes.Buffer
	kam.Stdout, kam.Stderr = &kamOut, &kamOut
	if err := kam.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// -DD keeps kamailio in the foreground: SIGTERM ends it and its children.
		kam.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { kam.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			kam.Process.Kill()
			<-done
		}
	})
	e.waitUDP("127.0.0.1:5070")

	// UAS on 5080; the UAC on 15060 addresses it but sends through the proxy
	// (-rsa), which record-routes, so ACK and BYE go through it too.
	uas := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uas-basic.xml"),
		"-i", "127.0.0.1", "-p", "5080", "-m", "20", "-timeout", "60s")
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { uas.Process.Kill(); uas.Wait() }()
	e.waitUDP("127.0.0.1:5080")
	uac := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uac-basic.xml"), "127.0.0.1:5080",
		"-rsa", "127.0.0.1:5070", "-i", "127.0.0.1", "-p", "15060", "-s", "bob",
		"-l", "5", "-r", "40", "-d", "100", "-m", "20", "-timeout", "30s", "-timeout_error")
	if out, err := uac.CombinedOutput(); err != nil {
		t.Fatalf("sipp uac through kamailio: %v\n%s\nkamailio: %s", err, out, kamOut.String())
	}
	// The last HEP packets reach the listener and the last dialog is
	// committed (within 200 ms) shortly after SIPp is done.
	for i := 0; i < 50 && len(e.storedCalls("x.db")) < 20; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGINT)
	if err := c.Wait(); err != nil {
		t.Fatalf("capture after SIGINT: %v\n%s", err, stderr.String())
	}
	// Nothing Kamailio sent was refused: the password matched, all was HEP.
	if !regexp.MustCompile(`HEP: [1-9]\d* packets received, 0 dropped`).Match(stderr.Bytes()) {
		t.Errorf("summary %q: want HEP packets received and none dropped", stderr.String())
	}

	st, err := store.Open(filepath.Join(e.dir, "x.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	uacAddr := netip.MustParseAddrPort("127.0.0.1:15060")
	proxy := netip.MustParseAddrPort("127.0.0.1:5070")
	uasAddr := netip.MustParseAddrPort("127.0.0.1:5080")
	calls := 0
	for d, err := range st.Dialogs(ctx, store.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if d.Kind != correlate.KindCall || d.State != correlate.StateCompleted {
			t.Errorf("dialog %s: %s %s, want a completed call", d.CallID, d.Kind, d.State)
		}
		msgs, err := st.Messages(ctx, []string{d.CallID})
		if err != nil {
			t.Fatal(err)
		}
		// 7 messages (INVITE 100 180 200 ACK BYE 200) on each of 2 legs.
		if len(msgs) != 14 {
			t.Errorf("dialog %s: %d messages, want 14 (7 on each leg)", d.CallID, len(msgs))
		}
		legs := map[string]int{}
		for _, m := range msgs {
			if m.HEP == nil || m.HEP.Version != 3 || m.HEP.AgentID != 4711 {
				t.Errorf("dialog %s message %d: HEP %+v, want version 3, capture id 4711", d.CallID, m.Seq, m.HEP)
				continue
			}
			if m.Method == "INVITE" {
				legs[m.Src.String()+" > "+m.Dst.String()]++
			}
		}
		for _, leg := range [][2]netip.AddrPort{{uacAddr, proxy}, {proxy, uasAddr}} {
			if k := leg[0].String() + " > " + leg[1].String(); legs[k] != 1 {
				t.Errorf("dialog %s: INVITE %s seen %d times, want once (legs %v)", d.CallID, k, legs[k], legs)
			}
		}
	}
	if calls != 20 {
		t.Errorf("got %d dialogs, want the 20 calls SIPp made through kamailio\n%s", calls, stderr.String())
	}
}

// waitUDP waits until something in the namespace listens on addr (UDP).
func (e *liveEnv) waitUDP(addr string) {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		out, _ := e.cmd("ss", "-lun").Output()
		if bytes.Contains(out, []byte(addr)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("nothing listens on udp %s in %s", addr, e.ns)
}
