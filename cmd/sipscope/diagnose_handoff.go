package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// handoffRules are the thresholds the importer diagnoses dialogs with at
// hand-off, for the findings and worst fields of `calls`: the defaults of
// `diagnose` (its flags change what diagnose prints, not what is stored).
var handoffRules = correlate.DefaultDiagnoseOptions()

// handoffMedia are the thresholds of the media rules for the stored
// findings: diagnose's defaults too.
var handoffMedia = correlate.DefaultMediaDiagnoseOptions()

// diagnoseDialog runs the rules of `diagnose` on d and its messages and
// records the result on d (Dialog.Diagnosis).
func diagnoseDialog(d *correlate.Dialog, msgs []*correlate.Message) {
	d.Diagnosis = correlate.Summarize(correlate.Diagnose(d, msgs, handoffRules))
}

// rediagnose diagnoses the dialogs of st whose findings are not known
// (continuations merged into a stored dialog, rows from before schema 8)
// from their stored messages and their calls' streams (by Call-ID), and
// returns their Call-IDs. A dialogs-only store has none to do.
func rediagnose(ctx context.Context, st *store.Store, streams map[string][]correlate.Stream) (map[string]bool, error) {
	done := map[string]bool{}
	_, err := st.Rediagnose(ctx, func(d *correlate.Dialog, msgs []*correlate.Message) correlate.Diagnosis {
		done[d.CallID] = true
		return correlate.Summarize(allFindings(d, msgs, streams[d.CallID], handoffRules, handoffMedia))
	})
	return done, err
}

// mediaViews keeps, from each call's hand-off (when its messages are
// whole and its findings are made) to the end of the capture (when its RTP
// streams are final: the tracker hands them over then), what the media
// rules need of its signalling (correlate.MediaView: no messages, a few
// hundred bytes) and the findings in brief it was stored with; finish then
// runs the media rules and says which stored findings change. Only calls
// with SDP are kept; past maxViews the oldest are dropped (a long live
// capture), so their media findings are not known. Not safe for
// concurrent use: one goroutine hands dialogs to it.
//
// Every call of a capture shorter than the correlator's Grace is held at
// once, and 65,536 of a longer one: as Go values (a map of views) they were
// 30 MB of the 115 MB live heap of `import` on 500,000 SIPp calls, and
// three times that of its peak with the collector's headroom (issue 12).
// So each is one record, the findings in brief its row got, those of its
// signalling alone, then the view packed (correlate.MediaView.AppendBinary;
// see keep), in a recordStore (in memory up to
// streamMemory, then in a scratch file): the heap keeps a Call-ID and where
// its record is.
type mediaViews struct {
	index map[string]int // Call-ID -> its place in ents, plus base
	// ents are the calls kept, oldest first, from ents[0], which is
	// place base.
	ents    []viewEnt
	base    int
	recs    recordStore
	dropped int
	err     error  // a record that could not be read back (a bug, or the scratch file failing)
	scratch []byte // where keep makes a record
}

// viewEnt is a kept call: its Call-ID and its record.
type viewEnt struct {
	id  string
	rec recRef
}

// maxViews bounds the calls mediaViews keeps (about 0.2 KB each, record
// included), so that memory stays flat on a long capture, as handoff's
// maxDialogs does: the 65,536 calls handed on last get their media
// findings.
var maxViews = 1 << 16

// viewsSpilled counts the media views written to scratch files (for
// tests).
var viewsSpilled atomic.Int64

func newMediaViews() *mediaViews { return &mediaViews{index: map[string]int{}} }

// add keeps d's view; d.Diagnosis is what the store gets for it. A later
// part of the dialog (Dialog.Part) replaces an earlier one's: handoff
// diagnosed it with the earlier messages when it still had them.
//
// silent says the media tracker saw no RTP of the call by its hand-off
// (correlate.Media.Silent): the media rules then run now, on no streams,
// and d.Diagnosis gets their findings (no-media) too. That is what finish
// finds unless RTP comes after the call ended, and finish then changes
// it; the store gets the call's findings once instead of twice.
func (mv *mediaViews) add(d *correlate.Dialog, msgs []*correlate.Message, silent bool) {
	v := correlate.NewMediaView(d, msgs)
	g := d.Diagnosis
	if silent && v != nil && g.Done {
		d.Diagnosis = withMedia(g, v, nil)
	}
	mv.keep(d.CallID, g, d.Diagnosis, v)
}

