package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// rawConn is a connection of the Writer's own to its database (and of
// Store.Dialogs, to read), driven through modernc.org/sqlite/lib (SQLite's
// C API, transpiled to Go, which the database/sql driver uses too) instead
// of database/sql.
//
// An import is bound by the Writer, and the Writer by binding values: the
// driver copies every text and blob into a C allocation of its own, records
// it to free it, takes the connection's mutex for each call and clears the
// bindings after each statement, ~0.5 s of an import of 50,000 calls. Here
// the values of a statement are copied once into one C buffer that is
// reused, bound without a copy (SQLITE_STATIC), and the connection is
// opened without a mutex (SQLITE_OPEN_NOMUTEX): only the Writer uses it,
// one goroutine at a time.
//
// It offers what the Writer and Dialogs need: statements prepared once and
// kept (execKept, queryRow), statements run once (exec, query), and the
// bulk inserts (bulk.flush). Values are int64, int, bool, string, []byte
// and nil, as the driver takes them; rows are read through rawCursor.
type rawConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[string]*rawStmt
	// buf is C memory the text and blob values of the statement being run
	// are copied into; they are bound to it without a copy and stay valid
	// until the next run.
	buf    uintptr
	bufCap int
}

// cmem is the address p of C memory (allocated by modernc.org/libc, outside
// the Go heap, never moved) as a pointer Go can read and write through.
func cmem(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
}

// openRaw opens the database at path (which must exist) with pragmas, the
// settings of the Store's pooled connections (see pragmas).
func openRaw(path string, pragmas []string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS(), stmts: make(map[string]*rawStmt)}
	cpath, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(c.tls, cpath, pdb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = *(*uintptr)(cmem(pdb))
	// Freed before close can end the TLS they come from.
	c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	libc.Xfree(c.tls, cpath)
	if rc != sqlite3.SQLITE_OK {
		err := c.errorf(rc, "open")
		c.close()
		return nil, err
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	for _, p := range pragmas {
		if _, err := c.exec("PRAGMA " + p); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// rawError is an error SQLite returned on a rawConn.
type rawError struct {
	code int32 // extended result code
	msg  string
}

func (e *rawError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }

// Code is SQLite's extended result code.
func (e *rawError) Code() int { return int(e.code) }

// errorf makes an error of SQLite's message for rc.
func (c *rawConn) errorf(rc int32, what string) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
		if x := sqlite3.Xsqlite3_extended_errcode(c.tls, c.db); x&0xff == rc&0xff {
			rc = x
		}
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return &rawError{code: rc, msg: what + ": " + msg}
}

// close finalizes every statement and closes the connection.
func (c *rawConn) close() error {
	if c.tls == nil {
		return nil
	}
	for _, st := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, st.p)
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.errorf(rc, "close")
		}
		c.db = 0
	}
	if c.buf != 0 {
		libc.Xfree(c.tls, c.buf)
		c.buf, c.bufCap = 0, 0
	}
	c.tls.Close()
	c.tls = nil
	return err
}

// prepare returns the statement for query, prepared on first use and kept
// until close.
func (c *rawConn) prepare(query string) (*rawStmt, error) {
	if st := c.stmts[query]; st != nil {
		return st, nil
	}
	st, err := c.compile(query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// compile prepares query; the caller finalizes it (or prepare keeps it).
func (c *rawConn) compile(query string) (*rawStmt, error) {
	cq, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, cq)
	pst := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, cq, -1, pst, 0); rc != sqlite3.SQLITE_OK {
		return nil, c.errorf(rc, "prepare")
	}
	p := *(*uintptr)(cmem(pst))
	if p == 0 {
		return nil, errors.New("prepare: no statement in the query")
	}
	return &rawStmt{c: c, p: p}, nil
}

// finalize frees st (one compile made; prepare's are freed by close).
func (st *rawStmt) finalize() {
	sqlite3.Xsqlite3_finalize(st.c.tls, st.p)
}

