package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/correlate"
)

func sippSource(t *testing.T) *fakeSource {
	ds, msgs := loadCaptures(t, "busy.pcap", "cancelled.pcap", "retransmissions.pcap", "notfound.pcap", "udp-basic.pcap")
	return &fakeSource{dialogs: ds, msgs: msgs}
}

// TestListScreen: every dialog with its state and final status at 80x24,
// the selected row in reverse video, colours by state.
func TestListScreen(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 80, 24, Options{Title: "sipp"})
	lines := s.waitList()
	for _, d := range src.dialogs {
		found := false
		for _, l := range lines {
			if strings.Contains(l, string(d.State)) && strings.Contains(l, d.CallID[:8]) && (d.FinalStatus == 0 || strings.Contains(l, fmt.Sprint(d.FinalStatus))) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row for %s (%s %d):\n%s", d.CallID, d.State, d.FinalStatus, strings.Join(lines, "\n"))
		}
	}
	if _, _, attr := s.lineStyle(src.dialogs[0].CallID[:8]).Decompose(); attr&tcell.AttrReverse == 0 {
		t.Error("first row is not highlighted")
	}
	busy := ""
	for _, d := range src.dialogs {
		if d.State == correlate.StateBusy {
			busy = d.CallID
		}
	}
	if fg, _, _ := s.lineStyle(busy[:8]).Decompose(); fg != tcell.ColorRed {
		t.Errorf("busy row colour got %v, want red", fg)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.maxLimit > 24 {
		t.Errorf("the UI asked for %d rows at once on a 24-line screen", src.maxLimit)
	}
}

// TestNoColor: with NoColor no cell has a foreground colour.
func TestNoColor(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 80, 24, Options{NoColor: true})
	s.waitFor("busy")
	cells, _, _ := s.sized.contents()
	for _, c := range cells {
		if fg, _, _ := c.Style.Decompose(); fg != tcell.ColorDefault {
			t.Fatalf("a cell has colour %v with NoColor", fg)
		}
	}
}

// TestFlowAndMessageScreens: Enter opens the ladder of the selected dialog
// with its final response and the raw message below; Down moves the
// selection; Enter shows the whole message; q goes back, twice.
func TestFlowAndMessageScreens(t *testing.T) {
	src := sippSource(t)
	var busy *correlate.Dialog
	idx := 0
	for i, d := range src.dialogs {
		if d.State == correlate.StateBusy {
			busy, idx = d, i
		}
	}
	s := startSim(t, src, 80, 24, Options{})
	s.waitFor("busy")
	for range idx {
		s.key(tcell.KeyDown)
	}
	s.key(tcell.KeyEnter)
	lines := s.waitFor("Call flow " + busy.CallID)
	s.waitFor("486 Busy Here")
	s.waitFor("INVITE sip:") // preview of the first message
	if _, _, attr := s.lineStyle("INVITE (SDP").Decompose(); attr&tcell.AttrReverse == 0 {
		t.Errorf("first arrow not highlighted:\n%s", strings.Join(lines, "\n"))
	}
	s.key(tcell.KeyDown)
	s.waitFor("message 2/")
	s.key(tcell.KeyEnd)
	s.waitFor(fmt.Sprintf("message %d/%d", busy.Messages, busy.Messages))
	s.key(tcell.KeyEnter)
	s.waitFor("Message (" + busy.CallID + ")")
	s.waitFor("CSeq:")
	s.keys("q")
	s.waitFor("Call flow")
	s.keys("q")
	s.waitFor("dialogs")
	s.keys("q")
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Run returned %v after q, want nil", err)
		}
		s.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("q on the call list did not quit")
	}
}

// TestSearchFilterHelp: / filters as you type, the filter line applies on
// Enter and shows the source's error for a bad term, F5 clears, h helps.
func TestSearchFilterHelp(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 80, 24, Options{})
	s.waitList()
	target := src.dialogs[2].CallID
	s.keys("/" + target)
	s.waitFor("1 dialog ")
	s.key(tcell.KeyEnter)
	s.waitFor("search: " + target)
	s.key(tcell.KeyF5)
	s.waitList()
	s.keys("fstate=busy")
	s.key(tcell.KeyEnter)
	s.waitFor("filter: state=busy")
	s.waitFor("1 dialog ")
	s.enter("f", "colour=red")
	s.waitFor("filter term colour=red")
	s.keys("h")
	s.waitFor("sipscope terminal UI: keys")
	s.waitFor("state=busy,rejected from~alice")
	// Escape closes the help onto the list, still filtered by state=busy
	// (the bad term changed nothing). Waiting for "dialogs" here matched
	// the help text itself until the list's title became "1 dialog", and
	// failed when the help had closed first.
	s.key(tcell.KeyEscape)
	s.waitGone("sipscope terminal UI: keys")
	s.waitFor("1 dialog ")
}

// TestLiveFill: dialogs added while the UI runs show up on the next
// progress report, with the progress on the status line.
func TestLiveFill(t *testing.T) {
	all := sippSource(t)
	src := &fakeSource{msgs: all.msgs}
	s := startSim(t, src, 80, 24, Options{})
	s.waitFor("no dialogs yet")
	src.add(all.dialogs[:2]...)
	s.app.Progress(Progress{Done: 1000, Total: 4000, Messages: 10, Dialogs: 2})
	s.waitFor("2 dialogs")
	s.waitFor("loading 25%")
	src.add(all.dialogs[2:]...)
	s.app.Progress(Progress{Done: 4000, Total: 4000, Messages: 40, Dialogs: int64(len(all.dialogs)), Finished: true})
	s.waitFor(fmt.Sprintf("%d dialogs", len(all.dialogs)))
	s.waitFor("q quit")
}