// withMedia returns g, the findings in brief of a call's signalling, with
// those the media rules find in its view v on its streams: Diagnose's
// findings then the media ones, worst first (stable), so the worst of the
// two, the signalling's on a tie, as diagnose says. g when they find none.
func withMedia(g correlate.Diagnosis, v *correlate.MediaView, streams []correlate.Stream) correlate.Diagnosis {
	if fs := v.Diagnose(streams, handoffMedia); len(fs) > 0 {
		return g.Combine(correlate.Summarize(fs))
	}
	return g
}

// addView is add with d's view made already (nil when it has no SDP) and
// no media findings yet.
func (mv *mediaViews) addView(d *correlate.Dialog, v *correlate.MediaView) {
	mv.keep(d.CallID, d.Diagnosis, d.Diagnosis, v)
}

// keep keeps the record of call id: stored, the findings its row got,
// then its view's record (appendViewRecord) with g, those of its
// signalling alone.
func (mv *mediaViews) keep(id string, g, stored correlate.Diagnosis, v *correlate.MediaView) {
	i, ok := mv.index[id]
	if v == nil && !ok {
		return // no SDP in any part so far: no view to keep
	}
	var old []byte
	var err error
	if v == nil {
		// An earlier part had SDP: keep its view, with these findings.
		if old, err = mv.recs.get(mv.ents[i-mv.base].rec); err == nil {
			_, old, err = unpackDiagnosis(old) // past its stored findings
		}
		if err != nil {
			mv.err = err
			return
		}
	}
	mv.scratch = appendDiagnosis(mv.scratch[:0], stored)
	if mv.scratch, err = appendViewRecord(mv.scratch, g, v, old); err != nil {
		mv.err = err
		return
	}
	rec := mv.recs.add(mv.scratch)
	if ok {
		mv.ents[i-mv.base].rec = rec
		return
	}
	// A copy: id aliases its dialog's whole memory, which the key would
	// keep for as long as the view.
	id = strings.Clone(id)
	mv.index[id] = mv.base + len(mv.ents)
	mv.ents = append(mv.ents, viewEnt{id: id, rec: rec})
	for len(mv.ents) > maxViews {
		delete(mv.index, mv.ents[0].id)
		mv.ents[0] = viewEnt{}
		mv.ents = mv.ents[1:]
		mv.base++
		mv.dropped++
	}
}

// finish runs the media rules of every kept call with its streams and
// returns the new findings in brief of those whose findings differ from
// what their rows got (add), except the Call-IDs in skip (diagnosed again
// from the store, media included). It reads the records in the order they
// were written, and removes them.
func (mv *mediaViews) finish(streams map[string][]correlate.Stream, skip map[string]bool) (map[string]correlate.Diagnosis, error) {
	defer mv.close()
	if mv.err != nil {
		return nil, fmt.Errorf("media views: %w", mv.err)
	}
	out := map[string]correlate.Diagnosis{}
	var v correlate.MediaView
	for _, e := range mv.ents {
		if skip[e.id] {
			continue
		}
		b, err := mv.recs.get(e.rec)
		if err != nil {
			return nil, fmt.Errorf("media views: %w", err)
		}
		stored, b, err := unpackDiagnosis(b)
		if err != nil {
			return nil, fmt.Errorf("media view of %s: %w", e.id, err) // our own bytes: a bug
		}
		g, view, err := unpackDiagnosis(b)
		if err != nil {
			return nil, fmt.Errorf("media view of %s: %w", e.id, err)
		}
		if !g.Done {
			continue
		}
		if err := v.UnmarshalBinary(view); err != nil {
			return nil, fmt.Errorf("media view of %s: %w", e.id, err)
		}
		if final := withMedia(g, &v, streams[e.id]); final != stored {
			out[e.id] = final
		}
	}
	return out, nil
}

// warning says that the views stayed in memory because their scratch
// file failed, and why; "" when it did not.
func (mv *mediaViews) warning() string { return mv.recs.spill.warning("the media views of the calls") }

// close removes the records' scratch file, if there is one, and counts
// the records it held.
func (mv *mediaViews) close() {
	viewsSpilled.Add(int64(mv.recs.spill.spilled))
	mv.recs.spill.spilled = 0
	mv.recs.close()
}

