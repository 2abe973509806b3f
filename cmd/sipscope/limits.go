package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
)

// limitOptions are the bounds on what strangers' traffic may make sipscope
// hold (issue 13): each has a default that keeps memory flat, and a
// --limit-* flag. When one bites, the oldest state is dropped (or the
// oversized input skipped) and counted; --stats says which and how often.
type limitOptions struct {
	message, line, tcpBuffer, fragBytes, hep sizeValue
	headers, tcpStreams, fragDatagrams       int
	dialogs, sdpMedia                        int
	fragAge                                  time.Duration
}

// addLimitFlags registers the --limit-* flags with their defaults (those of
// decode.Options and correlate.Options, spelled out so --help shows them).
func addLimitFlags(cmd *cobra.Command, o *limitOptions) {
	o.message, o.line, o.tcpBuffer, o.fragBytes, o.hep = 256<<10, 16<<10, 1<<20, 24<<20, 65535
	f := cmd.Flags()
	f.Var(&o.message, "limit-message", "largest SIP message `SIZE` read (bigger ones are skipped)")
	f.IntVar(&o.headers, "limit-headers", 256, "header lines kept of a message (`N`; it is read with its first ones and a warning beyond)")
	f.Var(&o.line, "limit-line", "longest start or header line (`SIZE`)")
	f.IntVar(&o.tcpStreams, "limit-tcp-streams", 1<<16, "TCP directions followed at once (`N`; an idle one is dropped beyond)")
	f.Var(&o.tcpBuffer, "limit-tcp-buffer", "bytes held per TCP direction behind a gap (`SIZE`)")
	f.Var(&o.fragBytes, "limit-frag-bytes", "bytes held for IP reassembly in all (`SIZE`; the oldest datagram is dropped beyond)")
	f.IntVar(&o.fragDatagrams, "limit-frag-datagrams", 8192, "incomplete IP datagrams held at once (`N`)")
	f.DurationVar(&o.fragAge, "limit-frag-age", 30*time.Second, "capture time an incomplete IP datagram waits (`DURATION`)")
	f.IntVar(&o.dialogs, "limit-dialogs", 50000, "dialogs in progress at once (`N`; the oldest is stored early beyond)")
	f.Var(&o.hep, "limit-hep", "largest HEP packet (`SIZE`)")
	f.IntVar(&o.sdpMedia, "limit-sdp-media", 64, "SDP m= lines read per body (`N`)")
}

// decode returns the decoder options these limits give. A zero value
// (flags not registered) gives the decoder's defaults.
func (o *limitOptions) decode() decode.Options {
	return decode.Options{
		MaxMessage: int(o.message), MaxLine: int(o.line), MaxTCPBuffer: int(o.tcpBuffer),
		MaxFragBytes: int(o.fragBytes), MaxHEP: int(o.hep), MaxHeaders: o.headers,
		MaxTCPStreams: o.tcpStreams, MaxFragDatagrams: o.fragDatagrams, FragTimeout: o.fragAge,
		MaxSDPMedia: o.sdpMedia,
	}
}

// correlate sets the correlator's limits in c.
func (o *limitOptions) correlate(c correlate.Options) correlate.Options {
	c.MaxDialogs = o.dialogs
	return c
}

// printLimits says, after --stats, which limits bit and how often, naming
// the flag that raises each; nothing when none did.
// extra are rows of limits outside the decoder and correlator (a HEP
// listener's), printed after theirs.
func printLimits(w io.Writer, prefix string, s decode.LimitStats, dialogs int64, extra ...limitRow) {
	rows := []limitRow{
		{"--limit-message", "messages too large, skipped", s.Message},
		{"--limit-headers", "messages with too many headers (the first kept)", s.Headers},
		{"--limit-line", "messages with a line too long", s.Line},
		{"--limit-sdp-media", "SDP bodies with too many m= lines", s.SDPMedia},
		{"--limit-tcp-streams", "TCP streams dropped (oldest)", s.TCPStreams},
		{"--limit-tcp-buffer", "TCP gaps skipped, buffer full", s.TCPBuffer},
		{"--limit-frag-datagrams", "fragmented datagrams dropped (oldest)", s.FragDatagrams},
		{"--limit-frag-bytes", "fragmented datagrams dropped (oldest)", s.FragBytes},
		{"--limit-frag-age", "fragmented datagrams expired", s.FragAge},
		{"--limit-hep", "HEP packets too large, dropped", s.HEP},
		{"--limit-dialogs", "dialogs stored early (oldest)", dialogs},
	}
	for _, r := range append(rows, extra...) {
		if r.n > 0 {
			fmt.Fprintf(w, "%slimit %-22s %d %s\n", prefix, r.flag, r.n, r.what)
		}
	}
}

// limitRow is one line of printLimits: the flag, what biting it did, how
// often.
type limitRow struct {
	flag, what string
	n          int64
}

// sizeValue is a flag holding a byte count written 64K, 16M, 1G or plain.
type sizeValue int64

func (v *sizeValue) String() string {
	n := int64(*v)
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

func (v *sizeValue) Set(s string) error {
	n, err := parseSize("", s)
	if err != nil || n == 0 || n > 1<<31 {
		return fmt.Errorf("want a size such as 64K or 16M")
	}
	*v = sizeValue(n)
	return nil
}

func (v *sizeValue) Type() string { return "SIZE" }
