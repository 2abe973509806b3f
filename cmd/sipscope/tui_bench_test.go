package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/render/tui"
	"github.com/sipscope/sipscope/store"
)

// frameScreen is a simulation screen of a fixed size that signals every
// frame (Show), so that a benchmark can time a key to the frame that
// answers it.
type frameScreen struct {
	tcell.SimulationScreen
	w, h   int
	mu     sync.Mutex
	frames chan struct{}
	ready  chan struct{}
}

func (s *frameScreen) Init() error {
	err := s.SimulationScreen.Init()
	s.SetSize(s.w, s.h)
	close(s.ready)
	return err
}

func (s *frameScreen) Show() {
	s.mu.Lock()
	s.SimulationScreen.Show()
	s.mu.Unlock()
	select {
	case s.frames <- struct{}{}:
	default:
	}
}

func (s *frameScreen) lines() []string {
	s.mu.Lock()
	cells, w, h := s.GetContents()
	out := make([]string, h)
	for y := range h {
		var b strings.Builder
		for x := range w {
			if r := cells[y*w+x].Runes; len(r) > 0 {
				b.WriteRune(r[0])
			} else {
				b.WriteByte(' ')
			}
		}
		out[y] = strings.TrimRight(b.String(), " ")
	}
	s.mu.Unlock()
	return out
}

// waitFrame waits for a frame whose lines satisfy ok.
func (s *frameScreen) waitFrame(b *testing.B, what string, ok func([]string) bool) {
	deadline := time.After(60 * time.Second)
	for {
		if l := s.lines(); ok(l) {
			return
		}
		select {
		case <-s.frames:
		case <-deadline:
			b.Fatalf("no frame with %s; the screen shows:\n%s", what, strings.Join(s.lines(), "\n"))
		}
	}
}

// loaded: every visible row is drawn (no "N  …" placeholder), the first
// row is number first, and the title counts total dialogs and shows title.
func loaded(first, total int, title string) func([]string) bool {
	return func(ls []string) bool {
		if !strings.Contains(ls[0], dialogsTitle(total)) || !strings.Contains(ls[0], title) {
			return false
		}
		if total == 0 {
			return strings.Contains(strings.Join(ls, "\n"), "no dialogs yet")
		}
		if !strings.HasPrefix(ls[2], strconv.Itoa(first)+" ") {
			return false
		}
		for _, l := range ls[2 : len(ls)-1] {
			if strings.HasSuffix(l, "  …") {
				return false
			}
		}
		return true
	}
}

