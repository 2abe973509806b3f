package tui

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

// Options tune the UI.
type Options struct {
	// NoColor draws without colours (reverse video marks the selection):
	// set it when NO_COLOR is set or the terminal has no colours.
	NoColor bool
	// Title names what is shown, e.g. the file name.
	Title string
}

type screenID int

const (
	screenList screenID = iota
	screenFlow
	screenMessage
	screenHelp
)

// input says what the bottom line is editing.
type input int

const (
	inputNone input = iota
	inputFilter
	inputSearch
)

// App is the terminal UI. Make it with New; Progress may be called from
// any goroutine, before or during Run.
type App struct {
	src  Source
	opts Options

	mu       sync.Mutex
	progress Progress
	started  time.Time     // first progress report, for the rate
	notify   chan struct{} // a progress update is waiting (size 1)

	results chan func() // query results, applied on the UI goroutine

	// Owned by the goroutine running Run.
	scr      tcell.Screen
	ctx      context.Context
	query    Query
	gen      int // query generation; results of older ones are dropped
	list     listModel
	loading  bool // a list query is running
	dirty    bool // another one is needed after it
	recount  bool // the next list query counts again
	flow     *flowView
	flowCall string
	msg      textView
	help     textView
	stack    []screenID
	in       input
	edit     lineEdit
	status   string // last error or notice
	shown    Progress
	quit     bool
}

// New makes a UI over src.
func New(src Source, opts Options) *App {
	return &App{
		src: src, opts: opts,
		notify:  make(chan struct{}, 1),
		results: make(chan func(), 16),
		stack:   []screenID{screenList},
	}
}

// Progress records how far the feed has come and wakes the UI, which
// redraws and re-queries. Safe from any goroutine; never blocks.
func (a *App) Progress(p Progress) {
	a.mu.Lock()
	a.progress = p
	if a.started.IsZero() {
		a.started = time.Now()
	}
	a.mu.Unlock()
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// RunTerminal shows the UI on the process's terminal (see Run), so that
// callers need not know tcell.
func (a *App) RunTerminal(ctx context.Context) error {
	scr, err := tcell.NewScreen()
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	return a.Run(ctx, scr)
}

// Run shows the UI on scr (initialising it) until the user quits or ctx
// ends. It restores the terminal before returning, also when it panics:
// the panic comes back as an error with its stack.
func (a *App) Run(ctx context.Context, scr tcell.Screen) (err error) {
	if err := scr.Init(); err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer func() {
		scr.Fini()
		if r := recover(); r != nil {
			err = fmt.Errorf("tui: panic: %v\n%s", r, debug.Stack())
		}
	}()
	a.scr, a.ctx = scr, ctx
	scr.EnableMouse(tcell.MouseButtonEvents)
	scr.Clear()
	events := make(chan tcell.Event, 16)
	stop := make(chan struct{})
	defer close(stop)
	go scr.ChannelEvents(events, stop)

	a.recount = true
	a.layout()
	a.fetch()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !a.quit {
		a.draw()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			a.handle(ev)
		case apply := <-a.results:
			apply()
		case <-a.notify:
			a.recount = true
			a.fetch()
		case <-tick.C:
			// redraw the status line (rate); nothing else
		}
	}
	return nil
}

// layout sizes the models to the screen.
func (a *App) layout() {
	_, h := a.scr.Size()
	a.list.setHeight(h - 3) // title, header, status
}

// fetch loads the visible window of the list, one query at a time: when
// one is running it only notes that another is needed.
func (a *App) fetch() {
	if a.loading {
		a.dirty = true
		return
	}
	a.loading, a.dirty = true, false
	q, gen, recount := a.query, a.gen, a.recount || a.list.total == 0
	a.recount = false
	off, n := a.list.top, a.list.height
	total := a.list.total
	ctx := a.ctx
	go func() {
		var err error
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("query panicked: %v", r)
				a.results <- func() { a.loading = false; a.status = err.Error() }
			}
		}()
		if recount {
			total, err = a.src.Count(ctx, q)
		}
		var rows []*correlate.Dialog
		if err == nil {
			rows, err = a.src.Dialogs(ctx, q, off, n)
		}
		select {
		case a.results <- func() { a.listLoaded(gen, off, total, rows, err) }:
		case <-ctx.Done():
		}
	}()
}

