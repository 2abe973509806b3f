package main

import (
	"context"
	"io"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
)

// decodeJob reads captures and decodes them; it is the front of every
// command that works on files.
type decodeJob struct {
	files []string
	stdin io.Reader
	// src, when set, is read instead of files (a live capture); the
	// caller owns it and closes it.
	src      capture.Source
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
	src := j.src
	if src == nil {
		if len(j.files) == 0 {
			return res, usagef("no capture file given (use - for standard input)")
		}
		if err := checkInputs(j.files); err != nil {
			return res, err
		}
		var err error
		src, err = capture.Open(j.files, capture.Options{Stdin: j.stdin})
		if err != nil {
			return res, err
		}
		defer src.Close()
	}
	d := decode.New(j.opts, j.handler)
	var tick func()
	if prog, ok := src.(capture.Progresser); ok && j.progress != nil {
		tick = func() { j.progress(prog.Progress()) }
	}
	if err := d.Run(ctx, src, tick); err != nil {
		return res, err
	}
	res.Stats = d.Stats()
	res.Warnings = src.Warnings()
	return res, nil
}