// BenchmarkTUIKeys opens the database $SIPSCOPE_TUI_DB (scripts/bench-tui.sh
// makes one of 100,000 calls from scripts/mkbench.sh's capture) in the
// terminal UI on an 80x24 simulation screen, as `sipscope tui --db` does,
// and times each key to the frame that shows its answer: scrolling a page
// deep in the list, jumping to the end of a list sorted by an unindexed-
// before-0009 column, sorting, and applying a filter. ns/op is the
// key-to-frame latency.
func BenchmarkTUIKeys(b *testing.B) {
	db := os.Getenv("SIPSCOPE_TUI_DB")
	if db == "" {
		b.Skip("SIPSCOPE_TUI_DB not set: scripts/bench-tui.sh makes the database and runs this")
	}
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n64, err := st.Count(ctx, store.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	total := int(n64)
	const w, h = 80, 24
	rows := h - 3
	scr := &frameScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8"), w: w, h: h, frames: make(chan struct{}, 1), ready: make(chan struct{})}
	// A header column (Contact, in every SIPp INVITE) as a user adds one:
	// the UI builds its sort index in the background from the start.
	opened := time.Now()
	app := tui.New(&storeSource{st: st}, tui.Options{Columns: strings.Split(tui.DefaultColumns+",Contact", ",")})
	app.Progress(tui.Progress{Finished: true})
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, scr) }()
	<-scr.ready
	defer func() {
		cancel()
		<-done
	}()
	scr.waitFrame(b, "the first screen", loaded(1, total, ""))
	key := func(k tcell.Key) { scr.InjectKey(k, 0, tcell.ModNone) }
	keys := func(s string) {
		for _, r := range s {
			scr.InjectKey(tcell.KeyRune, r, tcell.ModNone)
		}
	}
	b.Logf("%d dialogs", total)

	// setFilter types a filter line, untimed, and times Enter.
	setFilter := func(b *testing.B, expr string, want int) {
		b.StopTimer()
		keys("f")
		key(tcell.KeyCtrlU)
		keys(expr)
		scr.waitFrame(b, "the filter typed", func(ls []string) bool { return strings.HasSuffix(ls[h-1], expr) })
		b.StartTimer()
		key(tcell.KeyEnter)
		title := "filter: " + expr
		if expr == "" {
			title = ""
		}
		scr.waitFrame(b, "filter "+expr, loaded(1, want, title))
	}
	// sortBy sets a sort through the filter line's sort= term.
	countOf := func(expr string) int {
		f, err := store.ParseFilter(expr)
		if err != nil {
			b.Fatal(err)
		}
		n, err := st.Count(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		return int(n)
	}

	// The first sort by the header column, right after the first screen:
	// it waits for what is left of the index's build (the UI started it
	// when it opened). Timed once, by hand: b.N runs would time later sorts.
	keyAt := time.Now()
	setFilter(b, "sort=header:Contact", total)
	b.Logf("first sort by a header column: %v after the key, %v after the UI opened (background index build)",
		time.Since(keyAt).Round(time.Millisecond), time.Since(opened).Round(time.Millisecond))
	for _, expr := range []string{"sort=start", "sort=-duration", "sort=-messages", "sort=from", "state=completed sort=-duration",
		"sort=-header:Contact", "state=completed sort=header:Contact"} {
		total := countOf(expr)
		b.Run("scroll-deep/"+expr, func(b *testing.B) {
			setFilter(b, expr, total)
			key(tcell.KeyEnd)
			scr.waitFrame(b, "the end", loaded(total-rows+1, total, ""))
			// The list model's cursor and window (render/tui's listModel):
			// PgUp moves the cursor a page up and the window follows it.
			cursor, top := total-1, total-rows
			b.ResetTimer()
			for b.Loop() {
				if cursor-rows < rows {
					b.StopTimer()
					key(tcell.KeyEnd)
					cursor, top = total-1, total-rows
					scr.waitFrame(b, "the end", loaded(top+1, total, ""))
					b.StartTimer()
				}
				cursor -= rows
				top = min(top, cursor)
				key(tcell.KeyPgUp)
				scr.waitFrame(b, "a page up", loaded(top+1, total, ""))
			}
		})
		b.Run("end/"+expr, func(b *testing.B) {
			setFilter(b, expr, total)
			b.ResetTimer()
			for b.Loop() {
				key(tcell.KeyEnd)
				scr.waitFrame(b, "the end", loaded(total-rows+1, total, ""))
				b.StopTimer()
				key(tcell.KeyHome)
				scr.waitFrame(b, "the top", loaded(1, total, ""))
				b.StartTimer()
			}
		})
	}
	b.Run("sort-key", func(b *testing.B) {
		setFilter(b, "", total)
		b.ResetTimer()
		for b.Loop() {
			// O reverses the sort: a new query, counted and paged.
			keys("O")
			scr.waitFrame(b, "sort -start", loaded(1, total, "sort: -start"))
			keys("O")
			scr.waitFrame(b, "sort start", loaded(1, total, "sort: start"))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/key")
	})
	// "/" search: each key of a Call-ID typed (incremental, narrowing),
	// timed from the key to the frame that shows its count; then a term
	// that is in every dialog's From and one in none.
	searchCount := func(s string) int {
		n, err := st.Count(ctx, store.Filter{Search: s})
		if err != nil {
			b.Fatal(err)
		}
		return int(n)
	}
	var cid string
	for d, err := range st.Dialogs(ctx, store.Filter{Sort: "-start", Limit: 1}) {
		if err != nil {
			b.Fatal(err)
		}
		cid = d.CallID
	}
	terms := []string{cid, "alice", "zzz-none"}
	for _, term := range terms {
		counts := make([]int, len(term))
		for i := range term {
			counts[i] = searchCount(term[:i+1])
		}
		b.Run("search-key/"+term, func(b *testing.B) {
			setFilter(b, "", total)
			b.ResetTimer()
			keysTimed := 0
			for b.Loop() {
				b.StopTimer()
				keys("/")
				key(tcell.KeyCtrlU)
				scr.waitFrame(b, "the search prompt", func(ls []string) bool { return strings.HasPrefix(ls[h-1], "search [Tab") })
				b.StartTimer()
				for i, r := range term {
					keys(string(r))
					want := counts[i]
					scr.waitFrame(b, "search "+term[:i+1], func(ls []string) bool {
						return strings.Contains(ls[0], dialogsTitle(want)) && strings.Contains(ls[0], "search: "+term[:i+1]) &&
							(want == 0 || strings.HasPrefix(ls[2], "1 "))
					})
					keysTimed++
				}
				b.StopTimer()
				key(tcell.KeyEscape)
				key(tcell.KeyF5)
				scr.waitFrame(b, "the list", loaded(1, total, ""))
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keysTimed), "ns/key")
		})
	}
	for _, expr := range []string{"state=completed", "from~alice", "status>=300", "kind=call sort=-duration",
		"sort=header:Contact", "status>=300 sort=-header:Contact"} {
		want := countOf(expr)
		b.Run("filter/"+expr, func(b *testing.B) {
			for b.Loop() {
				setFilter(b, expr, want)
			}
		})
	}
}