// listLoaded applies a list query's result on the UI goroutine.
func (a *App) listLoaded(gen, off, total int, rows []*correlate.Dialog, err error) {
	a.loading = false
	if gen == a.gen {
		if err != nil {
			a.status = err.Error()
		} else {
			a.list.setTotal(total)
			a.list.setRows(off, rows)
		}
	}
	if a.dirty || gen != a.gen || !a.list.covered() {
		a.fetch()
	}
}

// setQuery starts a new query from the top.
func (a *App) setQuery(q Query) {
	a.query = q
	a.gen++
	a.status = ""
	a.list.reset()
	a.list.total = 0
	a.recount = true
	a.fetch()
}

func (a *App) top() screenID   { return a.stack[len(a.stack)-1] }
func (a *App) push(s screenID) { a.stack = append(a.stack, s) }
func (a *App) pop() {
	if len(a.stack) > 1 {
		a.stack = a.stack[:len(a.stack)-1]
	} else {
		a.quit = true
	}
}

// handle answers one terminal event.
func (a *App) handle(ev tcell.Event) {
	switch ev := ev.(type) {
	case *tcell.EventResize:
		a.scr.Sync()
		a.layout()
		if !a.list.covered() {
			a.fetch()
		}
	case *tcell.EventKey:
		if ev.Key() == tcell.KeyCtrlC {
			a.quit = true
			return
		}
		if a.in != inputNone {
			a.editKey(ev)
			return
		}
		a.status = "" // an error stays on the status line until the next key
		switch a.top() {
		case screenList:
			a.listKey(ev)
		case screenFlow:
			a.flowKey(ev)
		case screenMessage, screenHelp:
			a.textKey(ev)
		}
	case *tcell.EventMouse:
		a.mouse(ev)
	}
}

// common handles the keys every screen shares; true when it did.
func (a *App) common(ev *tcell.EventKey) bool {
	switch {
	case ev.Key() == tcell.KeyEscape || ev.Rune() == 'q':
		a.pop()
	case ev.Key() == tcell.KeyF1 || ev.Rune() == 'h' || ev.Rune() == '?':
		if a.top() != screenHelp {
			a.help = textView{lines: helpLines}
			a.push(screenHelp)
		}
	default:
		return false
	}
	return true
}

func (a *App) listKey(ev *tcell.EventKey) {
	before := a.list.top
	switch {
	case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
		a.list.move(-1)
	case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
		a.list.move(1)
	case ev.Key() == tcell.KeyPgUp:
		a.list.move(-a.list.height)
	case ev.Key() == tcell.KeyPgDn || ev.Rune() == ' ':
		a.list.move(a.list.height)
	case ev.Key() == tcell.KeyHome || ev.Rune() == 'g':
		a.list.home()
	case ev.Key() == tcell.KeyEnd || ev.Rune() == 'G':
		a.list.end()
	case ev.Key() == tcell.KeyEnter:
		if d := a.list.selected(); d != nil {
			a.openFlow(d)
		}
	case ev.Key() == tcell.KeyF7 || ev.Rune() == 'f':
		a.in = inputFilter
		a.edit.set(a.query.Filter)
	case ev.Key() == tcell.KeyF3 || ev.Rune() == '/':
		a.in = inputSearch
		a.edit.set(a.query.Search)
	case ev.Key() == tcell.KeyF5:
		a.setQuery(Query{Sort: a.query.Sort})
	case ev.Rune() == 'o':
		a.cycleSort()
	default:
		a.common(ev)
	}
	if a.list.top != before || !a.list.covered() {
		a.fetch()
	}
}

// sortOrders are the orders 'o' cycles through.
var sortOrders = []string{"", "-start", "-duration", "status", "-messages", "from", "to", "state"}

func (a *App) cycleSort() {
	i := 0
	for j, s := range sortOrders {
		if s == a.query.Sort {
			i = j
		}
	}
	q := a.query
	q.Sort = sortOrders[(i+1)%len(sortOrders)]
	a.setQuery(q)
}

