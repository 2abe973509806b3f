package tui

import "github.com/sipscope/sipscope/correlate"

// listModel is the call list's cursor and scroll position over a list it
// does not hold: it knows the total count and one window of loaded rows,
// and says which window to load next. Indexes are 0-based positions in the
// filtered, sorted list.
type listModel struct {
	total  int // dialogs the query selects
	cursor int // selected row
	top    int // first visible row
	height int // visible rows (at least 1)

	// rows are the loaded dialogs at positions off, off+1, ...
	off  int
	rows []*correlate.Dialog
}

// setHeight sets the visible rows and keeps the cursor in view.
func (m *listModel) setHeight(h int) {
	m.height = max(h, 1)
	m.clamp()
}

// setTotal sets the count, e.g. while a file loads; the cursor stays.
func (m *listModel) setTotal(n int) {
	m.total = max(n, 0)
	m.clamp()
}

// move moves the cursor by d rows (negative: up), within the list.
func (m *listModel) move(d int) {
	m.cursor += d
	m.clamp()
}

func (m *listModel) home() { m.cursor = 0; m.clamp() }
func (m *listModel) end()  { m.cursor = m.total - 1; m.clamp() }

// reset goes back to the first row and drops the loaded rows: a new query.
func (m *listModel) reset() {
	m.cursor, m.top, m.off, m.rows = 0, 0, 0, nil
}

// clamp keeps 0 <= cursor < total and the cursor between top and
// top+height.
func (m *listModel) clamp() {
	if m.height < 1 {
		m.height = 1
	}
	m.cursor = min(m.cursor, m.total-1)
	m.cursor = max(m.cursor, 0)
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+m.height {
		m.top = m.cursor - m.height + 1
	}
	m.top = max(min(m.top, m.total-m.height), 0)
}

// window is the range of rows to show: [top, top+n).
func (m *listModel) window() (off, n int) {
	return m.top, max(min(m.height, m.total-m.top), 0)
}

// covered reports whether the loaded rows cover the visible window.
func (m *listModel) covered() bool {
	off, n := m.window()
	return off >= m.off && off+n <= m.off+len(m.rows)
}

// setRows stores a loaded window.
func (m *listModel) setRows(off int, rows []*correlate.Dialog) {
	m.off, m.rows = off, rows
}

// row returns the dialog at position i, nil when it is not loaded.
func (m *listModel) row(i int) *correlate.Dialog {
	if i < m.off || i >= m.off+len(m.rows) {
		return nil
	}
	return m.rows[i-m.off]
}

// selected is the dialog under the cursor, nil when not loaded.
func (m *listModel) selected() *correlate.Dialog {
	if m.total == 0 {
		return nil
	}
	return m.row(m.cursor)
}
