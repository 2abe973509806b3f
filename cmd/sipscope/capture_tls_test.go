package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestCaptureLiveTLS captures SIP over TLS live while the peers (Go's
// crypto/tls, scripts/tlspeer) write the key log: the file is empty when
// the capture starts, and the calls are still decrypted and stored, since
// the capture re-reads the key log when it meets a session without keys.
func TestCaptureLiveTLS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture tests need root (network namespace, AF_PACKET socket)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture tests need ip (apt-get install iproute2)")
	}
	e := &liveEnv{t: t, ns: "tls-live", dir: t.TempDir()}
	e.bin = filepath.Join(e.dir, "sipscope")
	peer := filepath.Join(e.dir, "tlspeer")
	for bin, pkg := range map[string]string{e.bin: ".", peer: "../../scripts/tlspeer"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	exec.Command("ip", "netns", "del", e.ns).Run()
	e.ip("netns", "add", e.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", e.ns).Run() })
	e.ip("-n", e.ns, "link", "set", "lo", "up")
	keys := filepath.Join(e.dir, "keys.txt")
	if err := os.WriteFile(keys, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	c, stderr := e.startCapture("-i", "lo", "--db", "x.db", "--keylog", keys)
	srv := e.cmd(peer, "-server", "-addr", "127.0.0.1:5061", "-keylog", keys, "-serve", "2")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	time.Sleep(300 * time.Millisecond)
	for _, v := range []string{"1.3", "1.2"} {
		if out, err := e.cmd(peer, "-addr", "127.0.0.1:5061", "-keylog", keys, "-tls", v, "-calls", "2").CombinedOutput(); err != nil {
			t.Fatalf("tlspeer client TLS %s: %v\n%s", v, err, out)
		}
	}
	srv.Wait()
	time.Sleep(500 * time.Millisecond)
	e.stop(c, stderr)

	out, err := exec.Command(e.bin, "calls", "--db", filepath.Join(e.dir, "x.db")).CombinedOutput()
	if err != nil {
		t.Fatalf("calls --db: %v\n%s", err, out)
	}
	got := regexp.MustCompile(`(?m)\bcall\s+completed\s+200 OK .* tls-\d-\d-[0-9a-f]+@127\.0\.0\.1$`).FindAllString(string(out), -1)
	if len(got) != 4 {
		t.Errorf("got %d completed TLS calls, want 4 (2 over TLS 1.3, 2 over TLS 1.2)\n%s\n%s", len(got), out, stderr)
	}
}
