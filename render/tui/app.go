package tui

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
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
	// Columns are the call list's columns (see ParseColumns); empty is
	// DefaultColumns.
	Columns []string
	// Save writes dialogs to a file (F2/s); nil disables saving.
	Save Saver
	// SaveFormats are the formats Save knows, by file extension, in the
	// order Ctrl-T cycles through them (e.g. html, pcap, txt ...).
	SaveFormats []string
	// Aliases name the flow's columns (render.ParseAliases: "ip[:port]
	// name" lines), as `sipscope flow --alias` does.
	Aliases render.Aliases
	// MergePorts starts the flow with one column per IP address (m
	// toggles it).
	MergePorts bool
}

type screenID int

const (
	screenList screenID = iota
	screenFlow
	screenMessage
	screenHelp
	screenDiff
	screenStats
	screenSettings
)

// input says what the bottom line is editing.
type input int

const (
	inputNone input = iota
	inputFilter
	inputSearch
	inputSave
	inputColumns
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
	scr     tcell.Screen
	ctx     context.Context
	query   Query
	gen     int // query generation; results of older ones are dropped
	list    listModel
	loading bool // a list query is running
	// loadStart is when it started: a search that takes long says so.
	loadStart time.Time
	// deepEdit: the search prompt searches every message (Tab).
	deepEdit bool
	// cancelQuery stops the running list query.
	cancelQuery context.CancelFunc
	dirty       bool // another one is needed after it
	recount     bool // the next list query counts again
	cols        []field
	hdrs        map[string]map[string]string // header columns of the loaded rows
	marks       selection
	flow        *flowView
	flowCall    string   // what the flow's title names
	flowIDs     []string // the Call-IDs in the flow
	flowOpts    flowOptions
	flowData    flowData
	lastButtons tcell.ButtonMask // of the last mouse event, to tell a press from a drag
	preview     int              // preview pane lines (0: a third of the screen)
	noPrev      bool             // preview pane hidden
	msg         textView
	help        textView
	diff        textView
	stats       textView
	settings    int // selected settings line
	save        saveScope
	stack       []screenID
	in          input
	edit        lineEdit
	status      string // last error or notice
	shown       Progress
	quit        bool
	preparing   map[string]bool // header columns whose sort index is being brought up to date (SortPreparer): true when more dialogs came in meanwhile
}

// New makes a UI over src. Columns that do not parse (see ParseColumns)
// fall back to DefaultColumns: check them with ParseColumns first.
func New(src Source, opts Options) *App {
	a := &App{
		src: src, opts: opts,
		notify:  make(chan struct{}, 1),
		results: make(chan func(), 16),
		stack:   []screenID{screenList},
	}
	cols, err := parseColumns(strings.Join(opts.Columns, ","))
	if err != nil || len(opts.Columns) == 0 {
		cols, _ = parseColumns(DefaultColumns)
	}
	a.cols = cols
	a.flowOpts.mergePorts = opts.MergePorts
	return a
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
	a.prepareSorts()
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
			a.prepareSorts()
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
	a.loadStart = time.Now()
	q, gen, recount := a.query, a.gen, a.recount || a.list.total == 0
	a.recount = false
	off, n := a.list.top, a.list.height
	total := a.list.total
	// A new query (setQuery) cancels this one: incremental search over a
	// large store must not queue a scan per key typed.
	ctx, cancel := context.WithCancel(a.ctx)
	a.cancelQuery = cancel
	cols := a.cols
	go func() {
		defer cancel()
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
		var hdrs map[string]map[string]string
		if names := headerNames(cols); err == nil && len(names) > 0 && len(rows) > 0 {
			ids := make([]string, len(rows))
			for i, d := range rows {
				ids[i] = d.CallID
			}
			var msgs []*correlate.Message
			if msgs, err = a.src.Messages(ctx, ids); err == nil {
				hdrs = firstRequestHeaders(msgs, names)
			}
		}
		if ms, ok := a.src.(MediaSource); ok && err == nil && hasMOS(cols) && len(rows) > 0 {
			ids := make([]string, len(rows))
			for i, d := range rows {
				ids[i] = d.CallID
			}
			var ss []correlate.Stream
			if ss, err = ms.Streams(ctx, ids); err == nil {
				hdrs = addMOS(hdrs, ss)
			}
		}
		select {
		case a.results <- func() { a.listLoaded(gen, off, total, rows, hdrs, err) }:
		case <-a.ctx.Done():
		}
	}()
}

// listLoaded applies a list query's result on the UI goroutine.
func (a *App) listLoaded(gen, off, total int, rows []*correlate.Dialog, hdrs map[string]map[string]string, err error) {
	a.loading = false
	if gen == a.gen {
		if err != nil {
			a.status = err.Error()
		} else {
			a.list.setTotal(total)
			a.list.setRows(off, rows)
			a.hdrs = hdrs
		}
	}
	if a.dirty || gen != a.gen || !a.list.covered() {
		a.fetch()
	}
}

