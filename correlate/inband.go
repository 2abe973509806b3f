package correlate

import (
	"math"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// InbandDTMF finds DTMF tones in the G.711 audio of RTP streams (the
// digits a phone sends in-band when it does not use RFC 4733 events).
// Feed it every RTP packet (Packet is a PacketSink). Per stream it keeps
// two analysis blocks of G.711 codes: memory is constant. `calls` runs it
// on every capture (the dtmf-mismatch rule reads it), so its cost per
// packet is kept low: see Packet. Not safe for concurrent use.
//
// Detection follows ITU-T Q.24's rules of thumb: each block of 205 samples
// (25.6 ms, the classic size whose bins fall near the eight Q.23
// frequencies) must hold one row and one column tone carrying most of its
// energy, each tone at least 6 times stronger than the others of its
// group, with the column tone between 8 dB below and 4 dB above the row
// tone (twist); a digit counts once it holds for two blocks (about 50 ms,
// Q.24's 40 ms minimum) and ends at the first block without it.
type InbandDTMF struct {
	streams map[StreamKey]*inbandState
}

// NewInbandDTMF returns an empty detector.
func NewInbandDTMF() *InbandDTMF { return &InbandDTMF{streams: map[StreamKey]*inbandState{}} }

const inbandN = 205

// Q.23 row and column frequencies.
var (
	dtmfRows = [4]float64{697, 770, 852, 941}
	dtmfCols = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4][4]int{{1, 2, 3, 12}, {4, 5, 6, 13}, {7, 8, 9, 14}, {10, 0, 11, 15}} // RFC 4733 §3.2 codes
	goertzel = func() (c [8]float64) {
		for i, f := range append(dtmfRows[:], dtmfCols[:]...) {
			c[i] = 2 * math.Cos(2*math.Pi*f/8000)
		}
		return c
	}()
	// g711Float is decode's G.711 tables as float64, the detector's
	// input, and g711Square their squares (the block's energy).
	g711Float, g711Square = func() (t, sq [3][256]float64) {
		for _, l := range []decode.G711{decode.G711ULaw, decode.G711ALaw} {
			for c, v := range l.Linear() {
				t[l][c] = float64(v)
				sq[l][c] = float64(v) * float64(v)
			}
		}
		return t, sq
	}()
)

type inbandState struct {
	law decode.G711 // of the codes in blk and odd
	blk [inbandN]byte
	n   int
	at  time.Time // arrival of the packet holding blk's first sample
	// Blocks alternate even and odd. An odd block is analysed only next to
	// a digit: after an even block that held one (at once), or before one
	// (held in odd until the next even block is known). A digit must hold
	// for two blocks in a row, and of two neighbours one is even, so every
	// block of every run of two or more digit blocks is still analysed;
	// what is skipped is an odd block between two blocks without a digit,
	// which alone cannot make one and leaves the state as a block without
	// a digit does. The digits found are those of analysing every block,
	// at about half the cost on speech, music or fax tones.
	odd     [inbandN]byte
	oddAt   time.Time
	oddHeld bool // odd holds the last odd block, its even predecessor had no digit
	even    bool // the next block to complete is even
	evenHit bool // the last even block held a digit
	cand    int  // digit of the previous block (-1 none)
	run     int  // blocks in a row with cand
	on      bool // the current run was reported
	events  []DTMFEvent
}

// Packet takes one RTP packet; PCMU and PCMA payloads are analysed. p is
// not retained. The codes are only copied here (no decoding): a block is
// decoded when it is analysed, and half the blocks of audio without
// digits never are.
func (d *InbandDTMF) Packet(p *RTPPacket) {
	law := decode.G711Law(p.Encoding)
	if law == decode.NotG711 {
		return
	}
	st := d.streams[p.Key]
	if st == nil {
		st = &inbandState{law: law, cand: -1, even: true}
		d.streams[p.Key] = st
	}
	if law != st.law {
		// The stream changed law (a payload type switch on one SSRC): a
		// block mixing the two is not audio, start afresh.
		st.law, st.n, st.oddHeld, st.even, st.evenHit = law, 0, false, true, false
		st.advance(-1, time.Time{})
	}
	pl := p.Payload
	for off := 0; len(pl) > 0; {
		if st.n == 0 {
			// 125 µs per sample at 8 kHz.
			st.at = p.Arrival.Add(time.Duration(off) * 125 * time.Microsecond)
		}
		c := copy(st.blk[st.n:], pl)
		st.n += c
		off += c
		pl = pl[c:]
		if st.n == inbandN {
			st.block()
			st.n = 0
		}
	}
}

// block takes the full block blk: analyses it, or holds it (see odd).
func (st *inbandState) block() {
	tab, sq := &g711Float[st.law], &g711Square[st.law]
	if st.even {
		digit := detectDTMF(&st.blk, tab, sq)
		if st.oddHeld {
			odd := -1
			if digit >= 0 {
				odd = detectDTMF(&st.odd, tab, sq)
			}
			st.advance(odd, st.oddAt)
			st.oddHeld = false
		}
		st.advance(digit, st.at)
		st.evenHit = digit >= 0
	} else if st.evenHit {
		st.advance(detectDTMF(&st.blk, tab, sq), st.at)
	} else {
		st.odd, st.oddAt, st.oddHeld = st.blk, st.at, true
	}
	st.even = !st.even
}

