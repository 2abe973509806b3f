package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// Schema 4 keeps the frames, events and HEP header of a message in columns
// of its messages row, and the transactions of a dialog in a column of its
// dialogs row, instead of rows of their own: one row per message instead of
// two or more, which is most of an import's cost in SQLite.

// frameHeaderLen is the size of one frame's header in messages.frames.
const frameHeaderLen = 36

// tailBit marks, in a frame's length word, a frame whose bytes end with its
// message's raw bytes: only the bytes before them are stored.
const tailBit = 1 << 31

// appendFrame appends one frame to a messages.frames blob. The format
// (big-endian, one entry per frame, in capture order):
//
//	number   8 bytes  frame number within its file
//	ts       8 bytes  capture time, ns since the Unix epoch (signed)
//	file_id  8 bytes  files.id (0 = none)
//	link     4 bytes  pcap LINKTYPE_ of the data
//	orig_len 4 bytes  length on the wire
//	length   4 bytes  bytes stored; top bit set = tail: append messages.raw
//	data     length bytes
func appendFrame(dst []byte, number, ts, fileID int64, link uint16, origLen int, data []byte, tail bool) []byte {
	n := uint32(len(data))
	if tail {
		n |= tailBit
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(number))
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = binary.BigEndian.AppendUint64(dst, uint64(fileID))
	dst = binary.BigEndian.AppendUint32(dst, uint32(link))
	dst = binary.BigEndian.AppendUint32(dst, uint32(origLen))
	dst = binary.BigEndian.AppendUint32(dst, n)
	return append(dst, data...)
}

// storedFrame is one entry of a messages.frames blob.
type storedFrame struct {
	number, ts, fileID int64
	link               uint16
	origLen            int
	tail               bool
	data               []byte // aliases the blob
}

// parseFrames splits a messages.frames blob; a damaged entry ends it.
func parseFrames(b []byte, fn func(storedFrame)) {
	for len(b) >= frameHeaderLen {
		var f storedFrame
		f.number = int64(binary.BigEndian.Uint64(b))
		f.ts = int64(binary.BigEndian.Uint64(b[8:]))
		f.fileID = int64(binary.BigEndian.Uint64(b[16:]))
		f.link = uint16(binary.BigEndian.Uint32(b[24:]))
		f.origLen = int(binary.BigEndian.Uint32(b[28:]))
		n := binary.BigEndian.Uint32(b[32:])
		f.tail = n&tailBit != 0
		n &^= tailBit
		b = b[frameHeaderLen:]
		if uint64(n) > uint64(len(b)) {
			return
		}
		f.data = b[:n:n]
		b = b[n:]
		fn(f)
	}
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				const hexd = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonObj writes one JSON object field by field.
type jsonObj struct {
	b     []byte
	first bool
}

func (o *jsonObj) key(k string) {
	if o.first {
		o.first = false
	} else {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObj) str(k, v string) { o.key(k); o.b = appendJSONString(o.b, v) }
func (o *jsonObj) int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// dialogs.transactions (schema 5) is a JSON array with one array per
// transaction, its fields by position (txn* below): most of a dialog row
// is its transactions, and field names were two thirds of them.
//
//	[idx, branch, method, cseq, start_ns, duration_ns, final_status,
//	 final_reason, messages, retransmissions, legs, cancels, opening]
//
// duration_ns is end minus start; legs is an array of To tags; cancels is
// the idx of the INVITE a CANCEL cancels (-1 for none); opening is 1 for
// the transaction of the request that opened the dialog, else 0. In SQL:
// json_extract(t.value, '$[2]') FROM dialogs, json_each(dialogs.transactions) t.
const (
	txnIdx = iota
	txnBranch
	txnMethod
	txnCSeq
	txnStart
	txnDuration
	txnFinalStatus
	txnFinalReason
	txnMessages
	txnRetransmissions
	txnLegs
	txnCancels
	txnOpening
	txnFields
)

// appendTxn appends t, its index shifted by base, as one element of
// dialogs.transactions.
func appendTxn(dst []byte, t *correlate.Transaction, base int) []byte {
	cancels := t.Cancels
	if cancels >= 0 {
		cancels += base
	}
	start := ns(t.Start)
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(base+t.Index), 10)
	dst = append(dst, ',')
	dst = appendJSONString(dst, t.Branch)
	dst = append(dst, ',')
	dst = appendJSONString(dst, t.Method)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(t.CSeq), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, start, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, ns(t.End)-start, 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(t.FinalStatus), 10)
	dst = append(dst, ',')
	dst = appendJSONString(dst, t.FinalReason)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(t.Messages), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(t.Retransmissions), 10)
	dst = append(dst, ',', '[')
	for i, l := range t.Legs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, l)
	}
	dst = append(dst, ']', ',')
	dst = strconv.AppendInt(dst, int64(cancels), 10)
	if t.Opening {
		return append(dst, ",1]"...)
	}
	return append(dst, ",0]"...)
}