// setQuery starts a new query from the top.
func (a *App) setQuery(q Query) {
	if a.cancelQuery != nil {
		a.cancelQuery() // its result would be dropped: stop its scan
	}
	a.query = q
	a.gen++
	a.status = ""
	a.list.reset()
	// The count stays until the new one comes: a key typed meanwhile
	// (End right after o) moves within it, and the new count clamps it.
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
		case screenMessage, screenHelp, screenDiff, screenStats:
			a.textKey(ev)
		case screenSettings:
			a.settingsKey(ev)
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
			a.help = newTextView(helpLines, wrapHanging)
			a.push(screenHelp)
		}
	case ev.Key() == tcell.KeyF8:
		if a.top() != screenSettings {
			a.push(screenSettings)
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
	case ev.Key() == tcell.KeyPgDn:
		a.list.move(a.list.height)
	case ev.Key() == tcell.KeyHome || ev.Rune() == 'g':
		a.list.home()
	case ev.Key() == tcell.KeyEnd || ev.Rune() == 'G':
		a.list.end()
	case ev.Rune() == ' ':
		// sngrep's Space: mark the dialog (for an extended flow or a
		// save) and move on, so that Space Space marks two in a row.
		if d := a.list.selected(); d != nil {
			a.marks.toggle(d)
			a.list.move(1)
		}
	case ev.Key() == tcell.KeyEnter:
		if d := a.list.selected(); d != nil {
			a.openFlow([]*correlate.Dialog{d}, false)
		}
	case ev.Key() == tcell.KeyF4 || ev.Rune() == 'x':
		switch {
		case a.marks.len() > 0:
			a.openFlow(a.marks.list(), false)
		case a.list.selected() != nil:
			a.openFlow([]*correlate.Dialog{a.list.selected()}, true)
		}
	case ev.Key() == tcell.KeyF7 || ev.Rune() == 'f':
		a.in = inputFilter
		a.edit.set(a.query.Filter)
	case ev.Key() == tcell.KeyF3 || ev.Rune() == '/':
		a.in = inputSearch
		a.edit.set(a.query.Search)
		a.deepEdit = a.query.Deep
	case ev.Key() == tcell.KeyEscape && a.loading && a.query.Deep:
		// Esc stops a search of every message (seconds over a large
		// store) instead of quitting.
		q := a.query
		q.Search, q.Deep = "", false
		a.setQuery(q)
		a.status = "search stopped"
	case ev.Key() == tcell.KeyEscape && a.loading && headerSortName(sortOf(a.query)) != "":
		// Esc stops the first sort by a header (seconds over a large
		// store): back to the start order. What was read is kept.
		q := a.query
		q.Sort = "start"
		a.setQuery(q)
		a.status = "sort stopped"
	case ev.Key() == tcell.KeyF5:
		a.marks.clear()
		a.setQuery(Query{Sort: a.query.Sort})
	case ev.Key() == tcell.KeyF2 || ev.Rune() == 's':
		a.startSave()
	case ev.Key() == tcell.KeyF6 || ev.Rune() == 'S':
		a.openStats()
	case ev.Rune() == 'c':
		a.in = inputColumns
		a.edit.set(columnKeys(a.cols))
	case ev.Rune() == 'o':
		q := a.query
		q.Sort = nextSort(a.cols, sortOf(q))
		a.setQuery(q)
	case ev.Rune() == 'O':
		q := a.query
		q.Sort = reverseSort(sortOf(q))
		a.setQuery(q)
	default:
		a.common(ev)
	}
	if a.list.top != before || !a.list.covered() {
		a.fetch()
	}
}

// filterSort is the value of a filter line's sort= term, "" when none.
// Query.Sort (o, O) overrides it; a filter with one resets Query.Sort.
func filterSort(filter string) string {
	for _, t := range strings.Fields(filter) {
		if len(t) > 5 && strings.EqualFold(t[:5], "sort=") {
			return t[5:]
		}
	}
	return ""
}

// sortOf is the order the list is in: o's, else the filter's, else start.
func sortOf(q Query) string {
	switch {
	case q.Sort != "":
		return q.Sort
	case filterSort(q.Filter) != "":
		return filterSort(q.Filter)
	}
	return "start"
}

// reverseSort flips the direction of the first sort key.
func reverseSort(s string) string {
	if s == "" {
		s = "start"
	}
	if r, ok := strings.CutPrefix(s, "-"); ok {
		return r
	}
	return "-" + s
}

