package correlate

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestMediaViewPacked: a view packed and read back gives the same findings,
// with the same evidence and words, as the view itself, on every media
// capture of testdata (DTMF by INFO, NAT, codec changes, one-way, loss);
// it packs to the same bytes again, is far smaller than the view, and
// reads back into a reused view with one allocation.
func TestMediaViewPacked(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "media", "*.pcap"))
	if len(files) < 8 {
		t.Fatalf("%d media captures in testdata/media", len(files))
	}
	var into MediaView // reused from one capture to the next, as a reader would
	for _, f := range files {
		d, msgs, ss := mediaCall(t, f)
		v := NewMediaView(d, msgs)
		if v == nil {
			t.Fatalf("%s: no view", f)
		}
		b, err := v.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := into.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := v.Diagnose(ss, MediaDiagnoseOptions{})
		got := into.Diagnose(ss, MediaDiagnoseOptions{})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: packed view finds\n%+v\nwant\n%+v", f, got, want)
		}
		again, _ := into.AppendBinary(nil)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: packs to other bytes the second time", f)
		}
		if n := testing.AllocsPerRun(50, func() { into.UnmarshalBinary(b) }); n > 1 {
			t.Errorf("%s: reading a view back into one reused takes %.0f allocations, want 1 (the copy its strings alias)", f, n)
		}
		t.Logf("%s: %d findings, %d bytes packed", filepath.Base(f), len(want), len(b))
		if len(b) > 200 {
			t.Errorf("%s: %d bytes packed", f, len(b))
		}
	}
}

// TestMediaViewPackedFields: every field survives, IPv6 with a zone and an
// INFO digit included; nil packs to a nil view; bad bytes are an error,
// never a panic.
func TestMediaViewPackedFields(t *testing.T) {
	v := &MediaView{callID: "c1@h", answered: true, infos: []int64{7},
		infoDTMF: []DTMFEvent{{Digit: "5", Event: 5, Start: time.Unix(1700000000, 123).UTC(), Duration: 160 * time.Millisecond, Volume: 10, Source: "info"}}}
	v.parties[0] = party{name: "caller", sdps: []int64{1, 5}, dir: "sendonly", events: true,
		audio:    []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("[fe80::1%eth0]:4002"), netip.MustParseAddrPort("[2001:db8::2]:6000")},
		rtpmap:   []ptEncoding{{0, "PCMU"}, {101, "telephone-event"}},
		firstPTs: []string{"0", "8"}}
	v.parties[1] = party{name: "callee", sdps: []int64{3}, dir: "sendrecv"}
	v.caller, v.callee = &v.parties[0], &v.parties[1]
	b, _ := v.AppendBinary(nil)
	got, err := UnpackMediaView(b)
	if err != nil {
		t.Fatal(err)
	}
	norm := func(x *MediaView) *MediaView {
		c := *x
		c.caller, c.callee = nil, nil
		for i := range c.parties {
			if len(c.parties[i].audio) == 0 {
				c.parties[i].audio = nil
			}
			if len(c.parties[i].rtpmap) == 0 {
				c.parties[i].rtpmap = nil
			}
			if len(c.parties[i].firstPTs) == 0 {
				c.parties[i].firstPTs = nil
			}
		}
		return &c
	}
	if !reflect.DeepEqual(norm(got), norm(v)) {
		t.Errorf("read back\n%+v\nwant\n%+v", norm(got), norm(v))
	}
	if got.caller != &got.parties[0] || got.callee != &got.parties[1] {
		t.Error("caller and callee do not point into the view read back")
	}
	var none *MediaView
	nb, _ := none.AppendBinary(nil)
	if n, err := UnpackMediaView(nb); n != nil || err != nil {
		t.Errorf("nil view read back as %+v, %v", n, err)
	}
	for i := range b {
		for _, cut := range [][]byte{b[:i], append(slices.Clone(b[:i]), 0xff, 0xff, 0xff)} {
			var x MediaView
			_ = x.UnmarshalBinary(cut) // must not panic
		}
	}
	if _, err := UnpackMediaView(append(slices.Clone(b), 1)); err == nil {
		t.Error("trailing bytes: no error")
	}
	if _, err := UnpackMediaView(b[:len(b)-1]); err == nil {
		t.Error("cut short: no error")
	}
}
