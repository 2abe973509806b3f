package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// Hand-rolled JSON for the hot output paths. The profile of `messages
// --format jsonl` on a 390,000-message capture spent a third of its CPU in
// encoding/json (reflection over messageRecord, a fresh record and its
// strings per message) and another sixth making the record; these
// appenders write the same bytes into a reused buffer with no allocation
// per message. TestMessagesJSONLHandRolled holds them byte-identical to
// encoding/json (Encoder with SetEscapeHTML(false)) on every capture.

const hexDigits = "0123456789abcdef"

// jsonSafe[b] says an ASCII byte needs no escape in a JSON string when
// HTML escaping is off (encoding/json's safeSet): all but the control
// characters, '"' and '\\'.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json
// writes it with SetEscapeHTML(false): \b \f \n \r \t and \" \\ as such,
// other control characters as \u00XX, invalid UTF-8 as \ufffd, and
// U+2028/U+2029 escaped (RFC 8259 §7 allows all of these). The algorithm
// follows the standard library's appendString (BSD licence).
func appendJSONString[S []byte | string](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(s)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(string(s[i : i+n]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONAddrPort appends a.String() as a JSON string without making
// the string ("invalid AddrPort" for the zero value, as String says).
func appendJSONAddrPort(dst, scratch []byte, a netip.AddrPort) ([]byte, []byte) {
	if !a.Addr().IsValid() {
		return appendJSONString(dst, "invalid AddrPort"), scratch
	}
	scratch = a.AppendTo(scratch[:0])
	return appendJSONString(dst, scratch), scratch
}

// jsonTime appends correlate.FormatTime(t) as a JSON string. Formatting
// the date and time of day was a seventh of `messages`' CPU: it changes
// once a second, so the text up to the seconds is kept and only the
// nanoseconds are written for each time in the same second.
type jsonTime struct {
	sec    int64  // the Unix second prefix is for
	prefix []byte // `"2006-01-02T15:04:05.`
	ok     bool
}

func (j *jsonTime) append(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, `""`...)
	}
	t = t.UTC()
	if sec := t.Unix(); !j.ok || sec != j.sec || t.Year() < 0 || t.Year() > 9999 {
		// Years outside 0..9999 are written as Format writes them, the
		// slow way (and not cached).
		if y := t.Year(); y < 0 || y > 9999 {
			dst = append(dst, '"')
			dst = t.AppendFormat(dst, correlate.TimeFormat)
			return append(dst, '"')
		}
		j.sec, j.ok = sec, true
		j.prefix = append(j.prefix[:0], '"')
		j.prefix = t.AppendFormat(j.prefix, "2006-01-02T15:04:05.")
	}
	dst = append(dst, j.prefix...)
	ns := t.Nanosecond()
	var d [9]byte
	for i := 8; i >= 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	dst = append(dst, d[:]...)
	return append(dst, 'Z', '"')
}

// msgBatch carries messages from the decoding stage of `messages
// --format jsonl` to the stage that encodes and writes them: each message
// as a msgRow of what its record needs, its strings copied into one arena,
// so that the decoder's buffers can be reused at once and the batch can
// cross goroutines. Copying a message's strings costs a few memmoves; the
// JSON (escaping every byte, formatting numbers and times) then runs on the
// other core.
type msgBatch struct {
	rows   []msgRow
	arena  []byte
	frames []int64
}

// span is a string in a msgBatch's arena.
type span struct{ off, n int32 }

// The strings of a msgRow, in record order.
const (
	sFile = iota
	sTransport
	sEncap
	sMethod
	sReason
	sCSeqMethod
	sCallID
	sFrom
	sTo
	sFromTag
	sToTag
	sUserAgent
	sWarnings
	sHEPAgent
	nStrings
)

type msgRow struct {
	index, frame int64
	framesOff    int32
	framesN      int32
	t            time.Time
	src, dst     netip.AddrPort
	status, size int
	cseq         uint32
	hasCSeq, dup bool
	str          [nStrings]span
}

func (b *msgBatch) reset() {
	b.rows, b.arena, b.frames = b.rows[:0], b.arena[:0], b.frames[:0]
}

func (b *msgBatch) str(s string) span {
	off := len(b.arena)
	b.arena = append(b.arena, s...)
	return span{int32(off), int32(len(s))}
}

func (b *msgBatch) bytes(sp span) []byte { return b.arena[sp.off : sp.off+sp.n] }

// add copies what the record of message index m needs into b.
func (b *msgBatch) add(index int64, m *decode.Message) {
	b.rows = append(b.rows, msgRow{})
	r := &b.rows[len(b.rows)-1]
	r.index, r.t, r.src, r.dst = index, m.Time, m.Src, m.Dst
	r.status, r.size, r.cseq, r.dup = m.Status, len(m.Raw), m.CSeq, m.Duplicate
	r.hasCSeq = m.CSeqMethod != "" || m.CSeq != 0
	r.framesOff, r.framesN = int32(len(b.frames)), int32(len(m.Frames))
	for _, f := range m.Frames {
		b.frames = append(b.frames, f.Number)
	}
	if n := len(m.Frames); n > 0 {
		r.frame = m.Frames[n-1].Number // the frame that completed the message
	}
	r.str[sFile] = b.str(m.File)
	r.str[sTransport] = b.str(string(m.Transport))
	r.str[sEncap] = b.str(m.Encap)
	r.str[sMethod] = b.str(m.Method)
	r.str[sReason] = b.str(m.Reason)
	r.str[sCSeqMethod] = b.str(m.CSeqMethod)
	r.str[sCallID] = b.str(m.CallID)
	r.str[sFrom] = b.str(m.From.URI())
	r.str[sTo] = b.str(m.To.URI())
	r.str[sFromTag] = b.str(m.From.Tag)
	r.str[sToTag] = b.str(m.To.Tag)
	r.str[sUserAgent] = b.str(m.UserAgent)
	if m.Warnings != 0 {
		r.str[sWarnings] = b.str(m.Warnings.String()) // rare: a message the parser bent a rule for
	} else {
		r.str[sWarnings] = span{}
	}
	r.str[sHEPAgent] = span{}
	if m.HEP != nil {
		agent := m.HEP.AgentName
		if agent == "" && m.HEP.AgentID != 0 {
			agent = strconv.FormatUint(uint64(m.HEP.AgentID), 10)
		}
		r.str[sHEPAgent] = b.str(agent)
	}
}

// messageJSON appends the JSON Lines record of `messages` (messageRecord,
// the contract of issue 2) with its newline, field for field in the order
// encoding/json writes messageRecord.
type messageJSON struct {
	scratch []byte
	ts      jsonTime
}

func (e *messageJSON) append(dst []byte, b *msgBatch, r *msgRow) []byte {
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, r.index, 10)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sFile]))
	dst = append(dst, `,"frame":`...)
	dst = strconv.AppendInt(dst, r.frame, 10)
	dst = append(dst, `,"frames":[`...)
	for i, n := range b.frames[r.framesOff : r.framesOff+r.framesN] {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, n, 10)
	}
	dst = append(dst, `],"ts":`...)
	dst = e.ts.append(dst, r.t)
	dst = append(dst, `,"src":`...)
	dst, e.scratch = appendJSONAddrPort(dst, e.scratch, r.src)
	dst = append(dst, `,"dst":`...)
	dst, e.scratch = appendJSONAddrPort(dst, e.scratch, r.dst)
	dst = append(dst, `,"transport":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sTransport]))
	dst = append(dst, `,"encap":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sEncap]))
	dst = append(dst, `,"method":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sMethod]))
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.status), 10)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sReason]))
	dst = append(dst, `,"cseq":`...)
	if r.hasCSeq {
		e.scratch = strconv.AppendUint(e.scratch[:0], uint64(r.cseq), 10)
		e.scratch = append(e.scratch, ' ')
		e.scratch = append(e.scratch, b.bytes(r.str[sCSeqMethod])...)
		dst = appendJSONString(dst, e.scratch)
	} else {
		dst = append(dst, `""`...)
	}
	dst = append(dst, `,"call_id":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sCallID]))
	dst = append(dst, `,"from":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sFrom]))
	dst = append(dst, `,"to":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sTo]))
	dst = append(dst, `,"from_tag":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sFromTag]))
	dst = append(dst, `,"to_tag":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sToTag]))
	dst = append(dst, `,"user_agent":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sUserAgent]))
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, int64(r.size), 10)
	dst = append(dst, `,"warnings":`...)
	dst = appendJSONString(dst, b.bytes(r.str[sWarnings]))
	if sp := r.str[sHEPAgent]; sp.n > 0 { // omitempty
		dst = append(dst, `,"hep_agent":`...)
		dst = appendJSONString(dst, b.bytes(sp))
	}
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, r.dup)
	return append(dst, '}', '\n')
}

// msgPipe is the back half of `messages --format jsonl`: the decoding
// goroutine fills batches (Add), a second goroutine encodes them and
// writes them to w, in order. The queue between them holds msgQueue
// batches of msgBatchRows messages, recycled: bounded memory, and the
// decoder waits only when the encoder is that far behind.
type msgPipe struct {
	cur  *msgBatch
	q    chan *msgBatch
	free chan *msgBatch
	done chan struct{}
	err  error // the writer's first error; read after done
	// failed is set (by the writer) after its first error, for Add.
	failed chan struct{}
}

const (
	msgBatchRows = 512
	msgQueue     = 4
)

func newMsgPipe(w io.Writer) *msgPipe {
	p := &msgPipe{q: make(chan *msgBatch, msgQueue), free: make(chan *msgBatch, msgQueue+2),
		done: make(chan struct{}), failed: make(chan struct{}), cur: new(msgBatch)}
	go p.loop(w)
	return p
}

func (p *msgPipe) loop(w io.Writer) {
	defer close(p.done)
	var e messageJSON
	buf := make([]byte, 0, 256<<10)
	for b := range p.q {
		if p.err == nil {
			buf = buf[:0]
			for i := range b.rows {
				buf = e.append(buf, b, &b.rows[i])
			}
			if _, err := w.Write(buf); err != nil {
				p.err = err
				close(p.failed)
			}
		}
		b.reset()
		select {
		case p.free <- b:
		default:
		}
	}
}

// Add queues message index m. It returns errWriterFailed once the writer
// has failed (Close returns its error).
func (p *msgPipe) Add(index int64, m *decode.Message) error {
	select {
	case <-p.failed:
		return errWriterFailed
	default:
	}
	p.cur.add(index, m)
	if len(p.cur.rows) >= msgBatchRows {
		p.send()
	}
	return nil
}

func (p *msgPipe) send() {
	if len(p.cur.rows) == 0 {
		return
	}
	p.q <- p.cur
	select {
	case p.cur = <-p.free:
	default:
		p.cur = new(msgBatch)
	}
}

// Close writes what is queued, waits for the writer and returns its first
// error.
func (p *msgPipe) Close() error {
	p.send()
	close(p.q)
	<-p.done
	return p.err
}

// appendJSONFloat appends f as encoding/json writes a float64: the
// shortest decimal that reads back the same, in exponent form below 1e-6
// and from 1e21, with a one-digit negative exponent ("1e-7", not "1e-07").
func appendJSONFloat(dst []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendJSONOptFloat(dst []byte, p *float64) []byte {
	if p == nil {
		return append(dst, "null"...)
	}
	return appendJSONFloat(dst, *p)
}

func appendJSONStrings(dst []byte, l []string) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendCallJSON appends the JSON Lines record of `calls` (callRecord, the
// contract of issues 3, 11 and 16) with its newline, as encoding/json
// writes it. A call with RTP streams (or SIP INFO digits) is rare in the volume that matters
// and its media objects have many floats: that record goes through
// encoding/json.
func appendCallJSON(dst []byte, r *callRecord) ([]byte, error) {
	if len(r.Media) > 0 || len(r.InfoDTMFEvents) > 0 {
		b := bytes.NewBuffer(dst)
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(r)
		return b.Bytes(), err
	}
	dst = append(dst, `{"call_id":`...)
	dst = appendJSONString(dst, r.CallID)
	dst = append(dst, `,"kind":`...)
	dst = appendJSONString(dst, r.Kind)
	dst = append(dst, `,"state":`...)
	dst = appendJSONString(dst, r.State)
	dst = append(dst, `,"final_status":`...)
	dst = strconv.AppendInt(dst, int64(r.FinalStatus), 10)
	dst = append(dst, `,"final_reason":`...)
	dst = appendJSONString(dst, r.FinalReason)
	dst = append(dst, `,"from":`...)
	dst = appendJSONString(dst, r.From)
	dst = append(dst, `,"to":`...)
	dst = appendJSONString(dst, r.To)
	dst = append(dst, `,"from_user":`...)
	dst = appendJSONString(dst, r.FromUser)
	dst = append(dst, `,"to_user":`...)
	dst = appendJSONString(dst, r.ToUser)
	dst = append(dst, `,"src":`...)
	dst = appendJSONString(dst, r.Src)
	dst = append(dst, `,"dst":`...)
	dst = appendJSONString(dst, r.Dst)
	dst = append(dst, `,"transport":`...)
	dst = appendJSONString(dst, r.Transport)
	dst = append(dst, `,"messages":`...)
	dst = strconv.AppendInt(dst, int64(r.Messages), 10)
	dst = append(dst, `,"retransmissions":`...)
	dst = strconv.AppendInt(dst, int64(r.Retransmissions), 10)
	dst = append(dst, `,"duplicates":`...)
	dst = strconv.AppendInt(dst, int64(r.Duplicates), 10)
	dst = append(dst, `,"start":`...)
	dst = appendJSONString(dst, r.Start)
	dst = append(dst, `,"end":`...)
	dst = appendJSONString(dst, r.End)
	dst = append(dst, `,"setup_ms":`...)
	dst = appendJSONOptFloat(dst, r.SetupMS)
	dst = append(dst, `,"answer_ms":`...)
	dst = appendJSONOptFloat(dst, r.AnswerMS)
	dst = append(dst, `,"duration_ms":`...)
	dst = appendJSONOptFloat(dst, r.DurationMS)
	dst = append(dst, `,"q850_cause":`...)
	dst = strconv.AppendInt(dst, int64(r.Q850Cause), 10)
	dst = append(dst, `,"user_agent":`...)
	dst = appendJSONString(dst, r.UserAgent)
	dst = append(dst, `,"linked":`...)
	dst = appendJSONStrings(dst, r.Linked)
	dst = append(dst, `,"legs":`...)
	dst = appendJSONStrings(dst, r.Legs)
	dst = append(dst, `,"events":`...)
	dst = strconv.AppendInt(dst, int64(r.Events), 10)
	if r.Media == nil {
		dst = append(dst, `,"media":null`...)
	} else {
		dst = append(dst, `,"media":[]`...)
	}
	dst = append(dst, `,"mos":`...)
	dst = appendJSONOptFloat(dst, r.MOS)
	dst = append(dst, `,"info_dtmf":`...)
	dst = appendJSONString(dst, r.InfoDTMF)
	if r.InfoDTMFEvents == nil {
		dst = append(dst, `,"info_dtmf_events":null`...)
	} else {
		dst = append(dst, `,"info_dtmf_events":[]`...)
	}
	dst = append(dst, `,"worst":`...)
	dst = appendJSONString(dst, r.Worst)
	dst = append(dst, `,"worst_severity":`...)
	dst = appendJSONString(dst, r.WorstSeverity)
	dst = append(dst, `,"findings":`...)
	dst = strconv.AppendInt(dst, int64(r.Findings), 10)
	return append(dst, '}', '\n'), nil
}
