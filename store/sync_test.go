package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestUnsyncedFirstWriter checks that only the first Writer of a database
// its Store created skips syncing, and that its rows are there after Close.
func TestUnsyncedFirstWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, msgs := makeCall(t, callSpec{callID: "a", from: "alice", to: "bob", final: 200, start: t0})
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !w.unsynced {
		t.Error("first Writer of a new database: unsynced false, want true")
	}
	if err := w.Dialog(d, msgs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w2.unsynced {
		t.Error("second Writer: unsynced true, want false")
	}
	w2.Abort()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w3, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w3.unsynced {
		t.Error("Writer of an existing database: unsynced true, want false")
	}
	w3.Abort()
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM messages`).Scan(&n); err != nil || n != len(msgs) {
		t.Errorf("messages after reopening: got %d (%v), want %d", n, err, len(msgs))
	}
}
