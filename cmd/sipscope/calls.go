package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

// filterOptions are the dialog filters shared by calls and export.
type filterOptions struct {
	kinds, states []string
	status        string
	from, to      string
	since, until  string
	grep          string
	sort          string
	limit         int
	// sortSet says --sort was given (start included): calls then lists
	// through the store, in strict order (see callStream).
	sortSet bool
}

func addFilterFlags(cmd *cobra.Command, f *filterOptions) {
	fl := cmd.Flags()
	fl.StringSliceVar(&f.kinds, "kind", nil, "only these `KINDS`: call, registration, subscription, message, options, publish, refer, other")
	fl.StringSliceVar(&f.states, "state", nil, "only these `STATES`: setup, ringing, in-call, completed, cancelled, busy, rejected, redirected, no-response, pending")
	fl.StringVar(&f.status, "status", "", "final status `CODES`: codes, classes or ranges, e.g. \"486\", \"4xx,5xx\", \"400-499\", \"0\" for none")
	fl.StringVar(&f.from, "from", "", "From user, URI or display name matching `PATTERN`: substring, or glob with * ? [..]; any case")
	fl.StringVar(&f.to, "to", "", "To user, URI or display name matching `PATTERN`: substring, or glob with * ? [..]; any case")
	fl.StringVar(&f.since, "since", "", "dialogs starting at or after `TIME` (RFC 3339, or 2006-01-02[ 15:04:05] in UTC)")
	fl.StringVar(&f.until, "until", "", "dialogs starting before `TIME`")
	fl.StringVar(&f.grep, "grep", "", "dialogs with a message whose raw text matches `REGEX` (Go syntax)")
	fl.StringVar(&f.sort, "sort", "start", "sort `KEYS`, comma-separated, - for descending: "+strings.Join(store.SortKeys(), ", "))
	fl.IntVar(&f.limit, "limit", 0, "at most `N` dialogs (0: all)")
}

func (f *filterOptions) active() bool {
	return len(f.kinds) > 0 || len(f.states) > 0 || f.status != "" || f.from != "" || f.to != "" ||
		f.since != "" || f.until != "" || f.grep != "" || f.limit > 0
}

// build turns the flags into a store.Filter, refusing bad values with a
// usage error before any work is done.
func (f *filterOptions) build() (store.Filter, error) {
	sf := store.Filter{Status: f.status, From: f.from, To: f.to, Sort: f.sort, Limit: f.limit}
	for _, k := range f.kinds {
		sf.Kind = append(sf.Kind, correlate.Kind(strings.ToLower(k)))
	}
	for _, s := range f.states {
		sf.State = append(sf.State, correlate.State(strings.ToLower(s)))
	}
	var err error
	if sf.Since, err = parseTime(f.since); err != nil {
		return sf, usagef("--since: %v", err)
	}
	if sf.Until, err = parseTime(f.until); err != nil {
		return sf, usagef("--until: %v", err)
	}
	if f.grep != "" {
		if sf.Grep, err = regexp.Compile(f.grep); err != nil {
			return sf, usagef("--grep: %v", err)
		}
	}
	if f.limit < 0 {
		return sf, usagef("--limit must be 0 or more")
	}
	if err := sf.Check(); err != nil {
		// Check names the field first ("status: ..."): the flag's name.
		return sf, usagef("--%v", err)
	}
	return sf, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time: use RFC 3339 (2024-05-01T10:00:00Z) or 2024-05-01 10:00:00 (UTC)", s)
}

type callsOptions struct {
	source sourceOptions
	filter filterOptions
	format string
	// noFindings skips the rules of diagnose (findings -1: not known).
	noFindings bool
}

