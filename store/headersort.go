package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sipscope/sipscope/decode"
)

// HeaderSortPrefix starts a Filter.Sort key that orders by a SIP header of
// each dialog's first request: "header:X-Account", "-header:X-Account".
// Only Page sorts by one, and only alone (no other key after a comma).
const HeaderSortPrefix = "header:"

// headerSort parses a header sort key: the header's name and whether it
// is descending; ok is false when sort is not one.
func headerSort(sort string) (name string, desc, ok bool) {
	k := strings.TrimSpace(sort)
	if r, cut := strings.CutPrefix(k, "-"); cut {
		k, desc = r, true
	} else {
		k = strings.TrimPrefix(k, "+")
	}
	if len(k) <= len(HeaderSortPrefix) || !strings.EqualFold(k[:len(HeaderSortPrefix)], HeaderSortPrefix) {
		return "", false, false
	}
	return k[len(HeaderSortPrefix):], desc, true
}

// checkHeaderSort reports what is wrong with a header sort key, nil when
// sort is a valid one or not one at all.
func checkHeaderSort(sort string) error {
	if strings.Contains(sort, ",") {
		for _, k := range strings.Split(sort, ",") {
			if _, _, ok := headerSort(k); ok {
				return fmt.Errorf("sort %q: a header sort key stands alone", sort)
			}
		}
		return nil
	}
	name, _, ok := headerSort(sort)
	if ok && !decode.IsToken(name) {
		return fmt.Errorf("sort %q: %q is not a SIP header name", sort, name)
	}
	return nil
}

// headerIndex is one header's sort index, in memory: every dialog's
// value of the header in its first request (case-folded, "" when the
// request lacks it), ordered by (value, id), as a page index on a column
// is. It lives in memory rather than in a table so that a read-only
// database (--db) sorts too, and it costs about 40 bytes a dialog.
// Building it reads each dialog's first request once (the first sort by
// the header); later pages only read the dialogs added since.
type headerIndex struct {
	mu      sync.Mutex
	entries []headerEntry // sorted by (val, id)
	maxID   int64         // the highest dialog id read

	// The dialogs the last filter selected (sel[id]), as of maxID
	// selMax: the pages of one filtered list (scrolling, End) reuse it
	// instead of listing the filter's ids per page (~100-180 ms at
	// 100,000 dialogs); dialogs added since are listed alone.
	selKey string
	selMax int64
	sel    []bool
}

type headerEntry struct {
	val string
	id  int64
}

func cmpHeaderEntry(a, b headerEntry) int {
	if c := strings.Compare(a.val, b.val); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// headerIndexes are the store's header indexes, by lower-case name.
type headerIndexes struct {
	mu sync.Mutex
	m  map[string]*headerIndex
}

func (s *Store) headerIndex(name string) *headerIndex {
	h := &s.headers
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]*headerIndex{}
	}
	k := strings.ToLower(name)
	if h.m[k] == nil {
		h.m[k] = &headerIndex{}
	}
	return h.m[k]
}

