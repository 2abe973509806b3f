// Command rtpmangle rewrites RTP recordings (classic pcap files, Ethernet,
// IPv4, UDP) before SIPp plays them with <exec play_pcap_audio=...>, so
// the captures in testdata/media can show loss and jitter made on purpose:
//
//	rtpmangle -o lossy.pcap -loss 5 -seed 1 g711a.pcap      # drop 5% of packets
//	rtpmangle -o gaps.pcap -drop 10,50-54 g711a.pcap        # drop packets 10 and 50..54 (1-based)
//	rtpmangle -o jit.pcap -jitter 60ms -seed 1 g711a.pcap   # delay each packet by U(0,60ms)
//	rtpmangle -o dtmf.pcap g711a.pcap@1-50 dtmf_2833_1.pcap g711a.pcap@51-90 dtmf_2833_5.pcap
//	rtpmangle -o inband.pcap -inband '1@40-44,5@70-74' g711a.pcap  # DTMF tones in the audio
//	rtpmangle -o switch.pcap -ulaw 76-150 g711a.pcap        # A-law to µ-law (PT 0) from packet 76
//
// SIPp sends the packets of a recording in file order, sleeping the
// difference of their capture times, with their RTP headers as recorded.
// So dropping a packet makes a sequence gap the receiver counts as lost
// (RFC 3550 A.3), and moving a capture time later makes the packet arrive
// late against its RTP timestamp: interarrival jitter (RFC 3550 A.8).
// Times are kept in file order (a packet never leaves before the one
// recorded ahead of it), as SIPp would not reorder them anyway.
//
// IN@A-B takes packets A to B (1-based, inclusive) of IN only. Several
// inputs are joined into one stream: every packet takes the SSRC of
// the first RTP packet of the first file (and its IP addresses and UDP
// ports: SIPp maps each recorded port to the call's media port by its
// offset from the first packet's), and each later file's sequence
// numbers and RTP timestamps are shifted to follow on from the previous
// file (offsets, so repeated packets such as the three copies of an RFC
// 4733 §2.5.1.4 end packet stay repeated), its capture times 20 ms after
// the previous file's last packet. The RTP timestamp shift follows the
// capture-time shift at 8000 Hz, the clock of G.711 and telephone-event.
//
// -inband DIGIT@A-B,... writes the DTMF tone of DIGIT (ITU-T Q.23: one
// frequency of 697/770/852/941 Hz plus one of 1209/1336/1477/1633 Hz, each
// at about -9 dBm0) over the payload of packets A to B, as G.711 A-law (PT 8)
// or µ-law (PT 0): in-band DTMF, as a phone sends it when it does not use
// RFC 4733 events.
//
// -ulaw A-B transcodes the A-law payload of packets A to B to µ-law and
// sets their payload type to 0 (PCMU, RFC 3551 §6): a codec switch in the
// middle of a stream, same SSRC and numbering.
//
// Not a general pcap tool: pcapng, VLAN tags and IPv6 are refused with an
// error naming the file.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

type packet struct {
	ts   time.Duration // capture time from the first packet of the output
	data []byte        // the whole frame, Ethernet header on
}

// pcap file header fields we keep for the output.
type header struct {
	order   binary.ByteOrder
	nano    bool
	snaplen uint32
	link    uint32
}

const (
	ethLen = 14
	ipMin  = 20
	udpLen = 8
	rtpMin = 12
)

func main() {
	out := flag.String("o", "", "output pcap `FILE` (required)")
	loss := flag.Float64("loss", 0, "drop this `PCT` of the packets at random (seeded)")
	drop := flag.String("drop", "", "drop these packets, 1-based after joining: `LIST` like 10,50-54")
	jitter := flag.Duration("jitter", 0, "delay each packet by a uniform random `D` in [0,D), kept in order")
	seed := flag.Int64("seed", 1, "random `SEED` for -loss and -jitter (same seed, same file)")
	ulawRange := flag.String("ulaw", "", "transcode packets `A-B` (1-based after joining) from A-law to µ-law, PT 0")
	inband := flag.String("inband", "", "write DTMF tones over packets, 1-based after joining: `LIST` like 1@40-44,#@70-74")
	g722Range := flag.String("g722", "", "relabel packets `A-B` (1-based after joining) from A-law (PT 8) to G.722 (PT 9); the payload bytes are kept, not re-encoded")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: rtpmangle -o OUT [flags] IN.pcap[@A-B] [IN2.pcap[@A-B]...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, flag.Args(), *loss, *drop, *jitter, *seed, *inband, *ulawRange, *g722Range); err != nil {
		fmt.Fprintln(os.Stderr, "rtpmangle:", err)
		os.Exit(1)
	}
}

