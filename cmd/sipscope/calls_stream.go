package main

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/store"
)

// `calls FILE...` without a filter or an explicit --sort writes each
// dialog as soon as it is complete instead of storing every dialog in a
// scratch database, reading them all back sorted by start and deleting the
// database (issue 12: SQLite's inserts, the read back and their garbage
// were a fifth of the CPU, and the read back ran after the capture, on one
// core). A callStream holds each dialog handed on, merging its later parts
// as the store would (store.MergeDialogs) and gathering its RTP streams
// and the links other dialogs make to it, until it is complete and every
// dialog that starts before it has been written:
//
//   - complete: the correlator forgot its Call-ID (correlate.Options.Forget:
//     no later message continues it) and the media tracker its call
//     (MediaOptions.Forget: no stream of it is still to come);
//   - in start order: it starts before the correlator's horizon (the
//     earliest start of the dialogs not yet handed on, less
//     streamDisorder for frames slightly out of time order), and the
//     dialogs held that start before it have been written.
//
// The output is then the store's, line for line (store.PackedDialog: the
// fields a row keeps; links in both directions, sorted). The held dialogs
// are bounded (streamWindow, a bounded reorder window): past it the
// earliest is written at once, complete or not, and whatever comes later
// for a written dialog is written as a line of its own. The store stays
// for what needs every dialog before the first line: a filter (--grep
// reads messages), --limit, or --sort on any key, start included, which
// gives the strict order whatever the capture.
type callStream struct {
	// write prints one record.
	write func(d *correlate.Dialog, streams []correlate.Stream) error
	// media runs the media rules at each record (with the rules of
	// diagnose, at hand-off): the call's streams are final then.
	media bool
	// window bounds the dialogs held (streamWindow; a variable for tests).
	window int

	held    map[string]*heldCall
	order   heldHeap
	seq     int64
	horizon time.Time
	last    time.Time // start of the latest record written
	// view is the media view handoff made of the dialog it passes on
	// next (handoff.view, then Dialog).
	view *correlate.MediaView
	// early are streams of calls not handed on yet (SIP INFO digits come
	// just before their dialog; a stream whose addresses a later call's
	// SDP took ends before its own call does).
	early byCall[correlate.Stream]
	// names are, for a Call-ID not held yet, the Call-IDs of dialogs that
	// named it (Dialog.Linked): its record lists them, as the store's
	// links in both directions do.
	names byCall[string]

	written int
	late    streamLate

	// The records held (heldCall.rec), in memory up to streamMemory
	// bytes (inMem), past it in spill (calls_spill.go). spill.err is why
	// spilling stopped, if it did: the records then stay in memory.
	inMem    int
	spill    spillOver
	vscratch correlate.MediaView // the view of the record emit writes
	scratch  []byte              // where put makes a record
	row      store.PackedDialog  // where Dialog packs the row put takes
}

// streamLate counts what came for a dialog already written (past the
// window, or a Call-ID used again after the correlator forgot it).
type streamLate struct {
	parts, streams, outOfOrder, forced int
}

// heldCall is a dialog held until it is written. A callStream holds up to
// streamWindow of them, so it is kept small (96 bytes): what most calls
// lack is behind more, and the Diagnosis is in the record.
type heldCall struct {
	// rec is its parts merged, as a row keeps them (store.PackedDialog: a
	// third of a Dialog's memory), then from viewAt its view record
	// (appendViewRecord: the Diagnosis of the latest part, then its media
	// view packed, a sixth of the view's memory);
	// nil while spilled, at off in the spill file (n bytes).
	rec    []byte
	off    int64
	viewAt int32
	n      int32
	idx    int32 // in callStream.order
	final  bool
	id     string // Call-ID
	seq    int64  // order of its first part: the store's row order on equal starts
	start  int64  // d.Start in ns
	more   *heldMore
}

// heldMore is what a held dialog rarely has: links and media streams.
type heldMore struct {
	linked  []string // the Call-IDs its parts named
	named   []string // Call-IDs of dialogs that name it
	streams []correlate.Stream
}

// extra returns r.more, made on first use.
func (r *heldCall) extra() *heldMore {
	if r.more == nil {
		r.more = new(heldMore)
	}
	return r.more
}

