package decode

import (
	"fmt"
	"strings"
	"unsafe"
)

// Parse parses one SIP message (RFC 3261 §7) from b into m, resetting
// every field of m.
//
// Aliasing: every string field of m set by Parse, and Raw, Body, SDP.Raw
// and Part.Body, point into b (strings are made with unsafe.String, no
// copy), except header values joined from folded lines, which live in a
// buffer owned by m. They are valid while b is unchanged and until the next
// Parse into m; Clone makes a copy that owns its memory. Parse reuses the
// storage of m's slices (Headers, Via, Parts, SDP) between calls so that
// parsing into the same Message allocates nothing in the steady state; the
// addressing fields (Time, File, Frames, Src, Dst, Transport, Encap, HEP,
// Events) are left zero for the decoder to fill.
//
// b holds one message: on a datagram the whole payload, on a stream what
// frameLen framed. Bytes after the body announced by Content-Length are
// not part of the message (RFC 3261 §18.3) and are left out of Raw.
//
// Parse is lenient and bounded: each leniency sets a bit in m.Warnings
// (see the Warn constants), lines longer than 16 KiB and more than 256
// header lines are a *SyntaxError. It returns ErrNotSIP when no SIP start
// line is found and a *SyntaxError when the start line is broken; on error
// m is left reset. Parse never panics.
func Parse(b []byte, m *Message) error {
	_, err := parse(b, m, false)
	return err
}

// parseNext parses the message at the start of a datagram payload b into
// m, as Parse does, where b may hold further messages after it (RFC 3261
// §18.3 allows one per datagram, but some stacks bundle several). It
// returns how many bytes of b belong to the message: up to the end of the
// body announced by Content-Length when another start line follows (after
// optional CR, LF and NUL padding), else len(b). Bytes after the body that
// are only padding are not extra data; other bytes are (WarnExtraData),
// and belong to this message. b must start with a start line: the caller
// has checked isSIPStart, and parseNext does not check it again.
func parseNext(b []byte, m *Message) (int, error) {
	return parse(b, m, true)
}

func parse(b []byte, m *Message, dgram bool) (int, error) {
	sc := m.scratch
	if sc == nil {
		sc = new(scratch)
	}
	sc.reset()
	*m = Message{ContentLength: -1, MaxForwards: -1, scratch: sc}
	p := parser{b: b, s: str(b), m: m, sc: sc, foldID: -1, dgram: dgram, next: len(b)}
	if err := p.parse(); err != nil {
		*m = Message{ContentLength: -1, MaxForwards: -1, scratch: sc}
		return len(b), err
	}
	return p.next, nil
}

// scratch is the storage Parse reuses between messages. The message's
// slices are windows on it; inner slices of its elements (Media.Formats,
// Part.Headers, ...) keep their capacity too.
type scratch struct {
	headers []Header
	via     []Via
	parts   []Part
	fold    []byte // folded header values, joined; cap >= len(input) once used
	sdp     SDP
	media   []Media

	// lim are the decoder's bounds (zero: the package defaults) and hit
	// the ones the last parse ran into, for Stats.Limits.
	lim parseLimits
	hit limitHit
}

// parseLimits are the bounds of Options the parser applies.
type parseLimits struct{ line, headers, media int }

// limitHit says which bounds a parse ran into.
type limitHit uint8

const (
	hitLine limitHit = 1 << iota
	hitHeaders
	hitMedia
)

func (p *parser) maxLine() int {
	if p.sc.lim.line > 0 {
		return p.sc.lim.line
	}
	return maxLine
}

func (p *parser) maxHeaders() int {
	if p.sc.lim.headers > 0 {
		return p.sc.lim.headers
	}
	return maxHeaders
}

func (p *parser) maxMedia() int {
	if p.sc.lim.media > 0 {
		return p.sc.lim.media
	}
	return maxMedia
}

func (sc *scratch) reset() {
	sc.headers = sc.headers[:0]
	sc.via = sc.via[:0]
	sc.parts = sc.parts[:0]
	sc.fold = sc.fold[:0]
	sc.media = sc.media[:0]
	sc.hit = 0
}

// str returns the bytes of b as a string without copying. The string is
// only as immutable as b: callers must not change b while it is in use.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

type parser struct {
	b  []byte
	s  string // b as a string, so that substrings alias b
	m  *Message
	sc *scratch

	dgram bool // parseNext: more messages may follow in b
	next  int  // where the next message may start (len(b) when none)

	nhdr      int // serial number of the last header appended
	foldID    int // serial of the header being joined in sc.fold, -1 when none
	foldStart int // where that header's value starts in sc.fold
}

