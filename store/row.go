package store

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// dialogCols are the dialogs columns after id, in the order dialogArgs
// and scanDialog use.
const dialogCols = `call_id, kind, state, final_status, final_reason,
	from_display, from_uri, from_user, from_host, from_tag,
	to_display, to_uri, to_user, to_host, to_tag,
	src, dst, transport, messages, retransmissions,
	start_ns, end_ns, setup_ns, answer_ns, duration_ns,
	q850_cause, user_agent, legs, events, duplicates,
	findings, worst, worst_severity`

const dialogColCount = 33

// dialogSelect is dialogCols qualified by the alias d, with id first.
var dialogSelect = "d.id, " + qualify("d.", dialogCols)

func qualify(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func dialogArgs(d *correlate.Dialog) []any { return appendDialogArgs(nil, nil, d) }

// appendDialogArgs appends the values of dialogCols to dst, made by bx (see
// boxes; nil for plain values). Integers go as int64 (or *int64), which
// rawStmt.bind takes as they are.
func appendDialogArgs(dst []any, bx *boxes, d *correlate.Dialog) []any {
	return append(dst,
		bx.str(d.CallID), bx.str(string(d.Kind)), bx.str(string(d.State)), bx.int(int64(d.FinalStatus)), bx.str(d.FinalReason),
		bx.str(d.From.Display), bx.str(d.From.URI), bx.str(d.From.User), bx.str(d.From.Host), bx.str(d.From.Tag),
		bx.str(d.To.Display), bx.str(d.To.URI), bx.str(d.To.User), bx.str(d.To.Host), bx.str(d.To.Tag),
		bx.str(addrString(d.Src)), bx.str(addrString(d.Dst)), bx.str(string(d.Transport)), bx.int(int64(d.Messages)), bx.int(int64(d.Retransmissions)),
		bx.int(ns(d.Start)), bx.int(ns(d.End)), bx.int(int64(d.SetupTime)), bx.int(int64(d.AnswerTime)), bx.int(int64(d.Duration)),
		bx.int(int64(d.Q850Cause)), bx.str(d.UserAgent), bx.str(jsonList(d.Legs)), bx.int(int64(d.Events)), bx.int(int64(d.Duplicates)),
		bx.int(findingsCount(d.Diagnosis)), bx.str(d.Diagnosis.Worst), bx.str(string(d.Diagnosis.Severity)),
	)
}

// findingsCount is the findings column: -1 when the rules have not run
// (schema 8).
func findingsCount(g correlate.Diagnosis) int64 {
	if !g.Done {
		return -1
	}
	return int64(g.Findings)
}

// scanDialog reads id followed by dialogCols and then extra destinations.
func scanDialog(sc scanner, extra ...any) (int64, *correlate.Dialog, error) {
	var (
		id                               int64
		d                                correlate.Dialog
		kind, state, src, dst, tr, legs  string
		start, end, setup, answer, durat int64
		findings                         int64
		worstSev                         string
	)
	dest := []any{&id,
		&d.CallID, &kind, &state, &d.FinalStatus, &d.FinalReason,
		&d.From.Display, &d.From.URI, &d.From.User, &d.From.Host, &d.From.Tag,
		&d.To.Display, &d.To.URI, &d.To.User, &d.To.Host, &d.To.Tag,
		&src, &dst, &tr, &d.Messages, &d.Retransmissions,
		&start, &end, &setup, &answer, &durat,
		&d.Q850Cause, &d.UserAgent, &legs, &d.Events, &d.Duplicates,
		&findings, &d.Diagnosis.Worst, &worstSev,
	}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return 0, nil, err
	}
	d.Kind, d.State, d.Transport = correlate.Kind(kind), correlate.State(state), decode.Transport(tr)
	d.Src, d.Dst = parseAddr(src), parseAddr(dst)
	d.Start, d.End = fromNS(start), fromNS(end)
	d.SetupTime, d.AnswerTime, d.Duration = time.Duration(setup), time.Duration(answer), time.Duration(durat)
	d.Legs = parseList(legs)
	if findings >= 0 {
		d.Diagnosis.Done, d.Diagnosis.Findings = true, int(findings)
		d.Diagnosis.Severity = correlate.Severity(worstSev)
	} else {
		d.Diagnosis.Worst = ""
	}
	return id, &d, nil
}

