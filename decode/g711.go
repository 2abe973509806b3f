package decode

import "strings"

// G.711 (ITU-T G.711, 11/1988) turns 8-bit A-law and µ-law codes into
// linear PCM. Written from the encoding rules of the standard's tables;
// both are short enough to compute rather than look up.

// ULaw decodes one G.711 µ-law byte (ITU-T G.711 Table 2a/2b) to 16-bit
// linear PCM. The byte is sent inverted; its 3-bit segment (exponent) and
// 4-bit step (mantissa) give the magnitude ((step*2 + 33) << segment) - 33
// in 14-bit units, shifted up two bits here: -32124 … 32124.
func ULaw(b byte) int16 {
	u := ^b
	seg := (u >> 4) & 7
	mag := ((int(u&0x0f)<<3 + 0x84) << seg) - 0x84
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// ALaw decodes one G.711 A-law byte (ITU-T G.711 Table 1a/1b) to 16-bit
// linear PCM. Even bits are sent inverted (XOR 0x55); segment 0 is linear
// (step*2 + 1), segment s > 0 is (step*2 + 33) << (s-1), in 13-bit units,
// shifted up three bits here: -32256 … 32256. The sign bit is 1 for
// positive values.
func ALaw(b byte) int16 {
	a := b ^ 0x55
	seg := (a >> 4) & 7
	mag := int(a&0x0f)<<4 + 8
	if seg > 0 {
		mag = (mag + 0x100) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// G711 is one of the two G.711 laws, as RTP names them (RFC 3551
// §4.5.14): the one helper the in-band DTMF detector (correlate) and the
// WAV export (render) decode payloads with.
type G711 uint8

const (
	NotG711  G711 = iota // any other encoding
	G711ULaw             // "PCMU", payload type 0
	G711ALaw             // "PCMA", payload type 8
)

// g711Linear holds each law's 256 codes decoded: one lookup per sample
// instead of the bit arithmetic (and of a call through a function value,
// which the Go compiler cannot inline), on the hot path of every G.711
// packet the detector sees.
var g711Linear = func() (t [3][256]int16) {
	for c := range 256 {
		t[G711ULaw][c] = ULaw(byte(c))
		t[G711ALaw][c] = ALaw(byte(c))
	}
	return t
}()

// G711Law returns the law of an rtpmap encoding name ("PCMU", "PCMA", in
// any case: RFC 4566 §6 makes encoding names case-insensitive), NotG711
// for any other.
func G711Law(encoding string) G711 {
	switch {
	case strings.EqualFold(encoding, "PCMU"):
		return G711ULaw
	case strings.EqualFold(encoding, "PCMA"):
		return G711ALaw
	}
	return NotG711
}

// Linear returns the 16-bit linear value of each of the law's 256 codes
// (ULaw or ALaw of the index), nil for NotG711. The table is shared: do
// not write to it.
func (l G711) Linear() *[256]int16 {
	if l != G711ULaw && l != G711ALaw {
		return nil
	}
	return &g711Linear[l]
}

// Decode writes the linear samples of the G.711 codes src (one byte per
// sample) to dst, which must be at least as long, and returns how many it
// wrote: len(src), or 0 for NotG711.
func (l G711) Decode(dst []int16, src []byte) int {
	tab := l.Linear()
	if tab == nil {
		return 0
	}
	dst = dst[:len(src)]
	for i, b := range src {
		dst[i] = tab[b]
	}
	return len(src)
}
