package capture

import (
	"errors"
	"io"
)

// fileSource merges the frames of its inputs by time with a k-way merge over
// a binary min-heap of inputs keyed by their head frame.
//
// The frame handed out by Next stays at the top of the heap and its Data
// aliases its input's read buffer; that input is advanced only at the next
// call to Next, which is what lets Data stay valid until then without a copy.
type fileSource struct {
	inputs   []*input
	heap     []*input
	started  bool // the first frame of every input has been read
	warnings []string
	total    int64
	closed   bool
}

// less orders inputs by head frame: time, then input order, then frame
// number (the last only matters for equal inputs, kept for clarity).
func less(a, b *input) bool {
	ta, tb := a.frame.Time, b.frame.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.index != b.index {
		return a.index < b.index
	}
	return a.frame.Number < b.frame.Number
}

// Next implements Source.
func (s *fileSource) Next(f *Frame) error {
	if s.closed {
		return errors.New("capture: Next on a closed source")
	}
	if !s.started {
		s.started = true
		for _, in := range s.inputs {
			if s.step(in) {
				s.heap = append(s.heap, in)
			}
		}
		for i := len(s.heap)/2 - 1; i >= 0; i-- {
			s.down(i)
		}
	} else if len(s.heap) > 0 {
		// Advance the input whose frame was returned last.
		if s.step(s.heap[0]) {
			s.down(0)
		} else {
			last := len(s.heap) - 1
			s.heap[0] = s.heap[last]
			s.heap[last] = nil
			s.heap = s.heap[:last]
			if last > 0 {
				s.down(0)
			}
		}
	}
	if len(s.heap) == 0 {
		return io.EOF
	}
	*f = s.heap[0].frame
	return nil
}

// step advances in and reports whether it has a frame. Damage is recorded as
// a warning and the input is closed early to free its file.
func (s *fileSource) step(in *input) bool {
	if w := in.advance(); w != "" {
		s.warnings = append(s.warnings, w)
	}
	if in.ended.Load() {
		in.close()
		return false
	}
	return true
}

func (s *fileSource) down(i int) {
	h := s.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// Warnings implements Source.
func (s *fileSource) Warnings() []string { return s.warnings }

// Progress implements Progresser. It is safe to call while Next runs.
func (s *fileSource) Progress() (done, total int64) {
	for _, in := range s.inputs {
		done += in.read()
	}
	return done, s.total
}

// Close implements io.Closer: it closes every input file. Standard input is
// left open.
func (s *fileSource) Close() error {
	s.closed = true
	var first error
	for _, in := range s.inputs {
		if err := in.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
