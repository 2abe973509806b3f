package store

// boxes makes the row values an import binds (see rawStmt.bind) without
// an allocation each. Go boxes an int64 of 256 or more, a string that is
// not empty and a byte slice that is not nil in a new allocation when it
// makes an interface value of it: 20 per dialogs row and 4 per messages
// row, 2.3 of the 7.2 million allocations of an import of 50,000 calls.
// A pointer makes an interface value without one, so boxes writes each
// value into a chunk and hands out a pointer to it; a chunk is allocated
// once for 512 values and never written again once handed out, so a
// value stays valid for as long as something holds the pointer (a bulk
// queues rows until its statement is full, an Encoded row waits for the
// Writer), however the holder is pooled.
//
// The zero boxes is ready; a nil *boxes boxes as Go does.
type boxes struct {
	ints  []int64
	strs  []string
	blobs [][]byte
}

// boxChunk is the number of values of one chunk.
const boxChunk = 512

// int returns v as a row value (int64 or *int64).
func (b *boxes) int(v int64) any {
	if b == nil || (v >= 0 && v < 256) {
		return v // Go's own static values: no allocation
	}
	if len(b.ints) == cap(b.ints) {
		b.ints = make([]int64, 0, boxChunk)
	}
	b.ints = append(b.ints, v)
	return &b.ints[len(b.ints)-1]
}

// str returns s as a row value (string or *string).
func (b *boxes) str(s string) any {
	if b == nil || s == "" {
		return s
	}
	if len(b.strs) == cap(b.strs) {
		b.strs = make([]string, 0, boxChunk)
	}
	b.strs = append(b.strs, s)
	return &b.strs[len(b.strs)-1]
}

// blob returns p as a row value ([]byte or *[]byte; nil binds NULL).
func (b *boxes) blob(p []byte) any {
	if b == nil || p == nil {
		return p
	}
	if len(b.blobs) == cap(b.blobs) {
		b.blobs = make([][]byte, 0, boxChunk)
	}
	b.blobs = append(b.blobs, p)
	return &b.blobs[len(b.blobs)-1]
}

// argInt reads an integer row value made by boxes.int (or a plain int64).
func argInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case *int64:
		return *x
	}
	return 0
}