// streamWindow is how many dialogs a callStream holds at most.
var streamWindow = 1 << 16

// streamDisorder is how far before the latest frame a new dialog may still
// start (frames of merged captures or interfaces slightly out of time
// order) without being written out of start order.
const streamDisorder = 2 * time.Second

// maxEarly bounds the Call-IDs held in callStream.early and names.
const maxEarly = 1 << 16

// byCall holds values for Call-IDs that have no record held yet, up to
// maxEarly Call-IDs: past that the oldest are dropped.
type byCall[T any] struct {
	m map[string][]T
	q []string // keys of m, oldest first (taken ones left until compacted)
}

func newByCall[T any]() byCall[T] { return byCall[T]{m: map[string][]T{}} }

// add appends v to id's values and returns how many values were dropped.
func (b *byCall[T]) add(id string, v T) (dropped int) {
	if _, ok := b.m[id]; !ok {
		id = strings.Clone(id) // the caller's may alias a whole dialog's memory
		b.q = append(b.q, id)
	}
	b.m[id] = append(b.m[id], v)
	for len(b.m) > maxEarly && len(b.q) > 0 {
		dropped += len(b.m[b.q[0]])
		delete(b.m, b.q[0])
		b.q = b.q[1:]
	}
	if len(b.q) > 2*len(b.m)+1024 {
		// Compact away the keys taken since (and repeats of keys added
		// again after a take).
		live := make([]string, 0, len(b.m))
		seen := make(map[string]bool, len(b.m))
		for _, k := range b.q {
			if _, ok := b.m[k]; ok && !seen[k] {
				seen[k] = true
				live = append(live, k)
			}
		}
		b.q = live
	}
	return dropped
}

// take removes and returns id's values.
func (b *byCall[T]) take(id string) []T {
	v, ok := b.m[id]
	if ok {
		delete(b.m, id)
	}
	return v
}

func newCallStream(write func(*correlate.Dialog, []correlate.Stream) error, media bool) *callStream {
	return &callStream{write: write, media: media, window: streamWindow, held: map[string]*heldCall{},
		early: newByCall[correlate.Stream](), names: newByCall[string]()}
}

// setView takes handoff's media view of the dialog it passes on next.
func (cs *callStream) setView(_ *correlate.Dialog, v *correlate.MediaView) {
	cs.view = v
}

// Dialog takes a dialog handed on (after handoff diagnosed it).
func (cs *callStream) Dialog(d *correlate.Dialog, msgs []*correlate.Message) error {
	v := cs.view
	cs.view = nil
	for _, l := range d.Linked {
		if l == "" || l == d.CallID {
			continue
		}
		if r := cs.held[l]; r != nil {
			m := r.extra()
			m.named = addName(m.named, d.CallID)
		} else {
			cs.names.add(l, strings.Clone(d.CallID)) // emit drops repeats
		}
	}
	r := cs.held[d.CallID]
	if r == nil {
		if d.Part > 0 {
			cs.late.parts++ // its earlier part was written already
		}
		// Copies of the strings: d's alias its dialog's whole memory.
		r = &heldCall{id: strings.Clone(d.CallID), seq: cs.seq, start: d.Start.UnixNano()}
		if err := cs.put(r, store.PackDialog(cs.row[:0], d), d.Diagnosis, v, nil); err != nil {
			return err
		}
		cs.seq++
		if named, streams := cs.names.take(d.CallID), cs.early.take(d.CallID); named != nil || streams != nil {
			m := r.extra()
			m.named, m.streams = named, streams
		}
		cs.held[r.id] = r
		heap.Push(&cs.order, r)
	} else {
		// As a dialogs-only Writer merges it into the row it read.
		rec, err := cs.record(r)
		if err != nil {
			return err
		}
		merged := store.MergeDialogs(store.PackedDialog(rec[:r.viewAt]).Dialog(), d, msgs)
		if err := cs.put(r, store.PackDialog(cs.row[:0], merged), d.Diagnosis, v, rec[r.viewAt:]); err != nil {
			return err
		}
		r.final = false // the correlator holds it again
		if s := merged.Start.UnixNano(); s != r.start {
			r.start = s
			heap.Fix(&cs.order, int(r.idx))
		}
	}
	for _, l := range d.Linked {
		if r.more == nil || !slices.Contains(r.more.linked, l) {
			m := r.extra()
			m.linked = append(m.linked, strings.Clone(l))
		}
	}
	return cs.drain(false)
}