func newCallsCmd(io *streams) *cobra.Command {
	opts := &callsOptions{}
	cmd := &cobra.Command{
		Use:   "calls [FILE...|-|--db PATH]",
		Short: "List dialogs with their state, final status and timings",
		Long: `List the dialogs (one per Call-ID) of the captures or of a database: kind, state,
final status, who called whom, message and retransmission counts, post-dial delay,
answer time and duration.

States of calls: setup, ringing, in-call, completed, cancelled, busy, rejected,
redirected, no-response. Other kinds: pending, completed, rejected, no-response.
A 401/407 challenge followed by a new request is not a rejection.

With capture files and no --db the analysis leaves nothing behind. Without a
filter, --limit or --sort, each dialog is written once it is complete, in start
order, while the capture is read (no database); a dialog that more than 65,536
others waited on (a call open for long, a BYE never answered) is written late,
and counted in a warning. --sort start lists through a scratch database instead:
strict start order whatever the capture, once it is all read.

Formats:
  table  for people (default); on a terminal it keeps to the width,
         leaving out the least needed columns (the Call-ID, last, is never
         cut); piped, every column is written
  jsonl  one JSON object per dialog; fields: call_id, kind, state, final_status,
         final_reason, from, to, from_user, to_user, src, dst, transport,
         messages, retransmissions, start, end, setup_ms, answer_ms,
         duration_ms (null when they do not apply), q850_cause, user_agent,
         linked, legs, events, duplicates, media (the call's RTP streams: src,
         dst, ssrc, codec, packets, lost, lost_pct, jitter_mean_ms, mos,
         direction), mos (the worst stream's, null when none was scored),
         info_dtmf (digits sent in SIP INFO) and info_dtmf_events (digit,
         start, duration_ms, direction, src, dst),
         worst (code of the worst finding of "sipscope diagnose", "" when
         none), worst_severity (error, warning, info or ""), findings (how
         many; -1 with --no-findings)
  csv    the same fields with a header line (media as streams, a count)

The findings are those of "sipscope diagnose" with its default thresholds.`,
		Example: `  sipscope calls trace.pcap
  sipscope calls --kind call --state rejected,busy trace.pcap
  sipscope calls --db calls.db --status 5xx --sort -start --limit 20
  sipscope calls --db calls.db --grep 'Q\.850;cause=34' --format jsonl
  sipscope calls --format jsonl trace.pcap | jq -c 'select(.worst_severity == "error") | [.call_id, .worst, .findings]'`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			opts.filter.sortSet = c.Flags().Changed("sort")
			return runCalls(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	addFilterFlags(cmd, &opts.filter)
	cmd.Flags().StringVar(&opts.format, "format", "table", "output `FORMAT`: table, jsonl or csv")
	cmd.Flags().BoolVar(&opts.noFindings, "no-findings", false, "do not run the rules of diagnose on capture files (about half the CPU): worst is \"\" and findings -1 (a database's stored findings are still shown)")
	return cmd
}

// callCSVHeader names the columns of `calls --format csv`: the fields of
// correlate.Record, the JSON Lines contract.
var callCSVHeader = []string{"call_id", "kind", "state", "final_status", "final_reason", "from", "to", "from_user",
	"to_user", "src", "dst", "transport", "messages", "retransmissions", "start", "end", "setup_ms", "answer_ms",
	"duration_ms", "q850_cause", "user_agent", "linked", "legs", "events", "duplicates",
	"streams", "mos", "info_dtmf", "worst", "worst_severity",
	"findings"}

// callRecord is one line of `calls --format jsonl`: the dialog's Record and
// its findings in brief (issue 10; fields a contract, like Record's).
type callRecord struct {
	correlate.Record
	// Media and MOS are the call's RTP streams and the worst one's score (issue 11, media.go).
	Media []callMedia `json:"media"`
	MOS   *float64    `json:"mos"`
	// InfoDTMF is the digits the call's parties sent in SIP INFO requests
	// (application/dtmf-relay or application/dtmf bodies), in order, both
	// directions; InfoDTMFEvents has each with its time and sender.
	InfoDTMF       string          `json:"info_dtmf"`
	InfoDTMFEvents []infoDTMFEvent `json:"info_dtmf_events"`
	// Worst is the code of the worst finding of `diagnose`, "" when none.
	Worst string `json:"worst"`
	// WorstSeverity is Worst's severity, "" when none.
	WorstSeverity string `json:"worst_severity"`
	// Findings counts the findings of `diagnose`.
	Findings int `json:"findings"`
}

func newCallRecord(d *correlate.Dialog) callRecord {
	r := callRecord{Record: d.Record(), Worst: d.Diagnosis.Worst, WorstSeverity: string(d.Diagnosis.Severity),
		Findings: d.Diagnosis.Findings}
	if !d.Diagnosis.Done {
		r.Worst, r.WorstSeverity, r.Findings = "", "", -1 // not diagnosed (--no-findings)
	}
	return r
}

// recordCSV is r as a CSV row in callCSVHeader order.
func recordCSV(c *callRecord, media []correlate.Stream) []string {
	r := &c.Record
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	row := []string{r.CallID, r.Kind, r.State, strconv.Itoa(r.FinalStatus), r.FinalReason, r.From, r.To,
		r.FromUser, r.ToUser, r.Src, r.Dst, r.Transport, strconv.Itoa(r.Messages), strconv.Itoa(r.Retransmissions),
		r.Start, r.End, opt(r.SetupMS), opt(r.AnswerMS), opt(r.DurationMS), strconv.Itoa(r.Q850Cause),
		r.UserAgent, strings.Join(r.Linked, " "), strings.Join(r.Legs, " "), strconv.Itoa(r.Events), strconv.Itoa(r.Duplicates)}
	row = append(row, mediaCSV(media)...) // streams, mos, info_dtmf
	return append(row, c.Worst, c.WorstSeverity, strconv.Itoa(c.Findings))
}

func runCalls(ctx context.Context, opts *callsOptions, io *streams) error {
	filter, mode, err := listingFilter(opts.format, &opts.filter)
	if err != nil {
		return err
	}
	opts.source.diagnose = !opts.noFindings
	out := bufio.NewWriterSize(io.Out, 64<<10)
	defer out.Flush()
	var write func(d *correlate.Dialog, streams []correlate.Stream) error
	switch opts.format {
	case "jsonl":
		// Hand-rolled JSON (jsonappend.go): encoding/json showed in the
		// profile, on the part that runs after the capture is read.
		var buf []byte
		write = func(d *correlate.Dialog, streams []correlate.Stream) error {
			r := callWithMedia(d, streams)
			var err error
			if buf, err = appendCallJSON(buf[:0], &r); err != nil {
				return err
			}
			_, err = out.Write(buf)
			return err
		}
	case "csv":
		cw := csv.NewWriter(out)
		cw.Write(callCSVHeader)
		defer cw.Flush()
		write = func(d *correlate.Dialog, streams []correlate.Stream) error {
			r := newCallRecord(d)
			cw.Write(csvSafe(recordCSV(&r, streams)))
			return cw.Error()
		}
	default:
		t := &callTable{w: out}
		if io.OutTTY {
			// On a terminal the table fits its width (the full row is
			// 195 columns: every line wrapped three times on 80); piped
			// every column is written, as before.
			t.width = terminalWidth()
		}
		write = func(d *correlate.Dialog, _ []correlate.Stream) error { return t.row(d) }
	}
	n := 0
	emit := func(d *correlate.Dialog, streams []correlate.Stream) error {
		n++
		if err := write(d, streams); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	if opts.source.db == "" && len(opts.source.files) > 0 && !opts.filter.active() && !opts.filter.sortSet {
		// Nothing needs every dialog before the first line: each is
		// written once complete, without a database (calls_stream.go).
		err = streamCalls(ctx, &opts.source, newCallStream(emit, !opts.noFindings), io)
	} else {
		err = listStored(ctx, opts, filter, mode, emit, io)
	}
	if err != nil {
		return err
	}
	if opts.format == "table" && n == 0 && !opts.source.quiet {
		fmt.Fprintln(io.ErrOut, noDialogsNote(&opts.source, &opts.filter))
	}
	return out.Flush()
}

// listStored lists the dialogs filter selects through a store: the
// database of --db, or a scratch one the capture files are imported into.
func listStored(ctx context.Context, opts *callsOptions, filter store.Filter, mode storeMode,
	emit func(*correlate.Dialog, []correlate.Stream) error, io *streams) error {
	st, release, err := openSource(ctx, &opts.source, mode, nil, io)
	if err != nil {
		return err
	}
	defer release()
	media, err := streamsByCall(ctx, st) // issue 11: the media and mos fields (media.go)
	if err != nil {
		return err
	}
	return eachDialog(ctx, st, filter, func(d *correlate.Dialog) error {
		if g, ok := opts.source.diagnoses[d.CallID]; ok {
			d.Diagnosis = g // with the media findings (importer.overlay)
		}
		if !d.Diagnosis.Done && !opts.noFindings {
			// A database whose importer did not run the rules (a live
			// capture's, or one upgraded from before schema 8 and not
			// imported into since): run them on its stored messages.
			msgs, err := st.Messages(ctx, []string{d.CallID})
			if err != nil {
				return err
			}
			d.Diagnosis = correlate.Summarize(allFindings(d, msgs, media[d.CallID], handoffRules, handoffMedia))
		}
		return emit(d, media[d.CallID])
	})
}

// noDialogsNote says why a listing is empty: the filters, or a source
// without any SIP dialog at all.
func noDialogsNote(src *sourceOptions, f *filterOptions) string {
	in := src.db
	if in == "" {
		in = strings.Join(src.files, ", ")
	}
	if f.active() {
		return "no dialogs in " + in + " match the filters"
	}
	if n := src.decoded.Encrypted; n > 0 && src.decoded.SIPMessages == 0 {
		return fmt.Sprintf("no SIP dialogs in %s: %d TLS record(s) were seen and not decrypted (%s)", in, n, tlsHint(src.decoded))
	}
	return "no SIP dialogs in " + in + " (`sipscope messages --stats` says what the capture holds)"
}

// eachDialog calls fn with each dialog the query finds, in its order,
// reading them from the store in another goroutine so that reading the
// rows (SQLite) and writing them out (encoding) overlap on two cores. It
// returns fn's first error or the query's, and only once that goroutine
// is done with the store.
func eachDialog(parent context.Context, st *store.Store, filter store.Filter, fn func(*correlate.Dialog) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	type batch struct {
		ds  []*correlate.Dialog
		err error
	}
	const size = 256
	ch := make(chan batch, 4)
	go func() {
		defer close(ch)
		send := func(b batch) bool {
			select {
			case ch <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		b := make([]*correlate.Dialog, 0, size)
		for d, err := range st.Dialogs(ctx, filter) {
			if err != nil {
				send(batch{b, err})
				return
			}
			if b = append(b, d); len(b) == size {
				if !send(batch{ds: b}) {
					return
				}
				b = make([]*correlate.Dialog, 0, size)
			}
		}
		if len(b) > 0 {
			send(batch{ds: b})
		}
	}()
	var err error
	for b := range ch { // drained to the end: the goroutine is done when it closes
		if err != nil {
			continue
		}
		for _, d := range b.ds {
			if err = fn(d); err != nil {
				cancel()
				break
			}
		}
		if err == nil {
			err = b.err
		}
	}
	if err == nil {
		err = parent.Err() // interrupted: the goroutine may have stopped without a word
	}
	return err
}

// callTable writes the human table of `calls`, a line per dialog, in the
// spirit of sngrep's call list plus what it lacks: final status and timings.
type callTable struct {
	w     io.Writer
	n     int
	width int      // terminal width; 0: every column at full width
	cols  []tabCol // the narrow layout, chosen on the first row
}

// fullCallRow is the width of the full table's row without its Call-ID.
const fullCallRow = 185

// tabCol is a column of the narrow call table.
type tabCol struct {
	head  string
	width int
	right bool
	value func(d *correlate.Dialog, n int) string
}

// narrowCols are the call table's columns in display order, each with its
// rank: the columns a narrow terminal keeps, most needed first (the
// Call-ID, which takes the rest of the line, is always kept).
var narrowCols = []struct {
	rank int
	col  tabCol
}{
	{0, tabCol{"#", 4, false, func(_ *correlate.Dialog, n int) string { return strconv.Itoa(n) }}},
	{6, tabCol{"START", 12, false, func(d *correlate.Dialog, _ int) string { return d.Start.UTC().Format("15:04:05.000") }}},
	{9, tabCol{"KIND", 8, false, func(d *correlate.Dialog, _ int) string { return string(d.Kind) }}},
	{1, tabCol{"STATE", 11, false, func(d *correlate.Dialog, _ int) string { return string(d.State) }}},
	{2, tabCol{"FINAL", 5, false, func(d *correlate.Dialog, _ int) string {
		if d.FinalStatus == 0 {
			return ""
		}
		return strconv.Itoa(d.FinalStatus)
	}}},
	{3, tabCol{"FROM", 9, false, func(d *correlate.Dialog, _ int) string { return userAt(d.FromUser(), d.From.URI) }}},
	{4, tabCol{"TO", 9, false, func(d *correlate.Dialog, _ int) string { return userAt(d.ToUser(), d.To.URI) }}},
	{7, tabCol{"MSGS", 4, true, func(d *correlate.Dialog, _ int) string { return strconv.Itoa(d.Messages) }}},
	{10, tabCol{"RETR", 4, true, func(d *correlate.Dialog, _ int) string { return strconv.Itoa(d.Retransmissions) }}},
	{8, tabCol{"PDD", 8, true, func(d *correlate.Dialog, _ int) string { return seconds(d.SetupTime) }}},
	{11, tabCol{"DURATION", 8, true, func(d *correlate.Dialog, _ int) string { return seconds(d.Duration) }}},
	{5, tabCol{"WORST", 15, false, func(d *correlate.Dialog, _ int) string { w, _ := worstFindings(d); return w }}},
}

// narrowLayout picks the columns that fit width with at least 20 cells
// left for the Call-ID, most needed first, shown in their usual order.
func narrowLayout(width int) []tabCol {
	keep := make([]bool, len(narrowCols))
	used := 20 // the Call-ID, whole in most captures: `flow --call` wants it
	for rank := 0; rank < len(narrowCols); rank++ {
		for i, c := range narrowCols {
			if c.rank == rank && used+c.col.width+1 <= width {
				keep[i], used = true, used+c.col.width+1
			}
		}
	}
	var cols []tabCol
	for i, c := range narrowCols {
		if keep[i] {
			cols = append(cols, c.col)
		}
	}
	return cols
}

// narrowRow writes the header (first) and a row of the narrow table.
func (t *callTable) narrowRow(d *correlate.Dialog) error {
	if t.cols == nil {
		t.cols = narrowLayout(t.width)
		var b strings.Builder
		for _, c := range t.cols {
			b.WriteString(pad(c.head, c.width, c.right) + " ")
		}
		b.WriteString("CALL-ID\n")
		if _, err := io.WriteString(t.w, b.String()); err != nil {
			return err
		}
	}
	t.n++
	var b strings.Builder
	for _, c := range t.cols {
		b.WriteString(pad(clip(c.value(d, t.n), c.width), c.width, c.right) + " ")
	}
	// The Call-ID is never cut: it is what one copies into `flow --call`
	// (real ones run to 40 cells; a line wraps rather than lose it).
	b.WriteString(render.Sanitize(d.CallID) + "\n")
	_, err := io.WriteString(t.w, b.String())
	return err
}

func pad(s string, w int, right bool) string {
	n := utf8.RuneCountInString(s)
	if n >= w {
		return s
	}
	if right {
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}

// worstFindings is the WORST and FNDS cells of a dialog.
func worstFindings(d *correlate.Dialog) (worst, fnds string) {
	worst, fnds = d.Diagnosis.Worst, strconv.Itoa(d.Diagnosis.Findings)
	switch {
	case !d.Diagnosis.Done:
		worst, fnds = "?", "?" // --no-findings
	case worst == "":
		worst = "-"
	}
	return worst, fnds
}

func (t *callTable) row(d *correlate.Dialog) error {
	// Decided once, on a typical Call-ID's 24 cells, so that the table
	// keeps one layout.
	if t.cols != nil || (t.width > 0 && t.width < fullCallRow+24) {
		return t.narrowRow(d)
	}
	if t.n == 0 {
		fmt.Fprintf(t.w, "%-4s %-23s %-12s %-11s %-26s %-24s %-24s %4s %5s %7s %8s  %-19s %4s  %s\n",
			"#", "START", "KIND", "STATE", "FINAL", "FROM", "TO", "MSGS", "RETR", "PDD", "DURATION", "WORST", "FNDS", "CALL-ID")
	}
	t.n++
	final := ""
	if d.FinalStatus != 0 {
		final = strconv.Itoa(d.FinalStatus) + " " + d.FinalReason
	}
	worst, fnds := worstFindings(d)
	_, err := fmt.Fprintf(t.w, "%-4d %-23s %-12s %-11s %-26s %-24s %-24s %4d %5d %7s %8s  %-19s %4s  %s\n",
		t.n, d.Start.UTC().Format("2006-01-02 15:04:05.000"), d.Kind, d.State, clip(final, 26),
		clip(userAt(d.FromUser(), d.From.URI), 24), clip(userAt(d.ToUser(), d.To.URI), 24),
		d.Messages, d.Retransmissions, seconds(d.SetupTime), seconds(d.Duration), worst, fnds, render.Sanitize(d.CallID))
	return err
}

func userAt(user, uri string) string {
	if user != "" {
		return user
	}
	return uri
}

func seconds(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	// Below a second, milliseconds with their fraction: a 179µs PDD on a
	// LAN is not "0.00s" (issue 15).
	switch {
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 3, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

func clip(s string, n int) string {
	s = render.Sanitize(s) // strangers' text: no terminal controls
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// listingFilter checks a listing's --format (table, jsonl or csv) and
// builds its filter, with what the source must keep for it: dialogs only,
// or every message when --grep reads them. calls and media share it.
func listingFilter(format string, f *filterOptions) (store.Filter, storeMode, error) {
	switch format {
	case "table", "jsonl", "csv":
	default:
		return store.Filter{}, 0, usagef("unknown --format %q: want table, jsonl or csv", format)
	}
	filter, err := f.build()
	if err != nil {
		return store.Filter{}, 0, err
	}
	mode := dialogsOnly
	if filter.Grep != nil {
		mode = keepEverything
	}
	return filter, mode, nil
}
