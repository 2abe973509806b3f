package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sipscope/sipscope/correlate"
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

// soleUsage is how a command names the dialog it works on, for the error
// when the source holds several: cmd (the command), verb (what it does
// with one), flag (the flag giving a Call-ID; "" for the first argument).
type soleUsage struct{ cmd, verb, flag string }

// openSole is open given no Call-ID: the source with its only dialog,
// which it names in o.calls, or a usage error naming some.
func (s *ladderSource) openSole(ctx context.Context, o *ladderOptions, io *streams) (*store.Store, func(), error) {
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
	n := 0 // Call-IDs in the source (past maxSoleOthers+1 when sole.more)
	if sole.others != nil {
		n = 1 + len(sole.others)
	}
	if s.db != "" {
		// The first few rows name the dialogs as a capture's first
		// hand-offs do; the count is the store's.
		page, err := st.Page(ctx, store.Filter{}, 0, soleNamed+1)
		var c int64
		if err == nil {
			c, err = st.Count(ctx, store.Filter{})
		}
		if err != nil {
			release()
			return nil, nil, dbError(s.db, err)
		}
		for _, d := range page {
			sole.keep(d, nil)
		}
		n = int(c)
	}
	if n == 1 {
		o.calls = []string{sole.first}
		return st, release, nil
	}
	release()
	where := "--db " + s.db
	if s.db == "" {
		where = strings.Join(s.files, " ")
	}
	what := where // what the messages say holds the dialogs
	if where == "-" {
		what = "standard input"
	}
	u := s.sole
	if n == 0 {
		return nil, nil, fmt.Errorf("%s: no SIP dialog to %s", what, u.verb)
	}
	count := fmt.Sprintf("%d dialogs", n)
	if sole.more {
		count = fmt.Sprintf("more than %d dialogs", maxSoleOthers)
	}
	names := append([]string{sole.first}, sole.names...)
	for i, id := range names {
		names[i] = quoteArg(id)
	}
	list := strings.Join(names, ", ")
	if n > len(names) {
		list += ", ..."
	}
	example := strings.Join(slices.DeleteFunc([]string{"sipscope", u.cmd, u.flag, names[0], where}, func(a string) bool { return a == "" }), " ")
	return nil, nil, usagef("%s holds %s (%s): name the one to %s, e.g. `%s`; `sipscope calls %s` lists them all",
		what, count, list, u.verb, example, where)
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
