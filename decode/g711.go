package decode

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
