package decode

import (
	"iter"
	"strings"
)

// compactForms maps the letter of a compact header name (RFC 3261 §7.3.3
// and the IANA SIP parameters registry) to the full name.
var compactForms = [26]string{
	0:         "Accept-Contact",      // 'a', RFC 3841
	'b' - 'a': "Referred-By",         // RFC 3892
	'c' - 'a': "Content-Type",        // RFC 3261
	'd' - 'a': "Request-Disposition", // RFC 3841
	'e' - 'a': "Content-Encoding",    // RFC 3261
	'f' - 'a': "From",                // RFC 3261
	'i' - 'a': "Call-ID",             // RFC 3261
	'j' - 'a': "Reject-Contact",      // RFC 3841
	'k' - 'a': "Supported",           // RFC 3261
	'l' - 'a': "Content-Length",      // RFC 3261
	'm' - 'a': "Contact",             // RFC 3261
	'n' - 'a': "Identity-Info",       // RFC 4474
	'o' - 'a': "Event",               // RFC 6665
	'r' - 'a': "Refer-To",            // RFC 3515
	's' - 'a': "Subject",             // RFC 3261
	't' - 'a': "To",                  // RFC 3261
	'u' - 'a': "Allow-Events",        // RFC 6665
	'v' - 'a': "Via",                 // RFC 3261
	'x' - 'a': "Session-Expires",     // RFC 4028
	'y' - 'a': "Identity",            // RFC 8224
}

// CanonicalName returns the full header name for a compact form ("v" or
// "V" gives "Via") and name unchanged otherwise. It does not allocate.
func CanonicalName(name string) string {
	if len(name) == 1 {
		c := name[0] | 0x20
		if c >= 'a' && c <= 'z' && compactForms[c-'a'] != "" {
			return compactForms[c-'a']
		}
	}
	return name
}

// sameHeader reports whether the header name written in a message and the
// name asked for denote the same header: case-insensitively (RFC 3261
// §7.3.1), with compact forms equal to their full names (§7.3.3).
func sameHeader(written, want string) bool {
	return strings.EqualFold(CanonicalName(written), CanonicalName(want))
}

// Header returns the value of the first header called name, matched
// case-insensitively and with compact forms ("f", "From", "FROM" are one
// header), or "" when there is none. Folded lines are joined. The result
// aliases the message like every string field.
func (m *Message) Header(name string) string {
	for i := range m.Headers {
		if sameHeader(m.Headers[i].Name, name) {
			return m.Headers[i].Value
		}
	}
	return ""
}

// HeaderValues yields the value of every header called name (matched as by
// Header), in message order. A header line holding several comma-separated
// values (Via: a, b) is yielded once, as written.
func (m *Message) HeaderValues(name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range m.Headers {
			if sameHeader(m.Headers[i].Name, name) && !yield(m.Headers[i].Value) {
				return
			}
		}
	}
}

// hid identifies the headers Parse reads into Message fields.
type hid uint8

const (
	hOther hid = iota
	hCallID
	hCSeq
	hFrom
	hTo
	hVia
	hContact
	hUserAgent
	hServer
	hReason
	hWarning
	hContentType
	hContentLength
	hMaxForwards
)

// headerID classifies a header name without allocating: a switch on the
// length and the lower-cased first byte picks at most one candidate, which
// is compared exactly first (stacks write the canonical case) and then
// case-insensitively (RFC 3261 §7.3.1).
func headerID(name string) hid {
	if len(name) == 0 {
		return hOther
	}
	c := name[0] | 0x20
	if len(name) == 1 {
		switch c {
		case 'i':
			return hCallID
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'v':
			return hVia
		case 'm':
			return hContact
		case 'c':
			return hContentType
		case 'l':
			return hContentLength
		}
		return hOther
	}
	var want string
	var id hid
	switch len(name)<<8 | int(c) {
	case 2<<8 | 't':
		want, id = "To", hTo
	case 3<<8 | 'v':
		want, id = "Via", hVia
	case 4<<8 | 'c':
		want, id = "CSeq", hCSeq
	case 4<<8 | 'f':
		want, id = "From", hFrom
	case 6<<8 | 'r':
		want, id = "Reason", hReason
	case 6<<8 | 's':
		want, id = "Server", hServer
	case 7<<8 | 'c':
		if len(name) > 2 && name[2]|0x20 == 'l' {
			want, id = "Call-ID", hCallID
		} else {
			want, id = "Contact", hContact
		}
	case 7<<8 | 'w':
		want, id = "Warning", hWarning
	case 10<<8 | 'u':
		want, id = "User-Agent", hUserAgent
	case 12<<8 | 'c':
		want, id = "Content-Type", hContentType
	case 12<<8 | 'm':
		want, id = "Max-Forwards", hMaxForwards
	case 14<<8 | 'c':
		want, id = "Content-Length", hContentLength
	default:
		return hOther
	}
	if name == want || strings.EqualFold(name, want) {
		return id
	}
	return hOther
}
