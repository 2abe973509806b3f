package store

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"sync"

	"github.com/sipscope/sipscope/correlate"
)

// Encoder computes the values of a dialog's messages rows (frames blobs,
// JSON, formatted addresses, boxed integers) ahead of its Writer, in
// another goroutine, so that the Writer, which is an import's bottleneck,
// only binds them and steps its statements. Get one with Writer.Encoder;
// an Encoder is not safe for concurrent use, but it and its Writer may
// run in two goroutines.
type Encoder struct {
	s       *Store
	seqBase int64
	skip    bool // dialogs-only store: no messages rows
	rows    rowEncoder
	pool    *encPool
}

// encPool hands the Encoded values the Writer is done with back to the
// Encoder, whose next Encode reuses their slices: a messages row's values
// are ~300 bytes of interfaces, an eighth of what an import allocates.
// The Writer's bulks copy the values they queue, so an Encoded is free
// once DialogEncoded returns. The Writer, an import's bottleneck, only
// queues them; the Encoder clears them.
type encPool struct {
	mu   sync.Mutex
	free []*Encoded
}

// maxEncPooled bounds the Encoded values an encPool keeps.
const maxEncPooled = 1024

// get returns a cleared Encoded to fill, or nil.
func (p *encPool) get() *Encoded {
	p.mu.Lock()
	n := len(p.free)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	enc := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	p.mu.Unlock()
	clear(enc.dialog)
	clear(enc.args)
	*enc = Encoded{dialog: enc.dialog[:0], args: enc.args[:0], fileIDs: enc.fileIDs[:0]}
	return enc
}

// put takes back an Encoded nothing uses any more.
func (p *encPool) put(enc *Encoded) {
	p.mu.Lock()
	if len(p.free) < maxEncPooled {
		p.free = append(p.free, enc)
	}
	p.mu.Unlock()
}

// Encoded holds the messages rows of one dialog, made by Encoder.Encode and
// consumed by Writer.DialogEncoded, which takes it back for a later Encode:
// it must not be used after.
type Encoded struct {
	// dialog holds the values of a new dialogs row (id slot nil).
	dialog []any
	// rows says whether args holds the messages rows.
	rows bool
	// args holds messageArgs values per message, in order; the id and
	// dialog_id slots are filled in by the Writer.
	args    []any
	fileIDs []int64 // per message, 0 for none
	frames  int64
}

// messageArgs is the number of values of one messages row (id first).
const messageArgs = 1 + messageColCount

// errUnknownFile makes Encode give up on a dialog whose messages name a
// file without a files row yet: the Writer creates the row (in its
// transaction) and encodes the dialog itself.
var errUnknownFile = errors.New("store: unknown file")

// Encoder returns an Encoder for w's rows. It must be created before the
// Writer's first Dialog call and not outlive the Writer.
func (w *Writer) Encoder() *Encoder {
	w.encPool = &encPool{}
	return &Encoder{s: w.s, seqBase: w.seqBase, skip: w.opts.DialogsOnly, pool: w.encPool,
		rows: rowEncoder{addrs: make(map[netip.AddrPort]any), strs: make(map[string]any)}}
}

// Encode returns the rows of dialog d and its messages msgs, or nil when the
// Writer must encode them itself (it then does so in DialogEncoded).
func (e *Encoder) Encode(d *correlate.Dialog, msgs []*correlate.Message) *Encoded {
	if e.skip || d == nil {
		return nil
	}
	enc := e.pool.get()
	if enc == nil {
		enc = &Encoded{dialog: make([]any, 0, 2+dialogColCount)}
	}
	e.rows.buf = appendTxns(e.rows.buf[:0], d.Transactions, 0)
	txns := "[]"
	if len(d.Transactions) > 0 {
		txns = string(e.rows.buf)
	}
	enc.dialog = append(appendDialogArgs(append(enc.dialog, nil), &e.rows.box, d), e.rows.box.str(txns))
	if n := messageArgs * len(msgs); cap(enc.args) < n {
		// Room for a typical call, so that a reused one rarely grows.
		enc.args, enc.fileIDs = make([]any, 0, max(n, 16*messageArgs)), make([]int64, 0, max(len(msgs), 16))
	}
	size := 0
	for _, m := range msgs {
		if m == nil || m.Message == nil {
			continue
		}
		dm := m.Message
		for _, fr := range dm.Frames {
			size += frameHeaderLen + len(fr.Data)
		}
		if len(dm.Frames) == 1 && len(dm.Frames[0].Data) >= len(dm.Raw) {
			// Most likely the raw bytes end the frame and are not
			// stored twice (see row); if not, append grows the arena.
			size -= len(dm.Raw)
		}
	}
	arena := make([]byte, 0, size)
	lookup := func(name string) (int64, error) {
		if name == "" {
			return 0, nil
		}
		e.s.mu.Lock()
		id, ok := e.s.files[name]
		e.s.mu.Unlock()
		if !ok {
			return 0, errUnknownFile
		}
		return id, nil
	}
	for _, m := range msgs {
		if m == nil || m.Message == nil {
			continue
		}
		var (
			fid, nfr int64
			err      error
		)
		enc.args, arena, fid, nfr, err = e.rows.row(enc.args, arena, e.seqBase, 0, lookup, m)
		if err != nil {
			enc.args, enc.fileIDs, enc.frames = nil, nil, 0
			return enc
		}
		enc.fileIDs = append(enc.fileIDs, fid)
		enc.frames += nfr
	}
	enc.rows = true
	return enc
}

