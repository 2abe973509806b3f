package main

import (
	"bytes"
	"encoding/json"
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

// messageJSON appends the JSON Lines record of `messages` (messageRecord,
// the contract of issue 2) with its newline, field for field in the
// order encoding/json writes messageRecord.
type messageJSON struct {
	scratch []byte
	ts      jsonTime
}

func (e *messageJSON) append(dst []byte, index int64, m *decode.Message) []byte {
	dst = append(dst, `{"index":`...)
	dst = strconv.AppendInt(dst, index, 10)
	dst = append(dst, `,"file":`...)
	dst = appendJSONString(dst, m.File)
	dst = append(dst, `,"frame":`...)
	var frame int64
	if n := len(m.Frames); n > 0 {
		frame = m.Frames[n-1].Number // the frame that completed the message
	}
	dst = strconv.AppendInt(dst, frame, 10)
	dst = append(dst, `,"frames":[`...)
	for i, f := range m.Frames {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, f.Number, 10)
	}
	dst = append(dst, `],"ts":`...)
	dst = e.ts.append(dst, m.Time)
	dst = append(dst, `,"src":`...)
	dst, e.scratch = appendJSONAddrPort(dst, e.scratch, m.Src)
	dst = append(dst, `,"dst":`...)
	dst, e.scratch = appendJSONAddrPort(dst, e.scratch, m.Dst)
	dst = append(dst, `,"transport":`...)
	dst = appendJSONString(dst, string(m.Transport))
	dst = append(dst, `,"encap":`...)
	dst = appendJSONString(dst, m.Encap)
	dst = append(dst, `,"method":`...)
	dst = appendJSONString(dst, m.Method)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(m.Status), 10)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, m.Reason)
	dst = append(dst, `,"cseq":`...)
	if m.CSeqMethod != "" || m.CSeq != 0 {
		e.scratch = strconv.AppendUint(e.scratch[:0], uint64(m.CSeq), 10)
		e.scratch = append(e.scratch, ' ')
		e.scratch = append(e.scratch, m.CSeqMethod...)
		dst = appendJSONString(dst, e.scratch)
	} else {
		dst = append(dst, `""`...)
	}
	dst = append(dst, `,"call_id":`...)
	dst = appendJSONString(dst, m.CallID)
	dst = append(dst, `,"from":`...)
	dst = appendJSONString(dst, m.From.URI)
	dst = append(dst, `,"to":`...)
	dst = appendJSONString(dst, m.To.URI)
	dst = append(dst, `,"from_tag":`...)
	dst = appendJSONString(dst, m.From.Tag)
	dst = append(dst, `,"to_tag":`...)
	dst = appendJSONString(dst, m.To.Tag)
	dst = append(dst, `,"user_agent":`...)
	dst = appendJSONString(dst, m.UserAgent)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, int64(len(m.Raw)), 10)
	dst = append(dst, `,"warnings":`...)
	if m.Warnings != 0 {
		dst = appendJSONString(dst, m.Warnings.String()) // rare: a message the parser bent a rule for
	} else {
		dst = append(dst, `""`...)
	}
	if m.HEP != nil {
		agent := m.HEP.AgentName
		if agent == "" && m.HEP.AgentID != 0 {
			agent = strconv.FormatUint(uint64(m.HEP.AgentID), 10)
		}
		if agent != "" { // omitempty
			dst = append(dst, `,"hep_agent":`...)
			dst = appendJSONString(dst, agent)
		}
	}
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, m.Duplicate)
	return append(dst, '}', '\n')
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
// writes it. A call with RTP streams is rare in the volume that matters
// and its media objects have many floats: that record goes through
// encoding/json.
func appendCallJSON(dst []byte, r *callRecord) ([]byte, error) {
	if len(r.Media) > 0 {
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
	dst = append(dst, `,"worst":`...)
	dst = appendJSONString(dst, r.Worst)
	dst = append(dst, `,"worst_severity":`...)
	dst = appendJSONString(dst, r.WorstSeverity)
	dst = append(dst, `,"findings":`...)
	dst = strconv.AppendInt(dst, int64(r.Findings), 10)
	return append(dst, '}', '\n'), nil
}
