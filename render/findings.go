package render

import (
	"strconv"
	"strings"

	"github.com/sipscope/sipscope/correlate"
)

// Findings diagnoses each call of a ladder that has its dialog, from the
// messages and RTP streams the ladder holds: correlate.Diagnose with o
// and correlate.DiagnoseMedia with mo, sorted together, by Call-ID (calls
// without findings left out). It is what `sipscope flow`, the HTML export
// and the terminal UI print above a ladder, so all of them say the same.
func Findings(l *Ladder, o correlate.DiagnoseOptions, mo correlate.MediaDiagnoseOptions) map[string][]correlate.Finding {
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
		msgs := byCall[c.CallID]
		fs := correlate.Diagnose(c.Dialog, msgs, o)
		if mf := correlate.DiagnoseMedia(c.Dialog, msgs, streams, mo); len(mf) > 0 {
			fs = correlate.SortFindings(append(fs, mf...))
		}
		if len(fs) > 0 {
			out[c.CallID] = fs
		}
	}
	return out
}

// Evidence is a finding's evidence as message indexes, "#3 #5", as
// `sipscope messages` numbers them.
func Evidence(f correlate.Finding) string {
	ev := make([]string, len(f.Evidence))
	for i, e := range f.Evidence {
		ev[i] = "#" + strconv.FormatInt(e, 10)
	}
	return strings.Join(ev, " ")
}
