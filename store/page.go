package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sipscope/sipscope/correlate"
)

// Count returns how many dialogs f selects (ignoring f.Limit), counted by
// SQLite: a screen shows "row N of M" without reading M rows.
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	f.Limit, f.Sort = 0, ""
	if onlySearch(f) {
		// The in-memory match: no scan of 100,000 lines in SQL.
		ids, err := s.searchIDs(ctx, foldCase(f.Search))
		return int64(len(ids)), err
	}
	q, args, _, cleanup, err := s.dialogQuery(ctx, f)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	// Count the WHERE alone: counting the select list's rows (with its
	// linked-legs subqueries and ORDER BY) costs ~130 ms at 100,000
	// dialogs, this well under one.
	cq := "SELECT count(*) FROM (" + q + ")"
	if from, order := strings.Index(q, " FROM dialogs d"), strings.LastIndex(q, " ORDER BY "); from > 0 && order > from {
		cq = "SELECT count(*)" + q[from:order]
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, cq, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// onlySearch reports whether f selects by Search alone.
func onlySearch(f Filter) bool {
	return f.Search != "" && len(f.Kind) == 0 && len(f.State) == 0 && f.Status == "" && f.From == "" && f.To == "" &&
		f.Since.IsZero() && f.Until.IsZero() && f.Grep == nil && f.CallIDs == nil && f.Limit == 0
}

// Page returns at most limit dialogs that f selects, in f's order, skipping
// the first offset: what one screen of a list shows, so that scrolling a
// large store reads only the visible rows. f.Limit is ignored.
//
// Dialogs with equal sort keys come in id order in the direction of the
// last key (Dialogs breaks ties by ascending id always): that order is the
// one an index on the sort column holds read forwards or backwards, so a
// deep page of "-duration" walks the index (migration 0009) instead of
// sorting every dialog for each screenful.
func (s *Store) Page(ctx context.Context, f Filter, offset, limit int) ([]*correlate.Dialog, error) {
	if offset < 0 || limit <= 0 {
		return nil, nil
	}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if name, desc, ok := headerSort(f.Sort); ok {
		ids, err := s.headerPage(ctx, f, name, desc, offset, limit)
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		// The page's rows by id, put in the index's order.
		got, ds, err := s.page(ctx, Filter{ids: ids}, 0, len(ids))
		if err != nil {
			return nil, err
		}
		pos := make(map[int64]int, len(ids))
		for i, id := range ids {
			pos[id] = i
		}
		byID := make([]*correlate.Dialog, len(ids))
		for k, d := range ds {
			if i, ok := pos[got[k]]; ok {
				byID[i] = d
			}
		}
		out := byID[:0]
		for _, d := range byID {
			if d != nil { // gone since the index read it (a merge)
				out = append(out, d)
			}
		}
		return out, nil
	}
	_, out, err := s.page(ctx, f, offset, limit)
	return out, err
}

// page is Page by a column's order, with the dialogs' ids.
func (s *Store) page(ctx context.Context, f Filter, offset, limit int) ([]int64, []*correlate.Dialog, error) {
	q, args, goFuncs, cleanup, err := s.pageQuery(ctx, f, offset, limit)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	var out []*correlate.Dialog
	var ids []int64
	row := func(sc scanner) (bool, error) {
		var linked sql.NullString
		id, d, err := scanDialog(sc, &linked)
		if err != nil {
			return false, err
		}
		d.Linked = splitLinked(linked)
		out, ids = append(out, d), append(ids, id)
		return true, nil
	}
	// Go functions (grep, Unicode case folding) exist only on the
	// database/sql connections.
	if !goFuncs {
		err = s.dialogsRaw(ctx, q, args, row)
	} else {
		err = s.dialogsSQL(ctx, q, args, row)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: page: %w", err)
	}
	return ids, out, nil
}

// Tally is what a stats screen shows of the dialogs a filter selects:
// dialogs by state and kind, their messages by request method and by
// response status.
type Tally struct {
	Dialogs, Messages int64
	States, Kinds     map[string]int64
	Methods           map[string]int64 // requests, by method
	Statuses          map[int]int64    // responses, by status code
}

// Tally counts what f selects (f.Sort and f.Limit are ignored) with
// GROUP BY queries: no dialog or message is read into Go.
func (s *Store) Tally(ctx context.Context, f Filter) (Tally, error) {
	f.Limit, f.Sort = 0, ""
	q, args, _, cleanup, err := s.dialogQuery(ctx, f)
	if err != nil {
		return Tally{}, err
	}
	defer cleanup()
	t := Tally{States: map[string]int64{}, Kinds: map[string]int64{}, Methods: map[string]int64{}, Statuses: map[int]int64{}}
	sel := "WITH sel AS (SELECT id, state, kind FROM (" + q + ")) "
	group := func(query string, add func(key any, n int64)) error {
		rows, err := s.db.QueryContext(ctx, sel+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key any
			var n int64
			if err := rows.Scan(&key, &n); err != nil {
				return err
			}
			add(key, n)
		}
		return rows.Err()
	}
	str := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return fmt.Sprint(v)
	}
	err = group("SELECT state, count(*) FROM sel GROUP BY state", func(k any, n int64) { t.States[str(k)] = n; t.Dialogs += n })
	if err == nil {
		err = group("SELECT kind, count(*) FROM sel GROUP BY kind", func(k any, n int64) { t.Kinds[str(k)] = n })
	}
	if err == nil {
		err = group("SELECT m.method, count(*) FROM messages m JOIN sel ON m.dialog_id = sel.id WHERE m.status = 0 GROUP BY m.method",
			func(k any, n int64) { t.Methods[str(k)] = n; t.Messages += n })
	}
	if err == nil {
		err = group("SELECT m.status, count(*) FROM messages m JOIN sel ON m.dialog_id = sel.id WHERE m.status <> 0 GROUP BY m.status",
			func(k any, n int64) {
				code, _ := k.(int64)
				t.Statuses[int(code)] = n
				t.Messages += n
			})
	}
	if err != nil {
		return Tally{}, fmt.Errorf("store: tally: %w", err)
	}
	return t, nil
}