func (p *parser) warn(w Warning) { p.m.Warnings |= w }

func (p *parser) parse() error {
	m, s := p.m, p.s
	start := skipKeepAlive(p.b) // RFC 3261 §7.5: CRLFs before the start line are ignored
	status := isStatusLine(p.b[start:])
	// parseNext's caller has checked the start line (isSIPStart).
	if !status && !p.dgram && !isRequestLine(p.b[start:]) {
		j := p.findStart(start)
		if j < 0 {
			first := s[start:]
			if i := strings.IndexByte(first, '\n'); i >= 0 {
				first = first[:i]
			}
			if hasPrefixFold(first, "SIP/") || hasSuffixFold(strings.TrimRight(first, "\r"), " SIP/2.0") {
				return &SyntaxError{Offset: start, Msg: "malformed start line"}
			}
			return ErrNotSIP
		}
		// RFC 3261 §7.5 allows only CRLF before the start line; skip
		// other junk (a NUL keep-alive, a stray fragment) too.
		p.warn(WarnJunkBeforeStart)
		start = j
		status = isStatusLine(p.b[start:])
	}

	// Start line (RFC 3261 §7.1, §7.2).
	line, pos := p.line(start, len(p.s))
	if len(line) > p.maxLine() {
		p.sc.hit |= hitLine
		return &SyntaxError{Offset: start, Msg: fmt.Sprintf("start line longer than %d bytes", p.maxLine())}
	}
	if status {
		m.Version = line[:7]
		m.Status = int(line[8]-'0')*100 + int(line[9]-'0')*10 + int(line[10]-'0')
		if len(line) > 11 {
			m.Reason = trimLWS(line[12:])
		}
	} else {
		sp1 := strings.IndexByte(line, ' ')
		sp2 := strings.LastIndexByte(line, ' ')
		if sp1 <= 0 || sp2 <= sp1 {
			// Only when parseNext's caller broke its promise.
			return &SyntaxError{Offset: start, Msg: "malformed request line"}
		}
		m.Request = true
		m.Method = line[:sp1]
		m.RequestURI = line[sp1+1 : sp2]
		m.Version = line[sp2+1:]
	}
	if m.Version != "SIP/2.0" {
		p.warn(WarnBadVersion)
	}

	pos, ended, err := p.headers(pos, len(p.s), &p.sc.headers)
	if err != nil {
		return err
	}
	if len(p.sc.headers) > 0 {
		m.Headers = p.sc.headers
	}
	badCL := p.fields()

	end := len(p.b)
	if !ended {
		// RFC 3261 §7: the header section ends with an empty line.
		p.warn(WarnNoCRLFEnd)
	} else {
		rest := p.b[pos:]
		switch {
		case m.ContentLength >= 0 && m.ContentLength > len(rest):
			// RFC 3261 §18.3: a short body is an error; keep what is there.
			p.warn(WarnShortBody)
		case m.ContentLength >= 0:
			end = pos + m.ContentLength
			tail := rest[m.ContentLength:]
			if p.dgram {
				switch nx := skipPad(tail); {
				case len(nx) == 0:
					tail = nil // keep-alive padding after the message
				case isSIPStart(nx):
					tail, p.next = nil, end // another message follows
				}
			}
			for _, c := range tail {
				if c != '\r' && c != '\n' {
					p.warn(WarnExtraData)
					break
				}
			}
		case badCL:
			p.warn(WarnBadContentLength)
		default:
			// RFC 3261 §20.14: Content-Length SHOULD be present (MUST on
			// streams); on a datagram the body is the rest.
			p.warn(WarnNoContentLength)
		}
		if end > pos {
			m.Body = p.b[pos:end:end]
		}
	}
	m.Raw = p.b[start:end:end]
	p.body(pos)
	return nil
}

// findStart looks for a start line at the beginning of a later line, or
// after control bytes, and returns its offset or -1.
func (p *parser) findStart(from int) int {
	s := p.s
	i := from
	for i < len(s) {
		j := i
		for j < len(s) && (s[j] < ' ' || s[j] == 0x7f) {
			j++
		}
		if j > i && j < len(s) && isSIPStart(p.b[j:]) {
			return j
		}
		nl := strings.IndexByte(s[j:], '\n')
		if nl < 0 {
			return -1
		}
		i = j + nl + 1
		if i < len(s) && isSIPStart(p.b[i:]) {
			return i
		}
	}
	return -1
}

