package store

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// headerCalls writes calls whose INVITE carries X-Account: vals[i] (no
// header when ""), final status 486 on every third.
func headerCalls(t *testing.T, s *Store, first int, vals []string) []*correlate.Dialog {
	t.Helper()
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i, v := range vals {
		n := first + i
		h := ""
		if v != "" {
			h = "X-Account: " + v
		}
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("h%03d", n), from: "alice", to: "bob", final: []int{200, 200, 486}[n%3],
			start: t0.Add(time.Duration(n) * time.Second), seq: int64(n * 10), grepHeader: h})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	return ds
}

// wantHeaderOrder is the order a header sort must give, worked out
// apart from the store: by the value case-insensitively, "" (no header)
// first, ties in write (id) order, all reversed for a descending sort.
func wantHeaderOrder(ds []*correlate.Dialog, val map[string]string, desc bool, keep func(*correlate.Dialog) bool) []string {
	var out []*correlate.Dialog
	for _, d := range ds {
		if keep == nil || keep(d) {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b *correlate.Dialog) int {
		return strings.Compare(strings.ToLower(val[a.CallID]), strings.ToLower(val[b.CallID]))
	})
	if desc {
		slices.Reverse(out)
	}
	ids := make([]string, len(out))
	for i, d := range out {
		ids[i] = d.CallID
	}
	return ids
}

func pagedIDs(t *testing.T, s *Store, f Filter, step int) []string {
	t.Helper()
	var got []string
	for off := 0; ; off += step {
		page, err := s.Page(context.Background(), f, off, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return got
		}
		for _, d := range page {
			got = append(got, d.CallID)
		}
	}
}

// TestHeaderSort: a header column sorts through the store's header index:
// case-insensitively, ties in id order in the key's direction, a missing
// header as empty; pages put together are the whole order; a filter
// selects within it; dialogs stored after the first sort take their place.
func TestHeaderSort(t *testing.T) {
	s := openTest(t, Options{})
	vals := []string{"acme", "Beta", "", "acme", "zulu", "ACME", "beta", "", "delta", "Acme", "omega", "alpha"}
	ds := headerCalls(t, s, 0, vals)
	val := map[string]string{}
	for i, d := range ds {
		val[d.CallID] = vals[i]
	}
	for _, sort := range []string{"header:X-Account", "-header:X-Account", "header:x-account", "+HEADER:X-Account"} {
		desc := strings.HasPrefix(sort, "-")
		want := wantHeaderOrder(ds, val, desc, nil)
		for _, step := range []int{1, 5, 100} {
			if got := pagedIDs(t, s, Filter{Sort: sort}, step); !slices.Equal(got, want) {
				t.Errorf("sort %s, pages of %d:\n got %v\nwant %v", sort, step, got, want)
			}
		}
		busy := func(d *correlate.Dialog) bool { return d.FinalStatus == 486 }
		if got, want := pagedIDs(t, s, Filter{Sort: sort, Status: "486"}, 2), wantHeaderOrder(ds, val, desc, busy); !slices.Equal(got, want) {
			t.Errorf("sort %s status=486:\n got %v\nwant %v", sort, got, want)
		}
	}
	// New dialogs (a live capture, an import still running) after the
	// index was built.
	more := []string{"", "aardvark", "Zulu", "beta"}
	ds = append(ds, headerCalls(t, s, len(vals), more)...)
	for i, v := range more {
		val[ds[len(vals)+i].CallID] = v
	}
	if got, want := pagedIDs(t, s, Filter{Sort: "-header:X-Account"}, 4), wantHeaderOrder(ds, val, true, nil); !slices.Equal(got, want) {
		t.Errorf("after more dialogs:\n got %v\nwant %v", got, want)
	}
	// The filtered pages before them cached which dialogs status=486
	// selects: the new ones are added to it, and another filter is not
	// answered from it.
	busy := func(d *correlate.Dialog) bool { return d.FinalStatus == 486 }
	if got, want := pagedIDs(t, s, Filter{Sort: "-header:X-Account", Status: "486"}, 3), wantHeaderOrder(ds, val, true, busy); !slices.Equal(got, want) {
		t.Errorf("status=486 after more dialogs:\n got %v\nwant %v", got, want)
	}
	ok := func(d *correlate.Dialog) bool { return d.FinalStatus == 200 }
	if got, want := pagedIDs(t, s, Filter{Sort: "header:X-Account", Status: "200"}, 3), wantHeaderOrder(ds, val, false, ok); !slices.Equal(got, want) {
		t.Errorf("status=200 after status=486:\n got %v\nwant %v", got, want)
	}
	// A header no request has: every dialog ties, in id order.
	if got, want := pagedIDs(t, s, Filter{Sort: "header:X-None"}, 7), wantHeaderOrder(ds, map[string]string{}, false, nil); !slices.Equal(got, want) {
		t.Errorf("header:X-None:\n got %v\nwant %v", got, want)
	}
	if n, err := s.Count(context.Background(), Filter{Sort: "header:X-Account", Status: "486"}); err != nil || int(n) != len(wantHeaderOrder(ds, val, false, func(d *correlate.Dialog) bool { return d.FinalStatus == 486 })) {
		t.Errorf("count: %d, %v", n, err)
	}
}

// TestHeaderSortBad: a header sort key that is not a header name, or
// with other keys, is refused by Check with the key named; a cancelled
// first sort reports it, and the next one completes.
func TestHeaderSortBad(t *testing.T) {
	for _, sort := range []string{"header:X Account", "header:X-Account,start", "start,-header:X-A"} {
		f := Filter{Sort: sort}
		if err := f.Check(); err == nil || !strings.Contains(err.Error(), "sort") {
			t.Errorf("Check(%q) = %v, want a sort error", sort, err)
		}
	}
	s := openTest(t, Options{})
	vals := []string{"b", "a", "c"}
	ds := headerCalls(t, s, 0, vals)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Page(ctx, Filter{Sort: "header:X-Account"}, 0, 10); err == nil {
		t.Error("cancelled sort: no error")
	}
	val := map[string]string{}
	for i, d := range ds {
		val[d.CallID] = vals[i]
	}
	if got, want := pagedIDs(t, s, Filter{Sort: "header:X-Account"}, 10), wantHeaderOrder(ds, val, false, nil); !slices.Equal(got, want) {
		t.Errorf("after a cancelled sort:\n got %v\nwant %v", got, want)
	}
}

// BenchmarkHeaderSort times building a header's sort index over the
// database $SIPSCOPE_TUI_DB (scripts/bench-tui.sh makes one of 100,000
// calls) and a page of it with and without a filter.
func BenchmarkHeaderSort(b *testing.B) {
	db := os.Getenv("SIPSCOPE_TUI_DB")
	if db == "" {
		b.Skip("SIPSCOPE_TUI_DB not set: scripts/bench-tui.sh makes the database")
	}
	ctx := context.Background()
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, err := Open(db, Options{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := s.PrepareHeaderSort(ctx, "Contact"); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
	})
	s, err := Open(db, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.PrepareHeaderSort(ctx, "Contact"); err != nil {
		b.Fatal(err)
	}
	for _, expr := range []string{"sort=-header:Contact", "state=completed sort=-header:Contact"} {
		f, err := ParseFilter(expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("page/"+expr, func(b *testing.B) {
			off := 0
			for b.Loop() {
				if _, err := s.Page(ctx, f, off, 21); err != nil {
					b.Fatal(err)
				}
				off = (off + 4321) % 90000
			}
		})
	}
}
