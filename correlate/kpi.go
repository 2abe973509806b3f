package correlate

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// KPIs: the RFC 6076 end-to-end SIP performance metrics, plus the
// telephony ratios (ASR, NER, ACD) and post-dial delay operators ask for.
//
// Every metric is computed from a dialog's messages as the capture saw
// them, in capture time. RFC 6076 measures at the originating user agent,
// so the times of responses are taken on the responses sent to the
// address the first INVITE (or REGISTER) came from: on a capture of a
// proxy's two hops, the caller's side. When no response went there (a
// capture of the far hop only) the first response seen anywhere is used.
//
// What counts as one "session request": a dialog of kind call whose
// opening INVITE (no To tag) was captured, with its retries after a 401/407
// challenge: RFC 6076 §5.3 says the metrics include the time spent on
// authentication, so a challenged INVITE and its retry with credentials are
// one attempt, not two. Re-INVITEs are not session requests. Dialogs the
// capture joined in the middle (no opening INVITE) are not counted.
//
// One REGISTER "attempt" is likewise a REGISTER with the retries with
// credentials that answer its 401/407 challenges (RFC 6076 §4.1: "This dialog includes an
// expected authentication challenge prior to receiving the 200 OK"), and
// the same request forwarded by a proxy (same CSeq) is the same attempt.

// Measures are the RFC 6076 times and outcomes of one dialog. Durations
// are -1 when they do not apply.
type Measures struct {
	Start time.Time
	// Continuation says the dialog is a later part of one measured before
	// (Dialog.Part > 0, handed on by a streaming correlator): only its own
	// REGISTER attempts count, its session was measured with its first
	// part.
	Continuation bool
	// Session says the dialog is a session request: an opening INVITE
	// was captured.
	Session bool
	// Final is the final status of the session request (Dialog.FinalStatus),
	// 0 when none.
	Final int
	// Answered: a 2xx to the opening INVITE. Rang: a 180-189 came before
	// the final response. Cancelled: the caller sent CANCEL (or got 487).
	// NoResponse: the INVITE got no response at all (RFC 3261 §8.1.3.1:
	// a UAC treats its timer B firing as a 408).
	Answered, Rang, Cancelled, NoResponse bool
	// SRDSuccess (RFC 6076 §4.3.1) on answered calls, SRDFailure (§4.3.2)
	// on calls that failed with 4xx-6xx (not cancelled by the caller).
	SRDSuccess, SRDFailure time.Duration
	// PDD is the post-dial delay: INVITE to the first 18x, or, when none
	// came, to the final response (as diagnose's slow-setup rule).
	PDD time.Duration
	// SDD (RFC 6076 §4.4): BYE to its final response; SDDTimeout when the
	// BYE got none.
	SDD        time.Duration
	SDDTimeout bool
	// SDT (RFC 6076 §4.5.1): 2xx to the INVITE to the BYE.
	SDT time.Duration
	// Completed (RFC 6076 §4.9): answered, and ended by a BYE that got a
	// 2xx.
	Completed bool
	// Registrations are the REGISTER attempts of the dialog.
	Registrations []RegisterAttempt
}

// RegisterAttempt is one REGISTER with its challenge retries.
type RegisterAttempt struct {
	Start time.Time
	// Final is the final status of its last REGISTER, 0 when none.
	Final int
	// RRD (RFC 6076 §4.1): first REGISTER to the 2xx; -1 unless it
	// succeeded.
	RRD time.Duration
	// Ineffective (RFC 6076 §4.2): a final 4xx other than the 401, 402 and
	// 407 challenges, a 5xx or 6xx, or no final response at all (timer F).
	Ineffective bool
}

// txnTimes is what Measure reads of one transaction from its messages.
type txnTimes struct {
	txn       int
	method    string
	cseq      uint32
	opening   bool           // a request without To tag (INVITE) or any REGISTER
	auth      bool           // the request carries credentials (RFC 3261 §22.2)
	reqAt     time.Time      // first copy of the request
	src       netip.AddrPort // who sent the request
	finalAt   time.Time      // first final response to src (or anywhere, see toSrc)
	final     int
	provAt    time.Time // first 101-199 response
	ringAt    time.Time // first 180-189 response
	okAt      time.Time // first 2xx
	toSrc     bool      // the times above are of responses sent to src
	responses bool
}

// Measure computes the RFC 6076 measures of one dialog from its messages
// (in capture order, as the correlator or store hands them). It reads
// only capture times, start lines, CSeq and To tags, so messages a store
// rebuilt work as well as the correlator's.
func Measure(d *Dialog, msgs []*Message) Measures {
	m := Measures{Start: d.Start, Final: d.FinalStatus, SRDSuccess: -1, SRDFailure: -1, PDD: -1, SDD: -1, SDT: -1,
		Continuation: d.Part > 0}
	txs := transactionTimes(msgs)
	switch d.Kind {
	case KindCall:
		if !m.Continuation {
			measureCall(&m, d, txs)
		}
	case KindRegistration:
		m.Registrations = registerAttempts(txs)
	}
	return m
}