// line returns the line starting at pos, ending by end, without its CRLF
// or LF, and the offset of the next line. A bare LF sets WarnBareLF (RFC
// 3261 §7: lines end in CRLF).
func (p *parser) line(pos, end int) (string, int) {
	s := p.s[pos:end]
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return strings.TrimSuffix(s, "\r"), end
	}
	if nl > 0 && s[nl-1] == '\r' {
		return s[:nl-1], pos + nl + 1
	}
	p.warn(WarnBareLF)
	return s[:nl], pos + nl + 1
}

// headers reads header lines from pos into *hs through the empty line,
// reading no further than end. It returns the offset after the empty line
// and whether there was one.
//
// Parse liberally but bounded: header lines past the limit (Options
// MaxHeaders, --limit-headers) are read over but not kept, so the message
// is delivered with its first ones and WarnTooManyHeaders; its Raw bytes
// stay whole. skipping drops the folded continuations of a skipped line.
// The headers that make a message placeable (keepOver) are still kept, a
// few, so that padding cannot hide its Call-ID or CSeq.
func (p *parser) headers(pos, end int, hs *[]Header) (int, bool, error) {
	skipping := false
	extra := 0 // headers kept past the limit by keepOver
	for pos < end {
		at := pos
		// Fast path, the usual line "Token: value": the name is read by a
		// table loop up to the colon, so that only the value is searched
		// for the line end, with one IndexByte. Anything else (folding,
		// white space before the colon, an empty or odd line) takes the
		// general path below, which reads it the same way.
		b := p.b[:end] // i < len(b) then needs no bounds check on b[i]
		i := pos
		for i < len(b) && tokenChar[b[i]] {
			i++
		}
		if i > pos && i < len(b) && b[i] == ':' {
			lineEnd, next := end, end
			if nl := strings.IndexByte(p.s[i+1:end], '\n'); nl >= 0 {
				lineEnd = i + 1 + nl
				next = lineEnd + 1
			}
			valEnd := lineEnd
			if p.b[lineEnd-1] == '\r' {
				valEnd--
			} else if lineEnd < end {
				p.warn(WarnBareLF)
			}
			if valEnd-at > p.maxLine() {
				return 0, false, p.tooLong(at)
			}
			if len(*hs) >= p.maxHeaders() && !p.keepOver(p.s[pos:i], &extra) {
				p.tooMany()
				skipping = true
				pos = next
				continue
			}
			skipping = false
			vs := i + 1
			if vs < valEnd && p.b[vs] == ' ' {
				vs++ // the one space after the colon, for trimLWS's quick case
			}
			*hs = append(*hs, Header{Name: p.s[pos:i], Value: trimLWS(p.s[vs:valEnd])})
			p.nhdr++
			pos = next
			continue
		}
		var line string
		line, pos = p.line(pos, end)
		if len(line) > p.maxLine() {
			return 0, false, p.tooLong(at)
		}
		if line == "" {
			return pos, true, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 3261 §7.3.1: a line starting with white space continues
			// the previous header; the line break and white space count
			// as one SP.
			if skipping {
				continue // the rest of a header over the limit
			}
			if len(*hs) == 0 {
				p.warn(WarnBadHeader)
				continue
			}
			p.warn(WarnFolded)
			p.fold(&(*hs)[len(*hs)-1], trimLWS(line))
			continue
		}
		c := strings.IndexByte(line, ':')
		if c < 0 {
			// RFC 3261 §7.3.1: header = name HCOLON value; keep going
			// without the line.
			p.warn(WarnBadHeader)
			continue
		}
		n := c
		for n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
			n--
		}
		name := line[:n]
		if n != c {
			// RFC 3261 §25.1 HCOLON = *( SP / HTAB ) ":" SWS allows it,
			// but it is rare enough to note.
			p.warn(WarnSpaceBeforeColon)
		}
		if name == "" {
			p.warn(WarnBadHeader)
			continue
		}
		if len(*hs) >= p.maxHeaders() && !p.keepOver(name, &extra) {
			p.tooMany()
			skipping = true
			continue
		}
		skipping = false
		*hs = append(*hs, Header{Name: name, Value: trimLWS(line[c+1:])})
		p.nhdr++
	}
	return pos, false, nil
}

