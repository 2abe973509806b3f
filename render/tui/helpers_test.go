package tui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// loadCaptures runs capture -> decode -> correlate over the repository's
// own SIPp captures: the tests see real dialogs and messages.
func loadCaptures(t testing.TB, names ...string) ([]*correlate.Dialog, map[string][]*correlate.Message) {
	t.Helper()
	var paths []string
	for _, n := range names {
		paths = append(paths, filepath.Join("..", "..", "testdata", "sipp", n))
	}
	src, err := capture.Open(paths, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var ds []*correlate.Dialog
	msgs := map[string][]*correlate.Message{}
	corr := correlate.New(correlate.Options{Keep: (*decode.Message).Clone}, correlate.SinkFunc(func(d *correlate.Dialog, ms []*correlate.Message) error {
		ds = append(ds, d)
		msgs[d.CallID] = append(msgs[d.CallID], ms...)
		return nil
	}))
	dec := decode.New(decode.Options{}, decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		if err := corr.Add(m); err != nil {
			t.Error(err)
		}
	}})
	if err := dec.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if err := corr.Flush(); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(ds, func(a, b *correlate.Dialog) int { return a.Start.Compare(b.Start) })
	return ds, msgs
}

// fakeSource serves dialogs from memory. It understands the filter
// "state=S" only (the real parser is the store's and is tested there) and
// searches Call-IDs and users. It records the largest page asked for, so
// tests can check the UI reads one screenful, not the list.
type fakeSource struct {
	mu       sync.Mutex
	dialogs  []*correlate.Dialog
	msgs     map[string][]*correlate.Message
	maxLimit int
	pages    int
	// deepGate, when set, holds every Deep query until it is closed or
	// the query is cancelled: a search of every message that takes long.
	deepGate chan struct{}
}

