package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/render/tui"
)

// TestTUISortHeader: `sipscope tui --columns start,X-Account,callid` on a
// SIPp capture whose six INVITEs carry X-Account values (one none), then
// o o (start, -start, X-Account): the list is in X-Account order,
// case-insensitive, the call without the header first; O reverses it.
// Through the real store: its header index, built on the first sort.
func TestTUISortHeader(t *testing.T) {
	const pcap = "../../testdata/sipp/x-account.pcap"
	scr := &frameScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8"), w: 100, h: 20, frames: make(chan struct{}, 1), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	run := tuiRun
	defer func() { tuiRun = run }()
	tuiRun = func(ctx context.Context, app *tui.App) error { return app.Run(ctx, scr) }
	done := make(chan error, 1)
	go func() {
		done <- runTUI(ctx, &tuiOptions{source: sourceOptions{files: []string{pcap}}, columns: "start,X-Account,callid"},
			&streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the UI did not end after cancel")
		}
	}()
	<-scr.ready
	wait := func(what string, ok func([]string) bool) []string {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			if l := scr.lines(); ok(l) {
				return l
			}
			select {
			case <-scr.frames:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("no frame with %s; the screen shows:\n%s", what, strings.Join(scr.lines(), "\n"))
			}
		}
	}
	wait("6 dialogs loaded", func(l []string) bool {
		return strings.Contains(l[0], " 6 dialogs") && strings.Contains(l[len(l)-1], "q quit")
	})
	// accounts reads the X-ACCOUNT column of the six rows, once the
	// header marks it sorted with arrow.
	accounts := func(arrow string) []string {
		t.Helper()
		var vals []string
		wait("X-ACCOUNT"+arrow, func(l []string) bool {
			from, to := strings.Index(l[1], "X-ACCOUNT"+arrow), strings.Index(l[1], "CALL-ID")
			if from < 0 || to < from {
				return false
			}
			vals = vals[:0]
			for _, r := range l[2:8] {
				if len(r) < to || strings.HasSuffix(r, "…") {
					return false
				}
				vals = append(vals, strings.TrimSpace(r[from:to]))
			}
			return true
		})
		return vals
	}
	for range 2 {
		scr.InjectKey(tcell.KeyRune, 'o', tcell.ModNone)
	}
	up := accounts("^")
	fold := func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
	if !slices.IsSortedFunc(up, fold) || up[0] != "" || len(slices.Compact(slices.Clone(up))) != 6 {
		t.Errorf("sorted by X-Account: %q, want ascending case-insensitively, the call without it first, six values", up)
	}
	t.Logf("X-Account ascending: %q", up) // what -v shows
	scr.InjectKey(tcell.KeyRune, 'O', tcell.ModNone)
	down := accounts("v")
	if want := slices.Clone(up); !slices.Equal(down, func() []string { slices.Reverse(want); return want }()) {
		t.Errorf("reversed: %q, want %q reversed", down, up)
	}
}
