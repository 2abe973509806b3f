package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// blockSize is the read buffer of a classic pcap input. Records are parsed
// in place and handed out as slices of it (no copy, no allocation, one read
// call per block rather than two per frame). 256 KiB holds hundreds of SIP
// frames, keeps reads large, and stays small enough for many merged inputs.
const blockSize = 256 << 10

// maxSnap is libpcap's MAXIMUM_SNAPLEN. Records up to the larger of it and
// the file's snap length are read, as pcapgo does: writers that do not
// truncate to the snap length they declare exist, and tcpdump reads them.
const maxSnap = 262144

// blockReader is a large read buffer over r: buf[start:end] holds bytes read
// but not consumed. fill compacts and refills it; the bytes handed out
// before a fill are overwritten by it, which is why a Frame's Data is valid
// only until the next Next.
type blockReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	err        error // sticky error from r (io.EOF at the end)
}

// newBlockReader takes over pre, the bytes already read ahead from r (by
// the bufio.Reader that sniffed the format), so no byte is lost or read
// twice.
func newBlockReader(r io.Reader, pre []byte) *blockReader {
	size := blockSize
	if len(pre) > size {
		size = len(pre)
	}
	b := &blockReader{r: r, buf: make([]byte, size)}
	b.end = copy(b.buf, pre)
	return b
}

// avail is the number of unconsumed bytes.
func (b *blockReader) avail() int { return b.end - b.start }

// fill reads until at least need bytes are unconsumed and reports whether
// it got them. The buffer grows for a record larger than it, by doubling,
// and only as far as bytes actually arrive: a length field in a damaged
// file cannot make it allocate much more than the file holds.
func (b *blockReader) fill(need int) bool {
	if b.start > 0 {
		// Move the partial record to the front so that the read that
		// follows is as large as the buffer.
		b.end = copy(b.buf, b.buf[b.start:b.end])
		b.start = 0
	}
	empty := 0
	for b.end < need {
		if b.err != nil {
			return false
		}
		if b.end == len(b.buf) {
			n := 2 * len(b.buf)
			if n > need {
				n = need
			}
			nb := make([]byte, n)
			copy(nb, b.buf[:b.end])
			b.buf = nb
		}
		n, err := b.r.Read(b.buf[b.end:])
		b.end += n
		if err != nil {
			b.err = err
		} else if n == 0 {
			if empty++; empty >= 100 {
				b.err = io.ErrNoProgress
			}
		}
	}
	return true
}

// short returns the error for a record of which fewer bytes than it needs
// could be read: io.EOF at a clean end (nothing left), io.ErrUnexpectedEOF
// when the input ends inside a record, else the read error.
func (b *blockReader) short() error {
	if b.err == io.EOF {
		if b.avail() == 0 {
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	return b.err
}

// pcapReader reads classic pcap records (libpcap format: a 24-byte file
// header, then per packet a 16-byte record header and the captured bytes;
// draft-ietf-opsawg-pcap §4 and §5) straight out of a blockReader.
type pcapReader struct {
	blockReader
	big     bool   // big-endian fields
	factor  uint32 // 1 for nanosecond timestamps, 1000 for microseconds
	snaplen uint32
	maxCap  int // longest record accepted
	link    LinkType
}

// u32 reads a header field in the file's byte order.
func (p *pcapReader) u32(b []byte) uint32 {
	if p.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// newPcapReader reads the 24-byte file header (pcap §4): magic, version
// 2.4, snap length and link type. It takes the same versions pcapgo
// takes, so that the fast path accepts exactly the files the old one did.
func newPcapReader(r io.Reader, pre []byte) (*pcapReader, error) {
	p := &pcapReader{blockReader: *newBlockReader(r, pre)}
	if !p.fill(24) {
		if err := p.short(); err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("pcap file header: %v", err)
		}
		return nil, errors.New("pcap file header cut short")
	}
	h := p.buf[p.start : p.start+24]
	switch binary.LittleEndian.Uint32(h) {
	case magicPcapMicro:
		p.factor = 1000
	case magicPcapNano:
		p.factor = 1
	case magicPcapMicroBE:
		p.big, p.factor = true, 1000
	case magicPcapNanoBE:
		p.big, p.factor = true, 1
	default:
		return nil, fmt.Errorf("pcap file header: unknown magic %x", binary.LittleEndian.Uint32(h))
	}
	major, minor := binary.LittleEndian.Uint16(h[4:6]), binary.LittleEndian.Uint16(h[6:8])
	if p.big {
		major, minor = binary.BigEndian.Uint16(h[4:6]), binary.BigEndian.Uint16(h[6:8])
	}
	if major != 2 {
		return nil, fmt.Errorf("pcap file header: Unknown major version %d", major)
	}
	if minor != 4 {
		return nil, fmt.Errorf("pcap file header: Unknown minor version %d", minor)
	}
	// Bytes 8-16 (thiszone, sigfigs) are ignored, as libpcap does.
	p.snaplen = p.u32(h[16:20])
	p.maxCap = maxSnap
	if int64(p.snaplen) > maxSnap {
		p.maxCap = int(min(int64(p.snaplen), math.MaxInt-blockSize)) // 32-bit int
	}
	// The link type is the low 16 bits of the field; the upper bits hold
	// the FCS length and flags (pcap §4, LinkType and additional info).
	p.link = LinkType(p.u32(h[20:24]))
	p.start += 24
	return p, nil
}

// next fills f's time, data and lengths from the next record. At a clean
// end it returns io.EOF; a record cut short gives io.ErrUnexpectedEOF
// (also when only its header is there, as pcapgo reports it); a length that
// cannot be right gives an error saying which.
func (p *pcapReader) next(f *Frame) error {
	if p.avail() < 16 && !p.fill(16) {
		return p.short()
	}
	h := p.buf[p.start : p.start+16 : p.start+16]
	caplen := p.u32(h[8:12])
	origlen := p.u32(h[12:16])
	if int64(caplen) > int64(p.maxCap) {
		return fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, p.snaplen)
	}
	if caplen > origlen {
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, origlen)
	}
	n := 16 + int(caplen)
	if p.avail() < n {
		if !p.fill(n) {
			return p.short() // avail >= 16: never io.EOF
		}
		h = p.buf[p.start : p.start+16 : p.start+16]
	}
	// The fraction is multiplied in 32 bits, as pcapgo does, so that
	// times stay identical to those it gave for out-of-range fractions.
	f.Time = time.Unix(int64(p.u32(h[0:4])), int64(p.u32(h[4:8])*p.factor)).UTC()
	f.Data = p.buf[p.start+16 : p.start+n : p.start+n]
	f.OrigLen = int(origlen)
	f.Link = p.link
	p.start += n
	return nil
}
