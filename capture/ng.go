package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// pcapng block types and option codes (draft-ietf-opsawg-pcapng §4, §11).
const (
	ngSHB = 0x0A0D0D0A // section header
	ngIDB = 1          // interface description
	ngOPB = 2          // packet block (obsolete, Appendix A)
	ngSPB = 3          // simple packet
	ngISB = 5          // interface statistics
	ngEPB = 6          // enhanced packet
	ngDSB = 10         // decryption secrets (§4.7)

	// ngSecretsTLS is the DSB secrets type of an NSS key log ("TLSK").
	ngSecretsTLS = 0x544c534b

	ngByteOrderMagic = 0x1A2B3C4D
	ngOptEnd         = 0
	ngOptTsresol     = 9  // if_tsresol
	ngOptTsoffset    = 14 // if_tsoffset
)

// errNgOverrun is a block whose fields or options run past its length.
var errNgOverrun = errors.New("pcapng block content runs past its length")

// ngIntf is what a packet needs of its interface (IDB, pcapng §4.2).
type ngIntf struct {
	link      LinkType
	snaplen   uint32
	unit      uint64 // timestamp units per second
	scaleUp   uint64 // decimal: nanoseconds = ts%unit*scaleUp/scaleDown
	scaleDown uint64
	binary    bool   // unit is a power of 2: nanoseconds computed exactly
	offset    uint64 // if_tsoffset, seconds
}

// ngReader reads pcapng out of a blockReader: each block is made whole in
// the buffer (so a packet's data is a slice of it) and parsed in place.
// It follows pcapgo.NgReader (with WantMixedLinkType) wherever a file is
// well formed, so that frames and times are the same; name resolution,
// decryption secrets and unknown blocks are skipped by their length.
type ngReader struct {
	blockReader
	big    bool
	ifaces []ngIntf
	// secrets holds the TLS key log lines of the Decryption Secrets
	// Blocks read and not yet taken (see TLSSecrets).
	secrets []byte
}

func (r *ngReader) u16(b []byte) uint16 {
	if r.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *ngReader) u32(b []byte) uint32 {
	if r.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *ngReader) u64(b []byte) uint64 {
	if r.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// newNgReader reads the first section header.
func newNgReader(rd io.Reader, pre []byte) (*ngReader, error) {
	r := &ngReader{blockReader: *newBlockReader(rd, pre)}
	body, typ, err := r.block()
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errors.New("pcapng section header cut short")
		}
		return nil, fmt.Errorf("pcapng section header: %v", err)
	}
	if typ != ngSHB {
		return nil, fmt.Errorf("pcapng section header: unknown magic %x", typ)
	}
	if err := r.section(body); err != nil {
		return nil, fmt.Errorf("pcapng section header: %v", err)
	}
	return r, nil
}

// block reads the next whole block and returns its body: the bytes after
// the type and length fields up to the end of the block (the trailing
// length copy included, which is not checked, as in pcapgo). At a clean
// end it returns io.EOF. A section header's byte-order magic sets the
// byte order first.
func (r *ngReader) block() (body []byte, typ uint32, err error) {
	if r.avail() < 8 && !r.fill(8) {
		return nil, 0, r.short() // io.EOF if nothing is left
	}
	min := int64(8)
	if binary.LittleEndian.Uint32(r.buf[r.start:]) == ngSHB {
		if r.avail() < 12 && !r.fill(12) {
			return nil, 0, r.short()
		}
		h := r.buf[r.start+8 : r.start+12]
		switch {
		case binary.BigEndian.Uint32(h) == ngByteOrderMagic:
			r.big = true
		case binary.LittleEndian.Uint32(h) == ngByteOrderMagic:
			r.big = false
		default:
			return nil, 0, errors.New("wrong byte order value in section header")
		}
		min = 12
	}
	h := r.buf[r.start : r.start+8]
	typ = r.u32(h[0:4])
	n := int64(r.u32(h[4:8]))
	if n < min {
		return nil, typ, fmt.Errorf("block length %d is too short", n)
	}
	if n > math.MaxInt-blockSize {
		return nil, typ, fmt.Errorf("block length %d is too long", n) // 32-bit int
	}
	if int64(r.avail()) < n && !r.fill(int(n)) {
		return nil, typ, r.short()
	}
	body = r.buf[r.start+int(min) : r.start+int(n) : r.start+int(n)]
	r.start += int(n)
	return body, typ, nil
}

