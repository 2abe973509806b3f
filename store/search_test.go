package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// searchLine is what Filter.Search looks in, built here from the dialog
// independently of the SQL: the Call-ID, From, To, User-Agent and
// addresses, lower case.
func searchLine(d *correlate.Dialog) []string {
	return []string{d.CallID, d.From.Display, d.From.URI, d.From.User, d.To.Display, d.To.URI, d.To.User,
		d.UserAgent, addrString(d.Src), addrString(d.Dst)}
}

func wantSearch(ds []*correlate.Dialog, pat, state string) []string {
	var out []string
	for _, d := range ds {
		if state != "" && string(d.State) != state {
			continue
		}
		if slices.ContainsFunc(searchLine(d), func(f string) bool { return strings.Contains(foldCase(f), foldCase(pat)) }) {
			out = append(out, d.CallID)
		}
	}
	return out
}

// TestSearch: Filter.Search finds dialogs by a substring of their summary
// fields, case-insensitive, alone and with other terms, counted and paged
// alike, in a database and in a scratch store, with few matches (named to
// SQLite) and many (probed row by row as a page walks its index); dialogs
// written after a first search are found by the next one.
func TestSearch(t *testing.T) {
	ctx := context.Background()
	defer func(n int) { fewMatchesLimit = n }(fewMatchesLimit)
	for _, scratch := range []bool{false, true} {
		for _, few := range []int{2000, 3} {
			t.Run(fmt.Sprintf("scratch=%v/few=%d", scratch, few), func(t *testing.T) {
				fewMatchesLimit = few
				var s *Store
				if scratch {
					var err error
					if s, err = OpenTemp(t.TempDir(), Options{}); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { s.Close() })
				} else {
					s = openTest(t, Options{})
				}
				var ds []*correlate.Dialog
				var ms [][]*correlate.Message
				add := func(from, to int) {
					var nd []*correlate.Dialog
					var nm [][]*correlate.Message
					for i := from; i < to; i++ {
						d, m := makeCall(t, callSpec{callID: fmt.Sprintf("q%02d@host", i), from: []string{"alice", "Bob", "Кирилл"}[i%3], to: "dave",
							final: []int{200, 486, 404}[i%3], start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
						if i == 7 {
							d.UserAgent = "Yealink SIP-T46S"
						}
						nd, nm = append(nd, d), append(nm, m)
					}
					writeAll(t, s, nd, nm)
					ds, ms = append(ds, nd...), append(ms, nm...)
				}
				add(0, 30)
				check := func(pat, state string) {
					t.Helper()
					f := Filter{Search: pat}
					if state != "" {
						f.State = []correlate.State{correlate.State(state)}
					}
					want := wantSearch(ds, pat, state)
					n, err := s.Count(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if int(n) != len(want) {
						t.Errorf("search %q state %q: count %d, want %d", pat, state, n, len(want))
					}
					var got []string
					for off := 0; off < len(want)+5; off += 4 {
						page, err := s.Page(ctx, f, off, 4)
						if err != nil {
							t.Fatal(err)
						}
						for _, d := range page {
							got = append(got, d.CallID)
						}
					}
					if !slices.Equal(got, want) {
						t.Errorf("search %q state %q: got %v, want %v", pat, state, got, want)
					}
				}
				for _, pat := range []string{"BOB", "q1", "q1", "q12", "yealink", "sip:dave@", "10.0.0.1:5060", "кирилл", "КИР", "nobody", "\x1f"} {
					check(pat, "")
				}
				check("bob", "busy")
				check("q2", "completed")
				add(30, 40) // the store grows after the first searches
				check("q3", "")
				check("q", "")
				if got := wantSearch(ds, "q3", ""); len(got) != 10 {
					t.Fatalf("test data: %d dialogs with q3, want 10", len(got))
				}
			})
		}
	}
}

// TestSearchScratchWithPageIndexes: a scratch store has no ua page index
// (OpenTemp drops the page indexes) until AddPageIndexes puts it back, as
// the terminal UI does before it writes; PrepareSearch on the empty store
// and a search after the writes find the dialogs written since.
func TestSearchScratchWithPageIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := OpenTemp(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.hasIndex("dialogs_page_ua") {
		t.Fatal("a scratch store keeps the ua page index")
	}
	if err := s.AddPageIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.hasIndex("dialogs_page_ua") {
		t.Fatal("AddPageIndexes did not add the ua index")
	}
	if err := s.PrepareSearch(ctx); err != nil {
		t.Fatal(err)
	}
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i := range 5 {
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("s%d@x", i), from: []string{"alice", "bob"}[i%2], to: "dave", final: 200,
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	if n, err := s.Count(ctx, Filter{Search: "BOB"}); err != nil || n != 2 {
		t.Errorf("search BOB: %d (%v), want 2", n, err)
	}
}