// bind binds args to st's parameters, in order; the text and blob values
// are copied into c.buf.
func (st *rawStmt) bind(args []any) error {
	c := st.c
	// Every parameter is bound on every run: one left over would keep the
	// value of the run before, pointing into buf.
	if want := int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, st.p)); len(args) != want {
		return fmt.Errorf("bind: %d values for %d parameters", len(args), want)
	}
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		case *string:
			n += len(*v)
		case *[]byte:
			n += len(*v)
		}
	}
	if n+1 > c.bufCap {
		size := max(n+1, 2*c.bufCap, 64<<10)
		p := libc.Xrealloc(c.tls, c.buf, libc.Tsize_t(size))
		if p == 0 {
			return errors.New("bind: out of memory")
		}
		c.buf, c.bufCap = p, size
	}
	mem := unsafe.Slice((*byte)(cmem(c.buf)), c.bufCap)
	off := 0
	for i, a := range args {
		idx := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, st.p, idx)
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st.p, idx, v)
		case int:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st.p, idx, int64(v))
		case float64: // streams rows (Writer.Stream)
			rc = sqlite3.Xsqlite3_bind_double(c.tls, st.p, idx, v)
		case bool:
			var x int64
			if v {
				x = 1
			}
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st.p, idx, x)
		case string:
			rc = st.bindText(idx, mem, &off, v)
		case []byte:
			rc = st.bindBlob(idx, mem, &off, v)
		// The values boxes makes (pointers, made without an allocation).
		case *int64:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st.p, idx, *v)
		case *string:
			rc = st.bindText(idx, mem, &off, *v)
		case *[]byte:
			rc = st.bindBlob(idx, mem, &off, *v)
		default:
			return fmt.Errorf("bind: value %d: unsupported type %T", i+1, a)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.errorf(rc, fmt.Sprintf("bind value %d", i+1))
		}
	}
	return nil
}

// bindText binds v to parameter idx, copied into mem (c.buf) at *off.
func (st *rawStmt) bindText(idx int32, mem []byte, off *int, v string) int32 {
	c := st.c
	// A non-NULL pointer even for "": a NULL one binds NULL.
	copy(mem[*off:], v)
	rc := sqlite3.Xsqlite3_bind_text(c.tls, st.p, idx, c.buf+uintptr(*off), int32(len(v)), 0)
	*off += len(v)
	return rc
}

// bindBlob binds v to parameter idx (NULL when nil), copied into mem
// (c.buf) at *off.
func (st *rawStmt) bindBlob(idx int32, mem []byte, off *int, v []byte) int32 {
	c := st.c
	if v == nil {
		return sqlite3.Xsqlite3_bind_null(c.tls, st.p, idx)
	}
	copy(mem[*off:], v)
	rc := sqlite3.Xsqlite3_bind_blob(c.tls, st.p, idx, c.buf+uintptr(*off), int32(len(v)), 0)
	*off += len(v)
	return rc
}

// steps binds args and steps st, calling onRow on each row it returns
// until onRow returns false or an error; st is reset after.
func (st *rawStmt) steps(args []any, onRow func() (bool, error)) error {
	c := st.c
	defer sqlite3.Xsqlite3_reset(c.tls, st.p)
	if err := st.bind(args); err != nil {
		return err
	}
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, st.p); rc {
		case sqlite3.SQLITE_DONE:
			return nil
		case sqlite3.SQLITE_ROW:
			if more, err := onRow(); err != nil || !more {
				return err
			}
		default:
			return c.errorf(rc, "step")
		}
	}
}

// exec runs query once, with args.
func (c *rawConn) exec(query string, args ...any) (rawResult, error) {
	st, err := c.compile(query)
	if err != nil {
		return rawResult{}, err
	}
	defer st.finalize()
	return st.exec(args)
}

// exec runs st with args to its end (rows it returns are skipped).
func (st *rawStmt) exec(args []any) (rawResult, error) {
	if err := st.steps(args, func() (bool, error) { return true, nil }); err != nil {
		return rawResult{}, err
	}
	return st.c.result(), nil
}

