package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// sourceOptions say where dialogs come from: capture files analysed on the
// spot (into a scratch database removed afterwards) or a database made by
// `sipscope import`.
type sourceOptions struct {
	files []string
	db    string
	links linkOptions
	quiet bool
	// diagnose runs the rules of `diagnose` on capture files' dialogs as
	// they are stored (Dialog.Diagnosis, for calls' findings fields).
	diagnose bool
	// keylog is the --keylog file of TLS secrets.
	keylog string
	// decoded is what reading the capture files found (set by
	// openSource), to explain an empty result.
	decoded decode.Stats
	// noMedia leaves RTP alone (no streams stored): the benchmark's
	// baseline for what media analysis costs.
	noMedia bool
	// inband looks for DTMF tones in G.711 audio (correlate.InbandDTMF,
	// for the dtmf-mismatch rule), as a diagnosing import does.
	inband bool
	// diagnoses, after openSource on capture files with diagnose, are
	// the findings in brief of the calls with media findings, which the
	// scratch store's rows do not have (importer.overlay): the reader
	// takes these instead.
	diagnoses map[string]correlate.Diagnosis
}

func addSourceFlags(cmd *cobra.Command, o *sourceOptions) {
	cmd.Flags().StringVar(&o.db, "db", "", "read the database at `PATH` (made by sipscope import) instead of capture files")
	addLinkFlags(cmd, &o.links)
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "no progress or warnings on standard error")
	addKeylogFlag(cmd.Flags(), &o.keylog)
}

// linkOptions say how legs of one call are linked across Call-IDs.
type linkOptions struct {
	headers  []string
	suffixes []string
	// limits ride along: every command that correlates takes them.
	limits limitOptions
}

func addLinkFlags(cmd *cobra.Command, o *linkOptions) {
	cmd.Flags().StringSliceVar(&o.headers, "link-header", nil,
		"`HEADER` naming another leg's Call-ID (repeatable; default X-Call-ID, X-CID)")
	cmd.Flags().StringSliceVar(&o.suffixes, "link-suffix", nil,
		"B2BUA Call-ID `SUFFIX` linking a leg to the Call-ID without it (repeatable; default _b2b-1, -b2b_1)")
	addLimitFlags(cmd, &o.limits)
}

// options returns the correlator options for these links, handing dialogs on
// as soon as they end (Early) so memory does not grow with the capture.
func (o *linkOptions) options() correlate.Options {
	return o.limits.correlate(correlate.Options{LinkHeaders: o.headers, LinkSuffixes: o.suffixes, Early: true})
}

// summaries is options() for an analysis that needs dialog rows only: the
// correlator keeps no messages when on is set.
func (o *linkOptions) summaries(on bool) correlate.Options {
	opts := o.options()
	opts.Summaries = on
	return opts
}

// storeMode says how much an on-the-spot analysis keeps.
type storeMode int

const (
	keepEverything storeMode = iota // messages and frames too (show, flow, export, --grep)
	dialogsOnly                     // dialog rows only (calls)
)

