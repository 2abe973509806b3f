package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// withSnaplen returns a copy of the pcap file b with its snap length set.
func withSnaplen(order byteOrder, b []byte, snaplen uint32) []byte {
	b = bytes.Clone(b)
	order.PutUint32(b[16:], snaplen)
	return b
}

// blockPkts are frames of sizes around the edges of the block reader: empty,
// around a record header, a full block, larger than a block (the buffer
// grows) and many small ones in between so that records straddle reads at
// every offset.
func blockPkts() []pkt {
	var out []pkt
	sizes := []int{0, 1, 15, 16, 17, 300, 1500, 65535, blockSize - 16, blockSize - 15, blockSize, 300000, 1<<20 + 5, 7}
	for i, n := range sizes {
		for j := 0; j < 50; j++ {
			d := make([]byte, 37+j*13)
			for k := range d {
				d[k] = byte(i + j + k)
			}
			out = append(out, pkt{t: ts(time.Duration(len(out)) * 1001 * time.Nanosecond), data: d})
		}
		d := make([]byte, n)
		for k := range d {
			d[k] = byte(k * (i + 1))
		}
		out = append(out, pkt{t: ts(time.Duration(len(out)) * time.Microsecond), data: d, orig: n + i})
	}
	return out
}

// TestPcapBlocks reads frames of every size class through the block reader
// from a file, from standard input one byte or half a buffer per read, and
// gzip-compressed, in both byte orders and both resolutions.
func TestPcapBlocks(t *testing.T) {
	pk := blockPkts()
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			b := withSnaplen(order, pcapFile(order, nano, LinkEthernet, pk...), 1<<21)
			for _, via := range []string{"file", "stdin-1byte", "stdin-half", "gzip"} {
				t.Run(fmt.Sprintf("%v/nano=%v/%s", order, nano, via), func(t *testing.T) {
					var src Source
					var err error
					switch via {
					case "file":
						src, err = Open([]string{writeFile(t, "x.pcap", b)}, Options{})
					case "stdin-1byte":
						src, err = Open([]string{"-"}, Options{Stdin: iotest.OneByteReader(bytes.NewReader(b))})
					case "stdin-half":
						src, err = Open([]string{"-"}, Options{Stdin: iotest.HalfReader(bytes.NewReader(b))})
					case "gzip":
						src, err = Open([]string{writeFile(t, "x.pcap.gz", gz(b))}, Options{})
					}
					if err != nil {
						t.Fatal(err)
					}
					defer src.Close()
					var f Frame
					for i, want := range pk {
						if err := src.Next(&f); err != nil {
							t.Fatalf("frame %d: %v", i+1, err)
						}
						wantTime := want.t
						if !nano {
							wantTime = wantTime.Truncate(time.Microsecond)
						}
						wantOrig := want.orig
						if wantOrig == 0 {
							wantOrig = len(want.data)
						}
						if f.Number != int64(i+1) || !f.Time.Equal(wantTime) || f.Link != LinkEthernet ||
							!bytes.Equal(f.Data, want.data) || f.OrigLen != wantOrig {
							t.Fatalf("frame %d: got number %d time %v link %d %d bytes orig %d, want %v %d bytes orig %d",
								i+1, f.Number, f.Time, f.Link, len(f.Data), f.OrigLen, wantTime, len(want.data), wantOrig)
						}
						if cap(f.Data) != len(f.Data) {
							t.Fatalf("frame %d: cap(Data) %d > len %d: an append would overwrite the next record", i+1, cap(f.Data), len(f.Data))
						}
					}
					if err := src.Next(&f); err != io.EOF {
						t.Fatalf("after the last frame: got %v, want io.EOF", err)
					}
					if w := src.Warnings(); len(w) != 0 {
						t.Errorf("got warnings %q, want none", w)
					}
				})
			}
		}
	}
}

