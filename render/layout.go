package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// LayoutOptions tune how Layout turns messages into a ladder. The zero value
// gives one column per IP:port, no aliases and times in UTC.
type LayoutOptions struct {
	// MergePorts gives one column per IP address instead of per IP:port.
	MergePorts bool
	// Aliases names endpoints; see Aliases.
	Aliases Aliases
	// HideDuplicates leaves out messages that are a second copy of one
	// IP datagram (decode.Message.Duplicate).
	HideDuplicates bool
	// Zone is the time zone writers show times in (default UTC, so that
	// ladders pasted into tickets read the same everywhere).
	Zone *time.Location
	// Streams are the RTP streams of the calls (others are ignored): each
	// becomes a Band below the messages (band.go).
	Streams []correlate.Stream
	// Timelines, when set, give the HTML page a loss/jitter chart per
	// stream (correlate.StreamTimeline.Series).
	Timelines map[correlate.StreamKey][]correlate.TimelinePoint
}

// Ladder is a laid-out call flow: everything a writer needs to draw it. It
// is a plain value computed by Layout; writers only read it.
type Ladder struct {
	Columns []Column
	Arrows  []Arrow
	// Calls lists the Call-IDs in the ladder; Arrow.Call indexes it and is
	// the colour of the arrow.
	Calls []Call
	// Messages are the messages in arrow order; Arrow.Msg indexes it.
	Messages []*correlate.Message
	// Zone is the time zone to show times in (never nil).
	Zone *time.Location
	// InvalidUTF8 counts the messages whose start line, headers or body
	// held bytes that are not UTF-8 (damaged captures, or a peer sending
	// Latin-1 against RFC 3261 §7.3.1). Every writer draws such bytes as
	// U+FFFD (or "?" in ASCII output), so callers warn once with this count.
	InvalidUTF8 int
	// Media are the calls' RTP streams as bands, in the order given.
	Media []Band
}

// Call is one Call-ID of a ladder with its dialog summary when known.
type Call struct {
	CallID string
	Dialog *correlate.Dialog // nil when only messages were given
}

// Column is one endpoint (a lifeline) of a ladder.
type Column struct {
	// Key is the endpoint as IP:port ([v6]:port), or the bare IP when ports
	// are merged.
	Key string
	// Name is what to print: the alias when one matched, else Key.
	Name string
	// Addr is the IP address of the endpoint.
	Addr netip.Addr
	// Ports are the ports seen on this column, in order of appearance
	// (one unless ports are merged).
	Ports []uint16
}

// Arrow is one message drawn from one column to another.
type Arrow struct {
	From, To int    // column indexes; equal when a host sent to itself
	Label    string // method or "status reason", plus "(SDP codecs)"; no retransmission mark
	Time     time.Time
	// Delta is the time since the previous arrow (0 for the first).
	Delta time.Duration
	// Call indexes Ladder.Calls: the colour of the arrow.
	Call int
	// Retrans marks a retransmission (same transaction, direction and
	// start line seen again).
	Retrans bool
	// Msg indexes Ladder.Messages.
	Msg int
	// Request is true for requests, false for responses.
	Request bool
	Method  string // request method, or the CSeq method of a response
	Status  int    // 0 on requests
	SDP     bool   // the message carried SDP
	// ICMP marks a message an ICMP error (or a similar event) came back
	// for: it did not reach its destination.
	ICMP bool
	// Duplicate marks a second copy of one IP datagram (a capture on two
	// interfaces, a mirror port): not a retransmission, labelled
	// "(duplicate frame)" so that no writer draws it as a new message.
	Duplicate bool
}