// editKey edits the bottom line. Search applies on every key
// (incremental); the filter, columns and save prompt on Enter, since half
// a term is an error.
func (a *App) editKey(ev *tcell.EventKey) {
	switch ev.Key() {
	case tcell.KeyEscape:
		a.in = inputNone
		return
	case tcell.KeyEnter:
		in := a.in
		a.in = inputNone
		switch in {
		case inputSave:
			a.runSave(a.edit.String())
		case inputColumns:
			a.setColumns(a.edit.String())
		default:
			q := a.query
			if in == inputFilter {
				q.Filter = a.edit.String()
				if filterSort(q.Filter) != "" {
					q.Sort = "" // the filter's sort= replaces o's
				}
			} else {
				q.Search, q.Deep = a.edit.String(), a.deepEdit && a.edit.String() != ""
			}
			a.setQuery(q)
		}
		return
	case tcell.KeyTab:
		switch a.in {
		case inputSave:
			a.save.next()
			return
		case inputSearch:
			// Summary fields as you type, or every message on Enter.
			a.deepEdit = !a.deepEdit
			if a.deepEdit {
				return
			}
			// Back to the fields: search them now.
		default:
			return
		}
	case tcell.KeyCtrlT:
		if a.in == inputSave {
			a.edit.set(nextFormat(a.edit.String(), a.opts.SaveFormats))
		}
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
	if a.in == inputSearch && !a.deepEdit {
		// Incremental over the summary fields: milliseconds a key. The
		// deep search (every message) waits for Enter.
		q := a.query
		q.Search, q.Deep = a.edit.String(), false
		a.setQuery(q)
	}
}

// setColumns applies a columns prompt; a bad list leaves the columns as
// they were and says why.
func (a *App) setColumns(s string) {
	cols, err := parseColumns(s)
	if err != nil {
		a.status = err.Error()
		return
	}
	a.cols = cols
	a.list.rows, a.hdrs = nil, nil
	a.fetch()
	a.prepareSorts()
}

// prepareSorts brings the sort index of each header column shown up to
// date in the background (SortPreparer), one goroutine per header at a
// time, so that o on the column answers without building it; a sort by it
// while the index builds waits for it ("sorting by …"), other keys go on.
// Dialogs that come in while a header's index builds are caught up by one
// more pass when it ends, so the last batch of a load is never left out.
func (a *App) prepareSorts() {
	sp, ok := a.src.(SortPreparer)
	if !ok {
		return
	}
	for _, c := range a.cols {
		if c.header != "" {
			a.prepareSort(sp, c.header)
		}
	}
}

// prepareSort starts one header's pass, or marks the pass running stale.
func (a *App) prepareSort(sp SortPreparer, h string) {
	if _, running := a.preparing[h]; running {
		a.preparing[h] = true // stale: once more when this pass ends
		return
	}
	if a.preparing == nil {
		a.preparing = map[string]bool{}
	}
	a.preparing[h] = false
	go func() {
		sp.PrepareSort(a.ctx, h) //nolint:errcheck // a failure shows when the column is sorted
		select {
		case a.results <- func() {
			again := a.preparing[h]
			delete(a.preparing, h)
			if again && slices.ContainsFunc(a.cols, func(c field) bool { return c.header == h }) {
				a.prepareSort(sp, h)
			}
		}:
		case <-a.ctx.Done():
		}
	}()
}

// startSave opens the save prompt: the marked dialogs when some are
// marked, else the flow shown or the dialog under the cursor.
func (a *App) startSave() {
	if a.opts.Save == nil {
		a.status = "saving is not available here"
		return
	}
	a.save = saveScope{}
	var cur []string
	if a.top() == screenFlow || a.top() == screenMessage {
		cur = a.flowIDs
	} else if d := a.list.selected(); d != nil {
		cur = []string{d.CallID}
	}
	a.save.have = [scopes]int{len(cur), a.marks.len(), a.list.total}
	switch {
	case a.top() == screenList && a.marks.len() > 0:
		a.save.scope = scopeSelected
	case len(cur) > 0:
		a.save.scope = scopeCurrent
	default:
		a.save.scope = scopeFiltered
	}
	format := ""
	if len(a.opts.SaveFormats) > 0 {
		format = a.opts.SaveFormats[0]
	}
	name := saveName(nil, format)
	if a.save.scope == scopeCurrent && len(cur) > 0 {
		name = saveName(cur[:1], format)
	}
	a.in = inputSave
	a.edit.set(name)
}

// runSave writes the chosen dialogs through opts.Save, off the UI
// goroutine; the status line says what was written.
func (a *App) runSave(path string) {
	if strings.TrimSpace(path) == "" {
		a.status = "save: no file name given"
		return
	}
	r := SaveRequest{Path: path, Query: a.query, MergePorts: a.flowOpts.mergePorts}
	switch a.save.scope {
	case scopeCurrent:
		if a.top() == screenFlow || a.top() == screenMessage {
			r.Groups = [][]string{a.flowIDs}
		} else if d := a.list.selected(); d != nil {
			r.Groups = [][]string{{d.CallID}}
		}
	case scopeSelected:
		for _, id := range a.marks.ids {
			r.Groups = append(r.Groups, []string{id})
		}
	}
	if a.save.scope != scopeFiltered && len(r.Groups) == 0 {
		a.status = "save: no dialog to save"
		return
	}
	a.status = "saving " + path + " ..."
	ctx, save := a.ctx, a.opts.Save
	go func() {
		n, format, err := save(ctx, r)
		apply := func() {
			if err != nil {
				a.status = "save: " + err.Error()
				return
			}
			a.status = fmt.Sprintf("saved %s to %s (%s)", nDialogs(n), path, format)
		}
		select {
		case a.results <- apply:
		case <-ctx.Done():
		}
	}()
}

// openFlow loads dialogs' messages and shows them in one ladder; with
// linked, the legs linked to them too (the extended flow of one call).
func (a *App) openFlow(ds []*correlate.Dialog, linked bool) {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.CallID
	}
	name := ids[0]
	if len(ids) > 1 {
		name = fmt.Sprintf("%d dialogs", len(ids))
	}
	a.status = "loading " + name
	ctx := a.ctx
	go func() {
		all := slices.Clone(ds)
		var err error
		if linked {
			for _, d := range ds {
				for _, id := range d.Linked {
					if slices.ContainsFunc(all, func(x *correlate.Dialog) bool { return x.CallID == id }) {
						continue
					}
					var more []*correlate.Dialog
					if more, err = a.src.Dialogs(ctx, Query{Filter: "call=" + id}, 0, 1); err != nil {
						break
					}
					all = append(all, more...)
				}
			}
		}
		var msgs []*correlate.Message
		var allIDs []string
		for _, d := range all {
			allIDs = append(allIDs, d.CallID)
		}
		if err == nil {
			msgs, err = a.src.Messages(ctx, allIDs)
		}
		var streams []correlate.Stream // the RTP bands below the ladder
		if ms, ok := a.src.(MediaSource); ok && err == nil {
			streams, err = ms.Streams(ctx, allIDs)
		}
		apply := func() {
			if err != nil {
				a.status = err.Error()
				return
			}
			a.status = ""
			if len(all) > 1 {
				name = fmt.Sprintf("%d dialogs", len(all))
			}
			a.flowData = flowData{all, msgs, streams}
			a.flow = newFlowView(a.flowLayout(), a.flowOpts)
			a.flowCall, a.flowIDs = name, allIDs
			a.flow.selectArrow(0, a.flowHeight())
			if a.top() != screenFlow {
				a.push(screenFlow)
			}
		}
		select {
		case a.results <- apply:
		case <-ctx.Done():
		}
	}()
}

