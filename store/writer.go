package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sipscope/sipscope/correlate"
)

// Writer stores finished dialogs with their messages. It implements
// correlate.Sink. Rows are inserted in large transactions (Options.
// BatchMessages messages or Options.BatchInterval, whichever comes first)
// with prepared statements reused inside each transaction, so readers see
// progress batch by batch.
//
// A Call-ID handed on again (messages that arrived after its dialog was
// finished) is merged into the stored dialog: counts add up, the time span
// widens, and a call that was in progress and now shows a BYE is completed.
//
// A Writer is not safe for concurrent use, and a Store should have one
// Writer at a time. Close or Abort it before closing the Store.
type Writer struct {
	s    *Store
	opts Options

	// conn is the Writer's own connection (see rawConn), outside the
	// Store's pool: its statements stay prepared across batches and
	// foreign keys are off on it (the Writer assigns the ids it refers to,
	// see below). tx is conn while a batch (BEGIN IMMEDIATE ... COMMIT) is
	// open, else nil.
	conn    *rawConn
	tx      *rawConn
	began   time.Time
	pending int

	seqBase  int64
	newFiles []string // names of files rows created in the open batch

	// Rows are inserted many per statement (bulk); dialogs with ids
	// given here, so that messages can name their dialog without a round
	// trip for the last insert id. Messages rows get theirs from SQLite
	// (max(id) + 1: the order they are inserted in, as before), one value
	// fewer to bind per row. Foreign keys are not
	// checked (the ids are right by construction: a dialog is queued
	// before its messages, in the same batch, and files rows exist before
	// their messages), so the bulks flush in any order and no row costs a
	// lookup of its parents.
	nextDialog int64
	// fresh says the store had no dialogs when the Writer started: a
	// Call-ID not in known is then new and goes in a bulk insert; others
	// (continuations, imports into a used store) go row by row and merge.
	fresh bool
	// undiagnosed counts the dialog rows written or merged with their
	// findings unknown (-1; see LeftUndiagnosed).
	undiagnosed int64
	known       seenSet // hashes of the Call-IDs written
	seed        maphash.Seed
	bulks       []*bulk // in flush order, bDlg first
	// pendingDlg are the dialogs queued in bDlg (dialogs-only stores).
	pendingDlg []*correlate.Dialog
	// pendingFrom is the id of pendingDlg[0]; theirs follow it.
	pendingFrom int64
	bDlg        *bulk
	dlgAuto     bool // bDlg leaves the ids to SQLite (see Writer)
	bLink       *bulk
	// bMsg takes the messages rows without hep and events (nearly all:
	// two values fewer to bind), bMsgX the others. At most one of them
	// holds rows (adding to one flushes the other), so rows are inserted,
	// and numbered, in the order they came.
	bMsg  *bulk
	bMsgX *bulk
	args  []any // one row's values, reused
	// arena holds the frames blobs of the queued messages rows; it is
	// reused once bMsg and bMsgX have flushed them (the connection copies what it binds).
	arena []byte
	buf   []byte     // scratch for JSON values
	rows  rowEncoder // messages rows the Encoder did not make
	// encPool takes back what the Encoder made (see encPool).
	encPool *encPool

	// deferred says the Writer dropped indexes to build at Close
	// (Options.DeferIndexes).
	deferred bool

	fileMsgs map[int64]int64 // messages written per file id
	stats    WriterStats
	closed   bool
}

// WriterStats count what a Writer wrote.
type WriterStats struct {
	Dialogs  int64 // dialog records handed to Dialog
	Merged   int64 // of those, continuations merged into a stored dialog
	Overlaps int64 // messages not written: the store held them already, from another file
	Messages int64
	Frames   int64
	Commits  int64
}

