package store

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

func pageStore(t *testing.T) (*Store, []*correlate.Dialog, [][]*correlate.Message) {
	s := openTest(t, Options{})
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i := range 45 {
		final := []int{200, 486, 404}[i%3]
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("q%02d", i), from: []string{"alice", "Bob", "carol"}[i%3], to: "dave", final: final,
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	return s, ds, ms
}

// TestPageDescendingTies: a descending page breaks ties by descending id
// (the order an index read backwards gives), and pages put together are
// every dialog once.
func TestPageDescendingTies(t *testing.T) {
	s, ds, _ := pageStore(t)
	ctx := context.Background()
	for _, sort := range []string{"-messages", "messages", "-status", "-from", "status,-start"} {
		var got []string
		for off := 0; off < len(ds); off += 7 {
			page, err := s.Page(ctx, Filter{Sort: sort}, off, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				got = append(got, d.CallID)
			}
		}
		// The dialogs were written in Call-ID order: id order is Call-ID order.
		want := slices.Clone(ds)
		key := strings.Split(sort, ",")[0]
		desc := strings.HasPrefix(key, "-")
		slices.SortStableFunc(want, func(a, b *correlate.Dialog) int {
			var c int
			switch strings.TrimPrefix(key, "-") {
			case "messages":
				c = cmp.Compare(a.Messages, b.Messages)
			case "status":
				c = cmp.Compare(a.FinalStatus, b.FinalStatus)
			case "from":
				c = cmp.Compare(strings.ToLower(a.From.User), strings.ToLower(b.From.User))
			}
			if desc {
				c = -c
			}
			if c == 0 && sort == "status,-start" {
				c = -a.Start.Compare(b.Start)
			}
			if c == 0 {
				c = strings.Compare(a.CallID, b.CallID)
				if strings.HasPrefix(strings.Split(sort, ",")[len(strings.Split(sort, ","))-1], "-") {
					c = -c
				}
			}
			return c
		})
		var wantIDs []string
		for _, d := range want {
			wantIDs = append(wantIDs, d.CallID)
		}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("sort %s: pages give\n%v\nwant\n%v", sort, got, wantIDs)
		}
	}
}

// TestPageUsesIndex: every sort key the call list offers, either way,
// pages through an index (migration 0009) instead of sorting every dialog
// per screenful: the plan has no temporary B-tree for the ORDER BY; with
// a kind, state or status filter too, and the page indexes decide those
// without the table.
func TestPageUsesIndex(t *testing.T) {
	s, _, _ := pageStore(t)
	plan := func(f Filter) string {
		t.Helper()
		q, args, _, cleanup, err := s.pageQuery(context.Background(), f, 99980, 20)
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		rows, err := s.db.Query("EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		return strings.Join(plan, "; ")
	}
	for _, k := range []string{"start", "duration", "messages", "retransmissions", "status", "state", "kind", "from", "to", "setup", "answer", "call_id", "user_agent", "src", "dst", "transport"} {
		for _, sort := range []string{k, "-" + k} {
			if p := plan(Filter{Sort: sort}); strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("sort %s sorts every dialog: %s", sort, p)
			}
			if pageIndexes[k] == "" {
				continue
			}
			// 15 busy calls of 45: few, then (the threshold lowered) many.
			f := Filter{Sort: sort, State: []correlate.State{correlate.StateBusy}, Kind: []correlate.Kind{correlate.KindCall}, Status: "4xx"}
			if p := plan(f); strings.Contains(p, pageIndexes[k]) {
				t.Errorf("filtered sort %s with few matches: plan %s, want the filter's index and a sort", sort, p)
			}
			fewMatchesLimit = 10
			if p := plan(f); strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "INDEX "+pageIndexes[k]) {
				t.Errorf("filtered sort %s: plan %s, want %s and no sort", sort, p, pageIndexes[k])
			}
			fewMatchesLimit = 2000
		}
	}
}

