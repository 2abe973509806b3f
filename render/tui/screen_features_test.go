package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

// recordSaver is a Saver that records its requests.
type recordSaver struct {
	mu   sync.Mutex
	reqs []SaveRequest
}

func (r *recordSaver) save(_ context.Context, req SaveRequest) (int, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	n := 0
	for _, g := range req.Groups {
		n += len(g)
	}
	return n, strings.TrimPrefix(req.Path[strings.LastIndexByte(req.Path, '.'):], "."), nil
}

func (r *recordSaver) last() SaveRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

// TestMarkAndSave: Space marks two dialogs (a * and "2 marked"), s opens
// the save prompt on them with a file name, Ctrl-T switches the format by
// extension, Tab the scope; Enter hands the Saver the marked Call-IDs,
// then the filtered query.
func TestMarkAndSave(t *testing.T) {
	src := sippSource(t)
	rec := &recordSaver{}
	s := startSim(t, src, 80, 24, Options{Save: rec.save, SaveFormats: []string{"html", "pcap", "txt"}})
	s.waitList()
	s.keys("  ")
	s.waitFor("2 marked")
	s.waitFor("*1 ")
	s.waitFor("*2 ")
	s.keys("s")
	s.waitFor("save selected (2)")
	s.waitFor("sipscope-calls.html")
	s.key(tcell.KeyCtrlT)
	s.waitFor("sipscope-calls.pcap")
	s.key(tcell.KeyEnter)
	s.waitFor("saved 2 dialogs to sipscope-calls.pcap (pcap)")
	r := rec.last()
	want := [][]string{{src.dialogs[0].CallID}, {src.dialogs[1].CallID}}
	if fmt.Sprint(r.Groups) != fmt.Sprint(want) || r.Path != "sipscope-calls.pcap" {
		t.Errorf("save got %+v, want groups %v", r, want)
	}
	// Tab: current, then filtered (every dialog the query selects).
	s.keys("fstate=completed")
	s.key(tcell.KeyEnter)
	s.waitFor("filter: state=completed")
	s.waitFor(fmt.Sprintf("%d dialogs", countState(src.dialogs, correlate.StateCompleted)))
	s.keys("s")
	s.waitFor("save selected (2)")
	s.key(tcell.KeyTab)
	s.waitFor("save filtered")
	s.key(tcell.KeyCtrlU)
	s.keys("out.txt")
	s.key(tcell.KeyEnter)
	s.waitFor("saved 0 dialogs to out.txt")
	if r := rec.last(); r.Groups != nil || r.Query.Filter != "state=completed" || r.Path != "out.txt" {
		t.Errorf("filtered save got %+v", r)
	}
	// From a message, s saves its flow (current).
	s.key(tcell.KeyF5)
	s.waitList()
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow " + src.dialogs[0].CallID)
	s.key(tcell.KeyEnter)
	s.waitFor("Message (")
	s.key(tcell.KeyF2)
	s.waitFor("save current (1)")
	s.key(tcell.KeyEnter)
	s.waitFor("saved 1 dialog to")
	if r := rec.last(); fmt.Sprint(r.Groups) != fmt.Sprint([][]string{{src.dialogs[0].CallID}}) {
		t.Errorf("save from the message got %v", r.Groups)
	}
	s.keys("qq")
	s.waitList()
	for _, l := range s.text() {
		if strings.Contains(l, "marked") || strings.HasPrefix(l, "*") {
			t.Errorf("F5 left marks: %q", l)
		}
	}
}