// The Writer's statements besides the bulk inserts (prepared on first use
// and kept by its connection).
var (
	qDialogIns = `INSERT INTO dialogs (id, ` + dialogCols + `, transactions) VALUES (` + placeholders(2+dialogColCount) + `)
		ON CONFLICT (call_id) DO NOTHING`
	qDialogSel = `SELECT ` + dialogSelect + ` FROM dialogs d WHERE d.call_id = ?`
	qDialogUpd = `UPDATE dialogs SET (` + dialogCols + `) = (` + placeholders(dialogColCount) + `) WHERE id = ?`
)

const (
	qPartsInc = `UPDATE dialogs SET parts = parts + 1 WHERE id = ?`
	// qDialogsFrom drops the rows a failed bulk insert left (flushDialogs).
	qDialogsFrom = `DELETE FROM dialogs WHERE id >= ?`
	qTxnSel      = `SELECT transactions FROM dialogs WHERE id = ?`
	qMsgKeys     = `SELECT ts, src, dst, raw FROM messages WHERE dialog_id = ? AND ts BETWEEN ? AND ?`
	qTxnUpd      = `UPDATE dialogs SET transactions = ? WHERE id = ?`
	qNextDlg     = `SELECT coalesce(max(id), 0) + 1 FROM dialogs`
	qFilesDone   = `UPDATE files SET complete = 1, messages = messages + ? WHERE id = ?`
)

// flush inserts every queued row.
func (w *Writer) flush() error {
	if err := w.flushDialogs(w.bDlg.flush(w.tx)); err != nil {
		return fmt.Errorf("store: insert: %w", err)
	}
	for _, b := range w.bulks[1:] {
		if err := b.flush(w.tx); err != nil {
			return fmt.Errorf("store: insert: %w", err)
		}
	}
	return nil
}

func (w *Writer) resetBulks() {
	for _, b := range w.bulks {
		b.reset()
	}
	w.pendingDlg = nil
}

var _ correlate.Sink = (*Writer)(nil)

