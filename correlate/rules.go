package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// rules run in this order; Diagnose sorts their findings worst first.
var rules = []rule{
	{"no-response", ruleNoResponse},
	{"unreachable", ruleUnreachable},
	{"timeout", ruleTimeout},
	{"busy", ruleBusy},
	{"rejected", ruleRejected},
	{"cancelled", ruleCancelled},
	{"redirected", ruleRedirected},
	{"auth-failed", ruleAuthFailed},
	{"no-ack", ruleNoACK},
	{"retransmissions", ruleRetransmissions},
	{"unanswered-bye", ruleUnansweredBye},
	{"not-ended", ruleNotEnded},
	// call-does-not-exist: a 481 Call/Transaction Does Not Exist: the peer
	// has no dialog for an in-dialog request (RFC 3261 §12.2.2, §21.4.19).
	{"call-does-not-exist", ruleStatus(481, SevWarning, "RFC 3261 §12.2.2", "the peer has no dialog or transaction for it")},
	// glare: a 491 Request Pending to a re-INVITE or UPDATE that crossed
	// the peer's own; the UAC retries after a random 2.1-4 s (RFC 3261
	// §14.1, §21.4.27).
	{"glare", ruleStatus(491, SevWarning, "RFC 3261 §14.1", "both sides sent a re-INVITE at once (glare); the UAC must retry after a random wait")},
	{"server-error", ruleServerError},
	{"loop", ruleLoop},
	{"codec-mismatch", ruleCodecMismatch},
	{"private-address", rulePrivateAddress},
	{"oversized-udp", ruleOversizedUDP},
	{"slow-setup", ruleSlowSetup},
	{"malformed", ruleMalformed},
	{"missing-prack", ruleMissingPRACK},
	{"session-timer", ruleSessionTimer},
}

// ruleNoResponse: a request (not ACK, not BYE: see unanswered-bye) that got
// no response at all, with its retransmission schedule (RFC 3261 §17.1.1.2
// timer A doubles from T1 on UDP, §17.1.2.2 timer E for non-INVITE).
func ruleNoResponse(x *diag) []Finding {
	var out []Finding
	for _, t := range x.txns {
		if len(t.requests) == 0 || len(t.responses) > 0 || t.method == "ACK" || t.method == "BYE" || t.method == "" {
			continue
		}
		r := t.requests[0]
		last := t.requests[len(t.requests)-1]
		sev := SevError
		s := fmt.Sprintf("%s from %s to %s got no response", t.method, r.Src, r.Dst)
		if n := len(t.requests); n > 1 {
			s = fmt.Sprintf("%s sent %d times from %s to %s (at %s) got no response", t.method, n, r.Src, r.Dst, times(t.requests))
		} else if len(r.Events) == 0 && x.end.Sub(last.Time) < x.o.T1 {
			// Sent once and the dialog's capture stops right after: the
			// capture may simply have ended before the answer.
			sev = SevWarning
			s += fmt.Sprintf(" in the %s the capture of the dialog went on after it", secs(x.end.Sub(last.Time)))
		}
		if r.To.Tag != "" {
			sev = SevWarning // in-dialog request: the call itself stands
		}
		out = append(out, Finding{Severity: sev, Summary: s + ".", Evidence: idxs(t.requests), RFC: "RFC 3261 §17.1.1.2"})
	}
	return out
}

// ruleUnreachable: ICMP errors that quoted a request of the dialog: the
// destination cannot be reached on that transport (RFC 3261 §18.4: an ICMP
// error is a transport failure; RFC 1122 §3.2.2.1 port unreachable).
func ruleUnreachable(x *diag) []Finding {
	var ev []*Message
	details := map[string]int{}
	var order []string
	var from netip.Addr
	var dst netip.AddrPort
	for _, m := range x.msgs {
		if m.Message == nil || len(m.Events) == 0 {
			continue
		}
		ev = append(ev, m)
		for _, e := range m.Events {
			if details[e.Detail] == 0 {
				order = append(order, e.Detail)
			}
			details[e.Detail]++
			from = e.From
			dst = m.Dst
		}
	}
	if len(ev) == 0 {
		return nil
	}
	n := 0
	parts := make([]string, len(order))
	for i, d := range order {
		n += details[d]
		parts[i] = fmt.Sprintf("%d × %s", details[d], d)
	}
	return []Finding{{Severity: SevError, RFC: "RFC 3261 §18.4", Evidence: idxs(ev),
		Summary: fmt.Sprintf("%s from %s quoted %s sent to %s (%s): the destination is unreachable.",
			plural(n, "ICMP error", "ICMP errors"), from, plural(len(ev), "message", "messages"), dst, strings.Join(parts, ", "))}}
}

