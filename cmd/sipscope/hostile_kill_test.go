package main

import (
	"bufio"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
)

// writeCalls writes a pcap of n complete calls (INVITE, 100, 180, 200, ACK,
// BYE, 200 over UDP), one started every 2 ms, each lasting 50 ms: enough
// dialogs for an import to take a while and commit many batches.
func writeCalls(t *testing.T, path string, n int) { writeCallsNamed(t, path, "kill", n) }

// writeCallsNamed is writeCalls with Call-IDs PREFIX-N@192.0.2.1.
func writeCallsNamed(t *testing.T, path, prefix string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := capture.NewWriter(bw, "pcap")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	type pkt struct {
		at  time.Duration
		buf []byte
	}
	var window []pkt
	id := uint16(0)
	emit := func(upTo time.Duration) {
		// The window is small: a selection sort by time is enough.
		for len(window) > 0 {
			j := 0
			for i := range window {
				if window[i].at < window[j].at {
					j = i
				}
			}
			if window[j].at > upTo {
				return
			}
			fr := &capture.Frame{Time: start.Add(window[j].at), Link: capture.LinkEthernet, Data: window[j].buf, OrigLen: len(window[j].buf)}
			if err := w.WriteFrame(fr); err != nil {
				t.Fatal(err)
			}
			window = append(window[:j], window[j+1:]...)
		}
	}
	for c := range n {
		t0 := time.Duration(c) * 2 * time.Millisecond
		cid := fmt.Sprintf("%s-%d@192.0.2.1", prefix, c)
		hdr := func(first, branch, cseq, totag string) string {
			to := "<sip:bob@example.com>"
			if totag != "" {
				to += ";tag=" + totag
			}
			return first + "\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + branch +
				"\r\nFrom: <sip:alice@example.com>;tag=a" + fmt.Sprint(c) + "\r\nTo: " + to +
				"\r\nCall-ID: " + cid + "\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n"
		}
		msgs := []struct {
			at       time.Duration
			src, dst byte
			text     string
		}{
			{0, 1, 2, hdr("INVITE sip:bob@example.com SIP/2.0", "i"+fmt.Sprint(c), "1 INVITE", "")},
			{time.Millisecond, 2, 1, hdr("SIP/2.0 100 Trying", "i"+fmt.Sprint(c), "1 INVITE", "")},
			{3 * time.Millisecond, 2, 1, hdr("SIP/2.0 180 Ringing", "i"+fmt.Sprint(c), "1 INVITE", "b1")},
			{10 * time.Millisecond, 2, 1, hdr("SIP/2.0 200 OK", "i"+fmt.Sprint(c), "1 INVITE", "b1")},
			{11 * time.Millisecond, 1, 2, hdr("ACK sip:bob@example.com SIP/2.0", "a"+fmt.Sprint(c), "1 ACK", "b1")},
			{50 * time.Millisecond, 1, 2, hdr("BYE sip:bob@example.com SIP/2.0", "b"+fmt.Sprint(c), "2 BYE", "b1")},
			{51 * time.Millisecond, 2, 1, hdr("SIP/2.0 200 OK", "b"+fmt.Sprint(c), "2 BYE", "b1")},
		}
		for _, m := range msgs {
			id++
			window = append(window, pkt{t0 + m.at, udpFrame(m.src, m.dst, id, []byte(m.text))})
		}
		emit(t0)
	}
	emit(time.Hour)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// dbState reads what a database holds: its integrity check, each dialog's
// Call-ID with its stored message count, and the message total.
type dbState struct {
	integrity string
	dialogs   map[string]int
	messages  int
}

// hasSchema says whether path holds sipscope's tables (a kill during the
// first migration leaves an empty SQLite file).
func hasSchema(t *testing.T, path string) bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'dialogs'`).Scan(&n); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n > 0
}

func readDB(t *testing.T, path string) dbState {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := dbState{dialogs: map[string]int{}}
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&st.integrity); err != nil {
		t.Fatalf("%s: integrity_check: %v", path, err)
	}
	rows, err := db.Query(`SELECT d.call_id, (SELECT count(*) FROM messages m WHERE m.dialog_id = d.id) FROM dialogs d`)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		if _, dup := st.dialogs[id]; dup {
			t.Errorf("%s: Call-ID %s stored twice", path, id)
		}
		st.dialogs[id] = n
		st.messages += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return st
}

// committedNow reads, while an import runs, the Call-IDs committed so far
// (WAL: a reader sees committed batches only). An error (the database not
// made yet) gives none.
func committedNow(path string) map[string]bool {
	out := map[string]bool{}
	if _, err := os.Stat(path); err != nil {
		return out
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(2000)")
	if err != nil {
		return out
	}
	defer db.Close()
	rows, err := db.Query(`SELECT call_id FROM dialogs`)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			out[id] = true
		}
	}
	return out
}

// TestHostileKillImport SIGKILLs `sipscope import` at random moments, many
// times: after each kill the database passes PRAGMA integrity_check and
// holds every dialog seen committed just before the kill; then the same
// import run again completes it (exit 0) with every dialog once and every
// message once, as a clean import stores them. Some rounds kill the re-run
// too before letting one finish.
func TestHostileKillImport(t *testing.T) {
	bin := buildSipscope(t)
	dir := t.TempDir()
	capFile := filepath.Join(dir, "calls.pcap")
	const calls = 5000
	writeCalls(t, capFile, calls)

	ref := filepath.Join(dir, "ref.db")
	begin := time.Now()
	if out, err := exec.Command(bin, "import", "-q", capFile, "--db", ref).CombinedOutput(); err != nil {
		t.Fatalf("reference import: %v\n%s", err, out)
	}
	full := time.Since(begin)
	want := readDB(t, ref)
	if want.integrity != "ok" || len(want.dialogs) != calls || want.messages != 7*calls {
		t.Fatalf("reference import: integrity %q, %d dialogs, %d messages", want.integrity, len(want.dialogs), want.messages)
	}
	t.Logf("a clean import takes %v", full)

	rounds := 8
	if testing.Short() {
		rounds = 3
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	killedMidway := 0
	// Kill times are random: on a fast or a loaded machine a round can
	// miss the middle of the import, so rounds go on (up to 4x) until at
	// least one kill has landed mid-import.
	round := 0
	for ; round < rounds || (killedMidway == 0 && round < 4*rounds); round++ {
		db := filepath.Join(dir, fmt.Sprintf("kill-%d.db", round))
		kills := 1 + r.IntN(2)
		for k := range kills {
			cmd := exec.Command(bin, "import", "-q", capFile, "--db", db)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(r.Int64N(int64(full) * 11 / 10)))
			seen := committedNow(db)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			if err == nil {
				continue // it finished before the kill
			}
			if len(seen) > 0 && len(seen) < calls {
				killedMidway++
			}
			if _, serr := os.Stat(db); serr != nil || !hasSchema(t, db) {
				// Killed before the database was made, or before its
				// schema's first transaction committed: `calls --db` says
				// it is not a sipscope database, and the re-run below
				// makes it.
				continue
			}
			got := readDB(t, db)
			if got.integrity != "ok" {
				t.Fatalf("round %d kill %d: integrity_check says %q", round, k, got.integrity)
			}
			for id := range seen {
				if _, ok := got.dialogs[id]; !ok {
					t.Fatalf("round %d kill %d: dialog %s was committed before the kill and is gone", round, k, id)
				}
			}
			for id, n := range got.dialogs {
				if n != want.dialogs[id] {
					t.Fatalf("round %d kill %d: dialog %s holds %d messages after the kill, a whole one %d", round, k, id, n, want.dialogs[id])
				}
			}
		}
		out, err := exec.Command(bin, "import", capFile, "--db", db).CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: the re-run failed: %v\n%s", round, err, out)
		}
		got := readDB(t, db)
		if got.integrity != "ok" || len(got.dialogs) != len(want.dialogs) || got.messages != want.messages {
			t.Fatalf("round %d: after the re-run: integrity %q, %d dialogs, %d messages; want ok, %d, %d\n%s",
				round, got.integrity, len(got.dialogs), got.messages, len(want.dialogs), want.messages, out)
		}
		for id, n := range want.dialogs {
			if got.dialogs[id] != n {
				t.Fatalf("round %d: dialog %s has %d messages after the re-run, want %d", round, id, got.dialogs[id], n)
			}
		}
		// A third run knows the file is complete.
		if out, err := exec.Command(bin, "import", capFile, "--db", db).CombinedOutput(); err != nil || !strings.Contains(string(out), "already imported") {
			t.Fatalf("round %d: a third import: %v\n%s", round, err, out)
		}
		os.Remove(db)
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
	}
	if killedMidway == 0 {
		t.Errorf("no kill of %d rounds landed in the middle of an import: the test saw nothing", round)
	}
	t.Logf("%d rounds, %d kills in the middle of an import", round, killedMidway)
}