// TestScratchPageIndexes: a scratch store leaves the page indexes out
// (commands that read every dialog once do not pay for them) and pages
// without them; AddPageIndexes adds them, and pages come out the same.
func TestScratchPageIndexes(t *testing.T) {
	s, err := OpenTemp(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i := range 30 {
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("s%02d", i), from: "alice", to: "bob", final: []int{200, 486}[i%2],
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	ctx := context.Background()
	for _, ix := range pageIndexNames() {
		if s.hasIndex(ix) {
			t.Errorf("scratch store has %s", ix)
		}
	}
	f := Filter{Sort: "-duration", State: []correlate.State{correlate.StateBusy}}
	before, err := s.Page(ctx, f, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddPageIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ix := range pageIndexNames() {
		if !s.hasIndex(ix) {
			t.Errorf("AddPageIndexes did not make %s", ix)
		}
	}
	after, err := s.Page(ctx, f, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 5 || fmt.Sprint(ids(before)) != fmt.Sprint(ids(after)) {
		t.Errorf("pages differ with the indexes: %v, then %v", ids(before), ids(after))
	}
	if err := s.AddPageIndexes(ctx); err != nil {
		t.Errorf("AddPageIndexes twice: %v", err)
	}
}

func ids(ds []*correlate.Dialog) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.CallID)
	}
	return out
}

// TestTally: the stats counts match the dialogs and messages the filter
// selects.
func TestTally(t *testing.T) {
	s, ds, ms := pageStore(t)
	ctx := context.Background()
	for _, f := range []Filter{{}, {State: []correlate.State{correlate.StateBusy, correlate.StateCompleted}}, {From: "alice"}} {
		got, err := s.Tally(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := Tally{States: map[string]int64{}, Kinds: map[string]int64{}, Methods: map[string]int64{}, Statuses: map[int]int64{}}
		in := map[string]bool{}
		for _, id := range collect(t, s, f) {
			in[id] = true
		}
		for i, d := range ds {
			if !in[d.CallID] {
				continue
			}
			want.Dialogs++
			want.States[string(d.State)]++
			want.Kinds[string(d.Kind)]++
			for _, m := range ms[i] {
				want.Messages++
				if m.Request {
					want.Methods[m.Method]++
				} else {
					want.Statuses[m.Status]++
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%+v: got %v, want %v", f, got, want)
		}
	}
	if _, err := s.Tally(ctx, Filter{State: []correlate.State{"happy"}}); err == nil {
		t.Error("a bad filter tallied")
	}
}

// TestPageAddrSort: src, dst and transport sort as the text the store
// holds (migration 0011's indexes), ties in id order in the direction of
// the key, and Page's pages put together are the same order.
func TestPageAddrSort(t *testing.T) {
	s := openTest(t, Options{})
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	srcs := []string{"10.0.0.9:5060", "10.0.0.1:5060", "192.168.1.5:5080"}
	trs := []decode.Transport{decode.UDP, decode.TCP, decode.TLS}
	for i := range 12 {
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("a%02d", i), from: "alice", to: "bob", final: 200,
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		d.Src = netip.MustParseAddrPort(srcs[i%3])
		d.Dst = netip.MustParseAddrPort(srcs[(i+1)%3])
		d.Transport = trs[i%3]
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	ctx := context.Background()
	for _, sort := range []string{"src", "-src", "dst", "-dst", "transport", "-transport"} {
		key := strings.TrimPrefix(sort, "-")
		val := func(d *correlate.Dialog) string {
			switch key {
			case "src":
				return d.Src.String()
			case "dst":
				return d.Dst.String()
			}
			return string(d.Transport)
		}
		want := append([]*correlate.Dialog(nil), ds...)
		slices.SortStableFunc(want, func(a, b *correlate.Dialog) int { return strings.Compare(val(a), val(b)) })
		if sort[0] == '-' {
			slices.Reverse(want) // ties by descending id: the index read backwards
		}
		var got, exp []string
		for off := 0; off < len(ds); off += 5 {
			page, err := s.Page(ctx, Filter{Sort: sort}, off, 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				got = append(got, d.CallID)
			}
		}
		for _, d := range want {
			exp = append(exp, d.CallID)
		}
		if !slices.Equal(got, exp) {
			t.Errorf("sort %s: got %v, want %v", sort, got, exp)
		}
	}
}
