package decode

import (
	"errors"
	"fmt"
)

// ErrTruncated means the input ended before the message or header it
// announced (a Content-Length longer than the bytes, a cut frame).
var ErrTruncated = errors.New("truncated")

// ErrNotSIP means the bytes do not start (after tolerated junk) with a SIP
// request or status line.
var ErrNotSIP = errors.New("not SIP")

// SyntaxError is a malformed message or header.
type SyntaxError struct {
	Offset int    // byte offset in the input
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("SIP syntax error at byte %d: %s", e.Offset, e.Msg)
}

// UnsupportedError is valid input using a feature we do not decode, such as
// a link type or tunnel we do not know.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "unsupported: " + string(e) }
