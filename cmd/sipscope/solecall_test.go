package main

import (
	"fmt"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// TestSoleCallCounts: soleCall keeps every part of the first Call-ID and
// nothing else, counts the other Call-IDs once each, names the first
// few, and past maxSoleOthers says so and asks once to stop reading.
func TestSoleCallCounts(t *testing.T) {
	stops := 0
	s := soleCall{enough: func() { stops++ }}
	keep := func(id string) bool { return s.keep(&correlate.Dialog{CallID: id}, nil) }
	if !keep("a") || !keep("a") {
		t.Fatal("the first Call-ID's parts are not kept")
	}
	for i := range maxSoleOthers + 5 {
		id := fmt.Sprint("o", i)
		if keep(id) || keep(id) {
			t.Fatalf("another Call-ID %s was kept", id)
		}
	}
	if !keep("a") {
		t.Error("a later part of the first Call-ID was not kept")
	}
	if len(s.others) != maxSoleOthers || !s.more || stops != 1 {
		t.Errorf("counted %d, more %v, asked to stop %d times; want %d, true, 1", len(s.others), s.more, stops, maxSoleOthers)
	}
	if fmt.Sprint(s.names) != "[o0 o1 o2]" {
		t.Errorf("named %v, want the first %d others", s.names, soleNamed)
	}
}