// transactionTimes groups msgs by transaction, in order of first request.
func transactionTimes(msgs []*Message) []*txnTimes {
	byTxn := map[int]*txnTimes{}
	var order []*txnTimes
	get := func(m *Message) *txnTimes {
		t := byTxn[m.Txn]
		if t == nil {
			method := m.CSeqMethod
			if m.Request && m.Method != "" {
				method = m.Method
			}
			t = &txnTimes{txn: m.Txn, method: strings.ToUpper(method), cseq: m.CSeq}
			byTxn[m.Txn] = t
			order = append(order, t)
		}
		return t
	}
	// Requests first: the responses' times depend on who sent the request.
	for _, m := range msgs {
		if m.Message == nil || m.Duplicate || m.Txn < 0 || !m.Request {
			continue
		}
		t := get(m)
		method := strings.ToUpper(m.Method)
		if method == "ACK" && t.method == "INVITE" || method == "CANCEL" {
			continue // an ACK joining its INVITE transaction
		}
		if t.reqAt.IsZero() || m.Time.Before(t.reqAt) {
			t.reqAt, t.src = m.Time, m.Src
			t.opening = method == "REGISTER" || (method == "INVITE" && m.To.Tag == "")
			t.auth = credentials(m.Message)
		}
	}
	for pass := 0; pass < 2; pass++ {
		// Pass 0 takes responses sent to the requester; pass 1, for the
		// transactions that had none, any response.
		for _, m := range msgs {
			if m.Message == nil || m.Duplicate || m.Txn < 0 || m.Request || m.Status < 100 {
				continue
			}
			t := get(m)
			if pass == 1 && t.toSrc {
				continue
			}
			if pass == 0 {
				if !t.src.IsValid() || m.Dst != t.src {
					continue
				}
				t.toSrc = true
			}
			t.responses = true
			at := m.Time
			first := func(p *time.Time) {
				if p.IsZero() || at.Before(*p) {
					*p = at
				}
			}
			switch st := m.Status; {
			case st >= 200:
				if t.finalAt.IsZero() || at.Before(t.finalAt) {
					t.finalAt, t.final = at, st
				}
				if st < 300 {
					first(&t.okAt)
				}
			case st > 100:
				first(&t.provAt)
				if st >= 180 && st < 190 {
					first(&t.ringAt)
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return before(order[i].start(), order[j].start()) })
	return order
}

// credentials reports whether a request carries an Authorization or
// Proxy-Authorization header (RFC 3261 §22.2, §22.3), from its parsed
// headers or, for a copy without them (decode.Message.CloneWire), from
// its raw header lines.
func credentials(m *decode.Message) bool {
	if len(m.Headers) > 0 {
		return header(m, "Authorization") != "" || header(m, "Proxy-Authorization") != ""
	}
	raw := m.Raw
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of the headers (RFC 3261 §7)
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		if bytes.EqualFold(name, []byte("Authorization")) || bytes.EqualFold(name, []byte("Proxy-Authorization")) {
			return true
		}
	}
	return false
}

func (t *txnTimes) start() time.Time {
	if !t.reqAt.IsZero() {
		return t.reqAt
	}
	for _, p := range []time.Time{t.provAt, t.finalAt} {
		if !p.IsZero() {
			return p
		}
	}
	return time.Time{}
}

func before(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return !a.IsZero() && b.IsZero()
	}
	return a.Before(b)
}

// earliest returns the earliest non-zero time of ts (zero when none).
func earliest(ts ...time.Time) time.Time {
	var e time.Time
	for _, t := range ts {
		if !t.IsZero() && (e.IsZero() || t.Before(e)) {
			e = t
		}
	}
	return e
}