// put makes row, then the view record of g and v (appendViewRecord; old
// is r's view record so far, nil for a new dialog), r's record: in memory
// within streamMemory, else in the spill file. old may be the spill file's
// buffer: it is copied into scratch before anything is spilled.
func (cs *callStream) put(r *heldCall, row store.PackedDialog, g correlate.Diagnosis, v *correlate.MediaView, old []byte) error {
	// Made in scratch storage, and copied once into a record of its
	// exact size when it stays in memory.
	rec := append(cs.scratch[:0], row...)
	viewAt := len(rec)
	rec, err := appendViewRecord(rec, g, v, old)
	if err != nil {
		return fmt.Errorf("held record of %s: %w", r.id, err)
	}
	cs.scratch, cs.row = rec, row
	if r.rec != nil {
		cs.inMem -= len(r.rec)
	}
	r.rec, r.viewAt, r.n, r.off = nil, int32(viewAt), int32(len(rec)), 0
	if cs.inMem+len(rec) > streamMemory {
		if off, ok := cs.spill.add(rec); ok {
			r.off = off
			return nil
		}
	}
	r.rec = slices.Clone(rec)
	cs.inMem += len(rec)
	return nil
}

// record returns r's record, valid until the next call when spilled.
func (cs *callStream) record(r *heldCall) ([]byte, error) {
	if r.rec != nil {
		return r.rec, nil
	}
	return cs.spill.read(r.off, int(r.n))
}

// close removes the spill file, if there is one.
func (cs *callStream) close() { cs.spill.close() }

func addName(l []string, id string) []string {
	if slices.Contains(l, id) {
		return l
	}
	return append(l, strings.Clone(id))
}

// Stream takes a media stream handed on (and SIP INFO digits).
func (cs *callStream) Stream(s *correlate.Stream) error {
	if s.CallID == "" {
		return nil // not a call's: calls does not list it
	}
	if r := cs.held[s.CallID]; r != nil {
		m := r.extra()
		m.streams = append(m.streams, *s)
		return nil
	}
	cs.late.streams += cs.early.add(s.CallID, *s) // past the bound: of calls written already
	return nil
}

// Final says the dialog callID is complete; horizon is the correlator's.
func (cs *callStream) Final(callID string, horizon time.Time) error {
	if r := cs.held[callID]; r != nil {
		r.final = true
	}
	if h := horizon.Add(-streamDisorder); h.After(cs.horizon) {
		cs.horizon = h
	}
	return cs.drain(false)
}

// drain writes the held dialogs that can go: complete, in start order,
// before the horizon; past the window the earliest at once; all at the
// end.
func (cs *callStream) drain(all bool) error {
	h := cs.horizon.UnixNano()
	for len(cs.order) > 0 {
		r := cs.order[0]
		over := len(cs.held) > cs.window
		if !all && !over && (!r.final || r.start >= h || cs.horizon.IsZero()) {
			return nil
		}
		if over && (!r.final || r.start >= h) {
			cs.late.forced++
		}
		heap.Pop(&cs.order)
		delete(cs.held, r.id)
		if err := cs.emit(r); err != nil {
			return err
		}
	}
	return nil
}

// finish writes every dialog still held (the capture ended).
func (cs *callStream) finish() error { return cs.drain(true) }

