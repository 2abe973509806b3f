package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Rotator writes frames to a capture file, starting a new numbered file
// when the current one reaches a size or an age, for a live capture's -w.
//
// Without limits it writes path itself. With a limit the files are named by
// inserting a 1-based number before the extension: out.pcap becomes
// out.1.pcap, out.2.pcap…, so they sort and open as captures. Every file is
// a complete capture on its own (its header is written first). A Rotator
// is not safe for concurrent use.
type Rotator struct {
	path    string
	format  string
	size    int64         // rotate when a file holds this many bytes (0: never)
	age     time.Duration // rotate when a file is this old (0: never)
	n       int
	f       *os.File
	w       *Writer
	written int64
	opened  time.Time
	files   []string
}

// NewRotator returns a Rotator writing format ("pcap" or "pcapng", see
// FormatFor) to path. The first file is created now, so a path that cannot
// be written fails at once.
func NewRotator(path, format string, size int64, age time.Duration) (*Rotator, error) {
	r := &Rotator{path: path, format: format, size: size, age: age}
	if err := r.open(time.Now()); err != nil {
		return nil, err
	}
	return r, nil
}

// name is the n-th file's name.
func (r *Rotator) name() string {
	if r.size <= 0 && r.age <= 0 {
		return r.path
	}
	dir, base := filepath.Split(r.path)
	stem, ext := base, ""
	// Keep double extensions such as .pcap.gz together.
	if i := strings.Index(base, "."); i > 0 {
		stem, ext = base[:i], base[i:]
	}
	return filepath.Join(dir, fmt.Sprintf("%s.%d%s", stem, r.n, ext))
}

func (r *Rotator) open(now time.Time) error {
	r.n++
	name := r.name()
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w, err := NewWriter(f, r.format)
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.w, r.written, r.opened = f, w, 0, now
	r.files = append(r.files, name)
	return nil
}

// WriteFrame appends f, first starting a new file when the current one is
// full or old. The size counts each frame's bytes and its record header
// (16 bytes in pcap, 32 and padding in pcapng), so a file ends with the
// first frame that reaches the limit.
func (r *Rotator) WriteFrame(f *Frame) error {
	if r.w == nil {
		return fmt.Errorf("write %s: closed", r.path)
	}
	now := time.Now()
	// A file's age counts from its first frame: a quiet start must not
	// leave an empty first file.
	if r.written == 0 {
		r.opened = now
	}
	if r.written > 0 && ((r.size > 0 && r.written >= r.size) || (r.age > 0 && now.Sub(r.opened) >= r.age)) {
		if err := r.closeFile(); err != nil {
			return err
		}
		if err := r.open(now); err != nil {
			return err
		}
	}
	if err := r.w.WriteFrame(f); err != nil {
		return fmt.Errorf("write %s: %w", r.files[len(r.files)-1], err)
	}
	hdr := 16
	if r.format == "pcapng" {
		hdr = 32 + (4-len(f.Data)%4)%4
	}
	r.written += int64(hdr + len(f.Data))
	return nil
}

// Flush writes buffered frames to the current file.
func (r *Rotator) Flush() error {
	if r.w == nil {
		return nil
	}
	return r.w.Flush()
}

func (r *Rotator) closeFile() error {
	name := r.files[len(r.files)-1]
	err := r.w.Close()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.w, r.f = nil, nil
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Files lists the files written so far, in order.
func (r *Rotator) Files() []string { return r.files }

// Close flushes and closes the current file.
func (r *Rotator) Close() error {
	if r.w == nil {
		return nil
	}
	return r.closeFile()
}
