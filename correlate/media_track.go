package correlate

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// MediaOptions configure a Media tracker. Zero values mean defaults.
type MediaOptions struct {
	// NoHeuristic turns off finding RTP that no SDP announced; by default
	// any UDP datagram between two unprivileged ports that parses as RTP
	// version 2 (and not RTCP) makes or extends a stream, as tshark does
	// with -o rtp.heuristic_rtp:TRUE.
	NoHeuristic bool
	// Sink, when set, gets every RTP packet (see PacketSink).
	Sink PacketSink
	// MaxStreams bounds the streams tracked at once (default 65536);
	// packets of further streams are counted in MediaStats.Dropped.
	MaxStreams int
	// MaxEndpoints bounds the SDP addresses remembered (default 262144);
	// the oldest are forgotten first.
	MaxEndpoints int
	// Handoff, when set, gets each stream as it ends, summarised, and the
	// tracker forgets it: memory then holds only the streams in progress,
	// however long the capture (a live one too). A stream ends when its
	// call ended (End) and it has been silent for Linger, when a later
	// call's SDP takes its addresses, when a stream no SDP announced has
	// been silent for Idle, or at Flush. Without Handoff ended streams are
	// kept for Streams. Handoff runs on the goroutine that feeds the
	// tracker, before any later packet with the same key is read; s is
	// the caller's to keep.
	Handoff func(s *Stream)
	// Linger is the capture time a stream of an ended call must be silent
	// before it is handed on (default 2s): RTP still in flight when the
	// BYE was sent belongs to the stream, not to a new one.
	Linger time.Duration
	// Idle is the capture time after which a stream no SDP announced, and
	// silent since, is handed on (default 5 min, the correlator's idle
	// time for a dialog without messages).
	Idle time.Duration
	// Forget, when set (with Handoff), is told each call the tracker
	// forgets after End: every stream of it was handed on, and later RTP
	// to its addresses is not the call's. Called on the goroutine that
	// feeds the tracker.
	Forget func(callID string)
}

func (o MediaOptions) withDefaults() MediaOptions {
	if o.MaxStreams <= 0 {
		o.MaxStreams = 1 << 16
	}
	if o.MaxEndpoints <= 0 {
		o.MaxEndpoints = 1 << 18
	}
	if o.Linger <= 0 {
		o.Linger = 2 * time.Second
	}
	if o.Idle <= 0 {
		o.Idle = 5 * time.Minute
	}
	return o
}

// MediaStats counts what the media tracker saw.
type MediaStats struct {
	RTP        int64 // RTP packets counted in a stream
	RTCP       int64 // RTCP compound packets read
	Linked     int64 // of RTP, packets of streams an SDP announced
	Heuristic  int64 // of RTP, packets of streams no SDP announced
	NotRTP     int64 // candidate datagrams that were neither (a header cut short, a privileged port)
	Dropped    int64 // packets of streams beyond MaxStreams
	Unmatched  int64 // RTCP report blocks about no known stream
	Endpoints  int   // SDP addresses remembered now
	Streams    int   // streams tracked
	SDPs       int64 // SDP bodies read
	Superseded int64 // streams ended because a later call's SDP claimed their addresses
	HandedOn   int64 // streams given to MediaOptions.Handoff
	Live       int   // streams in progress now (tracked, not yet ended)
	Calls      int   // calls whose SDP the tracker remembers now
	MaxLive    int   // the most streams in progress at once
	MaxCalls   int   // the most calls remembered at once
}

// Media links RTP and RTCP to calls through their SDP offers and answers
// and keeps per-stream statistics (RFC 3550 A.3 loss, A.8 jitter) in
// constant memory per stream. It is not safe for concurrent use: the
// goroutine that feeds the decoder feeds it SIP messages (Message) and
// datagrams (Datagram) in capture order, then calls Streams.
type Media struct {
	opts      MediaOptions
	endpoints map[netip.AddrPort]*endpoint
	epQ       []epRef // in order of announcement, to forget the oldest
	epH       int
	epoch     uint64 // bumped on every SDP, so streams re-check their call
	calls     map[string]*callMedia
	streams   map[StreamKey]*streamState
	bySSRC    map[uint32][]*streamState
	done      []*streamState // ended streams, kept for Streams (no Handoff)
	all       int            // streams made
	// clock is the capture time of the latest packet or message; ended
	// calls are swept once a second of it (sweep).
	clock     time.Time
	nextSweep time.Time
	endedQ    []*callMedia // calls End named, until their streams are handed on
	stats     MediaStats
	rtp       decode.RTP
	rtcp      decode.RTCP
	pkt       RTPPacket
	// dgCall is the call of the last datagram (DatagramCall).
	dgCall *callMedia
	// last caches the stream of the previous packet: packets of a stream
	// come in runs, and the map lookup is most of the per-packet cost.
	last *streamState
}