// TestExtendedFlow: x on two marked dialogs draws one ladder of both,
// each Call-ID in its own colour; x on an unmarked dialog adds its linked
// legs.
func TestExtendedFlow(t *testing.T) {
	src := sippSource(t)
	// Link the first dialog to the last, as an X-Call-ID header would.
	first := *src.dialogs[0]
	last := src.dialogs[len(src.dialogs)-1]
	first.Linked = []string{last.CallID}
	src.dialogs[0] = &first
	s := startSim(t, src, 120, 40, Options{})
	s.waitFor("busy")
	s.keys("x")
	s.waitFor("Call flow 2 dialogs")
	lines := s.waitFor("[2]")
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, "[1]") {
		t.Errorf("the extended flow lacks call [1]:\n%s", text)
	}
	s.key(tcell.KeyEnd) // the selected arrow is drawn reversed, uncoloured
	s.waitFor(fmt.Sprintf("message %d/%d", first.Messages+last.Messages, first.Messages+last.Messages))
	arrow := func(call string) func(string) bool {
		return func(l string) bool { return strings.Contains(l, call) && strings.Contains(l, "│") }
	}
	c1, c2 := s.styleWhere(arrow("[1]")), s.styleWhere(arrow("[2]"))
	if fg1, _, _ := c1.Decompose(); fg1 == tcell.ColorDefault {
		t.Errorf("call [1] has no colour")
	}
	s.keys("q")
	s.waitFor("dialogs")
	// From the flow of the linked dialog, x adds its leg.
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow " + first.CallID)
	s.keys("x")
	s.waitFor("Call flow 2 dialogs")
	s.keys("q")
	s.waitFor("dialogs")
	// A dialog without links: x says so in its flow.
	s.key(tcell.KeyDown)
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow " + src.dialogs[1].CallID)
	s.keys("x")
	s.waitFor("no linked legs for " + src.dialogs[1].CallID)
	s.keys("q")
	s.waitFor("dialogs")
	s.key(tcell.KeyHome)
	s.keys(" ")
	s.key(tcell.KeyDown)
	s.keys(" x")
	s.waitFor("Call flow 2 dialogs")
	s.waitFor("[2]")
	if fg1, _, _ := c1.Decompose(); fg1 == func() tcell.Color { f, _, _ := c2.Decompose(); return f }() {
		t.Errorf("both calls drawn in %v", fg1)
	}
}

// TestColumnsAndSort: --columns with derived fields and a SIP header; c
// edits them; o sorts by the next column through the query.
func TestColumnsAndSort(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 120, 24, Options{Columns: []string{"state", "pdd", "retrans", "User-Agent", "callid"}})
	lines := s.waitFor("USER-AGENT")
	s.waitFor("sipscope-sipp-uac")
	if !strings.Contains(lines[1], "STATE ") || !strings.Contains(lines[1], "PDD") || !strings.Contains(lines[1], "RETR") {
		t.Errorf("header %q", lines[1])
	}
	var retrans *correlate.Dialog
	for _, d := range src.dialogs {
		if d.Retransmissions > 0 {
			retrans = d
		}
	}
	found := false
	for _, l := range s.waitFor(retrans.CallID) {
		if strings.Contains(l, retrans.CallID) && strings.Contains(l, fmt.Sprintf(" %d ", retrans.Retransmissions)) && strings.Contains(l, msText(retrans.SetupTime)) {
			found = true
		}
	}
	if !found {
		t.Errorf("no row with %s's %d retransmissions and PDD %s", retrans.CallID, retrans.Retransmissions, msText(retrans.SetupTime))
	}
	// The default order (start) is not a column shown: o sorts by the
	// first column, then the same descending; O reverses.
	s.keys("o")
	s.waitFor("sort: state")
	s.waitFor("STATE^")
	s.keys("o")
	s.waitFor("sort: -state")
	s.waitFor("STATEv")
	s.keys("O")
	s.waitFor("sort: state")
	s.keys("c")
	s.waitFor("columns: state,pdd,retrans,ua,callid")
	s.key(tcell.KeyCtrlU)
	s.keys("start,duration,X-Nope,callid")
	s.key(tcell.KeyEnter)
	s.waitFor("DURATION")
	s.waitFor("X-NOPE")
	s.enter("c", "state,bad name")
	s.waitFor(`column "bad name"`)
	s.waitFor("DURATION")
}

