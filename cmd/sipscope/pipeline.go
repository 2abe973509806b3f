package main

import (
	"context"
	"fmt"
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
	// keylog, when set, is the --keylog file of TLS secrets.
	keylog string
}

// decodeResult is what a run of the front half of the pipeline found.
type decodeResult struct {
	Stats    decode.Stats
	Warnings []string // problems that did not stop reading, each naming its file
	// TLSMissing names (by client random) the TLS sessions without keys.
	TLSMissing []string
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
	var keyWarn string
	if j.keylog != "" {
		kr, warn, err := openKeylog(j.keylog)
		if err != nil {
			return res, err
		}
		keyWarn = warn
		j.opts.Keys = kr.keys
		if j.src != nil {
			// Live: the peers append to the key log as they connect.
			j.opts.MoreKeys = func() bool { ok, _ := kr.more(); return ok }
		}
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
	if keyWarn != "" {
		res.Warnings = append(res.Warnings, keyWarn)
	}
	res.TLSMissing = d.TLSMissing()
	// The TLS notes are about the whole run: they name its captures, as
	// every warning names the file it is about.
	for _, n := range tlsNotes(res.Stats, res.TLSMissing, j.keylog) {
		res.Warnings = append(res.Warnings, inputsName(j.files)+": "+n)
	}
	return res, nil
}

// inputsName names a run's captures in a warning: the file, the first of
// several, or standard input.
func inputsName(files []string) string {
	switch {
	case len(files) == 0:
		return "live capture"
	case len(files) == 1 && files[0] == "-":
		return "standard input"
	case len(files) == 1:
		return files[0]
	}
	return fmt.Sprintf("%s (and %d more)", files[0], len(files)-1)
}