// callMedia is what the tracker knows of one call's signalling.
type callMedia struct {
	callID    string
	callerTag string // From tag of the first message seen: the caller's
	// linked says a stream of the call has been seen (see Silent).
	linked bool
	// ended is when End said the call's dialog ended (zero: in progress).
	ended  time.Time
	queued bool
	// streams are the call's streams in progress; eps the addresses its
	// SDPs announced, forgotten with the call.
	streams []*streamState
	eps     []netip.AddrPort
}

// epRef is an announced address and the endpoint announced there; the
// queue keeps superseded entries, which eviction skips.
type epRef struct {
	k  netip.AddrPort
	ep *endpoint
}

// endpoint is an address and port an SDP announced for receiving media
// (or RTCP), and who announced it.
type endpoint struct {
	call *callMedia
	by   Direction // the party that announced it: media sent to it comes from the other
	rtcp bool      // the RTCP address (port+1 or a=rtcp), not the RTP one
	nat  bool      // the signalling source address with the announced port (NAT hint)
	// notRTP: the SDP put a non-RTP transport (udptl) here.
	notRTP bool
	types  []payloadType
	epoch  uint64
	since  time.Time
}

// payloadType maps an RTP payload type to its encoding (a=rtpmap).
type payloadType struct {
	pt    int
	enc   string
	clock int
}

// NewMedia returns a media tracker.
func NewMedia(opts MediaOptions) *Media {
	return &Media{
		opts:      opts.withDefaults(),
		endpoints: make(map[netip.AddrPort]*endpoint),
		calls:     make(map[string]*callMedia),
		streams:   make(map[StreamKey]*streamState),
		bySSRC:    make(map[uint32][]*streamState),
	}
}

// Stats returns the counters so far.
func (md *Media) Stats() MediaStats {
	s := md.stats
	s.Endpoints = len(md.endpoints)
	s.Streams = md.all
	s.Live = len(md.streams)
	s.Calls = len(md.calls)
	return s
}

