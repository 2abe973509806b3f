package decode

import "testing"

// TestG711Decode checks the decoders against values of the G.711 tables
// (Table 1a A-law, Table 2a µ-law: the smallest and largest quantized
// values, scaled to 16 bits) and their shape: odd symmetric, monotonic in
// the code within each sign.
func TestG711Decode(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    func(byte) int16
		code byte
		want int16
	}{
		// A-law: 13-bit output value 1 (x8) at the smallest codes, 4032 at the largest.
		{"A-law +min", ALaw, 0xD5, 8}, {"A-law -min", ALaw, 0x55, -8},
		{"A-law +max", ALaw, 0xAA, 32256}, {"A-law -max", ALaw, 0x2A, -32256},
		// Segment 1 starts at 13-bit 33 (x8 = 264): code 0xC5 is 0x90 ^ 0x55.
		{"A-law seg 1", ALaw, 0x90 ^ 0x55, 264},
		// µ-law: 14-bit 0 at 0xFF and 0x7F, 8031 (x4) at 0x80 / 0x00.
		{"µ-law +0", ULaw, 0xFF, 0}, {"µ-law -0", ULaw, 0x7F, 0},
		{"µ-law +max", ULaw, 0x80, 32124}, {"µ-law -max", ULaw, 0x00, -32124},
		// Segment 1, step 0: 14-bit 33 ... (2*0+33)<<1 - 33 = 33, x4 = 132; code ^0x10 = 0xEF.
		{"µ-law seg 1", ULaw, 0xEF, 132},
	} {
		if got := tt.f(tt.code); got != tt.want {
			t.Errorf("%s: %#02x -> %d, want %d", tt.name, tt.code, got, tt.want)
		}
	}
	// Magnitude grows with the code (after undoing the line inversion).
	for _, law := range []struct {
		name string
		f    func(byte) int16
		enc  func(int) byte // magnitude index 0..127 of the positive half to the sent byte
	}{
		{"A-law", ALaw, func(i int) byte { return byte(0x80|i) ^ 0x55 }},
		{"µ-law", ULaw, func(i int) byte { return ^byte(i) }},
	} {
		prev := int16(-1)
		for i := 0; i < 128; i++ {
			c := law.enc(i)
			v := law.f(c)
			if v <= prev {
				t.Errorf("%s: code %#02x -> %d, not above the previous %d", law.name, c, v, prev)
			}
			prev = v
			if n := law.f(c ^ 0x80); n != -v {
				t.Errorf("%s: %#02x -> %d but %#02x -> %d, want symmetric", law.name, c, v, c^0x80, n)
			}
		}
	}
}