// emit writes r as the store would list it.
func (cs *callStream) emit(r *heldCall) error {
	rec, err := cs.record(r)
	if err != nil {
		return err
	}
	if r.rec != nil {
		cs.inMem -= len(r.rec)
		r.rec = nil
	}
	d := store.PackedDialog(rec[:r.viewAt]).Dialog()
	viewG, view, err := unpackDiagnosis(rec[r.viewAt:])
	if err != nil {
		return fmt.Errorf("held record of %s: %w", r.id, err) // our own bytes: a bug
	}
	var linked []string
	var streams []correlate.Stream
	if m := r.more; m != nil {
		for _, l := range slices.Concat(m.linked, m.named) {
			if l != "" && l != d.CallID && !slices.Contains(linked, l) {
				linked = append(linked, l)
			}
		}
		slices.Sort(linked)
		streams = m.streams
	}
	d.Linked = linked
	// As the store lists them (streamsByCall): RTP streams by start,
	// then SIP INFO digits by start, each in the order stored.
	for i := range streams {
		if len(streams[i].PayloadTypes) == 0 {
			streams[i].PayloadTypes = nil
		}
	}
	info := func(s correlate.Stream) bool { return s.Link == correlate.LinkInfo }
	slices.SortStableFunc(streams, func(a, b correlate.Stream) int {
		if ia, ib := info(a), info(b); ia != ib {
			if ia {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Start.UnixNano(), b.Start.UnixNano())
	})
	// A packed nil view is one byte.
	if cs.media && len(view) > 1 && viewG.Done {
		rtp := streams
		for len(rtp) > 0 && info(rtp[len(rtp)-1]) {
			rtp = rtp[:len(rtp)-1]
		}
		if err := cs.vscratch.UnmarshalBinary(view); err != nil {
			return fmt.Errorf("media view of %s: %w", r.id, err) // our own bytes: a bug
		}
		if g := withMedia(viewG, &cs.vscratch, rtp); g != viewG {
			d.Diagnosis = g // media findings (they add to the count)
		}
	}
	if d.Start.UnixNano() < cs.last.UnixNano() {
		cs.late.outOfOrder++
	} else {
		cs.last = d.Start
	}
	cs.written++
	return cs.write(d, streams)
}

// warnings says what the window or a reused Call-ID made differ from a
// listing through the store (`--sort start`), if anything.
func (cs *callStream) warnings() []string {
	var out []string
	l := cs.late
	if l.forced > 0 || l.outOfOrder > 0 {
		out = append(out, fmt.Sprintf("%d dialog(s) were written out of start order or before they were complete "+
			"(more than %d dialogs waited on an earlier one: a long call, or a BYE never answered); "+
			"--sort start lists them through a scratch database, in strict order", l.forced+l.outOfOrder, cs.window))
	}
	if w := cs.spill.warning("the dialogs held in start order"); w != "" {
		out = append(out, w)
	}
	if l.parts > 0 || l.streams > 0 {
		out = append(out, fmt.Sprintf("%d later part(s) and %d media stream(s) came for dialogs already written and were "+
			"written as lines of their own (or left out, for streams); --sort start merges them", l.parts, l.streams))
	}
	return out
}

// heldHeap orders held dialogs by start, then by the order they came.
type heldHeap []*heldCall

func (h heldHeap) Len() int { return len(h) }
func (h heldHeap) Less(i, j int) bool {
	if h[i].start != h[j].start {
		return h[i].start < h[j].start
	}
	return h[i].seq < h[j].seq
}
func (h heldHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = int32(i), int32(j)
}
func (h *heldHeap) Push(x any) {
	r := x.(*heldCall)
	r.idx = int32(len(*h))
	*h = append(*h, r)
}
func (h *heldHeap) Pop() any {
	old := *h
	n := len(old)
	r := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return r
}

// streamCalls runs `calls` on capture files through a callStream: the
// pipeline of openSource, with the callStream in the store's place.
func streamCalls(ctx context.Context, o *sourceOptions, cs *callStream, io *streams) error {
	if err := checkInputs(o.files); err != nil {
		return err
	}
	imp := &importer{
		out: cs, files: o.files, io: io, quiet: o.quiet,
		correlate: o.links.summaries(true),
		decode:    o.links.limits.decode(),
		noMedia:   o.noMedia,
		diagnose:  o.diagnose,
		keylog:    o.keylog,
		inband:    o.inband,
	}
	defer cs.close()
	res, err := imp.run(ctx)
	if err != nil {
		return err
	}
	o.decoded = res.decode.Stats
	if !o.quiet {
		for _, w := range cs.warnings() {
			fmt.Fprintln(io.ErrOut, "sipscope: warning: "+w)
		}
	}
	return nil
}