// fold appends the continuation cont to h.Value in the fold buffer. The
// buffer gets len(input) capacity before its first use in a parse, which is
// enough for all joined values (joining never lengthens), so it never moves
// while strings point into it.
func (p *parser) tooLong(at int) error {
	p.sc.hit |= hitLine
	return &SyntaxError{Offset: at, Msg: fmt.Sprintf("header line longer than %d bytes", p.maxLine())}
}

// maxOverHeaders bounds the headers keepOver keeps past the limit.
const maxOverHeaders = 16

// keepOver reports whether a header past the limit is still kept: the
// ones RFC 3261 §8.1.1 makes every request carry (To, From, CSeq, Call-ID,
// Max-Forwards, Via) and those that frame the body (Content-Length,
// Content-Type), at most maxOverHeaders of them. It counts them in *extra.
func (p *parser) keepOver(name string, extra *int) bool {
	if *extra >= maxOverHeaders {
		p.tooMany()
		return false
	}
	switch CanonicalName(name) {
	case "Via", "Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type":
		p.tooMany() // the limit bit, though this one is kept
		*extra++
		return true
	}
	return false
}

// tooMany notes a header line past the limit: warned on the message and
// counted in Stats.Limits (once per message).
func (p *parser) tooMany() {
	p.sc.hit |= hitHeaders
	p.warn(WarnTooManyHeaders)
}

func (p *parser) fold(h *Header, cont string) {
	if cap(p.sc.fold) < len(p.b) {
		p.sc.fold = make([]byte, 0, len(p.b))
	}
	f := p.sc.fold
	if p.foldID != p.nhdr {
		p.foldID = p.nhdr
		p.foldStart = len(f)
		f = append(f, h.Value...)
	}
	if cont != "" {
		if len(f) > p.foldStart {
			f = append(f, ' ')
		}
		f = append(f, cont...)
	}
	p.sc.fold = f
	h.Value = str(f[p.foldStart:])
}

// Bits of parser.fields' seen set: headers that may occur once.
const onceHeaders = 1<<hCallID | 1<<hCSeq | 1<<hFrom | 1<<hTo | 1<<hContentType | 1<<hContentLength | 1<<hMaxForwards

// fields fills the Message fields read from headers. It reports whether a
// Content-Length header was present but unreadable.
func (p *parser) fields() (badCL bool) {
	m := p.m
	var seen uint32
	server := ""
	for i := range m.Headers {
		h := &m.Headers[i]
		id := headerID(h.Name)
		if id == hOther {
			continue
		}
		bit := uint32(1) << id
		if seen&bit != 0 {
			if onceHeaders&bit != 0 {
				p.warn(WarnDuplicateHeader) // RFC 3261 §7.3.1; the first counts
				continue
			}
			if id != hVia {
				continue // first Contact, User-Agent, Warning, ... counts
			}
		}
		seen |= bit
		v := h.Value
		switch id {
		case hCallID:
			m.CallID = v
		case hCSeq:
			p.cseq(v)
		case hFrom:
			m.From = NewAddrHeader(v)
		case hTo:
			m.To = NewAddrHeader(v)
		case hVia:
			for rest := v; rest != ""; {
				var item string
				item, rest = splitComma(rest)
				if item != "" {
					p.sc.via = append(p.sc.via, Via{})
					p.sc.via[len(p.sc.via)-1].parse(item)
				}
			}
		case hContact:
			item, _ := splitComma(v)
			m.Contact = NewAddrHeader(item)
		case hUserAgent:
			m.UserAgent = v
		case hServer:
			server = v
		case hReason:
			m.ReasonHeader = v
		case hWarning:
			m.Warning = v
		case hContentType:
			m.ContentType = v
		case hContentLength:
			if m.ContentLength = parseDecimal(v); m.ContentLength < 0 {
				badCL = true
			}
		case hMaxForwards:
			if m.MaxForwards = parseDecimal(v); m.MaxForwards < 0 {
				p.warn(WarnBadHeader)
			}
		}
	}
	if m.UserAgent == "" {
		m.UserAgent = server
	}
	if len(p.sc.via) > 0 {
		m.Via = p.sc.via
	}
	return badCL
}

// cseq reads "1*DIGIT LWS Method" (RFC 3261 §20.16).
func (p *parser) cseq(v string) {
	i, n := 0, uint64(0)
	for i < len(v) && isDigit(v[i]) && i < 10 {
		n = n*10 + uint64(v[i]-'0')
		i++
	}
	if i == 0 || n > 1<<32-1 || (i < len(v) && v[i] != ' ' && v[i] != '\t') {
		p.warn(WarnBadHeader)
		return
	}
	p.m.CSeq = uint32(n)
	p.m.CSeqMethod = trimLWS(v[i:])
	if p.m.CSeqMethod == "" {
		p.warn(WarnBadHeader)
	}
}

