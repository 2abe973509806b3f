package main

import (
	"fmt"
	"io"
	"time"
)

// progressBar draws one status line on a terminal's standard error: bytes
// read, messages and dialogs stored, rate and time left. It is only made when
// standard error is a terminal, so piped runs stay quiet.
type progressBar struct {
	w      io.Writer
	counts func() (messages, dialogs int64)
	start  time.Time
	last   time.Time
	drawn  bool
}

func newProgressBar(w io.Writer, counts func() (int64, int64)) *progressBar {
	now := time.Now()
	return &progressBar{w: w, counts: counts, start: now, last: now}
}

// update redraws at most five times a second.
func (p *progressBar) update(done, total int64) {
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	msgs, dialogs := p.counts()
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(done) / elapsed
	line := humanBytes(done)
	if total > 0 {
		pct := float64(done) * 100 / float64(total)
		line = fmt.Sprintf("%5.1f%% %s/%s", pct, humanBytes(done), humanBytes(total))
	}
	line += fmt.Sprintf("  %d messages  %d dialogs  %s/s", msgs, dialogs, humanBytes(int64(rate)))
	if total > 0 && rate > 0 && done < total {
		left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
		line += "  " + left.String() + " left"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

// done clears the line.
func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
