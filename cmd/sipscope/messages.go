package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/render"
)

type messagesOptions struct {
	files  []string
	format string
	stats  bool
	quiet  bool
	limits limitOptions
	keylog string
}

func newMessagesCmd(io *streams) *cobra.Command {
	opts := &messagesOptions{}
	cmd := &cobra.Command{
		Use:   "messages [FILE...|-]",
		Short: "List every SIP message in capture order",
		Long: `List every SIP message found in the captures, in capture order (several files are
merged by timestamp). SIP is found on any port by its start line, inside VLANs,
tunnels (IP-in-IP, GRE, ERSPAN, VXLAN, GTP-U), fragmented IP, TCP streams,
WebSocket, SCTP and HEP; SIP over TLS and WSS with the key log (--keylog, or the
keys inside a pcapng file).

Formats:
  table  one line per message for people (default)
  jsonl  one JSON object per line; fields: index, file, frame, frames, ts, src, dst,
         transport, encap, method, status, reason, cseq, call_id, from, to,
         from_tag, to_tag, user_agent, size, warnings, hep_agent
  csv    the same fields as jsonl with a header line

--stats prints what could not be decoded (non-SIP payloads, malformed, truncated,
expired fragments, TCP gaps) to standard error, and which --limit-* bounds bit and
how often (each drops the oldest state, or skips the oversized input, and counts it).`,
		Example: `  sipscope messages call.pcap
  sipscope messages --format jsonl a.pcap b.pcapng.gz | jq .call_id
  tcpdump -w - -i any port 5060 | sipscope messages -
  SSLKEYLOGFILE=keys.txt ./softphone & sipscope messages --keylog keys.txt tls.pcap`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.files = args
			return runMessages(c.Context(), opts, io)
		},
	}
	cmd.Flags().StringVar(&opts.format, "format", "table", "output `FORMAT`: table, jsonl or csv")
	cmd.Flags().BoolVar(&opts.stats, "stats", false, "print decoding counters to standard error")
	// As calls, import and diagnose have it: scripts pass -q to all of them.
	cmd.Flags().BoolVarP(&opts.quiet, "quiet", "q", false, "no warnings on standard error (--stats still prints its counters)")
	addLimitFlags(cmd, &opts.limits)
	addKeylogFlag(cmd.Flags(), &opts.keylog)
	return cmd
}