// TestFlowToggles: t cycles the time column, e the SDP detail, i the
// findings, p the preview pane, + and - its size.
func TestFlowToggles(t *testing.T) {
	src := sippSource(t)
	idx := 0
	for i, d := range src.dialogs {
		if d.Retransmissions > 0 {
			idx = i
		}
	}
	s := startSim(t, src, 100, 30, Options{})
	s.waitList()
	for range idx {
		s.key(tcell.KeyDown)
	}
	s.key(tcell.KeyEnter)
	s.waitFor("! warning retransmissions")
	s.waitFor("── message")
	if fg, _, attr := s.lineStyle(">>>").Decompose(); fg != tcell.ColorRed || attr&tcell.AttrBold == 0 {
		t.Errorf("retransmission arrow style fg %v attr %v, want bold red", fg, attr)
	}
	s.keys("t")
	s.waitFor("time column: time")
	s.keys("t")
	s.waitFor("time column: delta")
	s.waitFor("      +0.530690  ")
	s.keys("e")
	s.waitFor("(SDP audio 127.0.0.1:")
	s.keys("i")
	s.waitGone("! warning")
	s.keys("p")
	s.waitGone("── message")
	s.keys("p")
	before := ruleLine(s, -1)
	s.keys("++")
	ruleLine(s, before-2)
	s.keys("-")
	ruleLine(s, before-1)
}

