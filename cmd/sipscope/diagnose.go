package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

type diagnoseOptions struct {
	source sourceOptions
	filter filterOptions
	calls  []string
	format string
	rules  correlate.DiagnoseOptions
	media  correlate.MediaDiagnoseOptions
}

func newDiagnoseCmd(io *streams) *cobra.Command {
	opts := &diagnoseOptions{rules: correlate.DefaultDiagnoseOptions(), media: correlate.DefaultMediaDiagnoseOptions()}
	cmd := &cobra.Command{
		Use:   "diagnose [FILE...|-|--db PATH] [--call ID] [FILTERS]",
		Short: "Say per dialog what went wrong, citing the messages that prove it",
		Long: `Run the troubleshooting rules over each dialog and print its findings: what went
wrong, in one sentence with the numbers, the RFC section the rule rests on, and
the messages that prove it (their index, as in "sipscope messages").

Codes: no-response, unreachable, timeout, busy, rejected, cancelled, redirected,
auth-failed, no-ack, retransmissions, unanswered-bye, not-ended,
call-does-not-exist, glare, server-error, loop, codec-mismatch, private-address,
oversized-udp, slow-setup, malformed, missing-prack, session-timer; and from
the calls' RTP streams: no-media (answered with SDP, no RTP: a warning, as a
capture filter may leave RTP out), one-way-media, media-address-mismatch (RTP
from an address the SDP did not give: NAT), packet-loss, high-jitter, low-mos,
codec-changed, dtmf-mismatch (telephone-event negotiated, DTMF sent in-band or
by INFO). Severities: error (the call failed),
warning (it worked, or failed for a reason that is nobody's fault, but look),
info. A healthy call has no error; not-ended is info since captures stop.

The filters are those of "sipscope calls". Every rule uses capture time.

Formats:
  text   grouped by call, worst first, each finding with its evidence
         messages' start lines (default)
  jsonl  one JSON object per dialog, in the filters' order; fields: call_id,
         kind, state, findings (a list of {code, severity, summary, evidence,
         rfc}; evidence lists message indexes, never empty)`,
		Example: `  sipscope diagnose trace.pcap
  sipscope diagnose --call 85216695-42dcdb1d@192.168.1.2 aaa.pcap
  sipscope diagnose --db calls.db --kind call --state rejected,no-response --format jsonl
  sipscope diagnose --slow-setup 3s --max-udp 1400 trace.pcap
  sipscope diagnose --max-loss 3 --max-jitter 40 --min-mos 3.1 call-with-rtp.pcap`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.source.files = args
			return runDiagnose(c.Context(), opts, io)
		},
	}
	addSourceFlags(cmd, &opts.source)
	addFilterFlags(cmd, &opts.filter)
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.calls, "call", nil, "only the dialog with this Call-ID (repeatable)")
	fl.StringVar(&opts.format, "format", "text", "output format: text or jsonl")
	fl.DurationVar(&opts.rules.SlowSetup, "slow-setup", opts.rules.SlowSetup, "post-dial delay (INVITE to first 18x or final) above which slow-setup is reported")
	fl.DurationVar(&opts.rules.LateACK, "late-ack", opts.rules.LateACK, "delay from a 2xx to its ACK above which no-ack reports a late ACK")
	fl.IntVar(&opts.rules.MaxUDP, "max-udp", opts.rules.MaxUDP, "UDP message size above which oversized-udp is reported (RFC 3261 §18.1.1)")
	fl.DurationVar(&opts.rules.T1, "t1", opts.rules.T1, "RFC 3261 T1: a request unanswered for 64*T1 timed out")
	fl.IntVar(&opts.rules.Retransmissions, "min-retransmissions", opts.rules.Retransmissions, "retransmissions in a dialog before the retransmissions rule speaks")
	fl.Float64Var(&opts.media.PacketLossPct, "max-loss", opts.media.PacketLossPct, "lost `PERCENT` of a stream's expected RTP packets above which packet-loss is reported")
	fl.Float64Var(&opts.media.JitterMs, "max-jitter", opts.media.JitterMs, "mean RFC 3550 jitter in `MS` above which high-jitter is reported")
	fl.Float64Var(&opts.media.MinMOS, "min-mos", opts.media.MinMOS, "E-model `MOS` under which low-mos is reported")
	return cmd
}

