package decode

import "bytes"

// frameLen reports the length of the SIP message at the start of b: the
// start line and headers through the empty line, plus Content-Length bytes
// of body. On a stream transport (stream=true) a missing Content-Length
// means an empty body (RFC 3261 §18.3 requires the header there); on a
// datagram it means the rest of b (RFC 3261 §18.3, §20.14).
//
// It returns ErrNotSIP when b does not start with a SIP start line and
// ErrTruncated when b holds only the beginning of a message (read more).
// (stub: naive version, replaced by the SIP parser owner)
func frameLen(b []byte, stream bool) (int, error) {
	if !isSIPStart(b) {
		return 0, ErrNotSIP
	}
	end := bytes.Index(b, []byte("\r\n\r\n"))
	sep := 4
	if end < 0 {
		if end = bytes.Index(b, []byte("\n\n")); end < 0 {
			return 0, ErrTruncated
		}
		sep = 2
	}
	hdr := end + sep
	cl := -1
	for _, name := range [][]byte{[]byte("\nContent-Length:"), []byte("\nl:")} {
		if i := bytes.Index(bytes.ToLower(b[:end]), bytes.ToLower(name)); i >= 0 {
			v := b[i+len(name):]
			v = bytes.TrimLeft(v, " \t")
			n := 0
			for len(v) > 0 && v[0] >= '0' && v[0] <= '9' {
				n = n*10 + int(v[0]-'0')
				v = v[1:]
			}
			cl = n
			break
		}
	}
	if cl < 0 {
		if stream {
			return hdr, nil
		}
		return len(b), nil
	}
	if hdr+cl > len(b) {
		return 0, ErrTruncated
	}
	return hdr + cl, nil
}

// isSIPStart reports whether b begins with a SIP request line
// ("METHOD SP Request-URI SP SIP/2.0") or status line ("SIP/2.0 SP 3DIGIT").
// (stub: naive version, replaced by the SIP parser owner)
func isSIPStart(b []byte) bool {
	if bytes.HasPrefix(b, []byte("SIP/2.0 ")) {
		return true
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		nl = len(b)
	}
	line := bytes.TrimRight(b[:nl], "\r")
	return bytes.HasSuffix(line, []byte(" SIP/2.0")) && bytes.IndexByte(line, ' ') > 0
}
