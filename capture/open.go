package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Errors Open wraps, for errors.Is. The error text always names the file.
var (
	// ErrNotCapture means the input is neither pcap nor pcapng (after
	// gzip decompression, if it was compressed).
	ErrNotCapture = errors.New("not a pcap or pcapng file")
	// ErrEmpty means the input holds no bytes at all.
	ErrEmpty = errors.New("empty file")
)

// Options tunes Open.
type Options struct {
	// Stdin is read for the path "-". Nil means os.Stdin. Tests inject a
	// reader here.
	Stdin io.Reader
}

// Progresser is implemented by sources that know how far they have read,
// for a progress bar. done counts bytes consumed from the inputs as stored
// (compressed bytes for gzip files); total is the sum of the input sizes, or
// -1 when one of them is unknown (standard input). Progress may be called
// from another goroutine while Next runs.
type Progresser interface {
	Progress() (done, total int64)
}

// bufSize is the buffer of the bufio.Reader that sniffs an input's format
// and, for gzip, feeds the decompressor. The capture readers take over what
// it has read ahead and then read in blocks of their own (see blockReader).
const bufSize = 64 << 10

// Open opens the capture files at paths ("-" is standard input) and returns
// a Source that yields their frames merged by timestamp.
//
// Each input may be pcap (microsecond or nanosecond, either byte order) or
// pcapng (any number of sections and interfaces, each interface with its own
// link type, timestamp resolution and offset; blocks other than sections,
// interfaces, statistics and packets are skipped unread), optionally
// gzip-compressed; the format is found by the magic number, never by the
// name. Open reads each file header, so a missing, unreadable, empty or
// non-capture input fails here with an error naming it, before any frame
// is read. Damage later in a file ends that file
// with a warning (see Source.Warnings); the other inputs are still read.
//
// Frames of several inputs are merged by capture time; ties go to the input
// listed first, then to the lower frame number, so the order is stable. Each
// input's own order is kept even where its timestamps go backwards (as
// mergecap does). Inputs are streamed: memory does not grow with file size.
//
// Each input is read in blocks of 256 KiB (larger for a record that does not
// fit) and its records are parsed in place: Next makes no system call and
// no allocation for most frames, and a Frame's Data is a slice of the
// block (valid until the next Next, see Frame).
//
// The returned Source also implements Progresser.
func Open(paths []string, opts Options) (Source, error) {
	if len(paths) == 0 {
		return nil, errors.New("open: no capture files given")
	}
	s := &fileSource{}
	for i, p := range paths {
		in, err := openInput(i, p, opts)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.inputs = append(s.inputs, in)
		if in.size < 0 {
			s.total = -1
		} else if s.total >= 0 {
			s.total += in.size
		}
	}
	return s, nil
}

// countingReader counts the bytes read through it, for Progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// input is one capture file being read.
type input struct {
	index  int
	name   string
	closer io.Closer // nil for standard input
	size   int64     // bytes on disk, -1 if unknown
	count  countingReader
	gz     *gzip.Reader

	pcap *pcapReader // classic pcap: our own zero-copy reader
	ng   *ngReader   // pcapng: the same, block by block

	number int64       // frames read so far
	frame  Frame       // the frame read last (the head of this input)
	ended  atomic.Bool // set by Next, read by Progress
}

func openInput(index int, name string, opts Options) (*input, error) {
	in := &input{index: index, name: name, size: -1}
	var r io.Reader
	if name == "-" {
		r = opts.Stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err // *PathError: "open NAME: no such file or directory"
		}
		in.closer = f
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("open %s: %w", name, unwrapPath(err))
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("open %s: is a directory", name)
		}
		if st.Mode().IsRegular() {
			in.size = st.Size()
		}
		r = f
	}
	if err := in.start(r); err != nil {
		in.close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return in, nil
}