// diagnoseRecord is the JSON Lines contract of `diagnose` (issue #10):
// field names must not change; new fields may be added.
type diagnoseRecord struct {
	CallID   string              `json:"call_id"`
	Kind     string              `json:"kind"`
	State    string              `json:"state"`
	Findings []correlate.Finding `json:"findings"`
}

func runDiagnose(ctx context.Context, opts *diagnoseOptions, io *streams) error {
	switch opts.format {
	case "text", "jsonl":
	default:
		return usagef("unknown --format %q: want text or jsonl", opts.format)
	}
	r := opts.rules
	switch {
	case r.SlowSetup <= 0:
		return usagef("--slow-setup must be above 0, not %s", r.SlowSetup)
	case r.LateACK <= 0:
		return usagef("--late-ack must be above 0, not %s", r.LateACK)
	case r.T1 <= 0:
		return usagef("--t1 must be above 0, not %s", r.T1)
	case r.MaxUDP <= 0:
		return usagef("--max-udp must be above 0, not %d", r.MaxUDP)
	case r.Retransmissions <= 0:
		return usagef("--min-retransmissions must be 1 or more, not %d", r.Retransmissions)
	case !(opts.media.PacketLossPct > 0 && opts.media.PacketLossPct <= 100):
		return usagef("--max-loss must be above 0 and at most 100, not %g", opts.media.PacketLossPct)
	case !(opts.media.JitterMs > 0):
		return usagef("--max-jitter must be above 0, not %g", opts.media.JitterMs)
	case !(opts.media.MinMOS > 1 && opts.media.MinMOS <= 5):
		return usagef("--min-mos must be above 1 and at most 5 (the MOS scale), not %g", opts.media.MinMOS)
	}
	filter, err := opts.filter.build()
	if err != nil {
		return err
	}
	if len(opts.calls) > 0 && opts.filter.active() {
		return usagef("give --call or filters, not both")
	}
	var keep func(*correlate.Dialog, []*correlate.Message) bool
	if len(opts.calls) > 0 {
		keep = keepCalls(opts.calls, false)
	}
	opts.source.inband = true // dtmf-mismatch looks for tones in the audio
	st, release, err := openSource(ctx, &opts.source, keepEverything, keep, io)
	if err != nil {
		return err
	}
	defer release()

	var dialogs []*correlate.Dialog
	if len(opts.calls) > 0 {
		if dialogs, _, err = resolveCalls(ctx, st, opts.calls, false); err != nil {
			return err
		}
	} else if err = eachDialog(ctx, st, filter, func(d *correlate.Dialog) error {
		dialogs = append(dialogs, d)
		return nil
	}); err != nil {
		return err
	}

	out := bufio.NewWriterSize(io.Out, 64<<10)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	var text []diagnosed
	var byCall map[string][]*correlate.Message
	var streams map[string][]correlate.Stream
	for i, d := range dialogs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i%diagnoseBatch == 0 {
			// One query per batch of dialogs rather than one per dialog.
			ids := make([]string, 0, diagnoseBatch)
			for _, b := range dialogs[i:min(i+diagnoseBatch, len(dialogs))] {
				ids = append(ids, b.CallID)
			}
			msgs, err := st.Messages(ctx, ids)
			if err != nil {
				return err
			}
			byCall = make(map[string][]*correlate.Message, len(ids))
			for _, m := range msgs {
				byCall[m.CallID] = append(byCall[m.CallID], m)
			}
			// The calls' RTP streams, for the media rules (issue 11).
			ss, err := st.Streams(ctx, ids)
			if err != nil {
				return err
			}
			streams = make(map[string][]correlate.Stream, len(ids))
			for _, s := range ss {
				streams[s.CallID] = append(streams[s.CallID], s)
			}
		}
		msgs := byCall[d.CallID]
		fs := allFindings(d, msgs, streams[d.CallID], opts.rules, opts.media)
		if fs == nil {
			fs = []correlate.Finding{}
		}
		if opts.format == "jsonl" {
			if err := enc.Encode(&diagnoseRecord{CallID: d.CallID, Kind: string(d.Kind), State: string(d.State), Findings: fs}); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			continue
		}
		text = append(text, diagnosed{d: d, findings: fs, lines: evidenceLines(msgs, fs)})
	}
	if opts.format == "text" {
		if len(text) == 0 && !opts.source.quiet {
			fmt.Fprintln(io.ErrOut, "no dialogs match")
		}
		if err := writeDiagnoses(out, text); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return out.Flush()
}

