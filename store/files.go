package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// File is one imported capture file.
type File struct {
	ID          int64
	Name        string // as the user gave it ("-" for standard input)
	Path        string // absolute path at import time ("" for standard input)
	Size        int64
	Fingerprint string // "" when not fingerprinted (standard input)
	Imported    time.Time
	Complete    bool  // the import finished
	Messages    int64 // SIP messages stored from it
}

// fingerprintSpan is how much of each end of a file the fingerprint reads.
const fingerprintSpan = 1 << 20

// Fingerprint identifies a capture file's content cheaply: its size and the
// SHA-256 of its first and last MiB. Two different captures of the same
// size that agree on both ends are, in practice, the same capture.
func Fingerprint(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	size := st.Size()
	h := sha256.New()
	head := min(size, fingerprintSpan)
	if _, err := io.CopyN(h, f, head); err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	if rest := size - head; rest > 0 {
		tail := min(rest, fingerprintSpan)
		if _, err := f.Seek(size-tail, io.SeekStart); err != nil {
			return "", 0, fmt.Errorf("read %s: %w", path, err)
		}
		if _, err := io.CopyN(h, f, tail); err != nil {
			return "", 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return fmt.Sprintf("%d-%x", size, h.Sum(nil)[:16]), size, nil
}

// AddFile registers a capture file before its messages are written, so that
// Writers attribute messages whose decode.Message.File equals name to it.
// name is the input's name as the capture package reports it; "-" (standard
// input) is not fingerprinted.
//
// A file whose content was imported before is refused with an error
// wrapping ErrAlreadyImported, together with the earlier File, so that the
// caller can skip it and say so. A file whose earlier import was
// interrupted gets an error wrapping ErrInterrupted.
func (s *Store) AddFile(ctx context.Context, name string) (File, error) {
	f := File{Name: name, Imported: time.Now().UTC()}
	if name != "-" {
		fp, size, err := Fingerprint(name)
		if err != nil {
			return f, fmt.Errorf("store: %w", err)
		}
		f.Fingerprint, f.Size = fp, size
		if abs, err := filepath.Abs(name); err == nil {
			f.Path = abs
		}
		old, err := s.fileByFingerprint(ctx, fp)
		if err == nil {
			if old.Complete {
				return old, fmt.Errorf("%s: %w (as %s on %s)", name, ErrAlreadyImported,
					old.Name, old.Imported.Format(time.RFC3339))
			}
			return old, fmt.Errorf("%s: %w; the store holds part of it (ResumeFile completes it)", name, ErrInterrupted)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return f, fmt.Errorf("store: %w", err)
		}
	}
	id, err := s.insertFile(ctx, s.db, f)
	if err != nil {
		return f, err
	}
	f.ID = id
	s.mu.Lock()
	s.files[name] = id
	s.mu.Unlock()
	return f, nil
}

// ResumeFile registers again a capture file whose earlier import was
// interrupted (AddFile reported ErrInterrupted: the process was killed, the
// disk filled, the user pressed Ctrl-C), so that importing it once more
// completes the import: the Writer recognises the messages that the
// interrupted import committed (same capture time, addresses and bytes, in
// a stored dialog of the same Call-ID; see Writer.overlap) and stores only
// the rest, merging each dialog with its stored part. Every batch of the
// interrupted import was one transaction, so what it left is whole
// dialogs with their messages. The file's message count is recounted from
// the messages stored from it.
func (s *Store) ResumeFile(ctx context.Context, name string) (File, error) {
	fp, _, err := Fingerprint(name)
	if err != nil {
		return File{Name: name}, fmt.Errorf("store: %w", err)
	}
	old, err := s.fileByFingerprint(ctx, fp)
	if err != nil {
		return File{Name: name}, fmt.Errorf("store: %s: no interrupted import to resume: %w", name, err)
	}
	if old.Complete {
		return old, fmt.Errorf("%s: %w", name, ErrAlreadyImported)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE files SET messages = (SELECT count(*) FROM messages WHERE file_id = ?) WHERE id = ?`, old.ID, old.ID); err != nil {
		return old, fmt.Errorf("store: resume %s: %w", name, err)
	}
	s.mu.Lock()
	s.files[name] = old.ID
	s.mu.Unlock()
	return old, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) insertFile(ctx context.Context, ex execer, f File) (int64, error) {
	var fp any
	if f.Fingerprint != "" {
		fp = f.Fingerprint
	}
	res, err := ex.ExecContext(ctx,
		`INSERT INTO files (name, path, size, fingerprint, imported) VALUES (?, ?, ?, ?, ?)`,
		f.Name, f.Path, f.Size, fp, ns(f.Imported))
	if err != nil {
		return 0, fmt.Errorf("store: add file %s: %w", f.Name, err)
	}
	return res.LastInsertId()
}

const fileCols = `id, name, path, size, coalesce(fingerprint, ''), imported, complete, messages`

func scanFile(sc interface{ Scan(...any) error }) (File, error) {
	var f File
	var imported int64
	err := sc.Scan(&f.ID, &f.Name, &f.Path, &f.Size, &f.Fingerprint, &imported, &f.Complete, &f.Messages)
	f.Imported = fromNS(imported)
	return f, err
}

func (s *Store) fileByFingerprint(ctx context.Context, fp string) (File, error) {
	return scanFile(s.db.QueryRowContext(ctx, `SELECT `+fileCols+` FROM files WHERE fingerprint = ?`, fp))
}

// Files lists the imported files in import order.
func (s *Store) Files(ctx context.Context) ([]File, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+fileCols+` FROM files ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	defer rows.Close()
	var fs []File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("store: files: %w", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: files: %w", err)
	}
	return fs, nil
}

// ns converts a time to integer nanoseconds UTC; the zero time is 0.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNS is the inverse of ns.
func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
