package store

import (
	"context"
	"fmt"

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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE dialogs SET findings = ?, worst = ?, worst_severity = ? WHERE call_id = ?`)
	if err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	defer st.Close()
	for id, g := range gs {
		if !g.Done {
			return fmt.Errorf("store: set diagnoses %q: the diagnosis is not done", id)
		}
		if _, err := st.ExecContext(ctx, int64(g.Findings), g.Worst, string(g.Severity), id); err != nil {
			return fmt.Errorf("store: set diagnoses %q: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set diagnoses: %w", err)
	}
	return nil
}