// Layout lays out the messages of one or more dialogs (linked legs) as a
// ladder. msgs may be in any order: arrows come in capture order (time,
// then Seq, so equal timestamps keep the order the packets were read in).
// dialogs may be nil or name only some of the Call-IDs. Layout never fails:
// messages without addresses get a column named "?".
func Layout(dialogs []*correlate.Dialog, msgs []*correlate.Message, opts LayoutOptions) *Ladder {
	l := &Ladder{Zone: opts.Zone}
	if l.Zone == nil {
		l.Zone = time.UTC
	}
	callIdx := map[string]int{}
	addCall := func(id string, d *correlate.Dialog) int {
		if i, ok := callIdx[id]; ok {
			if l.Calls[i].Dialog == nil {
				l.Calls[i].Dialog = d
			}
			return i
		}
		callIdx[id] = len(l.Calls)
		l.Calls = append(l.Calls, Call{CallID: id, Dialog: d})
		return len(l.Calls) - 1
	}
	for _, d := range dialogs {
		if d != nil {
			addCall(d.CallID, d)
		}
	}

	ms := make([]*correlate.Message, 0, len(msgs))
	for _, m := range msgs {
		if m != nil && m.Message != nil {
			ms = append(ms, m)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.Seq < b.Seq
	})
	l.Messages = ms

	colIdx := map[string]int{}
	// An alias names a host, so two ports of one address under the same
	// name are one column: otherwise the ladder shows two identical
	// headings and the reader cannot tell them apart.
	byName := map[string]int{}
	column := func(ap netip.AddrPort) int {
		key := endpointKey(ap, opts.MergePorts)
		i, ok := colIdx[key]
		if !ok {
			name, aliased := opts.Aliases.name(ap, key, opts.MergePorts)
			nk := ap.Addr().Unmap().String() + " " + name
			if j, same := byName[nk]; same && aliased {
				i = j
				l.Columns[i].Key += "," + key
			} else {
				i = len(l.Columns)
				l.Columns = append(l.Columns, Column{Key: key, Name: name, Addr: ap.Addr()})
				if aliased {
					byName[nk] = i
				}
			}
			colIdx[key] = i
		}
		c := &l.Columns[i]
		if opts.MergePorts && c.Name == c.Key && ap.IsValid() {
			// With ports merged an "ip:port" alias line still names its
			// host: the first port with a name gives the column its name.
			if n, ok := opts.Aliases[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()]; ok {
				c.Name = n
			}
		}
		if ap.IsValid() {
			p := ap.Port()
			seen := false
			for _, q := range c.Ports {
				if q == p {
					seen = true
					break
				}
			}
			if !seen {
				c.Ports = append(c.Ports, p)
			}
		}
		return i
	}

	var prev time.Time
	for i, m := range ms {
		if m.Duplicate && opts.HideDuplicates {
			continue
		}
		id := m.CallID
		if id == "" {
			id = m.Message.CallID
		}
		a := Arrow{
			From:    column(m.Src),
			To:      column(m.Dst),
			Label:   Label(m.Message),
			Time:    m.Time,
			Call:    addCall(id, nil),
			Retrans: m.Retransmission,
			Msg:     i,
			Request: m.Request || (m.Status == 0 && m.Method != ""),
			Method:  m.Method,
			Status:  m.Status,
			SDP:     m.SDP != nil,
			ICMP:    len(m.Events) > 0,

			Duplicate: m.Duplicate,
		}
		if a.Duplicate {
			a.Label += " (duplicate frame)"
		}
		if a.Method == "" {
			a.Method = m.CSeqMethod
		}
		if i > 0 {
			a.Delta = m.Time.Sub(prev)
		}
		if !validMessage(m.Message) {
			l.InvalidUTF8++
		}
		prev = m.Time
		l.Arrows = append(l.Arrows, a)
	}
	layoutBands(l, opts)
	return l
}

