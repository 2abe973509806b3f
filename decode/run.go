package decode

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sipscope/sipscope/capture"
)

// HandlerFuncs adapts two functions to a Handler; a nil function ignores
// what it would have been given.
type HandlerFuncs struct {
	OnMessage func(*Message)
	OnEvent   func(*Event)
	// OnDatagram, when set, gets candidate RTP/RTCP datagrams (see
	// DatagramHandler).
	OnDatagram func(*Datagram)
}

// Datagram calls OnDatagram.
func (h HandlerFuncs) Datagram(dg *Datagram) {
	if h.OnDatagram != nil {
		h.OnDatagram(dg)
	}
}

// Message calls OnMessage.
func (h HandlerFuncs) Message(m *Message) {
	if h.OnMessage != nil {
		h.OnMessage(m)
	}
}

// Event calls OnEvent.
func (h HandlerFuncs) Event(e *Event) {
	if h.OnEvent != nil {
		h.OnEvent(e)
	}
}

// Run decodes every frame of src in order, then flushes the decoder. The
// TLS secrets of a source that carries them (capture.SecretsSource) are
// added as they come. Every
// 4096 frames it checks ctx (returning ctx.Err() without flushing when it is
// done) and calls tick, when tick is not nil. A read error is returned
// naming the input it came from.
func (d *Decoder) Run(ctx context.Context, src capture.Source, tick func()) error {
	var f capture.Frame
	// pcapng Decryption Secrets Blocks carry TLS keys (tls.go).
	secrets, _ := src.(capture.SecretsSource)
	for n := 0; ; n++ {
		if n&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if tick != nil {
				tick()
			}
		}
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", f.File, err)
		}
		if secrets != nil {
			if b := secrets.TLSSecrets(); b != nil {
				d.AddSecrets(b)
			}
		}
		d.Frame(&f)
	}
	d.Flush()
	if tick != nil {
		tick()
	}
	return nil
}