// parseDecimal reads 1 to 9 decimal digits with optional white space
// around them; -1 otherwise.
func parseDecimal(v string) int {
	v = trimLWS(v)
	if len(v) == 0 || len(v) > 9 {
		return -1
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return -1
		}
		n = n*10 + int(v[i]-'0')
	}
	return n
}

// splitComma returns the first value of a comma-separated header value
// (RFC 3261 §7.3.1) and the rest after its comma. Commas inside quoted
// strings (with backslash escapes) and angle brackets do not split.
func splitComma(s string) (item, rest string) {
	c := strings.IndexByte(s, ',')
	if c < 0 {
		return trimLWS(s), "" // the usual case: one value (SIMD scan)
	}
	if strings.IndexByte(s[:c], '"') < 0 && strings.IndexByte(s[:c], '<') < 0 {
		// Nothing before the comma can hide it (Via: a, b).
		return trimLWS(s[:c]), s[c+1:]
	}
	inQ, depth := false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQ && c == '\\':
			i++
		case c == '"':
			inQ = !inQ
		case inQ:
		case c == '<':
			depth++
		case c == '>':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			return trimLWS(s[:i]), s[i+1:]
		}
	}
	return trimLWS(s), ""
}

// parse reads one via-parm (RFC 3261 §20.42): sent-protocol, sent-by,
// then parameters. SLASH may have white space around it.
//
// It sets every field of via, in place: a Via is five strings, and
// returning one by value costs a copy per Via.
func (via *Via) parse(v string) {
	*via = Via{}
	// sent-protocol = protocol-name SLASH protocol-version SLASH transport:
	// find the second slash with a byte loop (it is a few bytes in).
	slash, i := 0, 0
	for ; i < len(v) && slash < 2; i++ {
		if v[i] == '/' {
			slash++
		}
	}
	if slash < 2 {
		via.SentBy = v
		if j := strings.IndexByte(v, ';'); j >= 0 {
			via.SentBy = v[:j]
		}
		via.SentBy = trimLWS(via.SentBy)
		return
	}
	rest := trimLWS(v[i:])
	i = 0
	for i < len(rest) && rest[i] != ' ' && rest[i] != '\t' && rest[i] != ';' {
		i++
	}
	via.Transport = rest[:i]
	sentBy, params := rest[i:], ""
	if j := strings.IndexByte(sentBy, ';'); j >= 0 {
		sentBy, params = sentBy[:j], sentBy[j+1:]
	}
	via.SentBy = trimLWS(sentBy)
	for params != "" {
		var name, val string
		name, val, params = nextParam(params)
		switch len(name) {
		case 6:
			if name == "branch" || strings.EqualFold(name, "branch") {
				via.Branch = val
			}
		case 8:
			if name == "received" || strings.EqualFold(name, "received") {
				via.Received = val
			}
		case 5:
			if name == "rport" || strings.EqualFold(name, "rport") {
				via.RPort = val
			}
		}
	}
}

// nextParam splits the first ";"-separated parameter off s (RFC 3261
// §25.1 generic-param = token [ EQUAL gen-value ]) and returns its name and
// value, both without surrounding white space, and what follows its ";".
// It does not look inside quotes, as the header-level splitters do not.
func nextParam(s string) (name, val, rest string) {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s, rest = s[:i], s[i+1:]
	}
	if eq := strings.IndexByte(s, '='); eq >= 0 {
		return trimLWS(s[:eq]), trimLWS(s[eq+1:]), rest
	}
	return trimLWS(s), "", rest
}

// parseNameAddr reads a From, To or Contact value (RFC 3261 §20.10,
// §20.20, §20.39): name-addr ([display-name] <URI>) or addr-spec, then
// header parameters. Without angle brackets, parameters after the URI
// belong to the header, not the URI (§20.10).
func parseNameAddr(v string) (na NameAddr) {
	v = trimLWS(v)
	display, quoted, uri, params := splitNameAddr(v)
	if !quoted {
		display = trimLWS(display)
	}
	na.Display = display
	na.URI = trimLWS(uri)
	na.User, na.Host = splitURI(na.URI)
	na.Tag = tagParam(params)
	return na
}