// pageQuery is Page's query: dialogQuery's, ordered by pageOrder, with
// LIMIT and OFFSET.
func (s *Store) pageQuery(ctx context.Context, f Filter, offset, limit int) (string, []any, bool, func(), error) {
	f.Limit = 0
	q, args, goFuncs, cleanup, err := s.dialogQuery(ctx, f)
	if err != nil {
		return "", nil, false, cleanup, err
	}
	if order, err := orderBy(f.Sort); err == nil {
		if base, ok := strings.CutSuffix(q, " ORDER BY "+order); ok {
			q = base + " ORDER BY " + pageOrder(f.Sort, order)
		}
	}
	// One sort key with a page index (migration 0009): read the index,
	// which is in the page's order and decides kind, state and status
	// filters without the rows. SQLite would rather use the filter's
	// index and sort every match: it has no statistics to know better.
	key := strings.TrimLeft(strings.ToLower(strings.TrimSpace(f.Sort)), "+-")
	if key == "" {
		key = "start"
	}
	if ix, ok := pageIndexes[key]; ok && f.ids == nil && !strings.Contains(f.Sort, ",") && s.hasIndex(ix) && !s.fewMatches(ctx, f, q, args) {
		q = strings.Replace(q, " FROM dialogs d", " FROM dialogs d INDEXED BY "+ix, 1)
	}
	return q + " LIMIT ? OFFSET ?", append(args, limit, offset), goFuncs, cleanup, nil
}

// fewMatchesLimit is how many matches sorting is cheaper than walking a
// page index past every dialog that does not match (a variable for the
// tests).
var fewMatchesLimit = 2000