func (f *fakeSource) match(ctx context.Context, q Query) ([]*correlate.Dialog, error) {
	if q.Deep && f.deepGate != nil {
		select {
		case <-f.deepGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var state, call string
	if q.Filter != "" {
		s, ok := strings.CutPrefix(q.Filter, "state=")
		c, isCall := strings.CutPrefix(q.Filter, "call=")
		if !ok && !isCall {
			return nil, errors.New("filter term " + q.Filter + ": unknown")
		}
		if ok {
			state = s
		} else {
			call = c
		}
	}
	var out []*correlate.Dialog
	for _, d := range f.dialogs {
		if state != "" && string(d.State) != state || call != "" && d.CallID != call {
			continue
		}
		if q.Search != "" && !q.Deep && !strings.Contains(strings.ToLower(d.CallID+" "+d.From.User+" "+d.To.User), strings.ToLower(q.Search)) {
			continue
		}
		if q.Search != "" && q.Deep && !slices.ContainsFunc(f.msgs[d.CallID], func(m *correlate.Message) bool {
			return strings.Contains(strings.ToLower(string(m.Raw)), strings.ToLower(q.Search))
		}) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// size is how many dialogs f holds, all filters off.
func (f *fakeSource) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dialogs)
}

func (f *fakeSource) Count(ctx context.Context, q Query) (int, error) {
	ds, err := f.match(ctx, q)
	return len(ds), err
}

func (f *fakeSource) Dialogs(ctx context.Context, q Query, offset, limit int) ([]*correlate.Dialog, error) {
	ds, err := f.match(ctx, q)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.maxLimit = max(f.maxLimit, limit)
	f.pages++
	f.mu.Unlock()
	if offset >= len(ds) {
		return nil, nil
	}
	return ds[offset:min(offset+limit, len(ds))], nil
}

// Tally counts states and kinds of the dialogs q selects and methods and
// statuses of their messages.
func (f *fakeSource) Tally(ctx context.Context, q Query) (Tally, error) {
	ds, err := f.match(ctx, q)
	if err != nil {
		return Tally{}, err
	}
	t := Tally{Dialogs: int64(len(ds)), States: map[string]int64{}, Kinds: map[string]int64{}, Methods: map[string]int64{}, Statuses: map[int]int64{}}
	for _, d := range ds {
		t.States[string(d.State)]++
		t.Kinds[string(d.Kind)]++
		ms, _ := f.Messages(ctx, []string{d.CallID})
		for _, m := range ms {
			t.Messages++
			if m.Request {
				t.Methods[m.Method]++
			} else {
				t.Statuses[m.Status]++
			}
		}
	}
	return t, nil
}

func (f *fakeSource) Messages(_ context.Context, ids []string) ([]*correlate.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*correlate.Message
	for _, id := range ids {
		out = append(out, f.msgs[id]...)
	}
	return out, nil
}

// add appends dialogs, as a feed does while a file loads.
func (f *fakeSource) add(ds ...*correlate.Dialog) {
	f.mu.Lock()
	f.dialogs = append(f.dialogs, ds...)
	f.mu.Unlock()
}

// sim runs an App on a simulation screen of w x h cells.
type sim struct {
	t     *testing.T
	app   *App
	scr   tcell.SimulationScreen
	sized *sizedScreen
	done  chan error
	stop  context.CancelFunc
	src   Source
}

// sizedScreen is a simulation screen of a chosen size from Init on.
// Show and Sync hold mu, which readers of the cells hold too: the
// simulation screen hands out its cell slice without a copy.
type sizedScreen struct {
	tcell.SimulationScreen
	w, h  int
	ready chan struct{}
	mu    sync.Mutex
}

func (s *sizedScreen) Show() { s.mu.Lock(); defer s.mu.Unlock(); s.SimulationScreen.Show() }
func (s *sizedScreen) Sync() { s.mu.Lock(); defer s.mu.Unlock(); s.SimulationScreen.Sync() }

// contents copies the cells under mu.
func (s *sizedScreen) contents() ([]tcell.SimCell, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cells, w, h := s.GetContents()
	return slices.Clone(cells), w, h
}

func (s *sizedScreen) Init() error {
	err := s.SimulationScreen.Init()
	s.SetSize(s.w, s.h)
	close(s.ready)
	return err
}

func startSim(t *testing.T, src Source, w, h int, opts Options) *sim {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	app := New(src, opts)
	ctx, cancel := context.WithCancel(context.Background())
	s := &sim{t: t, app: app, scr: scr, done: make(chan error, 1), stop: cancel}
	sized := &sizedScreen{SimulationScreen: scr, w: w, h: h, ready: make(chan struct{})}
	s.sized = sized
	s.src = src
	go func() { s.done <- app.Run(ctx, sized) }()
	<-sized.ready
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return s
}

// text is the screen as lines.
func (s *sim) text() []string {
	cells, w, h := s.sized.contents()
	lines := make([]string, h)
	for y := range h {
		var b strings.Builder
		for x := range w {
			c := cells[y*w+x]
			if len(c.Runes) == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteRune(c.Runes[0])
			}
		}
		lines[y] = strings.TrimRight(b.String(), " ")
	}
	return lines
}

// waitFor waits until some line of the screen contains want.
func (s *sim) waitFor(want string) []string {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := s.text()
		for _, l := range lines {
			if strings.Contains(l, want) {
				return lines
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; it shows:\n%s", want, strings.Join(lines, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitList waits until the list shows every dialog of the fake source
// (or of one embedding it): a key pressed while the title already says
// "dialogs" but the rows are still on their way would land on an empty
// list.
func (s *sim) waitList() []string {
	s.t.Helper()
	f, ok := s.src.(interface{ size() int })
	if !ok {
		s.t.Fatalf("waitList: %T is not a fake source", s.src)
	}
	return s.waitFor(fmt.Sprintf("%d dialogs", f.size()))
}

// waitGone waits until no line of the screen contains gone.
func (s *sim) waitGone(gone string) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := s.text()
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, gone) }) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen still shows %q:\n%s", gone, strings.Join(lines, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// styleWhere is the style of the first non-blank cell of the first line
// ok accepts.
func (s *sim) styleWhere(ok func(string) bool) tcell.Style {
	s.t.Helper()
	cells, w, _ := s.sized.contents()
	for y, l := range s.text() {
		if ok(l) {
			x := len([]rune(l)) - len([]rune(strings.TrimLeft(l, " ")))
			return cells[y*w+x].Style
		}
	}
	s.t.Fatalf("no line matches")
	return tcell.StyleDefault
}

// style is the style of the first cell of the line containing want.
func (s *sim) lineStyle(want string) tcell.Style {
	s.t.Helper()
	cells, w, _ := s.sized.contents()
	for y, l := range s.text() {
		if i := strings.Index(l, want); i >= 0 {
			return cells[y*w+len([]rune(l[:i]))].Style
		}
	}
	s.t.Fatalf("no line with %q", want)
	return tcell.StyleDefault
}

// enter opens a prompt with the key open (f filter, c columns, / search,
// s save...), clears what it proposes, types text and presses Enter.
func (s *sim) enter(open, text string) {
	s.keys(open)
	s.key(tcell.KeyCtrlU)
	s.keys(text)
	s.key(tcell.KeyEnter)
}

// resize makes the terminal w x h cells, as a window resize does.
func (s *sim) resize(w, h int) {
	s.sized.mu.Lock()
	s.scr.SetSize(w, h)
	s.sized.mu.Unlock()
	_ = s.scr.PostEvent(tcell.NewEventResize(w, h))
}

func (s *sim) key(k tcell.Key) { s.scr.InjectKey(k, 0, tcell.ModNone) }
func (s *sim) keys(str string) {
	for _, r := range str {
		s.scr.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

// countState is how many of ds are in state st, worked out apart from the
// UI, for the counts its screens must show.
func countState(ds []*correlate.Dialog, st correlate.State) int {
	n := 0
	for _, d := range ds {
		if d.State == st {
			n++
		}
	}
	return n
}