// Message reads the SDP of a SIP message (offer or answer, in any request
// or response: INVITE, re-INVITE, UPDATE, PRACK, ACK, 18x, 200) and
// remembers the addresses it announces for its call. m may alias decoder
// buffers: what is kept is copied.
func (md *Media) Message(m *decode.Message) {
	if m == nil || m.CallID == "" {
		return
	}
	md.advance(m.Time)
	cm := md.calls[m.CallID]
	if cm == nil {
		if m.SDP == nil {
			return // nothing to learn; the caller's tag is found with the first SDP
		}
		both := m.CallID + m.From.Tag // one copy of the two (never empty: CallID is not)
		cm = &callMedia{callID: both[:len(m.CallID)], callerTag: both[len(m.CallID):]}
		md.calls[cm.callID] = cm
		md.stats.MaxCalls = max(md.stats.MaxCalls, len(md.calls))
	}
	if m.SDP == nil {
		return
	}
	md.stats.SDPs++
	// Who sent this SDP: a request is sent by its From party, a response
	// by its To party (RFC 3261 §8.2.6.2, §12.1: the tags keep their
	// sides for the whole dialog).
	fromCaller := m.From.Tag == cm.callerTag
	by := DirectionFromCallee
	if fromCaller == m.Request {
		by = DirectionFromCaller
	}
	md.epoch++
	for i := range m.SDP.Media {
		sm := &m.SDP.Media[i]
		if sm.Port == 0 {
			continue // RFC 3264 §6: port 0 rejects the stream
		}
		addr, err := netip.ParseAddr(sm.Connection)
		if err != nil {
			continue // an FQDN in c= (RFC 8866 §5.7): nothing to match packets against
		}
		addr = addr.Unmap()
		if !strings.HasPrefix(sm.Proto, "RTP/") {
			// udptl (T.38 fax) or TCP media: what is sent there now is
			// not RTP, even if it starts like it (audio a gateway keeps
			// sending after the switch to T.38 is dissected as T.38 by
			// Wireshark too).
			md.announce(netip.AddrPortFrom(addr, uint16(sm.Port)), &endpoint{call: cm, by: by, notRTP: true, epoch: md.epoch, since: m.Time})
			continue
		}
		types := rtpTypes(sm)
		ep := &endpoint{call: cm, by: by, types: types, epoch: md.epoch, since: m.Time}
		port := uint16(sm.Port)
		md.announce(netip.AddrPortFrom(addr, port), ep)
		// RFC 3550 §11: RTCP on the next port up, unless a=rtcp (RFC
		// 3605) says otherwise; with rtcp-mux (RFC 5761) it shares the
		// RTP port, which the RTP endpoint already covers.
		rtcpPort := port + 1
		rtcpAddr := addr
		if sm.RTCP != "" {
			p, rest := cutSpace(sm.RTCP)
			if n := atoiPort(p); n > 0 {
				rtcpPort = uint16(n)
			}
			// a=rtcp:port IN IP4 addr
			if f := strings.Fields(rest); len(f) == 3 {
				if a, err := netip.ParseAddr(f[2]); err == nil {
					rtcpAddr = a.Unmap()
				}
			}
		}
		rep := *ep
		rep.rtcp = true
		md.announce(netip.AddrPortFrom(rtcpAddr, rtcpPort), &rep)
		// NAT hint: the party behind NAT announces its private address;
		// its media comes from, and must go to, the public address its
		// signalling came from.
		if sig := m.Src.Addr().Unmap(); sig.IsValid() && sig != addr {
			nep := *ep
			nep.nat = true
			if k := netip.AddrPortFrom(sig, port); md.endpoints[k] == nil || md.endpoints[k].nat || md.endpoints[k].call != cm {
				md.announce(k, &nep)
			}
		}
	}
}

// rtpTypes copies the payload types of an m= line with their encodings
// (rtpmap, else RFC 3551's static table).
func rtpTypes(sm *decode.Media) []payloadType {
	types := make([]payloadType, 0, len(sm.Formats))
	for _, f := range sm.Formats {
		pt := atoiPort(f)
		if pt < 0 || pt > 127 {
			continue
		}
		t := payloadType{pt: pt}
		for _, r := range sm.RTPMap {
			if r.Payload == pt {
				t.enc, t.clock = intern(r.Encoding), r.Clock // one copy for all calls, as the views keep them
				break
			}
		}
		// RFC 4855 §3: encoding names are case-insensitive; a static
		// type keeps RFC 3551's spelling ("pcma" is PCMA).
		if enc, clock := staticType(pt); t.enc == "" || strings.EqualFold(t.enc, enc) {
			t.enc = enc
			if t.clock == 0 {
				t.clock = clock
			}
		}
		types = append(types, t)
	}
	return types
}

// announce remembers ep at k, forgetting the oldest endpoint beyond
// MaxEndpoints.
func (md *Media) announce(k netip.AddrPort, ep *endpoint) {
	md.epQ = append(md.epQ, epRef{k, ep})
	md.endpoints[k] = ep
	if cm := ep.call; !slices.Contains(cm.eps, k) { // a re-INVITE repeats them
		cm.eps = append(cm.eps, k)
	}
	for len(md.endpoints) > md.opts.MaxEndpoints && md.epH < len(md.epQ) {
		r := md.epQ[md.epH]
		md.epQ[md.epH] = epRef{}
		md.epH++
		if md.endpoints[r.k] == r.ep {
			delete(md.endpoints, r.k)
		}
	}
	// The queue holds an entry per announcement, most of them superseded
	// or forgotten with their call: keep only the live ones once they
	// are fewer than half, so it stays proportional to the endpoints.
	if n := len(md.epQ) - md.epH; n > 1024 && n > 2*len(md.endpoints) {
		live := md.epQ[:0]
		for _, r := range md.epQ[md.epH:] {
			if md.endpoints[r.k] == r.ep {
				live = append(live, r)
			}
		}
		clear(md.epQ[len(live):])
		md.epQ, md.epH = live, 0
	}
}