// fewMatches reports whether a kind, state or status filter (which have
// their own indexes) selects fewer than fewMatchesLimit dialogs: then the
// filter's index and a sort of those few is quicker than the page index
// (state=busy among 100,000 calls: 1 ms instead of 50). It reads at most
// fewMatchesLimit index entries.
func (s *Store) fewMatches(ctx context.Context, f Filter, q string, args []any) bool {
	if len(f.Kind) == 0 && len(f.State) == 0 && f.Status == "" {
		return false
	}
	from, order := strings.Index(q, " FROM dialogs d"), strings.LastIndex(q, " ORDER BY ")
	if from < 0 || order < from {
		return false
	}
	var n int
	probe := "SELECT count(*) FROM (SELECT 1" + q[from:order] + " LIMIT " + strconv.Itoa(fewMatchesLimit) + ")"
	if err := s.db.QueryRowContext(ctx, probe, args...).Scan(&n); err != nil {
		return false
	}
	return n < fewMatchesLimit
}

// pageIndexes are migrations 0009, 0010 and 0011's indexes, by the sort key each serves.
var pageIndexes = map[string]string{
	"start": "dialogs_page_start", "duration": "dialogs_page_duration", "messages": "dialogs_page_messages",
	"retransmissions": "dialogs_page_retransmissions", "setup": "dialogs_page_setup", "answer": "dialogs_page_answer",
	"from": "dialogs_page_from", "to": "dialogs_page_to", "user_agent": "dialogs_page_ua",
	"src": "dialogs_page_src", "dst": "dialogs_page_dst", "transport": "dialogs_page_transport",
}

// pageIndexNames lists pageIndexes' names, for OpenTemp to drop.
func pageIndexNames() []string {
	out := make([]string, 0, len(pageIndexes))
	for _, ix := range pageIndexes {
		out = append(out, ix)
	}
	return out
}