// ruleTimeout: a 408 Request Timeout, or a transaction that went without
// response for 64*T1, when timer B/F fires (RFC 3261 §17.1.1.2, §17.1.2.2,
// §21.4.9). An error, but a warning for an in-dialog request (its To has a
// tag, RFC 3261 §12.2.1.1): the call itself stands, as with no-response.
func ruleTimeout(x *diag) []Finding {
	var out []Finding
	sev := func(t *txn) Severity {
		if len(t.requests) > 0 && t.requests[0].To.Tag != "" {
			return SevWarning
		}
		return SevError
	}
	for _, t := range x.txns {
		for _, r := range t.responses {
			if r.Status < 200 {
				continue
			}
			if r.Status == 408 {
				out = append(out, Finding{Severity: sev(t), RFC: "RFC 3261 §21.4.9", Evidence: []int64{idx(r)},
					Summary: fmt.Sprintf("%s answered %s %d with 408 %s: no answer in time.", r.Src, r.CSeqMethod, r.CSeq, r.Reason)})
			}
			break // the first final response of each transaction, as finals
		}
	}
	for _, t := range x.txns {
		if len(t.requests) == 0 || len(t.responses) > 0 || t.method == "ACK" || t.method == "" {
			continue
		}
		first := t.requests[0].Time
		if span := x.end.Sub(first); span >= 64*x.o.T1-x.o.T1 {
			out = append(out, Finding{Severity: sev(t), RFC: "RFC 3261 §17.1.1.2", Evidence: idxs(t.requests),
				Summary: fmt.Sprintf("%s went %s without a response, past 64*T1 = %s: its transaction timed out.",
					t.method, secs(span), secs(64*x.o.T1))})
		}
	}
	return out
}

// ruleBusy: the callee answered 486 Busy Here or 600 Busy Everywhere (RFC
// 3261 §21.4.24, §21.6.1).
func ruleBusy(x *diag) []Finding {
	var out []Finding
	for _, t := range x.invites() {
		if f := t.final(); f != nil && (f.Status == 486 || f.Status == 600) {
			out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3261 §21.4.24", Evidence: idxs(t.requests[:1], []*Message{f}),
				Summary: fmt.Sprintf("%s answered the INVITE with %d %s after %s%s.", f.Src, f.Status, f.Reason,
					secs(f.Time.Sub(t.requests[0].Time)), extras(f))})
		}
	}
	return out
}

// specific are final statuses other rules explain; rejected leaves them.
func specific(s int) bool {
	switch s {
	case 401, 407, 408, 481, 482, 483, 486, 487, 488, 491, 600, 606:
		return true
	}
	return s >= 500 && s < 600
}

// ruleRejected: the request that opened the dialog got a final 4xx or 6xx
// that no more specific rule explains, with the reason phrase, Warning
// (RFC 3261 §20.43), Reason (RFC 3326) and the Q.850 cause in words.
func ruleRejected(x *diag) []Finding {
	var out []Finding
	for _, t := range x.opening() {
		f := t.final()
		if f == nil || f.Status < 400 || specific(f.Status) {
			continue
		}
		if f.Status == 403 && hasCredentials(t.requests) {
			continue // auth-failed
		}
		out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §8.1.3.3", Evidence: idxs(t.requests[:1], []*Message{f}),
			Summary: fmt.Sprintf("%s rejected the %s with %d %s after %s%s.", f.Src, t.method, f.Status, f.Reason,
				secs(f.Time.Sub(t.requests[0].Time)), extras(f))})
	}
	return out
}

// extras describes a response's Warning and Reason headers.
func extras(m *Message) string {
	var b strings.Builder
	if m.Warning != "" {
		fmt.Fprintf(&b, "; Warning: %s", m.Warning)
	}
	if m.ReasonHeader != "" {
		fmt.Fprintf(&b, "; Reason: %s", m.ReasonHeader)
		if c := q850(m.ReasonHeader); c > 0 {
			if w := q850Words[c]; w != "" {
				fmt.Fprintf(&b, " (Q.850 cause %d: %s)", c, w)
			}
		}
	}
	return b.String()
}

// q850 reads the cause of a Reason: Q.850;cause=N header (RFC 3326 §2), 0
// when there is none.
func q850(h string) int {
	for _, v := range strings.Split(h, ",") {
		proto, params, _ := strings.Cut(strings.TrimSpace(v), ";")
		if !strings.EqualFold(strings.TrimSpace(proto), "Q.850") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "cause") {
				n, _ := strconv.Atoi(strings.TrimSpace(val))
				return n
			}
		}
	}
	return 0
}

