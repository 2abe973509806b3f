package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/sipscope/sipscope/correlate"
)

// Undiagnosed returns the Call-IDs of the stored dialogs whose findings are
// not known (findings -1, schema 8): stored before schema 8, or merged from
// several parts (see Writer), or written by a Writer whose caller did not
// run the rules. In a dialogs-only store it returns none that Rediagnose
// could help with: there are no messages to run the rules on.
func (s *Store) Undiagnosed(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT call_id FROM dialogs WHERE findings < 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: undiagnosed: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: undiagnosed: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: undiagnosed: %w", err)
	}
	return ids, nil
}

// rediagnoseBatch is how many dialogs' messages Rediagnose reads at once.
const rediagnoseBatch = 256

// Rediagnose runs diagnose on every dialog Undiagnosed names, with all of
// its stored messages (capture order, as Messages gives them), and stores
// the result, in one transaction: after it, every dialog's findings are
// known. It returns how many dialogs it diagnosed. diagnose must set Done.
// The Store must be writable and no Writer open on it.
func (s *Store) Rediagnose(ctx context.Context, diagnose func(d *correlate.Dialog, msgs []*correlate.Message) correlate.Diagnosis) (int, error) {
	if s.opts.ReadOnly {
		return 0, fmt.Errorf("store: rediagnose %s: opened read-only", s.path)
	}
	ids, err := s.Undiagnosed(ctx)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if s.opts.DialogsOnly {
		return 0, fmt.Errorf("store: rediagnose: %w", ErrNoMessages)
	}
	type result struct {
		id string
		g  correlate.Diagnosis
	}
	var results []result
	for i := 0; i < len(ids); i += rediagnoseBatch {
		batch := ids[i:min(i+rediagnoseBatch, len(ids))]
		msgs, err := s.Messages(ctx, batch)
		if err != nil {
			return 0, err
		}
		byCall := make(map[string][]*correlate.Message, len(batch))
		for _, m := range msgs {
			byCall[m.CallID] = append(byCall[m.CallID], m)
		}
		for _, id := range batch {
			d, err := s.Dialog(ctx, id)
			if err != nil {
				return 0, err
			}
			g := diagnose(d, byCall[id])
			if !g.Done {
				return 0, fmt.Errorf("store: rediagnose %q: the diagnosis is not done", id)
			}
			results = append(results, result{id, g})
		}
	}
	gs := make(map[string]correlate.Diagnosis, len(results))
	for _, r := range results {
		gs[r.id] = r.g
	}
	if err := s.SetDiagnoses(ctx, gs); err != nil {
		return 0, err
	}
	return len(results), nil
}

// SetDiagnoses replaces the findings in brief of the dialogs named by
// Call-ID, in one transaction (a Call-ID not stored is left alone): the
// importer's, once the media rules ran on the calls' final streams. Each
// must be Done. The Store must be writable and no Writer open on it.
func (s *Store) SetDiagnoses(ctx context.Context, gs map[string]correlate.Diagnosis) error {
	if len(gs) == 0 {
		return nil
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("store: set diagnoses %s: opened read-only", s.path)
	}
	for id, g := range gs {
		if !g.Done {
			return fmt.Errorf("store: set diagnoses %q: the diagnosis is not done", id)
		}
	}
	// An import sets the media findings of nearly every call (each SIPp
	// call without RTP has no-media): 50,000 updates by Call-ID through
	// database/sql, in map order, took 1.4 s after the pipeline had
	// ended, as long as a fifth of the import. Here the rows are found
	// by one scan of the call_id index, updated by rowid in rowid order
	// (each page of dialogs is read and written once, in file order)
	// with one statement prepared on a raw connection (see rawConn):
	// ~0.1 s. A small cache (passPragmas): the pass reads each page once.
	c, err := openRaw(s.path, passPragmas(s.opts, false))
	if err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	defer c.close()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	if _, err := c.exec(`BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	done := false
	defer func() {
		if !done {
			c.exec(`ROLLBACK`)
		}
	}()
	type upd struct {
		id int64
		g  correlate.Diagnosis
	}
	var ups []upd
	if len(gs) < 64 {
		// A few: look each up by its index.
		for callID, g := range gs {
			var id int64
			err := c.queryRow(`SELECT id FROM dialogs WHERE call_id = ?`, []any{callID}, func(r rawCursor) error { return r.Scan(&id) })
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: set diagnoses %q: %w", callID, err)
			}
			ups = append(ups, upd{id, g})
		}
	} else {
		ups = make([]upd, 0, len(gs))
		err := c.query(`SELECT id, call_id FROM dialogs`, nil, func(r rawCursor) (bool, error) {
			var (
				id     int64
				callID string
			)
			if err := r.Scan(&id, &callID); err != nil {
				return false, err
			}
			if g, ok := gs[callID]; ok {
				ups = append(ups, upd{id, g})
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("store: set diagnoses: %w", err)
		}
	}
	slices.SortFunc(ups, func(a, b upd) int { return cmp.Compare(a.id, b.id) })
	args := make([]any, 4)
	for _, u := range ups {
		args[0], args[1], args[2], args[3] = int64(u.g.Findings), u.g.Worst, string(u.g.Severity), u.id
		if _, err := c.execKept(`UPDATE dialogs SET findings = ?, worst = ?, worst_severity = ? WHERE id = ?`, args...); err != nil {
			return fmt.Errorf("store: set diagnoses: %w", err)
		}
	}
	if _, err := c.exec(`COMMIT`); err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	done = true
	return nil
}
