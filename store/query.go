package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Search selects dialogs whose summary fields hold it, case-
	// insensitively: Call-ID, From and To (display name, URI, user),
	// User-Agent and addresses. The store matches those fields in memory
	// (read once, then only new dialogs), not the messages: milliseconds
	// where Grep takes seconds.
	Search string
	// Sort is a comma-separated list of keys (start, end, duration,
	// messages, retransmissions, from, to, status, state, kind, call_id,
	// setup, answer, user_agent), each with an optional "-" prefix for descending.
	// Default "start". Ties are broken by insertion order.
	Sort string
	// Limit caps the number of dialogs; 0 means no cap.
	Limit int
	// CallIDs restricts the result to these Call-IDs.
	CallIDs []string
	// ids restricts the result to these dialog ids (a header sort's page).
	ids []int64
}

var kinds = []correlate.Kind{correlate.KindCall, correlate.KindRegistration, correlate.KindSubscription,
	correlate.KindMessage, correlate.KindOptions, correlate.KindPublish, correlate.KindRefer, correlate.KindOther}

var states = []correlate.State{correlate.StateSetup, correlate.StateRinging, correlate.StateInCall,
	correlate.StateCompleted, correlate.StateCancelled, correlate.StateBusy, correlate.StateRejected,
	correlate.StateRedirected, correlate.StateNoResponse, correlate.StatePending,
	correlate.StateMidDialog, correlate.StateActive, correlate.StateTerminated}

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
	"user_agent":      "d.user_agent COLLATE NOCASE",
	"src":             "d.src",
	"dst":             "d.dst",
	"transport":       "d.transport",
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
// so that a command can refuse bad flags before any work. Each message
// starts with the field's name in lower case ("status: ..."), which a
// command can turn into its flag's name.
func (f *Filter) Check() error {
	for _, k := range f.Kind {
		if !slices.Contains(kinds, k) {
			return fmt.Errorf("kind: unknown kind %q (want one of %s)", k, joinAny(kinds))
		}
	}
	for _, s := range f.State {
		if !slices.Contains(states, s) {
			return fmt.Errorf("state: unknown state %q (want one of %s)", s, joinAny(states))
		}
	}
	if _, err := parseStatus(f.Status); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	for _, p := range []struct{ flag, pat string }{{"from", f.From}, {"to", f.To}} {
		if err := checkGlob(p.pat); err != nil {
			return fmt.Errorf("%s: %w", p.flag, err)
		}
	}
	if err := checkHeaderSort(f.Sort); err != nil {
		return fmt.Errorf("sort: %w", err)
	}
	if _, _, ok := headerSort(f.Sort); !ok {
		if _, err := orderBy(f.Sort); err != nil {
			return fmt.Errorf("sort: %w", err)
		}
	}
	if f.Limit < 0 {
		return fmt.Errorf("limit: negative limit %d", f.Limit)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return fmt.Errorf("until: %s is not after since (%s)", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
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

// checkGlob refuses a From/To pattern SQLite's GLOB cannot match as meant:
// a "[" class without its "]" (GLOB then matches nothing, silently). In a
// class, a "]" right after "[" or "[^" is a literal.
func checkGlob(pat string) error {
	for i := 0; i < len(pat); i++ {
		if pat[i] != '[' {
			continue
		}
		j := i + 1
		if j < len(pat) && pat[j] == '^' {
			j++
		}
		if j < len(pat) && pat[j] == ']' {
			j++
		}
		k := strings.IndexByte(pat[j:], ']')
		if k < 0 {
			return fmt.Errorf("bad glob %q: the [ at byte %d has no closing ] (without [, * or ? the filter is a substring search)", pat, i+1)
		}
		i = j + k
	}
	return nil
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
		// RFC 3261 §7.2: status codes are 100-699; 0 stands for "no final
		// response".
		bad := fmt.Errorf("bad status %q (want a SIP code 100-699 like 486, 0 for none, a class like 4xx or a range like 400-499)", term)
		valid := func(c int) bool { return c == 0 || c >= 100 && c <= 699 }
		switch {
		case len(term) == 3 && term[1:] == "xx" && term[0] >= '1' && term[0] <= '6':
			c := int(term[0]-'0') * 100
			rs = append(rs, statusRange{c, c + 99})
		case strings.Contains(term, "-"):
			a, b, _ := strings.Cut(term, "-")
			lo, err1 := strconv.Atoi(strings.TrimSpace(a))
			hi, err2 := strconv.Atoi(strings.TrimSpace(b))
			if err1 != nil || err2 != nil || !valid(lo) || !valid(hi) || hi < lo {
				return nil, bad
			}
			rs = append(rs, statusRange{lo, hi})
		default:
			c, err := strconv.Atoi(term)
			if err != nil || !valid(c) {
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

// partyCond is the WHERE term of a From/To filter. SQLite's LIKE and
// lower() fold ASCII case only, so a pattern with non-ASCII letters
// ("воронеж") compares Unicode-folded text through sipscope_fold, a Go
// function; ASCII patterns keep the built-in operators (no Go call per row,
// and the fast raw connection). folded reports whether sipscope_fold is used.
func partyCond(side, pat string, args *[]any) (cond string, folded bool) {
	if !isASCII(pat) {
		p := foldCase(pat)
		if strings.ContainsAny(pat, "*?[") {
			*args = append(*args, p, p)
			return fmt.Sprintf("(sipscope_fold(d.%[1]s_user) GLOB ? OR sipscope_fold(d.%[1]s_uri) GLOB ?)", side), true
		}
		// instr, not LIKE: the folded pattern is matched literally.
		*args = append(*args, p, p, p)
		return fmt.Sprintf(`(instr(sipscope_fold(d.%[1]s_user), ?) OR instr(sipscope_fold(d.%[1]s_uri), ?) OR instr(sipscope_fold(d.%[1]s_display), ?))`, side), true
	}
	if strings.ContainsAny(pat, "*?[") {
		p := strings.ToLower(pat)
		*args = append(*args, p, p)
		return fmt.Sprintf("(lower(d.%[1]s_user) GLOB ? OR lower(d.%[1]s_uri) GLOB ?)", side), false
	}
	p := "%" + likeEscape(pat) + "%"
	*args = append(*args, p, p, p)
	return fmt.Sprintf(`(d.%[1]s_user LIKE ? ESCAPE '\' OR d.%[1]s_uri LIKE ? ESCAPE '\' OR d.%[1]s_display LIKE ? ESCAPE '\')`, side), false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldCase maps s to one representative per Unicode case class (the lower
// case of the upper case: "Σ", "σ" and "ς" all give "σ", the Kelvin sign
// gives "k"), so that two strings equal but for case fold to the same text.
func foldCase(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, s)
}

var (
	foldOnce sync.Once
	foldErr  error
)

// registerFold registers sipscope_fold(text) with the driver: foldCase in
// SQL, NULL for NULL.
func registerFold() error {
	foldOnce.Do(func() {
		foldErr = sqlite.RegisterDeterministicScalarFunction("sipscope_fold", 1,
			func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				switch v := args[0].(type) {
				case string:
					return foldCase(v), nil
				case []byte:
					return foldCase(string(v)), nil
				case nil:
					return nil, nil
				}
				return args[0], nil
			})
	})
	return foldErr
}

func init() { _ = registerFold() }

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
		q, args, goFuncs, cleanup, err := s.dialogQuery(ctx, f)
		if err != nil {
			yield(nil, err)
			return
		}
		defer cleanup()
		// row hands on the dialog a row holds; false: the loop stopped.
		row := func(sc scanner) (bool, error) {
			var linked sql.NullString
			_, d, err := scanDialog(sc, &linked)
			if err != nil {
				return false, err
			}
			d.Linked = splitLinked(linked)
			return yield(d, nil), nil
		}
		if !goFuncs {
			err = s.dialogsRaw(ctx, q, args, row)
		} else {
			err = s.dialogsSQL(ctx, q, args, row)
		}
		if err != nil {
			yield(nil, fmt.Errorf("store: dialogs: %w", err))
		}
	}
}

// scanner is a row to scan: *sql.Rows, *sql.Row or rawCursor.
type scanner interface{ Scan(dest ...any) error }

// dialogsRaw runs a dialogs query on a connection of its own through
// SQLite's C API (see rawConn), which reads rows at half the cost of
// database/sql: listing every dialog of a large store is mostly that.
func (s *Store) dialogsRaw(ctx context.Context, q string, args []any, row func(scanner) (bool, error)) error {
	o := s.opts
	o.ReadOnly = true // query_only: a reader
	c, err := openRaw(s.path, pragmas(o))
	if err != nil {
		return err
	}
	defer c.close()
	return c.query(q, args, func(r rawCursor) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return row(r)
	})
}

// dialogsSQL runs a dialogs query through database/sql: the grep filter
// needs the Go function registered with the driver (sipscope_grep).
func (s *Store) dialogsSQL(ctx context.Context, q string, args []any, row func(scanner) (bool, error)) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if more, err := row(rows); err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

// dialogQuery builds the SQL of a Dialogs query. goFuncs reports that it
// calls Go functions registered with the driver (grep, Unicode folding),
// which only database/sql connections know.
func (s *Store) dialogQuery(ctx context.Context, f Filter) (q string, args []any, goFuncs bool, cleanup func(), err error) {
	cleanup = func() {}
	if err := f.Check(); err != nil {
		return "", nil, false, cleanup, fmt.Errorf("store: %w", err)
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
	for _, p := range []struct{ side, pat string }{{"from", f.From}, {"to", f.To}} {
		if p.pat == "" {
			continue
		}
		cond, folded := partyCond(p.side, p.pat, &args)
		if folded {
			if err := registerFold(); err != nil {
				return "", nil, false, cleanup, fmt.Errorf("store: %w", err)
			}
			goFuncs = true
		}
		where = append(where, cond)
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
		where = append(where, "d.call_id IN "+callIDList)
		args = append(args, callIDsArg(f.CallIDs))
	}
	if f.ids != nil {
		where = append(where, "d.id IN (SELECT value FROM json_each(?))")
		args = append(args, idsJSON(f.ids))
	}
	if f.Search != "" {
		cond, folded, err := s.searchCond(ctx, f.Search, &args)
		if err != nil {
			return "", nil, false, cleanup, err
		}
		if folded {
			if err := registerFold(); err != nil {
				return "", nil, false, cleanup, fmt.Errorf("store: %w", err)
			}
			goFuncs = true
		}
		where = append(where, cond)
	}
	if f.Grep != nil {
		if s.opts.DialogsOnly {
			return "", nil, false, cleanup, fmt.Errorf("store: grep: %w", ErrNoMessages)
		}
		if err := registerGrep(); err != nil {
			return "", nil, false, cleanup, fmt.Errorf("store: grep: %w", err)
		}
		id := grepNext.Add(1)
		grepPatterns.Store(id, f.Grep)
		cleanup = func() { grepPatterns.Delete(id) }
		goFuncs = true
		where = append(where, "EXISTS (SELECT 1 FROM messages m WHERE m.dialog_id = d.id AND sipscope_grep(?, m.raw))")
		args = append(args, id)
	}
	if name, _, ok := headerSort(f.Sort); ok {
		// Only Page sorts by a header (headerPage), from its index.
		return "", nil, false, cleanup, fmt.Errorf("store: sort by %s: only the call list (Page) sorts by a header", name)
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
	return q, args, goFuncs, cleanup, nil
}

// Dialog returns one dialog in full: its summary (continuations already
// merged), its transactions and the Call-IDs directly linked to it. An
// unknown Call-ID gives an error wrapping ErrNotFound.
func (s *Store) Dialog(ctx context.Context, callID string) (*correlate.Dialog, error) {
	var linked sql.NullString
	id, d, err := scanDialog(s.queryRow(ctx,
		"SELECT "+dialogSelect+", "+linkedExpr+" FROM dialogs d WHERE d.call_id = ?", callID), &linked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: no dialog with Call-ID %q: %w", callID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
	}
	d.Linked = splitLinked(linked)
	var txns []byte
	if err := s.queryRow(ctx, `SELECT transactions FROM dialogs WHERE id = ?`, id).Scan(&txns); err != nil {
		return nil, fmt.Errorf("store: dialog %q: %w", callID, err)
	}
	if d.Transactions, err = parseTxns(txns); err != nil {
		return nil, fmt.Errorf("store: dialog %q: transactions: %w", callID, err)
	}
	return d, nil
}

// Linked returns every Call-ID reachable from callID through links, in
// either direction and transitively (A->B->C gives B and C for A, A and C
// for B), sorted, without callID itself. The Call-IDs need not have stored
// dialogs.
func (s *Store) Linked(ctx context.Context, callID string) ([]string, error) {
	rows, err := s.query(ctx, `WITH RECURSIVE reach(id) AS (
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
// the Call-IDs as one argument (callIDsArg) so that any number fit.
const callIDSet = `m.dialog_id IN (SELECT id FROM dialogs WHERE call_id IN ` + callIDList + `)`

// callIDList is the SQL for the Call-IDs of a callIDsArg argument, as the
// call_id columns store them.
const callIDList = `(SELECT CAST(unhex(value) AS TEXT) FROM json_each(?))`

// callIDsArg is ids as callIDList reads them: a JSON array of each
// Call-ID's bytes in hex. Not the strings themselves: JSON text is UTF-8,
// and a Call-ID that is not (a broken or fuzzed capture keeps its bytes in
// call_id) would come out of json_each with U+FFFD in place of its bad
// bytes and match nothing.
func callIDsArg(ids []string) string {
	n := 2
	for _, id := range ids {
		n += 2*len(id) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = hex.AppendEncode(b, []byte(id))
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

// Messages returns every stored message of the dialogs with these Call-IDs,
// in capture order (across imports: import order), each rebuilt by
// decode.Parse from its raw bytes with its addressing, time, frames
// (without their bytes; see Frames) and events restored. When the raw
// bytes do not parse, the stored method, status, CSeq and Call-ID are
// filled in instead, so the message still reads. The messages own their
// memory.
func (s *Store) Messages(ctx context.Context, callIDs []string) ([]*correlate.Message, error) {
	if s.opts.DialogsOnly {
		return nil, fmt.Errorf("store: messages: %w", ErrNoMessages)
	}
	rows, err := s.query(ctx, `SELECT coalesce(f.name, ''), m.seq, m.ts, d.call_id, m.txn,
		m.retransmission, m.leg, m.src, m.dst, m.transport, m.encap, m.method, m.status, m.cseq,
		m.hep, m.events, m.frames, m.raw, m.duplicate, m.warnings
		FROM messages m JOIN dialogs d ON d.id = m.dialog_id LEFT JOIN files f ON f.id = m.file_id
		WHERE `+callIDSet+` ORDER BY m.seq, m.id`, callIDsArg(callIDs))
	if err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	defer rows.Close()
	var out []*correlate.Message
	names := make(map[int64]string) // files.id -> name, for frames and events
	for rows.Next() {
		var (
			ts, cseq                   int64
			file, src, dst, tr, method string
			encap                      string
			status                     int
			cm                         correlate.Message
			hep, events, frames, raw   []byte
			dup                        bool
			warnings                   int64
		)
		if err := rows.Scan(&file, &cm.Seq, &ts, &cm.CallID, &cm.Txn, &cm.Retransmission, &cm.Leg,
			&src, &dst, &tr, &encap, &method, &status, &cseq, &hep, &events, &frames, &raw, &dup, &warnings); err != nil {
			return nil, fmt.Errorf("store: messages: %w", err)
		}
		m := new(decode.Message)
		if err := decode.Parse(raw, m); err != nil {
			// The raw bytes did not parse (or the parser is older than the
			// data): fall back to the columns stored at import.
			*m = decode.Message{Request: status == 0, Method: method, Status: status, CallID: cm.CallID,
				CSeq: uint32(cseq), ContentLength: -1, MaxForwards: -1}
		}
		// The stored bytes are what was on the wire; Parse may have kept
		// less of them (bytes beyond Content-Length).
		m.Raw = raw
		m.Time, m.File = fromNS(ts), file
		m.Src, m.Dst, m.Transport, m.Encap = parseAddr(src), parseAddr(dst), decode.Transport(tr), encap
		m.HEP = parseHEP(hep)
		var ferr error
		parseFrames(frames, func(f storedFrame) {
			if ferr != nil {
				return
			}
			var name string
			if name, ferr = s.fileName(ctx, names, f.fileID); ferr == nil {
				m.Frames = append(m.Frames, decode.FrameRef{Source: int(f.fileID), File: name, Number: f.number,
					Time: fromNS(f.ts), Link: f.link, OrigLen: f.origLen})
			}
		})
		if ferr != nil {
			return nil, fmt.Errorf("store: messages: %w", ferr)
		}
		if len(events) > 0 {
			var es []storedEvent
			if err := json.Unmarshal(events, &es); err != nil {
				return nil, fmt.Errorf("store: messages: events: %w", err)
			}
			for i := range es {
				e := es[i].event()
				if e.File, err = s.fileName(ctx, names, es[i].FileID); err != nil {
					return nil, fmt.Errorf("store: messages: %w", err)
				}
				m.Events = append(m.Events, e)
			}
		}
		m.Duplicate = dup
		// What the decoder saw that raw alone does not show (schema 12).
		m.Warnings |= decode.Warning(warnings)
		cm.Message = m
		out = append(out, &cm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	return out, nil
}

// fileName returns the name of files row id ("" for 0), caching it in
// names.
func (s *Store) fileName(ctx context.Context, names map[int64]string, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	if n, ok := names[id]; ok {
		return n, nil
	}
	var n string
	err := s.queryRow(ctx, `SELECT name FROM files WHERE id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	names[id] = n
	return n, err
}

// Frames returns the captured frames that carried the messages of the
// dialogs with these Call-IDs (every IP fragment and TCP segment), each
// once, in time order (then file, then frame number), with their bytes:
// what a per-call pcap needs. FrameRef.Source is the store's file id.
func (s *Store) Frames(ctx context.Context, callIDs []string) ([]decode.FrameRef, error) {
	if s.opts.DialogsOnly {
		return nil, fmt.Errorf("store: frames: %w", ErrNoMessages)
	}
	rows, err := s.query(ctx, `SELECT m.frames, m.raw FROM messages m
		WHERE `+callIDSet+` ORDER BY m.id`, callIDsArg(callIDs))
	if err != nil {
		return nil, fmt.Errorf("store: frames: %w", err)
	}
	defer rows.Close()
	// A segment that carried two messages is in both messages' frames:
	// keep it once, from the message that saw it first (min ts).
	type key struct{ file, number int64 }
	seen := make(map[key]int)
	var out []decode.FrameRef
	var stored []storedFrame
	for rows.Next() {
		var frames, raw []byte
		if err := rows.Scan(&frames, &raw); err != nil {
			return nil, fmt.Errorf("store: frames: %w", err)
		}
		parseFrames(frames, func(f storedFrame) {
			if f.tail {
				// Stored without its message's raw bytes (see the
				// writer): put them back.
				f.data = append(f.data, raw...)
			}
			k := key{f.fileID, f.number}
			if i, ok := seen[k]; ok {
				if f.ts < stored[i].ts {
					stored[i] = f
				}
				return
			}
			seen[k] = len(stored)
			stored = append(stored, f)
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: frames: %w", err)
	}
	rows.Close()
	slices.SortStableFunc(stored, func(a, b storedFrame) int {
		if a.ts != b.ts {
			return cmpInt(a.ts, b.ts)
		}
		if a.fileID != b.fileID {
			return cmpInt(a.fileID, b.fileID)
		}
		return cmpInt(a.number, b.number)
	})
	names := make(map[int64]string)
	for _, f := range stored {
		name, err := s.fileName(ctx, names, f.fileID)
		if err != nil {
			return nil, fmt.Errorf("store: frames: %w", err)
		}
		out = append(out, decode.FrameRef{Source: int(f.fileID), File: name, Number: f.number, Time: fromNS(f.ts),
			Link: f.link, OrigLen: f.origLen, Data: f.data})
	}
	return out, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
