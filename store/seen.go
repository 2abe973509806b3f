package store

// seenSet remembers the Call-IDs a Writer wrote, by their 64-bit hashes,
// in Bloom filters: "never written" is certain, "written" may be wrong,
// which only sends a dialog down the row-by-row path that merges (see
// Writer.dialogRow), as a collision of two hashes did with the map it
// replaces. A map grew ~14-22 bytes a call and was scanned by the garbage
// collector; a filter takes 2.5 bytes a call, holds no pointers, and is
// allocated a million Call-IDs at a time, so an import's memory stays
// nearly flat at any capture size.
//
// Each filter holds seenPerFilter hashes with 20 bits each and 14 probes:
// about one false "written" in 15,000 when full, far fewer before.
type seenSet struct {
	filters [][]uint64
	n       int // hashes in the last filter
}

const (
	seenPerFilter = 1 << 20
	seenBits      = 20 * seenPerFilter // bits per filter
	seenProbes    = 14
)

// testAndAdd reports whether h may have been added before, and adds it.
func (s *seenSet) testAndAdd(h uint64) bool {
	seen := false
	for _, f := range s.filters {
		if seenTest(f, h) {
			seen = true
			break
		}
	}
	if seen {
		return true
	}
	if len(s.filters) == 0 || s.n >= seenPerFilter {
		s.filters = append(s.filters, make([]uint64, seenBits/64))
		s.n = 0
	}
	f := s.filters[len(s.filters)-1]
	a, b := seenProbe(h)
	for i := uint64(0); i < seenProbes; i++ {
		bit := (a + i*b) % seenBits
		f[bit/64] |= 1 << (bit % 64)
	}
	s.n++
	return false
}

// seenProbe derives the two hashes of double hashing from h; b is odd.
func seenProbe(h uint64) (a, b uint64) {
	return h, (h>>32|h<<32)*0x9e3779b97f4a7c15 | 1
}

func seenTest(f []uint64, h uint64) bool {
	a, b := seenProbe(h)
	for i := uint64(0); i < seenProbes; i++ {
		bit := (a + i*b) % seenBits
		if f[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
