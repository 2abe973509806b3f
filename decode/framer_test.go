package decode

import (
	"errors"
	"strings"
	"testing"
)

func TestIsSIPStart(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INVITE sip:a@b SIP/2.0\r\n", true},
		{"INVITE sip:a@b SIP/2.0", true},
		{"X-CUSTOM.method! sip:a@b sip/2.0\n", true},
		{"SIP/2.0 200 OK\r\n", true},
		{"SIP/2.0 100\r\n", true},
		{"sip/2.0 487 Request Terminated\r\n", true},
		{"SIP/2.0 20 OK\r\n", false},
		{"SIP/2.0 2000 OK\r\n", false},
		{"SIP/2.0 000 OK\r\n", false}, // fuzz crasher 29ab884dc3742648: Status 0 would mean a request
		{"INVITE sip:a@b SIP/2.0x\r\n", false},
		{"INVITE  SIP/2.0\r\n", false},
		{"INVITE sip:a@b HTTP/1.1\r\n", false},
		{"GET / HTTP/1.1\r\n", false},
		{"IN(VITE sip:a SIP/2.0\r\n", false},
		{"\r\nINVITE sip:a@b SIP/2.0\r\n", false}, // keep-alives are the caller's to skip
		{"", false},
		{"INVITE", false},
		{strings.Repeat("A", maxMethod+1) + " sip:a SIP/2.0\r\n", false},
	}
	for _, tt := range tests {
		if got := isSIPStart([]byte(tt.in)); got != tt.want {
			t.Errorf("isSIPStart(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFrameLen(t *testing.T) {
	inv := crlf("INVITE sip:a@b SIP/2.0\nCall-ID: x\nContent-Length: 4\n\nbody")
	tests := []struct {
		name   string
		in     string
		stream bool
		want   int
		err    error
	}{
		{"datagram exact", inv, false, len(inv), nil},
		{"stream exact", inv, true, len(inv), nil},
		{"two in a stream", inv + inv, true, len(inv), nil},
		{"two in a datagram", inv + inv, false, len(inv), nil},
		{"stream body short", inv[:len(inv)-1], true, 0, ErrTruncated},
		{"datagram body short", inv[:len(inv)-1], false, len(inv) - 1, nil},
		{"stream headers cut", inv[:30], true, 0, ErrTruncated},
		{"datagram headers cut", inv[:30], false, 30, nil},
		{"stream start line cut", "INVITE sip:a@b SIP/2", true, 0, ErrTruncated},
		{"stream method cut", "REGIS", true, 0, ErrTruncated},
		{"stream status cut", "SIP/2.0 1", true, 0, ErrTruncated},
		{"stream empty", "", true, 0, ErrTruncated},
		{"not SIP", "GET / HTTP/1.1\r\n\r\n", true, 0, ErrNotSIP},
		{"not SIP, no LF", "\x16\x03\x01\x02\x00", true, 0, ErrNotSIP},
		{"compact l", "SIP/2.0 200 OK\r\nl: 3\r\n\r\nabcdef", true, 27, nil},
		{"upper case L and spaces before colon", "SIP/2.0 200 OK\r\nL \t: 3\r\n\r\nabcdef", true, 29, nil},
		{"lower case name", "SIP/2.0 200 OK\r\ncontent-length:3 \r\n\r\nabcdef", true, 40, nil},
		{"bare LF", "SIP/2.0 200 OK\nContent-Length: 3\n\nabcdef", true, 37, nil},
		{"first Content-Length counts", "SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 3\r\n\r\nabcdef", true, 44, nil},
		{"look-alike header", "SIP/2.0 200 OK\r\nlx: 3\r\nContent-Lengthy: 2\r\n\r\nabcdef", true, 45, nil},
		{"stream without Content-Length", "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nabc", true, 30, nil},
		{"datagram without Content-Length", "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nabc", false, 33, nil},
		{"stream bad Content-Length", "SIP/2.0 200 OK\r\nContent-Length: bad\r\n\r\nabc", true, 39, nil},
		{"datagram bad Content-Length", "SIP/2.0 200 OK\r\nContent-Length: bad\r\n\r\nabc", false, 42, nil},
		{"huge Content-Length", "SIP/2.0 200 OK\r\nContent-Length: 99999999999\r\n\r\nabc", true, 47, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := frameLen([]byte(tt.in), tt.stream, maxLine)
			if n != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("got %d, %v; want %d, %v", n, err, tt.want, tt.err)
			}
		})
	}
}

func TestSkipKeepAlive(t *testing.T) {
	for in, want := range map[string]int{"": 0, "\r\n\r\n": 4, "\r\nINVITE": 2, "\nX": 1, "SIP": 0} {
		if got := skipKeepAlive([]byte(in)); got != want {
			t.Errorf("skipKeepAlive(%q): got %d, want %d", in, got, want)
		}
	}
}

func TestFramerAllocs(t *testing.T) {
	b := []byte(testInvite)
	allocs := testing.AllocsPerRun(100, func() {
		if !isSIPStart(b) {
			t.Fatal("not SIP")
		}
		if n, err := frameLen(b, true, maxLine); err != nil || n != len(b) {
			t.Fatalf("got %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocations, want 0", allocs)
	}
}