// flowData is what the open flow was laid out from, kept to lay it out
// again when its columns change (m: per IP or per IP:port).
type flowData struct {
	dialogs []*correlate.Dialog
	msgs    []*correlate.Message
	streams []correlate.Stream
}

// flowLayout lays out the open flow's dialogs with the flow options: the same
// render.Layout `sipscope flow` uses.
func (a *App) flowLayout() *render.Ladder {
	d := a.flowData
	return render.Layout(d.dialogs, d.msgs, render.LayoutOptions{Streams: d.streams,
		MergePorts: a.flowOpts.mergePorts, Aliases: a.opts.Aliases})
}

// redrawFlow lays the flow out again after a toggle, keeping the
// selection and the marks.
func (a *App) redrawFlow() {
	if a.flow == nil {
		return
	}
	old := a.flow
	ladder := old.ladder
	if old.opts.mergePorts != a.flowOpts.mergePorts {
		ladder = a.flowLayout() // the same arrows, in other columns
	}
	a.flow = newFlowView(ladder, a.flowOpts)
	a.flow.marked = old.marked
	a.flow.left = old.left
	a.flow.selectArrow(old.sel, a.flowHeight())
}

// flowHeight is the ladder pane's height: above the preview pane.
func (a *App) flowHeight() int {
	_, h := a.scr.Size()
	if a.noPrev {
		return max(h-2, 1)
	}
	return max(h-3-a.previewHeight(), 1)
}

