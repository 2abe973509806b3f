package decode

import "strings"

// Bounds on what one SDP may fill in (the storage is reused between
// messages, so it must not grow without limit).
const (
	maxMedia   = 64
	maxFormats = 64
	maxRTPMap  = 64
	maxCrypto  = 16
)

// sdp parses body as a session description (RFC 8866, formerly RFC 4566)
// into the message's reused SDP storage and sets m.SDP.
//
// Why not pion/sdp: it rejects what real peers send (unknown lines, lines
// out of order, bare LF) and allocates for every field, while this runs
// per message in the decoder's hot path. This reader takes each "x=value"
// line as it comes, keeps the fields sipscope uses, aliases the body for
// every string and reuses the Media storage; anything odd sets WarnBadSDP
// instead of failing. sd.Raw keeps the whole body for anything else.
func (p *parser) sdp(body []byte) {
	sc := p.sc
	sd := &sc.sdp
	*sd = SDP{Raw: body}
	p.m.SDP = sd
	var md *Media
	bad := false
	first := true
	for s := str(body); s != ""; {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if line == "" {
			continue
		}
		// RFC 8866 §5: <type>=<value>, one letter, no space around '='.
		if len(line) < 2 || line[1] != '=' {
			bad = true
			continue
		}
		if first && line[0] != 'v' {
			bad = true // RFC 8866 §5: the description starts with v=
		}
		first = false
		v := line[2:]
		switch line[0] {
		case 'o':
			if md == nil {
				sd.Origin = v
			}
		case 's':
			if md == nil {
				sd.Session = v
			}
		case 'c':
			addr, ok := connAddr(v)
			bad = bad || !ok
			if md == nil {
				sd.Connection = addr
			} else {
				md.Connection = addr
			}
		case 'm':
			if len(sc.media) >= p.maxMedia() {
				bad = true
				p.sc.hit |= hitMedia
				s = "" // stop: later attributes would land on the wrong media
				md = nil
				continue
			}
			md = sc.newMedia()
			bad = !md.parseM(v) || bad
		case 'a':
			bad = !sd.attr(md, v) || bad
		}
	}
	// RFC 8866 §5.7, §6.7: a session-level c= and direction attribute
	// apply to every media section that has none of its own.
	for i := range sc.media {
		md := &sc.media[i]
		if md.Connection == "" {
			md.Connection = sd.Connection
		}
		if md.Direction == "" {
			md.Direction = sd.Direction
		}
	}
	if len(sc.media) > 0 {
		sd.Media = sc.media
	}
	if bad {
		p.warn(WarnBadSDP)
	}
}

// newMedia appends an empty Media to the reused storage, keeping the
// capacity of its slices, and returns it.
func (sc *scratch) newMedia() *Media {
	if i := len(sc.media); i < cap(sc.media) {
		sc.media = sc.media[:i+1]
		old := &sc.media[i]
		*old = Media{Formats: old.Formats[:0], RTPMap: old.RTPMap[:0], Crypto: old.Crypto[:0]}
	} else {
		sc.media = append(sc.media, Media{})
	}
	return &sc.media[len(sc.media)-1]
}

// parseM reads "m=<media> <port>[/<number of ports>] <proto> <fmt> ..."
// (RFC 8866 §5.14).
func (md *Media) parseM(v string) bool {
	var port string
	md.Type, v = field(v)
	port, v = field(v)
	md.Proto, v = field(v)
	port, _ = cutByte(port, '/')
	md.Port = parseDecimal(port)
	ok := md.Type != "" && md.Proto != "" && md.Port >= 0 && md.Port <= 65535
	if md.Port < 0 {
		md.Port = 0
	}
	for v != "" {
		var f string
		if f, v = field(v); f == "" {
			break
		}
		if len(md.Formats) >= maxFormats {
			return false
		}
		md.Formats = append(md.Formats, f)
	}
	return ok && len(md.Formats) > 0
}

// attr reads one a= line at session level (md nil) or media level. It
// reports false when the attribute is malformed.
func (sd *SDP) attr(md *Media, v string) bool {
	name, val := cutByte(v, ':')
	switch name {
	case "sendrecv", "sendonly", "recvonly", "inactive": // RFC 8866 §6.7
		if md == nil {
			sd.Direction = name
		} else {
			md.Direction = name
		}
	case "rtpmap": // RFC 8866 §6.6: <payload type> <encoding name>/<clock rate>[/<params>]
		if md == nil || len(md.RTPMap) >= maxRTPMap {
			return false
		}
		pt, rest := field(val)
		enc, rest := cutByte(trimLWS(rest), '/')
		clock, params := cutByte(rest, '/')
		r := RTPMap{Payload: parseDecimal(pt), Encoding: enc, Clock: parseDecimal(clock), Params: params}
		ok := r.Payload >= 0 && r.Payload <= 127 && enc != "" && r.Clock > 0
		r.Payload, r.Clock = max(r.Payload, 0), max(r.Clock, 0)
		md.RTPMap = append(md.RTPMap, r)
		return ok
	case "rtcp": // RFC 3605
		if md == nil {
			return false
		}
		md.RTCP = val
	case "crypto": // RFC 4568
		if md == nil || len(md.Crypto) >= maxCrypto {
			return false
		}
		md.Crypto = append(md.Crypto, val)
	}
	return true
}

// connAddr returns the address of "c=<nettype> <addrtype> <address>"
// (RFC 8866 §5.7) without a /ttl or /count suffix.
func connAddr(v string) (string, bool) {
	nt, v := field(v)
	at, v := field(v)
	addr, _ := field(v)
	addr, _ = cutByte(addr, '/')
	return addr, nt != "" && at != "" && addr != ""
}

// cutByte splits s around the first c, like strings.Cut with a one-byte
// separator; after is "" when there is no c. It is a plain loop: the
// fields it cuts (attribute names, encodings, addresses) are a few bytes
// long or have c near their start, where a call to IndexByte costs more.
func cutByte(s string, c byte) (before, after string) {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// field returns the first space-separated field of s and the rest.
func field(s string) (f, rest string) {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' {
		j++
	}
	return s[i:j], s[j:]
}
