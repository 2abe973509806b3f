package capture

import (
	"errors"
	"io"
	"sync"
)

// joinQueue is how many frames may wait between the reading goroutines and
// Next. A full queue holds the readers back, so a burst waits in each
// source's own buffer (the kernel ring, which counts what it drops) rather
// than being dropped here.
const joinQueue = 1024

// Join fans several sources in to one, in arrival order: each is read by
// its own goroutine, which copies the frame (Data aliases that source's
// buffer) and queues it. It is meant for live sources — interfaces, HEP
// listeners — whose frames come in real time; files are merged by time
// with Open instead. Frame.Source is rewritten to the source's index in
// srcs.
//
// The joined source is Live: Stop stops every source that is Live, Stats
// sums theirs, Err is the first error of one of them (the others keep
// going: one interface going away does not end the capture). Next returns
// io.EOF when every source has ended. A source's Next error other than
// io.EOF ends that source and is reported by Err. Close stops, waits for
// the readers and closes every source.
func Join(srcs ...Source) Live { return joinMapped(srcs, nil) }

// joinMapped is Join with Frame.Source set to index[i] for the frames of
// srcs[i] (nil: i), so that several readers of one interface (a fanout
// group) give its frames one Source, and Interfaces lists each index once.
func joinMapped(srcs []Source, index []int) *joined {
	j := &joined{
		index: index,
		srcs:  srcs,
		ch:    make(chan joinItem, joinQueue),
		free:  make(chan []byte, joinQueue+2),
		stop:  make(chan struct{}),
	}
	j.wg.Add(len(srcs))
	for i, s := range srcs {
		go j.read(i, s)
	}
	go func() { j.wg.Wait(); close(j.ch) }()
	return j
}

type joinItem struct {
	f   Frame
	buf []byte
}

type joined struct {
	index    []int // Frame.Source of each source's frames; nil: its position
	srcs     []Source
	ch       chan joinItem
	free     chan []byte // buffers Next is done with
	last     []byte      // buffer of the frame Next returned last
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup

	mu   sync.Mutex // guards errs
	errs []error
}

func (j *joined) read(i int, s Source) {
	defer j.wg.Done()
	var f Frame
	for {
		err := s.Next(&f)
		if err == io.EOF {
			if l, ok := s.(Live); ok {
				if err := l.Err(); err != nil {
					j.addErr(err)
				}
			}
			return
		}
		if err != nil {
			j.addErr(err)
			return
		}
		var buf []byte
		select {
		case buf = <-j.free:
		default:
		}
		buf = append(buf[:0], f.Data...)
		f.Data = buf
		f.Source = i
		if j.index != nil {
			f.Source = j.index[i]
		}
		select {
		case j.ch <- joinItem{f, buf}:
		case <-j.stop:
			// Keep reading until the source itself sees Stop and ends,
			// but drop what comes: nobody reads any more.
		}
	}
}

func (j *joined) addErr(err error) {
	j.mu.Lock()
	j.errs = append(j.errs, err)
	j.mu.Unlock()
}

// Next implements Source.
func (j *joined) Next(f *Frame) error {
	if j.last != nil {
		select {
		case j.free <- j.last:
		default:
		}
		j.last = nil
	}
	it, ok := <-j.ch
	if !ok {
		return io.EOF
	}
	*f = it.f
	j.last = it.buf
	return nil
}

// Stop implements Live.
func (j *joined) Stop() {
	for _, s := range j.srcs {
		if l, ok := s.(Live); ok {
			l.Stop()
		}
	}
}

// Stats implements Live.
func (j *joined) Stats() LiveStats {
	var st LiveStats
	for _, s := range j.srcs {
		if l, ok := s.(Live); ok {
			x := l.Stats()
			st.Packets += x.Packets
			st.KernelDrops += x.KernelDrops
		}
	}
	return st
}

// Err implements Live: the errors of the sources that ended early, joined
// (each text once: the readers of one interface fail alike).
func (j *joined) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	seen := map[string]bool{}
	for _, err := range j.errs {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Interfaces implements Interfaces, over the sources that have some.
func (j *joined) Interfaces() []Interface {
	var all []Interface
	seen := map[int]bool{}
	for i, s := range j.srcs {
		if j.index != nil {
			if seen[j.index[i]] {
				continue
			}
			seen[j.index[i]] = true
		}
		if l, ok := s.(Interfaces); ok {
			all = append(all, l.Interfaces()...)
		}
	}
	return all
}

// Warnings implements Source.
func (j *joined) Warnings() []string {
	var w []string
	for _, s := range j.srcs {
		w = append(w, s.Warnings()...)
	}
	return w
}

// Close implements io.Closer.
func (j *joined) Close() error {
	j.Stop()
	j.stopOnce.Do(func() { close(j.stop) })
	// Sources that are not Live end on their own (io.EOF); drain so that
	// no reader blocks on a full queue.
	for range j.ch {
	}
	var first error
	for _, s := range j.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
