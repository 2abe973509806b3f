package correlate

// Take returns the digits of the stream k, like Events, and forgets them:
// the next stream with the same 5-tuple and SSRC (the next call of a SIPp
// run reusing its ports and SSRC) starts with none. Call it when the media
// tracker hands the stream on (MediaOptions.Handoff), before it reads a
// later packet.
func (d *DTMF) Take(k StreamKey) []DTMFEvent {
	evs := d.Events(k)
	delete(d.streams, k)
	return evs
}