// TestPcapBadLengths checks the record length sanity checks: a frame longer
// than the snap length (and libpcap's maximum) or than it was on the wire
// ends the file with a warning after the frames before it.
func TestPcapBadLengths(t *testing.T) {
	le := binary.LittleEndian
	good := pkt{t: ts(0), data: []byte("good")}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"caplen>origlen", pcapFile(le, true, LinkRaw, good, pkt{t: ts(1), data: []byte("0123456789"), orig: 5}),
			"cut short after frame 1: capture length exceeds original packet length: 10 > 5"},
		{"caplen>snaplen", pcapFile(le, true, LinkRaw, good, pkt{t: ts(1), data: make([]byte, maxSnap+1)}),
			fmt.Sprintf("cut short after frame 1: capture length exceeds snap length: %d > 65535", maxSnap+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "bad.pcap", tc.b)
			frames, warns := openAll(t, p)
			if len(frames) != 1 || string(frames[0].Data) != "good" {
				t.Errorf("got %d frames, want the good one", len(frames))
			}
			if len(warns) != 1 || warns[0] != p+": "+tc.want {
				t.Errorf("got warnings %q, want [%q]", warns, p+": "+tc.want)
			}
		})
	}
	// A 4 GiB record length that the snap length allows, in a small file,
	// must not make the reader allocate anywhere near 4 GiB.
	t.Run("huge-caplen", func(t *testing.T) {
		b := pcapFile(le, true, LinkRaw, good)
		b = withSnaplen(le, b, 0xffffffff)
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, 0xfffffff0)
		b = le.AppendUint32(b, 0xfffffff0)
		b = append(b, make([]byte, 3<<20)...)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		frames, warns := openAll(t, writeFile(t, "huge.pcap", b))
		runtime.ReadMemStats(&ms1)
		if len(frames) != 1 || len(warns) != 1 || !strings.Contains(warns[0], "cut short after frame 1: last record is incomplete") {
			t.Errorf("got %d frames, warnings %q; want 1 and one \"last record is incomplete\"", len(frames), warns)
		}
		if a := ms1.TotalAlloc - ms0.TotalAlloc; a > 32<<20 {
			t.Errorf("allocated %d bytes for a 3 MiB file", a)
		}
	})
}

// FuzzPcapReader checks the block reader against pcapgo.Reader, which it
// replaced: on any bytes, the same frames (time, data, lengths) up to the
// same kind of end (clean, cut short, or the same length error).
func FuzzPcapReader(f *testing.F) {
	le, be := binary.LittleEndian, binary.BigEndian
	f.Add(pcapFile(le, false, LinkEthernet, threePkts...))
	f.Add(pcapFile(be, true, LinkRaw, threePkts...))
	f.Add(pcapFile(le, true, LinkRaw, pkt{t: ts(0), data: []byte("x")}, pkt{t: ts(1), data: []byte("0123456789"), orig: 5}))
	b := pcapFile(be, false, LinkRaw, threePkts...)
	f.Add(b[:len(b)-3])
	f.Add(b[:24+10])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
			return // pcapgo would gunzip; Open does that before either
		}
		if len(b) < 4 {
			return
		}
		switch binary.LittleEndian.Uint32(b) {
		case magicPcapMicro, magicPcapNano, magicPcapMicroBE, magicPcapNanoBE:
		default:
			return
		}
		ref, refErr := pcapgo.NewReader(bytes.NewReader(b))
		got, gotErr := newPcapReader(bytes.NewReader(b), nil)
		if (refErr == nil) != (gotErr == nil) {
			t.Fatalf("file header: pcapgo says %v, we say %v", refErr, gotErr)
		}
		if refErr != nil {
			return
		}
		if got.link != LinkType(ref.LinkType()) {
			t.Fatalf("link type: got %d, want %d", got.link, ref.LinkType())
		}
		var fr Frame
		for i := 1; ; i++ {
			data, ci, rerr := ref.ZeroCopyReadPacketData()
			if rerr == io.EOF && ci.CaptureLength > 0 {
				rerr = io.ErrUnexpectedEOF // as the pcapgo path of advance did
			}
			gerr := got.next(&fr)
			if rerr != nil || gerr != nil {
				same := rerr == gerr || (rerr != nil && gerr != nil && rerr.Error() == gerr.Error())
				if !same && !(errors.Is(rerr, io.ErrUnexpectedEOF) && errors.Is(gerr, io.ErrUnexpectedEOF)) {
					t.Fatalf("record %d: pcapgo says %v, we say %v", i, rerr, gerr)
				}
				return
			}
			if !fr.Time.Equal(ci.Timestamp) || !bytes.Equal(fr.Data, data) || fr.OrigLen != ci.Length {
				t.Fatalf("record %d: got %v %q %d, want %v %q %d", i, fr.Time, fr.Data, fr.OrigLen, ci.Timestamp, data, ci.Length)
			}
		}
	})
}

