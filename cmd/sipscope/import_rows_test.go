package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/store"
)

var updateRows = flag.Bool("update-rows", false, "rewrite testdata/TestImportRows/*.golden from this code's imports")

// TestImportRows imports the project's captures and compares every row of
// every table of the database, and its schema (store.Dump), with the golden
// files written by the import code before it was made faster (issue 12):
// a faster import must store exactly what the old one stored, in the same
// order and with the same ids. Cases cover a new database (the bulk path),
// several files merged by time, and imports into a database that holds
// dialogs already (the row-by-row path, skipped and overlapping files).
func TestImportRows(t *testing.T) {
	root := filepath.Join("..", "..", "testdata")
	glob := func(dir string) []string {
		var fs []string
		for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
			m, _ := filepath.Glob(filepath.Join(root, dir, pat))
			fs = append(fs, m...)
		}
		sort.Strings(fs)
		if len(fs) == 0 {
			t.Fatalf("no captures in %s", filepath.Join(root, dir))
		}
		return fs
	}
	sipp := glob("sipp")
	cases := []struct {
		name string
		runs [][]string // one import per element, into the same database
	}{
		{"sipp", [][]string{sipp}},
		{"media", [][]string{glob("media")}},
		{"encap", [][]string{glob("encap")}},
		{"stream", [][]string{glob("stream")}},
		{"tls", [][]string{glob("tls")}},
		// One file at a time into one database: every run after the
		// first writes into a store with dialogs.
		{"sipp-one-by-one", func() [][]string {
			var rs [][]string
			for _, f := range sipp {
				rs = append(rs, []string{f})
			}
			return rs
		}()},
		// A part, then the whole: the part's files are skipped, the rest
		// go into a used store.
		{"sipp-then-all", [][]string{sipp[:len(sipp)/2], append(glob("media"), sipp...)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "rows.db")
			for _, files := range c.runs {
				io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
				if err := runImport(context.Background(), &importOptions{files: files, db: db, quiet: true}, io); err != nil {
					t.Fatalf("import %s: %v", strings.Join(files, " "), err)
				}
			}
			st, err := store.Open(db, store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			err = st.Dump(context.Background(), &got)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", t.Name()+".golden")
			if *updateRows {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-rows to write it)", err)
			}
			if g, w := got.String(), string(want); g != w {
				gl, wl := strings.Split(g, "\n"), strings.Split(w, "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var a, b string
					if i < len(gl) {
						a = gl[i]
					}
					if i < len(wl) {
						b = wl[i]
					}
					if a != b {
						t.Fatalf("%s: line %d:\ngot  %s\nwant %s", golden, i+1, a, b)
					}
				}
			}
		})
	}
}