// NewAddrHeader is what Parse keeps of a From, To or Contact value v (as
// `"Alice" <sip:alice@a.example>;tag=1`): the value and its tag, read as
// parseNameAddr reads them, without splitting the URI. Code that builds
// messages by hand (tests) makes their addresses with it.
func NewAddrHeader(v string) AddrHeader {
	v = trimLWS(v)
	_, _, _, params := splitNameAddr(v)
	return AddrHeader{Value: v, Tag: tagParam(params)}
}

// splitNameAddr splits a value without surrounding white space into its
// display name (unquoted, else as written before the "<"), the URI (as
// written between the angle brackets, or before the first ";") and the
// header parameters after it.
func splitNameAddr(v string) (display string, quoted bool, uri, params string) {
	if len(v) > 0 && v[0] == '"' {
		if e := quotedEnd(v); e > 0 {
			display, v, quoted = v[1:e], v[e+1:], true
		}
	}
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		if !quoted {
			display = v[:lt]
		}
		uri = v[lt+1:]
		if gt := strings.IndexByte(uri, '>'); gt >= 0 {
			uri, params = uri[:gt], uri[gt+1:]
		}
		return display, quoted, uri, params
	}
	uri = v
	if semi := strings.IndexByte(v, ';'); semi >= 0 {
		uri, params = v[:semi], v[semi+1:]
	}
	return display, quoted, uri, params
}

// tagParam returns the value of the first tag parameter in params.
func tagParam(params string) string {
	// The usual ">;tag=x" first, without nextParam's general reading.
	if len(params) >= 5 && params[0] == ';' && params[4] == '=' && isTagName(params[1:4]) {
		val := params[5:]
		if i := strings.IndexByte(val, ';'); i >= 0 {
			val = val[:i]
		}
		return trimLWS(val)
	}
	for params != "" {
		if params[0] == ';' {
			params = params[1:] // an empty segment, as ">;tag=" starts with
			continue
		}
		var name, val string
		name, val, params = nextParam(params)
		if isTagName(name) {
			return val
		}
	}
	return ""
}

// isTagName reports whether a parameter name is "tag", in any case.
func isTagName(s string) bool {
	return len(s) == 3 && s[0]|0x20 == 't' && s[1]|0x20 == 'a' && s[2]|0x20 == 'g'
}

// quotedEnd returns the index of the quote closing the quoted string that
// s starts with, honouring backslash escapes, or -1.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// splitURI returns the user and host[:port] of a SIP, SIPS or other URI
// (RFC 3261 §19.1.1). For tel: URIs (RFC 3966) the number is the user.
// One byte loop finds the scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT /
// "+" / "-" ), and no dot, so that a bare host:port is not taken for one),
// then IndexByte the end of the URI proper ("?" starts headers) and "@".
func splitURI(u string) (user, host string) {
	rest := u
	i := 0
	for i < len(u) {
		c := u[i] | 0x20
		if !(c >= 'a' && c <= 'z' || i > 0 && (isDigit(u[i]) || u[i] == '+' || u[i] == '-')) {
			break
		}
		i++
	}
	if i > 0 && i < len(u) && u[i] == ':' {
		if i == 3 && u[0]|0x20 == 't' && u[1]|0x20 == 'e' && u[2]|0x20 == 'l' {
			user = u[4:]
			if j := strings.IndexByte(user, ';'); j >= 0 {
				user = user[:j]
			}
			return user, ""
		}
		rest = u[i+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	at := strings.IndexByte(rest, '@')
	if at >= 0 {
		user = rest[:at]
		if j := strings.IndexByte(user, ':'); j >= 0 {
			user = user[:j]
		}
		rest = rest[at+1:]
	}
	host = rest
	if j := strings.IndexByte(rest, ';'); j >= 0 {
		host = rest[:j]
	}
	return user, host
}

// trimLWS trims spaces, tabs and CR/LF from both ends of s.
func trimLWS(s string) string {
	if len(s) > 0 && s[0] > ' ' && s[len(s)-1] > ' ' {
		return s // the usual case: nothing to trim
	}
	for len(s) > 0 && isLWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isLWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// lwsMask has the bits of SP, HTAB, CR and LF.
const lwsMask = 1<<' ' | 1<<'\t' | 1<<'\r' | 1<<'\n'

// isLWS reports whether c is SP, HTAB, CR or LF: one comparison and one
// bit test, no branches per character class.
func isLWS(c byte) bool { return c <= ' ' && lwsMask&(uint64(1)<<c) != 0 }

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