func run(out string, ins []string, loss float64, drop string, jitter time.Duration, seed int64, inband, ulawRange, g722Range string) error {
	dropSet, err := parseList(drop)
	if err != nil {
		return fmt.Errorf("-drop: %w", err)
	}
	tones, err := parseTones(inband)
	if err != nil {
		return fmt.Errorf("-inband: %w", err)
	}
	var (
		h     header
		all   []packet
		ssrc  uint32
		haveS bool
		addrs []byte // IPv4 source and destination, then UDP ports, of the first RTP packet
		// next* are where the next joined file starts.
		nextT   time.Duration
		nextSeq uint16
		nextTS  uint32
	)
	for i, in := range ins {
		path, slice, hasSlice := strings.Cut(in, "@")
		fh, pkts, err := readPcap(path)
		if err != nil {
			return err
		}
		if hasSlice {
			a, b, ok := parseRange(slice)
			if !ok || a > len(pkts) {
				return fmt.Errorf("%s: %q is not a packet range within its %d packets", path, slice, len(pkts))
			}
			pkts = pkts[a-1 : min(b, len(pkts))]
		}
		if i == 0 {
			h = fh
		} else if fh.link != h.link {
			return fmt.Errorf("%s: link type %d, the first input has %d", in, fh.link, h.link)
		}
		if len(pkts) == 0 {
			continue
		}
		var seq0 uint16
		var ts0 uint32
		t0 := pkts[0].ts
		if r, ok := rtpAt(pkts[0].data); ok {
			seq0 = binary.BigEndian.Uint16(r[2:])
			ts0 = binary.BigEndian.Uint32(r[4:])
			if !haveS {
				ssrc, haveS = binary.BigEndian.Uint32(r[8:]), true
				nextSeq, nextTS = seq0, ts0
				addrs = append(addrsOf(pkts[0].data), nil...)
			}
		}
		var lastSeq uint16
		var lastTS uint32
		for _, p := range pkts {
			p.ts = p.ts - t0 + nextT
			if r, ok := rtpAt(p.data); ok && i > 0 {
				seq := binary.BigEndian.Uint16(r[2:]) - seq0 + nextSeq
				ts := binary.BigEndian.Uint32(r[4:]) - ts0 + nextTS
				binary.BigEndian.PutUint16(r[2:], seq)
				binary.BigEndian.PutUint32(r[4:], ts)
				binary.BigEndian.PutUint32(r[8:], ssrc)
				setAddrs(p.data, addrs)
			}
			if r, ok := rtpAt(p.data); ok {
				lastSeq = binary.BigEndian.Uint16(r[2:])
				lastTS = binary.BigEndian.Uint32(r[4:])
			}
			all = append(all, p)
		}
		// The next file follows 20 ms (one G.711 packet) later, on the
		// wire and on the RTP clock.
		gap := 20 * time.Millisecond
		end := all[len(all)-1].ts
		nextT = end + gap
		nextSeq = lastSeq + 1
		// An RFC 4733 event packet's timestamp is the event's start, not
		// its send time, so take the RTP clock from the file's first
		// packet plus the capture time elapsed since.
		first := all[len(all)-len(pkts)]
		var firstTS uint32
		if r, ok := rtpAt(first.data); ok {
			firstTS = binary.BigEndian.Uint32(r[4:])
		} else {
			firstTS = lastTS
		}
		nextTS = firstTS + uint32((nextT-first.ts)*8000/time.Second)
	}
	if err := writeTones(all, tones); err != nil {
		return err
	}
	if ulawRange != "" {
		a, b, ok := parseRange(ulawRange)
		if !ok || b > len(all) {
			return fmt.Errorf("-ulaw: %q is not a packet range within the %d packets", ulawRange, len(all))
		}
		for i := a; i <= b; i++ {
			r, ok := rtpAt(all[i-1].data)
			if !ok || r[1]&0x7f != 8 {
				return fmt.Errorf("-ulaw: packet %d is not A-law RTP (PT 8)", i)
			}
			r[1] = r[1]&0x80 | 0 // keep the marker bit, PT 0
			for k := 12 + 4*int(r[0]&0x0f); k < len(r); k++ {
				r[k] = ulaw(decode.ALaw(r[k]))
			}
		}
	}
	if g722Range != "" {
		// RFC 3551 §4.5.2: G.722 at 64 kbit/s is one byte per 125 µs of
		// 8000-clock timestamp, as G.711 is, so the recording's sizes,
		// timestamps and times stay right; only what the bytes mean (not
		// G.722-coded speech) is wrong, which no stream statistic reads.
		a, b, ok := parseRange(g722Range)
		if !ok || b > len(all) {
			return fmt.Errorf("-g722: %q is not a packet range within the %d packets", g722Range, len(all))
		}
		for i := a; i <= b; i++ {
			r, ok := rtpAt(all[i-1].data)
			if !ok || r[1]&0x7f != 8 {
				return fmt.Errorf("-g722: packet %d is not A-law RTP (PT 8)", i)
			}
			r[1] = r[1]&0x80 | 9 // keep the marker bit, PT 9
		}
	}
	rng := rand.New(rand.NewSource(seed))
	kept := all[:0]
	for i, p := range all {
		if dropSet[i+1] {
			continue
		}
		if loss > 0 && rng.Float64()*100 < loss {
			continue
		}
		kept = append(kept, p)
	}
	if jitter > 0 {
		var prev time.Duration
		for i := range kept {
			t := kept[i].ts + time.Duration(rng.Int63n(int64(jitter)))
			if t < prev {
				t = prev
			}
			kept[i].ts, prev = t, t
		}
	}
	return writePcap(out, h, kept)
}

