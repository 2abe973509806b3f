package render

import (
	"encoding/json"
	"io"

	"github.com/sipscope/sipscope/correlate"
)

// JSONVersion is the version of the document JSON writes; it changes only
// when a field changes meaning or goes away.
const JSONVersion = 2

// JSONDoc is the document JSON writes. Field names are a contract:
//
//	version       JSONVersion
//	dialogs[]     one per Call-ID of the ladder, in colour order:
//	  call_id, kind, state, final_status (0 when none), final_reason,
//	  from, to (URIs), from_user, to_user, from_display, to_display,
//	  src, dst (IP:port of the first message), transport,
//	  messages, retransmissions, start, end (RFC 3339, UTC, 9-digit ns),
//	  setup_ms, answer_ms, duration_ms (whole milliseconds; null when
//	  they do not apply), q850_cause (0 when none), user_agent,
//	  linked (Call-IDs), legs (To tags), events: all of correlate.Record,
//	  as `sipscope calls` writes them; then transactions[]:
//	    index, branch, method, cseq, start, end, final_status,
//	    final_reason, messages, retransmissions, legs
//	columns[]     the ladder's endpoints: key (IP:port or IP), name
//	messages[]    every message in ladder order:
//	  index (0-based), seq (capture order), call_id, call (index into
//	  dialogs), txn (index into that dialog's transactions, -1 when
//	  none), time (RFC 3339 UTC), delta_ms (since the previous message),
//	  src, dst, from_col, to_col (indexes into columns), transport,
//	  request, method (of a request, or the CSeq method of a response),
//	  request_uri, status, reason, cseq, cseq_method, label,
//	  retransmission, leg, sdp (bool), raw (the message as text)
type JSONDoc struct {
	Version  int           `json:"version"`
	Dialogs  []JSONDialog  `json:"dialogs"`
	Columns  []JSONColumn  `json:"columns"`
	Messages []JSONMessage `json:"messages"`
}

// JSONDialog is one dialog of a JSONDoc: the dialog's correlate.Record
// (the fields of `sipscope calls --format jsonl`) plus the display names and
// the transactions.
type JSONDialog struct {
	correlate.Record
	FromDisplay  string            `json:"from_display"`
	ToDisplay    string            `json:"to_display"`
	Transactions []JSONTransaction `json:"transactions"`
}

// JSONTransaction is one transaction of a JSONDialog.
type JSONTransaction struct {
	Index           int      `json:"index"`
	Branch          string   `json:"branch"`
	Method          string   `json:"method"`
	CSeq            uint32   `json:"cseq"`
	Start           string   `json:"start"`
	End             string   `json:"end"`
	FinalStatus     int      `json:"final_status"`
	FinalReason     string   `json:"final_reason"`
	Messages        int      `json:"messages"`
	Retransmissions int      `json:"retransmissions"`
	Legs            []string `json:"legs"`
}

// JSONColumn is one endpoint of a JSONDoc.
type JSONColumn struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// JSONMessage is one message of a JSONDoc.
type JSONMessage struct {
	Index          int     `json:"index"`
	Seq            int64   `json:"seq"`
	CallID         string  `json:"call_id"`
	Call           int     `json:"call"`
	Txn            int     `json:"txn"`
	Time           string  `json:"time"`
	DeltaMS        float64 `json:"delta_ms"`
	Src            string  `json:"src"`
	Dst            string  `json:"dst"`
	FromCol        int     `json:"from_col"`
	ToCol          int     `json:"to_col"`
	Transport      string  `json:"transport"`
	Request        bool    `json:"request"`
	Method         string  `json:"method"`
	RequestURI     string  `json:"request_uri"`
	Status         int     `json:"status"`
	Reason         string  `json:"reason"`
	CSeq           uint32  `json:"cseq"`
	CSeqMethod     string  `json:"cseq_method"`
	Label          string  `json:"label"`
	Retransmission bool    `json:"retransmission"`
	Leg            string  `json:"leg"`
	SDP            bool    `json:"sdp"`
	Raw            string  `json:"raw"`
}

// nonNil returns s, or an empty slice so that JSON says [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Document builds the JSON document of a ladder (see JSONDoc).
func Document(l *Ladder) JSONDoc {
	doc := JSONDoc{Version: JSONVersion, Dialogs: []JSONDialog{}, Columns: []JSONColumn{}, Messages: []JSONMessage{}}
	for _, c := range l.Calls {
		doc.Dialogs = append(doc.Dialogs, jsonDialog(c))
	}
	for _, c := range l.Columns {
		doc.Columns = append(doc.Columns, JSONColumn{Key: c.Key, Name: c.Name})
	}
	for i, a := range l.Arrows {
		m := l.Messages[a.Msg]
		jm := JSONMessage{
			Index: i, Seq: m.Seq, CallID: l.Calls[a.Call].CallID, Call: a.Call, Txn: m.Txn,
			Time: correlate.FormatTime(m.Time), DeltaMS: float64(a.Delta.Microseconds()) / 1000,
			Src: m.Src.String(), Dst: m.Dst.String(), FromCol: a.From, ToCol: a.To,
			Transport: string(m.Transport), Request: a.Request, Method: a.Method,
			RequestURI: m.RequestURI, Status: m.Status, Reason: m.Reason,
			CSeq: m.CSeq, CSeqMethod: m.CSeqMethod, Label: a.Label,
			Retransmission: a.Retrans, Leg: m.Leg, SDP: a.SDP, Raw: string(m.Raw),
		}
		doc.Messages = append(doc.Messages, jm)
	}
	return doc
}

func jsonDialog(c Call) JSONDialog {
	d := c.Dialog
	if d == nil {
		return JSONDialog{Record: correlate.Record{CallID: c.CallID, Linked: []string{}, Legs: []string{}},
			Transactions: []JSONTransaction{}}
	}
	jd := JSONDialog{Record: d.Record(), FromDisplay: d.From.Display, ToDisplay: d.To.Display,
		Transactions: []JSONTransaction{}}
	for _, t := range d.Transactions {
		jd.Transactions = append(jd.Transactions, JSONTransaction{
			Index: t.Index, Branch: t.Branch, Method: t.Method, CSeq: t.CSeq,
			Start: correlate.FormatTime(t.Start), End: correlate.FormatTime(t.End), FinalStatus: t.FinalStatus,
			FinalReason: t.FinalReason, Messages: t.Messages, Retransmissions: t.Retransmissions, Legs: nonNil(t.Legs),
		})
	}
	return jd
}

// JSON writes the ladder's dialogs, transactions, columns and messages as
// one indented JSON document (see JSONDoc for the fields).
func JSON(w io.Writer, l *Ladder) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Document(l))
}