// q850Words names the common ITU-T Q.850 cause values (Table 1/Q.850).
var q850Words = map[int]string{
	1: "unallocated number", 2: "no route to specified transit network", 3: "no route to destination",
	16: "normal call clearing", 17: "user busy", 18: "no user responding", 19: "no answer from user",
	20: "subscriber absent", 21: "call rejected", 22: "number changed", 27: "destination out of order",
	28: "invalid number format", 29: "facility rejected", 31: "normal, unspecified",
	34: "no circuit/channel available", 38: "network out of order", 41: "temporary failure",
	42: "switching equipment congestion", 44: "requested circuit/channel not available",
	47: "resource unavailable, unspecified", 50: "requested facility not subscribed",
	55: "incoming calls barred within CUG", 57: "bearer capability not authorized",
	58: "bearer capability not presently available", 63: "service or option not available",
	65: "bearer capability not implemented", 79: "service or option not implemented",
	88: "incompatible destination", 102: "recovery on timer expiry", 111: "protocol error, unspecified",
	127: "interworking, unspecified",
}

// ruleCancelled: the caller sent CANCEL, or the INVITE ended 487 Request
// Terminated (RFC 3261 §9.1, §21.4.25). Info: hanging up is no fault.
func ruleCancelled(x *diag) []Finding {
	var ev []*Message
	var inv *txn
	for _, t := range x.txns {
		if t.method == "CANCEL" && len(t.requests) > 0 {
			ev = append(ev, t.requests[0])
		}
	}
	for _, t := range x.invites() {
		if f := t.final(); f != nil && f.Status == 487 {
			ev = append(ev, f)
			inv = t
		}
	}
	if len(ev) == 0 {
		return nil
	}
	s := "The caller sent CANCEL"
	if inv := x.invites(); len(inv) > 0 {
		s = fmt.Sprintf("The caller sent CANCEL %s after the INVITE", secs(ev[0].Time.Sub(inv[0].requests[0].Time)))
	}
	if inv != nil {
		s = fmt.Sprintf("The caller cancelled the INVITE %s after it was sent; it ended 487", secs(ev[0].Time.Sub(inv.requests[0].Time)))
		for _, r := range inv.responses {
			if r.Status >= 180 && r.Status < 200 {
				// Named by its status: a 183 is progress (often early
				// media), not ringing (RFC 3261 §21.1.5).
				what := "ringing"
				if r.Status != 180 {
					what = fmt.Sprintf("%d %s", r.Status, r.Reason)
				}
				s += fmt.Sprintf(" (%s since %s)", what, secs(r.Time.Sub(inv.requests[0].Time)))
				break
			}
		}
	}
	return []Finding{{Severity: SevInfo, RFC: "RFC 3261 §9.1", Evidence: idxs(ev), Summary: s + "."}}
}

// ruleRedirected: a 3xx final response, with the Contact targets it offers
// (RFC 3261 §8.1.3.4, §21.3).
func ruleRedirected(x *diag) []Finding {
	var out []Finding
	for _, r := range x.finals(func(s int) bool { return s >= 300 && s < 400 }) {
		var targets []string
		for v := range r.HeaderValues("Contact") {
			targets = append(targets, strings.TrimSpace(v))
		}
		t := "no Contact"
		if len(targets) > 0 {
			t = "Contact " + strings.Join(targets, ", ")
		}
		out = append(out, Finding{Severity: SevInfo, RFC: "RFC 3261 §8.1.3.4", Evidence: []int64{idx(r)},
			Summary: fmt.Sprintf("%s redirected the %s with %d %s to %s.", r.Src, r.CSeqMethod, r.Status, r.Reason, t)})
	}
	return out
}

func hasCredentials(reqs []*Message) bool {
	for _, r := range reqs {
		if r.Header("Authorization") != "" || r.Header("Proxy-Authorization") != "" {
			return true
		}
	}
	return false
}

// ruleAuthFailed: a request sent with credentials that was challenged again
// (401/407) or refused with 403, or a challenge nobody answered (RFC 3261
// §22.2, §22.3).
func ruleAuthFailed(x *diag) []Finding {
	var out []Finding
	type saidKey struct {
		method string
		cseq   uint32
		status int
	}
	said := map[saidKey]bool{} // one finding per request and answer, however many hops saw it
	for i, t := range x.txns {
		f := t.final()
		if f == nil || len(t.requests) == 0 {
			continue
		}
		if k := (saidKey{t.method, t.cseq, f.Status}); said[k] {
			continue
		} else {
			said[k] = true
		}
		switch {
		case (f.Status == 401 || f.Status == 407) && hasCredentials(t.requests) && x.succeededLater(i, t.method):
			// A new nonce (stale=true, RFC 7616 §3.3) that the client
			// answered: the usual re-challenge, not a failure.
		case (f.Status == 401 || f.Status == 407 || f.Status == 403) && hasCredentials(t.requests):
			out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §22.2", Evidence: idxs(t.requests[:1], []*Message{f}),
				Summary: fmt.Sprintf("%s %d sent with credentials was answered %d %s by %s: the credentials were refused.",
					t.method, t.cseq, f.Status, f.Reason, f.Src)})
		case f.Status == 401 || f.Status == 407:
			retried := false
			for _, u := range x.txns[i+1:] {
				if u.method == t.method && len(u.requests) > 0 && u.cseq > t.cseq {
					retried = true
					break
				}
			}
			if !retried {
				out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §22.2", Evidence: idxs(t.requests[:1], []*Message{f}),
					Summary: fmt.Sprintf("%s %d was challenged with %d %s and never sent again with credentials.",
						t.method, t.cseq, f.Status, f.Reason)})
			}
		}
	}
	return out
}