// appendTxns appends the dialogs.transactions array of ts shifted by base.
func appendTxns(dst []byte, ts []correlate.Transaction, base int) []byte {
	dst = append(dst, '[')
	for i := range ts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTxn(dst, &ts[i], base)
	}
	return append(dst, ']')
}

// parseTxns reads a dialogs.transactions array.
func parseTxns(s []byte) ([]correlate.Transaction, error) {
	if len(s) == 0 {
		return nil, nil
	}
	var rows [][]json.RawMessage
	if err := json.Unmarshal(s, &rows); err != nil {
		return nil, err
	}
	var ts []correlate.Transaction
	for i, row := range rows {
		if len(row) < txnFields {
			return nil, fmt.Errorf("transaction %d: %d fields, want %d", i, len(row), txnFields)
		}
		var (
			t                         correlate.Transaction
			cseq, start, dur, opening int64
		)
		for _, f := range []struct {
			i int
			v any
		}{
			{txnIdx, &t.Index}, {txnBranch, &t.Branch}, {txnMethod, &t.Method}, {txnCSeq, &cseq},
			{txnStart, &start}, {txnDuration, &dur}, {txnFinalStatus, &t.FinalStatus},
			{txnFinalReason, &t.FinalReason}, {txnMessages, &t.Messages},
			{txnRetransmissions, &t.Retransmissions}, {txnLegs, &t.Legs}, {txnCancels, &t.Cancels},
			{txnOpening, &opening},
		} {
			if err := json.Unmarshal(row[f.i], f.v); err != nil {
				return nil, fmt.Errorf("transaction %d field %d: %w", i, f.i, err)
			}
		}
		if len(t.Legs) == 0 {
			t.Legs = nil
		}
		t.CSeq, t.Start, t.End, t.Opening = uint32(cseq), fromNS(start), fromNS(start+dur), opening != 0
		ts = append(ts, t)
	}
	return ts, nil
}

// storedEvent is one element of messages.events, a JSON array.
type storedEvent struct {
	FileID     int64  `json:"file_id"`
	Frame      int64  `json:"frame"`
	TS         int64  `json:"ts"`
	Kind       string `json:"kind"`
	Detail     string `json:"detail"`
	FromAddr   string `json:"from_addr"`
	Src        string `json:"src"`
	Dst        string `json:"dst"`
	CallID     string `json:"call_id"`
	CSeq       int64  `json:"cseq"`
	CSeqMethod string `json:"cseq_method"`
	Method     string `json:"method"`
}

func appendEvent(dst []byte, fileID int64, e *decode.Event) []byte {
	from := ""
	if e.From.IsValid() {
		from = e.From.String()
	}
	o := jsonObj{b: append(dst, '{'), first: true}
	o.int("file_id", fileID)
	o.int("frame", e.Frame)
	o.int("ts", ns(e.Time))
	o.str("kind", e.Kind)
	o.str("detail", e.Detail)
	o.str("from_addr", from)
	o.str("src", addrString(e.Src))
	o.str("dst", addrString(e.Dst))
	o.str("call_id", e.CallID)
	o.int("cseq", int64(e.CSeq))
	o.str("cseq_method", e.CSeqMethod)
	o.str("method", e.Method)
	return append(o.b, '}')
}

func (se *storedEvent) event() decode.Event {
	e := decode.Event{Frame: se.Frame, Time: fromNS(se.TS), Kind: se.Kind, Detail: se.Detail,
		Src: parseAddr(se.Src), Dst: parseAddr(se.Dst), CallID: se.CallID, CSeq: uint32(se.CSeq),
		CSeqMethod: se.CSeqMethod, Method: se.Method}
	if a, err := netip.ParseAddr(se.FromAddr); err == nil {
		e.From = a
	}
	return e
}

// storedHEP is messages.hep, a JSON object (NULL when the message did not
// come in HEP).
type storedHEP struct {
	Version   int    `json:"version"`
	AgentID   uint32 `json:"agent_id"`
	AgentName string `json:"agent_name"`
	Proto     int    `json:"proto"`
	Src       string `json:"src"`
	Dst       string `json:"dst"`
}

func appendHEP(dst []byte, h *decode.HEPInfo) []byte {
	o := jsonObj{b: append(dst, '{'), first: true}
	o.int("version", int64(h.Version))
	o.int("agent_id", int64(h.AgentID))
	o.str("agent_name", h.AgentName)
	o.int("proto", int64(h.Proto))
	o.str("src", addrString(h.CollectorSrc))
	o.str("dst", addrString(h.CollectorDst))
	return append(o.b, '}')
}

func parseHEP(s []byte) *decode.HEPInfo {
	var h storedHEP
	if len(s) == 0 || json.Unmarshal(s, &h) != nil || h.Version == 0 {
		return nil
	}
	return &decode.HEPInfo{Version: h.Version, AgentID: h.AgentID, AgentName: h.AgentName, Proto: h.Proto,
		CollectorSrc: parseAddr(h.Src), CollectorDst: parseAddr(h.Dst)}
}