// openSource returns the store to query and a function that releases it.
// For capture files, keep (when not nil) chooses the dialogs worth storing.
func openSource(ctx context.Context, o *sourceOptions, mode storeMode, keep func(*correlate.Dialog, []*correlate.Message) bool, io *streams) (*store.Store, func(), error) {
	switch {
	case o.db != "" && len(o.files) > 0:
		return nil, nil, usagef("give capture files or --db, not both (add files to a database with `sipscope import FILE --db %s`)", o.db)
	case o.db != "":
		fi, err := os.Stat(o.db)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("--db %s: no such database (make one with `sipscope import FILE... --db %s`)", o.db, o.db)
		case err != nil:
			return nil, nil, fmt.Errorf("--db %s: %w", o.db, pathErr(err))
		case fi.IsDir():
			return nil, nil, fmt.Errorf("--db %s is a folder, not a database", o.db)
		}
		st, err := store.Open(o.db, store.Options{ReadOnly: true})
		if err != nil {
			return nil, nil, dbError(o.db, err)
		}
		return st, func() { st.Close() }, nil
	case len(o.files) == 0:
		return nil, nil, usagef("no capture file given: name capture files (- for standard input) or --db PATH")
	}
	if err := checkInputs(o.files); err != nil {
		return nil, nil, err
	}
	st, err := store.OpenTemp("", store.Options{DialogsOnly: mode == dialogsOnly})
	if err != nil {
		return nil, nil, err
	}
	imp := &importer{
		store: st, files: o.files, io: io, quiet: o.quiet,
		// Listing dialogs needs no messages: the correlator keeps only
		// summaries and the decoder's messages are not copied. Early: a
		// dialog is stored when it ends, while the capture is read.
		correlate: o.links.summaries(mode == dialogsOnly),
		decode:    o.links.limits.decode(),
		keep:      keep,
		noMedia:   o.noMedia,
		diagnose:  o.diagnose,
		keylog:    o.keylog,
		inband:    o.inband,
		overlay:   true,
	}
	res, err := imp.run(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	o.decoded = res.decode.Stats
	o.diagnoses = res.diagnoses
	return st, func() { st.Close() }, nil
}

// dbError names --db and what is wrong with it, in the words of the
// store's error classes rather than its layers.
func dbError(path string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotDatabase):
		return fmt.Errorf("--db %s is not a sipscope database (make one with `sipscope import FILE... --db PATH`)", path)
	case errors.Is(err, store.ErrNewerSchema):
		return fmt.Errorf("--db %s: %w: use a newer sipscope", path, store.ErrNewerSchema)
	}
	return fmt.Errorf("--db %s: %w", path, err)
}

// checkInputs refuses, before any work, inputs that cannot be read as
// captures: a missing or unreadable file, a folder, and standard input
// named twice (it can be read once). The error names the file.
func checkInputs(files []string) error {
	stdin := 0
	for _, f := range files {
		if f == "-" {
			if stdin++; stdin > 1 {
				return usagef("- (standard input) is named %d times: it can be read only once", stdin)
			}
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("open %s: %w", f, pathErr(err))
		}
		if fi.IsDir() {
			return fmt.Errorf("%s is a folder, not a capture: name the files in it (e.g. %s)", f, filepath.Join(f, "*.pcap"))
		}
		r, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("open %s: %w", f, pathErr(err))
		}
		r.Close()
	}
	return nil
}

// importer runs the whole pipeline, capture -> decode -> correlate -> store,
// for a set of files.
type importer struct {
	store *store.Store
	// out, when set, takes the dialogs and streams instead of store
	// (`calls` on capture files, calls_stream.go): no database at all.
	out   *callStream
	files []string
	// src, when set, is read instead of files (a live capture, owned by
	// the caller); no file is registered for it.
	src capture.Source
	// onMessage, when set, is called on the decoding goroutine after each
	// message reached the correlator (a live capture's status line).
	onMessage func(correlate.Stats)
	// forward, when set, sees each message on the decoding goroutine
	// before the correlator does, while its buffers are valid (HEP out).
	forward func(*decode.Message)
	// live hands each dialog to the writer as it ends and commits when
	// the writer is idle, so that readers of the database see it at once
	// (instead of in batches of asyncBatch).
	live      bool
	io        *streams
	quiet     bool
	correlate correlate.Options
	noMedia   bool // no media tracker (see sourceOptions.noMedia)
	inband    bool // in-band DTMF detection (see sourceOptions.inband; also with diagnose)
	// overlay returns the media findings in importResult.diagnoses
	// rather than writing them into the store's rows: updating every
	// call's row of a scratch store read once costs more than the rules
	// (1.1 s for 50,000 calls without RTP, each with no-media).
	overlay bool
	// keep, when set, sees each dialog before the store does and may drop
	// it by returning false.
	keep func(d *correlate.Dialog, msgs []*correlate.Message) bool
	// diagnose runs the rules of `diagnose` on each dialog at hand-off,
	// while its messages are whole, and stores what they found
	// (Dialog.Diagnosis: the findings and worst fields of `calls`). The
	// correlator then keeps full copies of the messages, even when
	// correlate.Summaries is set (only for the dialogs' lifetime).
	diagnose bool
	// keylog, when set, is the --keylog file of TLS secrets.
	keylog string
	// progress, when set, is told now and then how far the import has come
	// (bytes read of total, messages and dialogs stored): the TUI's feed.
	progress func(done, total, msgs, dialogs int64)
	// decode bounds the decoder (the --limit-* flags).
	decode decode.Options
}

