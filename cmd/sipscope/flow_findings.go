package main

import (
	"fmt"
	goio "io"
	"strconv"
	"strings"
	"unicode"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

// ladderFindings diagnoses each dialog of a ladder (the rules of `sipscope
// diagnose`, default thresholds, media rules included) from the messages
// and the RTP streams the ladder holds.
func ladderFindings(l *render.Ladder) map[string][]correlate.Finding {
	byCall := map[string][]*correlate.Message{}
	for _, m := range l.Messages {
		byCall[m.CallID] = append(byCall[m.CallID], m)
	}
	streams := make([]correlate.Stream, len(l.Media))
	for i := range l.Media {
		streams[i] = l.Media[i].Stream
	}
	out := map[string][]correlate.Finding{}
	for _, c := range l.Calls {
		if c.Dialog == nil {
			continue
		}
		if fs := allFindings(c.Dialog, byCall[c.CallID], streams, handoffRules, handoffMedia); len(fs) > 0 {
			out[c.CallID] = fs
		}
	}
	return out
}

// writeFindings prints the findings block drawn above a ladder: per call,
// each finding's severity, code and summary with the indexes of its evidence
// (as in `sipscope messages` and `diagnose`), wrapped at width (0: no limit).
// Control characters from the wire are shown as '?' so that a crafted
// reason phrase cannot reach the terminal.
func writeFindings(w goio.Writer, l *render.Ladder, fs map[string][]correlate.Finding, width int) error {
	if len(fs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, c := range l.Calls {
		list := fs[c.CallID]
		if len(list) == 0 {
			continue
		}
		head := "Findings"
		if len(l.Calls) > 1 {
			head += " for " + c.CallID
		}
		wrap(&b, head+" (sipscope diagnose for details):", "", width)
		for _, f := range list {
			ev := make([]string, len(f.Evidence))
			for i, e := range f.Evidence {
				ev[i] = "#" + strconv.FormatInt(e, 10)
			}
			line := fmt.Sprintf("  %-7s %s: %s (%s)", f.Severity, f.Code, f.Summary, strings.Join(ev, " "))
			wrap(&b, line, "            ", width)
		}
	}
	b.WriteString("\n")
	_, err := goio.WriteString(w, b.String())
	return err
}

// wrap writes s to b as lines of at most width runes, breaking between
// words; continuation lines start with indent.
func wrap(b *strings.Builder, s, indent string, width int) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	if width <= 0 {
		b.WriteString(s + "\n")
		return
	}
	line, n := "", 0
	for i, word := range strings.Split(s, " ") {
		wl := len([]rune(word))
		switch {
		case i == 0:
			line, n = word, wl
		case n+1+wl > width && n > len(indent):
			b.WriteString(line + "\n")
			line, n = indent+word, len(indent)+wl
		default:
			line, n = line+" "+word, n+1+wl
		}
		for n > width { // a word longer than the line
			r := []rune(line)
			b.WriteString(string(r[:width]) + "\n")
			line = indent + string(r[width:])
			n = len([]rune(line))
			if len(indent) >= width {
				break
			}
		}
	}
	b.WriteString(line + "\n")
}
