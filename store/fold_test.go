package store

import "testing"

func TestFoldCase(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Воронеж, IT", "воронеж, it"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"ς", "σ"},
		{"\u212a", "k"}, // Kelvin sign
		{"Straße", "STRAßE"},
		{"ALICE", "alice"},
	} {
		if fa, fb := foldCase(tc.a), foldCase(tc.b); fa != fb {
			t.Errorf("foldCase(%q) = %q, foldCase(%q) = %q: want equal", tc.a, fa, tc.b, fb)
		}
	}
}

func TestCheckGlob(t *testing.T) {
	for _, tc := range []struct {
		pat string
		ok  bool
	}{
		{"", true}, {"alice", true}, {"al*", true}, {"a[lx]ice", true}, {"[]]x", true}, {"[^]]x", true},
		{"[", false}, {"a[b", false}, {"[]", false}, {"ok[a]then[", false},
	} {
		if err := checkGlob(tc.pat); (err == nil) != tc.ok {
			t.Errorf("checkGlob(%q) = %v, want ok %v", tc.pat, err, tc.ok)
		}
	}
}
