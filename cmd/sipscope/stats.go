package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

type statsOptions struct {
	source sourceOptions
	filter filterOptions
	by     string
	format string
	out    string
}

func newStatsCmd(io *streams) *cobra.Command {
	opts := &statsOptions{}
	cmd := &cobra.Command{
		Use:   "stats [FILE...|-|--db PATH] [FILTERS] [--by KEY]",
		Short: "KPIs: RFC 6076 metrics, ASR, NER, ACD and post-dial delay",
		Long: `Compute the SIP performance metrics of RFC 6076 over the dialogs of the captures
or of a database, in capture time, measured at the caller's side:

  RRD   registration request delay: first REGISTER to its 2xx, challenges included (§4.1)
  IRA   ineffective registration attempts: 4xx (not 401/402/407), 5xx, 6xx or no answer (§4.2)
  SRD   session request delay: INVITE to the first non-100 provisional (or 200) on answered
        calls (§4.3.1), INVITE to the 4xx/5xx/6xx on failed ones (§4.3.2)
  SDD   session disconnect delay: BYE to its final response (§4.4)
  SDT   session duration: 200 OK to BYE (§4.5)
  SER   session establishment ratio: 200 / (INVITEs - 3xx) (§4.6)
  SEER  effectiveness: 200, 480, 486, 600, 603 / (INVITEs - 3xx) (§4.7)
  ISA   ineffective session attempts: 408, 500, 503, 504 or no answer / INVITEs (§4.8)
  SCR   session completion ratio: answered and BYE answered 2xx / INVITEs (§4.9)
  ASR   answer-seizure ratio (ITU-T E.411); NER network effectiveness ratio (GSMA IR.42):
        answered, busy, no answer, rejected by the user; ACD mean call duration;
  PDD   post-dial delay: INVITE to the first 18x (to the final response when none came)

Delays are given as percentiles p50, p90, p99 (nearest rank; exact up to 10,000
values per group, a uniform sample of 10,000 beyond) and means. A call is one
session request whatever the 401/407 challenges on the way (RFC 6076 §5.3).

The filters are those of "sipscope calls". --by groups the rows: caller (From user),
callee (To user), src, dst (IP of the first message), ua (the caller's User-Agent),
hour, minute (UTC start); a total row comes last.

Formats:
  table  for people (default)
  jsonl  one object per group then the total; fields: by, group, start, end,
         dialogs, calls, answered, failed, busy, cancelled, redirected,
         no_response, completed, asr, ner, ser, seer, isa, scr, acd_s,
         pdd_{p50,p90,p99,avg}_ms, srd_success_*_ms, srd_failure_*_ms,
         sdd_*_ms, sdd_timeouts, sdt_{p50,p90,p99}_s, registrations,
         registered, ira, ineffective_registrations, rrd_*_ms, failure_codes
  html   a page that works offline: the metrics, calls and ASR over time,
         the PDD histogram and the top failure codes (inline SVG)`,
		Example: `  sipscope stats trace.pcap
  sipscope stats --db calls.db --by hour
  sipscope stats --db calls.db --kind call --since 2024-05-01 --by callee --format jsonl
  sipscope stats --format html -o kpi.html day1/*.pcap.gz`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runStats(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	addFilterFlags(cmd, &opts.filter)
	fl := cmd.Flags()
	fl.StringVar(&opts.by, "by", "", "group rows by `KEY`: caller, callee, src, dst, ua, hour or minute")
	fl.StringVar(&opts.format, "format", "table", "output `FORMAT`: table, jsonl or html")
	fl.StringVarP(&opts.out, "output", "o", "-", "write to `FILE` (- for standard output)")
	return cmd
}

func runStats(ctx context.Context, opts *statsOptions, io *streams) error {
	switch opts.format {
	case "table", "jsonl", "html":
	default:
		return usagef("unknown --format %q: want table, jsonl or html", opts.format)
	}
	by := correlate.GroupBy(strings.ToLower(opts.by))
	if by != correlate.ByNone && !slices.Contains(correlate.GroupBys(), by) {
		var names []string
		for _, g := range correlate.GroupBys() {
			names = append(names, string(g))
		}
		return usagef("unknown --by %q: want %s", opts.by, strings.Join(names, ", "))
	}
	filter, err := opts.filter.build()
	if err != nil {
		return err
	}
	if err := checkOutput(opts.out); err != nil {
		return err
	}
	kpis := correlate.NewKPIs(by)
	if len(opts.source.files) > 0 && opts.source.db == "" && !opts.filter.active() {
		// Capture files, no filter: every dialog counts, so each is
		// measured as the correlator hands it on, with its messages, and
		// nothing is stored (the store's filters are not needed): memory
		// stays flat, and it runs at the speed of calls. A dialog a
		// proxy's far hop ended before the caller's side got its response
		// waits for that response (see correlate.KPIs.Add).
		kpis.Streaming = true
		_, release, err := openSource(ctx, &opts.source, keepEverything, func(d *correlate.Dialog, msgs []*correlate.Message) bool {
			kpis.Add(d, msgs)
			return false
		}, io)
		if err != nil {
			return err
		}
		release()
		kpis.Flush()
	} else {
		st, release, err := openSource(ctx, &opts.source, keepEverything, nil, io)
		if err != nil {
			return err
		}
		err = measureDialogs(ctx, st, filter, kpis)
		release()
		if err != nil {
			return err
		}
	}
	w, finish, err := openOutput(opts.out, io)
	if err != nil {
		return err
	}
	switch opts.format {
	case "jsonl":
		err = writeStatsJSONL(w, kpis)
	case "html":
		err = render.StatsHTML(w, kpis, render.StatsOptions{Inputs: statsInputs(&opts.source)})
	default:
		// On a terminal the --by table fits its width; piped or to a
		// file every column is written.
		width := 0
		if opts.out == "-" && io.OutTTY {
			width = terminalWidth()
		}
		err = writeStatsTable(w, kpis, width)
	}
	if err != nil {
		finish(false)
		return fmt.Errorf("write output: %w", err)
	}
	if err := finish(true); err != nil {
		return err
	}
	if kpis.Total.Dialogs == 0 && !opts.source.quiet && opts.format == "table" {
		fmt.Fprintln(io.ErrOut, noDialogsNote(&opts.source, &opts.filter))
	}
	return nil
}

// statsInputs names what was measured for the page's header: the
// database, or the capture files (the first three and how many more).
func statsInputs(src *sourceOptions) string {
	if src.db != "" {
		return src.db
	}
	if n := len(src.files); n > 3 {
		return strings.Join(src.files[:3], ", ") + " and " + strconv.Itoa(n-3) + " more"
	}
	return strings.Join(src.files, ", ")
}

// statsBatch is how many dialogs' messages one store query reads.
const statsBatch = 256

// measureDialogs adds every dialog the filter selects to kpis, reading
// their messages a batch at a time: memory holds one batch, not the
// capture. With --grep the dialogs query holds the store's only pooled
// connection while it runs, so the dialogs are listed first (as diagnose
// does) and their messages read after.
func measureDialogs(ctx context.Context, st *store.Store, filter store.Filter, kpis *correlate.KPIs) error {
	var batch []*correlate.Dialog
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]string, len(batch))
		for i, d := range batch {
			ids[i] = d.CallID
		}
		msgs, err := st.Messages(ctx, ids)
		if err != nil {
			return err
		}
		byCall := make(map[string][]*correlate.Message, len(ids))
		for _, m := range msgs {
			byCall[m.CallID] = append(byCall[m.CallID], m)
		}
		for _, d := range batch {
			kpis.Add(d, byCall[d.CallID])
		}
		batch = batch[:0]
		return nil
	}
	if filter.Grep != nil {
		var all []*correlate.Dialog
		if err := eachDialog(ctx, st, filter, func(d *correlate.Dialog) error {
			all = append(all, d)
			return nil
		}); err != nil {
			return err
		}
		for len(all) > 0 {
			n := min(statsBatch, len(all))
			batch = append(batch[:0], all[:n]...)
			all = all[n:]
			if err := flush(); err != nil {
				return err
			}
		}
		return nil
	}
	err := eachDialog(ctx, st, filter, func(d *correlate.Dialog) error {
		batch = append(batch, d)
		if len(batch) == statsBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// statsRecords are the rows: each group, then the total.
func statsRecords(k *correlate.KPIs) []correlate.KPIRecord {
	var out []correlate.KPIRecord
	for _, g := range k.Groups() {
		out = append(out, g.Record(k.By))
	}
	return append(out, k.Total.Record(correlate.ByNone))
}

func writeStatsJSONL(w io.Writer, k *correlate.KPIs) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range statsRecords(k) {
		if err := enc.Encode(&r); err != nil {
			return err
		}
	}
	return nil
}

// statsLine is one metric of a record: its line in the sheet (name, value,
// what it means) and, when col is set, its column in the --by table.
type statsLine struct {
	name, col, what string
	value           func(r *correlate.KPIRecord) string
}

// statsDist is one delay of a record, a line of the sheet with p50, p90,
// p99 and the mean; with --by, its first len(cols) percentiles are the
// columns cols. note, when set, ends the line's explanation.
type statsDist struct {
	name, what string
	cols       []string
	text       func(*float64) string
	values     func(r *correlate.KPIRecord) [4]*float64
	note       func(r *correlate.KPIRecord) string
}

func countLine(name, col, what string, n func(r *correlate.KPIRecord) int64) statsLine {
	return statsLine{name, col, what, func(r *correlate.KPIRecord) string { return itoa(n(r)) }}
}

func ratioLine(name, col, what string, text func(*float64) string, p func(r *correlate.KPIRecord) *float64) statsLine {
	return statsLine{name, col, what, func(r *correlate.KPIRecord) string { return text(p(r)) }}
}

// The sheet, section by section; one statsLine or statsDist per metric
// feeds both the sheet and the --by table, so the two cannot disagree.
var (
	statsCalls = []statsLine{
		countLine("dialogs", "DIALOGS", "every dialog selected", func(r *correlate.KPIRecord) int64 { return r.Dialogs }),
		countLine("calls", "CALLS", "session requests (opening INVITEs, challenges included)", func(r *correlate.KPIRecord) int64 { return r.Calls }),
		countLine("answered", "ANS", "2xx to the INVITE", func(r *correlate.KPIRecord) int64 { return r.Answered }),
		countLine("failed", "", "4xx-6xx, not cancelled", func(r *correlate.KPIRecord) int64 { return r.Failed }),
		countLine("busy", "", "486, 600", func(r *correlate.KPIRecord) int64 { return r.Busy }),
		countLine("cancelled", "", "CANCEL / 487", func(r *correlate.KPIRecord) int64 { return r.Cancelled }),
		countLine("redirected", "", "3xx", func(r *correlate.KPIRecord) int64 { return r.Redirected }),
		countLine("no response", "", "INVITE never answered", func(r *correlate.KPIRecord) int64 { return r.NoResponse }),
		countLine("completed", "", "answered, BYE answered 2xx", func(r *correlate.KPIRecord) int64 { return r.Completed }),
	}
	statsRatios = []statsLine{
		ratioLine("ASR", "ASR%", "answered / calls (ITU-T E.411)", pctText, func(r *correlate.KPIRecord) *float64 { return r.ASR }),
		ratioLine("NER", "NER%", "answered, busy, no answer, user reject / calls (GSMA IR.42)", pctText, func(r *correlate.KPIRecord) *float64 { return r.NER }),
		ratioLine("SER", "SER%", "200 / (calls - 3xx) (RFC 6076 §4.6)", pctText, func(r *correlate.KPIRecord) *float64 { return r.SER }),
		ratioLine("SEER", "SEER%", "200, 480, 486, 600, 603 / (calls - 3xx) (§4.7)", pctText, func(r *correlate.KPIRecord) *float64 { return r.SEER }),
		ratioLine("ISA", "ISA%", "408, 500, 503, 504, no answer / calls (§4.8)", pctText, func(r *correlate.KPIRecord) *float64 { return r.ISA }),
		ratioLine("SCR", "SCR%", "completed / calls (§4.9)", pctText, func(r *correlate.KPIRecord) *float64 { return r.SCR }),
		ratioLine("ACD", "ACD", "mean call duration, 200 OK to BYE", secText, func(r *correlate.KPIRecord) *float64 { return r.ACD }),
	}
	statsDelays = []statsDist{
		{"PDD", "INVITE to first 18x (or final)", []string{"PDD50", "PDD90", "PDD99"}, msText,
			func(r *correlate.KPIRecord) [4]*float64 { return [4]*float64{r.PDDp50, r.PDDp90, r.PDDp99, r.PDDavg} }, nil},
		{"SRD success", "INVITE to first non-100 1xx or 200 (§4.3.1)", []string{"SRD50"}, msText,
			func(r *correlate.KPIRecord) [4]*float64 {
				return [4]*float64{r.SRDSuccessP50, r.SRDSuccessP90, r.SRDSuccessP99, r.SRDSuccessAvg}
			}, nil},
		{"SRD failure", "INVITE to 4xx-6xx (§4.3.2)", nil, msText,
			func(r *correlate.KPIRecord) [4]*float64 {
				return [4]*float64{r.SRDFailureP50, r.SRDFailureP90, r.SRDFailureP99, r.SRDFailureAvg}
			}, nil},
		{"SDD", "BYE to its response (§4.4)", []string{"SDD50"}, msText,
			func(r *correlate.KPIRecord) [4]*float64 { return [4]*float64{r.SDDp50, r.SDDp90, r.SDDp99, r.SDDavg} },
			func(r *correlate.KPIRecord) string { return "; " + itoa(r.SDDTimeout) + " unanswered" }},
		// SDT's mean is the ACD: the same durations.
		{"SDT", "200 OK to BYE (§4.5)", nil, secText,
			func(r *correlate.KPIRecord) [4]*float64 { return [4]*float64{r.SDTp50, r.SDTp90, r.SDTp99, r.ACD} }, nil},
		{"RRD", "REGISTER to 2xx, challenges included (§4.1)", []string{"RRD50"}, msText,
			func(r *correlate.KPIRecord) [4]*float64 { return [4]*float64{r.RRDp50, r.RRDp90, r.RRDp99, r.RRDavg} }, nil},
	}
	statsRegistrations = []statsLine{
		countLine("registrations", "REG", "REGISTER attempts (challenges included)", func(r *correlate.KPIRecord) int64 { return r.Registrations }),
		ratioLine("IRA", "IRA%", "4xx (not 401/402/407), 5xx, 6xx, no answer / attempts (§4.2)", pctText, func(r *correlate.KPIRecord) *float64 { return r.IRA }),
	}
)

// statsColumns are the --by table's metric columns, in their order (RRD50
// after the registration counts it belongs with, unlike in the sheet).
// statsDropOrder is the order in which a terminal too narrow for all of
// them loses them (the registration ones and the tail percentiles first;
// calls, answers, ASR, NER, ACD and the median PDD stay).
var statsColumns = []string{"DIALOGS", "CALLS", "ANS", "ASR%", "NER%", "SER%", "SEER%", "ISA%", "SCR%",
	"ACD", "PDD50", "PDD90", "PDD99", "SRD50", "SDD50", "REG", "IRA%", "RRD50"}

var statsDropOrder = []string{"RRD50", "IRA%", "REG", "SDD50", "SRD50", "PDD99", "PDD90", "SEER%", "SER%",
	"ISA%", "SCR%", "DIALOGS"}

// statsCell is the text of the --by table's column col for r.
func statsCell(r *correlate.KPIRecord, col string) string {
	for _, ls := range [][]statsLine{statsCalls, statsRatios, statsRegistrations} {
		for _, l := range ls {
			if l.col == col {
				return l.value(r)
			}
		}
	}
	for _, d := range statsDelays {
		if i := slices.Index(d.cols, col); i >= 0 {
			return d.text(d.values(r)[i])
		}
	}
	panic("stats: no metric for column " + col)
}

// writeStatsTable writes the table: without --by one metric a line with
// what it means, with --by one line per group and the main metrics. A
// width above 0 (a terminal's) leaves out columns, in statsDropOrder, until
// the lines fit, and says which at the end.
func writeStatsTable(w io.Writer, k *correlate.KPIs, width int) error {
	bw := bufio.NewWriter(w)
	recs := statsRecords(k)
	if k.By == correlate.ByNone {
		writeStatsSheet(bw, &recs[len(recs)-1], width)
		return bw.Flush()
	}
	cols := append([]string{strings.ToUpper(string(k.By))}, statsColumns...)
	rows := [][]string{cols}
	for i := range recs {
		r := &recs[i]
		group := r.Group
		switch {
		case r.By == "all":
			group = "(total)"
		case group == "":
			group = "(none)" // e.g. no User-Agent
		}
		row := []string{group}
		for _, c := range statsColumns {
			row = append(row, statsCell(r, c))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(cols))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	widths[0] = min(widths[0], 40)
	keep := make([]bool, len(cols))
	total := 0
	for i, wd := range widths {
		keep[i] = true
		total += wd + 2
	}
	total -= 2 // the group column has no gap before it
	var left []string
	for _, name := range statsDropOrder {
		if width <= 0 || total <= width {
			break
		}
		i := slices.Index(cols, name)
		keep[i] = false
		total -= widths[i] + 2
		left = append(left, name)
	}
	if width > 0 && total > width {
		// Still too wide: a long group key is cut to what is left.
		widths[0] = max(8, widths[0]-(total-width))
	}
	for _, row := range rows {
		for i, c := range row {
			switch {
			case !keep[i]:
			case i == 0:
				fmt.Fprintf(bw, "%-*s", widths[0], clip(c, widths[0]))
			default:
				fmt.Fprintf(bw, "  %*s", widths[i], c)
			}
		}
		fmt.Fprintln(bw)
	}
	if len(left) > 0 {
		// The note wraps between words, so it fits too.
		words := append(strings.Fields(fmt.Sprintf("Left out to fit %d columns (piped or --format jsonl has them):", width)), left...)
		line := ""
		fmt.Fprintln(bw)
		for _, word := range words {
			if line != "" && len(line)+1+len(word) > width {
				fmt.Fprintln(bw, line)
				line = " "
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		fmt.Fprintln(bw, line)
	}
	return bw.Flush()
}

// writeStatsSheet writes one group's metrics, one a line. With width > 0
// (a terminal) a description that would run past it is wrapped: beside its
// value when a readable column is left, else on lines of its own below.
func writeStatsSheet(w io.Writer, r *correlate.KPIRecord, width int) {
	line := func(head, what string) { writeWrapped(w, head, what, width) }
	lines := func(ls []statsLine) {
		for _, l := range ls {
			line(fmt.Sprintf("%-14s %10s  ", l.name, l.value(r)), l.what)
		}
	}
	span := r.Start
	if r.End != r.Start {
		span += " – " + r.End
	}
	if span != "" {
		line("", span)
		fmt.Fprintln(w)
	}
	lines(statsCalls)
	fmt.Fprintln(w)
	lines(statsRatios)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-14s %10s %10s %10s %10s\n", "", "p50", "p90", "p99", "mean")
	for _, d := range statsDelays {
		v := d.values(r)
		what := d.what
		if d.note != nil {
			what += d.note(r)
		}
		line(fmt.Sprintf("%-14s %10s %10s %10s %10s  ", d.name, d.text(v[0]), d.text(v[1]), d.text(v[2]), d.text(v[3])), what)
	}
	fmt.Fprintln(w)
	lines(statsRegistrations)
	if len(r.Failures) > 0 {
		fmt.Fprintln(w)
		var parts []string
		for _, f := range r.Failures {
			parts = append(parts, fmt.Sprintf("%d: %d", f.Status, f.Count))
		}
		line(fmt.Sprintf("%-14s ", "failure codes"), strings.Join(parts, "  "))
	}
}

// minWrapCells is the narrowest description column worth wrapping into
// beside the values; below it the description goes under them.
const minWrapCells = 24

// writeWrapped writes head then what on one line, or, when width > 0 and
// the line would pass it, what wrapped at spaces into the cells left beside
// head (indented under its start), or under head when too few are left.
func writeWrapped(w io.Writer, head, what string, width int) {
	hn := utf8.RuneCountInString(head)
	if width <= 0 || hn+utf8.RuneCountInString(what) <= width {
		fmt.Fprintf(w, "%s%s\n", head, what)
		return
	}
	indent := hn
	if width-indent < minWrapCells {
		indent = min(15, width/4) // under the name column
		fmt.Fprintln(w, strings.TrimRight(head, " "))
		head = strings.Repeat(" ", indent)
	}
	var b strings.Builder
	wrap(&b, head+what, strings.Repeat(" ", indent), width) // flow's, for findings
	io.WriteString(w, b.String())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func pctText(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
}

// msText writes a delay given in milliseconds in the unit that suits it.
func msText(p *float64) string {
	if p == nil {
		return "-"
	}
	switch v := *p; {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 3, 64) + "ms"
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	}
}

func secText(p *float64) string {
	if p == nil {
		return "-"
	}
	v := *p * 1000
	return msText(&v)
}