// previewHeight is the preview pane's lines below its rule: a quarter
// of the screen unless resized, always leaving the ladder 3 lines.
func (a *App) previewHeight() int {
	_, h := a.scr.Size()
	p := a.preview
	if p <= 0 {
		p = max((h-2)/4+1, 3)
	}
	return max(min(p, h-6), 1)
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
	case ev.Key() == tcell.KeyPgDn:
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
		a.msg = newTextView(messageLines(f.selectedMessage()), wrapCut(0))
		a.push(screenMessage)
	case ev.Rune() == ' ':
		f.toggleMark()
	case ev.Rune() == 'd' || ev.Rune() == 'D':
		a.openDiff()
	case ev.Rune() == 't':
		a.flowOpts.time = (a.flowOpts.time + 1) % timeModes
		a.redrawFlow()
		a.status = "time column: " + a.flowOpts.time.String()
	case ev.Rune() == 'e':
		a.flowOpts.sdp = !a.flowOpts.sdp
		a.redrawFlow()
	case ev.Rune() == 'i':
		a.flowOpts.noFindings = !a.flowOpts.noFindings
		a.redrawFlow()
	case ev.Rune() == 'm':
		a.flowOpts.mergePorts = !a.flowOpts.mergePorts
		a.redrawFlow()
		a.status = "columns: " + columnsText(a.flowOpts.mergePorts)
	case ev.Rune() == 'p':
		a.noPrev = !a.noPrev
		f.selectArrow(f.sel, a.flowHeight())
	case ev.Rune() == '+' || ev.Rune() == '=':
		a.noPrev = false
		a.preview = a.previewHeight() + 1
		f.selectArrow(f.sel, a.flowHeight())
	case ev.Rune() == '-':
		a.noPrev = false
		a.preview = max(a.previewHeight()-1, 1)
		f.selectArrow(f.sel, a.flowHeight())
	case ev.Key() == tcell.KeyF4 || ev.Rune() == 'x':
		// The flow of one dialog: add its linked legs.
		if c := f.ladder.Calls; len(c) == 1 && c[0].Dialog != nil {
			if len(c[0].Dialog.Linked) == 0 {
				a.status = "no linked legs for " + c[0].CallID
			} else {
				a.openFlow([]*correlate.Dialog{c[0].Dialog}, true)
			}
		}
	case ev.Key() == tcell.KeyF2 || ev.Rune() == 's':
		a.startSave()
	default:
		a.common(ev)
	}
}

// openDiff shows the line diff of the two marked messages (or the marked
// one and the selected one).
func (a *App) openDiff() {
	f := a.flow
	i, j, ok := f.diffPair()
	if !ok {
		a.status = "diff: mark a message with Space, select another (or mark it too), then d"
		return
	}
	lines := []string{
		fmt.Sprintf("--- message %d: %s", i+1, f.ladder.Arrows[i].Label),
		fmt.Sprintf("+++ message %d: %s", j+1, f.ladder.Arrows[j].Label),
	}
	for _, d := range diffLines(messageLines(f.message(i)), messageLines(f.message(j))) {
		lines = append(lines, string(d.op)+" "+d.text)
	}
	a.diff = newTextView(lines, wrapCut(2))
	a.push(screenDiff)
}

// openStats counts what the query selects, off the UI goroutine.
func (a *App) openStats() {
	a.status = "counting ..."
	ctx, q := a.ctx, a.query
	go func() {
		t, err := a.src.Tally(ctx, q)
		apply := func() {
			if err != nil {
				a.status = "stats: " + err.Error()
				return
			}
			a.status = ""
			a.stats = newTextView(tallyLines(t, q), wrapHanging)
			a.push(screenStats)
		}
		select {
		case a.results <- apply:
		case <-ctx.Done():
		}
	}()
}

func (a *App) textKey(ev *tcell.EventKey) {
	t := &a.msg
	switch a.top() {
	case screenHelp:
		t = &a.help
	case screenDiff:
		t = &a.diff
	case screenStats:
		t = &a.stats
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
	case (ev.Key() == tcell.KeyF2 || ev.Rune() == 's') && a.top() == screenMessage:
		a.startSave()
	default:
		a.common(ev)
	}
}

// settingsItems are the lines of the settings screen (F8).
func (a *App) settingsItems() []string {
	prev := "hidden"
	if !a.noPrev {
		prev = strconv.Itoa(a.previewHeight()) + " lines"
	}
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	sort := sortOf(a.query)
	return []string{
		"Call list columns    " + columnKeys(a.cols),
		"Sort                 " + sort,
		"Flow time column     " + a.flowOpts.time.String(),
		"Flow SDP detail      " + onOff(a.flowOpts.sdp),
		"Flow findings        " + onOff(!a.flowOpts.noFindings),
		"Flow preview pane    " + prev,
		"Flow columns         " + columnsText(a.flowOpts.mergePorts),
	}
}

func (a *App) settingsKey(ev *tcell.EventKey) {
	n := len(a.settingsItems())
	switch {
	case ev.Key() == tcell.KeyUp || ev.Rune() == 'k':
		a.settings = max(a.settings-1, 0)
	case ev.Key() == tcell.KeyDown || ev.Rune() == 'j':
		a.settings = min(a.settings+1, n-1)
	case ev.Key() == tcell.KeyEnter || ev.Rune() == ' ':
		switch a.settings {
		case 0:
			a.in = inputColumns
			a.edit.set(columnKeys(a.cols))
		case 1:
			q := a.query
			q.Sort = nextSort(a.cols, sortOf(q))
			a.setQuery(q)
		case 2:
			a.flowOpts.time = (a.flowOpts.time + 1) % timeModes
		case 3:
			a.flowOpts.sdp = !a.flowOpts.sdp
		case 4:
			a.flowOpts.noFindings = !a.flowOpts.noFindings
		case 5:
			a.noPrev = !a.noPrev
		case 6:
			a.flowOpts.mergePorts = !a.flowOpts.mergePorts
		}
		if a.settings >= 2 {
			a.redrawFlow()
		}
	default:
		a.common(ev)
	}
}

