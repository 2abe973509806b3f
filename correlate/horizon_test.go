package correlate

import (
	"testing"
	"time"
)

// TestHorizonAndForget: with Options.Forget, Horizon is the start of the
// earliest dialog not handed on yet (the clock once none is open), and
// Forget names each Call-ID when its remembered summary goes; without
// Forget the correlator keeps no marks for Horizon at all (they would only
// grow on an import or a live capture that never asks).
func TestHorizonAndForget(t *testing.T) {
	var forgot []string
	c := New(Options{Early: true, Forget: func(id string) { forgot = append(forgot, id) },
		Remember: time.Second}, &collector{})
	add := func(line string) {
		t.Helper()
		if err := c.Add(msg(t, line)); err != nil {
			t.Fatal(err)
		}
	}
	add("0 a>b INVITE/1 z1 cid=long")
	add("100 a>b OPTIONS/1 z2 cid=opt")
	if h := c.Horizon(); !h.Equal(t0) {
		t.Fatalf("Horizon = %v, want the start of the open INVITE (%v)", h, t0)
	}
	add("150 b>a 200 OPTIONS/1 z2 tt cid=opt") // opt ends: handed on early
	if h := c.Horizon(); !h.Equal(t0) {
		t.Fatalf("Horizon = %v after opt ended, want still the INVITE's start", h)
	}
	add("200 b>a 486 INVITE/1 z1 tt cid=long") // long ends too
	if h := c.Horizon(); !h.Equal(t0.Add(200 * time.Millisecond)) {
		t.Fatalf("Horizon = %v with nothing open, want the clock", h)
	}
	// Past Grace (32 s) both become tombs; Remember (1 s) later they go.
	add("40000 a>b OPTIONS/1 z3 cid=later")
	if len(forgot) != 0 {
		t.Fatalf("forgot %v while still remembered", forgot)
	}
	add("42000 a>b OPTIONS/2 z4 cid=later")
	if len(forgot) != 2 || forgot[0] == forgot[1] {
		t.Fatalf("forgot %v, want opt and long once each", forgot)
	}
	if h := c.Horizon(); !h.Equal(t0.Add(40 * time.Second)) {
		t.Fatalf("Horizon = %v, want the start of the one open dialog", h)
	}

	plain := New(Options{Early: true}, &collector{})
	for _, l := range []string{"0 a>b OPTIONS/1 z1 cid=x", "10 a>b OPTIONS/1 z2 cid=y", "20 a>b OPTIONS/1 z3 cid=z"} {
		if err := plain.Add(msg(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(plain.born); n != 0 {
		t.Errorf("without Forget the correlator keeps %d marks for Horizon, want none", n)
	}
}