// allFindings is what diagnose says of a dialog: the findings of the
// signalling rules and of the media rules on its call's streams, worst
// first (a stable sort: on a tie the signalling's first).
func allFindings(d *correlate.Dialog, msgs []*correlate.Message, streams []correlate.Stream, o correlate.DiagnoseOptions, mo correlate.MediaDiagnoseOptions) []correlate.Finding {
	fs := correlate.Diagnose(d, msgs, o)
	if mf := correlate.DiagnoseMedia(d, msgs, streams, mo); len(mf) > 0 {
		fs = correlate.SortFindings(append(fs, mf...))
	}
	return fs
}

// diagnoseBatch is how many dialogs' messages one store query reads.
const diagnoseBatch = 256

// diagnosed is one dialog's findings with the start lines of the messages
// they cite, by index.
type diagnosed struct {
	d        *correlate.Dialog
	findings []correlate.Finding
	lines    map[int64]string
}

// evidenceLines describes each cited message: time, addresses, start line.
func evidenceLines(msgs []*correlate.Message, fs []correlate.Finding) map[int64]string {
	want := map[int64]bool{}
	for _, f := range fs {
		for _, e := range f.Evidence {
			want[e] = true
		}
	}
	lines := make(map[int64]string, len(want))
	for _, m := range msgs {
		i := m.Seq + 1
		if !want[i] || m.Message == nil {
			continue
		}
		start := m.Version + " " + strconv.Itoa(m.Status) + " " + m.Reason
		if m.Request {
			start = m.Method + " " + m.RequestURI + " " + m.Version
		}
		lines[i] = fmt.Sprintf("%s %s → %s %s", m.Time.UTC().Format("15:04:05.000"), m.Src, m.Dst, strings.TrimSpace(start))
	}
	return lines
}

// writeDiagnoses prints the text format: calls worst first (most errors,
// then warnings), each finding with its evidence.
func writeDiagnoses(w io.Writer, ds []diagnosed) error {
	count := func(x diagnosed, s correlate.Severity) int {
		n := 0
		for _, f := range x.findings {
			if f.Severity == s {
				n++
			}
		}
		return n
	}
	sort.SliceStable(ds, func(i, j int) bool {
		for _, s := range []correlate.Severity{correlate.SevError, correlate.SevWarning, correlate.SevInfo} {
			if a, b := count(ds[i], s), count(ds[j], s); a != b {
				return a > b
			}
		}
		return false
	})
	for i, x := range ds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		d := x.d
		final := ""
		if d.FinalStatus != 0 {
			final = " " + strconv.Itoa(d.FinalStatus) + " " + d.FinalReason
		}
		fmt.Fprint(w, render.SanitizeText(fmt.Sprintf("%s  %s %s%s  %s → %s  (%s, %s, %s)\n", d.CallID, d.Kind, d.State, final,
			userAt(d.FromUser(), d.From.URI), userAt(d.ToUser(), d.To.URI),
			plural(count(x, correlate.SevError), "error", "errors"),
			plural(count(x, correlate.SevWarning), "warning", "warnings"),
			plural(count(x, correlate.SevInfo), "info", "info"))))
		if len(x.findings) == 0 {
			fmt.Fprintln(w, "  no findings")
		}
		for _, f := range x.findings {
			fmt.Fprintf(w, "  %-7s %s: %s [%s]\n", f.Severity, f.Code, render.Sanitize(f.Summary), f.RFC)
			for _, e := range f.Evidence {
				if _, err := fmt.Fprintf(w, "          #%-5d %s\n", e, render.Sanitize(x.lines[e])); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
