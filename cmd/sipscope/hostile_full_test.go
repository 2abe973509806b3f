package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileDiskFull imports a small capture, then a large one, into a
// database on a 4 MiB tmpfs: the second import stops with one clear line
// naming --db and saying the disk is full (exit 1); the database opens,
// passes integrity_check, holds every dialog of the first import and only
// whole dialogs of the second; and once the filesystem is larger the same
// import completes it, as a clean import would store it. Needs root
// (mount); skipped without.
func TestHostileDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a size-limited tmpfs")
	}
	if testing.Short() {
		t.Skip("imports thousands of calls; skipped with -short")
	}
	dir := t.TempDir()
	capFile := filepath.Join(dir, "calls.pcap")
	writeCalls(t, capFile, 3000)
	small := filepath.Join(dir, "small.pcap")
	writeCallsNamed(t, small, "first", 100)
	ref := filepath.Join(dir, "ref.db")
	for _, f := range []string{small, capFile} {
		if code := run([]string{"import", "-q", f, "--db", ref}, &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}); code != exitOK {
			t.Fatalf("reference import: exit %d", code)
		}
	}
	want := readDB(t, ref)

	mnt := filepath.Join(os.TempDir(), fmt.Sprintf("hostile-full-%d", os.Getpid()))
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "hostile-full", mnt).CombinedOutput(); err != nil {
		os.Remove(mnt)
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("umount", mnt).Run()
		os.Remove(mnt)
	})
	db := filepath.Join(mnt, "calls.db")
	var errOut bytes.Buffer
	if code := run([]string{"import", "-q", small, "--db", db}, &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("the small import does not fit in 8 MiB: exit %d: %s", code, errOut.String())
	}
	code := run([]string{"import", "-q", capFile, "--db", db}, &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut})
	msg := strings.TrimSpace(errOut.String())
	if code != exitError || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "--db "+db) || !strings.Contains(msg, "disk is full") {
		t.Fatalf("import onto a full disk: exit %d, %q; want exit 1 and one line naming --db and the full disk", code, msg)
	}
	t.Log(msg)
	{
		got := readDB(t, db)
		if got.integrity != "ok" {
			t.Fatalf("after the full disk: integrity_check says %q", got.integrity)
		}
		for id, n := range got.dialogs {
			if n != want.dialogs[id] {
				t.Fatalf("after the full disk: dialog %s holds %d messages, a whole one %d", id, n, want.dialogs[id])
			}
		}
		var out bytes.Buffer
		var cerr bytes.Buffer
		if code := run([]string{"calls", "--db", db, "--format", "jsonl"}, &streams{In: strings.NewReader(""), Out: &out, ErrOut: &cerr}); code != exitOK || strings.Count(out.String(), "\n") != len(got.dialogs) {
			t.Fatalf("calls --db after the full disk: exit %d, %d lines, want %d dialogs: %s", code, strings.Count(out.String(), "\n"), len(got.dialogs), cerr.String())
		}
		for i := range 100 {
			if _, ok := got.dialogs[fmt.Sprintf("first-%d@192.0.2.1", i)]; !ok {
				t.Fatalf("after the full disk: dialog first-%d of the first import is gone", i)
			}
		}
		t.Logf("%d dialogs kept on the full disk", len(got.dialogs))
	}
	if out, err := exec.Command("mount", "-o", "remount,size=256m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	errOut.Reset()
	if code := run([]string{"import", capFile, "--db", db}, &streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("import again with room: exit %d: %s", code, errOut.String())
	}
	got := readDB(t, db)
	if got.integrity != "ok" || len(got.dialogs) != len(want.dialogs) || got.messages != want.messages {
		t.Fatalf("after completing: integrity %q, %d dialogs, %d messages; want ok, %d, %d", got.integrity, len(got.dialogs), got.messages, len(want.dialogs), want.messages)
	}
}