// Datagram reads one candidate RTP or RTCP datagram. dg may alias decoder
// buffers; nothing of it is kept.
func (md *Media) Datagram(dg *decode.Datagram) {
	b := dg.Payload
	md.dgCall = nil
	md.advance(dg.Time)
	if decode.IsRTCP(b) {
		md.onRTCP(dg)
		return
	}
	if decode.ParseRTP(b, &md.rtp) != nil {
		md.stats.NotRTP++
		return
	}
	r := &md.rtp
	key := StreamKey{Src: dg.Src, Dst: dg.Dst, SSRC: r.SSRC}
	st := md.last
	if st == nil || st.key != key {
		st = md.streams[key]
	}
	if st != nil && st.epoch != md.epoch {
		// An SDP came since this stream's last packet: if it gave the
		// stream's addresses to another call (ports reused for the next
		// call of a SIPp run), the packets from now on are that call's.
		st.epoch = md.epoch
		st.blocked = md.blocked(key.Dst)
		if ep, by, link := md.lookup(key); ep != nil && ep.call != st.call && ep.since.After(st.start) {
			md.stats.Superseded++
			md.retire(st)
			st = md.newStream(key, ep, by, link, dg.Time)
		}
	}
	if st != nil && st.blocked || st == nil && md.blocked(key.Dst) {
		md.stats.NotRTP++
		return
	}
	if st == nil {
		ep, by, link := md.lookup(key)
		if ep == nil {
			if md.opts.NoHeuristic || !heuristicPorts(dg.Src.Port(), dg.Dst.Port()) {
				md.stats.NotRTP++
				return
			}
		}
		if len(md.streams) >= md.opts.MaxStreams {
			md.stats.Dropped++
			return
		}
		st = md.newStream(key, ep, by, link, dg.Time)
	}
	md.last = st
	md.dgCall = st.call
	md.stats.RTP++
	if st.call != nil {
		md.stats.Linked++
	} else {
		md.stats.Heuristic++
	}
	enc, clock := st.typeOf(int(r.PayloadType))
	st.add(r, dg.Time, enc, clock)
	if md.opts.Sink != nil {
		p := &md.pkt
		*p = RTPPacket{
			Key: key, Seq: r.Seq, Timestamp: r.Timestamp, Arrival: dg.Time, Marker: r.Marker,
			PayloadType: int(r.PayloadType), Encoding: enc, ClockRate: clock, Payload: r.Payload,
		}
		if st.call != nil {
			p.CallID = st.call.callID
		}
		md.opts.Sink(p)
		*p = RTPPacket{}
	}
}

// lookup finds the call of a stream: the SDP address it was sent to, else
// the one it came from (symmetric RTP, RFC 4961, where the other side is
// behind NAT and the stream goes to its public address).
func (md *Media) lookup(k StreamKey) (*endpoint, Direction, Link) {
	if ep := md.endpoints[k.Dst]; ep != nil && !ep.rtcp && !ep.notRTP {
		link := LinkSDP
		if ep.nat {
			link = LinkNAT
		}
		return ep, other(ep.by), link
	}
	if ep := md.endpoints[k.Src]; ep != nil && !ep.rtcp && !ep.notRTP {
		return ep, ep.by, LinkNAT
	}
	return nil, DirectionUnknown, LinkHeuristic
}

// blocked reports whether the SDP put a non-RTP transport at k.
func (md *Media) blocked(k netip.AddrPort) bool {
	ep := md.endpoints[k]
	return ep != nil && ep.notRTP
}

func other(d Direction) Direction {
	switch d {
	case DirectionFromCaller:
		return DirectionFromCallee
	case DirectionFromCallee:
		return DirectionFromCaller
	}
	return d
}

