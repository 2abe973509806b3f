package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCaptureLiveMedia: `capture --db` while SIPp makes three calls in a
// row, each side playing G.711 audio (scripts/sipp/uac-media.xml and
// uas-media.xml, sip-tester's g711a.pcap cut by scripts/rtpmangle): before
// the capture ends, `calls --db` shows the media of the calls that ended
// (their streams are stored as they end, not at exit), and after it every
// call has its two streams with the packets played.
func TestCaptureLiveMedia(t *testing.T) {
	if testing.Short() {
		t.Skip("a live capture of three SIPp calls with audio (about 10 s)")
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespace, AF_PACKET socket)")
	}
	for _, tool := range []string{"ip", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("live capture tests need %s (apt-get install iproute2 sip-tester)", tool)
		}
	}
	rec := "/usr/share/sip-tester/g711a.pcap"
	if _, err := os.Stat(rec); err != nil {
		t.Skipf("needs sip-tester's RTP recording %s (apt-get install sip-tester)", rec)
	}
	// liveEnv with a namespace of this branch's name (rtp-...).
	e := &liveEnv{t: t, ns: "rtp-live", dir: t.TempDir()}
	e.sipp, _ = filepath.Abs(filepath.Join("..", "..", "scripts", "sipp"))
	e.bin = filepath.Join(e.dir, "sipscope")
	if out, err := exec.Command("go", "build", "-o", e.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mangle := filepath.Join(e.dir, "rtpmangle")
	if out, err := exec.Command("go", "build", "-o", mangle, "../../scripts/rtpmangle").CombinedOutput(); err != nil {
		t.Fatalf("go build rtpmangle: %v\n%s", err, out)
	}
	// 50 packets of 30 ms: 1.5 s of audio each way.
	for _, side := range []string{"caller", "callee"} {
		if out, err := exec.Command(mangle, "-o", filepath.Join(e.dir, side+".pcap"), rec+"@1-50").CombinedOutput(); err != nil {
			t.Fatalf("rtpmangle: %v\n%s", err, out)
		}
	}
	// SIPp opens every recording its scenario names when it loads it,
	// the digit ones of `-key dtmf yes` too (scripts/mkmedia.sh copies them
	// the same way).
	for to, from := range map[string]string{"dtmf1.pcap": "dtmf_2833_1.pcap", "dtmf5.pcap": "dtmf_2833_5.pcap", "dtmfpound.pcap": "dtmf_2833_pound.pcap"} {
		if out, err := exec.Command("cp", filepath.Join(filepath.Dir(rec), from), filepath.Join(e.dir, to)).CombinedOutput(); err != nil {
			t.Skipf("needs sip-tester's digit recordings: %v %s", err, out)
		}
	}
	exec.Command("ip", "netns", "del", e.ns).Run()
	e.ip("netns", "add", e.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.ns).Run() })
	e.ip("-n", e.ns, "link", "set", "lo", "up")
	e.ip("-n", e.ns, "addr", "add", "127.0.0.2/8", "dev", "lo")

	c, stderr := e.startCapture("-i", "lo", "--db", "x.db")
	const calls = 3
	uas := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uas-media.xml"), "-i", "127.0.0.2", "-p", "5060",
		"-mi", "127.0.0.2", "-mp", "20000", "-m", fmt.Sprint(calls), "-timeout", "60s", "-key", "play", "yes")
	if err := uas.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uas.Process.Kill(); uas.Wait() })
	for i := 0; i < 100; i++ {
		if out, _ := e.cmd("ss", "-lun").Output(); bytes.Contains(out, []byte("127.0.0.2:5060")) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One call at a time (-l 1), each held 500 ms after its audio.
	uac := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uac-media.xml"), "127.0.0.2:5060",
		"-i", "127.0.0.1", "-p", "5060", "-mi", "127.0.0.1", "-mp", "10000", "-s", "bob", "-l", "1", "-m", fmt.Sprint(calls),
		"-d", "500", "-timeout", "40s", "-timeout_error", "-key", "sdpip", "127.0.0.1", "-key", "info", "no", "-key", "dtmf", "no")
	var uacOut bytes.Buffer
	uac.Stdout, uac.Stderr = &uacOut, &uacOut
	if err := uac.Start(); err != nil {
		t.Fatal(err)
	}
	if err := uac.Wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, uacOut.String())
	}
	// Calls 1 and 2 ended while the next call's packets went by: their
	// streams are in the database though the capture runs on. The last
	// call's wait for the end of the capture (no packet moves the clock
	// past its Linger).
	var during map[string]int
	for i := 0; i < 30; i++ {
		if during = storedMedia(t, e); countAtLeast(during, 2) >= calls-1 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("during the capture, streams per call: %v", during)
	if n := countAtLeast(during, 2); n < calls-1 {
		t.Errorf("calls --db during the capture: %d calls with their 2 streams (%v), want at least %d (those that ended before the last)", n, during, calls-1)
	}
	e.stop(c, stderr)
	after := storedMedia(t, e)
	if len(after) != calls || countAtLeast(after, 2) != calls {
		t.Fatalf("calls --db after the capture: got %v, want %d calls with 2 streams each", after, calls)
	}
	out, err := exec.Command(e.bin, "media", "--db", filepath.Join(e.dir, "x.db"), "--format", "jsonl").Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s struct {
			CallID  string `json:"call_id"`
			Packets int    `json:"packets"`
			Lost    int    `json:"lost"`
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatal(err)
		}
		n++
		if s.CallID == "" || s.Packets != 50 || s.Lost != 0 {
			t.Errorf("stream %s: got call %q, %d packets, %d lost; want its call, 50, 0", line, s.CallID, s.Packets, s.Lost)
		}
	}
	if n != 2*calls {
		t.Errorf("media --db: got %d streams, want %d", n, 2*calls)
	}
}

// storedMedia returns, per call in the live database, how many streams
// `calls --db --format jsonl` lists under media.
func storedMedia(t *testing.T, e *liveEnv) map[string]int {
	t.Helper()
	out, err := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, "x.db"), "--format", "jsonl").Output()
	if err != nil {
		t.Fatalf("calls --db: %v", err)
	}
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var r struct {
			CallID string            `json:"call_id"`
			Kind   string            `json:"kind"`
			Media  []json.RawMessage `json:"media"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("calls line %q: %v", line, err)
		}
		if r.Kind == "call" {
			got[r.CallID] = len(r.Media)
		}
	}
	return got
}

func countAtLeast(m map[string]int, n int) int {
	c := 0
	for _, v := range m {
		if v >= n {
			c++
		}
	}
	return c
}
