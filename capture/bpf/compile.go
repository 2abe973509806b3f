// Package bpf compiles the tcpdump filter syntax sipscope's capture -f flag
// takes into a classic BPF program the kernel runs on every packet.
//
// It covers the subset VoIP engineers use (pcap-filter(7)): host, src/dst
// host, net CIDR, port, src/dst port, portrange, tcp/udp/sctp/icmp/icmp6,
// ip/ip6/arp, vlan [ID], and/or/not (&&, ||, !) and parentheses. A bare
// value after a primitive reuses its qualifiers, as in libpcap ("port 5060
// or 5061"). The programs accept the same packets as libpcap's (checked
// against tcpdump -ddd in the tests), including its handling of IPv4
// fragments: a non-first fragment has no ports, so port tests reject it.
//
//	prog, err := bpf.Compile("udp port 5060 or vlan", 1, 262144)
//
// Compile is a pure function, safe for concurrent use.
package bpf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	xbpf "golang.org/x/net/bpf"
)

// Link types (pcap LINKTYPE_ values) Compile knows the headers of.
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkRawOld   = 12 // DLT_RAW on OpenBSD and old Linux captures
	linkSLL      = 113
	linkSLL2     = 276
	linkIPv4     = 228 // raw IPv4 only
	linkIPv6     = 229 // raw IPv6 only
)

// Compile compiles expr for frames of the pcap link type linkType and
// returns a program that accepts a packet by returning snaplen, and
// rejects it by returning 0. An empty expression accepts everything.
// Errors name the expression and the 1-based byte position of the problem.
func Compile(expr string, linkType int, snaplen int) ([]xbpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = 262144
	}
	switch linkType {
	case linkNull, linkEthernet, linkRaw, linkRawOld, linkSLL, linkSLL2, linkIPv4, linkIPv6:
	default:
		return nil, fmt.Errorf("filter %q: link type %d not supported", expr, linkType)
	}
	p := &parser{expr: expr, link: linkType}
	if err := p.lex(); err != nil {
		return nil, err
	}
	var root node = always(true)
	if len(p.toks) > 0 {
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.i < len(p.toks) {
			return nil, p.errAt(p.toks[p.i], "unexpected %q", p.toks[p.i].s)
		}
		root = n
	}
	return assemble(expr, root, uint32(snaplen))
}

// The filter as a boolean tree over single-load comparisons.
type node interface{}

type (
	and    struct{ a, b node }
	or     struct{ a, b node }
	not    struct{ a node }
	always bool
	// atom loads size bytes at off (after the IPv4 header when ind: libpcap's
	// ldxb 4*([nl]&0xf); ld [x+off]), masks with mask when non-zero, and
	// compares with val.
	atom struct {
		size int
		off  uint32
		ind  bool
		nl   uint32 // network layer offset, for ind
		mask uint32
		cond xbpf.JumpTest
		val  uint32
	}
)

func andN(ns ...node) node {
	r := ns[0]
	for _, n := range ns[1:] {
		r = and{r, n}
	}
	return r
}

func orN(ns ...node) node {
	r := ns[0]
	for _, n := range ns[1:] {
		r = or{r, n}
	}
	return r
}

type token struct {
	s   string
	pos int // 1-based
}

type parser struct {
	expr  string
	link  int
	toks  []token
	i     int
	shift uint32 // bytes of VLAN tags seen so far (libpcap: every later test moves)
	last  *quals // qualifiers of the previous primitive, for bare values
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return fmt.Errorf("filter %q: position %d: %s", p.expr, t.pos, fmt.Sprintf(format, args...))
}

func (p *parser) lex() error {
	s := p.expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '!':
			p.toks = append(p.toks, token{s[i : i+1], i + 1})
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||"):
			p.toks = append(p.toks, token{s[i : i+2], i + 1})
			i += 2
		case isWord(c):
			j := i
			for j < len(s) && isWord(s[j]) {
				j++
			}
			p.toks = append(p.toks, token{s[i:j], i + 1})
			i = j
		default:
			return fmt.Errorf("filter %q: position %d: unexpected character %q", p.expr, i+1, c)
		}
	}
	return nil
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_'
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) end() token {
	return token{"", len(p.expr) + 1}
}