// TestLargeList: a 100,000-dialog source scrolls by pages; the UI reads a
// screenful per query and the last dialog is reachable with End.
func TestLargeList(t *testing.T) {
	base := sippSource(t).dialogs[0]
	src := &fakeSource{}
	for i := range 100000 {
		d := *base
		d.CallID = fmt.Sprintf("call-%06d", i)
		src.dialogs = append(src.dialogs, &d)
	}
	s := startSim(t, src, 80, 24, Options{})
	s.waitFor("100000 dialogs")
	s.key(tcell.KeyEnd)
	// The last row's number is whole (the number column widens past
	// 99,999); at 80 columns the Call-ID column then shows 10 characters.
	ls := s.waitFor("call-09999")
	if !slices.ContainsFunc(ls, func(l string) bool { return strings.HasPrefix(l, "100000 ") }) {
		t.Errorf("no row numbered 100000 (whole) at the end:\n%s", strings.Join(ls, "\n"))
	}
	s.key(tcell.KeyPgUp)
	s.waitFor("call-0999")
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.maxLimit > 24 {
		t.Errorf("asked for %d rows at once, want a screenful", src.maxLimit)
	}
}

// TestPanicRestores: a panic on the UI goroutine (here in drawing) comes
// back as an error with the screen already finalised.
func TestPanicRestores(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	app := New(sippSource(t), Options{})
	err := app.Run(context.Background(), &panicScreen{&sizedScreen{SimulationScreen: scr, w: 80, h: 24, ready: make(chan struct{})}})
	if err == nil || !strings.Contains(err.Error(), "panic: boom") {
		t.Fatalf("got %v, want the panic as an error", err)
	}
	if _, w, h := scr.GetContents(); w != 0 || h != 0 {
		t.Errorf("screen still %dx%d after the panic, want finalised", w, h)
	}
}

type panicScreen struct{ *sizedScreen }

func (p *panicScreen) Show() { panic("boom") }

// TestDeepSearch: Tab in the search prompt searches every message (here
// a Via branch, in no summary field), on Enter only; while it runs the
// status line says so and Esc stops it (the list comes back, the UI does
// not quit); let run, it finds the one dialog.
func TestDeepSearch(t *testing.T) {
	src := sippSource(t)
	src.deepGate = make(chan struct{})
	d := src.dialogs[2]
	raw := string(src.msgs[d.CallID][0].Raw)
	i := strings.Index(raw, "branch=")
	if i < 0 {
		t.Fatal("test data: no branch in the first message")
	}
	branch := raw[i+len("branch=") : i+len("branch=")+strings.IndexAny(raw[i+len("branch="):], ";\r\n")]
	for _, o := range src.dialogs {
		if strings.Contains(o.CallID+o.From.User+o.To.User, branch) {
			t.Fatalf("test data: %s is in a summary field", branch)
		}
	}
	all := fmt.Sprintf("%d dialogs", len(src.dialogs))
	s := startSim(t, src, 80, 24, Options{})
	s.waitFor(all)
	s.keys("/")
	s.key(tcell.KeyTab)
	s.waitFor("search every message, on Enter")
	s.keys(branch)
	s.waitFor(branch)
	s.key(tcell.KeyEnter)
	s.waitFor("searching every message")
	s.waitFor("(Esc stops)")
	s.key(tcell.KeyEscape)
	s.waitFor("search stopped")
	s.waitFor(all)
	close(src.deepGate)
	s.keys("/")
	s.key(tcell.KeyTab)
	s.waitFor("search every message, on Enter")
	s.key(tcell.KeyCtrlU)
	s.keys(branch)
	s.key(tcell.KeyEnter)
	s.waitFor("search messages: " + branch)
	s.waitFor("1 dialog ")
	s.waitFor(d.CallID[:len(d.CallID)/2]) // the column may cut it
	s.keys("/")
	s.waitFor("search every message, on Enter") // the prompt keeps the mode
	s.key(tcell.KeyTab)                         // back to the summary fields, searched at once
	s.waitFor("search [Tab: messages]: " + branch)
	s.waitFor("0 dialogs")
}

// TestLiveStatus: a live capture's progress shows its own counters on
// the status line (packets, SIP messages, dialogs, calls in progress,
// drops), not bytes of a file.
func TestLiveStatus(t *testing.T) {
	src := sippSource(t)
	s := startSim(t, src, 100, 24, Options{})
	s.app.Progress(Progress{Messages: 40, Dialogs: 5, Live: &LiveProgress{Packets: 1234, SIP: 40, Dialogs: 5, InProgress: 3, Drops: 7}})
	s.waitFor("capturing  1234 packets  40 SIP  5 dialogs  3 in progress  7 drops")
	if strings.Contains(strings.Join(s.text(), "\n"), "0 B") {
		t.Errorf("live status shows bytes:\n%s", strings.Join(s.text(), "\n"))
	}
}