// succeededLater reports whether a later transaction of method got a 2xx.
func (x *diag) succeededLater(i int, method string) bool {
	for _, u := range x.txns[i+1:] {
		if f := u.final(); u.method == method && f != nil && f.Status < 300 {
			return true
		}
	}
	return false
}

// answered reports whether an INVITE got a 2xx.
func (x *diag) answered() bool {
	for _, t := range x.invites() {
		for _, r := range t.responses {
			if r.Status >= 200 && r.Status < 300 {
				return true
			}
		}
	}
	return false
}

// ruleNoACK: a 2xx to INVITE retransmitted without an ACK (the UAS retransmits
// it until ACK, RFC 3261 §13.3.1.4), no ACK at all, or an ACK later than
// LateACK.
func ruleNoACK(x *diag) []Finding {
	var out []Finding
	for _, t := range x.invites() {
		var oks []*Message
		for _, r := range t.responses {
			if r.Status >= 200 && r.Status < 300 {
				oks = append(oks, r)
			}
		}
		if len(oks) == 0 {
			continue
		}
		var ack *Message
		for _, m := range x.msgs {
			if m.Message != nil && m.Request && m.Method == "ACK" && m.CSeq == t.cseq && !m.Time.Before(oks[0].Time) {
				ack = m
				break
			}
		}
		switch {
		case ack == nil && len(oks) > 1:
			out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §13.3.1.4", Evidence: idxs(oks),
				Summary: fmt.Sprintf("%d %s retransmitted %d times over %s, no ACK.", oks[0].Status, oks[0].Reason,
					len(oks)-1, secs(oks[len(oks)-1].Time.Sub(oks[0].Time)))})
		case ack == nil:
			out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3261 §13.3.1.4", Evidence: idxs(oks),
				Summary: fmt.Sprintf("%d %s to INVITE %d got no ACK before the capture ended %s later.", oks[0].Status,
					oks[0].Reason, t.cseq, secs(x.end.Sub(oks[0].Time)))})
		case ack.Time.Sub(oks[0].Time) > x.o.LateACK:
			out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3261 §13.3.1.4", Evidence: idxs(oks[:1], []*Message{ack}),
				Summary: fmt.Sprintf("ACK came %s after the %d %s (over %s).", secs(ack.Time.Sub(oks[0].Time)),
					oks[0].Status, oks[0].Reason, secs(x.o.LateACK))})
		}
	}
	return out
}

// ruleRetransmissions: retransmitted messages, counted per direction, with
// the first interval, which is T1 (RFC 3261 §17.1.1.2: timer A starts at
// T1 and doubles; 500 ms unless configured).
func ruleRetransmissions(x *diag) []Finding {
	type dir struct {
		key     string
		msgs    []*Message
		methods map[string]int
		first   float64 // first interval seen, seconds; 0 none
	}
	dirs := map[string]*dir{}
	var order []string
	total := 0
	for _, t := range x.txns {
		for _, group := range [][]*Message{t.requests, t.responses} {
			if !slices.ContainsFunc(group, func(m *Message) bool { return m.Retransmission }) {
				// Nothing below counts without a retransmission; most
				// transactions have none, and the keys cost four
				// allocations a message (issue 12).
				continue
			}
			// The same message again: same start line in the same
			// direction within the transaction.
			seen := map[string]*Message{}
			for _, m := range group {
				k := startLine(m) + m.Src.String() + m.Dst.String()
				orig := seen[k]
				seen[k] = m
				if !m.Retransmission || orig == nil {
					continue
				}
				dk := m.Src.String() + " → " + m.Dst.String()
				d := dirs[dk]
				if d == nil {
					d = &dir{key: dk, methods: map[string]int{}}
					dirs[dk] = d
					order = append(order, dk)
				}
				if len(d.msgs) == 0 || d.first == 0 {
					d.first = m.Time.Sub(orig.Time).Seconds()
				}
				d.msgs = append(d.msgs, m)
				d.methods[startLine(m)]++
				total++
			}
		}
	}
	if total < x.o.Retransmissions {
		return nil
	}
	var parts []string
	var ev []*Message
	for _, k := range order {
		d := dirs[k]
		var ms []string
		for name, n := range d.methods {
			ms = append(ms, fmt.Sprintf("%s ×%d", name, n))
		}
		sort.Strings(ms)
		parts = append(parts, fmt.Sprintf("%s %s (%s), first after %.3g s, implying T1 ≈ %d ms", plural(len(d.msgs), "retransmission", "retransmissions"),
			k, strings.Join(ms, ", "), d.first, int(d.first*1000+0.5)))
		ev = append(ev, d.msgs...)
	}
	return []Finding{{Severity: SevWarning, RFC: "RFC 3261 §17.1.1.2", Evidence: idxs(ev),
		Summary: strings.Join(parts, "; ") + fmt.Sprintf(" (RFC 3261 T1 is %d ms).", x.o.T1.Milliseconds())}}
}

