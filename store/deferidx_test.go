package store

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"
)

func indexNames(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'dialogs' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestDeferIndexes: a Writer of a new store with DeferIndexes drops the
// random-order indexes of dialogs and Close builds them again; a Writer
// that never closed (a killed import) leaves them to the next Open that
// may write; a store with dialogs keeps its indexes while it is written.
func TestDeferIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "defer.db")
	s, err := Open(path, Options{DeferIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	want := indexNames(t, s)
	if !slices.Contains(want, "dialogs_page_duration") {
		t.Fatalf("indexes %v lack dialogs_page_duration", want)
	}
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !w.deferred {
		t.Fatal("a new store's Writer did not defer its indexes")
	}
	during := indexNames(t, s)
	if slices.Contains(during, "dialogs_page_duration") || !slices.Contains(during, "dialogs_start") {
		t.Fatalf("indexes while writing: %v", during)
	}
	d, msgs := makeCall(t, callSpec{callID: "defer-1", from: "a", to: "b", final: 200, start: t0})
	if err := w.Dialog(d, msgs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := indexNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("indexes after Close: %v, want %v", got, want)
	}

	// A store with dialogs: nothing deferred.
	w, err = s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w.deferred {
		t.Fatal("a Writer of a store with dialogs deferred its indexes")
	}
	w.Close()
	s.Close()

	// A killed import: the list stays until the next Open that may write.
	path2 := filepath.Join(t.TempDir(), "killed.db")
	s2, err := Open(path2, Options{DeferIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := openRaw(path2, pragmas(s2.opts))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := deferIndexes(c); err != nil || !ok {
		t.Fatalf("deferIndexes: %v %v", ok, err)
	}
	c.close()
	s2.Close()
	ro, err := Open(path2, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := indexNames(t, ro); slices.Equal(got, want) {
		t.Fatal("no index was deferred")
	}
	ro.Close()
	s3, err := Open(path2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if got := indexNames(t, s3); !slices.Equal(got, want) {
		t.Fatalf("indexes after reopening: %v, want %v", got, want)
	}
}

// TestDeferIndexesNoTempFile: when the build with its sorter's runs in
// temporary files fails for want of one, Close builds the indexes again with
// the runs in memory, and the import succeeds.
func TestDeferIndexesNoTempFile(t *testing.T) {
	ctx := context.Background()
	real := buildDeferred
	var tries []bool
	buildDeferred = func(s *Store, runsToFile bool) error {
		tries = append(tries, runsToFile)
		if runsToFile {
			return &rawError{code: sqlite3.SQLITE_CANTOPEN, msg: "unable to open database file"}
		}
		return real(s, runsToFile)
	}
	defer func() { buildDeferred = real }()
	s, err := Open(filepath.Join(t.TempDir(), "notemp.db"), Options{DeferIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := indexNames(t, s)
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, msgs := makeCall(t, callSpec{callID: "notemp-1", from: "a", to: "b", final: 200, start: t0})
	if err := w.Dialog(d, msgs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !slices.Equal(tries, []bool{true, false}) {
		t.Fatalf("builds (runs to file?) %v, want [true false]", tries)
	}
	if got := indexNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("indexes after Close: %v, want %v", got, want)
	}

	// Another error is not retried: it is the import's.
	tries = nil
	buildDeferred = func(s *Store, runsToFile bool) error {
		tries = append(tries, runsToFile)
		return &rawError{code: sqlite3.SQLITE_CORRUPT, msg: "database disk image is malformed"}
	}
	s2, err := Open(filepath.Join(t.TempDir(), "corrupt.db"), Options{DeferIndexes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	w2, err := s2.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err == nil || !strings.Contains(err.Error(), "build indexes: database disk image is malformed") {
		t.Fatalf("Close: %v, want the build's error", err)
	}
	if !slices.Equal(tries, []bool{true}) {
		t.Fatalf("builds %v, want [true]", tries)
	}
}