// TestTUIFirstScreen times `sipscope tui $SIPSCOPE_TUI_PCAP` (issue 8: a
// 500,000-call capture shows its first screen within a second and fills
// in while it loads) on an 80x24 simulation screen: from runTUI's start
// to the first frame with a dialog row, then how the count grows, until
// the load ends. scripts/bench-tui.sh runs it with FIRST=CAPTURE.
func TestTUIFirstScreen(t *testing.T) {
	pcap := os.Getenv("SIPSCOPE_TUI_PCAP")
	if pcap == "" {
		t.Skip("SIPSCOPE_TUI_PCAP not set: a big capture to open")
	}
	scr := &frameScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8"), w: 80, h: 24, frames: make(chan struct{}, 1), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := tuiRun
	defer func() { tuiRun = run }()
	tuiRun = func(ctx context.Context, app *tui.App) error { return app.Run(ctx, scr) }
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- runTUI(ctx, &tuiOptions{source: sourceOptions{files: []string{pcap}}}, &streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	}()
	<-scr.ready
	var first time.Duration
	next := time.Second
	for {
		select {
		case err := <-done:
			t.Fatalf("the UI ended: %v", err)
		case <-scr.frames:
		case <-time.After(100 * time.Millisecond):
		}
		ls := scr.lines()
		el := time.Since(start)
		if first == 0 && len(ls) > 2 && strings.HasPrefix(ls[2], "1 ") && !strings.HasSuffix(ls[2], "…") {
			first = el
			t.Logf("first frame with a dialog row after %v: %s | %s", el.Round(time.Millisecond), ls[0], ls[len(ls)-1])
		}
		if el >= next {
			t.Logf("%5.1f s: %s | %s", el.Seconds(), ls[0], ls[len(ls)-1])
			next += 5 * time.Second
		}
		if first > 0 && strings.Contains(ls[len(ls)-1], "q quit") {
			t.Logf("loaded after %v: %s", el.Round(time.Millisecond), ls[0])
			break
		}
		if el > 10*time.Minute {
			t.Fatal("not loaded after 10 minutes")
		}
	}
	// The end of the load brings one more count.
	time.Sleep(2 * time.Second)
	t.Logf("2 s later: %s", scr.lines()[0])
	if first > time.Second {
		t.Errorf("first screen with a row after %v, want within 1 s", first)
	}
	cancel()
	<-done
}

// dialogsTitle is the count the list's title shows: " 1 dialog ", " 7 dialogs".
func dialogsTitle(n int) string {
	if n == 1 {
		return " 1 dialog "
	}
	return fmt.Sprintf(" %d dialogs", n)
}
