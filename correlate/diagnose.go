package correlate

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Severity says how bad a finding is. A healthy call has no SevError finding.
type Severity string

// Severities, worst first.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
	SevInfo    Severity = "info"
)

// rank orders severities: lower is worse.
func (s Severity) rank() int {
	switch s {
	case SevError:
		return 0
	case SevWarning:
		return 1
	}
	return 2
}

// Worse reports whether s is worse than t.
func (s Severity) Worse(t Severity) bool { return s.rank() < t.rank() }

// Finding is one thing a rule found wrong (or worth saying) about a dialog,
// with the messages that prove it (JSON Lines contract of `diagnose`).
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Summary is one sentence with the numbers, as one writes in a ticket.
	Summary string `json:"summary"`
	// Evidence lists the messages the finding rests on by their index in
	// `sipscope messages` (Message.Seq+1, 1-based capture order); never
	// empty.
	Evidence []int64 `json:"evidence"`
	RFC      string  `json:"rfc"`
}

// DiagnoseOptions are the thresholds of the rules; DefaultDiagnoseOptions
// gives the documented defaults.
type DiagnoseOptions struct {
	// SlowSetup is the post-dial delay (INVITE to first 18x or final
	// response) above which slow-setup is reported.
	SlowSetup time.Duration
	// LateACK is the delay between a 2xx to INVITE and its ACK above which
	// no-ack reports a late ACK.
	LateACK time.Duration
	// MaxUDP is the size of a UDP message above which oversized-udp is
	// reported (RFC 3261 §18.1.1: 1300 bytes, 200 below a 1500 MTU).
	MaxUDP int
	// T1 is the RTT estimate of RFC 3261 §17.1.1.1 (500 ms); a transaction
	// without response that lasted 64*T1 ran out its timer (timeout).
	T1 time.Duration
	// Retransmissions is how many retransmissions in a dialog make the
	// retransmissions rule speak up.
	Retransmissions int
}

// DefaultDiagnoseOptions returns the default thresholds.
func DefaultDiagnoseOptions() DiagnoseOptions {
	return DiagnoseOptions{SlowSetup: 5 * time.Second, LateACK: time.Second, MaxUDP: 1300,
		T1: 500 * time.Millisecond, Retransmissions: 1}
}

// rule is one check: it looks at a dialog and says what it found.
type rule struct {
	code  string
	check func(x *diag) []Finding
}

// Diagnose runs every rule over d and its messages (in capture order, with
// parsed headers as decode.Parse leaves them) and returns the findings,
// worst first. Every rule uses capture time only. It does not modify d or
// msgs and is safe for concurrent use on different dialogs.
func Diagnose(d *Dialog, msgs []*Message, o DiagnoseOptions) []Finding {
	def := DefaultDiagnoseOptions()
	if o.SlowSetup <= 0 {
		o.SlowSetup = def.SlowSetup
	}
	if o.LateACK <= 0 {
		o.LateACK = def.LateACK
	}
	if o.MaxUDP <= 0 {
		o.MaxUDP = def.MaxUDP
	}
	if o.T1 <= 0 {
		o.T1 = def.T1
	}
	if o.Retransmissions <= 0 {
		o.Retransmissions = def.Retransmissions
	}
	x := newDiag(d, msgs, o)
	defer x.free()
	var out []Finding
	for _, r := range rules {
		for _, f := range r.check(x) {
			if len(f.Evidence) == 0 {
				continue // a finding must rest on messages
			}
			f.Code = r.code
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity.rank() < out[j].Severity.rank() })
	return out
}

// SortFindings orders fs worst first, keeping the order of findings of one
// severity (a stable sort), as Diagnose and DiagnoseMedia return them: the
// findings of both appended are sorted by it. It returns fs.
func SortFindings(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity.rank() < fs[j].Severity.rank() })
	return fs
}

// Worst returns the worst severity among fs and the code of the first
// finding with it ("" when fs is empty).
func Worst(fs []Finding) (Severity, string) {
	if len(fs) == 0 {
		return "", ""
	}
	return fs[0].Severity, fs[0].Code // Diagnose sorts worst first
}