// endpointKey is the column key of an address.
func endpointKey(ap netip.AddrPort, merge bool) string {
	if !ap.IsValid() {
		return "?"
	}
	if merge {
		return ap.Addr().Unmap().String()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// Label is the text of a message's arrow: the method of a request or
// "status reason" of a response, followed by "(SDP codecs)" when the
// message carries a session description. Codec names come from a=rtpmap,
// else from the static payload types of RFC 3551 §6; telephone-event and
// comfort noise are left out, a non-sendrecv direction (hold) is added, and
// a declined stream (port 0) is skipped.
func Label(m *decode.Message) string {
	var b strings.Builder
	switch {
	case m.Status != 0:
		b.WriteString(strconv.Itoa(m.Status))
		if r := clean(m.Reason); r != "" {
			b.WriteByte(' ')
			b.WriteString(r)
		}
		// Say which request a response answers when it is not the
		// INVITE: after a CANCEL two "200 OK"s otherwise look alike
		// (RFC 3261 §9.2: the 200 to CANCEL and the 487 to INVITE).
		if cm := clean(m.CSeqMethod); cm != "" && !strings.EqualFold(cm, "INVITE") {
			b.WriteString(" (" + cm + ")")
		}
	case m.Method != "":
		b.WriteString(clean(m.Method))
	default:
		b.WriteString("?")
	}
	if m.SDP != nil {
		b.WriteString(" (SDP")
		if s := sdpSummary(m.SDP); s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// sdpSummary lists the codecs of the active streams and a direction that is
// not sendrecv, e.g. "PCMU,PCMA sendonly".
func sdpSummary(s *decode.SDP) string {
	var names []string
	seen := map[string]bool{}
	dir := ""
	for _, md := range s.Media {
		if md.Port == 0 {
			continue
		}
		if md.Direction != "" && md.Direction != "sendrecv" && dir == "" {
			dir = md.Direction
		}
		for _, f := range md.Formats {
			n := codecName(md, f)
			ln := strings.ToLower(n)
			if n == "" || ln == "telephone-event" || ln == "cn" || seen[ln] {
				continue
			}
			seen[ln] = true
			names = append(names, n)
		}
	}
	if dir == "" && s.Direction != "" && s.Direction != "sendrecv" {
		dir = s.Direction
	}
	out := strings.Join(names, ",")
	if dir != "" {
		if out != "" {
			out += " "
		}
		out += dir
	}
	return out
}

// staticPT names the static RTP payload types of RFC 3551 §6 (Table 4 and 5).
var staticPT = map[int]string{
	0: "PCMU", 3: "GSM", 4: "G723", 5: "DVI4", 6: "DVI4", 7: "LPC", 8: "PCMA",
	9: "G722", 10: "L16", 11: "L16", 12: "QCELP", 13: "CN", 14: "MPA", 15: "G728",
	16: "DVI4", 17: "DVI4", 18: "G729", 25: "CelB", 26: "JPEG", 28: "nv",
	31: "H261", 32: "MPV", 33: "MP2T", 34: "H263",
}

// codecName names one format of a media section.
func codecName(md decode.Media, f string) string {
	pt, err := strconv.Atoi(f)
	if err != nil || !strings.Contains(strings.ToUpper(md.Proto), "RTP") {
		return clean(f) // e.g. t38 on udptl
	}
	for _, r := range md.RTPMap {
		if r.Payload == pt && r.Encoding != "" {
			e := clean(r.Encoding)
			// Static names in upper case as RFC 3551 writes them
			// ("pcmu/8000" in the wild).
			if s, ok := staticPT[pt]; ok && strings.EqualFold(s, e) {
				return s
			}
			return e
		}
	}
	if s, ok := staticPT[pt]; ok {
		return s
	}
	return f
}

// clean makes a string safe to draw on one line: bytes that are not UTF-8
// become U+FFFD (the same in every writer, counted in
// Ladder.InvalidUTF8), white space (tab, CR, LF, ...) becomes spaces, runs
// of spaces collapse, the ends are trimmed, and other control characters
// (ESC, BEL, backspace, C1) are shown escaped (see Sanitize), so that a
// crafted header cannot drive the terminal.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return Sanitize(strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r >= '\t' && r <= '\r'
	}), " "))
}

// Aliases maps endpoints to names: keys are "ip:port" ("[v6]:port") or a
// bare "ip" that names every port of that address. A port-specific entry
// wins over a bare IP.
type Aliases map[string]string

// name returns the alias of an endpoint and true, else its key and false.
func (a Aliases) name(ap netip.AddrPort, key string, merge bool) (string, bool) {
	if len(a) == 0 || !ap.IsValid() {
		return key, false
	}
	addr := ap.Addr().Unmap()
	if !merge {
		if n, ok := a[netip.AddrPortFrom(addr, ap.Port()).String()]; ok {
			return n, true
		}
	}
	if n, ok := a[addr.String()]; ok {
		return n, true
	}
	return key, false
}

// validMessage reports whether the text of a message is UTF-8: the fields
// a ladder shows and the header section of the raw bytes (a body may be
// binary, e.g. ISUP, and raw dumps show its bytes as '.' anyway).
func validMessage(m *decode.Message) bool {
	for _, s := range []string{m.Method, m.Reason, m.CallID, m.CSeqMethod, m.From.Value, m.To.Value} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	head := m.Raw
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i]
	}
	return utf8.Valid(head)
}

// ParseAliases reads an alias file: one `ip[:port] name` per line (IPv6
// with a port as [addr]:port), blank lines and # comments ignored. The name
// is the rest of the line. Addresses are normalised so that any spelling of
// the same address matches.
func ParseAliases(r io.Reader) (Aliases, error) {
	a := Aliases{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want \"ip[:port] name\", got %q", n, line)
		}
		key, err := aliasKey(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		a[key] = strings.Join(f[1:], " ")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

// aliasKey normalises an alias key.
func aliasKey(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
	}
	if ad, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return ad.Unmap().String(), nil
	}
	return "", fmt.Errorf("%q is not an ip or ip:port", s)
}

// LoadAliases reads an alias file (see ParseAliases).
func LoadAliases(path string) (Aliases, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := ParseAliases(f)
	if err != nil {
		return nil, fmt.Errorf("alias file %s: %w", path, err)
	}
	return a, nil
}