func measureCall(m *Measures, d *Dialog, txs []*txnTimes) {
	var invites []*txnTimes
	for _, t := range txs {
		if t.method == "INVITE" && t.opening && !t.reqAt.IsZero() {
			invites = append(invites, t)
		}
	}
	if len(invites) == 0 {
		return // the capture joined the call later, or saw only responses
	}
	m.Session = true
	caller := invites[0].src
	inviteAt := invites[0].reqAt
	// Responses to the caller's INVITEs; the next hop's INVITE (same
	// request forwarded by a proxy) counts only when the caller's side
	// got none.
	var ours []*txnTimes
	for _, t := range invites {
		if t.src == caller && t.toSrc {
			ours = append(ours, t)
		}
	}
	if len(ours) == 0 {
		ours = invites
	}
	var prov, ring, ok time.Time
	responses := false
	var last *txnTimes // the latest attempt with a final response
	for _, t := range ours {
		prov, ring, ok = earliest(prov, t.provAt), earliest(ring, t.ringAt), earliest(ok, t.okAt)
		responses = responses || t.responses
		if t.final != 0 && (last == nil || !t.reqAt.Before(last.reqAt)) {
			last = t
		}
	}
	for _, t := range invites {
		responses = responses || t.responses
	}
	m.Answered = !ok.IsZero() || (d.FinalStatus >= 200 && d.FinalStatus < 300)
	m.Cancelled = d.State == StateCancelled || d.FinalStatus == 487
	m.NoResponse = !responses
	var failAt time.Time
	if !m.Answered && last != nil && last.final >= 300 {
		failAt = last.finalAt
	}
	m.Rang = !ring.IsZero() && (m.Answered || failAt.IsZero() || ring.Before(failAt))

	// RFC 6076 §4.3.1, successful session setup: SRD runs from the
	// initial INVITE to the first non-100 provisional response, or to the
	// 200 when no provisional came first.
	if m.Answered {
		if e := earliest(prov, ok); !e.IsZero() {
			m.SRDSuccess = e.Sub(inviteAt)
		}
	}
	// RFC 6076 §4.3.2, failed session setup: SRD runs from the initial
	// INVITE to the 4XX, 5XX or 6XX final response indicating the failure.
	// A call the caller cancelled measures the caller's patience, not the
	// network, so it is left out.
	if !failAt.IsZero() && last.final >= 400 && !m.Cancelled {
		m.SRDFailure = failAt.Sub(inviteAt)
	}
	// Post-dial delay: to the first ringing, or to the outcome when the
	// call never rang (again not for a caller who gave up).
	switch {
	case !ring.IsZero() && (m.Answered || failAt.IsZero() || ring.Before(failAt)):
		m.PDD = ring.Sub(inviteAt)
	case m.Answered && !ok.IsZero():
		m.PDD = ok.Sub(inviteAt)
	case !failAt.IsZero() && !m.Cancelled:
		m.PDD = failAt.Sub(inviteAt)
	}
	if !m.Answered {
		return
	}
	// The session's end: the first BYE. RFC 6076 §4.4: SDD runs from the
	// BYE to its 2XX (or the timeout); §4.5.1: SDT from the 200 OK to the
	// INVITE to the BYE.
	for _, t := range txs {
		if t.method != "BYE" || t.reqAt.IsZero() {
			continue
		}
		if !ok.IsZero() && !t.reqAt.Before(ok) {
			m.SDT = t.reqAt.Sub(ok)
		}
		switch {
		case t.final != 0:
			m.SDD = t.finalAt.Sub(t.reqAt)
			m.Completed = t.final >= 200 && t.final < 300
		default:
			m.SDDTimeout = true
		}
		break
	}
}

// registerAttempts splits the REGISTER transactions into attempts.
func registerAttempts(txs []*txnTimes) []RegisterAttempt {
	var out []RegisterAttempt
	var cur *RegisterAttempt
	var curSrc netip.AddrPort
	var lastCSeq uint32
	for _, t := range txs {
		if t.method != "REGISTER" || t.reqAt.IsZero() {
			continue
		}
		// A retry after a challenge (a new REGISTER with credentials, RFC
		// 3261 §22.2), or the same request on the next hop, belongs to the
		// attempt under way; a REGISTER without credentials starts a new
		// one, even after a challenge: the UA gave up and began again.
		same := cur != nil && t.cseq == lastCSeq
		retry := cur != nil && (cur.Final == 401 || cur.Final == 407) && t.auth
		if !same && !retry {
			out = append(out, RegisterAttempt{Start: t.reqAt, RRD: -1})
			cur = &out[len(out)-1]
			curSrc = t.src
		}
		lastCSeq = t.cseq
		if t.src != curSrc {
			continue // the proxy's hop: the originator's responses decide
		}
		if t.final != 0 {
			cur.Final = t.final
			if t.final >= 200 && t.final < 300 && cur.RRD < 0 {
				cur.RRD = t.finalAt.Sub(cur.Start)
			}
		}
	}
	for i := range out {
		a := &out[i]
		switch f := a.Final; {
		case f == 0:
			a.Ineffective = true // RFC 6076 §4.2: timer F expired
		case f == 401 || f == 402 || f == 407:
			// Challenges are not failures (§4.2).
		case f >= 400:
			a.Ineffective = true
		}
	}
	return out
}

// GroupBy names what KPI rows are grouped by.
type GroupBy string

// Groupings.
const (
	ByNone   GroupBy = ""
	ByCaller GroupBy = "caller" // From user (the URI when it has no user)
	ByCallee GroupBy = "callee" // To user
	BySrc    GroupBy = "src"    // source IP of the dialog's first message
	ByDst    GroupBy = "dst"    // destination IP of the dialog's first message
	ByUA     GroupBy = "ua"     // User-Agent of the caller
	ByHour   GroupBy = "hour"   // start of the dialog, UTC hour
	ByMinute GroupBy = "minute" // start of the dialog, UTC minute
)

// GroupBys lists the groupings --by accepts.
func GroupBys() []GroupBy {
	return []GroupBy{ByCaller, ByCallee, BySrc, ByDst, ByUA, ByHour, ByMinute}
}

