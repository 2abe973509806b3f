package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"
)

// deferredTable lists the indexes of dialogs a Writer dropped to build
// them after its import (Options.DeferIndexes): while it exists, the
// database lacks them. It is not part of the schema (no migration makes
// it): a complete import leaves the schema as it found it.
const deferredTable = "sipscope_deferred_indexes"

// deferredIndexes are the indexes deferIndexes drops, an SQL list.
const deferredIndexes = `('dialogs_from_user', 'dialogs_to_user', 'dialogs_page_duration', 'dialogs_page_setup',
	'dialogs_page_answer', 'dialogs_page_from', 'dialogs_page_to', 'dialogs_page_ua', 'dialogs_page_src', 'dialogs_page_dst')`

// deferIndexes drops the secondary indexes of dialogs of a database that
// holds no dialogs yet, recording them in deferredTable in the same
// transaction, so that an import inserts rows into the table alone and
// restoreIndexes builds each index once at the end, by one scan and a
// sort.
//
// Why: each dialog row is also a row in each of the 18 indexes of dialogs
// (filters, and the TUI's sort orders, migrations 0001, 0009-0011). Those
// keyed by a value unrelated to the insert order (a duration, a From user,
// an address: deferredIndexes) put every dialog on a random page of each.
// At 50,000 calls they fit SQLite's page cache; at 500,000 they are ten
// times larger than it and an import spent most of its time reading and
// writing their pages (55 s of system time). Building one later costs a
// scan and a sort (~60 ms at 50,000 calls). The others stay: their keys
// grow with the insert order (start time) or take a few values (kind,
// state, status, transport, message counts), and with the rowid after
// them each new entry goes to one of a few hot pages. The unique index
// on call_id stays too: the Writer looks Call-IDs up in it.
//
// A killed import leaves deferredTable behind: the next Open for writing
// builds the indexes (restoreIndexes). Readers meanwhile get the same
// answers, only slower (Page uses a sort index only when it exists).
func deferIndexes(c *rawConn) (bool, error) {
	if _, err := c.exec(`BEGIN IMMEDIATE`); err != nil {
		return false, err
	}
	done := false
	defer func() {
		if !done {
			c.exec(`ROLLBACK`)
		}
	}()
	var dialogs, table int64
	if err := c.queryRow(`SELECT (SELECT count(*) FROM dialogs),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '`+deferredTable+`')`, nil,
		func(r rawCursor) error { return r.Scan(&dialogs, &table) }); err != nil {
		return false, err
	}
	if dialogs > 0 || table > 0 {
		// Another Writer got here first, or a killed one left its list
		// (Open builds them: not here, to keep this short).
		done = true
		_, err := c.exec(`ROLLBACK`)
		return false, err
	}
	if _, err := c.exec(`CREATE TABLE ` + deferredTable + ` (name TEXT PRIMARY KEY, sql TEXT NOT NULL)`); err != nil {
		return false, err
	}
	if _, err := c.exec(`INSERT INTO ` + deferredTable + ` (name, sql)
		SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'dialogs'
			AND sql IS NOT NULL AND name IN ` + deferredIndexes + ` ORDER BY name`); err != nil {
		return false, err
	}
	var names []string
	if err := c.query(`SELECT name FROM `+deferredTable+` ORDER BY name`, nil, func(r rawCursor) (bool, error) {
		var n string
		err := r.Scan(&n)
		names = append(names, n)
		return err == nil, err
	}); err != nil {
		return false, err
	}
	for _, n := range names {
		if _, err := c.exec(`DROP INDEX "` + n + `"`); err != nil {
			return false, err
		}
	}
	if _, err := c.exec(`COMMIT`); err != nil {
		return false, err
	}
	done = true
	return true, nil
}

// restoreIndexes builds the indexes deferIndexes dropped, if any, and
// forgets them, in one transaction.
//
// It runs on a connection of its own (passPragmas), closed after: each
// CREATE INDEX scans dialogs once and sorts the keys, which SQLite's sorter
// keeps in memory up to the page cache's size, then writes as sorted runs
// to temporary files that it merges. With the pooled connections'
// settings (a 32 MiB cache, temporary files in memory) all of the keys were
// held at once: at 500,000 calls 50-60 MB on top of the rest, the peak of
// the whole import. With a 4 MiB cache and the runs in temporary files (in
// SQLite's temporary folder: SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp,
// /tmp or the working folder, the first that can be written; deleted as
// soon as opened) the 500,000-call import peaks at 405 MB instead of
// 465, and the ten indexes take 5.5 s instead of 7-8. When no temporary
// file can be made the build is done again with the runs in memory, as
// before: slower to hold, never a failed import.
func (s *Store) restoreIndexes(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`,
		deferredTable).Scan(&n); err != nil || n == 0 {
		return err
	}
	err := buildDeferred(s, true)
	if err != nil && tempFileFailed(err) {
		err = buildDeferred(s, false)
	}
	if err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	return nil
}

// buildDeferred runs the CREATE INDEX statements listed in deferredTable
// and drops it, in one transaction, with sorted runs in temporary files
// (runsToFile) or in memory. A variable for the test of the fallback.
var buildDeferred = func(s *Store, runsToFile bool) error {
	c, err := openRaw(s.path, passPragmas(s.opts, runsToFile))
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := c.exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			c.exec(`ROLLBACK`)
		}
	}()
	var ddl []string
	err = c.query(`SELECT d.name, d.sql FROM `+deferredTable+` d
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema s WHERE s.type = 'index' AND s.name = d.name) ORDER BY d.name`,
		nil, func(r rawCursor) (bool, error) {
			var name, q string
			err := r.Scan(&name, &q)
			ddl = append(ddl, q)
			return err == nil, err
		})
	if isNoTable(err) {
		return nil // another connection built them
	}
	if err != nil {
		return err
	}
	for _, q := range ddl {
		if _, err := c.exec(q); err != nil {
			return err
		}
	}
	if _, err := c.exec(`DROP TABLE ` + deferredTable); err != nil {
		return err
	}
	done = true
	if _, err := c.exec(`COMMIT`); err != nil {
		c.exec(`ROLLBACK`)
		return err
	}
	return nil
}

// tempFileFailed says whether err may come from a temporary file SQLite
// could not make or write (it says "unable to open database file", an I/O
// error, or that the disk is full, of the temporary folder's disk).
func tempFileFailed(err error) bool {
	var e *rawError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
		return true
	}
	return false
}

func isNoTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
