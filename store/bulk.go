package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// bulk batches rows for one table into multi-row INSERT statements: one
// statement of rows rows instead of a statement per row, which is most of
// SQLite's cost per row through database/sql. A full statement is
// prepared once on the Writer's connection and executed through the
// driver directly, with the values as they are (int64, string, []byte,
// bool, nil: all driver.Values), which spares database/sql's conversion
// and checks of every value. It is not safe for concurrent use.
type bulk struct {
	head string // INSERT INTO t (cols) VALUES
	row  string // (?, ?, ...)
	tail string // ON CONFLICT ... or ""
	rows int    // rows per full statement
	full driver.Stmt
	args []any
	nv   []driver.NamedValue
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
		nv:   make([]driver.NamedValue, ncol*rows),
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
func (b *bulk) add(ctx context.Context, c *sql.Conn, args ...any) error {
	b.args = append(b.args, args...)
	b.n++
	if b.n >= b.rows {
		return b.flush(ctx, c)
	}
	return nil
}

// add2 queues one row whose values are a followed by b.
func (b *bulk) add2(ctx context.Context, c *sql.Conn, a1, a2 []any) error {
	b.args = append(append(b.args, a1...), a2...)
	b.n++
	if b.n >= b.rows {
		return b.flush(ctx, c)
	}
	return nil
}

// flush inserts the queued rows.
func (b *bulk) flush(ctx context.Context, c *sql.Conn) error {
	if b.n == 0 {
		return nil
	}
	var err error
	if b.n == b.rows {
		err = c.Raw(func(dc any) error {
			if b.full == nil {
				p, ok := dc.(driver.ConnPrepareContext)
				if !ok {
					return fmt.Errorf("driver %T cannot prepare with a context", dc)
				}
				var err error
				if b.full, err = p.PrepareContext(ctx, b.query(b.rows)); err != nil {
					return err
				}
			}
			ex, ok := b.full.(driver.StmtExecContext)
			if !ok {
				return fmt.Errorf("driver statement %T cannot execute with a context", b.full)
			}
			for i, a := range b.args {
				b.nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
			}
			_, err := ex.ExecContext(ctx, b.nv[:len(b.args)])
			clear(b.nv[:len(b.args)])
			return err
		})
	} else {
		_, err = c.ExecContext(ctx, b.query(b.n), b.args...)
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

// close closes the prepared statement, before c goes back to the pool.
func (b *bulk) close(c *sql.Conn) {
	b.drop()
	if b.full == nil {
		return
	}
	_ = c.Raw(func(any) error { return b.full.Close() })
	b.full = nil
}
