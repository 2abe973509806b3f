package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/sipscope/sipscope/correlate"
)

// Count returns how many dialogs f selects (ignoring f.Limit), counted by
// SQLite: a screen shows "row N of M" without reading M rows.
func (s *Store) Count(ctx context.Context, f Filter) (int64, error) {
	f.Limit, f.Sort = 0, ""
	q, args, _, cleanup, err := s.dialogQuery(f)
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
	q, args, goFuncs, cleanup, err := s.pageQuery(ctx, f, offset, limit)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var out []*correlate.Dialog
	row := func(sc scanner) (bool, error) {
		var linked sql.NullString
		_, d, err := scanDialog(sc, &linked)
		if err != nil {
			return false, err
		}
		d.Linked = splitLinked(linked)
		out = append(out, d)
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
		return nil, fmt.Errorf("store: page: %w", err)
	}
	return out, nil
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
	q, args, _, cleanup, err := s.dialogQuery(f)
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
	q, args, goFuncs, cleanup, err := s.dialogQuery(f)
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
	if ix, ok := pageIndexes[key]; ok && !strings.Contains(f.Sort, ",") && s.hasIndex(ix) && !s.fewMatches(ctx, f, q, args) {
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

// pageIndexes are migration 0009's indexes, by the sort key each serves.
var pageIndexes = map[string]string{
	"start": "dialogs_page_start", "duration": "dialogs_page_duration", "messages": "dialogs_page_messages",
	"retransmissions": "dialogs_page_retransmissions", "setup": "dialogs_page_setup", "answer": "dialogs_page_answer",
	"from": "dialogs_page_from", "to": "dialogs_page_to",
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

// AddPageIndexes creates migration 0009's page indexes when they are
// missing, as in a scratch store (OpenTemp), which leaves them out for
// commands that read every dialog once. The terminal UI pages through
// the store while it fills and wants them: call it before writing.
func (s *Store) AddPageIndexes(ctx context.Context) error {
	b, err := migrationFS.ReadFile("migrations/0009_tui_sort_indexes.sql")
	if err != nil {
		return fmt.Errorf("store: page indexes: %w", err)
	}
	ddl := strings.ReplaceAll(string(b), "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ")
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("store: page indexes: %w", err)
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