// editKey edits the filter or search line. Search applies on every key
// (incremental); the filter applies on Enter, since half a term is an
// error.
func (a *App) editKey(ev *tcell.EventKey) {
	switch ev.Key() {
	case tcell.KeyEscape:
		a.in = inputNone
		return
	case tcell.KeyEnter:
		q := a.query
		if a.in == inputFilter {
			q.Filter = a.edit.String()
		} else {
			q.Search = a.edit.String()
		}
		a.in = inputNone
		a.setQuery(q)
		return
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		a.edit.backspace()
	case tcell.KeyLeft:
		a.edit.left()
	case tcell.KeyRight:
		a.edit.right()
	case tcell.KeyHome, tcell.KeyCtrlA:
		a.edit.pos = 0
	case tcell.KeyEnd, tcell.KeyCtrlE:
		a.edit.pos = len(a.edit.text)
	case tcell.KeyCtrlU:
		a.edit.set("")
	case tcell.KeyRune:
		a.edit.insert(ev.Rune())
	default:
		return
	}
	if a.in == inputSearch {
		q := a.query
		q.Search = a.edit.String()
		a.setQuery(q)
	}
}

// openFlow loads a dialog's messages and shows its ladder.
func (a *App) openFlow(d *correlate.Dialog) {
	callID := d.CallID
	a.status = "loading " + callID
	ctx := a.ctx
	go func() {
		msgs, err := a.src.Messages(ctx, []string{callID})
		apply := func() {
			if err != nil {
				a.status = err.Error()
				return
			}
			a.status = ""
			a.flow = newFlowView(render.Layout([]*correlate.Dialog{d}, msgs, render.LayoutOptions{}))
			a.flowCall = callID
			a.flow.selectArrow(0, a.flowHeight())
			a.push(screenFlow)
		}
		select {
		case a.results <- apply:
		case <-ctx.Done():
		}
	}()
}

// flowHeight is the ladder pane's height: above the preview pane.
func (a *App) flowHeight() int {
	_, h := a.scr.Size()
	return max(h-2-a.previewHeight(), 1)
}

func (a *App) previewHeight() int {
	_, h := a.scr.Size()
	return max((h-2)/3, 3)
}

func (a *App) flowKey(ev *tcell.EventKey) {
	f := a.flow
	h := a.flowHeight()
	w, _ := a.scr.Size()
	switch {
	case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
		f.selectArrow(f.sel-1, h)
	case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
		f.selectArrow(f.sel+1, h)
	case ev.Key() == tcell.KeyPgUp:
		f.selectArrow(f.sel-h/2, h)
	case ev.Key() == tcell.KeyPgDn || ev.Rune() == ' ':
		f.selectArrow(f.sel+h/2, h)
	case ev.Key() == tcell.KeyHome || ev.Rune() == 'g':
		f.selectArrow(0, h)
	case ev.Key() == tcell.KeyEnd || ev.Rune() == 'G':
		f.selectArrow(len(f.ladder.Arrows)-1, h)
	case ev.Key() == tcell.KeyLeft:
		f.scrollX(-8, w)
	case ev.Key() == tcell.KeyRight:
		f.scrollX(8, w)
	case ev.Key() == tcell.KeyEnter:
		a.msg = textView{lines: messageLines(f.selectedMessage())}
		a.push(screenMessage)
	default:
		a.common(ev)
	}
}

func (a *App) textKey(ev *tcell.EventKey) {
	t := &a.msg
	if a.top() == screenHelp {
		t = &a.help
	}
	_, h := a.scr.Size()
	h -= 2
	switch {
	case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
		t.scroll(-1, h)
	case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
		t.scroll(1, h)
	case ev.Key() == tcell.KeyPgUp:
		t.scroll(-h, h)
	case ev.Key() == tcell.KeyPgDn || ev.Rune() == ' ':
		t.scroll(h, h)
	case ev.Key() == tcell.KeyHome || ev.Rune() == 'g':
		t.top = 0
	case ev.Key() == tcell.KeyEnd || ev.Rune() == 'G':
		t.scroll(len(t.lines), h)
	default:
		a.common(ev)
	}
}

