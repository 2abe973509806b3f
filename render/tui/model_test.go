package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

func TestListModel(t *testing.T) {
	type state struct{ cursor, top int }
	for _, tc := range []struct {
		name          string
		total, height int
		ops           func(m *listModel)
		want          state
	}{
		{"start", 100, 10, func(m *listModel) {}, state{0, 0}},
		{"down within page", 100, 10, func(m *listModel) { m.move(5) }, state{5, 0}},
		{"down past page scrolls", 100, 10, func(m *listModel) { m.move(12) }, state{12, 3}},
		{"up past top", 100, 10, func(m *listModel) { m.move(-3) }, state{0, 0}},
		{"end", 100, 10, func(m *listModel) { m.end() }, state{99, 90}},
		{"end then up keeps top", 100, 10, func(m *listModel) { m.end(); m.move(-5) }, state{94, 90}},
		{"end then up past top", 100, 10, func(m *listModel) { m.end(); m.move(-12) }, state{87, 87}},
		{"page down past end", 25, 10, func(m *listModel) { m.move(10); m.move(10); m.move(10) }, state{24, 15}},
		{"fewer rows than height", 4, 10, func(m *listModel) { m.end() }, state{3, 0}},
		{"empty list", 0, 10, func(m *listModel) { m.move(3); m.end() }, state{0, 0}},
		{"list grows while loading: cursor stays", 5, 10, func(m *listModel) { m.move(3); m.setTotal(500) }, state{3, 0}},
		{"list shrinks under the cursor", 100, 10, func(m *listModel) { m.move(50); m.setTotal(20) }, state{19, 10}},
		{"screen shrinks", 100, 10, func(m *listModel) { m.move(9); m.setHeight(5) }, state{9, 5}},
		{"reset", 100, 10, func(m *listModel) { m.move(50); m.reset() }, state{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &listModel{}
			m.setHeight(tc.height)
			m.setTotal(tc.total)
			tc.ops(m)
			if got := (state{m.cursor, m.top}); got != tc.want {
				t.Errorf("got cursor %d top %d, want cursor %d top %d", got.cursor, got.top, tc.want.cursor, tc.want.top)
			}
		})
	}
}

func TestListModelRows(t *testing.T) {
	m := &listModel{}
	m.setHeight(3)
	m.setTotal(10)
	var rows []*correlate.Dialog
	for i := range 3 {
		rows = append(rows, &correlate.Dialog{CallID: fmt.Sprint("c", i)})
	}
	if m.covered() {
		t.Fatal("covered before any rows were loaded")
	}
	m.setRows(0, rows)
	if !m.covered() || m.selected().CallID != "c0" {
		t.Fatalf("got covered %v selected %v, want covered and c0", m.covered(), m.selected())
	}
	m.move(2)
	if m.selected().CallID != "c2" || !m.covered() {
		t.Errorf("got %v, want c2 still covered", m.selected())
	}
	m.move(1) // scrolls: row 3 is not loaded
	if m.covered() || m.selected() != nil {
		t.Errorf("got covered %v selected %v after scrolling past the loaded rows, want neither", m.covered(), m.selected())
	}
	if off, n := m.window(); off != 1 || n != 3 {
		t.Errorf("window got %d+%d, want 1+3", off, n)
	}
}

func TestLineEdit(t *testing.T) {
	var e lineEdit
	for _, r := range "state=bsy" {
		e.insert(r)
	}
	e.left()
	e.left()
	e.insert('u')
	if got := e.String(); got != "state=busy" {
		t.Errorf("got %q, want state=busy", got)
	}
	e.pos = len(e.text)
	e.backspace()
	e.backspace()
	if got := e.String(); got != "state=bu" {
		t.Errorf("got %q, want state=bu", got)
	}
	e.pos = 0
	e.backspace() // nothing before the cursor
	if got := e.String(); got != "state=bu" || e.pos != 0 {
		t.Errorf("got %q at %d, want state=bu at 0", got, e.pos)
	}
}