// hasIndex reports whether the database holds the index (a scratch store
// does not, unless AddPageIndexes made them).
func (s *Store) hasIndex(name string) bool {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?`, name).Scan(&n)
	return err == nil && n == 1
}

// AddPageIndexes creates migrations 0009, 0010 and 0011's page indexes when
// they are missing, as in a scratch store (OpenTemp), which leaves them
// out for commands that read every dialog once. The terminal UI pages
// through the store while it fills and wants them: call it before
// writing.
func (s *Store) AddPageIndexes(ctx context.Context) error {
	for _, name := range []string{"0009_tui_sort_indexes.sql", "0010_tui_search.sql", "0011_tui_addr_sort.sql"} {
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return fmt.Errorf("store: page indexes: %w", err)
		}
		ddl := strings.ReplaceAll(string(b), "CREATE INDEX dialogs_page_", "CREATE INDEX IF NOT EXISTS dialogs_page_")
		if _, err := s.db.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("store: page indexes: %w", err)
		}
	}
	return nil
}

// pageOrder is order (orderBy's ORDER BY list for sort) with its final
// tie-break on id turned to the direction of sort's last key.
func pageOrder(sort, order string) string {
	keys := strings.Split(sort, ",")
	if last := strings.TrimSpace(keys[len(keys)-1]); strings.HasPrefix(last, "-") {
		if base, ok := strings.CutSuffix(order, ", d.id ASC"); ok {
			return base + ", d.id DESC"
		}
	}
	return order
}

// searchFields is the SQL of a dialog's search line, before lower(): its
// Call-ID, From and To (display name, URI, and user when the URI lacks
// it), User-Agent and addresses, joined by a unit separator so that a
// search matches within one field; p is the table alias ("d."). What a
// user types to find a call; state and status are the filter line's.
func searchFields(p string) string {
	f := func(c string) string { return p + c }
	user := func(side string) string {
		return "CASE WHEN instr(" + f(side+"_uri") + ", " + f(side+"_user") + ") THEN '' ELSE " + f(side+"_user") + " END"
	}
	parts := []string{f("call_id"), f("from_display"), f("from_uri"), user("from"), f("to_display"), f("to_uri"), user("to"),
		f("user_agent"), f("src"), f("dst")}
	return strings.Join(parts, " || char(31) || ")
}

// searchCond is the WHERE term of Filter.Search: a substring of the
// dialog's search line (searchFields, lower case). The store matches the
// lines in memory (searchIDs) and names the few dialogs that match; when
// many match, the page probes each row's line as it walks its index,
// which stops after a screenful. A pattern with non-ASCII letters folds
// both sides in Go (sipscope_fold), as partyCond does.
func (s *Store) searchCond(ctx context.Context, pat string, args *[]any) (cond string, folded bool, err error) {
	p := foldCase(pat)
	if strings.ContainsRune(p, 0x1f) {
		return "0", false, nil // the separator: within no one field
	}
	ids, err := s.searchIDs(ctx, p)
	if err != nil {
		return "", false, err
	}
	if len(ids) <= fewMatchesLimit {
		b := make([]byte, 0, 8*len(ids)+2)
		b = append(b, '[')
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, id, 10)
		}
		*args = append(*args, string(append(b, ']')))
		return "d.id IN (SELECT value FROM json_each(?))", false, nil
	}
	text := "lower(" + searchFields("d.") + ")"
	if !isASCII(pat) {
		text, folded = "sipscope_fold("+text+")", true
	}
	*args = append(*args, p)
	return "instr(" + text + ", ?)", folded, nil
}

// searchCache is every dialog's search line in memory (about 130 bytes
// a dialog), in one arena: read once and then only the rows added since
// (a store that fills while the UI searches), and the last search's
// matches, which the next key's longer pattern only narrows. A row that
// a merge changes after it was read keeps its old line (the fields in it
// are those a continuation does not change).
type searchCache struct {
	mu    sync.Mutex
	ids   []int64 // ascending dialog ids
	ends  []int   // line i is text[ends[i-1]:ends[i]]
	text  []byte
	maxID int64
	// last and lastIDs are the previous search: a pattern that contains
	// it can only match among lastIDs (positions in ids).
	last    string
	lastPos []int
	lastMax int64
}

// PrepareSearch reads the search lines into memory ahead of the first
// Filter.Search (about a second at 100,000 dialogs on a slow machine), so
// that the first key typed is answered as fast as the next ones. The UI
// calls it in the background when it opens.
func (s *Store) PrepareSearch(ctx context.Context) error {
	_, err := s.searchIDs(ctx, "")
	return err
}

// searchIDs returns the ids of the dialogs whose search line holds pat
// (already folded), ascending.
func (s *Store) searchIDs(ctx context.Context, pat string) ([]int64, error) {
	if strings.ContainsRune(pat, 0x1f) {
		return nil, nil // the separator: within no one field
	}
	c := &s.search
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, lower(`+searchFields("d.")+`) FROM dialogs d WHERE d.id > ? ORDER BY d.id`, c.maxID)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	var line sql.RawBytes
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: search: %w", err)
		}
		c.text = append(c.text, foldCase(string(line))...)
		c.ids = append(c.ids, id)
		c.ends = append(c.ends, len(c.text))
		c.maxID = id
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	if pat == "" {
		return nil, nil // PrepareSearch
	}
	b := []byte(pat)
	match := func(i int) bool {
		start := 0
		if i > 0 {
			start = c.ends[i-1]
		}
		return bytes.Contains(c.text[start:c.ends[i]], b)
	}
	var pos []int
	from := 0
	if c.last != "" && strings.Contains(pat, c.last) {
		// Narrowing: only the last matches, then the lines added since.
		for _, i := range c.lastPos {
			if match(i) {
				pos = append(pos, i)
			}
		}
		from = sort.Search(len(c.ids), func(i int) bool { return c.ids[i] > c.lastMax })
	}
	for i := from; i < len(c.ids); i++ {
		if match(i) {
			pos = append(pos, i)
		}
	}
	c.last, c.lastPos, c.lastMax = pat, pos, c.maxID
	out := make([]int64, len(pos))
	for k, i := range pos {
		out[k] = c.ids[i]
	}
	return out, nil
}