// appendViewRecord appends the record of a call's media view that
// import's mediaViews and calls' callStream keep until the call's streams
// are final: g, the Diagnosis of the call's latest part, then v packed, or
// when v is nil (the latest part had no SDP) the view of old, the call's
// record so far, if there is one. A nil view packs to one byte. old may be
// memory the next add of a record store reuses: it is copied into b first.
func appendViewRecord(b []byte, g correlate.Diagnosis, v *correlate.MediaView, old []byte) ([]byte, error) {
	b = appendDiagnosis(b, g)
	if v != nil || old == nil {
		b, _ = v.AppendBinary(b)
		return b, nil
	}
	_, view, err := unpackDiagnosis(old)
	if err != nil {
		return b, err // our own bytes: a bug
	}
	return append(b, view...), nil
}

// appendDiagnosis appends g to b: a byte for Done, the number of findings
// (uvarint), then Worst and Severity, each a uvarint length and its bytes.
func appendDiagnosis(b []byte, g correlate.Diagnosis) []byte {
	done := byte(0)
	if g.Done {
		done = 1
	}
	b = append(b, done)
	b = binary.AppendUvarint(b, uint64(g.Findings))
	b = binary.AppendUvarint(b, uint64(len(g.Worst)))
	b = append(b, g.Worst...)
	b = binary.AppendUvarint(b, uint64(len(g.Severity)))
	return append(b, g.Severity...)
}

var errBadDiagnosis = errors.New("bad findings record")

// unpackDiagnosis reads what appendDiagnosis wrote at the start of b (its
// strings are copies) and returns the bytes after it.
func unpackDiagnosis(b []byte) (g correlate.Diagnosis, rest []byte, err error) {
	if len(b) == 0 || b[0] > 1 {
		return g, nil, errBadDiagnosis
	}
	g.Done, b = b[0] == 1, b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return g, nil, errBadDiagnosis
	}
	g.Findings, b = int(n), b[k:]
	var strs [2]string
	for i := range strs {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return g, nil, errBadDiagnosis
		}
		strs[i], b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	g.Worst, g.Severity = strs[0], correlate.Severity(strs[1])
	return g, b, nil
}

// handoff diagnoses dialogs for a store that keeps no messages (`calls` on
// capture files), where a continuation (Dialog.Part > 0: messages after
// the dialog was handed on, such as the last 200 to a BYE on the second hop
// of a proxied call, the ACK of a 486, or a BYE after an idle hand-off)
// cannot be diagnosed from the store. It keeps the messages of the dialogs
// it was given last, within a budget of maxBytes, so that the rules run on
// the whole dialog when a continuation comes, and gives each continuation
// the Diagnosis of the whole dialog so far, which the store takes as it
// takes a continuation's other summary fields. Past the budget the oldest
// dialog's messages are dropped; its Diagnosis is remembered when it had
// findings (up to maxDialogs of them) and combined with a later
// continuation's (correlate.Diagnosis.Combine), an approximation: a rule
// that needs messages of both parts cannot see them. Not safe for
// concurrent use: the writer's goroutine calls it.
//
// The messages it is given are copies as seen on the wire
// (decode.Message.CloneWire: no parsed headers, cheap to make on the
// decoding goroutine); it parses them again here, on the writer's
// goroutine, into scratch messages it reuses, and keeps the wire copies
// (which the caller must then not recycle).
type handoff struct {
	// view, when set, gets each dialog's media view once diagnosed
	// (mediaViews.addView), at its hand-off: in hand-off order, which
	// decides which views maxViews drops, as without releases.
	view func(d *correlate.Dialog, v *correlate.MediaView)

	reparser
	joined []*correlate.Message

	// release, when set, gets the wire copies handoff is done with (the
	// importer's msgPool).
	release func([]*correlate.Message)

	maxBytes, maxDialogs int
	bytes                int
	kept                 map[string]*handedOn
	// pending are the dialogs that released their messages before their
	// hand-off (released), by Call-ID: their Diagnosis so far, and their
	// messages while the budget allows. Bounded by the correlator's open
	// dialogs (correlate.Options.MaxDialogs), not by maxDialogs.
	pending map[string]*handedOn
	porder  []string // Call-IDs in pending with messages, oldest first (stale entries are skipped)
	pbytes  int      // of the messages in pending
	order   []string // Call-IDs in kept, oldest first (a FIFO; stale entries are skipped)
}

// handedOn is what handoff keeps of a dialog it was given.
type handedOn struct {
	wire  []*correlate.Message // nil once dropped
	g     correlate.Diagnosis
	v     *correlate.MediaView // of released messages (pending), for when wire is dropped
	bytes int
}