type importResult struct {
	decode    decodeResult
	correlate correlate.Stats
	writer    store.WriterStats
	media     correlate.MediaStats
	skipped   []string // files imported before
	// diagnoses are the findings in brief of the calls whose media
	// rules found something, with overlay (else they are stored).
	diagnoses map[string]correlate.Diagnosis
}

func (imp *importer) run(ctx context.Context) (importResult, error) {
	var res importResult
	var files []string
	skip := func(f string) {
		res.skipped = append(res.skipped, f)
		if !imp.quiet {
			fmt.Fprintf(imp.io.ErrOut, "sipscope: %s: already imported, skipped\n", f)
		}
	}
	prints := map[string]bool{} // fingerprints of files given to out
	for _, f := range imp.files {
		if imp.src != nil {
			break
		}
		if imp.out != nil {
			// What AddFile refuses in a new store: the same capture twice.
			if f != "-" {
				fp, _, err := store.Fingerprint(f)
				if err != nil {
					return res, fmt.Errorf("store: %w", err)
				}
				if prints[fp] {
					skip(f)
					continue
				}
				prints[fp] = true
			}
			files = append(files, f)
			continue
		}
		if _, err := imp.store.AddFile(ctx, f); err != nil {
			if errors.Is(err, store.ErrInterrupted) {
				// Killed, out of disk, Ctrl-C: what was committed is
				// whole dialogs; read the file again and store the rest.
				if _, err := imp.store.ResumeFile(ctx, f); err != nil {
					return res, err
				}
				if !imp.quiet {
					fmt.Fprintf(imp.io.ErrOut, "sipscope: %s: completing an interrupted import (what it stored is kept, not stored twice)\n", f)
				}
				files = append(files, f)
				continue
			}
			if errors.Is(err, store.ErrAlreadyImported) {
				skip(f)
				continue
			}
			return res, err
		}
		files = append(files, f)
	}
	if len(files) == 0 && imp.src == nil {
		return res, nil
	}
	var (
		w    *store.Writer
		sink correlate.Sink
		err  error
	)
	if imp.out != nil {
		sink = imp.out
	} else {
		if w, err = imp.store.Writer(ctx); err != nil {
			return res, err
		}
		sink = w
	}
	if imp.keep != nil {
		sink = correlate.SinkFunc(func(d *correlate.Dialog, msgs []*correlate.Message) error {
			if !imp.keep(d, msgs) {
				return nil
			}
			return w.Dialog(d, msgs)
		})
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Two stages on two cores: this goroutine decodes and correlates, the
	// store writes finished dialogs in another (see asyncSink).
	var async *asyncSink
	if imp.live {
		async = newLiveSink(sink, cancel, w.Flush)
	} else {
		async = newAsyncSink(sink, cancel)
	}
	if imp.out != nil {
		async.stream, async.final = imp.out.Stream, imp.out.Final
	} else {
		async.stream = w.Stream
	}
	if w != nil && imp.keep == nil && !imp.correlate.Summaries {
		// The rows' values are made on this goroutine, which has time to
		// spare: the writer only binds them (see store.Encoder).
		async.encoder, async.write = w.Encoder(), w.DialogEncoded
		async.encodeOnWriter = !imp.live
	}
	// The correlator reads each message as the decoder hands it and keeps
	// a copy that owns its memory (none with Summaries).
	copts := imp.correlate
	wire := async.encoder != nil // the store reads the wire fields only
	pool := &msgPool{}
	// The media rules run once the streams are final, at the end, on
	// what each call's hand-off kept of its SDP (mediaViews).
	views := newMediaViews()
	defer views.close() // finish closes it; an error before then too
	// viewsAdd: views.add is how dialogs reach the views, and it reads
	// what the media tracker knew of each call at its hand-off (silent).
	viewsAdd := false
	if imp.diagnose {
		copts.Summaries = false
		if async.encoder == nil && imp.keep == nil {
			// A store without messages (calls): handoff parses the
			// wire copies again on the writer's goroutine, and keeps
			// an earlier part's messages a while for its continuation
			// (then gives them back to the pool). Wire copies, not
			// whole ones (Clone): the parsed headers cost more memory
			// than parsing the bytes again costs time.
			h := newHandoff(pool.put)
			h.view = views.addView
			if imp.out != nil {
				h.view = imp.out.setView
			}
			async.retains, wire = true, true
			async.diagnose = func(d *correlate.Dialog, msgs []*correlate.Message, _ bool) { h.dialog(d, msgs) }
			// A dialog whose BYE went unanswered gives its messages to
			// handoff Grace after its last one instead of holding them
			// for Idle (correlate.Options.Release): they are diagnosed
			// then, and joined to any that come later.
			if releaseDialogs {
				async.release = h.released
				copts.Release = async.Release
			}
		} else if wire {
			// The rules read the parsed headers (Via, SDP...): the
			// store's wire copies are parsed again for them, where the
			// rows are encoded (the writer's goroutine for a file
			// import). Whole copies (Clone) held every open dialog's
			// parse: 877 MiB at the peak of a 500,000-call import.
			var rp reparser
			async.diagnose = func(d *correlate.Dialog, msgs []*correlate.Message, silent bool) {
				parsed := rp.parsed(msgs)
				diagnoseDialog(d, parsed)
				views.add(d, parsed, silent)
			}
			viewsAdd = true
		} else {
			// keep sees whole messages, and so do the rules.
			async.diagnose, wire = func(d *correlate.Dialog, msgs []*correlate.Message, silent bool) {
				diagnoseDialog(d, msgs)
				views.add(d, msgs, silent)
			}, false
			viewsAdd = true
		}
	}
	if wire {
		// The store reads a kept message's bytes, frames, addresses and
		// start line only: a copy without the parsed headers, in a struct
		// the writer is done with when there is one.
		async.pool = pool
		copts.Keep = func(m *decode.Message) *decode.Message { return m.CloneWire(pool.get()) }
	} else {
		// keep (and the rules) see whole messages.
		copts.Keep = (*decode.Message).Clone
	}
	// RTP/RTCP streams of the calls (media.go), their RFC 4733 digits and
	// the digits sent in SIP INFO. Each stream is stored as soon as it
	// ends (its call ended and it went quiet, see MediaOptions.Handoff),
	// through the writer like the dialogs, so the tracker holds only the
	// streams in progress and a live capture's database shows a call's
	// media once the call is over.
	dtmf := correlate.NewDTMF()
	packets := dtmf.Packet
	var inband *correlate.InbandDTMF
	if imp.diagnose || imp.inband {
		// Tones in the audio, for dtmf-mismatch: eight Goertzel
		// filters per G.711 sample (about 4 µs per 30 ms packet), paid
		// only when the rules run.
		inband = correlate.NewInbandDTMF()
		packets = func(p *correlate.RTPPacket) { dtmf.Packet(p); inband.Packet(p) }
	}
	info := correlate.NewInfoDigits()
	var corr *correlate.Correlator
	// A dialog is complete for out once the correlator forgot its
	// Call-ID (copts.Forget) and the media tracker its call: waiting are
	// those the correlator forgot first.
	waiting := map[string]bool{}
	mopts := correlate.MediaOptions{Sink: packets}
	if imp.out != nil {
		mopts.Forget = func(id string) {
			if waiting[id] {
				delete(waiting, id)
				async.Final(id, corr.Horizon())
			}
		}
	}
	mopts.Handoff = func(s *correlate.Stream) {
		// The digits of this stream only: the next call may reuse its
		// 5-tuple and SSRC (Take forgets them).
		k := correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC}
		s.DTMFEvents = dtmf.Take(k)
		s.DTMF = correlate.Digits(s.DTMFEvents)
		if inband != nil {
			s.DTMFEvents = append(s.DTMFEvents, inband.Take(k)...) // Source "inband"; DTMF stays RFC 4733's
		}
		one := []correlate.Stream{*s}
		correlate.ScoreStreams(one, correlate.EModelOptions{}) // G.107 R and MOS
		async.Stream(&one[0])
	}
	media := correlate.NewMedia(mopts)
	// A call that had no RTP by the end of its dialog gets its media
	// findings (no-media) with the rest, in the row its hand-off stores
	// (mediaViews.add): the end then changes only the calls whose streams
	// say otherwise (an import of 50,000 SIPp calls without RTP updated
	// every row after the pipeline, 0.2-0.4 s that nothing overlaps), and
	// a live capture shows them as each call ends.
	if viewsAdd {
		async.silent = media.Silent
	}
	if imp.out != nil {
		copts.Forget = func(id string) {
			if media.Tracking(id) {
				waiting[id] = true
				return
			}
			async.Final(id, corr.Horizon())
		}
	}
	corr = correlate.New(copts, correlate.SinkFunc(func(d *correlate.Dialog, msgs []*correlate.Message) error {
		media.End(d.CallID, d.End)
		for _, s := range info.Take(d) {
			async.Stream(&s)
		}
		return async.Dialog(d, msgs)
	}))
	var failed error
	onDatagram := media.Datagram
	if imp.noMedia {
		onDatagram = nil
	}
	h := decode.HandlerFuncs{
		OnDatagram: onDatagram,
		OnMessage: func(m *decode.Message) {
			if failed != nil {
				return
			}
			if imp.forward != nil {
				imp.forward(m)
			}
			media.Message(m)
			info.Message(m)
			if err := corr.Add(m); err != nil {
				failed = err
				cancel(err)
			}
			if imp.onMessage != nil {
				imp.onMessage(corr.Stats())
			}
		},
		OnEvent: func(e *decode.Event) {
			if failed == nil {
				corr.Event(e)
			}
		},
	}
	var bar *progressBar
	if imp.io.ErrTTY && !imp.quiet {
		bar = newProgressBar(imp.io.ErrOut, async.counts)
	}
	job := &decodeJob{files: files, stdin: imp.io.In, handler: h, src: imp.src, opts: imp.decode, keylog: imp.keylog}
	if bar != nil {
		job.progress = bar.update
	}
	if imp.progress != nil {
		job.progress = func(done, total int64) {
			m, d := async.counts()
			imp.progress(done, total, m, d)
		}
	}
	res.decode, err = job.run(ctx)
	if err == nil {
		err = failed
	}
	if err == nil {
		err = corr.Flush()
	}
	if err == nil {
		media.Flush() // the streams still in progress at the end
	}
	// Wait for the writer in every case: it must be idle before the
	// Writer is closed or aborted.
	if werr := async.close(); werr != nil {
		err, failed = werr, werr
	}
	if bar != nil {
		bar.done()
	}
	if err == nil && imp.out != nil {
		err = imp.out.finish() // the writer is done: this goroutine writes the rest
	}
	if err != nil {
		if w != nil {
			w.Abort()
		}
		if failed != nil {
			return res, failed
		}
		return res, err
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return res, err
		}
	}
	res.media = media.Stats()
	if imp.diagnose && w != nil {
		// The streams as stored, however they got there (at the end
		// here; as each ends where the tracker hands them on).
		stored, err := imp.store.Streams(ctx, nil)
		if err != nil {
			return res, err
		}
		byCall := make(map[string][]correlate.Stream)
		for _, s := range stored {
			if s.CallID != "" {
				byCall[s.CallID] = append(byCall[s.CallID], s)
			}
		}
		// Dialogs merged from several parts were left undiagnosed by
		// the Writer: their rules run now on all their stored messages
		// and their streams.
		// (None are when this import began on an empty store and the
		// Writer says it stored every dialog diagnosed, merging none.)
		var again map[string]bool
		if w.LeftUndiagnosed() {
			if again, err = rediagnose(ctx, imp.store, byCall); err != nil {
				return res, err
			}
		}
		// The others' media findings join what their hand-off stored.
		gs, err := views.finish(byCall, again)
		if err != nil {
			return res, err
		}
		if w := views.warning(); w != "" && !imp.quiet {
			// Nothing is lost, but the memory a user planned for may
			// not hold: say so, and why.
			fmt.Fprintln(imp.io.ErrOut, "sipscope: warning: "+w)
		}
		if imp.overlay {
			res.diagnoses = gs
		} else if err := imp.store.SetDiagnoses(ctx, gs); err != nil {
			return res, err
		}
	}
	res.correlate = corr.Stats()
	if w != nil {
		res.writer = w.Stats()
	}
	if !imp.quiet {
		printWarnings(imp.io.ErrOut, res.decode.Warnings)
		printLimits(imp.io.ErrOut, "sipscope: warning: ", res.decode.Stats.Limits, res.correlate.DialogsLimited)
	}
	return res, nil
}

