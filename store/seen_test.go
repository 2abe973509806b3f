package store

import (
	"hash/maphash"
	"strconv"
	"testing"
)

// TestSeenSet: a Call-ID added is always found again, across the filters
// a set grows to; one never added is almost never found (each false find
// only costs the Writer its row-by-row path).
func TestSeenSet(t *testing.T) {
	seed := maphash.MakeSeed()
	h := func(i int) uint64 { return maphash.String(seed, strconv.Itoa(i)+"@10.0.0.1") }
	var s seenSet
	const n = seenPerFilter + seenPerFilter/4 // into a second filter
	falses := 0
	for i := range n {
		if s.testAndAdd(h(i)) {
			falses++
		}
	}
	if len(s.filters) != 2 {
		t.Errorf("got %d filters for %d Call-IDs, want 2", len(s.filters), n)
	}
	if falses > n/10000 { // ~30 expected
		t.Errorf("%d of %d new Call-IDs were taken for written ones", falses, n)
	}
	for i := 0; i < n; i += 997 {
		if !s.testAndAdd(h(i)) {
			t.Fatalf("Call-ID %d was added but not found", i)
		}
	}
}