// releaseDialogs has calls take the messages of dialogs whose BYE went
// unanswered before their hand-off (see handoff.released); a variable for
// tests, which compare with and without. releasedDialogs counts them.
var (
	releaseDialogs  = true
	releasedDialogs atomic.Int64
)

// handoffBudget is the bytes of messages handoff keeps (a variable for
// tests).
var handoffBudget = 8 << 20

func newHandoff(release func([]*correlate.Message)) *handoff {
	return &handoff{maxBytes: handoffBudget, maxDialogs: 65536, kept: map[string]*handedOn{},
		pending: map[string]*handedOn{}, release: release}
}

// reparser parses wire copies of messages (decode.Message.CloneWire) again
// into scratch messages it reuses, for the rules, which read parsed
// headers: keeping the wire copies and parsing them twice costs less
// memory than keeping whole copies (decode.Message.Clone, about 2.5 times
// the bytes) for no more CPU. Not safe for concurrent use.
type reparser struct {
	scratch []*decode.Message
	wrap    []correlate.Message
	ptrs    []*correlate.Message
}

// parsed returns msgs with their headers parsed again (see handoff), valid
// until the next call; a message whose bytes do not parse is left as it is.
func (h *reparser) parsed(msgs []*correlate.Message) []*correlate.Message {
	for len(h.scratch) < len(msgs) {
		h.scratch = append(h.scratch, new(decode.Message))
	}
	if cap(h.wrap) < len(msgs) {
		h.wrap = make([]correlate.Message, len(msgs))
		h.ptrs = make([]*correlate.Message, len(msgs))
	}
	wrap, ptrs := h.wrap[:len(msgs)], h.ptrs[:len(msgs)]
	for i, m := range msgs {
		ptrs[i] = m
		if m == nil || m.Message == nil {
			continue
		}
		w, s := m.Message, h.scratch[i]
		if decode.Parse(w.Raw, s) != nil {
			continue
		}
		// What the decoder knew beyond the bytes.
		s.Time, s.File, s.Frames, s.Src, s.Dst = w.Time, w.File, w.Frames, w.Src, w.Dst
		s.Transport, s.Encap, s.HEP, s.Events, s.Duplicate = w.Transport, w.Encap, w.HEP, w.Events, w.Duplicate
		s.Warnings, s.Raw = w.Warnings, w.Raw
		wrap[i] = *m
		wrap[i].Message = s
		ptrs[i] = &wrap[i]
	}
	return ptrs
}

// dialog diagnoses d (messages msgs, wire copies) and sets d.Diagnosis. It
// keeps msgs: the caller must not reuse them.
func (h *handoff) dialog(d *correlate.Dialog, msgs []*correlate.Message) {
	prev := h.kept[d.CallID]
	join := d.Part > 0 && prev != nil
	p := h.pending[d.CallID] // the messages it released, if it did
	wire := h.joined[:0]
	if join && prev.wire != nil {
		wire = append(wire, prev.wire...)
	}
	if p != nil && p.wire != nil {
		wire = append(wire, p.wire...)
	}
	wire = append(wire, msgs...)
	h.joined = wire
	var parsed []*correlate.Message // what the media view sees
	switch {
	case p != nil && p.wire == nil && len(msgs) == 0:
		// Nothing since the released messages were diagnosed (and
		// viewed, in released).
		d.Diagnosis = p.g
	case p != nil && p.wire == nil:
		// The released messages were dropped: add up.
		parsed = h.parsed(msgs)
		diagnoseDialog(d, parsed)
		d.Diagnosis = p.g.Combine(d.Diagnosis)
	default:
		parsed = h.parsed(wire)
		diagnoseDialog(d, parsed)
		if join && prev.wire == nil {
			// The earlier messages were dropped: add up.
			d.Diagnosis = prev.g.Combine(d.Diagnosis)
		}
	}
	if p != nil {
		h.pbytes -= p.bytes
		delete(h.pending, d.CallID)
	}
	if h.view != nil {
		var v *correlate.MediaView
		if p != nil && p.wire == nil {
			v = p.v // the released messages' SDP, made when they were there
		}
		if v == nil && parsed != nil {
			v = correlate.NewMediaView(d, parsed)
		}
		h.view(d, v)
	}
	if prev != nil {
		h.bytes -= prev.bytes
		delete(h.kept, d.CallID)
	}
	e := &handedOn{wire: append([]*correlate.Message(nil), wire...), g: d.Diagnosis}
	e.bytes = wireBytes(e.wire)
	// A copy of the Call-ID: d's aliases the block of strings its dialog
	// copied (256 bytes), which the key would keep for as long as the
	// entry, up to maxDialogs of them (a fifth of the live heap of
	// `calls` on 50,000 calls, every one with a finding).
	id := strings.Clone(d.CallID)
	h.kept[id] = e
	h.order = append(h.order, id)
	h.bytes += e.bytes
	for (h.bytes > h.maxBytes || len(h.kept) > h.maxDialogs) && h.evict() {
	}
	if len(h.order) > 2*len(h.kept)+1024 {
		// Compact the FIFO of the Call-IDs removed or re-added since.
		live := h.order[:0]
		seen := make(map[string]bool, len(h.kept))
		for _, id := range h.order {
			if h.kept[id] != nil && !seen[id] {
				seen[id] = true
				live = append(live, id)
			}
		}
		h.order = live
	}
}