// ruleLine waits for the preview pane's rule on line want (any line when
// want is -1) and returns its line.
func ruleLine(s *sim, want int) int {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for y, l := range s.text() {
			if strings.HasPrefix(l, "── message") && (want < 0 || y == want) {
				return y
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the preview rule never came to line %d:\n%s", want, strings.Join(s.text(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDiffScreen: Space marks the INVITE, d on the re-INVITE shows their
// diff with removed lines red and added lines green.
func TestDiffScreen(t *testing.T) {
	ds, msgs := loadCaptures(t, "reinvite-hold.pcap")
	src := &fakeSource{dialogs: ds, msgs: msgs}
	s := startSim(t, src, 100, 40, Options{})
	s.waitFor("1 dialog")
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow")
	s.keys("d")
	s.waitFor("diff: mark a message")
	s.keys(" ")
	s.waitFor("1 marked")
	// The re-INVITE: the second INVITE transaction's first arrow.
	l := render.Layout(ds, msgs[ds[0].CallID], render.LayoutOptions{})
	re := -1
	for i, a := range l.Arrows {
		if a.Request && a.Method == "INVITE" && l.Messages[a.Msg].CSeq == 2 && re < 0 {
			re = i
		}
	}
	if re < 0 {
		t.Fatal("no re-INVITE in reinvite-hold.pcap")
	}
	for range re {
		s.key(tcell.KeyDown)
	}
	s.waitFor(fmt.Sprintf("message %d/", re+1))
	s.keys("d")
	s.waitFor("Diff (")
	s.waitFor("--- message 1: INVITE")
	s.waitFor("+ CSeq: 2 INVITE")
	s.waitFor("- CSeq: 1 INVITE")
	if fg, _, _ := s.lineStyle("+ CSeq: 2 INVITE").Decompose(); fg != tcell.ColorGreen {
		t.Errorf("added line colour %v, want green", fg)
	}
	if fg, _, _ := s.lineStyle("- CSeq: 1 INVITE").Decompose(); fg != tcell.ColorRed {
		t.Errorf("removed line colour %v, want red", fg)
	}
	s.keys("q")
	s.waitFor("Call flow")
}

// TestStatsAndSettings: S counts what the list shows; F8 lists the
// settings and Enter changes them.
func TestStatsAndSettings(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 80, 40, Options{})
	s.waitList()
	s.keys("S")
	s.waitFor("Dialogs by state")
	s.waitFor(fmt.Sprintf("  busy                   %8d", countState(src.dialogs, correlate.StateBusy)))
	s.waitFor(fmt.Sprintf("  call                   %8d", len(src.dialogs)))
	s.waitFor("  INVITE")
	s.waitFor("  486")
	s.keys("q")
	s.waitFor("dialogs")
	s.key(tcell.KeyF8)
	s.waitFor("Call list columns    " + DefaultColumns)
	s.waitFor("Flow time column     time and delta")
	s.key(tcell.KeyDown)
	s.key(tcell.KeyDown)
	s.key(tcell.KeyEnter)
	s.waitFor("Flow time column     time")
	s.key(tcell.KeyDown)
	s.key(tcell.KeyEnter)
	s.waitFor("Flow SDP detail      on")
	s.key(tcell.KeyHome)
	s.key(tcell.KeyUp)
	s.key(tcell.KeyUp)
	s.key(tcell.KeyUp)
	s.key(tcell.KeyEnter)
	s.waitFor("columns: " + DefaultColumns)
}

// TestHelpListsEveryKey: the help names every key the screens answer.
func TestHelpListsEveryKey(t *testing.T) {
	help := strings.Join(helpLines, "\n")
	for _, k := range []string{"Enter", "Esc", "Up/Down", "j/k", "PgUp/PgDn", "Home/End", "Space", "F1", "h,", "s, F2", "/, F3",
		"x, F4", "F5", "S, F6", "f, F7", "F8", " o ", " O ", " c ", " t ", " e ", " i ", " m ", " p ", "+/-", " d ", "Tab", "Ctrl-T", "Ctrl-C", "Left/Right", "mouse"} {
		if !strings.Contains(help, k) {
			t.Errorf("help lacks %q", k)
		}
	}
}

// slowSource answers list queries after a delay, as a big store does.
type slowSource struct {
	*fakeSource
	delay atomic.Int64 // nanoseconds
}

func (s *slowSource) Count(ctx context.Context, q Query) (int, error) {
	time.Sleep(time.Duration(s.delay.Load()))
	return s.fakeSource.Count(ctx, q)
}

// TestKeyDuringQuery: End typed while a new sort is still counting is
// kept: the list ends up at its last row.
func TestKeyDuringQuery(t *testing.T) {
	base := sippSource(t).dialogs[0]
	src := &slowSource{fakeSource: &fakeSource{}}
	for i := range 500 {
		d := *base
		d.CallID = fmt.Sprintf("call-%04d", i)
		src.dialogs = append(src.dialogs, &d)
	}
	s := startSim(t, src, 80, 24, Options{})
	s.waitFor("500 dialogs")
	src.delay.Store(int64(200 * time.Millisecond))
	s.keys("o")
	s.key(tcell.KeyEnd)
	s.waitFor("sort: -start")
	s.waitFor("call-0499")
}

// TestHelpFitsNarrow: the help keeps every word on screen at 80 columns
// and, wrapped, at 50: no line wider than the terminal, no word lost,
// continuations under the description column.
func TestHelpFitsNarrow(t *testing.T) {
	text := func(ls []string) string { return strings.Join(strings.Fields(strings.Join(ls, " ")), "") }
	for _, w := range []int{80, 50} {
		got := wrapHanging(helpLines, w)
		for _, l := range got {
			if n := len([]rune(l)); n > w {
				t.Errorf("width %d: line of %d cells: %q", w, n, l)
			}
		}
		if text(got) != text(helpLines) {
			t.Errorf("width %d: the text changed", w)
		}
	}
	got := wrapHanging([]string{"  x, F4           extended flow: the marked dialogs, or this one"}, 40)
	want := []string{"  x, F4           extended flow: the", "                  marked dialogs, or", "                  this one"}
	if !slices.Equal(got, want) {
		t.Errorf("hanging indent:\n got %q\nwant %q", got, want)
	}
	s := startSim(t, sippSource(t), 50, 24, Options{})
	s.waitList()
	s.keys("h")
	s.waitFor("linked legs")
}

// TestMessageWraps: the message view shows a header longer than the
// terminal whole, its rest on indented lines, and wraps again on resize;
// the diff keeps its - and + on the continuations.
func TestMessageWraps(t *testing.T) {
	got := wrapCut(2)([]string{"- Via: SIP/2.0/UDP 127.0.0.1:15060;branch=z9hG4bK-1", "  short"}, 20)
	want := []string{"- Via: SIP/2.0/UDP 1", "-   27.0.0.1:15060;b", "-   ranch=z9hG4bK-1", "  short"}
	if !slices.Equal(got, want) {
		t.Errorf("wrapCut:\n got %q\nwant %q", got, want)
	}
	s := startSim(t, sippSource(t), 40, 24, Options{})
	s.waitList()
	s.key(tcell.KeyEnter)
	s.waitFor("Call flow")
	s.key(tcell.KeyEnter)
	s.waitFor("Message (")
	via := func() string {
		lines := s.waitFor("Via: ")
		for i, l := range lines {
			if strings.HasPrefix(l, "Via: ") && i+1 < len(lines) {
				if !strings.HasPrefix(lines[i+1], "  ") {
					t.Errorf("Via not continued on an indented line:\n%s", strings.Join(lines, "\n"))
				}
				return l + strings.TrimPrefix(lines[i+1], "  ")
			}
		}
		return ""
	}
	if v := via(); !strings.Contains(v, ";branch=z9hG4bK") {
		t.Errorf("Via cut: %q", v)
	}
	s.resize(120, 24) // one line again
	s.waitFor(";branch=z9hG4bK")
}

// TestFlowMergeAndAliases: the flow names columns from the aliases, and m
// lays it out again with one column per IP address (then back), the
// selected message kept.
func TestFlowMergeAndAliases(t *testing.T) {
	s := startSim(t, sippSource(t), 100, 30, Options{Aliases: render.Aliases{"127.0.0.1:5060": "bob-uas"}})
	s.waitList()
	s.key(tcell.KeyEnter)
	s.waitFor("127.0.0.1:15060               bob-uas") // the column heads: address, alias
	s.key(tcell.KeyDown)
	s.waitFor("message 2/")
	s.keys("m")
	s.waitFor("columns: one per IP address")
	s.waitFor("│──┐ INVITE") // one host: each message an arrow to itself
	s.waitFor("message 2/")
	s.keys("m")
	s.waitFor("127.0.0.1:15060               bob-uas")
}

// TestMouse: the wheel moves the selection, a click selects a row, a
// click on the selected row opens its flow, and the wheel moves between
// the flow's messages.
func TestMouse(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 100, 30, Options{})
	s.waitList()
	selected := func() string {
		for _, l := range s.text()[2:] {
			if _, _, attr := s.lineStyle(l).Decompose(); l != "" && attr&tcell.AttrReverse != 0 {
				return strings.Fields(l)[0]
			}
		}
		return ""
	}
	mouse := func(y int, b tcell.ButtonMask) { s.scr.InjectMouse(5, y, b, tcell.ModNone) }
	waitSel := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for selected() != want {
			if time.Now().After(deadline) {
				t.Fatalf("selected row %q, want %q:\n%s", selected(), want, strings.Join(s.text(), "\n"))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSel("1")
	mouse(10, tcell.WheelDown)
	mouse(10, tcell.ButtonNone)
	waitSel("4")
	mouse(3, tcell.Button1) // row 2 (the list starts on screen line 2)
	mouse(3, tcell.ButtonNone)
	waitSel("2")
	mouse(3, tcell.Button1)
	mouse(3, tcell.ButtonNone)
	s.waitFor("Call flow")
	s.waitFor("message 1/")
	mouse(10, tcell.WheelDown)
	s.waitFor("message 2/")
}