// GroupKey returns the group d falls in.
func (g GroupBy) GroupKey(d *Dialog) string {
	switch g {
	case ByCaller:
		return orURI(d.From.User, d.From.URI)
	case ByCallee:
		return orURI(d.To.User, d.To.URI)
	case BySrc:
		return addrOnly(d.Src)
	case ByDst:
		return addrOnly(d.Dst)
	case ByUA:
		return d.UserAgent
	case ByHour:
		return d.Start.UTC().Truncate(time.Hour).Format("2006-01-02T15:04Z")
	case ByMinute:
		return d.Start.UTC().Truncate(time.Minute).Format("2006-01-02T15:04Z")
	}
	return "all"
}

func orURI(user, uri string) string {
	if user != "" {
		return user
	}
	return uri
}

func addrOnly(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.Addr().String()
}

// MaxSamples bounds the values a Samples keeps: up to it every value is
// kept and percentiles are exact; past it a uniform random sample of
// MaxSamples values stands for them (reservoir sampling, Vitter's
// algorithm R), so memory per metric and group is bounded (80 KB).
const MaxSamples = 10000

// Samples collects the values of one delay for percentiles and a mean:
// milliseconds to the microsecond (see ms). The zero value is ready to
// use; it is not safe for concurrent use.
type Samples struct {
	n int64
	// us is the sum in whole microseconds: exact, so the mean is the same
	// whatever order the values come in (a float sum was not: stats on a
	// capture file, which adds dialogs as they are handed on, and on its
	// database, in start order, gave 625.512 and 625.511 ms).
	us   int64
	vals []float64
	rng  *rand.Rand
	sort bool // vals is sorted
}

// Add records one value.
func (s *Samples) Add(v float64) {
	s.n++
	s.us += int64(math.Round(v * 1e3))
	if len(s.vals) < MaxSamples {
		s.vals = append(s.vals, v)
		s.sort = false
		return
	}
	if s.rng == nil {
		// Seeded: the same capture gives the same percentiles.
		s.rng = rand.New(rand.NewPCG(6076, 3261))
	}
	if j := s.rng.Int64N(s.n); j < MaxSamples {
		s.vals[j] = v
		s.sort = false
	}
}

// Count is how many values were added.
func (s *Samples) Count() int64 { return s.n }

// Mean is the mean of every value added (not only those kept); false when
// none.
func (s *Samples) Mean() (float64, bool) {
	if s.n == 0 {
		return 0, false
	}
	return float64(s.us) / 1e3 / float64(s.n), true
}

// Percentile returns the p-th percentile (0 < p <= 100) by the
// nearest-rank method: the smallest kept value that at least p% of the
// kept values do not exceed (the value at rank ceil(p/100 × n)). False
// when there are no values.
func (s *Samples) Percentile(p float64) (float64, bool) {
	if len(s.vals) == 0 {
		return 0, false
	}
	if !s.sort {
		slices.Sort(s.vals)
		s.sort = true
	}
	rank := int(math.Ceil(p / 100 * float64(len(s.vals))))
	rank = min(max(rank, 1), len(s.vals))
	return s.vals[rank-1], true
}

// Values returns the kept values, sorted; the caller must not change them.
func (s *Samples) Values() []float64 {
	s.Percentile(50)
	return s.vals
}

// KPIGroup accumulates the measures of the dialogs of one group. Memory
// is constant per group: counters, the failure codes seen (at most 600)
// and a bounded Samples per delay.
type KPIGroup struct {
	Key        string
	First      time.Time // start of the first dialog
	Last       time.Time // start of the last dialog
	Dialogs    int64
	Calls      int64 // session requests
	Answered   int64
	Busy       int64 // 486, 600
	Cancelled  int64
	Redirected int64 // final 3xx
	NoResponse int64
	Failed     int64 // final 4xx-6xx, not cancelled
	// Effective counts the session requests that got 200, 480, 486, 600 or
	// 603 (RFC 6076 §4.7).
	Effective int64
	// Ineffective counts 408, 500, 503, 504 and no response (RFC 6076
	// §4.8).
	Ineffective int64
	// Network counts the numerator of NER (see KPIRecord.NER).
	Network    int64
	Completed  int64
	SDDTimeout int64
	// Registrations are REGISTER attempts; Registered got a 2xx;
	// IneffectiveReg are RFC 6076 §4.2's ineffective ones.
	Registrations, Registered, IneffectiveReg int64
	// Failures counts final statuses >= 300 of session requests.
	Failures map[int]int64

	PDD, SRDSuccess, SRDFailure, SDD, SDT, RRD Samples
}