// Diagnosis is a dialog's findings in brief, as `sipscope calls` lists
// them (fields findings and worst): set on Dialog.Diagnosis by whoever ran
// the rules on all of the dialog's messages (the importer, at hand-off).
type Diagnosis struct {
	// Done says the rules ran; false when nobody diagnosed the dialog
	// (then the other fields say nothing).
	Done     bool
	Findings int      // number of findings
	Worst    string   // code of the worst finding, "" when none
	Severity Severity // of the worst finding, "" when none
}

// Summarize is the Diagnosis of findings made by Diagnose (worst first).
func Summarize(fs []Finding) Diagnosis {
	sev, code := Worst(fs)
	return Diagnosis{Done: true, Findings: len(fs), Worst: code, Severity: sev}
}

// Combine folds the Diagnosis of a later part of a dialog (see Dialog.Part)
// into g, when the messages of the earlier part are gone and the rules
// cannot run on the whole: the counts add up and the worse finding wins (g's
// on a tie). Not done when either is not.
func (g Diagnosis) Combine(later Diagnosis) Diagnosis {
	if !g.Done || !later.Done {
		return Diagnosis{}
	}
	out := g
	out.Findings += later.Findings
	if later.Worst != "" && (out.Worst == "" || later.Severity.Worse(out.Severity)) {
		out.Worst, out.Severity = later.Worst, later.Severity
	}
	return out
}

// diag is what the rules share about one dialog: its messages grouped into
// transactions by top Via branch, CSeq number and method (RFC 3261
// §17.1.3, §17.2.3), so rules do not depend on the correlator's matching.
type diag struct {
	d    *Dialog
	msgs []*Message
	o    DiagnoseOptions
	txns []*txn
	end  time.Time // time of the last message of the dialog

	// What newDiag reuses from one dialog to the next (diagPool): the
	// grouping was a tenth of the allocations of `calls` on a SIPp
	// capture, a few maps and slices for every dialog.
	byKey   map[ruleTxnKey]*txn
	last    map[dupKey]*Message
	slab    []txn
	inv     []*txn // invites(), once invDone
	invDone bool
}

// diagPool holds diags for newDiag; a diag whose maps grew past
// maxPooledDiag entries is not put back, so that one huge dialog does not
// make every later clear slow.
var diagPool = sync.Pool{New: func() any {
	return &diag{byKey: make(map[ruleTxnKey]*txn), last: make(map[dupKey]*Message)}
}}

const maxPooledDiag = 1024

// free clears x of the dialog's messages and gives it back to diagPool;
// no rule keeps x or its slices (findings hold indexes and strings).
func (x *diag) free() {
	if len(x.msgs) > maxPooledDiag || len(x.txns) > maxPooledDiag {
		return
	}
	clear(x.byKey)
	clear(x.last)
	for i := range x.slab {
		t := &x.slab[i]
		clear(t.requests)
		clear(t.responses)
		*t = txn{requests: t.requests[:0], responses: t.responses[:0]}
	}
	clear(x.msgs)
	clear(x.txns)
	clear(x.inv)
	*x = diag{msgs: x.msgs[:0], txns: x.txns[:0], byKey: x.byKey, last: x.last, slab: x.slab[:0], inv: x.inv[:0]}
	diagPool.Put(x)
}

// dupWindow is how close in time two identical messages must be to count
// as one message captured twice.
const dupWindow = 20 * time.Millisecond

// txn is one transaction as the rules see it.
type txn struct {
	method    string
	cseq      uint32
	requests  []*Message // the request and its retransmissions
	responses []*Message
}

func (t *txn) final() *Message {
	for i := len(t.responses) - 1; i >= 0; i-- {
		if t.responses[i].Status >= 200 {
			return t.responses[i]
		}
	}
	return nil
}

// ruleTxnKey names a transaction as newDiag groups them.
type ruleTxnKey struct {
	branch string
	cseq   uint32
	method string
	pair   string // the two ends, for RFC 2543 peers only
}

// dupKey names a message on the wire, for duplicates: its addresses and
// a hash of its bytes (equal bytes are checked on a match).
type dupKey struct {
	src, dst netip.AddrPort
	sum      uint64
}

var dupSeed = maphash.MakeSeed()