// advance moves the digit state on by one block starting at at, holding
// digit (-1 none).
func (st *inbandState) advance(digit int, at time.Time) {
	switch {
	case digit >= 0 && digit == st.cand:
		st.run++
		if st.run == 2 && !st.on {
			st.on = true
			start := at.Add(-inbandN * 125 * time.Microsecond)
			st.events = append(st.events, DTMFEvent{Digit: EventDigit(digit), Event: digit, Start: start, Source: "inband",
				Duration: 2 * inbandN * 125 * time.Microsecond})
		} else if st.on {
			st.events[len(st.events)-1].Duration += inbandN * 125 * time.Microsecond
		}
	default:
		st.cand, st.run, st.on = digit, 1, false
		if digit < 0 {
			st.run = 0
		}
	}
}

// detectDTMF returns the RFC 4733 code of the digit in a block of G.711
// codes, -1 if none. tab decodes a code, sq is its square.
func detectDTMF(blk *[inbandN]byte, tab, sq *[256]float64) int {
	// Four partial sums: one running sum waits on its own previous add at
	// every sample, four overlap.
	var e0, e1, e2, e3 float64
	for i := 0; i+4 <= inbandN; i += 4 {
		e0 += sq[blk[i]]
		e1 += sq[blk[i+1]]
		e2 += sq[blk[i+2]]
		e3 += sq[blk[i+3]]
	}
	energy := e0 + e1 + e2 + e3 + sq[blk[inbandN-1]] // 205 = 51*4 + 1
	// Below about -40 dBm0 (rms ~230 in 16 bits) there is nothing to hear.
	if energy/inbandN < 230*230 {
		return -1
	}
	norm := energy * inbandN / 2
	// The row filters first: a digit needs its row tone to carry at least
	// a fifth of the block's energy (the two tones carry 0.7 of it and the
	// column at most 2.5 times the row: 3.5*lo >= 0.7), and most blocks
	// of speech fail that, so the column filters run on few blocks.
	var rows [4]float64
	goertzel4(blk, tab, goertzel[:4], &rows, norm)
	r, ok := dominant(&rows)
	if !ok || rows[r] < 0.2 {
		return -1
	}
	var cols [4]float64
	goertzel4(blk, tab, goertzel[4:], &cols, norm)
	c, ok := dominant(&cols)
	if !ok {
		return -1
	}
	lo, hi := rows[r], cols[c]
	// Most of the energy in the two tones, and the twist within bounds:
	// column at most 4 dB above (x2.5) or 8 dB below (x0.16) the row.
	if lo+hi < 0.7 || hi > 2.5*lo || hi < 0.16*lo {
		return -1
	}
	return dtmfKeys[r][c]
}

// goertzel4 runs four Goertzel filters (coefficients c) side by side in
// one pass over the block (decoded by tab), and writes each one's |X|²
// normalised by norm (so that a sine carrying all of the block's energy
// gives about 1) to pow. Four independent recurrences the CPU overlaps,
// where four passes would each wait on their own chain. (math.FMA was
// slower: on the default GOAMD64=v1 each one tests for the instruction.)
func goertzel4(blk *[inbandN]byte, tab *[256]float64, c []float64, pow *[4]float64, norm float64) {
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	var a0, a1, a2, a3 float64 // s[n-1]
	var b0, b1, b2, b3 float64 // s[n-2]
	for _, code := range blk {
		v := tab[code]
		a0, b0 = v+c0*a0-b0, a0
		a1, b1 = v+c1*a1-b1, a1
		a2, b2 = v+c2*a2-b2, a2
		a3, b3 = v+c3*a3-b3, a3
	}
	pow[0] = (a0*a0 + b0*b0 - c0*a0*b0) / norm
	pow[1] = (a1*a1 + b1*b1 - c1*a1*b1) / norm
	pow[2] = (a2*a2 + b2*b2 - c2*a2*b2) / norm
	pow[3] = (a3*a3 + b3*b3 - c3*a3*b3) / norm
}

// dominant returns the strongest of four tone powers, and whether it is
// at least 6 times each of the others (Q.24's rule of one tone per group).
func dominant(p *[4]float64) (int, bool) {
	i := 0
	for j := range p {
		if p[j] > p[i] {
			i = j
		}
	}
	for j := range p {
		if j != i && p[j]*6 > p[i] {
			return i, false
		}
	}
	return i, true
}

// Events returns the in-band digits found in one stream, in order.
func (d *InbandDTMF) Events(k StreamKey) []DTMFEvent {
	if st := d.streams[k]; st != nil {
		return append([]DTMFEvent(nil), st.events...)
	}
	return nil
}

// Apply adds the in-band digits of each stream to its DTMFEvents (Source
// "inband"), after any RFC 4733 ones; Stream.DTMF stays the RFC 4733
// digits.
func (d *InbandDTMF) Apply(ss []Stream) {
	for i := range ss {
		ss[i].DTMFEvents = append(ss[i].DTMFEvents, d.Events(StreamKey{Src: ss[i].Src, Dst: ss[i].Dst, SSRC: ss[i].SSRC})...)
	}
}

// Take returns the in-band digits found in one stream and forgets the
// stream, as DTMF.Take does: the stream was handed on, and the next call
// may reuse its 5-tuple and SSRC.
func (d *InbandDTMF) Take(k StreamKey) []DTMFEvent {
	ev := d.Events(k)
	delete(d.streams, k)
	return ev
}
