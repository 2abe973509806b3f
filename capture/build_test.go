package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Small byte-exact capture generators for the tests, written from the file
// format descriptions (pcap: draft-ietf-opsawg-pcap; pcapng:
// draft-ietf-opsawg-pcapng) rather than with the code under test.

// byteOrder is a byte order that can append.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type pkt struct {
	t    time.Time
	data []byte
	orig int // 0: len(data)
	ifc  int // pcapng interface id
}

// pcapFile builds a pcap file. nano selects the nanosecond magic.
func pcapFile(order byteOrder, nano bool, link LinkType, pkts ...pkt) []byte {
	var b bytes.Buffer
	magic := uint32(magicPcapMicro)
	if nano {
		magic = magicPcapNano
	}
	put32 := func(v uint32) { b.Write(order.AppendUint32(nil, v)) }
	put32(magic)
	b.Write(order.AppendUint16(nil, 2))
	b.Write(order.AppendUint16(nil, 4))
	put32(0)
	put32(0)
	put32(65535)
	put32(uint32(link))
	for _, p := range pkts {
		frac := uint32(p.t.Nanosecond())
		if !nano {
			frac /= 1000
		}
		orig := p.orig
		if orig == 0 {
			orig = len(p.data)
		}
		put32(uint32(p.t.Unix()))
		put32(frac)
		put32(uint32(len(p.data)))
		put32(uint32(orig))
		b.Write(p.data)
	}
	return b.Bytes()
}

// ngIface describes one pcapng interface: link type and if_tsresol value
// (0 = option absent, default microseconds).
type ngIface struct {
	link    LinkType
	tsresol byte
}

// ngBuilder builds a pcapng file block by block.
type ngBuilder struct {
	order    byteOrder
	b        bytes.Buffer
	ifcs     []ngIface
	comments bool // give every EPB an opt_comment
}

func (n *ngBuilder) block(typ uint32, body []byte) {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	l := uint32(12 + len(body))
	n.b.Write(n.order.AppendUint32(nil, typ))
	n.b.Write(n.order.AppendUint32(nil, l))
	n.b.Write(body)
	n.b.Write(n.order.AppendUint32(nil, l))
}

func (n *ngBuilder) option(body []byte, code uint16, val []byte) []byte {
	body = n.order.AppendUint16(body, code)
	body = n.order.AppendUint16(body, uint16(len(val)))
	body = append(body, val...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	return body
}

// shb starts a section, forgetting interfaces.
func (n *ngBuilder) shb(comment string) {
	var body []byte
	body = n.order.AppendUint32(body, 0x1a2b3c4d)
	body = n.order.AppendUint16(body, 1)
	body = n.order.AppendUint16(body, 0)
	body = n.order.AppendUint64(body, ^uint64(0))
	if comment != "" {
		body = n.option(body, 1, []byte(comment))
		body = n.option(body, 0, nil)
	}
	n.block(magicPcapNG, body)
	n.ifcs = nil
}

func (n *ngBuilder) idb(ifc ngIface) {
	var body []byte
	body = n.order.AppendUint16(body, uint16(ifc.link))
	body = n.order.AppendUint16(body, 0)
	body = n.order.AppendUint32(body, 0)
	body = n.option(body, 2, []byte("if"))
	if ifc.tsresol != 0 {
		body = n.option(body, 9, []byte{ifc.tsresol})
	}
	body = n.option(body, 0, nil)
	n.block(1, body)
	n.ifcs = append(n.ifcs, ifc)
}

func (n *ngBuilder) epb(p pkt) {
	ifc := n.ifcs[p.ifc]
	var units uint64
	ns := uint64(p.t.UnixNano())
	switch {
	case ifc.tsresol == 0: // microseconds
		units = ns / 1000
	case ifc.tsresol&0x80 == 0: // 10^-k
		div := uint64(1)
		for k := ifc.tsresol; k < 9; k++ {
			div *= 10
		}
		units = ns / div
	default:
		panic("binary resolutions not used in these tests")
	}
	orig := p.orig
	if orig == 0 {
		orig = len(p.data)
	}
	var body []byte
	body = n.order.AppendUint32(body, uint32(p.ifc))
	body = n.order.AppendUint32(body, uint32(units>>32))
	body = n.order.AppendUint32(body, uint32(units))
	body = n.order.AppendUint32(body, uint32(len(p.data)))
	body = n.order.AppendUint32(body, uint32(orig))
	body = append(body, p.data...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	if n.comments {
		body = n.option(body, 1, []byte("a packet comment"))
		body = n.option(body, 0, nil)
	}
	n.block(6, body)
}

// other writes blocks a reader must skip: a Name Resolution Block, a
// custom block and an unknown block type.
func (n *ngBuilder) other() {
	var nrb []byte
	nrb = n.order.AppendUint16(nrb, 1) // nrb_record_ipv4
	nrb = n.order.AppendUint16(nrb, uint16(4+len("host\x00")))
	nrb = append(nrb, 192, 0, 2, 1)
	nrb = append(nrb, "host\x00"...)
	for len(nrb)%4 != 0 {
		nrb = append(nrb, 0)
	}
	nrb = n.order.AppendUint32(nrb, 0) // nrb_record_end
	n.block(4, nrb)
	n.block(0x00000BAD, []byte("custom block, copiable"))
	n.block(0x12345678, []byte("unknown"))
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// writeFile writes b to a new file in a temporary directory.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ts is a fixed base time plus d.
func ts(d time.Duration) time.Time {
	return time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).Add(d)
}
