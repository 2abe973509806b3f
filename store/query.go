package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// Filter selects dialogs. Zero fields select everything; set fields must
// all match.
type Filter struct {
	Kind  []correlate.Kind  // any of these kinds
	State []correlate.State // any of these states
	// Status selects by final status: comma-separated terms, each a code
	// ("486"), a class ("4xx") or a range ("400-499"); "0" selects dialogs
	// without a final response.
	Status string
	// From and To match the From/To user, URI or display name: a substring,
	// case-insensitive; with glob characters (* ? [...]) a case-insensitive
	// glob against the whole user or the whole URI.
	From, To string
	// Since and Until bound the dialog's start time: Since <= start < Until.
	Since, Until time.Time
	// Grep selects dialogs with at least one message whose raw text it
	// matches. It is evaluated inside SQLite by a Go function registered
	// with the driver, so only matching dialogs leave the database.
	Grep *regexp.Regexp
	// Sort is a comma-separated list of keys (start, end, duration,
	// messages, retransmissions, from, to, status, state, kind, call_id,
	// setup, answer), each with an optional "-" prefix for descending.
	// Default "start". Ties are broken by insertion order.
	Sort string
	// Limit caps the number of dialogs; 0 means no cap.
	Limit int
	// CallIDs restricts the result to these Call-IDs.
	CallIDs []string
}

var kinds = []correlate.Kind{correlate.KindCall, correlate.KindRegistration, correlate.KindSubscription,
	correlate.KindMessage, correlate.KindOptions, correlate.KindPublish, correlate.KindRefer, correlate.KindOther}

var states = []correlate.State{correlate.StateSetup, correlate.StateRinging, correlate.StateInCall,
	correlate.StateCompleted, correlate.StateCancelled, correlate.StateBusy, correlate.StateRejected,
	correlate.StateRedirected, correlate.StateNoResponse, correlate.StatePending}

var sortKeys = map[string]string{
	"start":           "d.start_ns",
	"end":             "d.end_ns",
	"duration":        "d.duration_ns",
	"messages":        "d.messages",
	"retransmissions": "d.retransmissions",
	"from":            "d.from_user COLLATE NOCASE %[1]s, d.from_uri COLLATE NOCASE",
	"to":              "d.to_user COLLATE NOCASE %[1]s, d.to_uri COLLATE NOCASE",
	"status":          "d.final_status",
	"state":           "d.state",
	"kind":            "d.kind",
	"call_id":         "d.call_id",
	"setup":           "d.setup_ns",
	"answer":          "d.answer_ns",
}

