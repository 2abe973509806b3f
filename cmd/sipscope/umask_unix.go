//go:build unix

package main

import (
	"io/fs"
	"syscall"
)

// newFileMode is the mode the shell would give a new file: 0666 less the
// umask. Reading the umask means setting it, and setting it back at once;
// the command creates no files while it does.
func newFileMode() fs.FileMode {
	u := syscall.Umask(0o022)
	syscall.Umask(u)
	return fs.FileMode(0o666 &^ u)
}
