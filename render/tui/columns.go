package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// field is one kind of call-list column: a dialog summary field (Sort
// names the store's sort key; "" when the store cannot sort by it), or a
// SIP header of the dialog's first request (header set; its sort is
// "header:name").
type field struct {
	key    string // as --columns and the columns prompt spell it
	title  string
	w      int // cells; 0 shares what the fixed columns leave
	grow   int // cells a fixed column takes beyond w on a wide terminal
	sort   string
	header string // SIP header name, for header columns
	cell   func(d *correlate.Dialog) string
}

// headerSortPrefix starts the sort key of a header column, as the store
// spells it (store.HeaderSortPrefix; this package does not import store).
const headerSortPrefix = "header:"

// headerSortName is the header a sort orders by, "" when it is not a
// header sort.
func headerSortName(sort string) string {
	k := strings.TrimLeft(strings.TrimSpace(sort), "+-")
	if len(k) > len(headerSortPrefix) && strings.EqualFold(k[:len(headerSortPrefix)], headerSortPrefix) && !strings.Contains(k, ",") {
		return k[len(headerSortPrefix):]
	}
	return ""
}

// DefaultColumns is the call list's columns when none are chosen.
const DefaultColumns = "start,state,final,from,to,msgs,callid"

func msText(t time.Duration) string {
	if t < 0 {
		return ""
	}
	return strconv.FormatFloat(t.Seconds(), 'f', 3, 64) + "s"
}

// fields are the summary columns, in the order the help lists them.
var fields = []field{
	{key: "start", title: "START", w: 13, sort: "start", cell: func(d *correlate.Dialog) string { return d.Start.UTC().Format("15:04:05.000") }},
	{key: "date", title: "DATE", w: 24, sort: "start", cell: func(d *correlate.Dialog) string { return d.Start.UTC().Format("2006-01-02 15:04:05.000") }},
	{key: "kind", title: "KIND", w: 13, sort: "kind", cell: func(d *correlate.Dialog) string { return string(d.Kind) }},
	{key: "state", title: "STATE", w: 12, sort: "state", cell: func(d *correlate.Dialog) string { return string(d.State) }},
	{key: "final", title: "FINAL", w: 17, grow: 15, sort: "status", cell: func(d *correlate.Dialog) string {
		if d.FinalStatus == 0 {
			return ""
		}
		return strconv.Itoa(d.FinalStatus) + " " + d.FinalReason
	}},
	{key: "status", title: "CODE", w: 5, sort: "status", cell: func(d *correlate.Dialog) string {
		if d.FinalStatus == 0 {
			return ""
		}
		return strconv.Itoa(d.FinalStatus)
	}},
	{key: "from", title: "FROM", sort: "from", cell: func(d *correlate.Dialog) string { return userOr(d.From.User, d.From.URI) }},
	{key: "to", title: "TO", sort: "to", cell: func(d *correlate.Dialog) string { return userOr(d.To.User, d.To.URI) }},
	{key: "src", title: "SOURCE", w: 22, sort: "src", cell: func(d *correlate.Dialog) string { return addrText(d.Src.String()) }},
	{key: "dst", title: "DESTINATION", w: 22, sort: "dst", cell: func(d *correlate.Dialog) string { return addrText(d.Dst.String()) }},
	{key: "transport", title: "PROTO", w: 6, sort: "transport", cell: func(d *correlate.Dialog) string { return string(d.Transport) }},
	{key: "msgs", title: "MSGS", w: 5, sort: "messages", cell: func(d *correlate.Dialog) string { return strconv.Itoa(d.Messages) }},
	{key: "retrans", title: "RETR", w: 5, sort: "retransmissions", cell: func(d *correlate.Dialog) string { return strconv.Itoa(d.Retransmissions) }},
	{key: "pdd", title: "PDD", w: 9, sort: "setup", cell: func(d *correlate.Dialog) string { return msText(d.SetupTime) }},
	{key: "answer", title: "ANSWER", w: 9, sort: "answer", cell: func(d *correlate.Dialog) string { return msText(d.AnswerTime) }},
	{key: "duration", title: "DURATION", w: 10, sort: "duration", cell: func(d *correlate.Dialog) string { return msText(d.Duration) }},
	// mos is the worst scored RTP stream's E-model MOS (the Source's
	// streams, fetched per page: see addMOS).
	{key: "mos", title: "MOS", w: 5},
	{key: "ua", title: "USER-AGENT", sort: "user_agent", cell: func(d *correlate.Dialog) string { return d.UserAgent }},
	{key: "callid", title: "CALL-ID", sort: "call_id", cell: func(d *correlate.Dialog) string { return d.CallID }},
}

