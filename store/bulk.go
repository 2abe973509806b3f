package store

import (
	"strings"
)

// bulk batches rows for one table into multi-row INSERT statements: one
// statement of rows rows instead of a statement per row, which is most of
// SQLite's cost per row. A full statement is prepared once on the
// Writer's connection (rawConn) and run with the values as they are
// (int64, string, []byte, bool, nil). It is not safe for concurrent use.
type bulk struct {
	head string // INSERT INTO t (cols) VALUES
	row  string // (?, ?, ...)
	tail string // ON CONFLICT ... or ""
	rows int    // rows per full statement
	full *rawStmt
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
func (b *bulk) add(c *rawConn, args ...any) error {
	b.args = append(b.args, args...)
	b.n++
	if b.n >= b.rows {
		return b.flush(c)
	}
	return nil
}

// add2 queues one row whose values are a followed by b.
func (b *bulk) add2(c *rawConn, a1, a2 []any) error {
	b.args = append(append(b.args, a1...), a2...)
	b.n++
	if b.n >= b.rows {
		return b.flush(c)
	}
	return nil
}

// flush inserts the queued rows: a full statement is prepared once and
// kept, a shorter one (the end of a batch) is prepared for the occasion.
func (b *bulk) flush(c *rawConn) error {
	if b.n == 0 {
		return nil
	}
	var err error
	if b.n == b.rows {
		if b.full == nil {
			b.full, err = c.compile(b.query(b.rows))
		}
		if err == nil {
			_, err = b.full.exec(b.args)
		}
	} else {
		_, err = c.exec(b.query(b.n), b.args...)
	}
	b.drop()
	return err
}

// drop forgets the queued rows.
func (b *bulk) drop() {
	clear(b.args)
	b.args, b.n = b.args[:0], 0
}

// reset is for the end of a transaction: queued rows are dropped, the
// prepared statement stays.
func (b *bulk) reset() { b.drop() }

// close finalizes the prepared statement, before its connection closes.
func (b *bulk) close() {
	b.drop()
	if b.full != nil {
		b.full.finalize()
		b.full = nil
	}
}
