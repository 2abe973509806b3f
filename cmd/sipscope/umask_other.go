//go:build !unix

package main

import "io/fs"

// newFileMode is the mode of a new file where there is no umask.
func newFileMode() fs.FileMode { return 0o644 }
