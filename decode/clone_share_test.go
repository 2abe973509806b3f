package decode

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestCloneSharesFrame: when Raw lies inside the one frame that carried the
// message, the clone copies the frame once and Raw points into that copy;
// the clone survives the original buffers being overwritten.
func TestCloneSharesFrame(t *testing.T) {
	raw := []byte("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: share@x\r\n" +
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	frame := append(bytes.Repeat([]byte{0xee}, 42), raw...)
	var m Message
	if err := Parse(frame[42:], &m); err != nil {
		t.Fatal(err)
	}
	m.Frames = []FrameRef{{Number: 7, Data: frame}}
	c := m.Clone()
	for i := range frame {
		frame[i] = 'X'
	}
	if got, want := string(c.Raw), string(raw); got != want {
		t.Fatalf("Raw after overwrite: got %q, want %q", got, want)
	}
	if got, want := c.CallID, "share@x"; got != want {
		t.Errorf("CallID: got %q, want %q", got, want)
	}
	if got, want := c.Frames[0].Data[:42], bytes.Repeat([]byte{0xee}, 42); !bytes.Equal(got, want) {
		t.Errorf("frame header: got %x, want %x", got, want)
	}
	d := c.Frames[0].Data
	p := uintptr(unsafe.Pointer(unsafe.SliceData(c.Raw)))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
	if p < base || p+uintptr(len(c.Raw)) > base+uintptr(len(d)) {
		t.Errorf("Raw of the clone does not lie in its frame copy: the bytes were copied twice")
	}
	if cap(c.Raw) != len(c.Raw) || cap(d) != len(d) {
		t.Errorf("clone slices must not be appendable into each other: cap(Raw)=%d len=%d, cap(Data)=%d len=%d", cap(c.Raw), len(c.Raw), cap(d), len(d))
	}
}

// TestMessageSize keeps Message in the 768-byte size class: an import or
// `calls` keeps a wire copy (CloneWire) of every message of each open
// dialog, tens of thousands at once, and at 776 bytes each took 896.
func TestMessageSize(t *testing.T) {
	if n := unsafe.Sizeof(Message{}); n > 640 {
		t.Errorf("Message is %d bytes, over 640 (the next size class is 704): mind the padding between fields", n)
	}
}