// ruleUnansweredBye: a BYE that got no response (RFC 3261 §15.1.1: the UAS
// must answer it; the caller's side never knows the call ended cleanly).
func ruleUnansweredBye(x *diag) []Finding {
	var out []Finding
	for _, t := range x.txns {
		if t.method != "BYE" || len(t.requests) == 0 || len(t.responses) > 0 {
			continue
		}
		r := t.requests[0]
		out = append(out, Finding{Severity: SevWarning, RFC: "RFC 3261 §15.1.1", Evidence: idxs(t.requests),
			Summary: fmt.Sprintf("BYE from %s to %s sent %s got no response.", r.Src, r.Dst, plural(len(t.requests), "time", "times"))})
	}
	return out
}

// ruleNotEnded: an answered call with no BYE when the capture ends (RFC 3261
// §15). Info only: a capture can simply stop before the call does.
func ruleNotEnded(x *diag) []Finding {
	if x.d.Kind != KindCall {
		return nil
	}
	ok := x.answer()
	if ok == nil {
		return nil
	}
	for _, t := range x.txns {
		if t.method == "BYE" && len(t.requests) > 0 {
			return nil
		}
	}
	return []Finding{{Severity: SevInfo, RFC: "RFC 3261 §15", Evidence: []int64{idx(ok)},
		Summary: fmt.Sprintf("The call was answered and had no BYE when the capture ended %s after the answer.", secs(x.end.Sub(ok.Time)))}}
}

// ruleStatus makes a rule reporting each final response with one status.
func ruleStatus(status int, sev Severity, rfc, why string) func(x *diag) []Finding {
	return func(x *diag) []Finding {
		var out []Finding
		for _, r := range x.finals(func(s int) bool { return s == status }) {
			out = append(out, Finding{Severity: sev, RFC: rfc, Evidence: []int64{idx(r)},
				Summary: fmt.Sprintf("%s answered %s %d with %d %s: %s.", r.Src, r.CSeqMethod, r.CSeq, r.Status, r.Reason, why)})
		}
		return out
	}
}

// ruleServerError: a 5xx final response, with Retry-After when given (RFC
// 3261 §21.5, §20.33).
func ruleServerError(x *diag) []Finding {
	var out []Finding
	for _, r := range x.finals(func(s int) bool { return s >= 500 && s < 600 }) {
		s := fmt.Sprintf("%s answered %s %d with %d %s", r.Src, r.CSeqMethod, r.CSeq, r.Status, r.Reason)
		if ra := r.Header("Retry-After"); ra != "" {
			s += fmt.Sprintf(", Retry-After %s s", strings.TrimSpace(ra))
		}
		out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §21.5", Evidence: []int64{idx(r)}, Summary: s + extras(r) + "."})
	}
	return out
}

// ruleLoop: 482 Loop Detected or 483 Too Many Hops, or a request whose
// Max-Forwards reached 0 (RFC 3261 §8.1.1.6, §16.3, §21.4.20-21).
func ruleLoop(x *diag) []Finding {
	var out []Finding
	for _, r := range x.finals(func(s int) bool { return s == 482 || s == 483 }) {
		out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §16.3", Evidence: []int64{idx(r)},
			Summary: fmt.Sprintf("%s answered %s %d with %d %s: the request looped between proxies.", r.Src, r.CSeqMethod, r.CSeq, r.Status, r.Reason)})
	}
	for _, m := range x.msgs {
		if m.Message != nil && m.Request && m.MaxForwards == 0 && m.Method != "OPTIONS" {
			out = append(out, Finding{Severity: SevError, RFC: "RFC 3261 §8.1.1.6", Evidence: []int64{idx(m)},
				Summary: fmt.Sprintf("%s from %s to %s arrived with Max-Forwards 0: no hop may forward it.", m.Method, m.Src, m.Dst)})
			break
		}
	}
	return out
}