// wireBytes is about the memory of kept messages.
func wireBytes(ms []*correlate.Message) int {
	n := 0
	for _, m := range ms {
		if m != nil && m.Message != nil {
			n += len(m.Raw) + 1024 // the bytes and about the structs
		}
	}
	return n
}

// released takes the messages a dialog released before its hand-off
// (correlate.Options.Release: a BYE unanswered past its Timer F) and
// diagnoses them (with its earlier part's, for a continuation), so that
// its hand-off, which usually brings no more messages, only takes that
// Diagnosis. It keeps msgs, within a budget of their own (maxBytes, apart
// from kept's, so that what kept holds does not depend on releases): past
// it the oldest are dropped and the Diagnosis stays.
func (h *handoff) released(d *correlate.Dialog, msgs []*correlate.Message) {
	releasedDialogs.Add(1)
	prev := h.kept[d.CallID]
	wire := msgs
	if d.Part > 0 && prev != nil && prev.wire != nil {
		wire = append(append(h.joined[:0], prev.wire...), msgs...)
		h.joined = wire
	}
	parsed := h.parsed(wire)
	diagnoseDialog(d, parsed)
	if d.Part > 0 && prev != nil && prev.wire == nil {
		d.Diagnosis = prev.g.Combine(d.Diagnosis)
	}
	e := &handedOn{wire: append([]*correlate.Message(nil), msgs...), g: d.Diagnosis}
	if h.view != nil {
		// Its SDP, in case the messages are dropped before the
		// hand-off, which gives it to view.
		e.v = correlate.NewMediaView(d, parsed)
	}
	e.bytes = wireBytes(e.wire)
	h.pending[d.CallID] = e
	h.porder = append(h.porder, d.CallID)
	h.pbytes += e.bytes
	for h.pbytes > h.maxBytes && len(h.porder) > 0 {
		id := h.porder[0]
		h.porder = h.porder[1:]
		if p := h.pending[id]; p != nil && p.wire != nil {
			h.pbytes -= p.bytes
			if h.release != nil {
				h.release(p.wire)
			}
			p.wire, p.bytes = nil, 0
		}
	}
	if len(h.porder) > 2*len(h.pending)+1024 {
		live := h.porder[:0]
		for _, id := range h.porder {
			if p := h.pending[id]; p != nil && p.wire != nil {
				live = append(live, id)
			}
		}
		h.porder = live
	}
}

// evict drops the messages of the oldest dialog that has some (keeping its
// Diagnosis when it has findings), or forgets the oldest dialog when the
// messages are within budget; false when nothing is left.
func (h *handoff) evict() bool {
	for len(h.order) > 0 {
		id := h.order[0]
		h.order = h.order[1:]
		e := h.kept[id]
		if e == nil {
			continue
		}
		if e.wire != nil && h.bytes > h.maxBytes {
			h.bytes -= e.bytes
			if h.release != nil {
				h.release(e.wire)
			}
			e.wire, e.bytes = nil, 0
			if e.g.Findings > 0 {
				h.order = append(h.order, id) // still remembered, now without messages
			} else {
				delete(h.kept, id) // nothing to add up later
			}
			return true
		}
		delete(h.kept, id)
		h.bytes -= e.bytes
		if e.wire != nil && h.release != nil {
			h.release(e.wire)
		}
		return true
	}
	return false
}
