package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// liveEnv is a network namespace made for one test, with the sipscope binary
// built for it. Live tests need root (a namespace, AF_PACKET) and SIPp.
type liveEnv struct {
	t    *testing.T
	ns   string
	bin  string
	dir  string
	sipp string // folder of the SIPp scenarios
}

func newLiveEnv(t *testing.T, name string) *liveEnv {
	t.Helper()
	// The pid keeps test runs of several worktrees (which share these
	// tests) from deleting each other's namespaces.
	return newLiveEnvNS(t, fmt.Sprintf("live-%s-%d", name, os.Getpid()))
}

// newLiveEnvNS is newLiveEnv with the namespace named ns.
func newLiveEnvNS(t *testing.T, ns string) *liveEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespace, AF_PACKET socket)")
	}
	for _, tool := range []string{"ip", "sipp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("live capture tests need %s (apt-get install iproute2 sip-tester)", tool)
		}
	}
	e := &liveEnv{t: t, ns: ns, dir: t.TempDir()}
	e.sipp, _ = filepath.Abs(filepath.Join("..", "..", "scripts", "sipp"))
	// ip netns exec needs a program to run: build one (cached by go).
	e.bin = filepath.Join(e.dir, "sipscope")
	if out, err := exec.Command("go", "build", "-o", e.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	exec.Command("ip", "netns", "del", e.ns).Run()
	e.ip("netns", "add", e.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.ns).Run() })
	e.ip("-n", e.ns, "link", "set", "lo", "up")
	return e
}

func (e *liveEnv) ip(args ...string) {
	e.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		e.t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// cmd is a command run inside the namespace, in the test's folder.
func (e *liveEnv) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command("ip", append([]string{"netns", "exec", e.ns, name}, args...)...)
	c.Dir = e.dir
	return c
}

