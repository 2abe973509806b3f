package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

func TestParseColumns(t *testing.T) {
	for _, tc := range []struct {
		in      string
		keys    []string // field keys
		headers []string
		err     string
	}{
		{in: DefaultColumns, keys: []string{"start", "state", "final", "from", "to", "msgs", "callid"}},
		{in: "Start, STATE ,pdd,duration,retransmissions,messages,Call-ID", keys: []string{"start", "state", "pdd", "duration", "retrans", "msgs", "callid"}},
		{in: "state,User-Agent,X-Account,P-Asserted-Identity", keys: []string{"state", "ua", "X-Account", "P-Asserted-Identity"}, headers: []string{"X-Account", "P-Asserted-Identity"}},
		{in: "state,,final", keys: []string{"state", "final"}},
		{in: "", err: "no columns"},
		{in: " , ", err: "no columns"},
		{in: "state,bad name", err: `column "bad name"`},
		{in: "state,X:Y", err: `column "X:Y"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			cols, err := parseColumns(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error with %q", err, tc.err)
				}
				if _, err := ParseColumns(tc.in); err == nil {
					t.Error("ParseColumns accepts what parseColumns refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, c := range cols {
				keys = append(keys, c.key)
			}
			if !slices.Equal(keys, tc.keys) {
				t.Errorf("got keys %q, want %q", keys, tc.keys)
			}
			if got := headerNames(cols); !slices.Equal(got, tc.headers) {
				t.Errorf("got headers %q, want %q", got, tc.headers)
			}
		})
	}
}

func TestColumnWidthsSets(t *testing.T) {
	for _, spec := range []string{DefaultColumns, "start,state,final,from,to,pdd,duration,retrans,msgs,User-Agent,callid", "state", "callid", "start,date,kind,src,dst"} {
		cols, err := parseColumns(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{80, 132, 300} {
			ws := columnWidths(cols, w)
			sum := 0
			for i, x := range ws {
				sum += x
				if i > 0 && cols[i-1].w == 0 && x < 8 {
					t.Errorf("%s at %d: %s gets %d cells, want at least 8", spec, w, cols[i-1].key, x)
				}
			}
			// When every column fits at its minimum the row is exactly
			// w wide; otherwise drawing clips at the screen's edge.
			need, flex := numWidth, false
			for _, c := range cols {
				if c.w > 0 {
					need += c.w
				} else {
					need, flex = need+16, true // 8, or 16 for the Call-ID
				}
			}
			if flex && need <= w && sum != w {
				t.Errorf("%s at %d: columns add up to %d", spec, w, sum)
			}
		}
	}
}

func TestNextSort(t *testing.T) {
	cols, _ := parseColumns("start,state,X-Account,User-Agent,pdd")
	for _, tc := range []struct{ cur, want string }{
		{"", "-start"},
		{"start", "-start"},
		{"-start", "state"},
		{"state", "-state"},
		{"-state", "header:x-account"}, // a header column sorts through the store's header index
		{"header:x-account", "-header:x-account"},
		{"-header:x-account", "user_agent"}, // User-Agent is the dialog's ua
		{"user_agent", "-user_agent"},
		{"-user_agent", "setup"},
		{"-setup", "start"},
		{"status", "start"}, // not a shown column: back to the first
	} {
		if got := nextSort(cols, tc.cur); got != tc.want {
			t.Errorf("nextSort(%q) got %q, want %q", tc.cur, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{{"", "-start"}, {"-duration", "duration"}, {"status", "-status"}} {
		if got := reverseSort(tc.in); got != tc.want {
			t.Errorf("reverseSort(%q) got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFirstRequestHeaders reads header columns from the first request of
// real dialogs: the same value decode gives for that message.
func TestFirstRequestHeaders(t *testing.T) {
	ds, msgs := loadCaptures(t, "busy.pcap", "register-401.pcap")
	var all []*correlate.Message
	for _, ms := range msgs {
		all = append(all, ms...)
	}
	got := firstRequestHeaders(all, []string{"User-Agent", "max-forwards", "X-Absent"})
	for _, d := range ds {
		var first *correlate.Message
		for _, m := range msgs[d.CallID] {
			if m.Request && (first == nil || m.Seq < first.Seq) {
				first = m
			}
		}
		want := first.Header("User-Agent")
		if want == "" {
			t.Fatalf("%s: the first request has no User-Agent to test with", d.CallID)
		}
		if got[d.CallID]["user-agent"] != want || got[d.CallID]["max-forwards"] != first.Header("Max-Forwards") || got[d.CallID]["x-absent"] != "" {
			t.Errorf("%s: got %q, want User-Agent %q Max-Forwards %q", d.CallID, got[d.CallID], want, first.Header("Max-Forwards"))
		}
		c, _ := parseColumns("User-Agent,Max-Forwards")
		if cellText(c[0], d, got) != d.UserAgent && d.UserAgent != "" {
			t.Errorf("%s: ua field %q, dialog says %q", d.CallID, cellText(c[0], d, got), d.UserAgent)
		}
		if cellText(c[1], d, got) != first.Header("Max-Forwards") {
			t.Errorf("%s: Max-Forwards column got %q", d.CallID, cellText(c[1], d, got))
		}
	}
}

func TestSelection(t *testing.T) {
	a, b, c := &correlate.Dialog{CallID: "a"}, &correlate.Dialog{CallID: "b"}, &correlate.Dialog{CallID: "c"}
	var s selection
	s.toggle(b)
	s.toggle(a)
	s.toggle(c)
	s.toggle(a)
	if !slices.Equal(s.ids, []string{"b", "c"}) || s.has("a") || !s.has("c") || s.len() != 2 {
		t.Errorf("got %q, want b c in marking order", s.ids)
	}
	if l := s.list(); l[0] != b || l[1] != c {
		t.Errorf("list got %v", l)
	}
	s.clear()
	if s.len() != 0 || s.has("b") {
		t.Error("clear left marks")
	}
}

func TestSaveHelpers(t *testing.T) {
	formats := []string{"html", "svg", "txt", "pcap"}
	for _, tc := range []struct{ path, want string }{
		{"call.html", "call.svg"},
		{"call.pcap", "call.html"},
		{"call", "call.html"},
		{"dir.v2/call", "dir.v2/call.html"},
		{"CALL.TXT", "CALL.pcap"},
	} {
		if got := nextFormat(tc.path, formats); got != tc.want {
			t.Errorf("nextFormat(%q) got %q, want %q", tc.path, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ids    []string
		format string
		want   string
	}{
		{[]string{"1-8570@127.0.0.1"}, "html", "1-8570_127.0.0.1.html"},
		{[]string{"../../etc/passwd"}, "pcap", "_.._etc_passwd.pcap"},
		{[]string{"a", "b"}, "txt", "sipscope-calls.txt"},
		{nil, "", "sipscope-calls.html"},
	} {
		if got := saveName(tc.ids, tc.format); got != tc.want {
			t.Errorf("saveName(%q) got %q, want %q", tc.ids, got, tc.want)
		}
	}
	s := saveScope{scope: scopeCurrent, have: [scopes]int{1, 0, 0}} // the list still counting
	s.next()
	if s.scope != scopeFiltered {
		t.Errorf("Tab while counting got %v, want filtered", s.scope)
	}
	s = saveScope{scope: scopeCurrent, have: [scopes]int{1, 0, 7}}
	s.next()
	if s.scope != scopeFiltered {
		t.Errorf("Tab from current with nothing marked got %v, want filtered", s.scope)
	}
	s.next()
	if s.scope != scopeCurrent {
		t.Errorf("Tab from filtered got %v, want current", s.scope)
	}
	s.have[scopeSelected] = 2
	s.next()
	if s.scope != scopeSelected {
		t.Errorf("Tab with marks got %v, want selected", s.scope)
	}
}

// TestFlowTimeModes: the time column shows time and delta (as `flow`),
// the time alone, or the delta alone, from the arrows' own values.
func TestFlowTimeModes(t *testing.T) {
	ds, msgs := loadCaptures(t, "retransmissions.pcap")
	l := render.Layout(ds, msgs[ds[0].CallID], render.LayoutOptions{})
	both := newFlowView(l, flowOptions{})
	abs := newFlowView(l, flowOptions{time: timeAbs})
	delta := newFlowView(l, flowOptions{time: timeDelta})
	g := gutter(l)
	for i, a := range l.Arrows {
		y := both.arrowLine(i)
		ts := a.Time.UTC().Format("15:04:05.000000")
		d := "+" + strconvSeconds(a.Delta)
		if !strings.Contains(both.lines[y][:g], ts) || i > 0 && !strings.Contains(both.lines[y+1][:g], d) {
			t.Errorf("arrow %d both: %q / %q lack %s / %s", i, both.lines[y], both.lines[y+1], ts, d)
		}
		if !strings.Contains(abs.lines[y][:g], ts) || strings.TrimSpace(abs.lines[y+1][:g]) != "" {
			t.Errorf("arrow %d time: %q / %q", i, abs.lines[y], abs.lines[y+1])
		}
		if strings.TrimSpace(delta.lines[y][:g]) != d || strings.TrimSpace(delta.lines[y+1][:g]) != "" {
			t.Errorf("arrow %d delta: %q / %q, want %s", i, delta.lines[y], delta.lines[y+1], d)
		}
		// The ladder right of the gutter is unchanged.
		if both.lines[y][g:] != delta.lines[y][g:] || both.lines[y+1][g:] != abs.lines[y+1][g:] {
			t.Errorf("arrow %d: the ladder changed with the time column", i)
		}
	}
}

func strconvSeconds(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }

// TestSDPDetail: with the SDP toggle, each SDP arrow shows its media's
// type, address:port, codecs and direction as the message's SDP says.
func TestSDPDetail(t *testing.T) {
	ds, msgs := loadCaptures(t, "reinvite-hold.pcap")
	l := render.Layout(ds, msgs[ds[0].CallID], render.LayoutOptions{})
	v := newFlowView(l, flowOptions{sdp: true})
	n := 0
	for i, a := range l.Arrows {
		if !a.SDP {
			continue
		}
		sdp := l.Messages[a.Msg].SDP
		m := sdp.Media[0]
		want := fmt.Sprintf("%s %s:%d", m.Type, m.Connection, m.Port)
		line := v.lines[v.arrowLine(i)] + v.lines[v.arrowLine(i)+1]
		if !strings.Contains(line, want) || m.Direction != "" && !strings.Contains(line, m.Direction) {
			t.Errorf("arrow %d: %q lacks %q %q", i, line, want, m.Direction)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("got %d SDP arrows, want the offer, answer and re-INVITE's", n)
	}
	if !strings.Contains(strings.Join(v.lines, "\n"), "sendonly") {
		t.Error("the hold re-INVITE's sendonly is not shown")
	}
	if l.Arrows[0].Label != strings.Split(l.Arrows[0].Label, " (SDP audio")[0] {
		t.Error("the SDP detail changed the ladder it was given")
	}
}

// TestFindingLines: the findings above the ladder are correlate.Diagnose's
// and correlate.DiagnoseMedia's (no streams here: an answered call gets
// no-media), one line each with the evidence.
func TestFindingLines(t *testing.T) {
	ds, msgs := loadCaptures(t, "retransmissions.pcap", "busy.pcap")
	for _, d := range ds {
		l := render.Layout([]*correlate.Dialog{d}, msgs[d.CallID], render.LayoutOptions{})
		fs := correlate.SortFindings(append(correlate.Diagnose(d, msgs[d.CallID], correlate.DefaultDiagnoseOptions()),
			correlate.DiagnoseMedia(d, msgs[d.CallID], nil, correlate.DefaultMediaDiagnoseOptions())...))
		lines := findingLines(l)
		if len(fs) == 0 || len(lines) != len(fs) {
			t.Fatalf("%s: got %d lines for %d findings", d.CallID, len(lines), len(fs))
		}
		for i, f := range fs {
			if !strings.Contains(lines[i], f.Code) || !strings.Contains(lines[i], fmt.Sprintf("#%d", f.Evidence[0])) {
				t.Errorf("%s: %q lacks %s #%d", d.CallID, lines[i], f.Code, f.Evidence[0])
			}
		}
		v := newFlowView(l, flowOptions{})
		if v.lines[0] != lines[0] || v.arrowAt(0) != -1 || !strings.Contains(v.lines[v.arrowLine(0)], "INVITE") {
			t.Errorf("%s: findings not above the ladder: %q", d.CallID, v.lines[:3])
		}
		if hidden := newFlowView(l, flowOptions{noFindings: true}); len(hidden.lines) != len(v.lines)-len(lines) {
			t.Errorf("%s: hiding findings left %d lines of %d", d.CallID, len(hidden.lines), len(v.lines))
		}
	}
}

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want string
	}{
		{"a b c", "a b c", " a  b  c"},
		{"a b c", "a x c", " a -b +x  c"},
		{"a b", "a b c", " a  b +c"},
		{"a b c", "c", "-a -b  c"},
		{"", "x", "+x"},
	} {
		var out []string
		for _, d := range diffLines(strings.Fields(tc.a), strings.Fields(tc.b)) {
			out = append(out, string(d.op)+d.text)
		}
		if got := strings.Join(out, " "); got != tc.want {
			t.Errorf("diff %q %q got %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestDiffReinvite: the diff of the INVITE and the hold re-INVITE shows
// the CSeq and the SDP direction changing, and shares the Call-ID line.
func TestDiffReinvite(t *testing.T) {
	ds, msgs := loadCaptures(t, "reinvite-hold.pcap")
	l := render.Layout(ds, msgs[ds[0].CallID], render.LayoutOptions{})
	v := newFlowView(l, flowOptions{})
	var invites []int
	for i, a := range l.Arrows {
		if a.Request && a.Method == "INVITE" && !a.Retrans {
			invites = append(invites, i)
		}
	}
	if len(invites) < 2 {
		t.Fatalf("got %d INVITEs, want the INVITE and a re-INVITE", len(invites))
	}
	v.selectArrow(invites[0], 10)
	v.toggleMark()
	v.selectArrow(invites[1], 10)
	i, j, ok := v.diffPair()
	if !ok || i != invites[0] || j != invites[1] {
		t.Fatalf("diffPair got %d %d %v", i, j, ok)
	}
	var plus, minus, same []string
	for _, d := range diffLines(messageLines(v.message(i)), messageLines(v.message(j))) {
		switch d.op {
		case '+':
			plus = append(plus, d.text)
		case '-':
			minus = append(minus, d.text)
		default:
			same = append(same, d.text)
		}
	}
	all := strings.Join(plus, "\n")
	if !slices.Contains(same, "Call-ID: "+ds[0].CallID) || !strings.Contains(all, "CSeq: 2 INVITE") || !strings.Contains(all, "a=sendonly") {
		t.Errorf("diff: same %q\nplus %q\nminus %q", same, plus, minus)
	}
}

func TestTallyLines(t *testing.T) {
	tl := Tally{Dialogs: 3, Messages: 9, States: map[string]int64{"busy": 1, "completed": 2}, Kinds: map[string]int64{"call": 3},
		Methods: map[string]int64{"INVITE": 3, "ACK": 2}, Statuses: map[int]int64{200: 3, 486: 1}}
	got := strings.Join(tallyLines(tl, Query{Filter: "kind=call"}), "\n")
	for _, want := range []string{"3 dialogs, 9 messages: the dialogs the filter", "Dialogs by state\n  completed", "  busy                          1   33.3%",
		"Requests by method\n  INVITE                        3   60.0%", "Responses by status\n  200                           3   75.0%"} {
		if !strings.Contains(got, want) {
			t.Errorf("stats lack %q:\n%s", want, got)
		}
	}
}

func TestSortOf(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{}, "start"},
		{Query{Filter: "state=busy SORT=-duration"}, "-duration"},
		{Query{Filter: "state=busy sort=-duration", Sort: "from"}, "from"},
		{Query{Filter: "sort="}, "start"},
	} {
		if got := sortOf(tc.q); got != tc.want {
			t.Errorf("sortOf(%+v) got %q, want %q", tc.q, got, tc.want)
		}
	}
}

// preparingSource is a Source that records the header sorts the UI asks
// it to prepare (SortPreparer).
type preparingSource struct {
	*fakeSource
	mu       sync.Mutex
	prepared map[string]int
}

func (p *preparingSource) PrepareSort(_ context.Context, header string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prepared[header]++
	return nil
}

func (p *preparingSource) count(h string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prepared[h]
}

// TestPrepareHeaderSorts: the UI asks its source to build the sort index
// of each header column it shows as it opens, again as dialogs arrive,
// and for a header column added with c; never for field columns.
func TestPrepareHeaderSorts(t *testing.T) {
	src := &preparingSource{fakeSource: sippSource(t), prepared: map[string]int{}}
	s := startSim(t, src, 100, 24, Options{Columns: []string{"start", "state", "X-Account"}})
	s.waitFor("X-ACCOUNT")
	wait := func(h string, atLeast int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for src.count(h) < atLeast {
			if time.Now().After(deadline) {
				t.Fatalf("PrepareSort(%q) called %d times, want at least %d", h, src.count(h), atLeast)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("X-Account", 1)
	s.app.Progress(Progress{Dialogs: 1})
	wait("X-Account", 2)
	s.enter("c", "start,P-Asserted-Identity")
	s.waitFor("P-ASSERTED-IDENTITY")
	wait("P-Asserted-Identity", 1)
	src.mu.Lock()
	defer src.mu.Unlock()
	for h := range src.prepared {
		if h != "X-Account" && h != "P-Asserted-Identity" {
			t.Errorf("PrepareSort(%q): not a header column", h)
		}
	}
}