// ruleCodecMismatch: 488/606 Not Acceptable, an SDP answer with no payload
// format in common with its offer, or an answer refusing every stream with
// port 0 (RFC 3264 §6, §8; RFC 3261 §21.4.26). An error when it concerns the
// call's setup, a warning for a re-INVITE or UPDATE of an answered call.
func ruleCodecMismatch(x *diag) []Finding {
	var out []Finding
	for _, r := range x.finals(func(s int) bool { return s == 488 || s == 606 }) {
		if r.CSeqMethod != "INVITE" && r.CSeqMethod != "UPDATE" && r.CSeqMethod != "PRACK" {
			continue // 488 to REFER, SUBSCRIBE...: not about media
		}
		sev := SevError
		if r.To.Tag != "" && x.answered() {
			sev = SevWarning // a refused re-INVITE: the call goes on as it was
		}
		out = append(out, Finding{Severity: sev, RFC: "RFC 3261 §21.4.26", Evidence: []int64{idx(r)},
			Summary: fmt.Sprintf("%s answered %s %d with %d %s: the offered session was not acceptable%s.", r.Src, r.CSeqMethod, r.CSeq, r.Status, r.Reason, extras(r))})
	}
	// Offer/answer pairs, hop by hop: an SDP answers the last unanswered
	// SDP that came the other way between the same two addresses in the
	// same exchange (CSeq: INVITE and its 2xx or ACK, UPDATE and its 2xx),
	// RFC 3264 §4. A proxy or SBC that rewrites the offer for the next hop
	// (transcoding) is then not taken for an answer to it.
	type hop struct {
		src, dst netip.AddrPort
		cseq     uint32
	}
	offers := map[hop]*Message{}
	ok := x.answer()
	for _, m := range x.msgs {
		if m.Message == nil || m.SDP == nil || m.Retransmission {
			continue
		}
		back := hop{m.Dst, m.Src, m.CSeq}
		offer := offers[back]
		if offer == nil {
			offers[hop{m.Src, m.Dst, m.CSeq}] = m
			continue
		}
		delete(offers, back)
		answer := m
		if f := mismatch(offer.SDP, answer.SDP); f != "" {
			sev := SevError
			if ok != nil && offer.CSeq != ok.CSeq {
				// A re-INVITE or UPDATE of an answered call: the
				// call stands, only the change failed (RFC 3264 §8).
				sev = SevWarning
			}
			out = append(out, Finding{Severity: sev, RFC: "RFC 3264 §6", Evidence: []int64{idx(offer), idx(answer)},
				Summary: fmt.Sprintf("The SDP answer from %s %s the offer from %s.", answer.Src, f, offer.Src)})
		}
	}
	return out
}

// mismatch says what is wrong with an answer to an offer, "" when nothing.
func mismatch(offer, answer *decode.SDP) string {
	if len(answer.Media) == 0 {
		return ""
	}
	zero := 0
	for i, am := range answer.Media {
		if am.Port == 0 {
			zero++
			continue
		}
		if i >= len(offer.Media) || !strings.Contains(am.Proto, "RTP") {
			continue
		}
		om := offer.Media[i]
		offered := map[string]bool{}
		for _, f := range om.Formats {
			offered[format(&om, f)] = true
		}
		common := false
		for _, f := range am.Formats {
			if offered[format(&am, f)] {
				common = true
				break
			}
		}
		if !common {
			return fmt.Sprintf("has no %s payload format in common with (%s vs %s) of", am.Type,
				strings.Join(am.Formats, " "), strings.Join(om.Formats, " "))
		}
	}
	if zero == len(answer.Media) {
		return fmt.Sprintf("refuses all %s (port 0) of", plural(zero, "media stream", "media streams"))
	}
	return ""
}

// format names a payload format for comparison: static types by number
// (RFC 3551 §6), dynamic ones by encoding/clock from a=rtpmap, since the
// two sides may number them differently (RFC 3264 §6.1).
func format(m *decode.Media, f string) string {
	n, err := strconv.Atoi(f)
	if err != nil || n < 96 {
		return f
	}
	for _, rm := range m.RTPMap {
		if rm.Payload == n {
			return strings.ToLower(rm.Encoding) + "/" + strconv.Itoa(rm.Clock)
		}
	}
	return f
}

// sharedRange is RFC 6598's shared address space (carrier-grade NAT).
var sharedRange = netip.MustParsePrefix("100.64.0.0/10")