// heuristicPorts reports whether a datagram between these ports may be
// RTP no SDP announced: RTP uses unprivileged ports (RFC 3550 §11 leaves
// them dynamic); DNS, NTP, SNMP and their kind on 1-1023 are not taken.
func heuristicPorts(src, dst uint16) bool { return src >= 1024 && dst >= 1024 }

func (md *Media) newStream(key StreamKey, ep *endpoint, by Direction, link Link, t time.Time) *streamState {
	st := &streamState{key: key, epoch: md.epoch, start: t, dir: by, link: link, pt: -1}
	if ep != nil {
		st.call, st.types = ep.call, ep.types
		// The payload types the sender announced apply when the
		// receiver's SDP did not list one (RFC 3264 §5.1).
		if back := md.endpoints[key.Src]; back != nil && back.call == ep.call && back != ep {
			st.back = back.types
		}
	}
	if st.call != nil {
		st.call.streams = append(st.call.streams, st)
		st.call.linked = true
	}
	md.streams[key] = st
	md.stats.MaxLive = max(md.stats.MaxLive, len(md.streams))
	md.bySSRC[key.SSRC] = append(md.bySSRC[key.SSRC], st)
	md.all++
	return st
}

// retire ends a stream: handed on (MediaOptions.Handoff) or kept for
// Streams, and forgotten by every index.
func (md *Media) retire(st *streamState) {
	if md.streams[st.key] == st {
		delete(md.streams, st.key)
	}
	if l := md.bySSRC[st.key.SSRC]; len(l) == 1 && l[0] == st {
		delete(md.bySSRC, st.key.SSRC)
	} else if i := slices.Index(l, st); i >= 0 {
		md.bySSRC[st.key.SSRC] = slices.Delete(l, i, i+1)
	}
	if cm := st.call; cm != nil {
		if i := slices.Index(cm.streams, st); i >= 0 {
			cm.streams = slices.Delete(cm.streams, i, i+1)
		}
	}
	if md.last == st {
		md.last = nil
	}
	if md.opts.Handoff == nil {
		md.done = append(md.done, st)
		return
	}
	md.stats.HandedOn++
	s := st.summary()
	md.opts.Handoff(&s)
}

// End says the dialog of callID ended at t (its BYE was answered, it
// failed, or the correlator gave up on it): its streams are handed on
// once they have been silent for Linger, and the call and the addresses
// its SDPs announced are then forgotten, so that the tracker's memory
// follows the calls in progress. RTP that goes on after that to the same
// addresses is a new stream, found by the heuristic. A call the tracker
// does not know (no SDP) is ignored. Without Handoff, End changes
// nothing.
func (md *Media) End(callID string, t time.Time) {
	if md.opts.Handoff == nil {
		return
	}
	cm := md.calls[callID]
	if cm == nil {
		return
	}
	if t.IsZero() || t.Before(md.clock) {
		t = md.clock
	}
	cm.ended = t
	if !cm.queued {
		cm.queued = true
		md.endedQ = append(md.endedQ, cm)
	}
}

// advance moves the capture clock to t (never back) and, once a second of
// it, hands on the streams that ended.
func (md *Media) advance(t time.Time) {
	if !t.After(md.clock) {
		return
	}
	md.clock = t
	if md.opts.Handoff == nil || t.Before(md.nextSweep) {
		return
	}
	md.nextSweep = t.Add(time.Second)
	md.sweep()
}

// sweep hands on the streams of ended calls silent for Linger, forgets
// the calls whose streams are all gone, and hands on streams no SDP
// announced that have been silent for Idle.
func (md *Media) sweep() {
	q := md.endedQ[:0]
	for _, cm := range md.endedQ {
		if md.clock.Sub(cm.ended) < md.opts.Linger {
			q = append(q, cm)
			continue
		}
		for i := 0; i < len(cm.streams); {
			if st := cm.streams[i]; md.clock.Sub(st.end) >= md.opts.Linger {
				md.retire(st) // removes it from cm.streams
				continue
			}
			i++
		}
		if len(cm.streams) > 0 {
			q = append(q, cm) // still sending after its BYE
			continue
		}
		md.forget(cm)
	}
	clear(md.endedQ[len(q):])
	md.endedQ = q
	for _, st := range md.streams {
		if st.call == nil && md.clock.Sub(st.end) >= md.opts.Idle {
			md.retire(st)
		}
	}
}

