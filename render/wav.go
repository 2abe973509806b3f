package render

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// Audio collects the G.711 audio of one call's RTP streams as 16-bit
// linear PCM, placed by RTP timestamp, so that WAV can write it with one
// channel per direction and silence where packets were lost. Feed it with
// Packet as a correlate.PacketSink. Memory grows with the call's length
// (16 KB per second and direction), bounded by MaxAudio. Not safe for
// concurrent use.
type Audio struct {
	callID string
	tracks map[correlate.StreamKey]*audioTrack
	order  []correlate.StreamKey
	// Skipped counts G.711 packets left out: before their stream's first
	// timestamp (reordered) or beyond MaxAudio.
	Skipped int
}

// MaxAudio is the longest audio one stream keeps: 4 hours.
const MaxAudio = 4 * time.Hour

const audioRate = 8000 // G.711 sample rate (RFC 3551 §4.5.14), one sample per byte

type audioTrack struct {
	first   time.Time // arrival of the first G.711 packet
	ts0     uint32
	samples []int16
}

// NewAudio returns an Audio that keeps the streams of callID only.
func NewAudio(callID string) *Audio {
	return &Audio{callID: callID, tracks: map[correlate.StreamKey]*audioTrack{}}
}

// Packet takes one RTP packet. PCMU and PCMA payloads (RFC 3551 §4.5.14)
// of the call are decoded at their timestamp's place; anything else
// (telephone events, comfort noise, other codecs) leaves silence there.
// p is not retained.
func (a *Audio) Packet(p *correlate.RTPPacket) {
	if p.CallID != a.callID {
		return
	}
	law := decode.G711Law(p.Encoding)
	if law == decode.NotG711 {
		return
	}
	t := a.tracks[p.Key]
	if t == nil {
		t = &audioTrack{first: p.Arrival, ts0: p.Timestamp}
		a.tracks[p.Key] = t
		a.order = append(a.order, p.Key)
	}
	// RFC 3550 §5.1: the timestamp counts samples; a signed difference
	// survives its wrap.
	pos := int64(int32(p.Timestamp - t.ts0))
	end := pos + int64(len(p.Payload))
	if pos < 0 || end > int64(MaxAudio/time.Second)*audioRate {
		a.Skipped++
		return
	}
	if int64(len(t.samples)) < end {
		t.samples = append(t.samples, make([]int16, end-int64(len(t.samples)))...)
	}
	law.Decode(t.samples[pos:end], p.Payload)
}

// ErrNoAudio is returned by WAV when the call had no G.711 packets.
var ErrNoAudio = errors.New("no G.711 (PCMU or PCMA) audio")

// WAV writes the collected audio as a 16-bit PCM WAV file at 8000 Hz with
// two channels: left is what the caller sent, right what the callee sent
// (by the Direction of streams; a stream of unknown direction takes the
// channel still free, the left first). Streams line up by the arrival of
// their first packet; where a direction had no packet there is silence.
func (a *Audio) WAV(w io.Writer, streams []correlate.Stream) error {
	if len(a.tracks) == 0 {
		return ErrNoAudio
	}
	dir := map[correlate.StreamKey]correlate.Direction{}
	for _, s := range streams {
		dir[correlate.StreamKey{Src: s.Src, Dst: s.Dst, SSRC: s.SSRC}] = s.Direction
	}
	var origin time.Time
	for _, k := range a.order {
		if f := a.tracks[k].first; origin.IsZero() || f.Before(origin) {
			origin = f
		}
	}
	var ch [2][]int16
	used := [2]bool{}
	for _, k := range a.order {
		c := 0
		switch dir[k] {
		case correlate.DirectionFromCallee:
			c = 1
		case correlate.DirectionFromCaller:
		default:
			if used[0] && !used[1] {
				c = 1
			}
		}
		used[c] = true
		t := a.tracks[k]
		off := int(t.first.Sub(origin) * audioRate / time.Second)
		if need := off + len(t.samples); len(ch[c]) < need {
			ch[c] = append(ch[c], make([]int16, need-len(ch[c]))...)
		}
		for i, s := range t.samples {
			// A later stream of the same direction (a new SSRC after a
			// re-INVITE) writes over silence only.
			if s != 0 || ch[c][off+i] == 0 {
				ch[c][off+i] = s
			}
		}
	}
	n := max(len(ch[0]), len(ch[1]))
	return writeWAV(w, ch[:], n)
}

// writeWAV writes the RIFF/WAVE header (format 1, PCM) and n frames of
// interleaved channels, padding short channels with silence.
func writeWAV(w io.Writer, ch [][]int16, n int) error {
	const bits = 16
	nch := len(ch)
	data := n * nch * bits / 8
	if data > 1<<32-1-36 {
		return fmt.Errorf("WAV: %d bytes of audio is over the format's 4 GB", data)
	}
	bw := bufio.NewWriter(w)
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // WAVE_FORMAT_PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(nch))
	binary.LittleEndian.PutUint32(h[24:], audioRate)
	binary.LittleEndian.PutUint32(h[28:], uint32(audioRate*nch*bits/8))
	binary.LittleEndian.PutUint16(h[32:], uint16(nch*bits/8))
	binary.LittleEndian.PutUint16(h[34:], bits)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	if _, err := bw.Write(h); err != nil {
		return err
	}
	var s [2]byte
	for i := 0; i < n; i++ {
		for c := range ch {
			var v int16
			if i < len(ch[c]) {
				v = ch[c][i]
			}
			binary.LittleEndian.PutUint16(s[:], uint16(v))
			if _, err := bw.Write(s[:]); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
