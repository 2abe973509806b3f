package decode

import (
	"bytes"
	"errors"
)

// errLineTooLong is frameLen's answer, on a stream, when a start or header
// line is (or has grown, still without its LF) longer than the line limit:
// the message cannot be parsed, so its end is not waited for.
var errLineTooLong = errors.New("line too long")

// Framing limits shared by frameLen, isSIPStart and Parse.
const (
	// maxLine is the default bound of one line (start line or one
	// physical header line; Options.MaxLine, --limit-line). Real Via and Record-Route lines reach ~9 KB (zeek's
	// sip-long-request-response-paths.pcap), so 16 KiB leaves room.
	maxLine = 16 << 10
	// maxMethod bounds the method token of a request line.
	maxMethod = 64
	// maxHeaders bounds the header lines of one message (or one body part).
	maxHeaders = 256
)

// tokenChar marks the bytes of RFC 3261 §25.1 token:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
var tokenChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

// frameLen reports the length of the SIP message at the start of b: the
// start line and headers through the empty line, plus Content-Length bytes
// of body. On a stream transport (stream=true) a missing Content-Length
// means an empty body (RFC 3261 §18.3 requires the header there); on a
// datagram it means the rest of b (RFC 3261 §18.3, §20.14).
//
// It returns ErrNotSIP when b does not start with a SIP start line and
// ErrTruncated when b holds only the beginning of a message (read more).
//
// b must start with the start line: keep-alive CRLFs before it (RFC 5626
// §3.5.1, RFC 3261 §7.5) are the caller's to strip, see skipKeepAlive.
// Header names are matched in any case, in compact form ("l"), with white
// space before the colon; lines may end in LF alone. The first
// Content-Length counts. An unreadable Content-Length counts as absent.
//
// On a datagram (stream=false) frameLen never returns ErrTruncated once
// the start line is whole: a header section without its empty line, or a
// Content-Length longer than the datagram, yields len(b) and Parse records
// the warning. frameLen does not allocate.
//
// maxLine bounds a line (Options.MaxLine): on a stream a longer line, or a
// partial one already longer, gives errLineTooLong; on a datagram Parse
// applies it.
func frameLen(b []byte, stream bool, maxLine int) (int, error) {
	nl := bytes.IndexByte(b, '\n')
	if !isSIPStart(b) {
		if nl < 0 && startPrefix(b) {
			if len(b) <= maxLine {
				return 0, ErrTruncated
			}
			if stream {
				return 0, errLineTooLong
			}
		}
		return 0, ErrNotSIP
	}
	if nl < 0 {
		if stream {
			if len(b) > maxLine {
				return 0, errLineTooLong
			}
			return 0, ErrTruncated
		}
		return len(b), nil
	}
	if stream && nl > maxLine+1 {
		return 0, errLineTooLong
	}
	cl := -1
	seen := false
	pos := nl + 1
	for {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			if stream {
				if len(b)-pos > maxLine+1 {
					return 0, errLineTooLong
				}
				return 0, ErrTruncated
			}
			return len(b), nil
		}
		line := b[pos : pos+i]
		pos += i + 1
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if stream && len(line) > maxLine {
			return 0, errLineTooLong
		}
		if len(line) == 0 {
			break // end of the header section
		}
		if !seen {
			if v, ok := contentLengthLine(line); ok {
				seen = true
				cl = parseContentLength(v)
			}
		}
	}
	hdr := pos
	switch {
	case cl < 0 && stream:
		return hdr, nil
	case cl < 0:
		return len(b), nil
	case hdr+cl <= len(b):
		return hdr + cl, nil
	case stream:
		return 0, ErrTruncated
	default:
		return len(b), nil
	}
}

// contentLengthLine reports whether line is a Content-Length header (any
// case, compact "l", white space before the colon) and returns its value.
func contentLengthLine(line []byte) ([]byte, bool) {
	var rest []byte
	switch {
	case len(line) >= 14 && bytes.EqualFold(line[:14], []byte("Content-Length")):
		rest = line[14:]
	case len(line) >= 1 && line[0]|0x20 == 'l':
		rest = line[1:]
	default:
		return nil, false
	}
	rest = bytes.TrimLeft(rest, " \t")
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	return rest[1:], true
}