// Writer returns a Writer that writes into s, on a connection of its own.
// ctx bounds the query that sets it up; the statements on its own
// connection are short and are not interrupted (see rawConn).
func (s *Store) Writer(ctx context.Context) (*Writer, error) {
	if s.opts.ReadOnly {
		return nil, fmt.Errorf("store: %s is open read-only", s.path)
	}
	w := &Writer{s: s, opts: s.opts, fileMsgs: make(map[int64]int64),
		seed: maphash.MakeSeed(), rows: rowEncoder{addrs: make(map[netip.AddrPort]any), strs: make(map[string]any)}}
	// Sequence numbers continue across imports so that ORDER BY seq is
	// capture order within an import and import order across them.
	var dialogs int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce((SELECT max(seq) + 1 FROM messages), 0),
		coalesce((SELECT max(id) FROM dialogs), 0) + 1,
		(SELECT count(*) FROM dialogs)`).Scan(&w.seqBase, &w.nextDialog, &dialogs); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w.fresh = dialogs == 0
	conn, err := openRaw(s.path, append(pragmas(s.opts), "foreign_keys = OFF"))
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", s.path, err)
	}
	w.conn = conn
	if w.fresh && s.opts.DeferIndexes {
		if w.deferred, err = deferIndexes(conn); err != nil {
			conn.close()
			return nil, fmt.Errorf("store: %s: %w", s.path, err)
		}
	}
	// Every Writer keeps synchronous=NORMAL (WAL: a commit survives a
	// process crash at once, and an OS crash or power loss once the WAL is
	// synced at the next checkpoint). The first import into a new
	// database used to run with synchronous=OFF until Close: on 50,000
	// calls that saved 15 fsyncs, 0.04 s of a 6 s import (measured with
	// strace -c), and a power loss in that window could leave the file
	// unusable. Not worth it (issue 13).
	// A failed statement drops the whole batch (see DialogEncoded), so
	// the bulks whose failures are not expected roll back the
	// transaction themselves (OR ROLLBACK): SQLite then keeps no statement
	// journal, a copy of every page a multi-row insert changes (~0.1 s
	// on 50k calls). The dialogs bulk of a dialogs-only store expects
	// duplicate Call-IDs and is rewritten row by row (flushDialogs).
	// Outside dialogs-only stores the dialogs bulk does not name the ids
	// either: they are inserted in the order nextDialog gives them out
	// (dialogRow flushes the bulk first), and SQLite gives each max(id)
	// + 1, the same; an explicit id made SQLite keep a statement journal.
	if w.opts.DialogsOnly {
		w.bDlg = newBulk("INSERT", "dialogs", "id, "+dialogCols+", transactions", 2+dialogColCount, 64, "")
	} else {
		w.dlgAuto = true
		w.bDlg = newBulk("INSERT OR ROLLBACK", "dialogs", dialogCols+", transactions", 1+dialogColCount, 64, "")
	}
	w.bLink = newBulk("INSERT OR IGNORE", "links", "call_id, linked_call_id", 2, 256, "")
	w.bMsg = newBulk("INSERT OR ROLLBACK", "messages", messageColsLite, messageColCount-2, 256, "")
	w.bMsgX = newBulk("INSERT OR ROLLBACK", "messages", messageCols, messageColCount, 256, "")
	w.bulks = []*bulk{w.bDlg, w.bLink, w.bMsg, w.bMsgX}
	return w, nil
}

// Stats returns what the Writer wrote so far.
func (w *Writer) Stats() WriterStats { return w.stats }

// LeftUndiagnosed reports whether the store may hold dialogs whose
// findings are not known (Store.Undiagnosed) because of this Writer or
// from before it: it began on a store that held dialogs, or it stored a
// dialog whose Diagnosis was not Done, or merged a continuation into a
// stored dialog. When it did none of these Store.Rediagnose has nothing
// to do (unless another Writer wrote to the store meanwhile), and an
// importer that knows it skips Undiagnosed's scan of every dialog (0.1 s
// of a 4.3 s import of 50,000 calls, after the pipeline, which nothing
// overlaps).
func (w *Writer) LeftUndiagnosed() bool { return !w.fresh || w.undiagnosed > 0 }

func (w *Writer) begin() error {
	if _, err := w.conn.exec(`BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	w.tx, w.began, w.pending = w.conn, time.Now(), 0
	if w.dlgAuto {
		// The dialogs bulk gets SQLite's ids: start from its next one, in
		// case another connection added dialogs between our batches (the
		// batch's lock keeps others out until it commits).
		if err := w.conn.queryRow(qNextDlg, nil, func(r rawCursor) error { return r.Scan(&w.nextDialog) }); err != nil {
			w.rollback()
			return fmt.Errorf("store: begin: %w", err)
		}
	}
	return nil
}

// commit ends the current batch.
func (w *Writer) commit() error {
	if w.tx == nil {
		return nil
	}
	if err := w.flush(); err != nil {
		w.rollback()
		return err
	}
	w.resetBulks()
	if _, err := w.conn.exec(`COMMIT`); err != nil {
		w.rollback()
		return fmt.Errorf("store: commit: %w", err)
	}
	w.tx = nil
	w.newFiles = nil
	w.stats.Commits++
	return nil
}

// Flush commits the current batch so that readers see it.
func (w *Writer) Flush() error { return w.commit() }

// Dialog stores one finished dialog and its messages (capture order). It
// implements correlate.Sink; d and msgs are not retained.
func (w *Writer) Dialog(d *correlate.Dialog, msgs []*correlate.Message) error {
	return w.DialogEncoded(d, msgs, nil)
}

// DialogEncoded is Dialog with the rows of d and msgs made ahead by the
// Writer's Encoder (enc = Encoder.Encode(d, msgs)); a nil enc is Dialog.
func (w *Writer) DialogEncoded(d *correlate.Dialog, msgs []*correlate.Message, enc *Encoded) error {
	if w.closed {
		return errors.New("store: Dialog called on a closed Writer")
	}
	if d == nil {
		return nil
	}
	if w.tx == nil {
		if err := w.begin(); err != nil {
			return err
		}
	}
	err := w.dialog(d, msgs, enc)
	if enc != nil && w.encPool != nil {
		w.encPool.put(enc)
	}
	if err != nil {
		// A failed statement leaves the batch in an unknown state: drop it.
		w.rollback()
		return err
	}
	w.pending += 1 + len(msgs)
	if w.pending >= w.opts.BatchMessages || time.Since(w.began) >= w.opts.BatchInterval {
		return w.commit()
	}
	return nil
}