func addrText(s string) string {
	if s == "invalid AddrPort" {
		return ""
	}
	return s
}

// ParseColumns parses a column list such as "start,state,final,from,
// User-Agent,X-Account": the names of summary fields (case-insensitive)
// and, for any other name, the SIP header of that name in the dialog's
// first request. "#" (the row number) always comes first.
func ParseColumns(s string) ([]string, error) {
	_, err := parseColumns(s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func parseColumns(s string) ([]field, error) {
	var out []field
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		f, ok := lookupField(p)
		if !ok {
			if !decode.IsToken(p) {
				return nil, fmt.Errorf("column %q: neither a field (%s) nor a SIP header name", p, fieldKeys())
			}
			h := p
			// The store sorts by it from an index of every dialog's
			// value that it builds on the first sort ("sorting…").
			f = field{key: p, title: strings.ToUpper(h), header: h, sort: headerSortPrefix + strings.ToLower(h)}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no columns: name some, e.g. %s", DefaultColumns)
	}
	return out, nil
}

func lookupField(key string) (field, bool) {
	k := strings.ToLower(key)
	switch k {
	case "call-id", "call_id":
		k = "callid"
	case "messages":
		k = "msgs"
	case "retransmissions":
		k = "retrans"
	case "user-agent", "user_agent":
		k = "ua"
	}
	for _, f := range fields {
		if f.key == k {
			return f, true
		}
	}
	return field{}, false
}

func fieldKeys() string {
	ks := make([]string, len(fields))
	for i, f := range fields {
		ks[i] = f.key
	}
	return strings.Join(ks, ",")
}

func columnKeys(cols []field) string {
	ks := make([]string, len(cols))
	for i, f := range cols {
		ks[i] = f.key
	}
	return strings.Join(ks, ",")
}

// numWidth is the width of the row-number column.
const numWidth = 6

// columnWidths fits the columns to w cells after the row number: fixed
// columns get their width, the others (From, To, headers, and the Call-ID
// at twice their share) divide what is left (at least 8 each), the last of
// them taking the rest, so that 80 columns still show a useful part of
// every field. The first width returned is the row number's.
func columnWidths(cols []field, w int) []int { return columnWidthsFor(cols, w, 0) }

// columnWidthsFor is columnWidths for a list of rows rows: the number
// column widens past numWidth so that row 100,000 and beyond (and a
// mark's "*") are not cut to "1000…".
func columnWidthsFor(cols []field, w, rows int) []int {
	numWidth := max(numWidth, len(strconv.Itoa(rows))+1)
	weight := func(c field) int {
		if c.key == "callid" {
			return 2
		}
		return 1
	}
	fixed, flex := numWidth, 0
	for _, c := range cols {
		if c.w > 0 {
			fixed += c.w
		} else {
			flex += weight(c)
		}
	}
	share := 8
	if flex > 0 {
		share = max((w-fixed)/flex, 8)
	}
	// On a wide terminal a column that reads better longer (the final
	// reason: "403 Wrong password") grows once the shared columns have
	// 16 cells each.
	grown := make([]int, len(cols))
	if flex > 0 && share > 16 {
		for i, c := range cols {
			if c.w > 0 && c.grow > 0 {
				grown[i] = min(c.grow, (share-16)*flex)
				fixed += grown[i]
			}
		}
		share = max((w-fixed)/flex, 8)
	}
	ws := make([]int, 1+len(cols))
	ws[0] = numWidth
	used, lastFlex := numWidth, -1
	for i, c := range cols {
		if c.w > 0 {
			ws[1+i] = c.w + grown[i]
		} else {
			ws[1+i] = max(share*weight(c), 8)
			lastFlex = i
		}
		used += ws[1+i]
	}
	if lastFlex >= 0 {
		// The last shared column takes the rest, or gives back what the
		// minimum widths overdrew.
		ws[1+lastFlex] = max(w-(used-ws[1+lastFlex]), 8)
	}
	return ws
}

// cellText is what column c shows for d; hdrs holds the first request's
// header values of the visible dialogs, by Call-ID then header name.
func cellText(c field, d *correlate.Dialog, hdrs map[string]map[string]string) string {
	if c.key == "mos" {
		return hdrs[d.CallID][mosKey]
	}
	if c.header != "" {
		return hdrs[d.CallID][strings.ToLower(c.header)]
	}
	return c.cell(d)
}

// mosKey holds the mos column's text among a row's header values: a
// colon is no header name's (RFC 3261 §25.1 token), so it cannot clash.
const mosKey = ":mos"

func hasMOS(cols []field) bool {
	for _, c := range cols {
		if c.key == "mos" {
			return true
		}
	}
	return false
}

// addMOS records in hdrs the lowest MOS among each call's scored streams,
// as `sipscope calls` gives its mos field; calls without one show nothing.
func addMOS(hdrs map[string]map[string]string, ss []correlate.Stream) map[string]map[string]string {
	if hdrs == nil {
		hdrs = map[string]map[string]string{}
	}
	worst := map[string]float64{}
	for i := range ss {
		s := &ss[i]
		if s.CallID == "" || s.MOS == nil {
			continue
		}
		if w, ok := worst[s.CallID]; !ok || *s.MOS < w {
			worst[s.CallID] = *s.MOS
		}
	}
	for id, m := range worst {
		if hdrs[id] == nil {
			hdrs[id] = map[string]string{}
		}
		hdrs[id][mosKey] = strconv.FormatFloat(m, 'f', 2, 64)
	}
	return hdrs
}

// headerNames are the header columns' names.
func headerNames(cols []field) []string {
	var out []string
	for _, c := range cols {
		if c.header != "" {
			out = append(out, c.header)
		}
	}
	return out
}

// firstRequestHeaders reads the named headers from the first request of
// each dialog: the values the header columns show, keyed by lower-case
// name.
func firstRequestHeaders(msgs []*correlate.Message, names []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	first := map[string]*correlate.Message{}
	for _, m := range msgs {
		if m.Message == nil || !m.Request {
			continue
		}
		if f, ok := first[m.CallID]; !ok || m.Seq < f.Seq {
			first[m.CallID] = m
		}
	}
	for id, m := range first {
		vals := map[string]string{}
		for _, n := range names {
			vals[strings.ToLower(n)] = m.Header(n)
		}
		out[id] = vals
	}
	return out
}

// sortable are the columns the store can sort by, in column order.
func sortable(cols []field) []string {
	var out []string
	for _, c := range cols {
		if c.sort != "" {
			out = append(out, c.sort)
		}
	}
	return out
}

// nextSort is the sort order after cur among the columns: each sortable
// column ascending then descending, then back to the first.
func nextSort(cols []field, cur string) string {
	var orders []string
	for _, k := range sortable(cols) {
		orders = append(orders, k, "-"+k)
	}
	if len(orders) == 0 {
		return ""
	}
	if cur == "" {
		cur = "start"
	}
	for i, o := range orders {
		if o == cur {
			return orders[(i+1)%len(orders)]
		}
	}
	return orders[0]
}
