package tui

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/sipscope/sipscope/correlate"
)

// selection is the dialogs Space marked in the call list, in the order
// they were marked (the order an extended flow and a save take them in).
type selection struct {
	ids     []string
	dialogs map[string]*correlate.Dialog
}

// toggle marks d, or unmarks it when it is marked.
func (s *selection) toggle(d *correlate.Dialog) {
	if s.dialogs == nil {
		s.dialogs = map[string]*correlate.Dialog{}
	}
	if _, ok := s.dialogs[d.CallID]; ok {
		delete(s.dialogs, d.CallID)
		s.ids = slices.DeleteFunc(s.ids, func(id string) bool { return id == d.CallID })
		return
	}
	s.dialogs[d.CallID] = d
	s.ids = append(s.ids, d.CallID)
}

func (s *selection) has(id string) bool { _, ok := s.dialogs[id]; return ok }
func (s *selection) len() int           { return len(s.ids) }
func (s *selection) clear()             { s.ids, s.dialogs = nil, nil }

// list is the marked dialogs in marking order.
func (s *selection) list() []*correlate.Dialog {
	out := make([]*correlate.Dialog, len(s.ids))
	for i, id := range s.ids {
		out[i] = s.dialogs[id]
	}
	return out
}

// scope is which dialogs a save writes.
type scope int

const (
	scopeCurrent  scope = iota // the dialog under the cursor, or the flow shown
	scopeSelected              // the dialogs Space marked, one ladder each
	scopeFiltered              // every dialog the filter and search select
	scopes
)

func (s scope) String() string { return [...]string{"current", "selected", "filtered"}[s] }

// saveScope is the save prompt's choice of dialogs: Tab cycles through
// the scopes that have dialogs.
type saveScope struct {
	scope scope
	// have says how many dialogs each scope holds.
	have [scopes]int
}

// next moves to the next scope that has dialogs (staying put when none
// other has). Filtered is always offered: the list may still be counting.
func (s *saveScope) next() {
	for i := 1; i <= int(scopes); i++ {
		c := scope((int(s.scope) + i) % int(scopes))
		if s.have[c] > 0 || c == scopeFiltered {
			s.scope = c
			return
		}
	}
}

// withFormat replaces path's extension with format's, so Ctrl-T in the
// save prompt switches format by name: "calls.html" -> "calls.pcap".
func withFormat(path, format string) string {
	ext := filepath.Ext(path)
	if strings.ContainsAny(ext, `/\`) {
		ext = ""
	}
	return strings.TrimSuffix(path, ext) + "." + format
}

// nextFormat is the format after path's extension in formats, or the
// first when the extension is none of them.
func nextFormat(path string, formats []string) string {
	if len(formats) == 0 {
		return path
	}
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	i := slices.Index(formats, ext)
	return withFormat(path, formats[(i+1)%len(formats)])
}

// saveName is the file name the save prompt proposes: the Call-ID (made
// safe for a file name) for one dialog, else "sipscope-calls".
func saveName(ids []string, format string) string {
	if format == "" {
		format = "html"
	}
	name := "sipscope-calls"
	if len(ids) == 1 {
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return '_'
		}, ids[0])
		name = strings.Trim(name, ".")
		if len(name) > 64 {
			name = name[:64]
		}
		if name == "" {
			name = "call"
		}
	}
	return name + "." + format
}