// asyncBatch is how many dialogs cross from the correlator to the writer
// at a time: enough to make the channel's cost per dialog small.
const asyncBatch = 256

// asyncSink hands finished dialogs to a sink running in its own goroutine,
// so that storing overlaps decoding and correlating. The dialogs and their
// messages own their memory (the correlator hands them over), so they may
// cross goroutines. The first error of the sink cancels the pipeline
// (through cancel) and is returned by later Dialog calls and by close; the
// goroutine drains what is sent after it without storing it, so a sender
// never blocks on it.
type asyncSink struct {
	sink correlate.Sink
	// encoder, when set, makes the messages rows of each dialog on the
	// sending goroutine, and write stores them instead of sink.
	encoder *store.Encoder
	write   func(d *correlate.Dialog, msgs []*correlate.Message, enc *store.Encoded) error
	// diagnose, when set, sees each dialog and its messages before they
	// are stored and sets Dialog.Diagnosis: on the sending goroutine when
	// there is an encoder (it encodes the dialog row), else on the
	// writer's, where it may keep the messages (retains: pool does not get
	// them back). silent is what the silent func said of the dialog's
	// call at its hand-off.
	diagnose func(d *correlate.Dialog, msgs []*correlate.Message, silent bool)
	retains  bool
	// silent, when set, says on the sending goroutine whether the media
	// tracker has seen no RTP of a call (correlate.Media.Silent).
	silent func(callID string) bool
	// encodeOnWriter moves the diagnosis and the rows' encoding to the
	// writer's goroutine: on a file import the decoding goroutine is the
	// bottleneck (decoding and correlating 50,000 calls took 4.2-4.7 s of
	// CPU there, the writer 2.4 s). A live capture keeps them on the
	// sending side, where its never-waiting queue (capture_sink.go)
	// leaves the writer nothing but SQLite.
	encodeOnWriter bool
	// stream stores a media stream (Stream).
	stream func(s *correlate.Stream) error
	// final, when set, is told a dialog is complete (see Final).
	final func(callID string, horizon time.Time) error
	// release, when set, takes the messages a dialog released before its
	// hand-off (see Release), on the writer's goroutine.
	release func(d *correlate.Dialog, msgs []*correlate.Message)
	// pool, when set, gets the messages of each dialog once stored.
	pool *msgPool
	// liveq, when set (a live capture), replaces ch and batch: see
	// capture_sink.go. flush commits.
	liveq  *liveQueue
	flush  func() error
	cancel context.CancelCauseFunc
	ch     chan []asyncItem
	batch  []asyncItem
	done   chan struct{}
	closed bool

	failed   atomic.Bool
	err      error // the sink's first error; read after done is closed
	messages atomic.Int64
	dialogs  atomic.Int64
}