// rtpAt returns the UDP payload of an Ethernet/IPv4/UDP frame when it
// looks like RTP version 2 (RFC 3550 §5.1), aliasing the frame.
func rtpAt(f []byte) ([]byte, bool) {
	if len(f) < ethLen+ipMin+udpLen+rtpMin || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return nil, false
	}
	ip := f[ethLen:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[0]>>4 != 4 || ihl < ipMin || ip[9] != 17 || len(ip) < ihl+udpLen+rtpMin {
		return nil, false
	}
	r := ip[ihl+udpLen:]
	if r[0]>>6 != 2 {
		return nil, false
	}
	return r, true
}

// addrsOf returns the IPv4 addresses and UDP ports of a frame rtpAt
// accepted (12 bytes), aliasing it.
func addrsOf(f []byte) []byte {
	ip := f[ethLen:]
	ihl := int(ip[0]&0x0f) * 4
	return append(append([]byte(nil), ip[12:20]...), ip[ihl:ihl+4]...)
}

// setAddrs rewrites the addresses and ports of a frame rtpAt accepted,
// recomputes the IPv4 header checksum (RFC 791 §3.1) and clears the UDP
// checksum, which RFC 768 allows over IPv4 (zero: none computed).
func setAddrs(f, a []byte) {
	ip := f[ethLen:]
	ihl := int(ip[0]&0x0f) * 4
	copy(ip[12:20], a[:8])
	copy(ip[ihl:ihl+4], a[8:12])
	ip[ihl+6], ip[ihl+7] = 0, 0
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < ihl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
}

func readPcap(path string) (header, []packet, error) {
	var h header
	b, err := os.ReadFile(path)
	if err != nil {
		return h, nil, err
	}
	if len(b) < 24 {
		return h, nil, fmt.Errorf("%s: not a pcap file (too short)", path)
	}
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4:
		h.order = binary.LittleEndian
	case 0xa1b23c4d:
		h.order, h.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		h.order = binary.BigEndian
	case 0x4d3cb2a1:
		h.order, h.nano = binary.BigEndian, true
	default:
		return h, nil, fmt.Errorf("%s: not a classic pcap file (magic %#08x; pcapng is not supported)", path, m)
	}
	h.snaplen = h.order.Uint32(b[16:])
	h.link = h.order.Uint32(b[20:])
	if h.link != 1 {
		return h, nil, fmt.Errorf("%s: link type %d, only Ethernet (1) is supported", path, h.link)
	}
	var pkts []packet
	var t0 time.Duration
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return h, nil, fmt.Errorf("%s: record header cut short at byte %d", path, off)
		}
		sec := time.Duration(h.order.Uint32(b[off:])) * time.Second
		frac := time.Duration(h.order.Uint32(b[off+4:]))
		if !h.nano {
			frac *= time.Microsecond
		}
		n := int(h.order.Uint32(b[off+8:]))
		off += 16
		if n > len(b)-off {
			return h, nil, fmt.Errorf("%s: record cut short at byte %d", path, off)
		}
		t := sec + frac
		if len(pkts) == 0 {
			t0 = t
		}
		pkts = append(pkts, packet{ts: t - t0, data: append([]byte(nil), b[off:off+n]...)})
		off += n
	}
	return h, pkts, nil
}

// writePcap writes microsecond pcap in the first input's byte order, with
// times from the epoch origin of the output (SIPp plays by differences).
func writePcap(path string, h header, pkts []packet) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = writeTo(f, h, pkts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeTo(w io.Writer, h header, pkts []packet) error {
	gh := make([]byte, 24)
	binary.LittleEndian.PutUint32(gh, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(gh[4:], 2)
	binary.LittleEndian.PutUint16(gh[6:], 4)
	binary.LittleEndian.PutUint32(gh[16:], max(h.snaplen, 65535))
	binary.LittleEndian.PutUint32(gh[20:], h.link)
	if _, err := w.Write(gh); err != nil {
		return err
	}
	// A fixed origin keeps the output byte-identical for the same inputs.
	base := time.Duration(1700000000) * time.Second
	rh := make([]byte, 16)
	for _, p := range pkts {
		t := base + p.ts
		binary.LittleEndian.PutUint32(rh, uint32(t/time.Second))
		binary.LittleEndian.PutUint32(rh[4:], uint32(t%time.Second/time.Microsecond))
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(p.data)))
		binary.LittleEndian.PutUint32(rh[12:], uint32(len(p.data)))
		if _, err := w.Write(rh); err != nil {
			return err
		}
		if _, err := w.Write(p.data); err != nil {
			return err
		}
	}
	return nil
}

