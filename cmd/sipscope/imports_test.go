package main

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/sipscope/sipscope"

// TestImportDirection keeps the pipeline one-way (STYLE.md): a package
// imports only packages to its left on capture -> decode -> correlate ->
// store, render reads decode and correlate types, and each external
// library stays in its room.
func TestImportDirection(t *testing.T) {
	allowed := map[string][]string{
		"capture":   {},
		"decode":    {"capture"},
		"correlate": {"capture", "decode"},
		"store":     {"capture", "decode", "correlate"},
		"render":    {"decode", "correlate", "render"},
	}
	libs := map[string][]string{ // library prefix -> packages (folders, with their subfolders) that may import it
		"github.com/gopacket/gopacket": {"capture", "decode"},
		"modernc.org/sqlite":           {"store"},
		"github.com/gdamore/tcell":     {"render/tui"}, // the TUI only: the other writers stay terminal-free
		"github.com/rivo/tview":        {"render/tui"},
		"github.com/spf13/cobra":       {"cmd"},
	}
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "scripts") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		rel, _ := filepath.Rel(root, path)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		checked++
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module+"/") {
				dep := strings.Split(strings.TrimPrefix(imp, module+"/"), "/")[0]
				if top == "cmd" || dep == top {
					continue
				}
				ok, known := allowed[top]
				if !known {
					continue
				}
				if !contains(ok, dep) {
					t.Errorf("%s imports %s: %s may import only %v", rel, imp, top, ok)
				}
				continue
			}
			for lib, rooms := range libs {
				if strings.HasPrefix(imp, lib) && !inRoom(filepath.ToSlash(rel), rooms) {
					t.Errorf("%s imports %s: that library belongs in %v only", rel, imp, rooms)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("checked %d packages, want at least 5: is the walk rooted right?", checked)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// inRoom reports whether the package at rel (slash-separated, from the
// module root) is one of rooms or below one.
func inRoom(rel string, rooms []string) bool {
	for _, r := range rooms {
		if rel == r || strings.HasPrefix(rel, r+"/") {
			return true
		}
	}
	return false
}
