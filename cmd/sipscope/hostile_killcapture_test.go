package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileKillCapture SIGKILLs a live `sipscope capture --db` at random
// moments while SIPp makes calls in a network namespace, several times
// into the same database (each capture opens what the last kill left).
// After each kill the database passes PRAGMA integrity_check, holds every
// dialog seen committed just before the kill (the live sink commits
// within 200 ms of a dialog's end), every dialog it holds is whole (the 7
// messages of a SIPp call), and `calls --db` opens it and lists them.
func TestHostileKillCapture(t *testing.T) {
	e := newLiveEnvNS(t, fmt.Sprintf("hostile2-kill-%d", os.Getpid()))
	db := filepath.Join(e.dir, "x.db")
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	midway := 0 // kills with some of the round's calls committed, not all
	prev := 0   // dialogs stored before the round
	for round := range rounds {
		c, stderr := e.startCapture("-i", "lo", "--db", "x.db", "-q")
		e.sippStart(30, 300, false)
		// SIPp's 30 calls (5 at a time, 300 ms each) take about 2 s:
		// kill before, during or after their end.
		time.Sleep(time.Duration(200+r.IntN(1800)) * time.Millisecond)
		seen := committedNow(db)
		c.Process.Signal(syscall.SIGKILL)
		err := c.Wait()
		if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); err == nil || !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: capture ended with %v, want killed by SIGKILL\n%s", round, err, stderr)
		}
		got := readDB(t, db)
		if got.integrity != "ok" {
			t.Fatalf("round %d: integrity_check after the kill says %q", round, got.integrity)
		}
		for id := range seen {
			if _, ok := got.dialogs[id]; !ok {
				t.Fatalf("round %d: dialog %s was committed before the kill and is gone", round, id)
			}
		}
		for id, n := range got.dialogs {
			if n != 7 {
				t.Errorf("round %d: dialog %s holds %d messages, want the whole call's 7", round, id, n)
			}
		}
		listed := e.storedCalls("x.db") // fails the test unless calls --db exits 0
		if len(listed) != len(got.dialogs) {
			t.Errorf("round %d: calls --db lists %d completed calls, the database holds %d dialogs", round, len(listed), len(got.dialogs))
		}
		t.Logf("round %d: %d dialogs committed when killed, %d stored in all", round, len(seen), len(got.dialogs))
		if n := len(seen) - prev; n > 0 && n < 30 {
			midway++
		}
		prev = len(got.dialogs)
		// The next round's SIPp needs the ports: wait for this one's end.
		e.waitSIPpGone()
	}
	if got := readDB(t, db); len(got.dialogs) == 0 {
		t.Fatal("no dialog was ever stored: the kills came too early to test anything")
	}
	t.Logf("%d of %d kills came with dialogs committed and others in progress", midway, rounds)
}

// waitSIPpGone waits (at most 65 s, SIPp's own -timeout) until the SIPp
// UAS no longer listens in the namespace.
func (e *liveEnv) waitSIPpGone() {
	e.t.Helper()
	for i := 0; i < 650; i++ {
		out, _ := e.cmd("ss", "-lun").Output()
		if !strings.Contains(string(out), fmt.Sprintf("%s:%d", lo1.addr, lo1.uas)) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatal("SIPp still runs 65 s after its calls")
}