func (w *Writer) dialog(d *correlate.Dialog, msgs []*correlate.Message, enc *Encoded) error {
	w.stats.Dialogs++
	if !d.Diagnosis.Done {
		w.undiagnosed++
	}
	var dialogID int64
	n := int64(1) // rows inserted: 0 when d continues a stored dialog
	bulk := w.fresh && d.Part == 0
	if !w.opts.DialogsOnly {
		// Messages will name the dialog's id: it must be right now, so a
		// Call-ID written before goes row by row. (Dialogs-only stores
		// find out at the insert instead and keep no set that grows with
		// the capture; see flushDialogs.)
		seen := w.known.testAndAdd(maphash.String(w.seed, d.CallID))
		bulk = bulk && !seen
	}
	if bulk {
		// A Call-ID this store has never had: no merge, queue the row.
		dialogID = w.nextDialog
		w.nextDialog++
		var args []any
		if enc != nil {
			args = enc.dialog
			args[0] = w.rows.box.int(dialogID)
		} else {
			w.args = append(appendDialogArgs(append(w.args[:0], w.rows.box.int(dialogID)), &w.rows.box, d), w.rows.box.str(w.txnsJSON(d)))
			args = w.args
		}
		if w.opts.DialogsOnly {
			if len(w.pendingDlg) == 0 {
				w.pendingFrom = dialogID
			}
			w.pendingDlg = append(w.pendingDlg, d)
		}
		if w.dlgAuto {
			args = args[1:]
		}
		if err := w.flushDialogs(w.bDlg.add(w.tx, args...)); err != nil {
			return fmt.Errorf("store: dialog %q: %w", d.CallID, err)
		}
	} else {
		var (
			err  error
			kept []*correlate.Message
		)
		if dialogID, n, kept, err = w.dialogRow(d, msgs); err != nil {
			return err
		}
		if kept == nil && len(msgs) > 0 {
			return nil // every message was stored already, from another file
		}
		if len(kept) != len(msgs) {
			msgs, enc = kept, nil
		}
	}
	for _, l := range d.Linked {
		if l == "" || l == d.CallID {
			continue
		}
		if err := w.bLink.add(w.tx, d.CallID, l); err != nil {
			return fmt.Errorf("store: link %q: %w", d.CallID, err)
		}
	}
	if w.opts.DialogsOnly {
		return nil
	}

	// Transactions keep the correlator's numbering (Transaction.Index,
	// which continues across the parts of one run) unless it would collide
	// with stored ones (the same Call-ID in an earlier import): then they
	// are shifted after them, and their messages with them. A new row got
	// them with its insert; a merged one gets them appended.
	var txnBase int
	if n != 1 && len(d.Transactions) > 0 {
		var old []byte
		if err := w.tx.queryRow(qTxnSel, []any{dialogID}, func(r rawCursor) error { return r.Scan(&old) }); err != nil {
			return fmt.Errorf("store: dialog %q: transactions: %w", d.CallID, err)
		}
		stored, err := parseTxns(old)
		if err != nil {
			return fmt.Errorf("store: dialog %q: transactions: %w", d.CallID, err)
		}
		next := 0
		for _, t := range stored {
			next = max(next, t.Index+1)
		}
		low := d.Transactions[0].Index
		for _, t := range d.Transactions {
			low = min(low, t.Index)
		}
		if low < next {
			txnBase = next - low
		}
		b := appendTxns(w.buf[:0], stored, 0)
		if len(stored) > 0 {
			b = b[:len(b)-1]
			b = append(b, ',')
			b = append(b, appendTxns(nil, d.Transactions, txnBase)[1:]...)
		} else {
			b = appendTxns(b[:0], d.Transactions, txnBase)
		}
		w.buf = b
		if _, err := w.tx.execKept(qTxnUpd, string(b), dialogID); err != nil {
			return fmt.Errorf("store: dialog %q: transactions: %w", d.CallID, err)
		}
	}
	if enc != nil && enc.rows && txnBase == 0 {
		for i, fid := range enc.fileIDs {
			a := enc.args[i*messageArgs : (i+1)*messageArgs : (i+1)*messageArgs]
			var frames int64
			if i == 0 {
				frames = enc.frames
			}
			if err := w.addMessage(dialogID, fid, frames, argInt(a[3])-w.seqBase, a); err != nil {
				return fmt.Errorf("store: dialog %q: %w", d.CallID, err)
			}
		}
		return nil
	}
	for _, m := range msgs {
		if m == nil || m.Message == nil {
			continue
		}
		if err := w.message(dialogID, txnBase, m); err != nil {
			return fmt.Errorf("store: dialog %q: %w", d.CallID, err)
		}
	}
	return nil
}