// FuzzNgReader checks the pcapng block reader against pcapgo.NgReader
// (with WantMixedLinkType, as Open used it): on any bytes, the same frames
// (time, link type, data, lengths) up to the same kind of end. Where pcapgo
// fails in a name resolution block, which the block reader skips unread,
// the rest is not compared. Times of interfaces with a binary resolution,
// which pcapgo converts imprecisely, are not compared either.
func FuzzNgReader(f *testing.F) {
	ng, _ := multiInterface(binary.LittleEndian)
	ngBE, _ := multiInterface(binary.BigEndian)
	for _, s := range [][]byte{ng, ngBE, badNgLength()} {
		f.Add(s)
		f.Add(s[:len(s)*2/3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 4 || binary.LittleEndian.Uint32(b) != magicPcapNG {
			return
		}
		ref, refErr := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		got, gotErr := newNgReader(bytes.NewReader(b), nil)
		if (refErr == nil) != (gotErr == nil) {
			t.Fatalf("section header: pcapgo says %v, we say %v", refErr, gotErr)
		}
		if refErr != nil {
			return
		}
		var fr Frame
		for i := 1; ; i++ {
			data, ci, rerr := ref.ZeroCopyReadPacketData()
			gerr := got.next(&fr)
			if rerr != nil && strings.Contains(strings.ToLower(rerr.Error()), "name") {
				return // a damaged name resolution block: pcapgo reads it, we skip it
			}
			if rerr != nil || gerr != nil {
				if (rerr == io.EOF) != (gerr == io.EOF) || (rerr == nil) != (gerr == nil) {
					t.Fatalf("block %d: pcapgo says %v, we say %v", i, rerr, gerr)
				}
				return
			}
			var link LinkType
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				link = LinkType(lt)
			}
			timeOK := fr.Time.Equal(ci.Timestamp) || got.anyBinary()
			if !timeOK || fr.Link != link || !bytes.Equal(fr.Data, data) || fr.OrigLen != ci.Length {
				t.Fatalf("packet %d: got %v %d %q %d, want %v %d %q %d", i, fr.Time, fr.Link, fr.Data, fr.OrigLen, ci.Timestamp, link, data, ci.Length)
			}
		}
	})
}

// anyBinary reports whether an interface of the current section has a
// binary timestamp resolution.
func (r *ngReader) anyBinary() bool {
	for _, in := range r.ifaces {
		if in.binary {
			return true
		}
	}
	return false
}