// TestFlowView checks the flow viewport over a real ladder: the arrow
// lines it finds are the lines render.Text drew for that arrow, selection
// scrolls the arrow into view, and sideways scrolling stays in bounds.
func TestFlowView(t *testing.T) {
	ds, msgs := loadCaptures(t, "retransmissions.pcap")
	if len(ds) != 1 {
		t.Fatalf("got %d dialogs, want 1", len(ds))
	}
	l := render.Layout(ds, msgs[ds[0].CallID], render.LayoutOptions{})
	v := newFlowView(l, flowOptions{})
	if len(l.Arrows) != ds[0].Messages {
		t.Fatalf("got %d arrows, want %d (the dialog's messages)", len(l.Arrows), ds[0].Messages)
	}
	for i, a := range l.Arrows {
		label := v.lines[v.arrowLine(i)]
		if !strings.Contains(label, a.Label) {
			t.Errorf("arrow %d: line %q does not hold its label %q", i, label, a.Label)
		}
		want := ">"
		if a.To < a.From {
			want = "<"
		}
		if a.Retrans {
			want = strings.Repeat(want, 3)
		}
		if arrow := v.lines[v.arrowLine(i)+1]; !strings.Contains(arrow, want) {
			t.Errorf("arrow %d: line %q has no %q", i, arrow, want)
		}
		if v.arrowAt(v.arrowLine(i)+1) != i {
			t.Errorf("arrowAt(%d) got %d, want %d", v.arrowLine(i)+1, v.arrowAt(v.arrowLine(i)+1), i)
		}
	}
	if v.arrowAt(0) != -1 {
		t.Errorf("the title line is arrow %d, want none", v.arrowAt(0))
	}
	const h = 6
	for _, i := range []int{0, 3, len(l.Arrows) - 1, 2, 0} {
		v.selectArrow(i, h)
		y := v.arrowLine(v.sel)
		if y < v.top || y+1 >= v.top+h {
			t.Errorf("arrow %d at lines %d-%d not inside viewport %d-%d", i, y, y+1, v.top, v.top+h-1)
		}
	}
	v.selectArrow(100, h)
	if v.sel != len(l.Arrows)-1 {
		t.Errorf("selecting past the end got %d, want %d", v.sel, len(l.Arrows)-1)
	}
	if got := string(v.selectedMessage()); !strings.Contains(got, "Call-ID: "+ds[0].CallID) || !strings.HasPrefix(got, strings.Fields(l.Arrows[v.sel].Label)[0]) && !strings.HasPrefix(got, "SIP/2.0 "+strings.Fields(l.Arrows[v.sel].Label)[0]) {
		t.Errorf("selected message is not the last arrow's (%s): %.60q", l.Arrows[v.sel].Label, got)
	}
	v.scrollX(1000, 20)
	if v.left != v.width-20 {
		t.Errorf("scroll right got left %d, want %d", v.left, v.width-20)
	}
	v.scrollX(-2000, 20)
	if v.left != 0 {
		t.Errorf("scroll left got %d, want 0", v.left)
	}
}

func TestMessageLines(t *testing.T) {
	got := messageLines([]byte("INVITE sip:a SIP/2.0\r\nVia: x\r\nX-Evil: \x1b[2Jboom\tz\r\n\r\nv=0\r\n"))
	want := []string{"INVITE sip:a SIP/2.0", "Via: x", "X-Evil: .[2Jboom z", "", "v=0"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestColumnWidths(t *testing.T) {
	cols, err := parseColumns(DefaultColumns)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{80, 100, 200} {
		ws := columnWidths(cols, w)
		sum := 0
		for _, x := range ws {
			sum += x
		}
		if sum != w {
			t.Errorf("width %d: columns add up to %d", w, sum)
		}
		if ws[len(ws)-1] < 8 {
			t.Errorf("width %d: Call-ID gets %d cells, want at least 8", w, ws[len(ws)-1])
		}
		// The final status and reason keeps 17 cells until the
		// shared columns have 16 each, then grows to 32 ("403 Wrong
		// password" whole on a wide terminal).
		final := ws[1+slices.IndexFunc(cols, func(c field) bool { return c.key == "final" })]
		if want := map[int]int{80: 17, 100: 17, 200: 32}[w]; final != want {
			t.Errorf("width %d: final gets %d cells, want %d", w, final, want)
		}
	}
}

// TestColumnWidthsManyRows: row numbers of six digits and more (and a
// mark's "*") fit the number column; the columns still fill the width.
func TestColumnWidthsManyRows(t *testing.T) {
	cols, err := parseColumns(DefaultColumns)
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range []int{0, 9999, 100000, 2500000} {
		ws := columnWidthsFor(cols, 80, rows)
		if need := len(strconv.Itoa(rows) + " "); ws[0] < need {
			t.Errorf("%d rows: number column %d wide, want at least %d", rows, ws[0], need)
		}
		sum := 0
		for _, w := range ws {
			sum += w
		}
		if sum != 80 {
			t.Errorf("%d rows: widths %v sum to %d, want 80", rows, ws, sum)
		}
	}
}