func privateAddr(a netip.Addr) bool {
	return a.IsPrivate() || sharedRange.Contains(a.Unmap())
}

// rulePrivateAddress: an SDP c= or a Contact with an RFC 1918/6598 address
// in a message that came from a public address: the peer is behind NAT and
// media will go one way or nowhere (RFC 3261 §18.2.1 received, RFC 6314 §2).
func rulePrivateAddress(x *diag) []Finding {
	type sender struct {
		addr  netip.Addr
		what  []string
		seen  map[string]bool
		proof []*Message
	}
	var order []*sender
	by := map[netip.Addr]*sender{}
	for _, m := range x.msgs {
		if !m.Src.IsValid() || privateAddr(m.Src.Addr()) || m.Src.Addr().IsLoopback() {
			continue
		}
		var where []string
		if m.SDP != nil {
			for _, c := range sdpAddrs(m.SDP) {
				if a, err := netip.ParseAddr(c); err == nil && privateAddr(a) {
					where = append(where, "SDP c="+c)
				}
			}
		}
		var contact string // host[:port]
		if m.Request || m.CSeqMethod != "REGISTER" {
			contact = m.Contact.Host() // not a registrar's, which echoes the client's bindings
		}
		host := contact
		if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
			host = h
		}
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil && privateAddr(a) {
			where = append(where, "Contact "+contact)
		}
		if len(where) == 0 {
			continue
		}
		s := by[m.Src.Addr()]
		if s == nil {
			s = &sender{addr: m.Src.Addr(), seen: map[string]bool{}}
			by[s.addr] = s
			order = append(order, s)
		}
		s.proof = append(s.proof, m)
		for _, w := range where {
			if !s.seen[w] {
				s.seen[w] = true
				s.what = append(s.what, w)
			}
		}
	}
	var out []Finding
	for _, s := range order {
		out = append(out, Finding{Severity: SevWarning, RFC: "RFC 6314 §2", Evidence: idxs(s.proof),
			Summary: fmt.Sprintf("%s from %s named private %s: the sender is behind NAT, expect one-way or no audio.",
				plural(len(s.proof), "message", "messages"), s.addr, strings.Join(s.what, " and "))})
	}
	return out
}

func sdpAddrs(s *decode.SDP) []string {
	var out []string
	if s.Connection != "" {
		out = append(out, s.Connection)
	}
	for _, md := range s.Media {
		if md.Connection != "" && md.Connection != s.Connection {
			out = append(out, md.Connection)
		}
	}
	return out
}