func parseRange(s string) (int, int, bool) {
	lo, hi, _ := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	return a, b, err1 == nil && err2 == nil && a >= 1 && b >= a
}

// parseList reads "3,10-12" into a set of 1-based indexes.
func parseList(s string) (map[int]bool, error) {
	set := map[int]bool{}
	if s == "" {
		return set, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil || a < 1 {
			return nil, fmt.Errorf("%q is not a packet number (1-based)", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a range like 50-54", part)
			}
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, nil
}

// tone is a DTMF digit to write over packets first..last (1-based).
type tone struct {
	digit       byte
	first, last int
}

// dtmfFreqs are the Q.23 row and column frequencies of each key.
var dtmfFreqs = map[byte][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477}, 'A': {697, 1633},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477}, 'B': {770, 1633},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477}, 'C': {852, 1633},
	'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477}, 'D': {941, 1633},
}

func parseTones(s string) ([]tone, error) {
	var out []tone
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		d, r, ok := strings.Cut(strings.TrimSpace(part), "@")
		if !ok || len(d) != 1 {
			return nil, fmt.Errorf("%q is not DIGIT@A-B", part)
		}
		if _, known := dtmfFreqs[strings.ToUpper(d)[0]]; !known {
			return nil, fmt.Errorf("%q: %q is not a DTMF key (0-9 * # A-D)", part, d)
		}
		a, b, ok := parseRange(r)
		if !ok {
			return nil, fmt.Errorf("%q: %q is not a packet range like 40-44", part, r)
		}
		out = append(out, tone{strings.ToUpper(d)[0], a, b})
	}
	return out, nil
}

// writeTones overwrites the payload of the chosen packets with the tone,
// its phase running on across the packets of one digit.
func writeTones(pkts []packet, tones []tone) error {
	for _, tn := range tones {
		f := dtmfFreqs[tn.digit]
		n := 0
		for i := tn.first; i <= tn.last; i++ {
			if i > len(pkts) {
				return fmt.Errorf("-inband: packet %d of %d", i, len(pkts))
			}
			r, ok := rtpAt(pkts[i-1].data)
			if !ok {
				return fmt.Errorf("-inband: packet %d is not RTP", i)
			}
			var enc func(int16) byte
			switch r[1] & 0x7f {
			case 8:
				enc = alaw
			case 0:
				enc = ulaw
			default:
				return fmt.Errorf("-inband: packet %d has payload type %d, not G.711 (0 or 8)", i, r[1]&0x7f)
			}
			// RFC 3550 §5.1 fixed header plus CSRCs; no extensions in these recordings.
			off := 12 + 4*int(r[0]&0x0f)
			for k := off; k < len(r); k++ {
				t := float64(n) / 8000
				// About -9 dBm0 each (G.711's 0 dBm0 sine peaks near 23000 in 16 bits).
				v := 8200*math.Sin(2*math.Pi*f[0]*t) + 8200*math.Sin(2*math.Pi*f[1]*t)
				r[k] = enc(int16(v))
				n++
			}
		}
	}
	return nil
}

// alaw encodes linear PCM as G.711 A-law: 13-bit magnitude, segment by the
// highest bit set above bit 4, 4 bits of step, even bits inverted (0x55).
func alaw(v int16) byte {
	x := int(v) >> 3
	mask := byte(0xD5)
	if x < 0 {
		mask = 0x55
		x = -x - 1
	}
	seg := 0
	for lim := 0x1F; seg < 8 && x > lim; lim = lim<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(x>>1) & 0x0F
	} else {
		a |= byte(x>>seg) & 0x0F
	}
	return a ^ mask
}

// ulaw encodes linear PCM as G.711 µ-law: biased by 33 (14-bit), segment
// and 4-bit step, all bits inverted.
func ulaw(v int16) byte {
	x := int(v) >> 2
	mask := byte(0xFF)
	if x < 0 {
		mask = 0x7F
		x = -x
	}
	x = min(x+33, 0x1FFF)
	seg := 0
	for lim := 0x3F; seg < 8 && x > lim; lim = lim<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	return byte(seg<<4|(x>>(seg+1))&0x0F) ^ mask
}
