package correlate

import (
	"math"
	"strings"
)

// The E-model of ITU-T G.107 (06/2015) rates a connection on the R scale
// (0 worst, 100 best for narrowband) from its impairments:
//
//	R = Ro - Is - Id - Ie,eff + A                        (G.107 §7.1, eq. 7-1)
//
// A passive capture knows neither the loudness ratings, nor the room
// noise, nor the echo path, so every input G.107 §7.7 gives a default is
// left at it: Ro - Is = 93.2 (the value the defaults of Table 1 produce),
// A = 0 (a wired connection), and the echo terms Idte and Idle of Id are
// taken as zero (echo cancelled; G.107 gives Idte ~ 0 for the default
// TELR at short delays anyway). What remains is the absolute-delay term
// Idd and the codec and loss term Ie,eff:
//
//	Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl/BurstR + Bpl)   (G.107 §7.5, eq. 7-29)
//	Idd = 0 for Ta <= 100 ms, else
//	Idd = 25 * ((1+X^6)^(1/6) - 3*(1+(X/3)^6)^(1/6) + 2), X = log2(Ta/100)   (§7.4)
//
// Ppl is the packet loss in percent, BurstR = 1 for random loss (the
// tracker does not keep loss runs, so loss is taken as random), and Ta the
// one-way mouth-to-ear delay: see EModelOptions for how it is assumed.
// R is turned into an estimated MOS (conversational quality) by G.107
// Annex B, eq. B-4 (MOSFromR).

// emodelRoIs is Ro - Is with every G.107 §7.7 Table 1 default.
const emodelRoIs = 93.2

// Impairment is a codec's E-model equipment impairment factor Ie and
// packet-loss robustness factor Bpl, with where the values come from.
type Impairment struct {
	Ie, Bpl float64
	Source  string
}

// CodecImpairment returns the published Ie and Bpl of a codec by its
// rtpmap encoding name (case-insensitive: "PCMU", "PCMA", "G729"), and
// false when sipscope has no published values for it (the stream is then
// "not scored"). plc says whether the receiver conceals lost packets;
// it matters for G.711 only (the other codecs have concealment built in).
//
// Values are ITU-T G.113 (11/2007) Appendix I provisional planning values:
// Table I.1 (Ie) and Table I.3 (Bpl, random loss):
//   - G.711 (PCMU, PCMA): Ie 0; Bpl 25.1 with the G.711 Appendix I PLC,
//     4.3 without concealment.
//   - G.729 (Annex A, the one deployed; RTP cannot tell it from the base
//     G.729 since both are "G729" and PT 18): Ie 11, Bpl 19.0 (the
//     G.729A+VAD row, 2 frames per packet).
//
// Every score is on the narrowband scale of G.107: R at most 93.2 here,
// MOS by its Annex B. Wideband codecs are not put on it. G.722 (and
// G.722.1, G.722.2) belong to the wideband E-model of G.107.1, whose
// scale runs to Ro = 129 and whose equipment impairment factors Ie,wb and
// Bpl are those of G.113 Appendix IV; a wideband R on this scale would be
// off by up to 35.8 points, and its MOS would need G.107.1 Annex A. We
// have not been able to read G.113 Appendix IV's G.722 rows (its text
// and that of the amendments were not in any source we could reach; no
// value seen elsewhere cited the table), so G.722 is "not scored". For
// Opus we found no Ie,wb, and the one derivation we found ("Derivation of
// Equipment Impairment Factors from ITU-T P.863 for Fullband Speech
// Codecs", for Opus in fullband mode) starts from there being no Ie,FB
// values for it: "not scored" too. A number without a source would be
// worse than none.
func CodecImpairment(codec string, plc bool) (Impairment, bool) {
	switch strings.ToUpper(codec) {
	case "PCMU", "PCMA", "G711", "G711U", "G711A":
		if plc {
			return Impairment{Ie: 0, Bpl: 25.1, Source: "G.113 Appendix I, G.711 with Appendix I PLC"}, true
		}
		return Impairment{Ie: 0, Bpl: 4.3, Source: "G.113 Appendix I, G.711 without PLC"}, true
	case "G729", "G729A", "G729AB":
		return Impairment{Ie: 11, Bpl: 19.0, Source: "G.113 Appendix I, G.729A"}, true
	}
	return Impairment{}, false
}