// parseContentLength reads a Content-Length value with optional white
// space around it; -1 when it is not 1 to 9 decimal digits.
func parseContentLength(v []byte) int {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if len(v) == 0 || len(v) > 9 {
		return -1
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// skipKeepAlive returns how many CR and LF bytes begin b: the keep-alive
// "CRLFCRLF" ping and "CRLF" pong of RFC 5626 §3.5.1, and the CRLFs RFC
// 3261 §7.5 says to ignore before a start line. Callers of frameLen and
// isSIPStart skip them first.
func skipKeepAlive(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// isSIPStart reports whether b begins with a SIP request line
// ("METHOD SP Request-URI SP SIP/2.0" then CR, LF or the end of b) or a
// status line ("SIP/2.0 SP 3DIGIT", first digit not 0, then SP, CR, LF or
// the end of b).
// METHOD is any RFC 3261 §25.1 token (extension methods included); the
// Request-URI is any run of non-space, non-control bytes; "SIP/2.0" is
// matched in any case (RFC 3261 §7.1). b must not start with keep-alive
// CRLFs (see skipKeepAlive). It does not allocate.
func isSIPStart(b []byte) bool {
	return isStatusLine(b) || isRequestLine(b)
}

func isStatusLine(b []byte) bool {
	if len(b) < 11 || string(b[:8]) != "SIP/2.0 " && !bytes.EqualFold(b[:8], []byte("SIP/2.0 ")) {
		return false
	}
	// RFC 3261 §21: the first digit is the class, 1 to 6; a 0 would make
	// Status 0, which means "request" in Message.
	if b[8] < '1' || b[8] > '9' || !isDigit(b[9]) || !isDigit(b[10]) {
		return false
	}
	return len(b) == 11 || b[11] == ' ' || b[11] == '\r' || b[11] == '\n'
}

func isRequestLine(b []byte) bool {
	i := 0
	for i < len(b) && i <= maxMethod && tokenChar[b[i]] {
		i++
	}
	if i == 0 || i > maxMethod || i >= len(b) || b[i] != ' ' {
		return false
	}
	j := i + 1
	// No bound on the Request-URI here but len(b): the parser applies
	// Options.MaxLine and counts it, which a fixed bound here would hide
	// (the message would read as not SIP).
	for j < len(b) && b[j] > ' ' && b[j] != 0x7f {
		j++
	}
	if j == i+1 || j >= len(b) || b[j] != ' ' {
		return false
	}
	k := j + 1
	if len(b)-k < 7 || string(b[k:k+7]) != "SIP/2.0" && !bytes.EqualFold(b[k:k+7], []byte("SIP/2.0")) {
		return false
	}
	k += 7
	return k == len(b) || b[k] == '\r' || b[k] == '\n'
}

// startPrefix reports whether b, which holds no LF, could be the beginning
// of a start line, so that a stream reader should wait for more bytes.
func startPrefix(b []byte) bool {
	const ver = "SIP/2.0 "
	n := min(len(b), len(ver))
	if bytes.EqualFold(b[:n], []byte(ver[:n])) {
		for _, c := range b[n:min(len(b), 11)] {
			if !isDigit(c) {
				return false
			}
		}
		return true // a status line whose end has not arrived yet
	}
	i := 0
	for i < len(b) && tokenChar[b[i]] {
		i++
	}
	if i == len(b) {
		return i <= maxMethod
	}
	if i == 0 || i > maxMethod || b[i] != ' ' {
		return false
	}
	j := i + 1
	for j < len(b) && b[j] > ' ' && b[j] != 0x7f {
		j++
	}
	if j == len(b) {
		return true
	}
	if j == i+1 || b[j] != ' ' {
		return false
	}
	rest := b[j+1:]
	const v = "SIP/2.0"
	if len(rest) > len(v) {
		// The version then CR: a start line to isSIPStart whatever
		// follows the CR, so one here too (the first line of a stream
		// must not be SIP or not depending on where a segment ended).
		return rest[len(v)] == '\r' && bytes.EqualFold(rest[:len(v)], []byte(v))
	}
	return bytes.EqualFold(rest, []byte(v[:len(rest)]))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
