package store

import (
	"reflect"
	"testing"
)

// TestListRoundTrip checks that parseList reads back what jsonList wrote,
// on the fast path (no escapes) and the JSON one.
func TestListRoundTrip(t *testing.T) {
	for _, l := range [][]string{
		nil,
		{"a"},
		{"as5c8a2b1", "b"},
		{`q"uote`, `back\slash`},
		{`a","b`},
		{"<html>&", "ünï"},
		{"", "x"},
		{"tab\there"},
	} {
		got := parseList(jsonList(l))
		if len(l) == 0 {
			if got != nil {
				t.Errorf("%q: got %q, want nil", l, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, l) {
			t.Errorf("got %q, want %q (stored %s)", got, l, jsonList(l))
		}
	}
}
