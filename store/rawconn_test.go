package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// TestRawConn checks the Writer's connection against what database/sql
// does with the same values: "" is text, not NULL; a nil []byte is NULL;
// a value larger than its buffer grows it; a constraint error keeps its
// code (isUnique); Scan converts as Row.Scan does; no row is ErrNoRows.
func TestRawConn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raw.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := openRaw(filepath.Join(t.TempDir(), "none.db"), nil); err == nil {
		t.Error("opening a missing database: got no error")
	}
	c, err := openRaw(path, pragmas(s.opts))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx := context.Background()
	if _, err := c.exec(`CREATE TABLE t (k TEXT UNIQUE, i INTEGER, b BLOB, n TEXT)`); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789"), 20000) // 200 kB: grows the buffer
	for _, row := range [][]any{
		{"", int64(-7), []byte(nil), nil},
		{"a", 42, big, "x"},
		{"b", true, []byte{}, "é"},
	} {
		if _, err := c.ExecContext(ctx, `INSERT INTO t VALUES (?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	var types string
	if err := c.queryRow(`SELECT group_concat(typeof(k) || '/' || typeof(b), ' ') FROM t`, nil,
		func(r rawCursor) error { return r.Scan(&types) }); err != nil {
		t.Fatal(err)
	}
	if want := "text/null text/blob text/blob"; types != want {
		t.Errorf("types: got %q, want %q", types, want)
	}
	var (
		i    int64
		n    int
		b    []byte
		k, x string
		null sql.NullString
	)
	if err := c.queryRow(`SELECT i, length(b), b, k, n, NULL FROM t WHERE k = ?`, []any{"a"},
		func(r rawCursor) error { return r.Scan(&i, &n, &b, &k, &x, &null) }); err != nil {
		t.Fatal(err)
	}
	if i != 42 || n != len(big) || !bytes.Equal(b, big) || k != "a" || x != "x" || null.Valid {
		t.Errorf("scan: got %d %d %d bytes %q %q %v", i, n, len(b), k, x, null)
	}
	// The pooled connections see what the raw one wrote (it is autocommit).
	var count int
	if err := s.db.QueryRow(`SELECT count(*) FROM t WHERE n = 'é' AND i = 1`).Scan(&count); err != nil || count != 1 {
		t.Errorf("pool: got %d rows (%v), want 1", count, err)
	}
	_, err = c.ExecContext(ctx, `INSERT INTO t (k) VALUES (?)`, "a")
	if !isUnique(err) {
		t.Errorf("duplicate key: got %v, want a constraint error", err)
	}
	if err := c.queryRow(`SELECT k FROM t WHERE k = 'none'`, nil,
		func(r rawCursor) error { return r.Scan(&k) }); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("no row: got %v, want sql.ErrNoRows", err)
	}
	if _, err := c.exec(`SELECT nosuch FROM t`); err == nil {
		t.Error("bad query: got no error")
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO t (k) VALUES (?)`, complex(1, 2)); err == nil { // float64 binds (streams rows)
		t.Error("unsupported value type: got no error")
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO t (k, i) VALUES (?, ?)`, "z"); err == nil {
		t.Error("a value short: got no error")
	}
}