// mouse: the wheel scrolls, a click selects, on the list and the flow.
func (a *App) mouse(ev *tcell.EventMouse) {
	_, y := ev.Position()
	btn := ev.Buttons()
	switch a.top() {
	case screenList:
		before := a.list.top
		switch {
		case btn&tcell.WheelUp != 0:
			a.list.move(-3)
		case btn&tcell.WheelDown != 0:
			a.list.move(3)
		case btn&tcell.Button1 != 0 && y >= 2 && y-2 < a.list.height:
			a.list.cursor = a.list.top + y - 2
			a.list.clamp()
		}
		if a.list.top != before || !a.list.covered() {
			a.fetch()
		}
	case screenFlow:
		h := a.flowHeight()
		switch {
		case btn&tcell.WheelUp != 0:
			a.flow.selectArrow(a.flow.sel-1, h)
		case btn&tcell.WheelDown != 0:
			a.flow.selectArrow(a.flow.sel+1, h)
		case btn&tcell.Button1 != 0 && y >= 1 && y-1 < h:
			if i := a.flow.arrowAt(a.flow.top + y - 1); i >= 0 {
				a.flow.selectArrow(i, h)
			}
		}
	}
}

var helpLines = strings.Split(`sipscope terminal UI: keys

Everywhere
  q, Esc          back; quit from the call list
  h, ?, F1        this help
  Ctrl-C          quit

Call list
  Up/Down, j/k    move            PgUp/PgDn, Space   a page
  Home/End, g/G   first/last      mouse wheel, click move, select
  Enter           call flow of the selected dialog
  /, F3           search (Call-ID, users, any header), as you type; Enter keeps it, Esc leaves it
  f, F7           filter line, applied on Enter, e.g.
                    state=busy,rejected from~alice status>=400 kind=call
                  keys: kind state status from to since until grep sort call
                  ops:  =  ~ (substring or glob)  >= > <= < (status)
  o               next sort order (start, -start, -duration, status, ...)
  F5              clear filter and search

Call flow
  Up/Down, j/k    previous/next message (highlighted; raw text below)
  Left/Right      scroll the ladder sideways
  PgUp/PgDn, Home/End
  Enter           the whole message

Message
  Up/Down, PgUp/PgDn, Home/End   scroll`, "\n")

// Styles.
func (a *App) style(fg tcell.Color) tcell.Style {
	if a.opts.NoColor {
		return tcell.StyleDefault
	}
	return tcell.StyleDefault.Foreground(fg)
}

var (
	styleBar = tcell.StyleDefault.Reverse(true)
	styleSel = tcell.StyleDefault.Reverse(true)
)

// stateColor colours a row by its dialog's state.
func stateColor(s correlate.State) tcell.Color {
	switch s {
	case correlate.StateCompleted, correlate.StateInCall:
		return tcell.ColorGreen
	case correlate.StateBusy, correlate.StateRejected, correlate.StateNoResponse:
		return tcell.ColorRed
	case correlate.StateCancelled, correlate.StateRedirected:
		return tcell.ColorYellow
	case correlate.StateSetup, correlate.StateRinging, correlate.StatePending:
		return tcell.ColorTeal
	}
	return tcell.ColorDefault
}

var callColors = []tcell.Color{tcell.ColorTeal, tcell.ColorOlive, tcell.ColorPurple, tcell.ColorGreen, tcell.ColorNavy, tcell.ColorMaroon}

// put writes s at (x, y), skipping the first skip cells, at most w cells;
// it returns the x after the last cell written.
func (a *App) put(x, y, w, skip int, s string, st tcell.Style) int {
	end := x + w
	for _, r := range render.Sanitize(s) { // strangers' text: no terminal controls (issue 13)
		if skip > 0 {
			skip--
			continue
		}
		if x >= end {
			break
		}
		a.scr.SetContent(x, y, r, nil, st)
		x++
	}
	return x
}

// fill paints the rest of a line from x with spaces.
func (a *App) fill(x, y, w int, st tcell.Style) {
	for ; x < w; x++ {
		a.scr.SetContent(x, y, ' ', nil, st)
	}
}

func (a *App) draw() {
	a.scr.Clear()
	switch a.top() {
	case screenList:
		a.drawList()
	case screenFlow:
		a.drawFlow()
	case screenMessage:
		a.drawText(&a.msg, "Message ("+a.flowCall+")", true)
	case screenHelp:
		a.drawText(&a.help, "Help", false)
	}
	a.drawStatus()
	a.scr.Show()
}