// options walks the options at the start of b (pcapng §3.5), calling f
// for each, the way pcapgo reads them: exactly 4 bytes left (the trailing
// length) ends them, as does opt_endofopt, which must have length 0.
func (r *ngReader) options(b []byte, f func(code uint16, v []byte)) error {
	for len(b) != 4 {
		if len(b) < 4 {
			return errNgOverrun
		}
		code, n := r.u16(b[0:2]), int(r.u16(b[2:4]))
		b = b[4:]
		if code == ngOptEnd {
			if n != 0 {
				return errors.New("end of options must be zero length")
			}
			return nil
		}
		pad := (4 - n&3) & 3
		if n+pad > len(b) {
			return errNgOverrun
		}
		if f != nil {
			f(code, b[:n])
		}
		b = b[n+pad:]
	}
	return nil
}

// section reads a section header body (after the byte-order magic):
// version 1.0 (pcapng §4.1), section length, options. The interfaces of
// the previous section are forgotten.
func (r *ngReader) section(b []byte) error {
	r.ifaces = r.ifaces[:0]
	if len(b) < 12 {
		return errNgOverrun
	}
	if r.u16(b[0:2]) != 1 || r.u16(b[2:4]) != 0 {
		return fmt.Errorf("unknown pcapng version %d.%d", r.u16(b[0:2]), r.u16(b[2:4]))
	}
	return r.options(b[12:], nil)
}

// iface reads an interface description (pcapng §4.2): link type, snap
// length, and the if_tsresol and if_tsoffset options.
func (r *ngReader) iface(b []byte) error {
	if len(b) < 8 {
		return errNgOverrun
	}
	in := ngIntf{link: LinkType(r.u16(b[0:2])), snaplen: r.u32(b[4:8])}
	resol := byte(0)
	err := r.options(b[8:], func(code uint16, v []byte) {
		switch code {
		case ngOptTsresol:
			if len(v) >= 1 {
				resol = v[0]
			}
		case ngOptTsoffset:
			if len(v) >= 8 {
				in.offset = r.u64(v[:8])
			}
		}
	})
	if err != nil {
		return err
	}
	if resol == 0 {
		resol = 6 // microseconds, the default
	}
	exp := resol & 0x7f
	if exp > 63 {
		return fmt.Errorf("timestamp resolution exponent %d is too high", exp)
	}
	if resol&0x80 != 0 {
		in.unit = 1 << exp // negative power of 2
		in.binary = true
	} else {
		in.unit = 1
		for range exp {
			in.unit *= 10
		}
	}
	in.scaleUp, in.scaleDown = 1, 1
	if in.unit < 1e9 {
		in.scaleUp = 1e9 / in.unit
	} else {
		in.scaleDown = in.unit / 1e9
	}
	r.ifaces = append(r.ifaces, in)
	return nil
}

// time converts a timestamp of interface i (pcapng §4.3: units of
// if_tsresol since 1970, plus if_tsoffset seconds). Decimal units convert
// exactly with integer scales, as pcapgo does; binary ones are rounded down
// to the nanosecond through a 128-bit product (pcapgo's integer scale for
// them is off by up to a second).
func (r *ngReader) time(i int, ts uint64) time.Time {
	in := &r.ifaces[i]
	sec, frac := ts/in.unit+in.offset, ts%in.unit
	var ns uint64
	if in.binary {
		hi, lo := bits.Mul64(frac, 1e9)
		ns, _ = bits.Div64(hi, lo, in.unit) // hi < unit as frac < unit
	} else {
		ns = frac * in.scaleUp / in.scaleDown
	}
	return time.Unix(int64(sec), int64(ns)).UTC()
}

