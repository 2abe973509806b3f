package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ErrLinkMismatch is returned by a "pcap" Writer given a frame whose link
// type differs from the first frame's: a pcap file has one link type, so
// such frames need the "pcapng" format (see FormatFor).
var ErrLinkMismatch = errors.New("frames of several link types need pcapng")

// writeSnaplen is the snap length declared in written pcap headers and
// interfaces: libpcap's MAXIMUM_SNAPLEN, which every reader accepts.
const writeSnaplen = 262144

// FormatFor returns the simplest format that holds frames of the given link
// types without loss: "pcap" when they share one link type (or there are
// none), "pcapng" otherwise. Both formats keep nanosecond timestamps.
func FormatFor(links ...LinkType) string {
	for _, l := range links[min(1, len(links)):] {
		if l != links[0] {
			return "pcapng"
		}
	}
	return "pcap"
}

// Writer writes frames to a capture file, for exporting the frames of a call.
//
// Design: the caller picks the format (FormatFor picks the simplest one).
//   - "pcap": nanosecond pcap (magic 0xa1b23c4d), little-endian; the link
//     type is the first frame's and a frame of another link type is
//     rejected with ErrLinkMismatch.
//   - "pcapng": one section; one interface per link type, added the first
//     time that link type is met (an IDB may come anywhere before the
//     packets that use it, pcapng §4.2), each with nanosecond resolution
//     (if_tsresol = 9).
//
// The header is written with the first frame, or by Close when no frame was
// written (with link type Ethernet), so an empty export is still a valid
// file. Output is buffered: call Close (or Flush) before closing w. Close does
// not close w. A Writer is not safe for concurrent use.
type Writer struct {
	format string
	bw     *bufio.Writer
	pcap   *pcapgo.Writer
	link   LinkType // pcap: the file's link type
	ng     *pcapgo.NgWriter
	ifaces map[LinkType]int // pcapng: interface id per link type
	err    error            // first write error, sticky
	closed bool
}

// NewWriter returns a Writer of the given format, "pcap" or "pcapng".
func NewWriter(w io.Writer, format string) (*Writer, error) {
	switch format {
	case "pcap", "pcapng":
	default:
		return nil, fmt.Errorf("capture: unknown capture format %q (want pcap or pcapng)", format)
	}
	return &Writer{format: format, bw: bufio.NewWriter(w)}, nil
}

// start writes the file header for a first frame of link type l.
func (w *Writer) start(l LinkType) error {
	if w.format == "pcap" {
		w.pcap = pcapgo.NewWriterNanos(w.bw)
		w.link = l
		return w.pcap.WriteFileHeader(writeSnaplen, layers.LinkType(l))
	}
	opts := pcapgo.DefaultNgWriterOptions
	opts.SectionInfo.Application = "sipscope"
	ng, err := pcapgo.NewNgWriterInterface(w.bw, ngInterface(l), opts)
	if err != nil {
		return err
	}
	w.ng = ng
	w.ifaces = map[LinkType]int{l: 0}
	return nil
}

func ngInterface(l LinkType) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                fmt.Sprintf("link%d", l),
		LinkType:            layers.LinkType(l),
		SnapLength:          writeSnaplen,
		TimestampResolution: 9,
	}
}

// WriteFrame appends f. f.Data is not retained.
func (w *Writer) WriteFrame(f *Frame) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("capture: WriteFrame on a closed Writer")
	}
	if w.pcap == nil && w.ng == nil {
		if err := w.start(f.Link); err != nil {
			w.err = err
			return err
		}
	}
	ci := gopacket.CaptureInfo{
		Timestamp:     f.Time,
		CaptureLength: len(f.Data),
		Length:        max(f.OrigLen, len(f.Data)),
	}
	var err error
	if w.pcap != nil {
		if f.Link != w.link {
			return fmt.Errorf("capture: frame %d of %s has link type %d, the pcap file %d: %w",
				f.Number, f.File, f.Link, w.link, ErrLinkMismatch)
		}
		err = w.pcap.WritePacket(ci, f.Data)
	} else {
		id, ok := w.ifaces[f.Link]
		if !ok {
			id, err = w.ng.AddInterface(ngInterface(f.Link))
			if err != nil {
				w.err = err
				return err
			}
			w.ifaces[f.Link] = id
		}
		ci.InterfaceIndex = id
		err = w.ng.WritePacket(ci, f.Data)
	}
	if err != nil {
		w.err = err
	}
	return err
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.ng != nil {
		// NgWriter buffers on its own, in front of w.bw.
		if err := w.ng.Flush(); err != nil {
			w.err = err
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close writes the header if no frame was written, then flushes. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && w.pcap == nil && w.ng == nil {
		if err := w.start(LinkEthernet); err != nil {
			w.err = err
		}
	}
	return w.Flush()
}

// WriteTLSSecrets writes a pcapng Decryption Secrets Block (pcapng §4.7,
// secrets type 0x544c534b) holding keylog, an NSS key log, so that readers
// (Wireshark, sipscope) decrypt the TLS of the frames that follow without
// a key log file. The format must be "pcapng"; link is the link type of
// the first interface when no frame was written yet.
func (w *Writer) WriteTLSSecrets(keylog []byte, link LinkType) error {
	if w.err != nil {
		return w.err
	}
	if w.format != "pcapng" {
		return errors.New("capture: decryption secrets need the pcapng format")
	}
	if w.ng == nil {
		if err := w.start(link); err != nil {
			w.err = err
			return err
		}
	}
	// NgWriter buffers in front of w.bw: what it holds goes first.
	if err := w.ng.Flush(); err != nil {
		w.err = err
		return err
	}
	pad := (4 - len(keylog)&3) & 3
	total := 16 + len(keylog) + pad + 4 // type, length, secrets type and length, data, padding, length
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, ngDSB)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint32(b, ngSecretsTLS)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keylog)))
	b = append(b, keylog...)
	b = append(b, make([]byte, pad)...)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}