type asyncItem struct {
	d    *correlate.Dialog
	msgs []*correlate.Message
	enc  *store.Encoded
	// stream, when set, is a media stream to store instead of a dialog.
	stream *correlate.Stream
	// final names a complete dialog (Final), as of horizon.
	final   string
	isFinal bool
	horizon time.Time
	// released: msgs are given to release, not stored (d is a summary so
	// far, handed on later).
	released bool
	// silent: the media tracker had seen no RTP of the dialog's call when
	// it was handed on (asyncSink.silent).
	silent bool
}

// errWriterFailed stands for the writer's error until close returns it.
var errWriterFailed = errors.New("the database writer stopped")

func newAsyncSink(sink correlate.Sink, cancel context.CancelCauseFunc) *asyncSink {
	s := &asyncSink{sink: sink, cancel: cancel, ch: make(chan []asyncItem, 4), done: make(chan struct{}),
		batch: make([]asyncItem, 0, asyncBatch)}
	go s.loop()
	return s
}

func (s *asyncSink) loop() {
	defer close(s.done)
	for b := range s.ch {
		if s.err != nil {
			continue // drain
		}
		for _, it := range b {
			if err := s.write1(it); err != nil {
				s.fail(err)
				break
			}
		}
		if s.pool != nil && !s.retains {
			for _, it := range b {
				s.pool.put(it.msgs)
			}
		}
	}
}