// forget drops an ended call and the addresses its SDPs announced (those
// no later call has taken over).
func (md *Media) forget(cm *callMedia) {
	cm.queued = false
	if md.calls[cm.callID] == cm {
		delete(md.calls, cm.callID)
		if md.opts.Forget != nil {
			md.opts.Forget(cm.callID)
		}
	}
	for _, k := range cm.eps {
		if ep := md.endpoints[k]; ep != nil && ep.call == cm {
			delete(md.endpoints, k)
		}
	}
	cm.eps = nil
}

// Tracking reports whether the tracker knows the call callID (its SDP
// announced addresses) and has not forgotten it: streams of it may still
// be handed on.
func (md *Media) Tracking(callID string) bool { return md.calls[callID] != nil }

// Silent reports whether the tracker knows the call callID (its SDP
// announced addresses) and has seen no RTP stream of it so far. At the
// end of a call's dialog that is what its streams will be, unless RTP
// comes after the call ended: the media rules can run then (no-media)
// instead of once the capture ends.
func (md *Media) Silent(callID string) bool {
	cm := md.calls[callID]
	return cm != nil && !cm.linked
}

// Flush hands on every stream in progress (with Handoff; without it,
// Streams lists them): the input has ended.
func (md *Media) Flush() {
	if md.opts.Handoff == nil {
		return
	}
	for _, st := range md.sorted(nil) {
		md.retire(st)
	}
	for _, cm := range md.endedQ {
		md.forget(cm)
	}
	md.endedQ = nil
}

// onRTCP attaches the reports of an RTCP compound packet to the streams
// they are about.
func (md *Media) onRTCP(dg *decode.Datagram) {
	err := decode.ParseRTCP(dg.Payload, &md.rtcp)
	if err != nil && md.rtcp.Packets == 0 {
		md.stats.NotRTP++
		return
	}
	md.stats.RTCP++
	defer md.rtcpCall(dg) // once the reports are attached
	rc := &md.rtcp
	for i := range rc.SR {
		sr := &rc.SR[i]
		// RFC 3550 §6.4.1: the sender of an SR sends the stream with
		// its SSRC, from the host the RTCP came from.
		if st := md.rtcpStream(sr.SSRC, dg.Src.Addr(), dg.Src.Port()); st != nil {
			rs := st.rtcpStats()
			rs.SR++
			st.lastSR = uint32(sr.NTP >> 16)
			st.lastSRAt = dg.Time
		}
	}
	for i := range rc.Blocks {
		b := &rc.Blocks[i]
		// A report block is about a stream its reporter received: one
		// sent to the host the RTCP came from.
		st := md.rtcpStream(b.SSRC, dg.Src.Addr(), 0)
		if st == nil {
			md.stats.Unmatched++
			continue
		}
		rs := st.rtcpStats()
		rs.RR++
		rs.FractionLostPct = float64(b.FractionLost) * 100 / 256
		rs.MaxFractionLostPct = max(rs.MaxFractionLostPct, rs.FractionLostPct)
		rs.CumulativeLost = int(b.CumulativeLost)
		if clock := st.clock; clock > 0 {
			rs.JitterMs = float64(b.Jitter) * 1000 / float64(clock)
			rs.MaxJitterMs = max(rs.MaxJitterMs, rs.JitterMs)
		}
		// RFC 3550 §6.4.1: round trip = arrival - LSR - DLSR, measured
		// here with the capture's clock: the SR's arrival stands for
		// its NTP time, so it holds for a capture near the sender.
		if b.LSR != 0 && b.LSR == st.lastSR && !st.lastSRAt.IsZero() {
			rtt := dg.Time.Sub(st.lastSRAt).Seconds()*1000 - float64(b.DLSR)*1000/65536
			if rtt >= 0 {
				rs.RTTMs = &rtt
			}
		}
	}
	for i := range rc.VoIP {
		v := &rc.VoIP[i]
		st := md.rtcpStream(v.SSRC, dg.Src.Addr(), 0)
		if st == nil {
			md.stats.Unmatched++
			continue
		}
		rs := st.rtcpStats()
		rs.XR++
		rs.XRVoIP = &XRVoIPMetrics{
			LossRatePct: float64(v.LossRate) * 100 / 256, DiscardRatePct: float64(v.DiscardRate) * 100 / 256,
			RoundTripMs: int(v.RoundTrip), EndSystemMs: int(v.EndSystem), RFactor: int(v.RFactor),
			MOSLQ: float64(v.MOSLQ) / 10, MOSCQ: float64(v.MOSCQ) / 10, JitterBufMs: int(v.JBNominal),
		}
	}
}