// addrString formats an address for storage; "" when unset.
func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func parseAddr(s string) netip.AddrPort {
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}
	}
	return a
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func parseList(s string) []string {
	if s == "" || s == "[]" {
		return nil
	}
	if len(s) >= 4 && s[:2] == `["` && s[len(s)-2:] == `"]` && !strings.Contains(s, `\`) {
		// What jsonList wrote without any escape: no string holds a quote
		// or backslash, so the items are exactly what lies between ",".
		return strings.Split(s[2:len(s)-2], `","`)
	}
	var l []string
	if json.Unmarshal([]byte(s), &l) != nil {
		return nil
	}
	return l
}

// messageCols are the messages columns written by the Writer, in the
// order of its arguments (schema 12).
const messageCols = `file_id, dialog_id, seq, ts, txn, retransmission, leg,
	src, dst, transport, encap, method, status, cseq, hep, events, frames, raw, duplicate, warnings`

const messageColCount = 20

// messageColsLite are messageCols less hep and events, for the rows that
// have neither (NULL: their default).
const messageColsLite = `file_id, dialog_id, seq, ts, txn, retransmission, leg,
	src, dst, transport, encap, method, status, cseq, frames, raw, duplicate, warnings`

// Indexes of a few values in a messages row made by rowEncoder.row (the id
// first).
const (
	msgDialog = 2
	msgHEP    = 15
	msgEvents = 16
)

// PackedDialog is what a dialogs row keeps of a dialog (dialogCols, as
// Dialogs reads it back: Linked and Transactions nil, Part 0), packed into
// bytes: about a third of the memory of the Dialog, for a reader that
// holds many until it lists them.
type PackedDialog []byte

// PackDialog appends d, as a row keeps it, to dst. Keep it in step with
// appendDialogArgs and scanDialog.
func PackDialog(dst []byte, d *correlate.Dialog) PackedDialog {
	b := dst
	if b == nil {
		// The size it will take, near enough: growing from nothing was
		// five allocations a dialog.
		n := 192 + len(d.CallID) + len(d.FinalReason) + len(d.UserAgent) + len(d.Diagnosis.Worst)
		for _, na := range [2]*decode.NameAddr{&d.From, &d.To} {
			n += len(na.Display) + len(na.URI) + len(na.User) + len(na.Host) + len(na.Tag)
		}
		for _, l := range d.Legs {
			n += len(l) + 2
		}
		b = make([]byte, 0, n)
	}
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	num := func(v int64) { b = binary.AppendVarint(b, v) }
	name := func(n decode.NameAddr) { str(n.Display); str(n.URI); str(n.User); str(n.Host); str(n.Tag) }
	str(d.CallID)
	str(string(d.Kind))
	str(string(d.State))
	num(int64(d.FinalStatus))
	str(d.FinalReason)
	name(d.From)
	name(d.To)
	addr := func(a netip.AddrPort) { // addrString's text, without making the string
		var buf [64]byte
		t := buf[:0]
		if a.IsValid() {
			t = a.AppendTo(t)
		}
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	addr(d.Src)
	addr(d.Dst)
	str(string(d.Transport))
	num(int64(d.Messages))
	num(int64(d.Retransmissions))
	num(ns(d.Start))
	num(ns(d.End))
	num(int64(d.SetupTime))
	num(int64(d.AnswerTime))
	num(int64(d.Duration))
	num(int64(d.Q850Cause))
	str(d.UserAgent)
	num(int64(len(d.Legs)))
	for _, l := range d.Legs {
		str(l)
	}
	num(int64(d.Events))
	num(int64(d.Duplicates))
	num(findingsCount(d.Diagnosis))
	str(d.Diagnosis.Worst)
	str(string(d.Diagnosis.Severity))
	return b
}

// Dialog unpacks p; its strings are copies (one allocation).
func (p PackedDialog) Dialog() *correlate.Dialog {
	all := string(p) // the strings alias this one copy
	off := 0
	num := func() int64 {
		v, n := binary.Varint(p[off:])
		off += n
		return v
	}
	str := func() string {
		l, n := binary.Uvarint(p[off:])
		off += n
		s := all[off : off+int(l)]
		off += int(l)
		return s
	}
	name := func() decode.NameAddr {
		return decode.NameAddr{Display: str(), URI: str(), User: str(), Host: str(), Tag: str()}
	}
	d := &correlate.Dialog{}
	d.CallID = str()
	d.Kind = correlate.Kind(str())
	d.State = correlate.State(str())
	d.FinalStatus = int(num())
	d.FinalReason = str()
	d.From = name()
	d.To = name()
	d.Src = parseAddr(str())
	d.Dst = parseAddr(str())
	d.Transport = decode.Transport(str())
	d.Messages = int(num())
	d.Retransmissions = int(num())
	d.Start = fromNS(num())
	d.End = fromNS(num())
	d.SetupTime = time.Duration(num())
	d.AnswerTime = time.Duration(num())
	d.Duration = time.Duration(num())
	d.Q850Cause = int(num())
	d.UserAgent = str()
	for n := num(); n > 0; n-- {
		d.Legs = append(d.Legs, str())
	}
	d.Events = int(num())
	d.Duplicates = int(num())
	if findings := num(); findings >= 0 {
		d.Diagnosis = correlate.Diagnosis{Done: true, Findings: int(findings)}
		d.Diagnosis.Worst = str()
		d.Diagnosis.Severity = correlate.Severity(str())
	} else {
		str()
		str()
	}
	return d
}
