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

// TestG711Law: the encoding names map to their law in any case, the
// tables equal the bit-arithmetic decoders code for code, and Decode
// writes one sample per byte (nothing for another codec).
func TestG711Law(t *testing.T) {
	for _, tt := range []struct {
		enc  string
		want G711
	}{{"PCMU", G711ULaw}, {"pcmu", G711ULaw}, {"PCMA", G711ALaw}, {"Pcma", G711ALaw}, {"G722", NotG711}, {"", NotG711}} {
		if got := G711Law(tt.enc); got != tt.want {
			t.Errorf("G711Law(%q) = %d, want %d", tt.enc, got, tt.want)
		}
	}
	for c := range 256 {
		if got, want := G711ULaw.Linear()[c], ULaw(byte(c)); got != want {
			t.Fatalf("µ-law table %#02x = %d, want %d", c, got, want)
		}
		if got, want := G711ALaw.Linear()[c], ALaw(byte(c)); got != want {
			t.Fatalf("A-law table %#02x = %d, want %d", c, got, want)
		}
	}
	if NotG711.Linear() != nil {
		t.Error("NotG711.Linear() is not nil")
	}
	src := []byte{0xD5, 0x55, 0xAA}
	dst := make([]int16, 4)
	if n := G711ALaw.Decode(dst, src); n != 3 || dst[0] != 8 || dst[1] != -8 || dst[2] != 32256 || dst[3] != 0 {
		t.Errorf("Decode: %d %v, want 3 [8 -8 32256 0]", n, dst)
	}
	if n := NotG711.Decode(dst, src); n != 0 {
		t.Errorf("NotG711.Decode wrote %d, want 0", n)
	}
}