// PrepareHeaderSort builds (or brings up to date) the index of header
// name, so that the first page sorted by it is as quick as the next ones.
// Cancelling ctx stops it; what it read so far is kept, and the next call
// goes on from there.
func (s *Store) PrepareHeaderSort(ctx context.Context, name string) error {
	if !decode.IsToken(name) {
		return fmt.Errorf("store: sort: %q is not a SIP header name", name)
	}
	ix := s.headerIndex(name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return s.catchUp(ctx, ix, name)
}

// catchUp adds to ix the dialogs stored since it last read (ix.mu held):
// each one's first request (in capture order), parsed for the header.
func (s *Store) catchUp(ctx context.Context, ix *headerIndex, name string) error {
	if s.opts.DialogsOnly {
		return fmt.Errorf("store: sort by %s: %w", name, ErrNoMessages)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, (SELECT m.raw FROM messages m
		WHERE m.dialog_id = d.id AND m.status = 0 ORDER BY m.seq LIMIT 1)
		FROM dialogs d WHERE d.id > ? ORDER BY d.id`, ix.maxID)
	if err != nil {
		return fmt.Errorf("store: sort by %s: %w", name, err)
	}
	defer rows.Close()
	var added []headerEntry
	var m decode.Message
	var raw []byte
	maxID := ix.maxID
	for rows.Next() {
		var id int64
		raw = raw[:0]
		if err := rows.Scan(&id, &raw); err != nil {
			return fmt.Errorf("store: sort by %s: %w", name, err)
		}
		val := ""
		if len(raw) > 0 {
			m = decode.Message{}
			// A request that does not parse sorts as one without the
			// header: the list shows it empty too.
			if decode.Parse(headerPart(raw), &m) == nil || decode.Parse(raw, &m) == nil {
				val = foldCase(m.Header(name))
			}
		}
		added = append(added, headerEntry{val, id})
		maxID = id
	}
	err = rows.Err()
	// Keep what was read even when ctx stopped the read: the next sort
	// goes on from maxID.
	if len(added) > 0 {
		slices.SortFunc(added, cmpHeaderEntry)
		merged := make([]headerEntry, 0, len(ix.entries)+len(added))
		i, j := 0, 0
		for i < len(ix.entries) && j < len(added) {
			if cmpHeaderEntry(ix.entries[i], added[j]) <= 0 {
				merged = append(merged, ix.entries[i])
				i++
			} else {
				merged = append(merged, added[j])
				j++
			}
		}
		merged = append(append(merged, ix.entries[i:]...), added[j:]...)
		ix.entries, ix.maxID = merged, maxID
	}
	if err != nil {
		return fmt.Errorf("store: sort by %s: %w", name, err)
	}
	return nil
}

// filterKey names what f selects (sort and limit aside), for the cached
// selection of a header index.
func filterKey(f Filter) string {
	g := ""
	if f.Grep != nil {
		g = f.Grep.String()
	}
	return fmt.Sprintf("%v|%v|%q|%q|%q|%d|%d|%q|%q|%q|%v", f.Kind, f.State, f.Status, f.From, f.To,
		f.Since.UnixNano(), f.Until.UnixNano(), g, f.CallIDs, f.Search, f.ids)
}

// headerSelection is which dialogs f selects, sel[id], up to ix.maxID
// (ix.mu held): the cached one when f is the last filter, with the dialogs
// added since it was made listed by one indexed SELECT of ids past
// selMax; else one SELECT of every id f selects (no rows read).
func (s *Store) headerSelection(ctx context.Context, ix *headerIndex, f Filter, name string) ([]bool, error) {
	key := filterKey(f)
	if key != ix.selKey {
		ix.selKey, ix.selMax, ix.sel = key, 0, nil
	}
	if ix.sel != nil && ix.selMax >= ix.maxID {
		return ix.sel, nil
	}
	q, args, goFuncs, cleanup, err := s.dialogQuery(ctx, f)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	from, order := strings.Index(q, " FROM dialogs d"), strings.LastIndex(q, " ORDER BY ")
	if from < 0 || order < from {
		return nil, fmt.Errorf("store: sort by %s: unexpected query", name)
	}
	sel := make([]bool, ix.maxID+1)
	copy(sel, ix.sel)
	add := func(sc scanner) (bool, error) {
		var id int64
		if err := sc.Scan(&id); err != nil {
			return false, err
		}
		if id >= 0 && id < int64(len(sel)) {
			sel[id] = true
		}
		return true, nil
	}
	// Only the dialogs past what the cache holds (all of them the first
	// time): SQLite flattens the subquery, so the id bound is a range of
	// the rowid.
	q = "SELECT id FROM (SELECT d.id AS id" + q[from:order] + ") WHERE id > ?"
	args = append(slices.Clone(args), ix.selMax)
	if !goFuncs {
		err = s.dialogsRaw(ctx, q, args, add)
	} else {
		err = s.dialogsSQL(ctx, q, args, add)
	}
	if err != nil {
		ix.selKey, ix.sel = "", nil
		return nil, fmt.Errorf("store: sort by %s: %w", name, err)
	}
	ix.sel, ix.selMax = sel, ix.maxID
	return sel, nil
}

// headerPart is raw up to the blank line that ends its headers (RFC 3261
// §7: the body follows it), so that reading a header does not parse the
// SDP: half the time of building an index. A message without a body is
// raw itself.
func headerPart(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+2]
	}
	return raw
}

// headerPage is Page for a header sort: the dialogs f selects in the
// header's order (ties by id in the key's direction), from the in-memory
// index. Without a filter the page is a slice of the index; with one, the
// store lists the ids f selects (one indexed SELECT of ids, no rows) and
// the page is the offset-th to the offset+limit-th of them in the index.
func (s *Store) headerPage(ctx context.Context, f Filter, name string, desc bool, offset, limit int) ([]int64, error) {
	ix := s.headerIndex(name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := s.catchUp(ctx, ix, name); err != nil {
		return nil, err
	}
	f.Sort, f.Limit = "", 0
	var keep func(id int64) bool
	if !emptyFilter(f) {
		sel, err := s.headerSelection(ctx, ix, f, name)
		if err != nil {
			return nil, err
		}
		keep = func(id int64) bool { return sel[id] }
	}
	n := len(ix.entries)
	at := func(i int) int64 {
		if desc {
			return ix.entries[n-1-i].id
		}
		return ix.entries[i].id
	}
	var out []int64
	if keep == nil {
		for i := offset; i < n && len(out) < limit; i++ {
			out = append(out, at(i))
		}
		return out, nil
	}
	skip := offset
	for i := 0; i < n && len(out) < limit; i++ {
		if id := at(i); keep(id) {
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// emptyFilter reports whether f selects every dialog (sort and limit
// aside).
func emptyFilter(f Filter) bool {
	return len(f.Kind) == 0 && len(f.State) == 0 && f.Status == "" && f.From == "" && f.To == "" &&
		f.Since.IsZero() && f.Until.IsZero() && f.Grep == nil && f.CallIDs == nil && f.Search == "" && f.ids == nil
}

// idsJSON is ids as a JSON array, for json_each.
func idsJSON(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