func (p *parser) parseOr() (node, error) {
	n, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || (t.s != "or" && t.s != "||") {
			return n, nil
		}
		p.i++
		m, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		n = or{n, m}
	}
}

func (p *parser) parseAnd() (node, error) {
	n, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || (t.s != "and" && t.s != "&&") {
			return n, nil
		}
		p.i++
		m, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		n = and{n, m}
	}
}

func (p *parser) parseUnary() (node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.errAt(p.end(), "expression ends early")
	}
	switch t.s {
	case "not", "!":
		p.i++
		n, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return not{n}, nil
	case "(":
		p.i++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok || c.s != ")" {
			if !ok {
				c = p.end()
			}
			return nil, p.errAt(c, "missing ) for ( at position %d", t.pos)
		}
		p.i++
		return n, nil
	case ")", "and", "or", "&&", "||":
		return nil, p.errAt(t, "unexpected %q", t.s)
	}
	return p.primitive()
}

// quals are a primitive's qualifiers (pcap-filter(7): proto, dir, type).
type quals struct {
	proto string // "", ip, ip6, tcp, udp, sctp
	dir   string // "", src, dst
	typ   string // host, net, port, portrange
}

func (p *parser) primitive() (node, error) {
	t := p.toks[p.i]
	var q quals
	switch t.s {
	case "vlan":
		p.i++
		return p.vlan(t)
	case "ip", "ip6", "tcp", "udp", "sctp", "icmp", "icmp6", "arp":
		q.proto = t.s
		p.i++
	}
	if n, ok := p.peek(); ok && (n.s == "src" || n.s == "dst") {
		q.dir = n.s
		p.i++
	}
	if n, ok := p.peek(); ok {
		switch n.s {
		case "host", "net", "port", "portrange":
			q.typ = n.s
			p.i++
		}
	}
	if q.typ == "" {
		if q.dir != "" {
			n, ok := p.peek()
			if !ok {
				n = p.end()
			}
			return nil, p.errAt(n, "%s needs host, net, port or portrange", q.dir)
		}
		if q.proto != "" {
			return p.protoOnly(q.proto), nil
		}
		// A bare value: libpcap reuses the previous primitive's qualifiers.
		if p.last == nil {
			return nil, p.errAt(t, "unknown word %q", t.s)
		}
		q = *p.last
	}
	v, ok := p.peek()
	if !ok {
		return nil, p.errAt(p.end(), "%s needs a value", q.typ)
	}
	if !isValue(v.s) {
		return nil, p.errAt(v, "%s needs a value, not %q", q.typ, v.s)
	}
	p.i++
	p.last = &q
	switch q.typ {
	case "host", "net":
		return p.hostNet(q, v)
	default:
		return p.port(q, v)
	}
}

func isValue(s string) bool {
	switch s {
	case "and", "or", "not", "host", "net", "port", "portrange", "src", "dst", "vlan",
		"ip", "ip6", "tcp", "udp", "sctp", "icmp", "icmp6", "arp":
		return false
	}
	return true
}

// nl is the offset of the network layer header.
func (p *parser) nl() uint32 {
	switch p.link {
	case linkEthernet:
		return 14 + p.shift
	case linkSLL:
		return 16
	case linkSLL2:
		return 20
	case linkNull:
		return 4
	}
	return 0
}