// unwrapPath drops the "op path:" prefix of an *os.PathError so that the
// caller can add its own.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Magic numbers, read as little-endian uint32.
const (
	magicPcapMicro   = 0xa1b2c3d4 // pcap, microsecond timestamps
	magicPcapNano    = 0xa1b23c4d // pcap, nanosecond timestamps
	magicPcapMicroBE = 0xd4c3b2a1
	magicPcapNanoBE  = 0x4d3cb2a1
	magicPcapKuz     = 0xa1b2cd34 // Kuznetzov's modified pcap (not supported)
	magicPcapKuzBE   = 0x34cdb2a1
	magicPcapNG      = 0x0a0d0d0a // pcapng section header block type
)

// start detects gzip and the capture format and reads the file header.
func (in *input) start(r io.Reader) error {
	in.count.r = r
	br := bufio.NewReaderSize(&in.count, bufSize)
	head, err := br.Peek(2)
	if len(head) == 0 {
		if err != nil && err != io.EOF {
			return unwrapPath(err)
		}
		return ErrEmpty
	}
	compressed := false
	var under io.Reader = &in.count // what br reads from
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		in.gz = gz
		br = bufio.NewReaderSize(gz, bufSize)
		under = gz
		compressed = true
	}
	head, err = br.Peek(8)
	if len(head) == 0 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return unwrapPath(err)
		}
		if compressed {
			return fmt.Errorf("%w after gzip decompression", ErrEmpty)
		}
		return ErrEmpty
	}
	if len(head) < 4 {
		return fmt.Errorf("%w (starts with %q)", ErrNotCapture, head)
	}
	switch binary.LittleEndian.Uint32(head) {
	case magicPcapMicro, magicPcapNano, magicPcapMicroBE, magicPcapNanoBE:
		// The pcap reader reads from under itself, in large blocks,
		// after taking over what br has read ahead (br is dropped).
		pre, _ := br.Peek(br.Buffered())
		pr, err := newPcapReader(under, pre)
		if err != nil {
			return err
		}
		in.pcap = pr
	case magicPcapKuz, magicPcapKuzBE:
		return errors.New("modified (Kuznetzov) pcap format is not supported; convert it with editcap -F pcap")
	case magicPcapNG:
		pre, _ := br.Peek(br.Buffered())
		ng, err := newNgReader(under, pre)
		if err != nil {
			return err
		}
		in.ng = ng
	default:
		return fmt.Errorf("%w (starts with %q)", ErrNotCapture, head)
	}
	return nil
}

// advance reads the next frame of in into in.frame, or marks in ended and
// returns a warning when the input is over or damaged.
func (in *input) advance() (warning string) {
	if in.ended.Load() {
		return ""
	}
	var err error
	if in.pcap != nil {
		err = in.pcap.next(&in.frame)
	} else {
		err = in.ng.next(&in.frame)
	}
	if err != nil {
		return in.fail(err)
	}
	// The record was parsed in place into in.frame.
	in.number++
	in.frame.Source = in.index
	in.frame.File = in.name
	in.frame.Number = in.number
	return ""
}

// fail marks in ended after err and returns the warning for it: none at a
// clean end (io.EOF), else one naming the file and the last good frame.
func (in *input) fail(err error) (warning string) {
	in.ended.Store(true)
	if err == io.EOF {
		return ""
	}
	what := err.Error()
	if err == io.ErrUnexpectedEOF {
		what = "last record is incomplete"
	}
	if in.number == 0 {
		return fmt.Sprintf("%s: damaged before the first frame: %s", in.name, what)
	}
	return fmt.Sprintf("%s: cut short after frame %d: %s", in.name, in.number, what)
}

// read returns the bytes consumed so far, counting a finished input as
// fully read so that the progress reaches its total.
func (in *input) read() int64 {
	if in.ended.Load() && in.size >= 0 {
		return in.size
	}
	return in.count.n.Load()
}

func (in *input) close() error {
	var err error
	if in.gz != nil {
		in.gz.Close()
	}
	if in.closer != nil {
		err = in.closer.Close()
		in.closer = nil
	}
	return err
}