// SortKeys lists the keys Filter.Sort accepts.
func SortKeys() []string {
	ks := make([]string, 0, len(sortKeys))
	for k := range sortKeys {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Check reports the first invalid field of f, in words a user can act on,
// so that a command can refuse bad flags before any work.
func (f *Filter) Check() error {
	for _, k := range f.Kind {
		if !slices.Contains(kinds, k) {
			return fmt.Errorf("unknown kind %q (want one of %s)", k, joinAny(kinds))
		}
	}
	for _, s := range f.State {
		if !slices.Contains(states, s) {
			return fmt.Errorf("unknown state %q (want one of %s)", s, joinAny(states))
		}
	}
	if _, err := parseStatus(f.Status); err != nil {
		return err
	}
	if _, err := orderBy(f.Sort); err != nil {
		return err
	}
	if f.Limit < 0 {
		return fmt.Errorf("negative limit %d", f.Limit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return fmt.Errorf("until (%s) is not after since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	return nil
}

func joinAny[T ~string](l []T) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// statusRange is an inclusive range of status codes.
type statusRange struct{ lo, hi int }

func parseStatus(s string) ([]statusRange, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var rs []statusRange
	for _, term := range strings.Split(s, ",") {
		term = strings.ToLower(strings.TrimSpace(term))
		bad := fmt.Errorf("bad status %q (want a code like 486, a class like 4xx or a range like 400-499)", term)
		switch {
		case len(term) == 3 && term[1:] == "xx" && term[0] >= '1' && term[0] <= '6':
			c := int(term[0]-'0') * 100
			rs = append(rs, statusRange{c, c + 99})
		case strings.Contains(term, "-"):
			a, b, _ := strings.Cut(term, "-")
			lo, err1 := strconv.Atoi(strings.TrimSpace(a))
			hi, err2 := strconv.Atoi(strings.TrimSpace(b))
			if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi > 999 {
				return nil, bad
			}
			rs = append(rs, statusRange{lo, hi})
		default:
			c, err := strconv.Atoi(term)
			if err != nil || c < 0 || c > 999 {
				return nil, bad
			}
			rs = append(rs, statusRange{c, c})
		}
	}
	return rs, nil
}

func orderBy(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		s = "start"
	}
	var parts []string
	for _, k := range strings.Split(s, ",") {
		k = strings.ToLower(strings.TrimSpace(k))
		dir := "ASC"
		if rest, ok := strings.CutPrefix(k, "-"); ok {
			k, dir = rest, "DESC"
		} else {
			k = strings.TrimPrefix(k, "+")
		}
		expr, ok := sortKeys[k]
		if !ok {
			return "", fmt.Errorf("unknown sort key %q (want one of %s)", k, strings.Join(SortKeys(), ", "))
		}
		if strings.Contains(expr, "%[1]s") {
			expr = fmt.Sprintf(expr, dir)
		}
		parts = append(parts, expr+" "+dir)
	}
	return strings.Join(append(parts, "d.id ASC"), ", "), nil
}

// Grep support: a compiled *regexp.Regexp cannot be passed to SQLite, so
// each query registers its pattern under a number and passes the number to
// the SQL function sipscope_grep(n, raw), registered once with the driver.
var (
	grepPatterns sync.Map // int64 -> *regexp.Regexp
	grepNext     atomic.Int64
	grepOnce     sync.Once
	grepErr      error
)

func registerGrep() error {
	grepOnce.Do(func() {
		grepErr = sqlite.RegisterDeterministicScalarFunction("sipscope_grep", 2,
			func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				id, _ := args[0].(int64)
				v, ok := grepPatterns.Load(id)
				if !ok {
					return nil, errors.New("sipscope_grep: pattern not registered")
				}
				re := v.(*regexp.Regexp)
				switch b := args[1].(type) {
				case []byte:
					return re.Match(b), nil
				case string:
					return re.MatchString(b), nil
				}
				return false, nil
			})
	})
	return grepErr
}

// The function must be known to the driver before the first connection
// opens: connections get the functions registered at the time they open.
func init() { _ = registerGrep() }

// likeEscape escapes LIKE wildcards; used with ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func partyCond(side, pat string, args *[]any) string {
	if strings.ContainsAny(pat, "*?[") {
		p := strings.ToLower(pat)
		*args = append(*args, p, p)
		return fmt.Sprintf("(lower(d.%[1]s_user) GLOB ? OR lower(d.%[1]s_uri) GLOB ?)", side)
	}
	p := "%" + likeEscape(pat) + "%"
	*args = append(*args, p, p, p)
	return fmt.Sprintf(`(d.%[1]s_user LIKE ? ESCAPE '\' OR d.%[1]s_uri LIKE ? ESCAPE '\' OR d.%[1]s_display LIKE ? ESCAPE '\')`, side)
}

// linkedExpr is the Call-IDs directly linked to d in either direction,
// joined by a unit separator.
const linkedExpr = `(SELECT group_concat(other, char(31)) FROM (
	SELECT linked_call_id AS other FROM links WHERE call_id = d.call_id
	UNION SELECT call_id FROM links WHERE linked_call_id = d.call_id ORDER BY 1))`

func splitLinked(s sql.NullString) []string {
	if !s.Valid || s.String == "" {
		return nil
	}
	return strings.Split(s.String, "\x1f")
}

// Dialogs streams the dialogs f selects, in f.Sort order. The store is
// queried, not loaded: each dialog is read as the loop asks for it. Linked
// holds the directly linked Call-IDs (both directions); Transactions is
// left nil (use Dialog for one dialog in full). An error ends the
// sequence.
//
//	for d, err := range s.Dialogs(ctx, f) {
//		if err != nil { return err }
//		...
//	}
func (s *Store) Dialogs(ctx context.Context, f Filter) iter.Seq2[*correlate.Dialog, error] {
	return func(yield func(*correlate.Dialog, error) bool) {
		q, args, cleanup, err := s.dialogQuery(f)
		if err != nil {
			yield(nil, err)
			return
		}
		defer cleanup()
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			yield(nil, fmt.Errorf("store: dialogs: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var linked sql.NullString
			_, d, err := scanDialog(rows, &linked)
			if err != nil {
				yield(nil, fmt.Errorf("store: dialogs: %w", err))
				return
			}
			d.Linked = splitLinked(linked)
			if !yield(d, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, fmt.Errorf("store: dialogs: %w", err))
		}
	}
}

func (s *Store) dialogQuery(f Filter) (q string, args []any, cleanup func(), err error) {
	cleanup = func() {}
	if err := f.Check(); err != nil {
		return "", nil, cleanup, fmt.Errorf("store: %w", err)
	}
	var where []string
	if len(f.Kind) > 0 {
		where = append(where, "d.kind IN ("+placeholders(len(f.Kind))+")")
		for _, k := range f.Kind {
			args = append(args, string(k))
		}
	}
	if len(f.State) > 0 {
		where = append(where, "d.state IN ("+placeholders(len(f.State))+")")
		for _, st := range f.State {
			args = append(args, string(st))
		}
	}
	rs, _ := parseStatus(f.Status)
	if len(rs) > 0 {
		var or []string
		for _, r := range rs {
			or = append(or, "d.final_status BETWEEN ? AND ?")
			args = append(args, r.lo, r.hi)
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	if f.From != "" {
		where = append(where, partyCond("from", f.From, &args))
	}
	if f.To != "" {
		where = append(where, partyCond("to", f.To, &args))
	}
	if !f.Since.IsZero() {
		where = append(where, "d.start_ns >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "d.start_ns < ?")
		args = append(args, f.Until.UnixNano())
	}
	if f.CallIDs != nil {
		b, _ := json.Marshal(f.CallIDs)
		where = append(where, "d.call_id IN (SELECT value FROM json_each(?))")
		args = append(args, string(b))
	}
	if f.Grep != nil {
		if s.opts.DialogsOnly {
			return "", nil, cleanup, fmt.Errorf("store: grep: %w", ErrNoMessages)
		}
		if err := registerGrep(); err != nil {
			return "", nil, cleanup, fmt.Errorf("store: grep: %w", err)
		}
		id := grepNext.Add(1)
		grepPatterns.Store(id, f.Grep)
		cleanup = func() { grepPatterns.Delete(id) }
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.dialog_id = d.id AND sipscope_grep(?, m.raw))")
		args = append(args, id)
	}
	order, _ := orderBy(f.Sort)
	linked := linkedExpr
	var anyLinks bool
	if err := s.db.QueryRow(`SELECT EXISTS (SELECT 1 FROM links)`).Scan(&anyLinks); err == nil && !anyLinks {
		// Most captures link nothing: spare the two lookups per row.
		linked = "NULL"
	}
	q = "SELECT " + dialogSelect + ", " + linked + " FROM dialogs d"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q, args, cleanup, nil
}

// Dialog returns one dialog in full: its summary (continuations already
// merged), its transactions and the Call-IDs directly linked to it. An
// unknown Call-ID gives an error wrapping ErrNotFound.
func (s *Store) Dialog(ctx context.Context, callID string) (*correlate.Dialog, error) {
	var linked sql.NullString
	id, d, err := scanDialog(s.db.QueryRowContext(ctx,
		"SELECT "+dialogSelect+", "+linkedExpr+" FROM dialogs d WHERE d.call_id = ?", callID), &linked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: no dialog with Call-ID %q: %w", callID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
	}
	d.Linked = splitLinked(linked)
	rows, err := s.db.QueryContext(ctx, `SELECT idx, branch, method, cseq, start_ns, end_ns, final_status,
		final_reason, messages, retransmissions, legs, cancels, opening
		FROM transactions WHERE dialog_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t correlate.Transaction
		var cseq, start, end int64
		var legs string
		if err := rows.Scan(&t.Index, &t.Branch, &t.Method, &cseq, &start, &end, &t.FinalStatus,
			&t.FinalReason, &t.Messages, &t.Retransmissions, &legs, &t.Cancels, &t.Opening); err != nil {
			return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
		}
		t.CSeq, t.Start, t.End, t.Legs = uint32(cseq), fromNS(start), fromNS(end), parseList(legs)
		d.Transactions = append(d.Transactions, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
	}
	return d, nil
}

// Linked returns every Call-ID reachable from callID through links, in
// either direction and transitively (A->B->C gives B and C for A, A and C
// for B), sorted, without callID itself. The Call-IDs need not have stored
// dialogs.
func (s *Store) Linked(ctx context.Context, callID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE reach(id) AS (
			SELECT ?
			UNION SELECT l.linked_call_id FROM links l JOIN reach r ON l.call_id = r.id
			UNION SELECT l.call_id FROM links l JOIN reach r ON l.linked_call_id = r.id
		)
		SELECT id FROM reach WHERE id <> ? ORDER BY id`, callID, callID)
	if err != nil {
		return nil, fmt.Errorf("store: linked %q: %w", callID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: linked %q: %w", callID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: linked %q: %w", callID, err)
	}
	return ids, nil
}

// callIDSet is the SQL for "messages of these Call-IDs' dialogs", taking
// the Call-IDs as one JSON array argument so that any number fit.
const callIDSet = `m.dialog_id IN (SELECT id FROM dialogs WHERE call_id IN (SELECT value FROM json_each(?)))`

func jsonArg(ids []string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// Messages returns every stored message of the dialogs with these Call-IDs,
// in capture order (across imports: import order), each rebuilt by
// decode.Parse from its raw bytes with its addressing, time, frames
// (without their bytes; see Frames) and events restored. When the raw
// bytes do not parse, the stored start line, Call-ID, CSeq, From, To and
// User-Agent are filled in instead, so the message still reads. The
// messages own their memory.
func (s *Store) Messages(ctx context.Context, callIDs []string) ([]*correlate.Message, error) {
	if s.opts.DialogsOnly {
		return nil, fmt.Errorf("store: messages: %w", ErrNoMessages)
	}
	arg := jsonArg(callIDs)
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, coalesce(f.name, ''), m.seq, m.ts, m.call_id, m.txn,
		m.retransmission, m.leg, m.src, m.dst, m.transport, m.encap, m.request, m.method, m.request_uri,
		m.status, m.reason, m.version, m.cseq, m.cseq_method,
		m.from_display, m.from_uri, m.from_user, m.from_host, m.from_tag,
		m.to_display, m.to_uri, m.to_user, m.to_host, m.to_tag, m.user_agent, m.warnings,
		m.hep_version, m.hep_agent_id, m.hep_agent_name, m.hep_proto, m.hep_src, m.hep_dst, m.raw
		FROM messages m LEFT JOIN files f ON f.id = m.file_id
		WHERE `+callIDSet+` ORDER BY m.seq, m.id`, arg)
	if err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	defer rows.Close()
	var out []*correlate.Message
	byID := make(map[int64]*correlate.Message)
	for rows.Next() {
		var (
			id, ts, cseq, warnings, hv, hid, hproto int64
			file, src, dst, tr, hname, hsrc, hdst   string
			c                                       decode.Message // the stored columns
			cm                                      correlate.Message
			raw                                     []byte
		)
		if err := rows.Scan(&id, &file, &cm.Seq, &ts, &cm.CallID, &cm.Txn, &cm.Retransmission, &cm.Leg,
			&src, &dst, &tr, &c.Encap, &c.Request, &c.Method, &c.RequestURI, &c.Status, &c.Reason, &c.Version,
			&cseq, &c.CSeqMethod, &c.From.Display, &c.From.URI, &c.From.User, &c.From.Host, &c.From.Tag,
			&c.To.Display, &c.To.URI, &c.To.User, &c.To.Host, &c.To.Tag, &c.UserAgent, &warnings,
			&hv, &hid, &hname, &hproto, &hsrc, &hdst, &raw); err != nil {
			return nil, fmt.Errorf("store: messages: %w", err)
		}
		m := new(decode.Message)
		if err := decode.Parse(raw, m); err != nil {
			// The raw bytes did not parse (or the parser is older than the
			// data): fall back to the columns stored at import.
			*m = c
			m.CallID, m.CSeq, m.Warnings = cm.CallID, uint32(cseq), decode.Warning(warnings)
			m.ContentLength, m.MaxForwards = -1, -1
		}
		// The stored bytes are what was on the wire; Parse may have kept
		// less of them (bytes beyond Content-Length).
		m.Raw = raw
		m.Time, m.File = fromNS(ts), file
		m.Src, m.Dst, m.Transport, m.Encap = parseAddr(src), parseAddr(dst), decode.Transport(tr), c.Encap
		if hv != 0 {
			m.HEP = &decode.HEPInfo{Version: int(hv), AgentID: uint32(hid), AgentName: hname, Proto: int(hproto),
				CollectorSrc: parseAddr(hsrc), CollectorDst: parseAddr(hdst)}
		}
		cm.Message = m
		out = append(out, &cm)
		byID[id] = &cm
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	if err := s.attachFrames(ctx, arg, byID); err != nil {
		return nil, err
	}
	if err := s.attachEvents(ctx, arg, byID); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) attachFrames(ctx context.Context, arg string, byID map[int64]*correlate.Message) error {
	rows, err := s.db.QueryContext(ctx, `SELECT fr.message_id, coalesce(fr.file_id, 0), coalesce(f.name, ''),
		fr.number, fr.ts, fr.link, fr.orig_len
		FROM frames fr JOIN messages m ON m.id = fr.message_id LEFT JOIN files f ON f.id = fr.file_id
		WHERE `+callIDSet+` ORDER BY fr.rowid`, arg)
	if err != nil {
		return fmt.Errorf("store: frames: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid, fid, ts int64
		var fr decode.FrameRef
		if err := rows.Scan(&mid, &fid, &fr.File, &fr.Number, &ts, &fr.Link, &fr.OrigLen); err != nil {
			return fmt.Errorf("store: frames: %w", err)
		}
		fr.Source, fr.Time = int(fid), fromNS(ts)
		if m := byID[mid]; m != nil {
			m.Frames = append(m.Frames, fr)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: frames: %w", err)
	}
	return nil
}

func (s *Store) attachEvents(ctx context.Context, arg string, byID map[int64]*correlate.Message) error {
	rows, err := s.db.QueryContext(ctx, `SELECT e.message_id, coalesce(f.name, ''), e.frame, e.ts, e.kind,
		e.detail, e.from_addr, e.src, e.dst, e.call_id, e.cseq, e.cseq_method, e.method
		FROM events e JOIN messages m ON m.id = e.message_id LEFT JOIN files f ON f.id = e.file_id
		WHERE `+callIDSet+` ORDER BY e.id`, arg)
	if err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid, ts, cseq int64
		var from, src, dst string
		var e decode.Event
		if err := rows.Scan(&mid, &e.File, &e.Frame, &ts, &e.Kind, &e.Detail, &from, &src, &dst,
			&e.CallID, &cseq, &e.CSeqMethod, &e.Method); err != nil {
			return fmt.Errorf("store: events: %w", err)
		}
		e.Time, e.CSeq = fromNS(ts), uint32(cseq)
		e.Src, e.Dst = parseAddr(src), parseAddr(dst)
		if a, err := netip.ParseAddr(from); err == nil {
			e.From = a
		}
		if m := byID[mid]; m != nil {
			m.Events = append(m.Events, e)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: events: %w", err)
	}
	return nil
}

// Frames returns the captured frames that carried the messages of the
// dialogs with these Call-IDs (every IP fragment and TCP segment), each
// once, in time order (then file, then frame number), with their bytes:
// what a per-call pcap needs. FrameRef.Source is the store's file id.
func (s *Store) Frames(ctx context.Context, callIDs []string) ([]decode.FrameRef, error) {
	if s.opts.DialogsOnly {
		return nil, fmt.Errorf("store: frames: %w", ErrNoMessages)
	}
	// A frame stored with tail = 1 lacks its message's raw bytes at the end
	// (see the writer): they are appended here. For a frame shared by
	// several messages the bare columns come from one row (the one with
	// min(ts)), so data, tail and raw agree.
	rows, err := s.db.QueryContext(ctx, `SELECT coalesce(fr.file_id, 0), coalesce(f.name, ''), fr.number,
		min(fr.ts), fr.link, fr.orig_len, fr.data, fr.tail, CASE WHEN fr.tail THEN m.raw END
		FROM frames fr JOIN messages m ON m.id = fr.message_id LEFT JOIN files f ON f.id = fr.file_id
		WHERE `+callIDSet+`
		GROUP BY fr.file_id, fr.number
		ORDER BY min(fr.ts), fr.file_id, fr.number`, jsonArg(callIDs))
	if err != nil {
		return nil, fmt.Errorf("store: frames: %w", err)
	}
	defer rows.Close()
	var out []decode.FrameRef
	for rows.Next() {
		var fid, ts int64
		var fr decode.FrameRef
		var tail bool
		var raw []byte
		if err := rows.Scan(&fid, &fr.File, &fr.Number, &ts, &fr.Link, &fr.OrigLen, &fr.Data, &tail, &raw); err != nil {
			return nil, fmt.Errorf("store: frames: %w", err)
		}
		if tail {
			fr.Data = append(fr.Data[:len(fr.Data):len(fr.Data)], raw...)
		}
		fr.Source, fr.Time = int(fid), fromNS(ts)
		out = append(out, fr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: frames: %w", err)
	}
	return out, nil
}