// ethertype tests the link layer's protocol field.
func (p *parser) ethertype(et uint32) node {
	switch p.link {
	case linkEthernet:
		return atom{size: 2, off: 12 + p.shift, cond: xbpf.JumpEqual, val: et}
	case linkSLL:
		return atom{size: 2, off: 14, cond: xbpf.JumpEqual, val: et}
	case linkSLL2:
		return atom{size: 2, off: 0, cond: xbpf.JumpEqual, val: et}
	case linkNull:
		// A host-order address family: accept both byte orders.
		var afs []uint32
		switch et {
		case 0x0800:
			afs = []uint32{2}
		case 0x86dd:
			afs = []uint32{10, 24, 28, 30}
		default:
			return always(false)
		}
		var ns []node
		for _, af := range afs {
			ns = append(ns, atom{size: 4, cond: xbpf.JumpEqual, val: af},
				atom{size: 4, cond: xbpf.JumpEqual, val: af << 24})
		}
		return orN(ns...)
	case linkIPv4:
		return always(et == 0x0800)
	case linkIPv6:
		return always(et == 0x86dd)
	}
	// Raw IP: the version nibble.
	switch et {
	case 0x0800:
		return atom{size: 1, mask: 0xf0, cond: xbpf.JumpEqual, val: 0x40}
	case 0x86dd:
		return atom{size: 1, mask: 0xf0, cond: xbpf.JumpEqual, val: 0x60}
	}
	return always(false)
}

func (p *parser) vlan(t token) (node, error) {
	if p.link != linkEthernet {
		return nil, p.errAt(t, "vlan needs Ethernet frames (link type 1), not link type %d", p.link)
	}
	off := 12 + p.shift
	var n node = orN(
		atom{size: 2, off: off, cond: xbpf.JumpEqual, val: 0x8100},
		atom{size: 2, off: off, cond: xbpf.JumpEqual, val: 0x88a8},
		atom{size: 2, off: off, cond: xbpf.JumpEqual, val: 0x9100})
	if v, ok := p.peek(); ok && v.s != "" && v.s[0] >= '0' && v.s[0] <= '9' {
		id, err := strconv.ParseUint(v.s, 0, 32)
		if err != nil || id > 4095 {
			return nil, p.errAt(v, "vlan id %q is not 0 to 4095", v.s)
		}
		p.i++
		n = and{n, atom{size: 2, off: off + 2, mask: 0x0fff, cond: xbpf.JumpEqual, val: uint32(id)}}
	}
	// libpcap: every test after "vlan" looks 4 bytes further.
	p.shift += 4
	p.last = nil
	return n, nil
}

var protoNum = map[string]uint32{"tcp": 6, "udp": 17, "sctp": 132, "icmp": 1, "icmp6": 58}

// ip6Proto tests the IPv6 next header, or the one after a fragment header
// (as libpcap does for a protocol alone).
func (p *parser) ip6Proto(n uint32, frag bool) node {
	nl := p.nl()
	nh := atom{size: 1, off: nl + 6, cond: xbpf.JumpEqual, val: n}
	if !frag {
		return nh
	}
	return or{nh, and{atom{size: 1, off: nl + 6, cond: xbpf.JumpEqual, val: 44},
		atom{size: 1, off: nl + 40, cond: xbpf.JumpEqual, val: n}}}
}

func (p *parser) protoOnly(proto string) node {
	switch proto {
	case "ip":
		return p.ethertype(0x0800)
	case "ip6":
		return p.ethertype(0x86dd)
	case "arp":
		return p.ethertype(0x0806)
	}
	n := protoNum[proto]
	v4 := and{p.ethertype(0x0800), atom{size: 1, off: p.nl() + 9, cond: xbpf.JumpEqual, val: n}}
	v6 := and{p.ethertype(0x86dd), p.ip6Proto(n, true)}
	switch proto {
	case "icmp":
		return v4
	case "icmp6":
		return v6
	}
	return or{v4, v6}
}

// dirTest applies dir to a source and a destination test.
func dirTest(dir string, src, dst node) node {
	switch dir {
	case "src":
		return src
	case "dst":
		return dst
	}
	return or{src, dst}
}