// dialogRow inserts d on its own, or merges it into the stored row of its
// Call-ID. n is the number of rows inserted (0 for a merge). kept is msgs
// less the messages the store already holds from another file (see
// overlap); nil when that leaves none, and then nothing was written.
func (w *Writer) dialogRow(d *correlate.Dialog, msgs []*correlate.Message) (dialogID, n int64, kept []*correlate.Message, err error) {
	// Perhaps a continuation: the stored row must be visible.
	if err := w.flush(); err != nil {
		return 0, 0, nil, err
	}
	res, err := w.tx.execKept(qDialogIns, append(append([]any{w.nextDialog}, dialogArgs(d)...), w.txnsJSON(d))...)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("store: dialog %q: %w", d.CallID, err)
	}
	if n, err = res.RowsAffected(); err != nil {
		return 0, 0, nil, fmt.Errorf("store: dialog %q: %w", d.CallID, err)
	}
	kept = msgs
	if n == 1 {
		dialogID = w.nextDialog
		w.nextDialog++
	} else {
		// A continuation of a stored dialog.
		var (
			id  int64
			old *correlate.Dialog
		)
		err := w.tx.queryRow(qDialogSel, []any{d.CallID}, func(r rawCursor) (err error) {
			id, old, err = scanDialog(r)
			return err
		})
		if err != nil {
			return 0, 0, nil, fmt.Errorf("store: dialog %q: read for merge: %w", d.CallID, err)
		}
		dialogID = id
		if !w.fresh && len(msgs) > 0 {
			// Another run (another import) may have stored these very
			// messages, from another file of the same traffic. (A fresh
			// store holds only this run's, which are all new.)
			if kept, err = w.overlap(id, msgs); err != nil {
				return 0, 0, nil, fmt.Errorf("store: dialog %q: %w", d.CallID, err)
			}
			if len(kept) == 0 {
				w.stats.Overlaps += int64(len(msgs))
				return id, 0, nil, nil
			}
			if len(kept) != len(msgs) {
				w.stats.Overlaps += int64(len(msgs) - len(kept))
				c := *d
				c.Messages -= len(msgs) - len(kept)
				d = &c
			}
		}
		var merged *correlate.Dialog
		if w.opts.DialogsOnly {
			// No messages to run the rules on: the findings merge too.
			merged = MergeDialogs(old, d, kept)
		} else {
			// The rules must see the whole dialog, which only the
			// stored messages now hold: not diagnosed (findings -1)
			// until Store.Rediagnose or a reader runs them again.
			merged = merge(old, d, kept)
			merged.Diagnosis = correlate.Diagnosis{}
			w.undiagnosed++
		}
		if _, err := w.tx.execKept(qDialogUpd, append(dialogArgs(merged), id)...); err != nil {
			return 0, 0, nil, fmt.Errorf("store: dialog %q: merge: %w", d.CallID, err)
		}
		if _, err := w.tx.execKept(qPartsInc, id); err != nil {
			return 0, 0, nil, fmt.Errorf("store: dialog %q: merge: %w", d.CallID, err)
		}
		w.stats.Merged++
	}
	return dialogID, n, kept, nil
}

