package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want Filter
	}{
		{"", Filter{}},
		{"state=busy", Filter{State: []correlate.State{"busy"}}},
		{"state=Busy,rejected kind=call", Filter{State: []correlate.State{"busy", "rejected"}, Kind: []correlate.Kind{"call"}}},
		{"from~alice to=bob", Filter{From: "alice", To: "bob"}},
		{"status>=400", Filter{Status: "400-699"}},
		{"status>399", Filter{Status: "400-699"}},
		{"status<300", Filter{Status: "0-299"}},
		{"status<=486", Filter{Status: "0-486"}},
		{"status=4xx,5xx", Filter{Status: "4xx,5xx"}},
		{"status>=400 status<500", Filter{Status: "400-499"}},
		{"sort=-duration call=abc@h", Filter{Sort: "-duration", CallIDs: []string{"abc@h"}}},
		{"since=2026-11-25T09:00:00Z", Filter{Since: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}},
		{"  state=busy   from~alice  ", Filter{State: []correlate.State{"busy"}, From: "alice"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := ParseFilter(tc.expr)
			if err != nil {
				t.Fatalf("got error %v, want %+v", err, tc.want)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"busy", `want KEY=VALUE`},
		{"state=", `empty value`},
		{"state=happy", `unknown state "happy"`},
		{"kind~call", `kind takes =`},
		{"colour=red", `unknown key "colour"`},
		{"status>=abc", `needs a number`},
		{"status=9xx", `bad status`},
		{"status>=500 status<400", `selects nothing`},
		{"grep~(", `filter term "grep~("`},
		{"sort=loudness", `unknown sort key`},
		{"since=yesterday", `cannot read "yesterday"`},
		{"=x", `want KEY=VALUE`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := ParseFilter(tc.expr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestParseFilterQueries runs parsed filters against a store: the filter
// line selects what the equivalent Filter fields select.
func TestParseFilterQueries(t *testing.T) {
	s := openTest(t, Options{})
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	finals := []int{200, 486, 404, 487, 200}
	froms := []string{"alice", "bob", "alice", "carol", "alicia"}
	for i := range finals {
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("c%d", i), from: froms[i], to: "dave", final: finals[i],
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{"", []string{"c0", "c1", "c2", "c3", "c4"}},
		{"status>=400", []string{"c1", "c2", "c3"}},
		{"state=busy,cancelled", []string{"c1", "c3"}},
		{"from~ali", []string{"c0", "c2", "c4"}},
		{"from~ali status>=400", []string{"c2"}},
		{"sort=-start state=completed", []string{"c4", "c0"}},
		{"grep~Busy", []string{"c1"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := ParseFilter(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := collect(t, s, f); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			n, err := s.Count(context.Background(), f)
			if err != nil || n != int64(len(tc.want)) {
				t.Errorf("Count: got %d, %v, want %d", n, err, len(tc.want))
			}
		})
	}
}

// TestPage checks that pages of a sorted, filtered query put together are
// the whole query, in order.
func TestPage(t *testing.T) {
	s := openTest(t, Options{})
	var ds []*correlate.Dialog
	var ms [][]*correlate.Message
	for i := range 57 {
		final := []int{200, 486, 404}[i%3]
		d, m := makeCall(t, callSpec{callID: fmt.Sprintf("p%02d", i), from: "alice", to: "bob", final: final,
			start: t0.Add(time.Duration(i) * time.Second), seq: int64(i * 10)})
		ds, ms = append(ds, d), append(ms, m)
	}
	writeAll(t, s, ds, ms)
	ctx := context.Background()
	for _, f := range []Filter{{}, {Sort: "-start"}, {Status: "4xx", Sort: "status,-start"}, {Grep: nil, State: []correlate.State{"busy"}}} {
		want := collect(t, s, f)
		var got []string
		for off := 0; off < 70; off += 10 {
			page, err := s.Page(ctx, f, off, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page {
				got = append(got, d.CallID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: pages give %v, want %v", f, got, want)
		}
		if n, err := s.Count(ctx, f); err != nil || n != int64(len(want)) {
			t.Errorf("%+v: Count got %d, %v, want %d", f, n, err, len(want))
		}
	}
	if p, err := s.Page(ctx, Filter{}, 100, 10); err != nil || len(p) != 0 {
		t.Errorf("page past the end: got %d dialogs, %v, want none", len(p), err)
	}
}
