package correlate

import (
	"time"

	"github.com/sipscope/sipscope/decode"
)

// Options configure correlation. Zero values mean defaults.
type Options struct {
	// Grace is the capture time a dialog is kept after it ends (final
	// response, BYE answered) before it is handed on; later messages would
	// reopen it as a continuation. Default 32s (RFC 3261 Timer B/F).
	Grace time.Duration
	// Idle hands on a dialog that has seen nothing for this long in capture
	// time, ended or not. Default 5m.
	Idle time.Duration
	// LinkHeaders name headers that carry another leg's Call-ID. Default
	// X-Call-ID, X-CID.
	LinkHeaders []string
}

// Sink receives finished dialogs with their messages, in the order they
// finish. The values are handed over: the correlator keeps no reference.
type Sink interface {
	Dialog(d *Dialog, msgs []*Message) error
}

// Correlator groups messages into dialogs and transactions. It is not safe
// for concurrent use. (stub: replaced by the correlator)
type Correlator struct {
	opts Options
	sink Sink
}

// New returns a correlator that hands finished dialogs to sink.
func New(opts Options, sink Sink) *Correlator { return &Correlator{opts: opts, sink: sink} }

// Add takes one message in capture order. m must own its memory (see
// decode.Message.Clone); the correlator keeps it until its dialog is handed on.
func (c *Correlator) Add(m *decode.Message) error { return nil }

// Event takes an ICMP error or similar event and attaches it to the request
// it quotes, when that request's dialog is still open.
func (c *Correlator) Event(e *decode.Event) error { return nil }

// Flush hands on every open dialog (end of input).
func (c *Correlator) Flush() error { return nil }