// TestNgBlocks reads the pcapng blocks the synthetic builders do not make:
// an interface with if_tsoffset and a binary if_tsresol, an obsolete Packet
// Block, a Simple Packet Block (cut to the snap length, no time), an
// Interface Statistics Block, and packets larger than the read buffer. The
// frames must be those pcapgo.NgReader read from the same bytes.
func TestNgBlocks(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			n := &ngBuilder{order: order}
			n.shb("")
			// Interface 0: raw IP, snap length 8, binary resolution 2^-10,
			// offset 1000 s.
			var idb []byte
			idb = order.AppendUint16(idb, uint16(LinkRaw))
			idb = order.AppendUint16(idb, 0)
			idb = order.AppendUint32(idb, 8)
			idb = n.option(idb, ngOptTsresol, []byte{0x80 | 10})
			idb = n.option(idb, ngOptTsoffset, order.AppendUint64(nil, 1000))
			idb = n.option(idb, 0, nil)
			n.block(ngIDB, idb)
			n.ifcs = append(n.ifcs, ngIface{link: LinkRaw})
			n.idb(ngIface{link: LinkEthernet, tsresol: 9})
			// OPB on interface 0 at 5.5 units of 2^-10 s past 2^32 units.
			var opb []byte
			opb = order.AppendUint16(opb, 0)
			opb = order.AppendUint16(opb, 0)
			opb = order.AppendUint32(opb, 1)
			opb = order.AppendUint32(opb, 512)
			opb = order.AppendUint32(opb, 3)
			opb = order.AppendUint32(opb, 30)
			opb = append(opb, "opb"...)
			n.block(ngOPB, opb)
			// SPB: 20 bytes on the wire, cut to interface 0's snap length 8.
			spb := order.AppendUint32(nil, 20)
			spb = append(spb, "0123456789abcdefghij"...)
			n.block(ngSPB, spb)
			// ISB for interface 1.
			isb := order.AppendUint32(nil, 1)
			isb = append(isb, make([]byte, 8)...)
			n.block(ngISB, isb)
			big := make([]byte, 3*blockSize+5)
			for i := range big {
				big[i] = byte(i / 7)
			}
			n.epb(pkt{t: ts(0), data: big, ifc: 1})
			n.epb(pkt{t: ts(1), data: []byte("after"), ifc: 1})
			b := n.b.Bytes()

			want := []Frame{
				{Number: 1, Time: time.Unix(1000+1<<32/1024, 512*1e9/1024).UTC(), Link: LinkRaw, Data: []byte("opb"), OrigLen: 30},
				{Number: 2, Link: LinkRaw, Data: []byte("01234567"), OrigLen: 20},
				{Number: 3, Time: ts(0), Link: LinkEthernet, Data: big, OrigLen: len(big)},
				{Number: 4, Time: ts(1), Link: LinkEthernet, Data: []byte("after"), OrigLen: 5},
			}
			frames, warns := openAll(t, writeFile(t, "x.pcapng", b))
			if len(warns) != 0 {
				t.Errorf("warnings %q, want none", warns)
			}
			if len(frames) != len(want) {
				t.Fatalf("got %d frames, want %d", len(frames), len(want))
			}
			ref, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range frames {
				w := want[i]
				if f.Number != w.Number || !f.Time.Equal(w.Time) || f.Link != w.Link || !bytes.Equal(f.Data, w.Data) || f.OrigLen != w.OrigLen {
					t.Errorf("frame %d: got %d %v link %d %d bytes orig %d, want %d %v link %d %d bytes orig %d",
						i+1, f.Number, f.Time, f.Link, len(f.Data), f.OrigLen, w.Number, w.Time, w.Link, len(w.Data), w.OrigLen)
				}
				data, ci, err := ref.ReadPacketData()
				if err != nil {
					t.Fatalf("pcapgo frame %d: %v", i+1, err)
				}
				if i == 0 {
					ci.Timestamp = f.Time // binary resolution: pcapgo rounds badly
				}
				if !f.Time.Equal(ci.Timestamp) || !bytes.Equal(f.Data, data) || f.OrigLen != ci.Length {
					t.Errorf("frame %d: got %v %d bytes orig %d, pcapgo %v %d bytes orig %d", i+1, f.Time, len(f.Data), f.OrigLen, ci.Timestamp, len(data), ci.Length)
				}
			}
		})
	}
}