// overlap returns msgs less those the stored dialog id already holds: a
// message with the same capture time, addresses and bytes as a stored one
// is that message, read again from another file of the same traffic (a
// capture and an extract of it, two rotations that overlap). It reads the
// stored dialog's keys only on this path, a Call-ID met again across runs.
func (w *Writer) overlap(id int64, msgs []*correlate.Message) ([]*correlate.Message, error) {
	type key struct {
		ts       int64
		src, dst string
		raw      string
	}
	stored := map[key]bool{}
	st, err := w.tx.prepare(qMsgKeys)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range msgs {
		if m != nil && m.Message != nil {
			lo, hi = min(lo, ns(m.Time)), max(hi, ns(m.Time))
		}
	}
	err = st.steps([]any{id, lo, hi}, func() (bool, error) {
		var (
			k   key
			raw []byte
		)
		if err := (rawCursor{st}).Scan(&k.ts, &k.src, &k.dst, &raw); err != nil {
			return false, err
		}
		k.raw = string(raw)
		stored[k] = true
		return true, nil
	})
	if err != nil || len(stored) == 0 {
		return msgs, err
	}
	kept := make([]*correlate.Message, 0, len(msgs))
	for _, m := range msgs {
		if m == nil || m.Message == nil ||
			!stored[key{ns(m.Time), addrString(m.Src), addrString(m.Dst), string(m.Raw)}] {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

// flushDialogs follows every flush of the dialogs bulk (err is its
// result). In a dialogs-only store a queued Call-ID may already be stored
// (the correlator no longer remembered it): the multi-row insert then
// fails on call_id's uniqueness, as a whole, and its rows are written one
// by one, merging the duplicates.
func (w *Writer) flushDialogs(err error) error {
	if w.bDlg.n > 0 {
		return err // still queued
	}
	pending := w.pendingDlg
	w.pendingDlg = nil
	if err == nil || !w.opts.DialogsOnly || !isUnique(err) {
		return err
	}
	// A scratch store keeps no journal (Options.Scratch), so the failed
	// statement was not undone: the rows before the one that failed are
	// in. They go, and every dialog of the batch is stored row by row
	// (merged twice, the first ones counted their messages twice:
	// found by comparing `calls` through the store with callStream's).
	if _, err := w.tx.execKept(qDialogsFrom, w.pendingFrom); err != nil {
		return err
	}
	for _, d := range pending {
		if _, _, _, err := w.dialogRow(d, nil); err != nil {
			return err
		}
	}
	return nil
}

// isUnique reports whether err is SQLite's constraint violation.
func isUnique(err error) bool {
	var e *rawError
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

func (w *Writer) message(dialogID int64, txnBase int, m *correlate.Message) error {
	args, arena, fileID, frames, err := w.rows.row(w.args[:0], w.arena, w.seqBase, txnBase, w.fileID, m)
	w.args, w.arena = args, arena
	if err != nil {
		return err
	}
	return w.addMessage(dialogID, fileID, frames, m.Seq, args)
}

// addMessage queues one messages row whose values are args (messageArgs
// of them, the dialog_id slot to fill; the id slot is not stored).
func (w *Writer) addMessage(dialogID, fileID, frames, seq int64, args []any) error {
	args[msgDialog] = w.rows.box.int(dialogID)
	b, other := w.bMsg, w.bMsgX
	if args[msgHEP] != nil || args[msgEvents] != nil {
		b, other = other, b
	}
	if err := other.flush(w.tx); err != nil {
		return fmt.Errorf("message %d: %w", seq, err)
	}
	var err error
	if b == w.bMsg {
		err = b.add2(w.tx, args[1:msgHEP], args[msgEvents+1:])
	} else {
		err = b.add(w.tx, args[1:]...)
	}
	if err != nil {
		return fmt.Errorf("message %d: %w", seq, err)
	}
	if w.bMsg.n == 0 && w.bMsgX.n == 0 {
		w.arena = w.arena[:0] // flushed: the connection has copied the blobs
	}
	w.stats.Messages++
	w.stats.Frames += frames
	if fileID != 0 {
		w.fileMsgs[fileID]++
	}
	return nil
}

// txnsJSON is the dialogs.transactions value of a new row for d.
func (w *Writer) txnsJSON(d *correlate.Dialog) string {
	if w.opts.DialogsOnly || len(d.Transactions) == 0 {
		return "[]"
	}
	w.buf = appendTxns(w.buf[:0], d.Transactions, 0)
	return string(w.buf)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// fileID maps an input name to its files row, creating a row (without a
// fingerprint) for inputs that were not registered with AddFile. 0 means
// no file (empty name).
func (w *Writer) fileID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	w.s.mu.Lock()
	id, ok := w.s.files[name]
	w.s.mu.Unlock()
	if ok {
		return id, nil
	}
	// The Writer's own connection does not watch contexts (see rawConn).
	id, err := w.s.insertFile(context.Background(), w.tx, File{Name: name, Imported: time.Now().UTC()})
	if err != nil {
		return 0, err
	}
	w.s.mu.Lock()
	w.s.files[name] = id
	w.s.mu.Unlock()
	w.newFiles = append(w.newFiles, name)
	return id, nil
}

// rollback drops the open batch, and with it the files rows it created.
func (w *Writer) rollback() error {
	if w.tx == nil {
		return nil
	}
	_, err := w.conn.exec(`ROLLBACK`)
	if err != nil && strings.Contains(err.Error(), "no transaction is active") {
		// A failed or interrupted statement may have rolled the
		// transaction back already.
		err = nil
	}
	w.tx = nil
	w.resetBulks()
	if err == nil && !w.closed {
		// The dropped dialogs rows had ids: give out SQLite's next one
		// again, which the dialogs bulk will get (see Writer).
		err = w.conn.queryRow(qNextDlg, nil, func(r rawCursor) error { return r.Scan(&w.nextDialog) })
	}
	w.s.mu.Lock()
	for _, n := range w.newFiles {
		delete(w.s.files, n)
	}
	w.s.mu.Unlock()
	w.newFiles = nil
	return err
}

// Close commits what is pending and marks every file registered with the
// Store (AddFile, or met in messages) as completely imported.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if w.tx == nil {
		if err := w.begin(); err != nil {
			return err
		}
	}
	w.s.mu.Lock()
	ids := make([]int64, 0, len(w.s.files))
	for _, id := range w.s.files {
		ids = append(ids, id)
	}
	w.s.mu.Unlock()
	for _, id := range ids {
		if _, err := w.tx.execKept(qFilesDone, w.fileMsgs[id], id); err != nil {
			w.rollback()
			return fmt.Errorf("store: finish files: %w", err)
		}
	}
	w.closed = true
	err := w.commit()
	if rerr := w.release(); err == nil {
		err = rerr
	}
	if err == nil && w.deferred {
		err = w.s.restoreIndexes(context.Background())
	}
	return err
}

// release closes the Writer's statements and its connection.
func (w *Writer) release() error {
	if w.conn == nil {
		return nil
	}
	for _, b := range w.bulks {
		b.close()
	}
	err := w.conn.close()
	w.conn, w.tx = nil, nil
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Abort drops the batch not yet committed and leaves the files unfinished
// (a later AddFile of them reports ErrInterrupted). Batches committed
// before stay. It is for an import that was interrupted.
func (w *Writer) Abort() error {
	w.closed = true
	err := w.rollback()
	if rerr := w.release(); err == nil {
		err = rerr
	}
	if err == nil && w.deferred {
		// What was committed is kept for queries: with its indexes.
		err = w.s.restoreIndexes(context.Background())
	}
	// Forget the registered files so that no later Writer of this Store
	// marks them complete.
	w.s.mu.Lock()
	clear(w.s.files)
	w.s.mu.Unlock()
	return err
}
