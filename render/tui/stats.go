package tui

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// tallyLines lays out the stats screen: dialogs by state and kind,
// messages by request method and response status, each most frequent
// first (ties by name), with its share.
func tallyLines(t Tally, q Query) []string {
	what := "every dialog"
	if q.Filter != "" || q.Search != "" {
		what = "the dialogs the filter and search select"
	}
	out := []string{fmt.Sprintf("%d dialogs, %d messages: %s", t.Dialogs, t.Messages, what), ""}
	section := func(title string, total int64, m map[string]int64) {
		out = append(out, title)
		if len(m) == 0 {
			out = append(out, "  (none)")
		}
		keys := slices.Collect(maps.Keys(m))
		slices.SortFunc(keys, func(a, b string) int {
			if c := cmp.Compare(m[b], m[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for _, k := range keys {
			pct := 0.0
			if total > 0 {
				pct = float64(m[k]) * 100 / float64(total)
			}
			out = append(out, fmt.Sprintf("  %-22s %8d  %5.1f%%", k, m[k], pct))
		}
		out = append(out, "")
	}
	section("Dialogs by state", t.Dialogs, t.States)
	section("Dialogs by kind", t.Dialogs, t.Kinds)
	var reqs, resps int64
	for _, n := range t.Methods {
		reqs += n
	}
	statuses := map[string]int64{}
	for code, n := range t.Statuses {
		statuses[strconv.Itoa(code)] = n
		resps += n
	}
	section("Requests by method", reqs, t.Methods)
	section("Responses by status", resps, statuses)
	return out
}