// startCapture starts `sipscope capture ARGS` in the namespace and waits
// until its socket is open (the status line is off when piped, so it
// waits for the socket in /proc/net/packet of the namespace).
func (e *liveEnv) startCapture(args ...string) (*exec.Cmd, *bytes.Buffer) {
	e.t.Helper()
	c := e.cmd(e.bin, append([]string{"capture"}, args...)...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	for i := 0; i < 100; i++ {
		out, _ := e.cmd("cat", "/proc/net/packet").Output()
		if bytes.Count(out, []byte("\n")) > 1 {
			// The socket is listed from socket(2) on, before its ring is
			// mapped and bound: under load the first packets of the
			// first call came before the ring (134 of 140 packets).
			time.Sleep(300 * time.Millisecond)
			return c, &stderr
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("sipscope capture did not open its socket: %s", stderr.String())
	return nil, nil
}

// stop sends SIGINT and waits: the capture must flush and exit 0.
func (e *liveEnv) stop(c *exec.Cmd, stderr *bytes.Buffer) {
	e.t.Helper()
	// ip netns exec execs the command, so this is sipscope's own pid.
	c.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			e.t.Fatalf("sipscope capture after SIGINT: %v, want exit 0\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		c.Process.Kill()
		e.t.Fatalf("sipscope capture did not end 20 s after SIGINT\n%s", stderr.String())
	}
}

// sippPair is a SIPp UAS and UAC on one address of the namespace: the UAS
// listens on uas, the UAC sends from uac. Call-IDs are N-PID@ADDR.
type sippPair struct {
	addr     string
	uas, uac int
}

// lo1 is the pair most tests use.
var lo1 = sippPair{"127.0.0.1", 5060, 15060}

// sippCalls runs SIPp UAS and UAC for n basic calls over the namespace's
// loopback (Call-IDs N-PID@127.0.0.1), each held hold ms, and returns once
// the UAC is done (wait false: once SIPp is started, with a func to wait).
func (e *liveEnv) sippCalls(n int) { e.sippStart(n, 100, true)() }

func (e *liveEnv) sippStart(n, hold int, wait bool) func() {
	return e.sippPairStart(lo1, n, hold, wait)
}

func (e *liveEnv) sippPairStart(p sippPair, n, hold int, wait bool) func() {
	e.t.Helper()
	// No timeout(1) wrapper: killing it would leave SIPp running; SIPp's
	// own -timeout bounds each run.
	uas := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uas-basic.xml"),
		"-i", p.addr, "-p", fmt.Sprint(p.uas), "-m", fmt.Sprint(n), "-timeout", "60s")
	if err := uas.Start(); err != nil {
		e.t.Fatal(err)
	}
	listen := fmt.Sprintf("%s:%d", p.addr, p.uas)
	for i := 0; i < 100; i++ {
		out, _ := e.cmd("ss", "-lun").Output()
		if bytes.Contains(out, []byte(listen)) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	uac := e.cmd("sipp", "-nostdin", "-sf", filepath.Join(e.sipp, "uac-basic.xml"),
		listen, "-i", p.addr, "-p", fmt.Sprint(p.uac), "-s", "bob",
		"-l", "5", "-r", "40", "-d", fmt.Sprint(hold), "-m", fmt.Sprint(n), "-timeout", "30s", "-timeout_error")
	var out bytes.Buffer
	uac.Stdout, uac.Stderr = &out, &out
	if err := uac.Start(); err != nil {
		e.t.Fatal(err)
	}
	finish := func() {
		if err := uac.Wait(); err != nil && wait {
			e.t.Fatalf("sipp uac %s: %v\n%s", p.addr, err, out.String())
		}
		uas.Process.Kill()
		uas.Wait()
	}
	if !wait {
		e.t.Cleanup(func() { uac.Process.Kill(); finish() })
		return func() {}
	}
	return finish
}

var callRow = regexp.MustCompile(`(?m)^\d+\s+\S+ \S+\s+call\s+completed\s+200 OK .* (\d+-\d+@127\.0\.0\.\d+)$`)

// storedCalls lists the completed calls in db with `sipscope calls --db`.
func (e *liveEnv) storedCalls(db string) []string {
	e.t.Helper()
	out, err := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, db)).CombinedOutput()
	if err != nil {
		e.t.Fatalf("sipscope calls --db %s: %v\n%s", db, err, out)
	}
	var ids []string
	for _, m := range callRow.FindAllStringSubmatch(string(out), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestCaptureLiveSIPp is the new user's first try: capture on lo while SIPp
// makes 20 calls, Ctrl-C, then `calls --db` lists all 20 — and they are
// listed before Ctrl-C too, since dialogs are stored as they end. -w with
// --rotate-size writes numbered files that together hold every packet.
func TestCaptureLiveSIPp(t *testing.T) {
	e := newLiveEnv(t, "sipp")
	c, stderr := e.startCapture("-i", "lo", "--db", "x.db", "-w", "out.pcap", "--rotate-size", "4K", "--stats")
	e.sippCalls(20)

	// Read while the capture runs: the last dialog ended moments ago.
	var during []string
	for i := 0; i < 40; i++ {
		if during = e.storedCalls("x.db"); len(during) == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(during) != 20 {
		t.Errorf("calls --db during the capture: got %d completed calls, want 20", len(during))
	}
	// SIPp's calls offer and answer SDP and send no RTP: each is stored
	// with its no-media finding as it ends, not only once the capture
	// stops (mediaViews.add).
	out, err := exec.Command(e.bin, "calls", "-q", "--format", "jsonl", "--db", filepath.Join(e.dir, "x.db")).Output()
	if err != nil {
		t.Fatalf("calls --db during the capture: %v", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r struct {
			CallID string `json:"call_id"`
			Worst  string `json:"worst"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("calls --db: %v: %s", err, line)
		}
		if r.Worst != "no-media" {
			t.Errorf("%s during the capture: worst %q, want no-media", r.CallID, r.Worst)
		}
	}
	e.stop(c, stderr)

	ids := e.storedCalls("x.db")
	if len(ids) != 20 {
		t.Fatalf("calls --db after SIGINT: got %d completed calls, want 20\n%s", len(ids), stderr)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[strings.SplitN(id, "-", 2)[0]] = true
	}
	for i := 1; i <= 20; i++ {
		if !seen[fmt.Sprint(i)] {
			t.Errorf("call %d of SIPp not stored", i)
		}
	}
	// "N packets, ..." at exit; 20 calls of 7 messages, one per packet.
	m := regexp.MustCompile(`(\d+) packets, (\d+) SIP messages, (\d+) dialogs .*; (\d+) dropped by the kernel`).
		FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no summary on stderr: %s", stderr)
	}
	if m[1] != "140" || m[2] != "140" || m[4] != "0" {
		t.Errorf("summary %q: want 140 packets, 140 SIP messages, 0 kernel drops", m[0])
	}

	// Rotation: out.1.pcap, out.2.pcap, ... each a readable capture; together
	// every packet once.
	files, _ := filepath.Glob(filepath.Join(e.dir, "out.*.pcap"))
	if len(files) < 3 {
		t.Fatalf("--rotate-size 4K: got %d files, want several: %v", len(files), files)
	}
	total := 0
	for i := 1; i <= len(files); i++ {
		name := filepath.Join(e.dir, fmt.Sprintf("out.%d.pcap", i))
		n := countFrames(t, name)
		if n == 0 {
			t.Errorf("%s: no frames", name)
		}
		total += n
	}
	if total != 140 {
		t.Errorf("rotated files hold %d frames, want 140", total)
	}
}

// TestCaptureFilterKeepsOnePair runs two SIPp pairs side by side in one
// namespace, on different addresses and ports, under a kernel filter that
// names one of them: every call of that pair is stored, and not one packet
// of the other reaches sipscope.
//
// On lo the filter is compiled for Ethernet frames, on any for raw IP.
func TestCaptureFilterKeepsOnePair(t *testing.T) {
	for _, iface := range []string{"lo", "any"} {
		t.Run(iface, func(t *testing.T) { testFilterKeepsOnePair(t, iface) })
	}
}

func testFilterKeepsOnePair(t *testing.T, iface string) {
	e := newLiveEnv(t, "filter")
	kept := sippPair{"127.0.0.2", 5070, 15070}
	other := lo1
	c, stderr := e.startCapture("-i", iface, "--db", "x.db", "--stats",
		"-f", "udp and host 127.0.0.2 and (port 5070 or port 15070)")
	waitOther := e.sippPairStart(other, 20, 100, true)
	waitKept := e.sippPairStart(kept, 20, 100, true)
	waitOther()
	waitKept()
	time.Sleep(300 * time.Millisecond)
	e.stop(c, stderr)

	out, err := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, "x.db")).CombinedOutput()
	if err != nil {
		t.Fatalf("calls --db: %v\n%s", err, out)
	}
	seen := map[string]bool{}
	for _, m := range callRow.FindAllStringSubmatch(string(out), -1) {
		if !strings.HasSuffix(m[1], "@127.0.0.2") {
			t.Errorf("call %s of the filtered-out pair stored", m[1])
			continue
		}
		seen[strings.SplitN(m[1], "-", 2)[0]] = true
	}
	if strings.Contains(string(out), "@127.0.0.1") {
		t.Errorf("calls --db lists calls of 127.0.0.1, which the filter drops:\n%s", out)
	}
	for i := 1; i <= 20; i++ {
		if !seen[fmt.Sprint(i)] {
			t.Errorf("call %d of the kept pair (127.0.0.2) not stored", i)
		}
	}
	// The kernel filter let through exactly the kept pair's 20 x 7 packets.
	m := regexp.MustCompile(`(\d+) packets, (\d+) SIP messages, (\d+) dialogs .*; (\d+) dropped by the kernel`).
		FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no summary on stderr: %s", stderr)
	}
	if m[1] != "140" || m[2] != "140" || m[3] != "20" {
		t.Errorf("summary %q: want 140 packets, 140 SIP messages, 20 dialogs", m[0])
	}
}

// TestCaptureReaders reads lo with 4 sockets in one fanout group while two
// SIPp pairs call: each packet reaches exactly one reader (without the
// group, each socket would see all of them), so the capture counts every
// packet once and stores every call of both pairs.
func TestCaptureReaders(t *testing.T) {
	e := newLiveEnv(t, "readers")
	c, stderr := e.startCapture("-i", "lo", "--readers", "4", "--db", "x.db", "--stats")
	wait1 := e.sippPairStart(lo1, 20, 100, true)
	wait2 := e.sippPairStart(sippPair{"127.0.0.2", 5070, 15070}, 20, 100, true)
	wait1()
	wait2()
	time.Sleep(300 * time.Millisecond)
	e.stop(c, stderr)
	if out, _ := e.cmd("cat", "/proc/net/packet").Output(); bytes.Count(out, []byte("\n")) > 1 {
		t.Errorf("packet sockets left after the capture ended:\n%s", out)
	}
	ids := e.storedCalls("x.db")
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id[strings.Index(id, "@"):]+" "+strings.SplitN(id, "-", 2)[0]] = true
	}
	for _, addr := range []string{"@127.0.0.1", "@127.0.0.2"} {
		for i := 1; i <= 20; i++ {
			if !seen[fmt.Sprintf("%s %d", addr, i)] {
				t.Errorf("call %d%s not stored", i, addr)
			}
		}
	}
	if len(ids) != 40 {
		t.Errorf("got %d completed calls, want 40", len(ids))
	}
	m := regexp.MustCompile(`(\d+) packets, (\d+) SIP messages, (\d+) dialogs .*; (\d+) dropped by the kernel`).
		FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no summary on stderr: %s", stderr)
	}
	if m[1] != "280" || m[2] != "280" || m[4] != "0" {
		t.Errorf("summary %q: want 280 packets (each once), 280 SIP messages, 0 kernel drops", m[0])
	}
}

// TestCaptureAny captures with -i any while SIPp calls over lo: each
// packet is stored once (the loopback's sent copy is dropped in the
// kernel), and -w writes raw IP, since any reads every kind of interface
// from the network header on.
func TestCaptureAny(t *testing.T) {
	e := newLiveEnv(t, "anyc")
	c, stderr := e.startCapture("-i", "any", "--db", "x.db", "-w", "any.pcap", "--stats")
	e.sippCalls(20)
	time.Sleep(300 * time.Millisecond)
	e.stop(c, stderr)
	if ids := e.storedCalls("x.db"); len(ids) != 20 {
		t.Errorf("got %d completed calls, want 20\n%s", len(ids), stderr)
	}
	m := regexp.MustCompile(`(\d+) packets, (\d+) SIP messages`).FindStringSubmatch(stderr.String())
	if m == nil || m[1] != "140" || m[2] != "140" {
		t.Errorf("summary %q: want 140 packets, 140 SIP messages (each once)", stderr)
	}
	src, err := capture.Open([]string{filepath.Join(e.dir, "any.pcap")}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f capture.Frame
	n := 0
	for src.Next(&f) == nil {
		n++
		if f.Link != capture.LinkRaw {
			t.Fatalf("any.pcap frame %d: link type %d, want raw IP (%d)", n, f.Link, capture.LinkRaw)
		}
	}
	if n != 140 {
		t.Errorf("any.pcap: %d frames, want 140", n)
	}
}

func countFrames(t *testing.T, name string) int {
	t.Helper()
	src, err := capture.Open([]string{name}, capture.Options{})
	if err != nil {
		t.Fatalf("open rotated file: %v", err)
	}
	defer src.Close()
	var f capture.Frame
	n := 0
	for {
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n++
	}
	if w := src.Warnings(); len(w) > 0 {
		t.Errorf("%s: %v", name, w)
	}
	return n
}

// TestCaptureSIGINTFlushes stops a capture while three calls are up
// (answered, no BYE yet): the dialogs the correlator holds are stored
// before the process exits 0.
func TestCaptureSIGINTFlushes(t *testing.T) {
	e := newLiveEnv(t, "flush")
	c, stderr := e.startCapture("-i", "lo", "--db", "x.db")
	e.sippStart(3, 20000, false)
	// Each call: INVITE, 100, 180, 200, ACK within ms (3 calls at 40/s),
	// then 20 s of silence.
	time.Sleep(2 * time.Second)
	if got := e.storedCalls("x.db"); len(got) != 0 {
		t.Fatalf("calls stored before SIGINT: %v, want none (no BYE yet)", got)
	}
	e.stop(c, stderr)
	out, err := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, "x.db")).CombinedOutput()
	if err != nil {
		t.Fatalf("calls --db: %v\n%s", err, out)
	}
	rows := regexp.MustCompile(`(?m)^\d+ .* call .*\d+-\d+@127\.0\.0\.1$`).FindAllString(string(out), -1)
	if len(rows) != 3 {
		t.Fatalf("after SIGINT: got %d calls, want the 3 in progress\n%s\n%s", len(rows), out, stderr)
	}
	for _, r := range rows {
		if !strings.Contains(r, "200 OK") {
			t.Errorf("call %q: want its final response 200 OK stored", r)
		}
	}
}

// TestCaptureInterfaceGone deletes the interface under a running capture:
// sipscope exits 1 naming it, and the call captured before is stored.
func TestCaptureInterfaceGone(t *testing.T) {
	e := newLiveEnv(t, "gone")
	// The sender sits in a second namespace: between two addresses of one
	// namespace the kernel would route over lo, not the veth.
	peer := e.ns + "-b"
	exec.Command("ip", "netns", "del", peer).Run()
	e.ip("netns", "add", peer)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", peer).Run() })
	e.ip("-n", e.ns, "link", "add", "live-g1", "type", "veth", "peer", "name", "live-g0", "netns", peer)
	e.ip("-n", peer, "addr", "add", "10.99.0.1/24", "dev", "live-g0")
	e.ip("-n", e.ns, "addr", "add", "10.99.0.2/24", "dev", "live-g1")
	e.ip("-n", peer, "link", "set", "live-g0", "up")
	e.ip("-n", e.ns, "link", "set", "live-g1", "up")
	c, stderr := e.startCapture("-i", "live-g1", "--db", "x.db")
	// One SIP OPTIONS from 10.99.0.1 to 10.99.0.2 crosses the veth pair;
	// nobody answers, which does not matter here.
	msg := "OPTIONS sip:bob@10.99.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.99.0.1:5070;branch=z9hG4bK-live-1\r\n" +
		"From: <sip:alice@10.99.0.1>;tag=1\r\nTo: <sip:bob@10.99.0.2>\r\nCall-ID: live-gone-1\r\n" +
		"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	py := exec.Command("ip", "netns", "exec", peer, "python3", "-c",
		"import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('10.99.0.1',5070)); s.sendto(sys.stdin.buffer.read(),('10.99.0.2',5060))")
	py.Stdin = strings.NewReader(msg)
	if out, err := py.CombinedOutput(); err != nil {
		t.Skipf("python3 to send a datagram: %v %s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	e.ip("-n", e.ns, "link", "del", "live-g1")
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("capture still running 10 s after its interface went away\n%s", stderr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "interface live-g1 went away") {
		t.Errorf("stderr %q: want it to say interface live-g1 went away", stderr)
	}
	out, _ := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, "x.db")).CombinedOutput()
	if !strings.Contains(string(out), "live-gone-1") {
		t.Errorf("calls --db after the interface went away: want live-gone-1 kept\n%s", out)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true}, {"64K", 64 << 10, true}, {"32M", 32 << 20, true}, {"1G", 1 << 30, true},
		{"100MB", 100 << 20, true}, {"2MiB", 2 << 20, true}, {"lots", 0, false}, {"-1M", 0, false}, {"", 0, false},
	} {
		got, err := parseSize("buffer", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q): got %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		var ue *usageError
		if err != nil && !errors.As(err, &ue) {
			t.Errorf("parseSize(%q): error %v is not a usage error", tc.in, err)
		}
	}
}

// TestStatusLine: the status line redraws in place and is cleared at the
// end, so the summary starts on a clean line.
func TestStatusLine(t *testing.T) {
	var b bytes.Buffer
	l := &statusLine{w: &b}
	l.draw(captureStatus{Elapsed: 3 * time.Second, Packets: 140, Messages: 140, Dialogs: 20, Open: 2, KernelDrops: 1, DBSize: 5 << 20})
	want := "\r\033[K3s  140 packets  140 SIP messages  20 dialogs  2 in progress  1 kernel drops  db 5.0 MiB"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	l.draw(captureStatus{Elapsed: time.Second, Packets: 9, Queued: 64 << 20})
	if want := "\r\033[K1s  9 packets  0 SIP messages  0 dialogs  0 in progress  0 kernel drops  queue 64.0 MiB"; b.String() != want {
		t.Errorf("behind: got %q, want %q", b.String(), want)
	}
	l.clear()
	if !strings.HasSuffix(b.String(), "\r\033[K") {
		t.Errorf("clear: got %q, want the line erased", b.String())
	}
}