// messageRecord is the JSON Lines contract of `messages` (see issue #2):
// field names must not change; new fields may be added.
type messageRecord struct {
	Index     int64   `json:"index"`
	File      string  `json:"file"`
	Frame     int64   `json:"frame"`
	Frames    []int64 `json:"frames"`
	TS        string  `json:"ts"`
	Src       string  `json:"src"`
	Dst       string  `json:"dst"`
	Transport string  `json:"transport"`
	Encap     string  `json:"encap"`
	Method    string  `json:"method"`
	Status    int     `json:"status"`
	Reason    string  `json:"reason"`
	CSeq      string  `json:"cseq"`
	CallID    string  `json:"call_id"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	FromTag   string  `json:"from_tag"`
	ToTag     string  `json:"to_tag"`
	UserAgent string  `json:"user_agent"`
	Size      int     `json:"size"`
	Warnings  string  `json:"warnings"`
	HEPAgent  string  `json:"hep_agent,omitempty"`
	Duplicate bool    `json:"duplicate"`
}

var messageCSVHeader = []string{"index", "file", "frame", "frames", "ts", "src", "dst", "transport", "encap",
	"method", "status", "reason", "cseq", "call_id", "from", "to", "from_tag", "to_tag", "user_agent", "size",
	"warnings", "hep_agent", "duplicate"}

func newMessageRecord(index int64, m *decode.Message) messageRecord {
	r := messageRecord{
		Index: index, File: m.File, TS: correlate.FormatTime(m.Time),
		Src: m.Src.String(), Dst: m.Dst.String(), Transport: string(m.Transport), Encap: m.Encap,
		Method: m.Method, Status: m.Status, Reason: m.Reason, CallID: m.CallID,
		From: m.From.URI(), To: m.To.URI(), FromTag: m.From.Tag, ToTag: m.To.Tag,
		UserAgent: m.UserAgent, Size: len(m.Raw), Frames: make([]int64, 0, len(m.Frames)),
		Duplicate: m.Duplicate,
	}
	if m.CSeqMethod != "" || m.CSeq != 0 {
		r.CSeq = strconv.FormatUint(uint64(m.CSeq), 10) + " " + m.CSeqMethod
	}
	for _, f := range m.Frames {
		r.Frames = append(r.Frames, f.Number)
	}
	if n := len(m.Frames); n > 0 {
		r.Frame = m.Frames[n-1].Number // the frame that completed the message
	}
	if m.Warnings != 0 {
		r.Warnings = m.Warnings.String()
	}
	if m.HEP != nil {
		r.HEPAgent = m.HEP.AgentName
		if r.HEPAgent == "" && m.HEP.AgentID != 0 {
			r.HEPAgent = strconv.FormatUint(uint64(m.HEP.AgentID), 10)
		}
	}
	return r
}

func (r *messageRecord) csv() []string {
	fr := make([]string, len(r.Frames))
	for i, n := range r.Frames {
		fr[i] = strconv.FormatInt(n, 10)
	}
	return []string{strconv.FormatInt(r.Index, 10), r.File, strconv.FormatInt(r.Frame, 10), strings.Join(fr, " "),
		r.TS, r.Src, r.Dst, r.Transport, r.Encap, r.Method, strconv.Itoa(r.Status), r.Reason, r.CSeq, r.CallID,
		r.From, r.To, r.FromTag, r.ToTag, r.UserAgent, strconv.Itoa(r.Size), r.Warnings, r.HEPAgent,
		strconv.FormatBool(r.Duplicate)}
}

func runMessages(ctx context.Context, opts *messagesOptions, io *streams) error {
	switch opts.format {
	case "table", "jsonl", "csv":
	default:
		return usagef("unknown --format %q: want table, jsonl or csv", opts.format)
	}
	out := bufio.NewWriterSize(io.Out, 64<<10)
	defer out.Flush()
	var (
		index int64
		werr  error
		enc   = json.NewEncoder(out)
		cw    *csv.Writer
		table *messageTable
		// jsonl: the messages are copied into batches that another
		// goroutine encodes by hand (jsonappend.go) and writes while
		// decoding goes on (msgPipe).
		pipe *msgPipe
	)
	enc.SetEscapeHTML(false)
	switch opts.format {
	case "jsonl":
		pipe = newMsgPipe(out)
	case "csv":
		cw = csv.NewWriter(out)
		cw.Write(messageCSVHeader)
	case "table":
		table = &messageTable{w: out}
	}
	h := decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		index++
		if werr != nil {
			return
		}
		switch opts.format {
		case "jsonl":
			werr = pipe.Add(index, m)
		case "csv":
			r := newMessageRecord(index, m)
			werr = cw.Write(csvSafe(r.csv()))
		case "table":
			werr = table.row(index, m)
		}
	}}
	job := &decodeJob{files: opts.files, stdin: io.In, handler: h, opts: opts.limits.decode(), keylog: opts.keylog}
	res, err := job.run(ctx)
	if pipe != nil {
		if cerr := pipe.Close(); werr == nil || errors.Is(werr, errWriterFailed) {
			werr = cerr
		}
	}
	if cw != nil {
		cw.Flush()
		if werr == nil {
			werr = cw.Error()
		}
	}
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("write output: %w", werr)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if !opts.quiet {
		printWarnings(io.ErrOut, res.Warnings)
		if index == 0 {
			fmt.Fprintln(io.ErrOut, noMessagesNote(opts.files, res.Stats))
		}
	}
	if opts.stats {
		printStats(io.ErrOut, res.Stats)
		printLimits(io.ErrOut, "", res.Stats.Limits, 0)
		printTLSStats(io.ErrOut, res.Stats, res.TLSMissing)
	}
	return nil
}

// noMessagesNote says why a capture gave no SIP message, so an empty
// output is not mistaken for a broken tool: encrypted SIP (TLS, RFC 3261
// §26.2, usually port 5061) is the commonest reason.
func noMessagesNote(files []string, s decode.Stats) string {
	in := strings.Join(files, ", ")
	if s.Encrypted > 0 {
		return fmt.Sprintf("no SIP messages in %s: %d TLS record(s) were seen and not decrypted (%s)", in, s.Encrypted, tlsHint(s))
	}
	return fmt.Sprintf("no SIP messages in %s (%d frames read; --stats says what they held)", in, s.Frames)
}

// messageTable writes the human table of `messages`. The TIME column is
// the time of day (UTC); a line with the date comes before the first
// message and before each one on another day, so that captures of
// different days or years merged together read right.
type messageTable struct {
	w       io.Writer
	started bool
	prev    time.Time
	day     string
}

func (t *messageTable) row(index int64, m *decode.Message) error {
	if !t.started {
		t.started = true
		t.prev = m.Time
		if _, err := fmt.Fprintf(t.w, "%-6s %-15s %-10s %-22s    %-22s %-5s %-28s %-14s %s\n",
			"#", "TIME (UTC)", "DELTA", "SOURCE", "DESTINATION", "PROTO", "MESSAGE", "CSEQ", "CALL-ID"); err != nil {
			return err
		}
	}
	ts := m.Time.UTC()
	if day := ts.Format("2006-01-02 Monday"); day != t.day {
		t.day = day
		if _, err := fmt.Fprintf(t.w, "------ %s\n", day); err != nil {
			return err
		}
	}
	delta := m.Time.Sub(t.prev)
	t.prev = m.Time
	what := m.Method
	if !m.Request {
		what = strconv.Itoa(m.Status) + " " + m.Reason
	}
	what = clip(what, 28)
	cseq := strconv.FormatUint(uint64(m.CSeq), 10) + " " + m.CSeqMethod
	_, err := fmt.Fprintf(t.w, "%-6d %-15s %-10s %-22s -> %-22s %-5s %-28s %-14s %s\n",
		index, ts.Format("15:04:05.000000"), humanDelta(delta),
		m.Src, m.Dst, m.Transport, what, clip(cseq, 30), render.Sanitize(m.CallID))
	return err
}

// humanDelta writes the time between two messages in the unit that suits
// it, in at most 10 characters: +85µs, +497.671ms, +12.345s, +2m03.4s,
// +3h12m, +2215d03h.
func humanDelta(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d < time.Millisecond:
		return sign + strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return sign + strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
	case d < time.Minute:
		return sign + strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
	case d < time.Hour:
		m := d / time.Minute
		return fmt.Sprintf("%s%dm%04.1fs", sign, m, (d - m*time.Minute).Seconds())
	case d < 24*time.Hour:
		h := d / time.Hour
		return fmt.Sprintf("%s%dh%02dm", sign, h, (d-h*time.Hour)/time.Minute)
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%s%dd%02dh", sign, days, (d-days*24*time.Hour)/time.Hour)
}

func printWarnings(w io.Writer, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintf(w, "sipscope: warning: %s\n", render.Sanitize(s))
	}
}

func printStats(w io.Writer, s decode.Stats) {
	rows := []struct {
		name string
		n    int64
	}{
		{"frames read", s.Frames},
		{"SIP messages", s.SIPMessages},
		{"non-SIP payloads", s.NonSIP},
		{"non-IP frames", s.NonIP},
		{"unsupported link/tunnel", s.UnsupportedLink},
		{"malformed", s.Malformed},
		{"truncated", s.Truncated},
		{"IP fragments", s.Fragments},
		{"fragments expired", s.FragmentsExpired},
		{"TCP segments (SIP streams)", s.TCPSegments},
		{"TCP gaps", s.TCPGaps},
		{"WebSocket frames", s.WebSocketFrames},
		{"SCTP DATA chunks", s.SCTPChunks},
		{"HEP packets", s.HEPPackets},
		{"ICMP errors quoting SIP", s.ICMPEvents},
		{"encrypted (TLS) records", s.Encrypted},
		{"messages with parser warnings", s.Warnings},
		{"duplicate frames (not resends)", s.Duplicates},
		{"same frame in another input", s.Overlaps},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-30s %d\n", r.name, r.n)
	}
}