// write1 stores one dialog (on the writer goroutine).
func (s *asyncSink) write1(it asyncItem) error {
	if it.stream != nil {
		return s.stream(it.stream)
	}
	if it.isFinal {
		return s.final(it.final, it.horizon)
	}
	if it.released {
		s.release(it.d, it.msgs)
		return nil
	}
	var err error
	if s.diagnose != nil && (s.encoder == nil || it.enc == nil) {
		s.diagnose(it.d, it.msgs, it.silent)
	}
	if s.encoder != nil && it.enc == nil {
		it.enc = s.encoder.Encode(it.d, it.msgs)
	}
	if s.write != nil {
		err = s.write(it.d, it.msgs, it.enc)
	} else {
		err = s.sink.Dialog(it.d, it.msgs)
	}
	if err == nil {
		s.dialogs.Add(1)
		s.messages.Add(int64(len(it.msgs)))
	}
	return err
}

// fail records the writer's first error and cancels the pipeline.
func (s *asyncSink) fail(err error) {
	s.err = err
	s.failed.Store(true)
	s.cancel(err)
}

// msgPool hands the kept copies of messages (decode.Message.CloneWire)
// that the writer is done with back to the decoding goroutine, which
// overwrites them with the next ones: an import then allocates the bytes
// of each message but rarely its struct, which is most of what the
// garbage collector would otherwise sweep. The writer puts a dialog's
// messages once it has stored them (the rows it queued refer to their
// bytes, never to the structs); the decoding goroutine takes them in bulk.
type msgPool struct {
	mu    sync.Mutex
	free  []*decode.Message // put by the writer
	local []*decode.Message // taken by the decoding goroutine
}