// Add takes one dialog's measures.
func (g *KPIGroup) Add(m *Measures) {
	if !m.Continuation {
		g.Dialogs++
	}
	if !m.Start.IsZero() {
		if g.First.IsZero() || m.Start.Before(g.First) {
			g.First = m.Start
		}
		if m.Start.After(g.Last) {
			g.Last = m.Start
		}
	}
	for _, r := range m.Registrations {
		g.Registrations++
		if r.RRD >= 0 {
			g.Registered++
			g.RRD.Add(ms(r.RRD))
		}
		if r.Ineffective {
			g.IneffectiveReg++
		}
	}
	if !m.Session {
		return
	}
	g.Calls++
	f := m.Final
	switch {
	case m.Answered:
		g.Answered++
		g.Network++
		g.Effective++
	case m.NoResponse:
		g.NoResponse++
		g.Ineffective++ // RFC 3261 §8.1.3.1: timer B is a 408
	case m.Cancelled:
		g.Cancelled++
		if m.Rang {
			g.Network++ // rang, nobody answered: the network did its part
		}
	case f >= 300 && f < 400:
		g.Redirected++
	case f >= 400:
		g.Failed++
	}
	if !m.Answered && f >= 300 {
		if g.Failures == nil {
			g.Failures = map[int]int64{}
		}
		g.Failures[f]++
		switch f {
		case 486, 600:
			g.Busy++
		}
		if !m.Cancelled {
			switch f {
			case 480, 486, 600, 603:
				g.Effective++
				g.Network++
			case 408, 500, 503, 504:
				g.Ineffective++
			}
		}
	}
	if m.Completed {
		g.Completed++
	}
	if m.SDDTimeout {
		g.SDDTimeout++
	}
	add := func(s *Samples, d time.Duration) {
		if d >= 0 {
			s.Add(ms(d))
		}
	}
	add(&g.PDD, m.PDD)
	add(&g.SRDSuccess, m.SRDSuccess)
	add(&g.SRDFailure, m.SRDFailure)
	add(&g.SDD, m.SDD)
	add(&g.SDT, m.SDT) // milliseconds too; KPIRecord gives seconds
}

// ms is d in milliseconds with their fraction, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// KPIs groups dialogs and accumulates their measures: one KPIGroup per
// group plus the total, and a timeline of calls and answers for charts.
// It is not safe for concurrent use.
type KPIs struct {
	By       GroupBy
	Total    KPIGroup
	groups   map[string]*KPIGroup
	Timeline Timeline
	// Streaming says the dialogs come straight from a correlator that
	// hands them on as they end (Options.Early), not from a store that
	// merged their parts: see Add. Call Flush after the last.
	Streaming bool
	pending   map[string]*pendingDialog
	order     []string // pending Call-IDs, oldest first (some resolved)
}

type pendingDialog struct {
	d    *Dialog
	msgs []*Message
}

// maxPending bounds the dialogs a streaming KPIs waits on (see Add).
const maxPending = 10000

// NewKPIs returns an empty accumulator grouping by by.
func NewKPIs(by GroupBy) *KPIs {
	k := &KPIs{By: by, groups: map[string]*KPIGroup{}}
	k.Total.Key = "all"
	return k
}

// Add measures d from its messages and adds it to its group and the
// total.
//
// Streaming, a dialog can be handed on before the caller's side has its
// final response: a proxy's far hop answers first and ends the dialog,
// and the response relayed to the caller comes as a continuation (Part >
// 0). Such a dialog (a request with no final while the same request on
// another hop has one) waits, with its messages, for its continuations,
// and is measured whole when they complete it, at Flush, or when more than
// maxPending wait (the oldest then). Other continuations add only their
// own REGISTER attempts.
func (k *KPIs) Add(d *Dialog, msgs []*Message) {
	if k.Streaming {
		if p := k.pending[d.CallID]; p != nil {
			p.d = d
			p.msgs = append(p.msgs, msgs...)
			if !trailing(p.msgs) {
				k.resolve(d.CallID)
			}
			return
		}
		if d.Part == 0 && trailing(msgs) {
			if k.pending == nil {
				k.pending = map[string]*pendingDialog{}
			}
			k.pending[d.CallID] = &pendingDialog{d: d, msgs: msgs}
			k.order = append(k.order, d.CallID)
			for len(k.pending) > maxPending {
				id := k.order[0]
				k.order = k.order[1:]
				k.resolve(id)
			}
			return
		}
	}
	m := Measure(d, msgs)
	k.AddMeasures(d, &m)
}

// AddMeasures adds measures already taken on d.
func (k *KPIs) AddMeasures(d *Dialog, m *Measures) {
	k.Total.Add(m)
	if m.Session {
		k.Timeline.add(m.Start, m.Answered)
	}
	if k.By == ByNone {
		return
	}
	key := k.By.GroupKey(d)
	g := k.groups[key]
	if g == nil {
		g = &KPIGroup{Key: key}
		k.groups[key] = g
	}
	g.Add(m)
}

// resolve measures a pending dialog with every message it got.
func (k *KPIs) resolve(id string) {
	p := k.pending[id]
	if p == nil {
		return
	}
	delete(k.pending, id)
	d := *p.d
	d.Part = 0 // measured whole, as its first part
	m := Measure(&d, p.msgs)
	k.AddMeasures(&d, &m)
	if len(k.pending) == 0 {
		k.order = k.order[:0]
	}
}

// Flush measures the dialogs still waiting for continuations (Streaming).
func (k *KPIs) Flush() {
	for _, id := range k.order {
		k.resolve(id)
	}
	k.order = nil
}