// rowEncoder builds messages rows; it keeps a few formatted addresses and
// short strings as row values (an interface value made once instead of
// one allocation per row).
type rowEncoder struct {
	addrs map[netip.AddrPort]any
	strs  map[string]any // transports, encapsulations, methods
	buf   []byte         // scratch for JSON values
	box   boxes          // the other values
}

// row appends the values of m's messages row to dst (the id and dialog_id
// slots nil) and its frames blob to arena; fileID maps input names to
// files ids. It returns m's file id and the number of frames.
func (r *rowEncoder) row(dst []any, arena []byte, seqBase int64, txnBase int,
	fileID func(string) (int64, error), m *correlate.Message) ([]any, []byte, int64, int64, error) {
	fid, err := fileID(m.File)
	if err != nil {
		return dst, arena, 0, 0, err
	}
	txn := m.Txn
	if txn >= 0 {
		txn += txnBase
	}
	dm := m.Message
	start := len(arena)
	for _, fr := range dm.Frames {
		ffid, err := fileID(fr.File)
		if err != nil {
			return dst, arena, 0, 0, err
		}
		data, tail := fr.Data, false
		if len(dm.Frames) == 1 && len(dm.Raw) > 0 && bytes.HasSuffix(data, dm.Raw) {
			// The message's raw bytes are stored with it: keep the
			// headers before them only (Frames puts them back).
			data, tail = data[:len(data)-len(dm.Raw)], true
		}
		arena = appendFrame(arena, fr.Number, ns(fr.Time), ffid, fr.Link, fr.OrigLen, data, tail)
	}
	frames := arena[start:len(arena):len(arena)]
	var events, hep any
	if len(m.Events) > 0 {
		b := append(r.buf[:0], '[')
		for i := range m.Events {
			e := &m.Events[i]
			efid, err := fileID(e.File)
			if err != nil {
				return dst, arena, 0, 0, err
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEvent(b, efid, e)
		}
		b = append(b, ']')
		events, r.buf = string(b), b
	}
	if dm.HEP != nil {
		r.buf = appendHEP(r.buf[:0], dm.HEP)
		hep = string(r.buf)
	}
	raw := dm.Raw
	if raw == nil {
		raw = []byte{}
	}
	b := &r.box
	dst = append(dst, nil, nullID(fid), nil, b.int(seqBase+m.Seq), b.int(ns(dm.Time)), b.int(int64(txn)),
		m.Retransmission, r.str(m.Leg), r.addr(dm.Src), r.addr(dm.Dst), r.str(string(dm.Transport)), r.str(dm.Encap), r.str(dm.Method),
		b.int(int64(dm.Status)), b.int(int64(dm.CSeq)), hep, events, b.blob(frames), b.blob(raw), dm.Duplicate,
		b.int(int64(dm.Warnings)))
	return dst, arena, fid, int64(len(dm.Frames)), nil
}

// addr formats a message address as a row value, remembering the few a
// capture has.
func (r *rowEncoder) addr(a netip.AddrPort) any {
	if v, ok := r.addrs[a]; ok {
		return v
	}
	var v any = addrString(a)
	if len(r.addrs) >= 4096 {
		clear(r.addrs)
	}
	r.addrs[a] = v
	return v
}

// str returns s as a row value, remembering the few short ones a capture
// repeats (transports, encapsulations, methods).
func (r *rowEncoder) str(s string) any {
	if s == "" || len(s) > 32 {
		return s
	}
	if v, ok := r.strs[s]; ok {
		return v
	}
	s = strings.Clone(s) // not the message's bytes it may point into
	var v any = s
	if len(r.strs) >= 256 {
		clear(r.strs)
	}
	r.strs[s] = v
	return v
}