// listColumns are the call list's columns: header and width; 0 widths
// share what the fixed ones leave (see columnWidths).
var listColumns = []struct {
	name string
	w    int
}{
	{"#", 6}, {"START", 13}, {"STATE", 12}, {"FINAL", 17}, {"FROM", 0}, {"TO", 0}, {"MSGS", 5}, {"CALL-ID", 0},
}

// columnWidths fits the columns to w cells: FROM and TO get a quarter each
// of what the fixed columns leave (at least 8), the Call-ID the rest, so
// that 80 columns still show a useful part of every field.
func columnWidths(w int) []int {
	fixed := 0
	for _, c := range listColumns {
		fixed += c.w
	}
	party := max((w-fixed)/4, 8)
	ws := make([]int, len(listColumns))
	used := 0
	for i, c := range listColumns {
		switch {
		case c.w > 0:
			ws[i] = c.w
		case c.name == "CALL-ID":
			ws[i] = max(w-used, 0)
		default:
			ws[i] = party
		}
		used += ws[i]
	}
	return ws
}

func listCells(i int, d *correlate.Dialog) []string {
	final := ""
	if d.FinalStatus > 0 {
		final = strconv.Itoa(d.FinalStatus) + " " + d.FinalReason
	}
	party := func(n string) string { return n }
	return []string{
		strconv.Itoa(i + 1),
		d.Start.UTC().Format("15:04:05.000"),
		string(d.State),
		final,
		party(userOr(d.From.User, d.From.URI)),
		party(userOr(d.To.User, d.To.URI)),
		strconv.Itoa(d.Messages),
		d.CallID,
	}
}

func userOr(u, uri string) string {
	if u != "" {
		return u
	}
	return uri
}

func (a *App) drawList() {
	w, _ := a.scr.Size()
	// The count and the query first: a long file name is what gets cut.
	title := fmt.Sprintf(" sipscope  %d dialogs", a.list.total)
	if a.query.Filter != "" {
		title += "  filter: " + a.query.Filter
	}
	if a.query.Search != "" {
		title += "  search: " + a.query.Search
	}
	if a.query.Sort != "" {
		title += "  sort: " + a.query.Sort
	}
	if a.opts.Title != "" {
		title += "  " + a.opts.Title
	}
	a.fill(a.put(0, 0, w, 0, title, styleBar), 0, w, styleBar)
	row := func(y int, cells []string, st tcell.Style) {
		x := 0
		ws := columnWidths(w)
		for c := range listColumns {
			cw := ws[c]
			s := cells[c]
			if len([]rune(s)) > cw-1 && c < len(listColumns)-1 {
				s = string([]rune(s)[:max(cw-2, 0)]) + "…"
			}
			a.put(x, y, cw, 0, s, st)
			x += cw
			if x >= w {
				break
			}
		}
	}
	hdr := make([]string, len(listColumns))
	for i, c := range listColumns {
		hdr[i] = c.name
	}
	row(1, hdr, tcell.StyleDefault.Bold(true))
	off, n := a.list.window()
	for i := 0; i < n; i++ {
		y := 2 + i
		d := a.list.row(off + i)
		if d == nil {
			a.put(0, y, w, 0, strconv.Itoa(off+i+1)+"  …", tcell.StyleDefault)
			continue
		}
		st := a.style(stateColor(d.State))
		if off+i == a.list.cursor {
			st = styleSel
			a.fill(0, y, w, st)
		}
		row(y, listCells(off+i, d), st)
	}
	if a.list.total == 0 && !a.loading {
		a.put(1, 3, w-1, 0, "no dialogs yet"+a.emptyHint(), tcell.StyleDefault)
	}
}

func (a *App) emptyHint() string {
	if a.query.Filter != "" || a.query.Search != "" {
		return " match; F5 clears the filter and search"
	}
	return ""
}

