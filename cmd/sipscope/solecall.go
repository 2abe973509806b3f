package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/render"
	"github.com/sipscope/sipscope/store"
)

// A capture a colleague sends with a ticket often holds one call: flow and
// show given no Call-ID draw (print) its only dialog, and when there are
// more the error names a few to choose from instead of leaving the user to
// run calls first.

// soleCall is an importer filter that keeps the first dialog's Call-ID
// (all its parts) and counts the other Call-IDs, naming the first few.
type soleCall struct {
	first  string
	others map[string]bool // up to maxSoleOthers of them
	more   bool            // there were more than maxSoleOthers
	names  []string        // the first few others, in hand-off order
	// enough, when set, is called once there are more than maxSoleOthers:
	// the count is all the error needs, so reading may stop.
	enough func()
}

// maxSoleOthers bounds the Call-IDs counted: past it the error says "more
// than" and the capture is not read further (a 50,000-call capture stops
// about a fiftieth of the way in).
const (
	maxSoleOthers = 1000
	soleNamed     = 3
)

// errSoleEnough stops reading a capture once soleCall has counted enough.
var errSoleEnough = errors.New("enough dialogs counted")

func (s *soleCall) keep(d *correlate.Dialog, _ []*correlate.Message) bool {
	switch {
	case s.first == "" && s.others == nil:
		s.first, s.others = d.CallID, map[string]bool{}
		return true
	case d.CallID == s.first:
		return true
	case s.others[d.CallID]:
	case len(s.others) >= maxSoleOthers:
		if !s.more && s.enough != nil {
			s.enough()
		}
		s.more = true
	default:
		s.others[d.CallID] = true
		if len(s.names) < soleNamed {
			s.names = append(s.names, d.CallID)
		}
	}
	return false
}

// loadSole is load for command cmd given no Call-ID: the only dialog of
// the source, or a usage error listing some, which says what cmd would
// (verb) with one and how it is named (flag, "" for an argument).
func (s *ladderSource) loadSole(ctx context.Context, cmd, verb, flag string, o *ladderOptions, io *streams) (*render.Ladder, func(), error) {
	s.inband = true // as open: the findings' dtmf-mismatch reads the audio
	var sole soleCall
	keep := sole.keep
	if s.db != "" {
		keep = nil // a database is asked instead
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sole.enough = func() { cancel(errSoleEnough) }
	st, release, err := openSource(rctx, &s.sourceOptions, keepEverything, keep, io)
	switch {
	case err != nil && sole.more && errors.Is(context.Cause(rctx), errSoleEnough):
		release = func() {} // stopped on purpose: the count is all we need
	case err != nil:
		return nil, nil, err
	}
	// first is the dialog to draw; n counts the Call-IDs (more: past
	// maxSoleOthers+1, counting stopped); names are a few of them.
	first, n, more := sole.first, 0, sole.more
	if sole.others != nil {
		n = 1 + len(sole.others)
	}
	names := append([]string{sole.first}, sole.names...)
	if s.db != "" {
		page, err := st.Page(ctx, store.Filter{}, 0, soleNamed+1)
		if err == nil && len(page) > 1 {
			var c int64
			c, err = st.Count(ctx, store.Filter{})
			n = int(c)
		} else {
			n = len(page)
		}
		if err != nil {
			release()
			return nil, nil, dbError(s.db, err)
		}
		names = names[:0]
		for _, d := range page {
			names = append(names, d.CallID)
		}
		if len(names) > 0 {
			first = names[0]
		}
	}
	where := "--db " + s.db
	if s.db == "" {
		where = strings.Join(s.files, " ")
	}
	what := where // what the messages say holds the dialogs
	if where == "-" {
		what = "standard input"
	}
	switch {
	case n == 0:
		release()
		return nil, nil, fmt.Errorf("%s: no SIP dialog to %s", what, verb)
	case n > 1:
		release()
		count := fmt.Sprintf("%d dialogs", n)
		if more {
			count = fmt.Sprintf("more than %d dialogs", maxSoleOthers)
		}
		for i, id := range names {
			names[i] = quoteArg(id)
		}
		list := strings.Join(names, ", ")
		if n > len(names) {
			list += ", ..."
		}
		return nil, nil, usagef("%s holds %s (%s): name the one to %s, e.g. %s; `sipscope calls %s` lists them all",
			what, count, list, verb, exampleSole(cmd, flag, names[0], where), where)
	}
	o.calls = []string{first}
	l, err := o.ladder(ctx, st, o.calls)
	if err != nil {
		release()
		return nil, nil, err
	}
	warnInvalidUTF8(io.ErrOut, l)
	return l, release, nil
}

// exampleSole is the command line that names the dialog id.
func exampleSole(cmd, flag, id, where string) string {
	if flag == "" {
		return fmt.Sprintf("`sipscope %s %s %s`", cmd, id, where)
	}
	return fmt.Sprintf("`sipscope %s %s %s %s`", cmd, flag, id, where)
}

// quoteArg quotes a Call-ID for a shell when it needs it.
func quoteArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._-:+=/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// namesCapture says whether arg, the first argument of show, is a capture
// to read rather than a Call-ID: standard input, or a file that exists.
func namesCapture(arg string) bool {
	if arg == "-" {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && !fi.IsDir()
}
