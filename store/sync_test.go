package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// TestWritersSyncNormal: every Writer, the first of a new database too,
// writes with synchronous=NORMAL (1), so that no import can leave a
// database unusable after a power loss (issue 13: the first-import
// synchronous=OFF shortcut bought 0.04 s in 6 s and was dropped); a
// scratch store, thrown away after use, writes with OFF (0).
func TestWritersSyncNormal(t *testing.T) {
	ctx := context.Background()
	d, msgs := makeCall(t, callSpec{callID: "a", from: "alice", to: "bob", final: 200, start: t0})
	for _, c := range []struct {
		name string
		open func() (*Store, error)
		want int
	}{
		{"new database", func() (*Store, error) { return Open(filepath.Join(t.TempDir(), "new.db"), Options{}) }, 1},
		{"scratch", func() (*Store, error) { return OpenTemp(t.TempDir(), Options{}) }, 0},
	} {
		s, err := c.open()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			w, err := s.Writer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got int
			if err := w.conn.queryRow(`PRAGMA synchronous`, nil, func(r rawCursor) error { return r.Scan(&got) }); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s, Writer %d: synchronous %d, want %d", c.name, i+1, got, c.want)
			}
			if err := w.Dialog(d, []*correlate.Message(msgs)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
}