func (a *App) drawFlow() {
	w, _ := a.scr.Size()
	f := a.flow
	final := ""
	if c := f.ladder.Calls; len(c) > 0 && c[0].Dialog != nil {
		d := c[0].Dialog
		final = "  " + string(d.State)
		if d.FinalStatus > 0 {
			final += fmt.Sprintf(" %d %s", d.FinalStatus, d.FinalReason)
		}
	}
	title := fmt.Sprintf(" Call flow %s%s  message %d/%d", a.flowCall, final, f.sel+1, len(f.ladder.Arrows))
	a.fill(a.put(0, 0, w, 0, title, styleBar), 0, w, styleBar)
	h := a.flowHeight()
	selY := f.arrowLine(f.sel)
	for i := 0; i < h && f.top+i < len(f.lines); i++ {
		y := f.top + i
		st := tcell.StyleDefault
		if ar := f.arrowAt(y); ar >= 0 {
			st = a.style(callColors[f.ladder.Arrows[ar].Call%len(callColors)])
		}
		if len(f.ladder.Arrows) > 0 && (y == selY || y == selY+1) {
			st = styleSel
		}
		a.put(0, 1+i, w, f.left, f.lines[y], st)
	}
	// Preview pane: the raw selected message.
	py := 1 + h
	a.fill(a.put(0, py, w, 0, "── message (Enter: whole) ", tcell.StyleDefault), py, w, tcell.StyleDefault)
	for x := 26; x < w; x++ {
		a.scr.SetContent(x, py, '─', nil, tcell.StyleDefault)
	}
	lines := messageLines(f.selectedMessage())
	_, sh := a.scr.Size()
	for i := 0; py+1+i < sh-1 && i < len(lines); i++ {
		a.drawMessageLine(py+1+i, w, lines[i], i == 0, false)
	}
}

// drawMessageLine draws one line of a SIP message: the start line bold,
// header names coloured, the body (SDP) in its own colour.
func (a *App) drawMessageLine(y, w int, s string, start, body bool) {
	switch {
	case start:
		a.put(0, y, w, 0, s, tcell.StyleDefault.Bold(true))
	case body:
		a.put(0, y, w, 0, s, a.style(tcell.ColorOlive))
	default:
		name, rest, ok := strings.Cut(s, ":")
		if !ok {
			a.put(0, y, w, 0, s, tcell.StyleDefault)
			return
		}
		x := a.put(0, y, w, 0, name+":", a.style(tcell.ColorTeal).Bold(a.opts.NoColor))
		a.put(x, y, w-x, 0, rest, tcell.StyleDefault)
	}
}

func (a *App) drawText(t *textView, title string, sip bool) {
	w, h := a.scr.Size()
	a.fill(a.put(0, 0, w, 0, " "+title, styleBar), 0, w, styleBar)
	body := false
	for i, l := range t.lines {
		if sip && l == "" {
			body = true
		}
		y := 1 + i - t.top
		if y < 1 {
			continue
		}
		if y >= h-1 {
			break
		}
		if sip {
			a.drawMessageLine(y, w, l, i == 0, body)
		} else {
			a.put(0, y, w, 0, l, tcell.StyleDefault)
		}
	}
}

func (a *App) drawStatus() {
	w, h := a.scr.Size()
	y := h - 1
	if a.in != inputNone {
		p := "filter: "
		if a.in == inputSearch {
			p = "search: "
		}
		x := a.put(0, y, w, 0, p, tcell.StyleDefault.Bold(true))
		a.put(x, y, w-x, 0, a.edit.String(), tcell.StyleDefault)
		a.scr.ShowCursor(x+a.edit.pos, y)
		return
	}
	a.scr.HideCursor()
	a.mu.Lock()
	p, started := a.progress, a.started
	a.mu.Unlock()
	var s string
	switch {
	case a.status != "":
		s = a.status
	case p.Err != nil:
		s = "load failed: " + p.Err.Error()
	case !p.Finished && (p.Done > 0 || p.Messages > 0):
		s = "loading"
		if p.Total > 0 {
			s += fmt.Sprintf(" %d%%", p.Done*100/p.Total)
		}
		s += fmt.Sprintf("  %s  %d messages  %d dialogs", bytesText(p.Done), p.Messages, p.Dialogs)
		if el := time.Since(started).Seconds(); el > 0.5 {
			s += fmt.Sprintf("  %s/s", bytesText(int64(float64(p.Done)/el)))
		}
	default:
		s = "Enter flow  / search  f filter  o sort  h help  q quit"
		if a.top() != screenList {
			s = "Up/Down move  Left/Right scroll  Enter message  q back  h help"
		}
	}
	a.fill(a.put(0, y, w, 0, " "+s, styleBar), y, w, styleBar)
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
