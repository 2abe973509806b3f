package correlate

import (
	"net/netip"
	"time"
)

// TimeFormat is how machine output writes times: RFC 3339 with a fixed
// nanosecond fraction, always UTC, so that it is stable and sorts as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime writes t in TimeFormat ("" for the zero time).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// Record is the machine-readable summary of a Dialog: the JSON Lines
// contract of `sipscope calls` (issue #3) and the dialog part of every other
// JSON export. Field names are a contract: fields may be added, never renamed
// or dropped. Timings are milliseconds with their fraction (microsecond
// precision), null when they do not apply.
type Record struct {
	CallID          string   `json:"call_id"`
	Kind            string   `json:"kind"`
	State           string   `json:"state"`
	FinalStatus     int      `json:"final_status"`
	FinalReason     string   `json:"final_reason"`
	From            string   `json:"from"`
	To              string   `json:"to"`
	FromUser        string   `json:"from_user"`
	ToUser          string   `json:"to_user"`
	Src             string   `json:"src"`
	Dst             string   `json:"dst"`
	Transport       string   `json:"transport"`
	Messages        int      `json:"messages"`
	Retransmissions int      `json:"retransmissions"`
	Duplicates      int      `json:"duplicates"`
	Start           string   `json:"start"`
	End             string   `json:"end"`
	SetupMS         *float64 `json:"setup_ms"`
	AnswerMS        *float64 `json:"answer_ms"`
	DurationMS      *float64 `json:"duration_ms"`
	Q850Cause       int      `json:"q850_cause"`
	UserAgent       string   `json:"user_agent"`
	Linked          []string `json:"linked"`
	Legs            []string `json:"legs"`
	Events          int      `json:"events"`
}

// Record returns the dialog's Record. Slices are never nil, so they encode
// as [] rather than null.
func (d *Dialog) Record() Record {
	return Record{
		CallID: d.CallID, Kind: string(d.Kind), State: string(d.State), FinalStatus: d.FinalStatus,
		FinalReason: d.FinalReason, From: d.From.URI, To: d.To.URI, FromUser: d.FromUser(), ToUser: d.ToUser(),
		Src: addrString(d.Src), Dst: addrString(d.Dst), Transport: string(d.Transport), Messages: d.Messages,
		Retransmissions: d.Retransmissions, Duplicates: d.Duplicates, Start: FormatTime(d.Start), End: FormatTime(d.End),
		SetupMS: optMs(d.SetupTime), AnswerMS: optMs(d.AnswerTime), DurationMS: optMs(d.Duration),
		Q850Cause: d.Q850Cause, UserAgent: d.UserAgent, Linked: nonNil(d.Linked), Legs: nonNil(d.Legs),
		Events: d.Events,
	}
}

func optMs(t time.Duration) *float64 {
	if t < 0 {
		return nil
	}
	v := MsFrac(t)
	return &v
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
