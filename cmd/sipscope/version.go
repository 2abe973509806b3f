package main

import (
	"runtime/debug"
	"strings"
)

// version is what --version prints: the module version the binary was
// built from (a tag with `go install ...@v1.2.3`, "(devel)" in a clone)
// and the VCS commit, its time and whether the tree had changes, as the
// go command stamps them into the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (built without module information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	var b strings.Builder
	b.WriteString(v)
	if rev != "" {
		b.WriteString(" (commit " + rev)
		if at != "" {
			b.WriteString(" of " + at)
		}
		b.WriteString(dirty + ")")
	} else {
		b.WriteString(" (no VCS commit recorded)")
	}
	b.WriteString(", " + bi.GoVersion)
	return b.String()
}