// maxPooled bounds the structs a msgPool holds (640 bytes each).
const maxPooled = 16384

// get returns a struct to overwrite, or nil when there is none.
func (p *msgPool) get() *decode.Message {
	if len(p.local) == 0 {
		p.mu.Lock()
		p.local, p.free = p.free, p.local
		p.mu.Unlock()
	}
	n := len(p.local)
	if n == 0 {
		return nil
	}
	m := p.local[n-1]
	p.local[n-1] = nil
	p.local = p.local[:n-1]
	return m
}

// put takes back the messages of a stored dialog; nothing may use them
// after.
func (p *msgPool) put(msgs []*correlate.Message) {
	p.mu.Lock()
	for _, m := range msgs {
		if m != nil && m.Message != nil && len(p.free) < maxPooled {
			p.free = append(p.free, m.Message)
		}
	}
	p.mu.Unlock()
}

// Dialog queues d and msgs for the writer.
func (s *asyncSink) Dialog(d *correlate.Dialog, msgs []*correlate.Message) error {
	if s.failed.Load() {
		return errWriterFailed
	}
	silent := s.silent != nil && s.silent(d.CallID)
	var enc *store.Encoded
	if s.encoder != nil && !s.encodeOnWriter {
		if s.diagnose != nil {
			s.diagnose(d, msgs, silent)
		}
		enc = s.encoder.Encode(d, msgs)
	}
	s.enqueue(asyncItem{d: d, msgs: msgs, enc: enc, silent: silent})
	return nil
}

