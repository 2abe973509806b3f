package main

import (
	"testing"
	"time"
)

func TestHumanDelta(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "+0µs"},
		{179 * time.Microsecond, "+179µs"},
		{497671 * time.Microsecond, "+497.671ms"},
		{12345 * time.Millisecond, "+12.345s"},
		{2*time.Minute + 3400*time.Millisecond, "+2m03.4s"},
		{3*time.Hour + 12*time.Minute + 59*time.Second, "+3h12m"},
		{191386667680 * time.Millisecond, "+2215d02h"},
		{-2 * time.Millisecond, "-2.000ms"},
	} {
		got := humanDelta(tc.d)
		if got != tc.want {
			t.Errorf("humanDelta(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if n := len([]rune(got)); n > 10 {
			t.Errorf("humanDelta(%v) = %q: %d characters, want at most 10", tc.d, got, n)
		}
	}
}
