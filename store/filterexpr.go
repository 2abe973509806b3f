package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// ParseFilter parses the filter language of the terminal UI's filter line
// into a Filter: space-separated terms KEY OP VALUE, all of which must
// match, e.g.
//
//	state=busy,rejected from~alice status>=400 kind=call
//
// Keys and operators:
//
//	kind=K[,K...]        any of these kinds
//	state=S[,S...]       any of these states
//	status=T[,T...]      codes, classes or ranges as Filter.Status (486, 4xx, 400-499, 0)
//	status>=N  >N  <=N  <N   final status compared to N (no final response is 0)
//	from~P  to~P         user, URI or display name, as Filter.From/To (= is the same)
//	since=T  until=T     start time bounds, RFC 3339 (2026-11-25T09:00:00Z)
//	grep~RE              a message of the dialog matches the regular expression
//	sort=KEYS            as Filter.Sort (start, -duration, status,-start ...)
//	call=ID              this Call-ID
//
// It is the one parser of this language: commands and the UI both use it,
// so a filter typed in one works in the other. An empty expression is the
// zero Filter. Errors name the term that is wrong.
func ParseFilter(expr string) (Filter, error) {
	var f Filter
	for _, term := range strings.Fields(expr) {
		key, op, val, ok := splitTerm(term)
		if !ok {
			return Filter{}, fmt.Errorf("filter term %q: want KEY=VALUE, KEY~VALUE or KEY>=N (e.g. state=busy)", term)
		}
		if val == "" {
			return Filter{}, fmt.Errorf("filter term %q: empty value", term)
		}
		bad := func(ops string) error {
			return fmt.Errorf("filter term %q: %s takes %s", term, key, ops)
		}
		switch strings.ToLower(key) {
		case "kind":
			if op != "=" {
				return Filter{}, bad("=")
			}
			for _, k := range strings.Split(val, ",") {
				f.Kind = append(f.Kind, correlate.Kind(strings.ToLower(k)))
			}
		case "state":
			if op != "=" {
				return Filter{}, bad("=")
			}
			for _, s := range strings.Split(val, ",") {
				f.State = append(f.State, correlate.State(strings.ToLower(s)))
			}
		case "status":
			s, err := statusTerm(op, val)
			if err != nil {
				return Filter{}, fmt.Errorf("filter term %q: %w", term, err)
			}
			if f.Status != "" {
				if s = intersectStatus(f.Status, s); s == "" {
					return Filter{}, fmt.Errorf("filter term %q: selects nothing together with status %s", term, f.Status)
				}
			}
			f.Status = s
		case "from", "to":
			if op != "=" && op != "~" {
				return Filter{}, bad("~ or =")
			}
			if key == "from" {
				f.From = val
			} else {
				f.To = val
			}
		case "since", "until":
			if op != "=" {
				return Filter{}, bad("=")
			}
			t, err := parseFilterTime(val)
			if err != nil {
				return Filter{}, fmt.Errorf("filter term %q: %w", term, err)
			}
			if key == "since" {
				f.Since = t
			} else {
				f.Until = t
			}
		case "grep":
			if op != "~" && op != "=" {
				return Filter{}, bad("~")
			}
			re, err := regexp.Compile(val)
			if err != nil {
				return Filter{}, fmt.Errorf("filter term %q: %w", term, err)
			}
			f.Grep = re
		case "sort":
			if op != "=" {
				return Filter{}, bad("=")
			}
			f.Sort = val
		case "call", "call_id", "callid":
			if op != "=" {
				return Filter{}, bad("=")
			}
			f.CallIDs = append(f.CallIDs, val)
		default:
			return Filter{}, fmt.Errorf("filter term %q: unknown key %q (want kind, state, status, from, to, since, until, grep, sort or call)", term, key)
		}
	}
	if err := f.Check(); err != nil {
		return Filter{}, err
	}
	return f, nil
}

// splitTerm cuts KEY OP VALUE at the first operator.
func splitTerm(term string) (key, op, val string, ok bool) {
	i := strings.IndexAny(term, "=~<>")
	if i <= 0 {
		return "", "", "", false
	}
	key, rest := term[:i], term[i:]
	for _, o := range []string{">=", "<=", "=", "~", ">", "<"} {
		if v, found := strings.CutPrefix(rest, o); found {
			return key, o, v, true
		}
	}
	return "", "", "", false
}

// statusTerm turns a comparison into Filter.Status ranges.
func statusTerm(op, val string) (string, error) {
	if op == "=" {
		if _, err := parseStatus(val); err != nil {
			return "", err
		}
		return val, nil
	}
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n > 999 {
		return "", fmt.Errorf("status %s needs a number 0-999, not %q", op, val)
	}
	// Final statuses are 100-699 (RFC 3261 §7.2; the Filter refuses codes
	// above): comparisons are clamped to 699. 0 stands for no final
	// response, so "status<300" includes unanswered dialogs.
	lo, hi := 0, 699
	switch op {
	case ">=":
		lo = n
	case ">":
		lo = n + 1
	case "<=":
		hi = n
	case "<":
		hi = n - 1
	default:
		return "", fmt.Errorf("status takes =, >=, >, <= or <, not %s", op)
	}
	hi = min(hi, 699)
	if lo > hi {
		return "", fmt.Errorf("status %s%s selects nothing", op, val)
	}
	return fmt.Sprintf("%d-%d", lo, hi), nil
}

// intersectStatus keeps the part of old's ranges inside s's ranges, so that
// "status>=400 status<500" means 400-499 (Filter.Status ORs its terms; the
// filter line ANDs them). "" when they do not overlap.
func intersectStatus(old, s string) string {
	a, _ := parseStatus(old)
	b, _ := parseStatus(s)
	var out []string
	for _, x := range a {
		for _, y := range b {
			lo, hi := max(x.lo, y.lo), min(x.hi, y.hi)
			if lo <= hi {
				out = append(out, fmt.Sprintf("%d-%d", lo, hi))
			}
		}
	}
	return strings.Join(out, ",")
}

// parseFilterTime reads RFC 3339 or a plain UTC date and time.
func parseFilterTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q as a time: use RFC 3339 (2024-05-01T10:00:00Z) or 2024-05-01 (UTC)", s)
}