func newDiag(d *Dialog, msgs []*Message, o DiagnoseOptions) *diag {
	x := diagPool.Get().(*diag)
	x.d, x.o = d, o
	byKey := x.byKey
	last := x.last // by wire bytes and addresses, for duplicates
	for _, m := range msgs {
		if m == nil || m.Message == nil {
			continue
		}
		// The same bytes between the same addresses within dupWindow are
		// one message seen twice by the capture (several HEP agents, a
		// mirror port and a host), not a retransmission: RFC 3261 timers
		// never fire that fast (T1 is 500 ms).
		wire := dupKey{m.Src, m.Dst, maphash.Bytes(dupSeed, m.Raw)}
		if prev := last[wire]; prev != nil && m.Time.Sub(prev.Time) < dupWindow && bytes.Equal(prev.Raw, m.Raw) {
			continue
		}
		last[wire] = m
		x.msgs = append(x.msgs, m)
		if m.Time.After(x.end) {
			x.end = m.Time
		}
		branch := ""
		if len(m.Via) > 0 {
			branch = m.Via[0].Branch
		}
		key := ruleTxnKey{branch: branch, cseq: m.CSeq, method: m.CSeqMethod}
		if branch == "" || !strings.HasPrefix(branch, "z9hG4bK") {
			// RFC 2543 peers: no usable branch, match on CSeq and the
			// request's addresses instead (RFC 3261 §17.1.3 fallback).
			key.pair = hostPair(m)
		}
		t := byKey[key]
		if t == nil {
			t = x.newTxn(m.CSeqMethod, m.CSeq)
			byKey[key] = t
			x.txns = append(x.txns, t)
		}
		if m.Request {
			t.requests = append(t.requests, m)
		} else {
			t.responses = append(t.responses, m)
		}
	}
	return x
}

// newTxn is a txn from x's slab, its slices reused. The slab never moves
// a txn once handed out: it grows by whole new arrays only when full, and
// the txns already given keep pointing into the old one.
func (x *diag) newTxn(method string, cseq uint32) *txn {
	if len(x.slab) == cap(x.slab) {
		if len(x.slab) > 0 {
			// Not enough: a fresh slab, twice the size, for the rest of
			// this dialog and for the next ones.
			x.slab = make([]txn, 0, 2*cap(x.slab))
		} else if cap(x.slab) == 0 {
			x.slab = make([]txn, 0, 8)
		}
	}
	x.slab = x.slab[:len(x.slab)+1]
	t := &x.slab[len(x.slab)-1]
	t.method, t.cseq = method, cseq
	return t
}

// hostPair names a message's two ends the same way for a request and its
// response.
func hostPair(m *Message) string {
	a, b := m.Src.String(), m.Dst.String()
	if !m.Request {
		a, b = b, a
	}
	return a + ">" + b
}

// invites returns the INVITE transactions with a request seen. Several
// rules ask: the list is made once per dialog, into storage x reuses, and
// callers only read it.
func (x *diag) invites() []*txn {
	if x.invDone {
		return x.inv
	}
	for _, t := range x.txns {
		if t.method == "INVITE" && len(t.requests) > 0 {
			x.inv = append(x.inv, t)
		}
	}
	x.invDone = true
	return x.inv
}

// opening returns the transactions of the request that opened the dialog:
// requests without To tag (the first request, its challenged retries).
func (x *diag) opening() []*txn {
	var out []*txn
	for _, t := range x.txns {
		if len(t.requests) > 0 && t.requests[0].To.Tag == "" && t.method != "ACK" && t.method != "CANCEL" {
			out = append(out, t)
		}
	}
	return out
}

// finals returns the final responses (status >= 200) with the given status
// test, to requests of any method, first of each transaction.
func (x *diag) finals(match func(status int) bool) []*Message {
	var out []*Message
	for _, t := range x.txns {
		for _, r := range t.responses {
			if r.Status >= 200 && match(r.Status) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// idx is a message's index as `sipscope messages` prints it.
func idx(m *Message) int64 { return m.Seq + 1 }

func idxs(ms ...[]*Message) []int64 {
	var out []int64
	for _, l := range ms {
		for _, m := range l {
			out = append(out, idx(m))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// secs formats a duration in seconds the way summaries do ("3.5 s").
func secs(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " s"
}

// startLine is a message's first line, for summaries.
func startLine(m *Message) string {
	if m.Request {
		return m.Method
	}
	return strconv.Itoa(m.Status) + " " + m.Reason
}

// times lists when each message was sent, relative to the first.
func times(ms []*Message) string {
	if len(ms) == 0 {
		return ""
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strings.TrimSuffix(secs(m.Time.Sub(ms[0].Time)), " s")
	}
	return strings.Join(parts, ", ") + " s"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