func (c *rawConn) result() rawResult {
	return rawResult{id: sqlite3.Xsqlite3_last_insert_rowid(c.tls, c.db), n: int64(sqlite3.Xsqlite3_changes(c.tls, c.db))}
}

// execKept runs query, prepared once and kept, with args.
func (c *rawConn) execKept(query string, args ...any) (rawResult, error) {
	st, err := c.prepare(query)
	if err != nil {
		return rawResult{}, err
	}
	return st.exec(args)
}

// ExecContext is execKept, for the execer interface (Store.insertFile).
// The context is not watched: the Writer's statements are short.
func (c *rawConn) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return c.execKept(query, args...)
}

// queryRow runs query, prepared once and kept, with args and hands its
// first row to scan; sql.ErrNoRows when it returns none.
func (c *rawConn) queryRow(query string, args []any, scan func(rawCursor) error) error {
	st, err := c.prepare(query)
	if err != nil {
		return err
	}
	found := false
	err = st.steps(args, func() (bool, error) {
		found = true
		return false, scan(rawCursor{st})
	})
	if err == nil && !found {
		err = sql.ErrNoRows
	}
	return err
}

// rawResult is an sql.Result.
type rawResult struct{ id, n int64 }

func (r rawResult) LastInsertId() (int64, error) { return r.id, nil }
func (r rawResult) RowsAffected() (int64, error) { return r.n, nil }

// rawCursor scans the row a statement stands on (after SQLITE_ROW), column
// by column, straight into its destinations: *int64, *int, *string,
// *sql.NullString or *[]byte, converted as database/sql's Scan does for
// these (a NULL is refused but for *sql.NullString and *[]byte).
type rawCursor struct{ st *rawStmt }

func (r rawCursor) Scan(dest ...any) error {
	tls, p := r.st.c.tls, r.st.p
	if n := int(sqlite3.Xsqlite3_column_count(tls, p)); n != len(dest) {
		return fmt.Errorf("scan: %d destinations for %d columns", len(dest), n)
	}
	text := func(col int32) string {
		b := sqlite3.Xsqlite3_column_text(tls, p, col)
		n := int(sqlite3.Xsqlite3_column_bytes(tls, p, col))
		if n == 0 {
			return ""
		}
		return string(unsafe.Slice((*byte)(cmem(b)), n))
	}
	for i, d := range dest {
		col := int32(i)
		typ := sqlite3.Xsqlite3_column_type(tls, p, col)
		switch v := d.(type) {
		case *int64:
			if typ != sqlite3.SQLITE_INTEGER {
				return fmt.Errorf("scan: column %d is not an integer", i)
			}
			*v = sqlite3.Xsqlite3_column_int64(tls, p, col)
		case *int:
			if typ != sqlite3.SQLITE_INTEGER {
				return fmt.Errorf("scan: column %d is not an integer", i)
			}
			*v = int(sqlite3.Xsqlite3_column_int64(tls, p, col))
		case *string:
			if typ == sqlite3.SQLITE_NULL {
				return fmt.Errorf("scan: column %d is NULL, not text", i)
			}
			*v = text(col)
		case *sql.NullString:
			if typ == sqlite3.SQLITE_NULL {
				*v = sql.NullString{}
			} else {
				*v = sql.NullString{String: text(col), Valid: true}
			}
		case *[]byte:
			*v = nil
			if typ != sqlite3.SQLITE_NULL {
				b := sqlite3.Xsqlite3_column_blob(tls, p, col)
				*v = append([]byte{}, unsafe.Slice((*byte)(cmem(b)), int(sqlite3.Xsqlite3_column_bytes(tls, p, col)))...)
			}
		default:
			return fmt.Errorf("scan: unsupported destination %T", d)
		}
	}
	return nil
}

// query runs query with args and calls fn on each row until it returns
// false or the rows end.
func (c *rawConn) query(query string, args []any, fn func(rawCursor) (bool, error)) error {
	st, err := c.compile(query)
	if err != nil {
		return err
	}
	defer st.finalize()
	return st.steps(args, func() (bool, error) { return fn(rawCursor{st}) })
}
