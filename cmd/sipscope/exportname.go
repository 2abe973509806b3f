package main

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strings"
)

// callFileName is the path, inside the folder dir, of a file named after a
// call (for an export that writes one file per Call-ID). A Call-ID is a
// stranger's text (RFC 3261 §25.1 word allows '/', '\', ':', '.', '"' and
// more), so it is never used as a path: every byte but letters, digits and
// "-_.@+" becomes '_', leading dots are dropped (no "..", no hidden
// files), the name is cut to 80 bytes, and an FNV-1a hash of the whole
// Call-ID keeps two Call-IDs that map to the same text apart. The result
// is checked to lie in dir.
func callFileName(dir, callID, ext string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(callID) && b.Len() < 80; i++ {
		c := callID[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_@+", c) >= 0:
			b.WriteByte(c)
		case c == '.' && b.Len() > 0:
			b.WriteByte(c)
		case c != '.':
			b.WriteByte('_')
		}
	}
	h := fnv.New32a()
	h.Write([]byte(callID))
	name := strings.TrimRight(b.String(), ".")
	if name == "" {
		name = "call"
	}
	name = fmt.Sprintf("%s-%08x", name, h.Sum32())
	if ext != "" {
		name += "." + strings.TrimPrefix(ext, ".")
	}
	p := filepath.Join(dir, name)
	if rel, err := filepath.Rel(dir, p); err != nil || rel != name || strings.ContainsAny(rel, `/\`) {
		return "", fmt.Errorf("call %q: no safe file name in %s", callID, dir)
	}
	return p, nil
}