// mouse: the wheel scrolls, a click selects, on the list and the flow.
func (a *App) mouse(ev *tcell.EventMouse) {
	_, y := ev.Position()
	btn := ev.Buttons()
	// A press is a button down after none: a drag repeats Button1.
	press := btn&tcell.Button1 != 0 && a.lastButtons&tcell.Button1 == 0
	a.lastButtons = btn
	switch a.top() {
	case screenList:
		before := a.list.top
		switch {
		case btn&tcell.WheelUp != 0:
			a.list.move(-3)
		case btn&tcell.WheelDown != 0:
			a.list.move(3)
		case btn&tcell.Button1 != 0 && y >= 2 && y-2 < a.list.height:
			row := a.list.top + y - 2
			if press && row == a.list.cursor {
				// A click on the selected row opens it, as Enter does.
				if d := a.list.selected(); d != nil {
					a.openFlow([]*correlate.Dialog{d}, false)
				}
				return
			}
			a.list.cursor = row
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
	case screenMessage, screenHelp, screenDiff, screenStats:
		switch {
		case btn&tcell.WheelUp != 0:
			a.handle(tcell.NewEventKey(tcell.KeyUp, 0, tcell.ModNone))
		case btn&tcell.WheelDown != 0:
			a.handle(tcell.NewEventKey(tcell.KeyDown, 0, tcell.ModNone))
		}
	}
}

var helpLines = strings.Split(`sipscope terminal UI: keys

Everywhere
  q, Esc          back; quit from the call list
  h, ?, F1        this help
  F8              settings: columns, sort, flow toggles (Up/Down, Enter changes)
  Ctrl-C          quit

Call list
  Up/Down, j/k    move            PgUp/PgDn          a page
  Home/End, g/G   first/last      mouse wheel; click selects, again opens
  Space           mark/unmark the dialog (for x and s) and move down
  Enter           call flow of the selected dialog
  x, F4           extended flow: the marked dialogs, or this one and its
                  linked legs, in one ladder (one colour per Call-ID)
  /, F3           search as you type: Call-ID, From/To users, URIs and
                  names, User-Agent, addresses (milliseconds); Enter keeps
                  it, Esc leaves it; Tab in the prompt: search every message
                  instead (any header, the body: slow), on Enter, in the
                  background ("searching…"); Esc stops it
  f, F7           filter line, applied on Enter, e.g.
                    state=busy,rejected from~alice status>=400 kind=call
                  keys: kind state status from to since until grep sort call
                  ops:  =  ~ (substring or glob)  >= > <= < (status)
  o               sort by the next column (each ascending, then descending)
  O               reverse the sort
  c               columns: edit the list, e.g.
                    start,state,final,from,to,pdd,User-Agent
                  fields: start date kind state final status from to src
                          dst transport msgs retrans pdd answer duration
                          ua callid
                  any other name: that SIP header of the dialog's first request
                  (sorts too: the first sort by a header reads every dialog's
                  first request, "sorting…", Esc stops; sort=header:X-Account
                  in the filter line)
  s, F2           save (export) to a file: see Save below
  S, F6           stats: dialogs by state and kind, messages by method and
                  status
  F5              clear filter, search and marks

Call flow
  Up/Down, j/k    previous/next message (highlighted; raw text below)
  Left/Right      scroll the ladder sideways
  PgUp/PgDn, Home/End
  Enter           the whole message
  Space           mark the message for a diff (two at most)
  d               diff: the two marked messages, or the marked one and the
                  selected one
  t               time column: time and delta, time, delta
  e               SDP detail on the arrows (media, address:port, codecs,
                  direction)
  i               findings (sipscope diagnose) above the ladder: show/hide
  m               columns: one per IP address or per IP:port (--merge-ports)
  p               preview pane: hide/show    +/-  preview pane larger/smaller
  x, F4           add the linked legs (extended flow)
  s, F2           save this flow
  >>>             on an arrow: a retransmission

Message, diff, stats
  Up/Down, PgUp/PgDn, Home/End   scroll        s, F2 (message) save its flow

Save (s, F2)
  The prompt proposes a file name; its extension is the format, as with
  "sipscope export -o": html svg mermaid (.mmd) plantuml (.puml) txt pcap
  pcapng json.
  Tab             which dialogs: current, selected (marked), filtered (every
                  dialog listed)
  Ctrl-T          next format (rewrites the extension)
  Enter           save; Esc cancels`, "\n")

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
		a.drawText(&a.msg, "Message ("+a.flowCall+")", textSIP)
	case screenHelp:
		a.drawText(&a.help, "Help", textPlain)
	case screenDiff:
		a.drawText(&a.diff, "Diff ("+a.flowCall+")", textDiff)
	case screenStats:
		a.drawText(&a.stats, "Stats", textPlain)
	case screenSettings:
		a.drawSettings()
	}
	a.drawStatus()
	a.scr.Show()
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
	title := " sipscope  " + nDialogs(a.list.total)
	if n := a.marks.len(); n > 0 {
		title += fmt.Sprintf("  %d marked", n)
	}
	if a.query.Filter != "" {
		title += "  filter: " + a.query.Filter
	}
	if a.query.Search != "" {
		if a.query.Deep {
			title += "  search messages: " + a.query.Search
		} else {
			title += "  search: " + a.query.Search
		}
	}
	if a.query.Sort != "" {
		title += "  sort: " + a.query.Sort
	}
	if a.opts.Title != "" {
		title += "  " + a.opts.Title
	}
	a.fill(a.put(0, 0, w, 0, title, styleBar), 0, w, styleBar)
	ws := columnWidthsFor(a.cols, w, a.list.total)
	row := func(y int, cells []string, st tcell.Style) {
		x := 0
		for c, s := range cells {
			cw := ws[c]
			if len([]rune(s)) > cw-1 && c < len(cells)-1 {
				s = string([]rune(s)[:max(cw-2, 0)]) + "…"
			}
			a.put(x, y, cw, 0, s, st)
			x += cw
			if x >= w {
				break
			}
		}
	}
	sort := sortOf(a.query)
	sortKey := strings.ToLower(strings.TrimLeft(strings.Split(sort, ",")[0], "+-"))
	arrow := "^"
	if strings.HasPrefix(sort, "-") {
		arrow = "v"
	}
	hdr := []string{"#"}
	sorted := false
	for _, c := range a.cols {
		t := c.title
		if c.sort == sortKey && !sorted {
			t += arrow
			sorted = true
		}
		hdr = append(hdr, t)
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
		marked := a.marks.has(d.CallID)
		if marked {
			st = st.Bold(true)
		}
		if off+i == a.list.cursor {
			st = styleSel.Bold(marked)
			a.fill(0, y, w, st)
		}
		num := strconv.Itoa(off + i + 1)
		if marked {
			num = "*" + num
		}
		cells := []string{num}
		for _, c := range a.cols {
			cells = append(cells, cleanLine(cellText(c, d, a.hdrs)))
		}
		row(y, cells, st)
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
	w, sh := a.scr.Size()
	f := a.flow
	final := ""
	if c := f.ladder.Calls; len(c) == 1 && c[0].Dialog != nil {
		d := c[0].Dialog
		final = "  " + string(d.State)
		if d.FinalStatus > 0 {
			final += fmt.Sprintf(" %d %s", d.FinalStatus, d.FinalReason)
		}
	}
	title := fmt.Sprintf(" Call flow %s%s  message %d/%d", a.flowCall, final, f.sel+1, len(f.ladder.Arrows))
	if len(f.marked) > 0 {
		title += fmt.Sprintf("  %d marked", len(f.marked))
	}
	a.fill(a.put(0, 0, w, 0, title, styleBar), 0, w, styleBar)
	h := a.flowHeight()
	selY := f.arrowLine(f.sel)
	for i := 0; i < h && f.top+i < len(f.lines); i++ {
		y := f.top + i
		st := tcell.StyleDefault
		if y < len(f.findings) {
			st = a.style(tcell.ColorYellow)
		}
		if ar := f.arrowAt(y); ar >= 0 {
			arw := f.ladder.Arrows[ar]
			st = a.style(callColors[arw.Call%len(callColors)])
			if arw.Retrans {
				// A retransmission stands out (render draws it >>>).
				st = a.style(tcell.ColorRed).Bold(true)
			}
			if slices.Contains(f.marked, ar) {
				st = st.Underline(true)
			}
		}
		if len(f.ladder.Arrows) > 0 && (y == selY || y == selY+1) {
			st = styleSel
		}
		a.put(0, 1+i, w, f.left, f.lines[y], st)
	}
	if a.noPrev {
		return
	}
	// Preview pane: the raw selected message.
	py := 1 + h
	head := fmt.Sprintf("── message (Enter: whole, p: hide, +/-: size) ")
	x := a.put(0, py, w, 0, head, tcell.StyleDefault)
	for ; x < w; x++ {
		a.scr.SetContent(x, py, '─', nil, tcell.StyleDefault)
	}
	lines := messageLines(f.selectedMessage())
	body := false
	for i := 0; py+1+i < sh-1 && i < len(lines); i++ {
		if lines[i] == "" {
			body = true
		}
		a.drawMessageLine(py+1+i, w, lines[i], i == 0, body)
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

// textKind is how drawText colours lines.
type textKind int

const (
	textPlain textKind = iota
	textSIP            // a SIP message: start line, header names, body
	textDiff           // a diff: "-" lines red, "+" lines green
)

func (a *App) drawText(t *textView, title string, kind textKind) {
	w, h := a.scr.Size()
	t.fit(w)
	a.fill(a.put(0, 0, w, 0, " "+title, styleBar), 0, w, styleBar)
	body := false
	for i, l := range t.lines {
		if kind == textSIP && l == "" {
			body = true
		}
		y := 1 + i - t.top
		if y < 1 {
			continue
		}
		if y >= h-1 {
			break
		}
		switch kind {
		case textSIP:
			a.drawMessageLine(y, w, l, i == 0, body)
		case textDiff:
			st := tcell.StyleDefault
			switch {
			case i < 2:
				st = st.Bold(true)
			case strings.HasPrefix(l, "-"):
				st = a.style(tcell.ColorRed).Bold(a.opts.NoColor)
			case strings.HasPrefix(l, "+"):
				st = a.style(tcell.ColorGreen).Bold(a.opts.NoColor)
			}
			a.put(0, y, w, 0, l, st)
		default:
			a.put(0, y, w, 0, l, tcell.StyleDefault)
		}
	}
}

func (a *App) drawSettings() {
	w, _ := a.scr.Size()
	a.fill(a.put(0, 0, w, 0, " Settings (Up/Down choose, Enter change, q back)", styleBar), 0, w, styleBar)
	for i, l := range a.settingsItems() {
		st := tcell.StyleDefault
		if i == a.settings {
			st = styleSel
			a.fill(0, 2+i, w, st)
		}
		a.put(1, 2+i, w-1, 0, l, st)
	}
}

func (a *App) drawStatus() {
	w, h := a.scr.Size()
	y := h - 1
	if a.in != inputNone {
		var p string
		switch a.in {
		case inputFilter:
			p = "filter: "
		case inputSearch:
			p = "search [Tab: messages]: "
			if a.deepEdit {
				p = "search every message, on Enter [Tab: fields]: "
			}
		case inputColumns:
			p = "columns: "
		case inputSave:
			p = fmt.Sprintf("save %s (%d) [Tab which, ^T format]: ", a.save.scope, a.save.have[a.save.scope])
		}
		x := a.put(0, y, w, 0, p, tcell.StyleDefault.Bold(true))
		// A text longer than the room scrolls so the cursor stays in
		// sight (a proposed file name ends in its format's extension).
		skip := max(0, a.edit.pos-(w-x-1))
		a.put(x, y, w-x, skip, a.edit.String(), tcell.StyleDefault)
		a.scr.ShowCursor(x+a.edit.pos-skip, y)
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
	case a.loading && headerSortName(sortOf(a.query)) != "" && time.Since(a.loadStart) > 200*time.Millisecond:
		// The first sort by a header reads every dialog's first request.
		s = fmt.Sprintf("sorting by %s… %.0f s  (Esc stops)", headerSortName(sortOf(a.query)), time.Since(a.loadStart).Seconds())
	case a.loading && a.query.Search != "" && time.Since(a.loadStart) > 200*time.Millisecond:
		s = fmt.Sprintf("searching… %.0f s", time.Since(a.loadStart).Seconds())
		if a.query.Deep {
			s = fmt.Sprintf("searching every message… %.0f s  (Esc stops)", time.Since(a.loadStart).Seconds())
		}
	case p.Err != nil:
		s = "load failed: " + p.Err.Error()
	case !p.Finished && p.Live != nil:
		l := p.Live
		s = fmt.Sprintf("capturing  %d packets  %d SIP  %d dialogs  %d in progress  %d drops", l.Packets, l.SIP, l.Dialogs, l.InProgress, l.Drops)
		if l.HEPDropped > 0 {
			s += fmt.Sprintf("  %d HEP refused", l.HEPDropped)
		}
		if el := time.Since(started).Seconds(); el > 0.5 {
			s += fmt.Sprintf("  %.0f pkt/s", float64(l.Packets)/el)
		}
	case !p.Finished && (p.Done > 0 || p.Messages > 0):
		s = "loading"
		if p.Total > 0 {
			s += fmt.Sprintf(" %d%%", p.Done*100/p.Total)
		}
		s += fmt.Sprintf("  %s  %d messages  %d dialogs", bytesText(p.Done), p.Messages, p.Dialogs)
		if el := time.Since(started).Seconds(); el > 0.5 {
			s += fmt.Sprintf("  %s/s", bytesText(int64(float64(p.Done)/el)))
		}
	case a.top() == screenList:
		s = "Enter flow  / search  f filter  o sort  Space mark  s save  h help  q quit"
	case a.top() == screenFlow:
		s = "Enter message  Space mark  d diff  t time  e SDP  p pane  h help  q back"
	default:
		s = "Up/Down scroll  q back  h help"
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

// nDialogs is "1 dialog", "2 dialogs".
func nDialogs(n int) string {
	if n == 1 {
		return "1 dialog"
	}
	return strconv.Itoa(n) + " dialogs"
}

// columnsText names the flow's column mode.
func columnsText(merge bool) string {
	if merge {
		return "one per IP address"
	}
	return "one per IP:port"
}