func (p *parser) hostNet(q quals, v token) (node, error) {
	switch q.proto {
	case "", "ip", "ip6", "arp":
	default:
		return nil, p.errAt(v, "%s %s is not a filter (%s has no addresses)", q.proto, q.typ, q.proto)
	}
	s := v.s
	var pfx netip.Prefix
	if q.typ == "net" {
		var err error
		if strings.Contains(s, "/") {
			pfx, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			return nil, p.errAt(v, "net %q is not an address or CIDR prefix", s)
		}
		if pfx.Masked() != pfx {
			return nil, p.errAt(v, "net %q has host bits set beyond the mask", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, p.errAt(v, "host %q is not an IP address (names are not resolved)", s)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	nl := p.nl()
	a := pfx.Addr().Unmap()
	if a.Is4() {
		if q.proto == "ip6" {
			return nil, p.errAt(v, "ip6 %s with an IPv4 address", q.typ)
		}
		b := a.As4()
		val := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		mask := ^uint32(0)
		if pfx.Bits() < 32 {
			mask = ^(^uint32(0) >> uint(pfx.Bits()))
		}
		at := func(off uint32) node {
			if mask == 0 {
				return always(true)
			}
			m := mask
			if m == ^uint32(0) {
				m = 0
			}
			return atom{size: 4, off: off, mask: m, cond: xbpf.JumpEqual, val: val & mask}
		}
		ip := and{p.ethertype(0x0800), dirTest(q.dir, at(nl+12), at(nl+16))}
		arp := and{or{p.ethertype(0x0806), p.ethertype(0x8035)}, dirTest(q.dir, at(nl+14), at(nl+24))}
		switch q.proto {
		case "ip":
			return ip, nil
		case "arp":
			return arp, nil
		}
		return or{ip, arp}, nil
	}
	if q.proto == "ip" || q.proto == "arp" {
		return nil, p.errAt(v, "%s %s with an IPv6 address", q.proto, q.typ)
	}
	b := a.As16()
	at := func(off uint32) node {
		var ns []node
		for w := 0; w < 4; w++ {
			bits := pfx.Bits() - 32*w
			if bits <= 0 {
				break
			}
			mask := ^uint32(0)
			if bits < 32 {
				mask = ^(^uint32(0) >> uint(bits))
			}
			val := uint32(b[4*w])<<24 | uint32(b[4*w+1])<<16 | uint32(b[4*w+2])<<8 | uint32(b[4*w+3])
			m := mask
			if m == ^uint32(0) {
				m = 0
			}
			ns = append(ns, atom{size: 4, off: off + uint32(4*w), mask: m, cond: xbpf.JumpEqual, val: val & mask})
		}
		if len(ns) == 0 {
			return always(true)
		}
		return andN(ns...)
	}
	return and{p.ethertype(0x86dd), dirTest(q.dir, at(nl+8), at(nl+24))}, nil
}

func (p *parser) port(q quals, v token) (node, error) {
	var lo, hi uint64
	var err error
	if q.typ == "portrange" {
		a, b, ok := strings.Cut(v.s, "-")
		if !ok {
			return nil, p.errAt(v, "portrange %q is not LOW-HIGH", v.s)
		}
		if lo, err = strconv.ParseUint(a, 10, 16); err == nil {
			hi, err = strconv.ParseUint(b, 10, 16)
		}
		if err != nil {
			return nil, p.errAt(v, "portrange %q is not LOW-HIGH with ports 0 to 65535", v.s)
		}
		if lo > hi {
			lo, hi = hi, lo
		}
	} else {
		if lo, err = strconv.ParseUint(v.s, 10, 16); err != nil {
			return nil, p.errAt(v, "port %q is not a number from 0 to 65535 (names are not resolved)", v.s)
		}
		hi = lo
	}
	var protos []uint32
	v4, v6 := true, true
	switch q.proto {
	case "tcp", "udp", "sctp":
		protos = []uint32{protoNum[q.proto]}
	case "", "ip", "ip6":
		protos = []uint32{132, 6, 17}
		v4, v6 = q.proto != "ip6", q.proto != "ip"
	default:
		return nil, p.errAt(v, "%s %s is not a filter (%s has no ports)", q.proto, q.typ, q.proto)
	}
	test := func(off uint32, ind bool, nl uint32) node {
		if lo == hi {
			return atom{size: 2, off: off, ind: ind, nl: nl, cond: xbpf.JumpEqual, val: uint32(lo)}
		}
		return and{atom{size: 2, off: off, ind: ind, nl: nl, cond: xbpf.JumpGreaterOrEqual, val: uint32(lo)},
			not{atom{size: 2, off: off, ind: ind, nl: nl, cond: xbpf.JumpGreaterThan, val: uint32(hi)}}}
	}
	nl := p.nl()
	var ns []node
	if v6 {
		var ps []node
		for _, n := range protos {
			ps = append(ps, p.ip6Proto(n, false))
		}
		ns = append(ns, and{and{p.ethertype(0x86dd), orN(ps...)},
			dirTest(q.dir, test(nl+40, false, 0), test(nl+42, false, 0))})
	}
	if v4 {
		var ps []node
		for _, n := range protos {
			ps = append(ps, atom{size: 1, off: nl + 9, cond: xbpf.JumpEqual, val: n})
		}
		// Only the first fragment carries the transport header: a
		// non-zero fragment offset (RFC 791 §3.1) has no ports.
		first := not{atom{size: 2, off: nl + 6, mask: 0, cond: xbpf.JumpBitsSet, val: 0x1fff}}
		ns = append(ns, andN(p.ethertype(0x0800), orN(ps...), first,
			dirTest(q.dir, test(nl, true, nl), test(nl+2, true, nl))))
	}
	return orN(ns...), nil
}

// Code generation: every test jumps to a true or a false label; labels are
// always later in the program, since classic BPF only jumps forward.

type insn struct {
	i      xbpf.Instruction
	jt, jf int // labels of a conditional jump; jt alone for a jump always
	cond   bool
	ja     bool
}

type gen struct {
	prog   []insn
	labels []int // label -> instruction index
}

func (g *gen) label() int {
	g.labels = append(g.labels, -1)
	return len(g.labels) - 1
}

func (g *gen) place(l int) { g.labels[l] = len(g.prog) }

func (g *gen) emit(i xbpf.Instruction) { g.prog = append(g.prog, insn{i: i}) }

func (g *gen) node(n node, t, f int) {
	switch n := n.(type) {
	case and:
		l := g.label()
		g.node(n.a, l, f)
		g.place(l)
		g.node(n.b, t, f)
	case or:
		l := g.label()
		g.node(n.a, t, l)
		g.place(l)
		g.node(n.b, t, f)
	case not:
		g.node(n.a, f, t)
	case always:
		if n {
			g.prog = append(g.prog, insn{ja: true, jt: t})
		} else {
			g.prog = append(g.prog, insn{ja: true, jt: f})
		}
	case atom:
		if n.ind {
			g.emit(xbpf.LoadMemShift{Off: n.nl})
			g.emit(xbpf.LoadIndirect{Off: n.off, Size: n.size})
		} else {
			g.emit(xbpf.LoadAbsolute{Off: n.off, Size: n.size})
		}
		if n.mask != 0 {
			g.emit(xbpf.ALUOpConstant{Op: xbpf.ALUOpAnd, Val: n.mask})
		}
		g.prog = append(g.prog, insn{i: xbpf.JumpIf{Cond: n.cond, Val: n.val}, cond: true, jt: t, jf: f})
	}
}

func assemble(expr string, root node, snaplen uint32) ([]xbpf.RawInstruction, error) {
	g := &gen{}
	t, f := g.label(), g.label()
	g.node(root, t, f)
	g.place(t)
	g.emit(xbpf.RetConstant{Val: snaplen})
	g.place(f)
	g.emit(xbpf.RetConstant{Val: 0})
	out := make([]xbpf.Instruction, len(g.prog))
	for pc, in := range g.prog {
		switch {
		case in.ja:
			out[pc] = xbpf.Jump{Skip: uint32(g.labels[in.jt] - pc - 1)}
		case in.cond:
			j := in.i.(xbpf.JumpIf)
			st, sf := g.labels[in.jt]-pc-1, g.labels[in.jf]-pc-1
			if st > 255 || sf > 255 {
				return nil, fmt.Errorf("filter %q: too long for classic BPF jumps", expr)
			}
			j.SkipTrue, j.SkipFalse = uint8(st), uint8(sf)
			out[pc] = j
		default:
			out[pc] = in.i
		}
	}
	if len(out) > 4096 { // BPF_MAXINSNS
		return nil, fmt.Errorf("filter %q: %d instructions, more than the kernel's 4096", expr, len(out))
	}
	raw, err := xbpf.Assemble(out)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return raw, nil
}