// EModelOptions are the assumptions of the scoring: what a passive
// capture cannot measure.
type EModelOptions struct {
	// NoPLC scores G.711 as if the receiver had no packet loss
	// concealment (Bpl 4.3 instead of 25.1). Off by default: every
	// current phone, gateway and PBX conceals loss.
	NoPLC bool
	// NetworkDelayMs is the one-way network delay to add to Ta. A capture
	// at one point cannot see it; 0 by default (a LAN).
	NetworkDelayMs float64
}

// Delay assumed on top of the network delay, per G.107 §7.4 (Ta is
// mouth-to-ear): one packet of packetization, and a jitter buffer twice
// the stream's mean interarrival jitter, at least 20 ms (an adaptive
// buffer that follows the jitter it meets; not the maximum, which one
// timestamp jump, a codec switch or a hold, can make seconds long). For
// G.711 on a LAN this stays under 100 ms, where Idd is zero.
const (
	minJitterBufferMs = 20
	defaultPacketMs   = 20
)

// RFactor is the G.107 R of a connection using codec imp with ppl percent
// of packets lost at random and a one-way mouth-to-ear delay of ta ms.
func RFactor(imp Impairment, ppl, ta float64) float64 {
	if ppl < 0 {
		ppl = 0 // duplicates outnumbering losses: nothing was lost
	}
	const burstR = 1
	ieEff := imp.Ie + (95-imp.Ie)*ppl/(ppl/burstR+imp.Bpl)
	return emodelRoIs - Idd(ta) - ieEff
}

// Idd is the G.107 §7.4 impairment of an absolute one-way delay of ta ms.
func Idd(ta float64) float64 {
	if ta <= 100 {
		return 0
	}
	x := math.Log2(ta / 100)
	return 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
}

// MOSFromR is G.107 Annex B, eq. B-4: the estimated mean opinion score
// (1 to 4.5) of a rating R.
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// minScoredPackets is the least a stream must carry to be scored: a loss
// percentage over fewer packets (under a second) says little.
const minScoredPackets = 25

// Score returns the R-factor and MOS of a stream from its codec, loss and
// jitter, and false when its codec has no published Ie/Bpl or it is too
// short. The packet interval is read from the payload size (G.711 carries
// 8 bytes per ms, G.729 1 byte per ms: RFC 3551 §4.5), not from the
// stream's duration, which silence suppression and holds stretch.
func Score(s *Stream, o EModelOptions) (r, mos float64, ok bool) {
	imp, ok := CodecImpairment(s.Codec, !o.NoPLC)
	if !ok || s.Packets < minScoredPackets || s.Expected <= 0 {
		return 0, 0, false
	}
	packetMs := float64(defaultPacketMs)
	if s.Bytes > 0 {
		per := float64(s.Bytes) / float64(s.Packets)
		switch strings.ToUpper(s.Codec) {
		case "PCMU", "PCMA", "G711", "G711U", "G711A":
			packetMs = per / 8
		case "G729", "G729A", "G729AB":
			packetMs = per
		}
		packetMs = min(max(packetMs, 10), 60)
	}
	ta := o.NetworkDelayMs + packetMs + max(minJitterBufferMs, 2*s.JitterMeanMs)
	r = RFactor(imp, s.MissingPct(), ta) // a duplicate fills no gap (Stream.Missing)
	return r, MOSFromR(r), true
}

// ScoreStreams fills RFactor and MOS of every stream that can be scored
// (and leaves the others nil: "not scored").
func ScoreStreams(ss []Stream, o EModelOptions) {
	for i := range ss {
		ss[i].RFactor, ss[i].MOS = nil, nil
		if r, m, ok := Score(&ss[i], o); ok {
			r, m := round2(r), round2(m)
			ss[i].RFactor, ss[i].MOS = &r, &m
		}
	}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