// next fills f from the next packet block, reading the section headers,
// interface descriptions and statistics on the way and skipping other
// blocks.
func (r *ngReader) next(f *Frame) error {
	for {
		b, typ, err := r.block()
		if err != nil {
			return err
		}
		switch typ {
		case ngEPB, ngOPB:
			// EPB (§4.3): interface id 32 bits; OPB (Appendix A):
			// interface id 16 bits, drops count 16 bits. Then the
			// timestamp (high, low), captured and original lengths.
			if len(b) < 20 {
				return errNgOverrun
			}
			var id int
			if typ == ngEPB {
				id = int(r.u32(b[0:4]))
			} else {
				id = int(r.u16(b[0:2]))
			}
			if id >= len(r.ifaces) || id < 0 {
				return fmt.Errorf("interface id %d not present in section (have only %d interfaces)", id, len(r.ifaces))
			}
			caplen, origlen := r.u32(b[12:16]), r.u32(b[16:20])
			rest := b[20:]
			pad := int64((4 - caplen&3) & 3)
			if int64(caplen)+pad > int64(len(rest)) {
				return errNgOverrun
			}
			if typ == ngEPB {
				if err := r.options(rest[int64(caplen)+pad:], nil); err != nil {
					return err
				}
			}
			f.Time = r.time(id, uint64(r.u32(b[4:8]))<<32|uint64(r.u32(b[8:12])))
			f.Data = rest[:caplen:caplen]
			f.OrigLen = int(origlen)
			f.Link = r.ifaces[id].link
			return nil
		case ngSPB:
			// SPB (§4.4): original length, then the packet up to the
			// snap length of interface 0; no timestamp.
			if len(b) < 4 {
				return errNgOverrun
			}
			if len(r.ifaces) == 0 {
				return errors.New("at least one interface is needed for a packet")
			}
			origlen := r.u32(b[0:4])
			caplen := origlen
			if s := r.ifaces[0].snaplen; s != 0 && caplen > s {
				caplen = s
			}
			rest := b[4:]
			pad := int64((4 - caplen&3) & 3)
			if int64(caplen)+pad > int64(len(rest)) {
				return errNgOverrun
			}
			f.Time = time.Time{}
			f.Data = rest[:caplen:caplen]
			f.OrigLen = int(origlen)
			f.Link = r.ifaces[0].link
			return nil
		case ngIDB:
			if err := r.iface(b); err != nil {
				return err
			}
		case ngSHB:
			if err := r.section(b); err != nil {
				return err
			}
		case ngISB:
			// Statistics (§4.6) are not used, but a block naming an
			// unknown interface is damage, as pcapgo has it.
			if len(b) < 12 {
				return errNgOverrun
			}
			if id := int64(r.u32(b[0:4])); id >= int64(len(r.ifaces)) {
				return fmt.Errorf("interface id %d not present in section (have only %d interfaces)", id, len(r.ifaces))
			}
			if err := r.options(b[12:], nil); err != nil {
				return err
			}
		case ngDSB:
			// DSB (§4.7): secrets type, secrets length, secrets data.
			// Other secret types (WireGuard, ZigBee...) are skipped; a
			// damaged block is skipped too, as an unknown one would be.
			if len(b) >= 8 && r.u32(b[0:4]) == ngSecretsTLS {
				if n := int64(r.u32(b[4:8])); n <= int64(len(b)-8) && len(r.secrets)+int(n) <= maxSecrets {
					r.secrets = append(r.secrets, b[8:8+n]...)
					r.secrets = append(r.secrets, '\n')
				}
			}
		}
		// Other blocks (name resolution, custom, unknown) are skipped
		// whole.
	}
}

// maxSecrets bounds the key log bytes held from DSBs not yet taken.
const maxSecrets = 16 << 20

// SecretsSource is implemented by sources that can carry TLS session
// secrets (pcapng Decryption Secrets Blocks, as `editcap --inject-secrets
// tls,FILE` writes them).
type SecretsSource interface {
	// TLSSecrets returns the NSS key log lines read since the last call
	// (nil when there are none). The caller owns the bytes.
	TLSSecrets() []byte
}

// TLSSecrets returns the key log lines of the DSBs read so far and not yet
// taken, from every input.
func (s *fileSource) TLSSecrets() []byte {
	var out []byte
	for _, in := range s.inputs {
		if in.ng != nil && len(in.ng.secrets) > 0 {
			out = append(out, in.ng.secrets...)
			in.ng.secrets = nil
		}
	}
	return out
}
