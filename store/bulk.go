package store

import (
	"context"
	"database/sql"
	"strings"
)

// bulk batches rows for one table into multi-row INSERT statements: one
// statement of rows rows (prepared once per transaction) instead of a
// statement per row, which is most of SQLite's cost per row through
// database/sql. It is not safe for concurrent use.
type bulk struct {
	head string // INSERT INTO t (cols) VALUES
	row  string // (?, ?, ...)
	tail string // ON CONFLICT ... or ""
	rows int    // rows per full statement
	full *sql.Stmt
	args []any
	n    int
}

// newBulk returns a bulk inserter for table with ncol columns, rows rows
// per statement (keep rows×ncol under SQLite's 32766 parameters).
func newBulk(verb, table, cols string, ncol, rows int, tail string) *bulk {
	return &bulk{
		head: verb + " INTO " + table + " (" + cols + ") VALUES ",
		row:  "(" + placeholders(ncol) + ")",
		tail: tail,
		rows: rows,
		args: make([]any, 0, ncol*rows),
	}
}

func (b *bulk) query(n int) string {
	var q strings.Builder
	q.Grow(len(b.head) + n*(len(b.row)+2) + len(b.tail) + 1)
	q.WriteString(b.head)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(b.row)
	}
	if b.tail != "" {
		q.WriteString(" ")
		q.WriteString(b.tail)
	}
	return q.String()
}

// add queues one row; a full statement is executed at once.
func (b *bulk) add(ctx context.Context, tx *sql.Tx, args ...any) error {
	b.args = append(b.args, args...)
	b.n++
	if b.n >= b.rows {
		return b.flush(ctx, tx)
	}
	return nil
}

// flush inserts the queued rows.
func (b *bulk) flush(ctx context.Context, tx *sql.Tx) error {
	if b.n == 0 {
		return nil
	}
	var err error
	if b.n == b.rows {
		if b.full == nil {
			b.full, err = tx.PrepareContext(ctx, b.query(b.rows))
		}
		if err == nil {
			_, err = b.full.ExecContext(ctx, b.args...)
		}
	} else {
		_, err = tx.ExecContext(ctx, b.query(b.n), b.args...)
	}
	b.drop()
	return err
}

// drop forgets the queued rows.
func (b *bulk) drop() {
	clear(b.args)
	b.args, b.n = b.args[:0], 0
}

// reset is for the end of a transaction: its statements are closed with it.
func (b *bulk) reset() {
	b.drop()
	b.full = nil
}