// trailing reports whether a response the caller's side needs may still
// come: an opening INVITE, BYE or REGISTER with no final response while
// the same request on another hop has one. The same request: the same
// method and CSeq, or, since a B2BUA may number its side's requests anew
// (one capture's SBC sent BYE 13 for the caller's BYE 1709929696), any
// other BYE, or any other opening request of that method. A dialog wrongly
// taken for trailing only waits: it is measured whole all the same, at
// its continuation, at Flush or past maxPending.
func trailing(msgs []*Message) bool {
	txs := transactionTimes(msgs)
	for _, t := range txs {
		if t.final != 0 || t.reqAt.IsZero() || !(t.method == "BYE" || t.opening) {
			continue
		}
		for _, u := range txs {
			if u != t && u.final != 0 && u.method == t.method &&
				(u.cseq == t.cseq || t.method == "BYE" || (t.opening && u.opening)) {
				return true
			}
		}
	}
	return false
}

// Groups returns the groups: by time for hour and minute, otherwise most
// calls first (then most dialogs, then by key). Empty without grouping.
func (k *KPIs) Groups() []*KPIGroup {
	out := make([]*KPIGroup, 0, len(k.groups))
	for _, g := range k.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if k.By != ByHour && k.By != ByMinute {
			if a.Calls != b.Calls {
				return a.Calls > b.Calls
			}
			if a.Dialogs != b.Dialogs {
				return a.Dialogs > b.Dialogs
			}
		}
		return a.Key < b.Key
	})
	return out
}

// Timeline counts session requests and answers per time bucket. It starts
// with one-minute buckets and doubles their width whenever there would be
// more than maxBuckets, so its memory is bounded whatever the capture's
// span.
type Timeline struct {
	Width   time.Duration
	buckets map[int64]*TimeBucket
}

// TimeBucket is one bucket of a Timeline.
type TimeBucket struct {
	Start           time.Time
	Calls, Answered int64
}

const maxBuckets = 2048

func (tl *Timeline) add(t time.Time, answered bool) {
	if t.IsZero() {
		return
	}
	if tl.buckets == nil {
		tl.buckets, tl.Width = map[int64]*TimeBucket{}, time.Minute
	}
	key := t.UnixNano() / int64(tl.Width)
	b := tl.buckets[key]
	if b == nil {
		for len(tl.buckets) >= maxBuckets {
			tl.coarsen()
			key = t.UnixNano() / int64(tl.Width)
			if b = tl.buckets[key]; b != nil {
				break
			}
		}
		if b == nil {
			b = &TimeBucket{Start: time.Unix(0, key*int64(tl.Width)).UTC()}
			tl.buckets[key] = b
		}
	}
	b.Calls++
	if answered {
		b.Answered++
	}
}

func (tl *Timeline) coarsen() {
	tl.Width *= 2
	old := tl.buckets
	tl.buckets = make(map[int64]*TimeBucket, len(old)/2+1)
	for _, b := range old {
		key := b.Start.UnixNano() / int64(tl.Width)
		n := tl.buckets[key]
		if n == nil {
			n = &TimeBucket{Start: time.Unix(0, key*int64(tl.Width)).UTC()}
			tl.buckets[key] = n
		}
		n.Calls += b.Calls
		n.Answered += b.Answered
	}
}

// Buckets returns at most n buckets (n >= 2) in time order, the empty
// ones between them included, and their width: the timeline's own when
// its span fits, else a round width (5 minutes, an hour, a day, a
// week...) that is a whole multiple of it, so counts are merged exactly,
// never split. Buckets start at multiples of their width since the Unix
// epoch (UTC).
func (tl *Timeline) Buckets(n int) ([]TimeBucket, time.Duration) {
	if len(tl.buckets) == 0 {
		return nil, tl.Width
	}
	n = max(n, 2)
	keys := make([]int64, 0, len(tl.buckets))
	for k := range tl.buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	first, last := keys[0], keys[len(keys)-1]
	// One bucket is kept for the alignment: a span of n-1 widths can
	// touch n buckets.
	need := (last - first + int64(n) - 1) / int64(n-1)
	f := roundFactor(need, tl.Width)
	width := tl.Width * time.Duration(f)
	base := first / f
	out := make([]TimeBucket, last/f-base+1)
	for i := range out {
		out[i].Start = time.Unix(0, (base+int64(i))*int64(width)).UTC()
	}
	for _, k := range keys {
		b := tl.buckets[k]
		o := &out[k/f-base]
		o.Calls += b.Calls
		o.Answered += b.Answered
	}
	return out, width
}

// roundFactor returns the smallest factor >= need by which unit widens to
// a round width (see Buckets); need itself when none is round.
func roundFactor(need int64, unit time.Duration) int64 {
	if need <= 1 {
		return 1
	}
	for _, w := range []time.Duration{2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
		48 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour} {
		if w%unit == 0 && int64(w/unit) >= need {
			return int64(w / unit)
		}
	}
	week := int64(7 * 24 * time.Hour / unit)
	if week > 0 && int64(7*24*time.Hour)%int64(unit) == 0 {
		return (need + week - 1) / week * week // whole weeks
	}
	return need
}

// FailureCount is a final status and how many session requests ended
// with it.
type FailureCount struct {
	Status int   `json:"status"`
	Count  int64 `json:"count"`
}

