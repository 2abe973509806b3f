package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/sipscope/sipscope/store"
)

// TestCaptureHEPChain runs the "more than one machine" set-up in one
// process: sngrep (not written here) replays a capture as HEP to an agent
// (`capture --hep-listen A --hep-send B`), which forwards every message to a
// collector (`capture --hep-listen B --db DB`). The collector's database must
// hold the same dialogs, with the same message counts, as the capture read
// directly.
func TestCaptureHEPChain(t *testing.T) {
	sngrep, err := exec.LookPath("sngrep")
	if err != nil {
		t.Skip("sngrep not installed")
	}
	file := filepath.Join("..", "..", "testdata", "sipp", "register-401.pcap")
	if c := filepath.Join("..", "..", "..", "shared", "corpus", "sngrep", "aaa.pcap"); fileExists(c) {
		file = c
	} else {
		t.Logf("%s absent: using %s", c, file)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "fleet.db")
	agentPort, collPort := freePort(t), freePort(t)
	for collPort == agentPort {
		collPort = freePort(t)
	}
	start := func(args ...string) (context.CancelFunc, chan error, *bytes.Buffer) {
		ctx, cancel := context.WithCancel(context.Background())
		var errOut bytes.Buffer
		io := &streams{Out: &bytes.Buffer{}, ErrOut: &errOut}
		cmd := newCaptureCmd(io)
		cmd.SetArgs(args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		done := make(chan error, 1)
		go func() { done <- cmd.ExecuteContext(ctx) }()
		return cancel, done, &errOut
	}
	stopColl, collDone, collErr := start("--hep-listen", fmt.Sprintf("udp:127.0.0.1:%d", collPort), "--db", db, "-q", "--stats")
	stopAgent, agentDone, agentErr := start("--hep-listen", fmt.Sprintf("udp:127.0.0.1:%d", agentPort),
		"--hep-send", fmt.Sprintf("udp:127.0.0.1:%d", collPort), "--hep-name", "edge-1", "-q")
	waitBoundUDP(t, collPort)
	waitBoundUDP(t, agentPort)
	cmd := exec.Command(sngrep, "-N", "-q", "-I", file, "-H", fmt.Sprintf("udp:127.0.0.1:%d", agentPort))
	cmd.Env = append(os.Environ(), "TERM=dumb")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sngrep: %v: %s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	stopAgent()
	if err := <-agentDone; err != nil {
		t.Fatalf("agent: %v (%s)", err, agentErr)
	}
	time.Sleep(500 * time.Millisecond)
	stopColl()
	if err := <-collDone; err != nil {
		t.Fatalf("collector: %v (%s)", err, collErr)
	}

	// The collector counts what it received, and dropped nothing.
	if !regexp.MustCompile(`HEP: [1-9]\d* packets received, 0 dropped`).Match(collErr.Bytes()) {
		t.Errorf("collector summary %q: want HEP packets received, none dropped", collErr.String())
	}

	want := dialogCounts(t, file, "")
	got := dialogCounts(t, "", db)
	if len(want) == 0 {
		t.Fatalf("%s: no dialogs", file)
	}
	keys := func(m map[string]int) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if !slices.Equal(keys(got), keys(want)) {
		t.Fatalf("collector has dialogs %v, want %v", keys(got), keys(want))
	}
	for id, n := range want {
		if got[id] != n {
			t.Errorf("dialog %s: %d messages through agent and collector, want %d", id, got[id], n)
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// dialogCounts returns messages per Call-ID, read from a capture file or a
// database.
func dialogCounts(t *testing.T, file, db string) map[string]int {
	t.Helper()
	var st *store.Store
	var err error
	if db != "" {
		st, err = store.Open(db, store.Options{ReadOnly: true})
	} else {
		o := &sourceOptions{files: []string{file}, quiet: true}
		var done func()
		st, done, err = openSource(context.Background(), o, dialogsOnly, nil, &streams{ErrOut: &bytes.Buffer{}})
		if err == nil {
			defer done()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if db != "" {
		defer st.Close()
	}
	out := map[string]int{}
	for d, err := range st.Dialogs(context.Background(), store.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		out[d.CallID] = d.Messages
	}
	return out
}
