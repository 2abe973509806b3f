package store

import (
	"context"
	"database/sql"
	"fmt"

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
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM ("+q+")", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	return n, nil
}

// Page returns at most limit dialogs that f selects, in f's order, skipping
// the first offset: what one screen of a list shows, so that scrolling a
// large store reads only the visible rows. f.Limit is ignored.
func (s *Store) Page(ctx context.Context, f Filter, offset, limit int) ([]*correlate.Dialog, error) {
	if offset < 0 || limit <= 0 {
		return nil, nil
	}
	f.Limit = 0
	q, args, goFuncs, cleanup, err := s.dialogQuery(f)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	q += " LIMIT ? OFFSET ?"
	args = append(args, limit, offset)
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
