package main

import (
	"fmt"
	goio "io"
	"strings"
	"unicode"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
)

// ladderFindings diagnoses each dialog of a ladder (the rules of `sipscope
// diagnose`, default thresholds, media rules included) from the messages
// and the RTP streams the ladder holds.
func ladderFindings(l *render.Ladder) map[string][]correlate.Finding {
	return render.Findings(l, handoffRules, handoffMedia)
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
			line := fmt.Sprintf("  %-7s %s: %s (%s)", f.Severity, f.Code, f.Summary, render.Evidence(f))
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