// DatagramCall returns the Call-ID of the call the last datagram given to
// Datagram belongs to: the call of the stream an RTP packet was counted
// in; for RTCP, the call of a stream its reports are about, else of the
// SDP address it was sent to or came from (port+1, a=rtcp, rtcp-mux). ""
// when it belongs to none (a heuristic stream, RTCP about no known
// stream, not RTP). It lets a per-call export pick the call's frames.
func (md *Media) DatagramCall() string {
	if md.dgCall == nil {
		return ""
	}
	return md.dgCall.callID
}

// rtcpCall sets dgCall for an RTCP datagram: the call of a stream whose
// report was read, else of the SDP address it was sent to or came from.
func (md *Media) rtcpCall(dg *decode.Datagram) {
	if md.dgCall != nil {
		return
	}
	rc := &md.rtcp
	for i := range rc.SR {
		if st := md.rtcpStream(rc.SR[i].SSRC, dg.Src.Addr(), dg.Src.Port()); st != nil && st.call != nil {
			md.dgCall = st.call
			return
		}
	}
	for i := range rc.Blocks {
		if st := md.rtcpStream(rc.Blocks[i].SSRC, dg.Src.Addr(), 0); st != nil && st.call != nil {
			md.dgCall = st.call
			return
		}
	}
	for _, k := range []netip.AddrPort{dg.Dst, dg.Src} {
		if ep := md.endpoints[k]; ep != nil && !ep.notRTP {
			md.dgCall = ep.call
			return
		}
	}
}

// rtcpStream finds the stream with ssrc that host sent (srcPort != 0: an
// SR) or received (srcPort 0: a report block). With several candidates
// (one SSRC relayed on two legs) the host decides; with one it is taken.
func (md *Media) rtcpStream(ssrc uint32, host netip.Addr, srcPort uint16) *streamState {
	cands := md.bySSRC[ssrc]
	var best *streamState
	bestScore := -1
	for _, st := range cands {
		score := 0
		end := st.key.Dst
		if srcPort != 0 {
			end = st.key.Src
		}
		if end.Addr() == host {
			score += 2
		}
		if score > bestScore || (score == bestScore && st.packets > best.packets) {
			best, bestScore = st, score
		}
	}
	if bestScore < 2 && len(cands) > 1 {
		return nil
	}
	return best
}

// Streams summarises every stream seen, ordered by start time (then
// addresses). It may be called once the input has ended; the tracker can
// go on after it.
func (md *Media) Streams() []Stream {
	states := md.sorted(md.done)
	out := make([]Stream, 0, len(states))
	for _, st := range states {
		out = append(out, st.summary())
	}
	return out
}

// sorted returns done and the streams in progress, ordered by start time
// (then addresses and SSRC).
func (md *Media) sorted(done []*streamState) []*streamState {
	states := make([]*streamState, 0, len(md.streams)+len(done))
	states = append(states, done...)
	for _, st := range md.streams {
		states = append(states, st)
	}
	slices.SortFunc(states, func(a, b *streamState) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		if c := a.key.Src.Compare(b.key.Src); c != 0 {
			return c
		}
		if c := a.key.Dst.Compare(b.key.Dst); c != 0 {
			return c
		}
		return cmp.Compare(a.key.SSRC, b.key.SSRC)
	})
	return states
}

// cutSpace splits s at its first space.
func cutSpace(s string) (string, string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// atoiPort parses a small decimal number (a port or payload type); -1 when
// s is not one.
func atoiPort(s string) int {
	if s == "" || len(s) > 5 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return -1
	}
	return n
}
