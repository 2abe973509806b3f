package store

import (
	"errors"
	"strings"
	"syscall"

	sqlite3 "modernc.org/sqlite/lib"
)

// IsFull reports whether err means the disk (or the filesystem's quota)
// is full: SQLite's SQLITE_FULL, or ENOSPC from a write. SQLite rolls the
// batch that met it back, so the database keeps every batch committed
// before and opens as it was; after space is freed, importing the same
// file again completes it (see ResumeFile).
func IsFull(err error) bool {
	if err == nil {
		return false
	}
	var e *rawError
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	var c interface{ Code() int }
	if errors.As(err, &c) && c.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "database or disk is full")
}
