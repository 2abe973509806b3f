package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
)

// decodeJob reads captures and decodes them; it is the front of every
// command that works on files.
type decodeJob struct {
	files    []string
	stdin    io.Reader
	opts     decode.Options
	handler  decode.Handler
	progress func(done, total int64) // called now and then when set
}

// decodeResult is what a run of the front half of the pipeline found.
type decodeResult struct {
	Stats    decode.Stats
	Warnings []string // problems that did not stop reading, each naming its file
}

// run decodes every frame of every file in capture order. It stops early
// when ctx is cancelled (returning ctx.Err()).
func (j *decodeJob) run(ctx context.Context) (decodeResult, error) {
	var res decodeResult
	if len(j.files) == 0 {
		return res, usagef("no capture file given (use - for standard input)")
	}
	src, err := capture.Open(j.files, capture.Options{Stdin: j.stdin})
	if err != nil {
		return res, err
	}
	defer src.Close()
	d := decode.New(j.opts, j.handler)
	prog, _ := src.(capture.Progresser)
	var f capture.Frame
	for n := 0; ; n++ {
		if n&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if j.progress != nil && prog != nil {
				j.progress(prog.Progress())
			}
		}
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("read %s: %w", f.File, err)
		}
		d.Frame(&f)
	}
	d.Flush()
	if j.progress != nil && prog != nil {
		j.progress(prog.Progress())
	}
	res.Stats = d.Stats()
	res.Warnings = src.Warnings()
	return res, nil
}

// handlerFuncs adapts functions to decode.Handler.
type handlerFuncs struct {
	message func(*decode.Message)
	event   func(*decode.Event)
}

func (h handlerFuncs) Message(m *decode.Message) {
	if h.message != nil {
		h.message(m)
	}
}

func (h handlerFuncs) Event(e *decode.Event) {
	if h.event != nil {
		h.event(e)
	}
}
