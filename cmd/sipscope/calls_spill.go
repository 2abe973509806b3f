package main

import (
	"fmt"
	"os"
)

// A callStream holds every dialog until the correlator forgets its
// Call-ID, so on a capture shorter than the correlator's Grace (32 s) it
// holds all of them at once, and on a busy one tens of thousands: 50,000
// SIPp calls held 64 MB of records and media views, half the live heap of
// `calls` and, with the collector's headroom, a third of its peak memory
// (issue 12). Past streamMemory bytes of records in memory, a callStream
// writes the new ones to a scratch file instead and reads each back when
// it writes the dialog: the records are bytes already (a row and a packed
// media view), written once and read once, mostly in the order written,
// from the page cache. What stays in memory for a spilled dialog is its
// place in the start order, its Call-ID and where its record is.

// streamMemory is the bytes of held records a callStream keeps in memory
// before it spills (a variable for tests).
var streamMemory = 4 << 20

// spillFile is a callStream's scratch file: records appended, read back
// by offset. It is removed as soon as it is made where the system allows
// (nothing is left behind if sipscope is killed), else when closed.
type spillFile struct {
	f       *os.File
	name    string // still to remove at close, when removing it open failed
	flushed int64  // bytes written to f; wbuf holds the ones after
	wbuf    []byte
	rbuf    []byte // bytes of f from roff, read ahead
	roff    int64
}

// spillChunk is how much a spillFile buffers before it writes, and reads
// ahead: records come back mostly in the order written.
const spillChunk = 1 << 20

func newSpillFile() (*spillFile, error) {
	f, err := os.CreateTemp("", "sipscope-calls-*.tmp")
	if err != nil {
		return nil, err
	}
	s := &spillFile{f: f}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name()
	}
	return s, nil
}

// add appends rec and returns its offset.
func (s *spillFile) add(rec []byte) (int64, error) {
	off := s.flushed + int64(len(s.wbuf))
	s.wbuf = append(s.wbuf, rec...)
	if len(s.wbuf) >= spillChunk {
		if _, err := s.f.WriteAt(s.wbuf, s.flushed); err != nil {
			return 0, fmt.Errorf("scratch file %s: %w", s.f.Name(), err)
		}
		s.flushed += int64(len(s.wbuf))
		s.wbuf = s.wbuf[:0]
	}
	return off, nil
}

// read returns the n bytes at off, valid until the next call.
func (s *spillFile) read(off int64, n int) ([]byte, error) {
	if off >= s.flushed {
		i := off - s.flushed
		return s.wbuf[i : i+int64(n)], nil
	}
	if off < s.roff || off+int64(n) > s.roff+int64(len(s.rbuf)) {
		s.roff = off
		if want := max(n, spillChunk); cap(s.rbuf) < want {
			s.rbuf = make([]byte, want)
		} else {
			s.rbuf = s.rbuf[:want]
		}
		got, err := s.f.ReadAt(s.rbuf, off)
		if got < n {
			if err == nil {
				err = fmt.Errorf("short read")
			}
			s.rbuf = s.rbuf[:0]
			return nil, fmt.Errorf("scratch file %s: %w", s.f.Name(), err)
		}
		s.rbuf = s.rbuf[:got]
	}
	i := off - s.roff
	return s.rbuf[i : i+int64(n)], nil
}

func (s *spillFile) close() {
	s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
}

// spillOver is a spillFile made when the first record goes to it, and
// why spilling stopped, if it did: the records then stay in memory.
type spillOver struct {
	file    *spillFile
	err     error
	spilled int // records written to the file
}

// add writes rec to the file, making it first, and returns its offset;
// false when spilling failed, now or before (err says why).
func (so *spillOver) add(rec []byte) (int64, bool) {
	if so.err != nil {
		return 0, false
	}
	if so.file == nil {
		if so.file, so.err = newSpillFile(); so.err != nil {
			return 0, false
		}
	}
	off, err := so.file.add(rec)
	if err != nil {
		so.err = err
		return 0, false
	}
	so.spilled++
	return off, true
}

// warning says that what stayed in memory because spilling failed, and
// why; "" when it did not fail.
func (so *spillOver) warning(what string) string {
	if so.err == nil {
		return ""
	}
	return fmt.Sprintf("%s stayed in memory, past %d MiB: %v", what, streamMemory>>20, so.err)
}

// read returns the n bytes at off, valid until the next add or read.
func (so *spillOver) read(off int64, n int) ([]byte, error) { return so.file.read(off, n) }

// close removes the file, if there is one.
func (so *spillOver) close() {
	if so.file != nil {
		so.file.close()
		so.file = nil
	}
}

// recordStore keeps records that are written once and read back later,
// mostly in the order written (import's media views, mediaViews): the
// first streamMemory bytes in memory, the rest in the spill file, so that
// what stays on the heap per record is its recRef. If the scratch file
// cannot be made or written, the records stay in memory (spill.err says
// why).
type recordStore struct {
	mem   []byte
	spill spillOver
}

// recRef is where a recordStore put a record: at off in memory, or at
// -off-1 in the spill file; n bytes.
type recRef struct {
	off int64
	n   int32
}

// add stores rec (which it copies) and says where.
func (rs *recordStore) add(rec []byte) recRef {
	if len(rs.mem)+len(rec) > streamMemory {
		if off, ok := rs.spill.add(rec); ok {
			return recRef{off: -off - 1, n: int32(len(rec))}
		}
	}
	off := len(rs.mem)
	rs.mem = append(rs.mem, rec...)
	return recRef{off: int64(off), n: int32(len(rec))}
}

// get returns the record at r, valid until the next add or get.
func (rs *recordStore) get(r recRef) ([]byte, error) {
	if r.off >= 0 {
		return rs.mem[r.off : r.off+int64(r.n) : r.off+int64(r.n)], nil
	}
	return rs.spill.read(-r.off-1, int(r.n))
}

// close removes the spill file, if there is one, and drops the records.
func (rs *recordStore) close() {
	rs.spill.close()
	rs.mem = nil
}