// enqueue hands it to the writer: to the live queue, or in batches of
// asyncBatch through ch.
func (s *asyncSink) enqueue(it asyncItem) {
	if s.liveq != nil {
		s.liveDialog(it)
		return
	}
	s.batch = append(s.batch, it)
	if len(s.batch) >= asyncBatch {
		s.ch <- s.batch
		s.batch = make([]asyncItem, 0, asyncBatch)
	}
}

// Release queues the messages a dialog released (correlate.Options.Release)
// for release, in order with the dialogs handed on: the writer sees them
// before the dialog's own hand-off.
func (s *asyncSink) Release(d *correlate.Dialog, msgs []*correlate.Message) error {
	if s.failed.Load() {
		return errWriterFailed
	}
	s.enqueue(asyncItem{d: d, msgs: msgs, released: true})
	return nil
}

// Final queues word that the dialog callID is complete, in order with
// the dialogs and streams (callStream.Final).
func (s *asyncSink) Final(callID string, horizon time.Time) {
	if s.failed.Load() {
		return
	}
	s.enqueue(asyncItem{final: callID, isFinal: true, horizon: horizon})
}

// Stream queues a media stream for the writer; s is not used after by
// the caller.
func (s *asyncSink) Stream(st *correlate.Stream) {
	if s.failed.Load() {
		return
	}
	s.enqueue(asyncItem{stream: st})
}

// close sends what is queued, waits for the writer to finish and returns
// its first error.
func (s *asyncSink) close() error {
	if !s.closed && s.liveq != nil {
		s.closed = true
		s.liveClose()
	}
	if !s.closed {
		s.closed = true
		if len(s.batch) > 0 {
			s.ch <- s.batch
			s.batch = nil
		}
		close(s.ch)
	}
	<-s.done
	return s.err
}

// counts reports messages and dialogs stored so far, for the progress bar;
// safe while the writer runs.
func (s *asyncSink) counts() (int64, int64) { return s.messages.Load(), s.dialogs.Load() }

// resolveCalls expands the Call-IDs a user named: with linked, every leg
// reachable through links is added. Unknown Call-IDs are an error naming them.
func resolveCalls(ctx context.Context, st *store.Store, ids []string, linked bool) ([]*correlate.Dialog, []string, error) {
	seen := map[string]bool{}
	var dialogs []*correlate.Dialog
	var all []string
	add := func(id string, must bool) error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		d, err := st.Dialog(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			if must {
				return fmt.Errorf("call %q not found (list Call-IDs with `sipscope calls`)", id)
			}
			return nil
		}
		if err != nil {
			return err
		}
		dialogs = append(dialogs, d)
		all = append(all, id)
		return nil
	}
	for _, id := range ids {
		if err := add(strings.TrimSpace(id), true); err != nil {
			return nil, nil, err
		}
	}
	if linked {
		for _, id := range ids {
			more, err := st.Linked(ctx, id)
			if err != nil {
				return nil, nil, err
			}
			for _, l := range more {
				if err := add(l, false); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return dialogs, all, nil
}