// TopFailures returns the failure statuses, most frequent first (then by
// status), at most n (all when n <= 0).
func (g *KPIGroup) TopFailures(n int) []FailureCount {
	out := make([]FailureCount, 0, len(g.Failures))
	for st, c := range g.Failures {
		out = append(out, FailureCount{st, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Status < out[j].Status
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// KPIRecord is a KPIGroup as `sipscope stats --format jsonl` writes it:
// the JSON Lines contract (fields may be added, never renamed or dropped).
// Ratios are percentages (0-100) and delays milliseconds, durations
// seconds; a value is null when its denominator is zero or it has no
// sample.
type KPIRecord struct {
	By    string `json:"by"`    // the --by dimension, "all" on the total row
	Group string `json:"group"` // the group's key, "all" on the total row
	Start string `json:"start"` // first dialog's start in the group
	End   string `json:"end"`   // last dialog's start in the group

	Dialogs    int64 `json:"dialogs"`
	Calls      int64 `json:"calls"`
	Answered   int64 `json:"answered"`
	Failed     int64 `json:"failed"`
	Busy       int64 `json:"busy"`
	Cancelled  int64 `json:"cancelled"`
	Redirected int64 `json:"redirected"`
	NoResponse int64 `json:"no_response"`
	Completed  int64 `json:"completed"`

	ASR  *float64 `json:"asr"`
	NER  *float64 `json:"ner"`
	SER  *float64 `json:"ser"`
	SEER *float64 `json:"seer"`
	ISA  *float64 `json:"isa"`
	SCR  *float64 `json:"scr"`
	ACD  *float64 `json:"acd_s"`

	PDDp50 *float64 `json:"pdd_p50_ms"`
	PDDp90 *float64 `json:"pdd_p90_ms"`
	PDDp99 *float64 `json:"pdd_p99_ms"`
	PDDavg *float64 `json:"pdd_avg_ms"`

	SRDSuccessP50 *float64 `json:"srd_success_p50_ms"`
	SRDSuccessP90 *float64 `json:"srd_success_p90_ms"`
	SRDSuccessP99 *float64 `json:"srd_success_p99_ms"`
	SRDSuccessAvg *float64 `json:"srd_success_avg_ms"`
	SRDFailureP50 *float64 `json:"srd_failure_p50_ms"`
	SRDFailureP90 *float64 `json:"srd_failure_p90_ms"`
	SRDFailureP99 *float64 `json:"srd_failure_p99_ms"`
	SRDFailureAvg *float64 `json:"srd_failure_avg_ms"`

	SDDp50     *float64 `json:"sdd_p50_ms"`
	SDDp90     *float64 `json:"sdd_p90_ms"`
	SDDp99     *float64 `json:"sdd_p99_ms"`
	SDDavg     *float64 `json:"sdd_avg_ms"`
	SDDTimeout int64    `json:"sdd_timeouts"`

	SDTp50 *float64 `json:"sdt_p50_s"`
	SDTp90 *float64 `json:"sdt_p90_s"`
	SDTp99 *float64 `json:"sdt_p99_s"`

	Registrations  int64    `json:"registrations"`
	Registered     int64    `json:"registered"`
	IRA            *float64 `json:"ira"`
	IneffectiveReg int64    `json:"ineffective_registrations"`
	RRDp50         *float64 `json:"rrd_p50_ms"`
	RRDp90         *float64 `json:"rrd_p90_ms"`
	RRDp99         *float64 `json:"rrd_p99_ms"`
	RRDavg         *float64 `json:"rrd_avg_ms"`

	Failures []FailureCount `json:"failure_codes"`
}

// Record returns the group's record; by names the dimension.
func (g *KPIGroup) Record(by GroupBy) KPIRecord {
	r := KPIRecord{By: string(by), Group: g.Key, Start: FormatTime(g.First), End: FormatTime(g.Last),
		Dialogs: g.Dialogs, Calls: g.Calls, Answered: g.Answered, Failed: g.Failed, Busy: g.Busy,
		Cancelled: g.Cancelled, Redirected: g.Redirected, NoResponse: g.NoResponse, Completed: g.Completed,
		SDDTimeout: g.SDDTimeout, Registrations: g.Registrations, Registered: g.Registered,
		IneffectiveReg: g.IneffectiveReg, Failures: g.TopFailures(0)}
	if by == ByNone {
		r.By = "all"
	}
	r.ASR = g.ASR()
	r.NER = g.NER()
	r.SER = g.SER()
	r.SEER = g.SEER()
	r.ISA = g.ISA()
	r.SCR = g.SCR()
	r.IRA = g.IRA()
	r.ACD = roundS(mean(&g.SDT))
	r.PDDp50, r.PDDp90, r.PDDp99, r.PDDavg = pct(&g.PDD, 50), pct(&g.PDD, 90), pct(&g.PDD, 99), mean(&g.PDD)
	r.SRDSuccessP50, r.SRDSuccessP90, r.SRDSuccessP99, r.SRDSuccessAvg = pct(&g.SRDSuccess, 50), pct(&g.SRDSuccess, 90), pct(&g.SRDSuccess, 99), mean(&g.SRDSuccess)
	r.SRDFailureP50, r.SRDFailureP90, r.SRDFailureP99, r.SRDFailureAvg = pct(&g.SRDFailure, 50), pct(&g.SRDFailure, 90), pct(&g.SRDFailure, 99), mean(&g.SRDFailure)
	r.SDDp50, r.SDDp90, r.SDDp99, r.SDDavg = pct(&g.SDD, 50), pct(&g.SDD, 90), pct(&g.SDD, 99), mean(&g.SDD)
	r.SDTp50, r.SDTp90, r.SDTp99 = roundS(pct(&g.SDT, 50)), roundS(pct(&g.SDT, 90)), roundS(pct(&g.SDT, 99))
	r.RRDp50, r.RRDp90, r.RRDp99, r.RRDavg = pct(&g.RRD, 50), pct(&g.RRD, 90), pct(&g.RRD, 99), mean(&g.RRD)
	return r
}

// pct is the p-th percentile of s rounded to three decimals
// (microseconds of a millisecond value), nil without samples.
func pct(s *Samples, p float64) *float64 {
	v, ok := s.Percentile(p)
	if !ok {
		return nil
	}
	v = round3(v)
	return &v
}

// mean is pct for the mean.
func mean(s *Samples) *float64 {
	v, ok := s.Mean()
	if !ok {
		return nil
	}
	v = round3(v)
	return &v
}

// roundS re-rounds a value in seconds that pct or mean rounded for
// milliseconds: the seconds' values are kept in milliseconds (see
// KPIGroup.Add) and divided here, so they keep microseconds.
func roundS(v *float64) *float64 {
	if v == nil {
		return nil
	}
	s := math.Round(*v*1000) / 1e6
	return &s
}

// round3 rounds to three decimals: microseconds for milliseconds, and no
// float noise (0.30000000000000004) in the output.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func ratio(num, den int64) *float64 {
	if den <= 0 {
		return nil
	}
	v := round3(100 * float64(num) / float64(den))
	return &v
}

// ASR, the answer-seizure ratio (ITU-T E.411 §2.9, E.425): answered
// session requests over all of them, in percent.
func (g *KPIGroup) ASR() *float64 { return ratio(g.Answered, g.Calls) }

// NER, the network effectiveness ratio (GSMA IR.42 §4.1): session requests
// that the network carried to a user outcome, over all of them: answered,
// user busy (486, 600), no answer (480, or cancelled after ringing) and
// user rejected (603). It leaves out the user's own decisions, unlike ASR.
func (g *KPIGroup) NER() *float64 { return ratio(g.Network, g.Calls) }

// SER, the session establishment ratio (RFC 6076 §4.6): session requests
// answered with a 200, over all session requests less those redirected
// with a 3XX:
//
//	SER = # of INVITE Requests w/ associated 200 /
//	      (Total # of INVITE Requests - # of INVITE Requests w/ 3XX Response) x 100
func (g *KPIGroup) SER() *float64 { return ratio(g.Answered, g.Calls-g.Redirected) }

// SEER, the session establishment effectiveness ratio (RFC 6076 §4.7):
// like SER but with the responses that show the request reached the user
// counted as effective too: 200, 480, 486, 600 and 603.
//
//	SEER = # of INVITE Requests w/ associated 200, 480, 486, 600, or 603 /
//	       (Total # of INVITE Requests - # of INVITE Requests w/ 3XX Response) x 100
func (g *KPIGroup) SEER() *float64 { return ratio(g.Effective, g.Calls-g.Redirected) }

// ISA, ineffective session attempts (RFC 6076 §4.8): session requests that
// a proxy or agent released with a failed or overloaded condition, 408,
// 500, 503 or 504, over all session requests; an INVITE with no response
// at all counts as the 408 its UAC makes of timer B (RFC 3261 §8.1.3.1).
//
//	ISA % = # of ISA / Total # of Session Requests x 100
func (g *KPIGroup) ISA() *float64 { return ratio(g.Ineffective, g.Calls) }

// SCR, the session completion ratio (RFC 6076 §4.9): session requests
// that were set up and torn down without failing for lack of a response
// (INVITE answered 200, BYE answered 2xx), over all session requests.
//
//	SCR % = # of Successfully Completed Sessions / Total # of Session Requests x 100
func (g *KPIGroup) SCR() *float64 { return ratio(g.Completed, g.Calls) }

// IRA, ineffective registration attempts (RFC 6076 §4.2): REGISTER
// attempts that ended in a 4XX (except the 401, 402 and 407 challenges),
// 5XX or 6XX, or in timer F (no final response), over all REGISTER
// attempts.
//
//	IRA % = # of IRA / Total # of REGISTER Requests x 100
func (g *KPIGroup) IRA() *float64 { return ratio(g.IneffectiveReg, g.Registrations) }

// FormatStatus writes a failure status for people: "486", or "no
// response" for 0.
func FormatStatus(st int) string {
	if st == 0 {
		return "no response"
	}
	return strconv.Itoa(st)
}
