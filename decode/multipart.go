package decode

import "strings"

// maxParts bounds the parts read from one multipart body.
const maxParts = 32

// body reads the body at offset pos by its Content-Type: an SDP (RFC 3264
// offer/answer, RFC 8866), or the parts of a multipart body (RFC 2046
// §5.1, e.g. SIP-I's SDP + ISUP, RFC 3204) and the first SDP among them.
func (p *parser) body(pos int) {
	m := p.m
	if len(m.Body) == 0 || m.ContentType == "" {
		return
	}
	mt := mediaType(m.ContentType)
	switch {
	case strings.EqualFold(mt, "application/sdp"):
		p.sdp(m.Body)
	case hasPrefixFold(mt, "multipart/"):
		p.multipart(pos)
	}
}

// mediaType returns the type/subtype of a Content-Type value, without
// parameters.
func mediaType(ct string) string {
	t, _ := cutByte(ct, ';')
	return trimLWS(t)
}

// contentParam returns the value of parameter name in a Content-Type value
// (RFC 2045 §5.1), unquoted; "" when absent.
func contentParam(ct, name string) string {
	_, params, _ := strings.Cut(ct, ";")
	for params != "" {
		var prm string
		prm, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(prm, "=")
		if strings.EqualFold(trimLWS(k), name) {
			v = trimLWS(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v
		}
	}
	return ""
}

// multipart splits the body at offset pos into m.Parts. RFC 2046 §5.1.1:
// each part follows a delimiter line "--boundary" that starts a line, the
// line break before a delimiter belongs to it, and "--boundary--" closes
// the body. Bare LF line breaks are accepted.
func (p *parser) multipart(pos int) {
	m := p.m
	bnd := contentParam(m.ContentType, "boundary")
	body := str(m.Body)
	if bnd == "" {
		p.warn(WarnBadMultipart)
		return
	}
	_, after, closing, ok := findDelim(body, bnd, 0)
	if !ok {
		p.warn(WarnBadMultipart)
		return
	}
	for !closing {
		if len(p.sc.parts) >= maxParts {
			p.warn(WarnBadMultipart)
			break
		}
		var next int
		next, nafter, nclosing, ok := findDelim(body, bnd, after)
		if !ok {
			// No close delimiter: the last part runs to the end.
			p.warn(WarnBadMultipart)
			next, nafter, nclosing = len(body), len(body), true
		}
		end := next
		if end > after && body[end-1] == '\n' {
			end--
			if end > after && body[end-1] == '\r' {
				end--
			}
		}
		if end < after {
			end = after
		}
		p.part(pos+after, pos+end)
		after, closing = nafter, nclosing
	}
	if len(p.sc.parts) > 0 {
		m.Parts = p.sc.parts
	}
}

// findDelim finds the first delimiter line "--bnd" at or after from that
// starts a line of s. It returns where the delimiter starts, where the line
// after it starts, and whether it is the close delimiter "--bnd--".
func findDelim(s, bnd string, from int) (start, after int, closing, ok bool) {
	for i := from; i < len(s); {
		k := strings.Index(s[i:], bnd)
		if k < 0 {
			return 0, 0, false, false
		}
		k += i
		if k-2 >= from && s[k-2] == '-' && s[k-1] == '-' && (k == 2 || s[k-3] == '\n') {
			e := k + len(bnd)
			closing = strings.HasPrefix(s[e:], "--")
			if nl := strings.IndexByte(s[e:], '\n'); nl >= 0 {
				after = e + nl + 1
			} else {
				after = len(s)
			}
			return k - 2, after, closing, true
		}
		i = k + 1
	}
	return 0, 0, false, false
}

// part reads one body part held in p.b[from:to]: headers, an empty line,
// the part's body (RFC 2046 §5.1.1). A part starting with an empty line
// has no headers.
func (p *parser) part(from, to int) {
	sc := p.sc
	if i := len(sc.parts); i < cap(sc.parts) {
		sc.parts = sc.parts[:i+1]
		sc.parts[i] = Part{Headers: sc.parts[i].Headers[:0]}
	} else {
		sc.parts = append(sc.parts, Part{})
	}
	pt := &sc.parts[len(sc.parts)-1]
	pos, ended, err := p.headers(from, to, &pt.Headers)
	if err != nil || !ended {
		p.warn(WarnBadMultipart)
		if err != nil {
			pt.Headers = pt.Headers[:0]
			pos = from
		}
	}
	for _, h := range pt.Headers {
		if headerID(h.Name) == hContentType {
			pt.ContentType = h.Value
			break
		}
	}
	if pos < to {
		pt.Body = p.b[pos:to:to]
	}
	if p.m.SDP == nil && len(pt.Body) > 0 && strings.EqualFold(mediaType(pt.ContentType), "application/sdp") {
		p.sdp(pt.Body)
	}
}
