package correlate

import (
	"strings"
	"time"
)

// TimelinePoint is one interval of a stream's timeline: what arrived in
// it, what RFC 3550 A.3 says was lost, and the A.8 jitter estimate.
type TimelinePoint struct {
	Start    time.Time // start of the interval (the stream's first packet + i*Step)
	Packets  int       // packets that arrived in it (duplicates and RFC 4733 events included)
	Lost     int       // sequence numbers the interval advanced past minus Packets (negative with duplicates)
	JitterMs float64   // the running A.8 estimate at the interval's last packet
	MaxMs    float64   // its highest value within the interval
}

// StreamTimeline records a per-interval series of loss and jitter for every RTP
// stream it is fed (Packet is a PacketSink), for a loss/jitter chart. Memory
// per stream is one TimelinePoint per Step of the stream's length, at most
// MaxTimelinePoints (then the series stops: Truncated). Not safe for
// concurrent use.
type StreamTimeline struct {
	// Step is the interval length (1 s when zero).
	Step    time.Duration
	streams map[StreamKey]*timelineState
}

// MaxTimelinePoints bounds a stream's series: 4 hours at 1 s.
const MaxTimelinePoints = 4 * 3600

type timelineState struct {
	first      time.Time
	points     []TimelinePoint
	truncated  bool
	maxExt     int64 // highest extended sequence number so far (RFC 3550 A.1)
	prevMax    int64 // maxExt at the end of the previous interval
	started    bool
	transit    float64 // RFC 3550 A.8: previous relative transit time, in timestamp units
	hasTransit bool
	jitter     float64 // in timestamp units
}

// NewStreamTimeline returns a StreamTimeline with intervals of step (1 s when zero).
func NewStreamTimeline(step time.Duration) *StreamTimeline {
	if step <= 0 {
		step = time.Second
	}
	return &StreamTimeline{Step: step, streams: map[StreamKey]*timelineState{}}
}

// Packet takes one RTP packet. RFC 4733 events and comfort noise count
// as packets and sequence numbers (they share the stream's numbering) but
// are left out of the jitter, as the stream statistics leave them out:
// an event's timestamps stay at its start. p is not retained.
func (tl *StreamTimeline) Packet(p *RTPPacket) {
	noJitter := strings.EqualFold(p.Encoding, "telephone-event") || strings.EqualFold(p.Encoding, "CN") || p.PayloadType == 13
	st := tl.streams[p.Key]
	if st == nil {
		st = &timelineState{first: p.Arrival}
		tl.streams[p.Key] = st
	}
	if st.truncated {
		return
	}
	i := int(p.Arrival.Sub(st.first) / tl.Step)
	if i < 0 {
		i = 0 // a capture's clock stepping back: count it in the first interval
	}
	if i >= MaxTimelinePoints {
		st.truncated = true
		return
	}
	for len(st.points) <= i {
		// Close the interval: what the highest sequence advanced by in it.
		if n := len(st.points); n > 0 {
			st.close(n - 1)
		}
		st.points = append(st.points, TimelinePoint{Start: st.first.Add(time.Duration(len(st.points)) * tl.Step)})
		if len(st.points) > 1 {
			pt := &st.points[len(st.points)-1]
			pt.JitterMs = st.points[len(st.points)-2].JitterMs
		}
	}
	pt := &st.points[i]
	pt.Packets++
	// RFC 3550 A.1: extend the 16-bit sequence by the nearest cycle.
	seq := int64(p.Seq)
	if !st.started {
		st.started, st.maxExt, st.prevMax = true, seq, seq-1
	} else {
		ext := st.maxExt&^0xffff | seq
		switch {
		case ext < st.maxExt-0x8000:
			ext += 0x10000
		case ext > st.maxExt+0x8000:
			ext -= 0x10000
		}
		if ext > st.maxExt {
			st.maxExt = ext
		}
	}
	if noJitter {
		return
	}
	// RFC 3550 A.8: J += (|D| - J)/16 over the relative transit times.
	clock := p.ClockRate
	if clock <= 0 {
		clock = 8000
	}
	transit := float64(p.Arrival.UnixNano())*float64(clock)/1e9 - float64(p.Timestamp)
	if st.hasTransit {
		d := transit - st.transit
		if d < 0 {
			d = -d
		}
		// A timestamp wrap shows as a jump of 2^32 units: not jitter.
		if d < 1<<31 {
			st.jitter += (d - st.jitter) / 16
		}
	}
	st.transit, st.hasTransit = transit, true
	ms := st.jitter * 1000 / float64(clock)
	pt.JitterMs = ms
	pt.MaxMs = max(pt.MaxMs, ms)
}

// close sets the loss of interval n from the sequence numbers it advanced.
func (st *timelineState) close(n int) {
	pt := &st.points[n]
	pt.Lost = int(st.maxExt-st.prevMax) - pt.Packets
	st.prevMax = st.maxExt
}

// Series returns the timeline of one stream (nil when it had no media
// packets) and whether it was cut at MaxTimelinePoints.
func (tl *StreamTimeline) Series(k StreamKey) ([]TimelinePoint, bool) {
	st := tl.streams[k]
	if st == nil || len(st.points) == 0 {
		return nil, false
	}
	out := append([]TimelinePoint(nil), st.points...)
	// The last interval is still open: close it on the copy.
	last := &out[len(out)-1]
	last.Lost = int(st.maxExt-st.prevMax) - last.Packets
	return out, st.truncated
}
