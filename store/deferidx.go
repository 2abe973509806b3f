package store

import (
	"context"
	"fmt"
	"strings"
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
func (s *Store) restoreIndexes(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`,
		deferredTable).Scan(&n); err != nil || n == 0 {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT d.name, d.sql FROM `+deferredTable+` d
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema s WHERE s.type = 'index' AND s.name = d.name) ORDER BY d.name`)
	if err != nil {
		if isNoTable(err) {
			return nil // another connection built them
		}
		return fmt.Errorf("store: build indexes: %w", err)
	}
	var ddl []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return fmt.Errorf("store: build indexes: %w", err)
		}
		ddl = append(ddl, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: build indexes: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+deferredTable); err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: build indexes: %w", err)
	}
	return nil
}

func isNoTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