// ruleOversizedUDP: UDP messages larger than MaxUDP or sent in IP fragments
// (RFC 3261 §18.1.1: over 1300 bytes a request must go over a congestion
// controlled transport; fragments get lost and filtered).
func ruleOversizedUDP(x *diag) []Finding {
	var ev []*Message
	biggest := 0
	frags := 0
	for _, m := range x.msgs {
		if m.Message == nil || m.Transport != decode.UDP {
			continue
		}
		if len(m.Raw) > x.o.MaxUDP || len(m.Frames) > 1 {
			ev = append(ev, m)
			biggest = max(biggest, len(m.Raw))
			if len(m.Frames) > 1 {
				frags++
			}
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{{Severity: SevWarning, RFC: "RFC 3261 §18.1.1", Evidence: idxs(ev),
		Summary: fmt.Sprintf("%s over UDP above %d bytes or fragmented (largest %d bytes, %d fragmented): use TCP or shrink them.",
			plural(len(ev), "message", "messages"), x.o.MaxUDP, biggest, frags)}}
}

// ruleSlowSetup: post-dial delay, INVITE to the first 18x (or to the final
// response when there is none), above SlowSetup (RFC 6076 §4.1 session
// request delay).
func ruleSlowSetup(x *diag) []Finding {
	for _, t := range x.invites() {
		if t.requests[0].To.Tag != "" {
			continue
		}
		for _, r := range t.responses {
			if r.Status < 180 {
				continue
			}
			pdd := r.Time.Sub(t.requests[0].Time)
			if pdd > x.o.SlowSetup {
				return []Finding{{Severity: SevWarning, RFC: "RFC 6076 §4.1", Evidence: []int64{idx(t.requests[0]), idx(r)},
					Summary: fmt.Sprintf("Post-dial delay was %s (INVITE to %d %s), over %s.", secs(pdd), r.Status, r.Reason, secs(x.o.SlowSetup))}}
			}
			return nil
		}
	}
	return nil
}

// ruleMalformed: messages on which the parser had to bend a rule (see
// decode.Warning): peers may reject them (RFC 3261 §7).
func ruleMalformed(x *diag) []Finding {
	var ev []*Message
	var all decode.Warning
	for _, m := range x.msgs {
		if m.Message != nil && m.Warnings != 0 {
			ev = append(ev, m)
			all |= m.Warnings
		}
	}
	if len(ev) == 0 {
		return nil
	}
	return []Finding{{Severity: SevWarning, RFC: "RFC 3261 §7", Evidence: idxs(ev),
		Summary: fmt.Sprintf("%s bent the SIP grammar (%s): strict peers may reject them.", plural(len(ev), "message", "messages"), all)}}
}

// hasToken reports whether a comma-separated header value (Require,
// Supported) lists tok, case-insensitively (RFC 3261 §20.32 option tags).
func hasToken(m *Message, name, tok string) bool {
	for v := range m.HeaderValues(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// leadingInt reads the number a header value starts with (RSeq, RAck,
// Session-Expires), -1 when it does not.
func leadingInt(v string) int {
	v = strings.TrimSpace(v)
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 {
		return -1 // not strconv.Atoi's error, which allocates, for the usual empty value
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return -1
	}
	return n
}

// ruleMissingPRACK: a reliable provisional response (Require: 100rel with
// an RSeq) that no PRACK acknowledged: its RAck must name the RSeq (RFC
// 3262 §4, §7.2). The UAS retransmits it and may reject the INVITE.
func ruleMissingPRACK(x *diag) []Finding {
	racked := map[int]bool{}
	for _, m := range x.msgs {
		if m.Request && m.Method == "PRACK" {
			racked[leadingInt(m.Header("RAck"))] = true
		}
	}
	var out []Finding
	byRSeq := map[int][]*Message{}
	var order []int
	for _, m := range x.msgs {
		if m.Request || m.Status <= 100 || m.Status >= 200 || m.CSeqMethod != "INVITE" || !hasToken(m, "Require", "100rel") {
			continue
		}
		r := leadingInt(m.Header("RSeq"))
		if r < 0 || racked[r] {
			continue
		}
		if byRSeq[r] == nil {
			order = append(order, r)
		}
		byRSeq[r] = append(byRSeq[r], m)
	}
	for _, r := range order {
		ms := byRSeq[r]
		out = append(out, Finding{Severity: SevError, RFC: "RFC 3262 §4", Evidence: idxs(ms),
			Summary: fmt.Sprintf("%s (Require: 100rel, RSeq %d) from %s sent %s was never acknowledged by a PRACK.",
				startLine(ms[0]), r, ms[0].Src, plural(len(ms), "time", "times"))})
	}
	return out
}

// ruleSessionTimer: a call whose 2xx set Session-Expires N went longer than
// N seconds without a refresh (a 2xx to a re-INVITE or UPDATE): the session
// timer ran out (RFC 4028 §10: the refresher refreshes by N/2, the other
// side sends BYE before N).
func ruleSessionTimer(x *diag) []Finding {
	ok := x.answer()
	if ok == nil {
		return nil
	}
	n := leadingInt(ok.Header("Session-Expires"))
	if n <= 0 {
		return nil
	}
	expires := time.Duration(n) * time.Second
	last, end := ok, (*Message)(nil)
	for _, m := range x.msgs {
		if !m.Time.After(last.Time) {
			continue
		}
		if m.Request && m.Method == "BYE" {
			end = m
			break
		}
		if !m.Request && m.Status >= 200 && m.Status < 300 && (m.CSeqMethod == "INVITE" || m.CSeqMethod == "UPDATE") && m.CSeq != ok.CSeq {
			if m.Time.Sub(last.Time) > expires {
				end = m
				break
			}
			last = m
		}
	}
	stop := x.end
	if end != nil {
		stop = end.Time
	}
	gap := stop.Sub(last.Time)
	if gap <= expires {
		return nil
	}
	ev := []*Message{ok}
	if last != ok {
		ev = append(ev, last)
	}
	what := "the capture of the dialog ended"
	if end != nil {
		ev = append(ev, end)
		what = startLine(end) + " came"
	}
	return []Finding{{Severity: SevError, RFC: "RFC 4028 §10", Evidence: idxs(ev),
		Summary: fmt.Sprintf("No session refresh for %s after Session-Expires %d s was agreed (%s); %s %s after the last refresh.",
			secs(gap), n, ok.Header("Session-Expires"), what, secs(gap))}}
}

// answer is the 2xx to the last initial INVITE (no To tag) that got one,
// or nil: the answer that started the call (RFC 3261 §13.2.2.4).
func (x *diag) answer() *Message {
	var ok *Message
	for _, t := range x.invites() {
		if t.requests[0].To.Tag != "" {
			continue
		}
		for _, r := range t.responses {
			if r.Status >= 200 && r.Status < 300 {
				ok = r
				break
			}
		}
	}
	return ok
}
