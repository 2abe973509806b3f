package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/net/bpf"

	"github.com/sipscope/sipscope/capture"
	bpfc "github.com/sipscope/sipscope/capture/bpf"
	"github.com/sipscope/sipscope/correlate"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// captureOptions are the flags of `sipscope capture`; the TUI builds them too.
type captureOptions struct {
	ifaces     []string
	filter     string
	db         string
	write      string
	rotateSize string
	rotateTime time.Duration
	snaplen    int
	buffer     string
	queue      string
	readers    int
	promisc    bool
	stats      bool
	quiet      bool
	links      linkOptions
	hep        hepOptions
	// keylog is the --keylog file of TLS secrets, re-read as the
	// capture meets sessions it has no keys for.
	keylog string
}

// captureStatus is what the status line (and the TUI) shows of a running
// capture.
type captureStatus struct {
	Elapsed        time.Duration
	Packets        int64             // frames read from the interfaces
	Messages       int64             // SIP messages decoded
	Dialogs        int64             // dialog records handed to the store
	Open           int               // dialogs in progress
	KernelDrops    int64             // packets the kernel dropped (ring full)
	QueuePeak      int64             // most bytes packets waited in between the rings and decoding (--queue)
	Queued         int64             // bytes packets wait in now
	HEPPackets     int64             // HEP packets received by --hep-listen
	HEPDropped     int64             // HEP packets dropped: not HEP, wrong password, or a flood
	DBSize         int64             // database file and its WAL, bytes (0 without --db)
	HEPQueued      int64             // HEP packets dropped over --limit-hep-queue (a flood)
	HEPRefused     int64             // HEP TCP connections refused over --limit-hep-conns
	Limits         decode.LimitStats // the decoder's --limit-* counts, at the end
	DialogsLimited int64             // dialogs stored early over --limit-dialogs, at the end
	Files          []string          // -w files written so far

	started bool // the interfaces were opened
}

func newCaptureCmd(io *streams) *cobra.Command {
	opts := &captureOptions{}
	cmd := &cobra.Command{
		Use:   "capture (-i IFACE[,IFACE...|any] | --hep-listen udp|tcp:ADDR:PORT) [--db PATH] [-w FILE] [--hep-send ADDR]",
		Short: "Capture SIP live from network interfaces",
		Long: `Capture packets live from one or more network interfaces (Linux, AF_PACKET with a
memory-mapped ring; no libpcap needed; needs root or CAP_NET_RAW), decode the SIP in
them and store every dialog in a database as it ends (--db), while "calls --db",
"show" and "flow" can read it. -w also writes every packet captured to a pcap file
(pcapng when the interfaces have several link types), starting a new numbered file
(out.1.pcap, out.2.pcap, …) every --rotate-size bytes or --rotate-time.

-i any is one socket on every interface, those that appear later included (a VPN
tunnel, a new VLAN), read from the IP header on; -w then writes raw IP.

Each ring (--buffer) is emptied at once into memory (--queue, used only when
decoding falls behind a burst), so a burst longer than the ring is not dropped;
--readers N reads each interface with N sockets in a fanout group, by flow.

By default nothing is filtered: SIP is found by its start line on any port, and IP
fragments and ICMP are kept (a "port 5060" filter loses fragmented INVITEs).
-f takes a tcpdump filter expression, run in the kernel.

--hep-listen receives HEP v1/v2/v3 from SIP servers (Kamailio siptrace, OpenSIPS,
FreeSWITCH, Asterisk res_hep, sngrep -H, other sipscope agents), alone or with -i;
--hep-send forwards every SIP message captured as HEPv3 to Homer or to a sipscope
collector.

It runs until Ctrl-C (SIGINT) or SIGTERM, then stores what it holds and exits 0.
On a terminal a status line shows packets, SIP messages, dialogs, calls in progress,
kernel drops and database size; kernel drops are also printed at the end.`,
		Example: `  sudo sipscope capture -i eth0 --db calls.db
  sudo sipscope capture -i any --db calls.db -w trace.pcap --rotate-size 100M
  sudo sipscope capture -i eth0,eth1 -f 'udp port 5060 or ip[6:2] & 0x1fff != 0' --db calls.db
  sudo sipscope capture -i any -f 'host 10.0.0.5 and (port 5060 or portrange 10000-20000)' --db calls.db
  sipscope capture --hep-listen udp:0.0.0.0:9060 --db fleet.db
  sudo sipscope capture -i eth0 --hep-send udp:collector:9060 --hep-name edge-1
  sudo sipscope capture -i eth0 -f 'tcp port 5061' --keylog /tmp/sslkeys.txt --db tls.db
  sipscope calls --db calls.db        # in another terminal, while it runs`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runCaptureCmd(c.Context(), opts, io)
		},
	}
	f := cmd.Flags()
	addLiveFlags(f, opts)
	f.StringVar(&opts.db, "db", "", "database `PATH` to store dialogs in (created or added to)")
	f.BoolVar(&opts.stats, "stats", false, "print counters (packets, messages, dialogs, drops) at the end")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no status line or summary on standard error")
	addKeylogFlag(f, &opts.keylog)
	addLinkFlags(cmd, &opts.links)
	return cmd
}

// addLiveFlags adds the flags of a live capture (interfaces, filter, -w
// and its rotation, ring, HEP in and out), shared by capture and tui -i.
func addLiveFlags(f *pflag.FlagSet, opts *captureOptions) {
	f.StringSliceVarP(&opts.ifaces, "interface", "i", nil, "capture on these interfaces: `IFACE`[,IFACE...] or any")
	f.StringVarP(&opts.filter, "filter", "f", "", "tcpdump filter `EXPR` (default: keep everything)")
	f.StringVarP(&opts.write, "write", "w", "", "also write the packets to capture `FILE`")
	f.StringVar(&opts.rotateSize, "rotate-size", "", "with -w, start a new numbered file after `SIZE` (e.g. 100M, 1G)")
	f.DurationVar(&opts.rotateTime, "rotate-time", 0, "with -w, start a new numbered file after `DURATION` (e.g. 1h)")
	f.IntVar(&opts.snaplen, "snaplen", 262144, "`BYTES` kept of each packet")
	f.StringVar(&opts.buffer, "buffer", "32M", "kernel ring `SIZE` per interface (e.g. 64M); bigger rides out bursts")
	f.StringVar(&opts.queue, "queue", "256M", "memory `SIZE` packets may wait in when decoding falls behind a burst (used only then)")
	f.IntVar(&opts.readers, "readers", 1, "`N` sockets read each interface in a fanout group (by flow); more if one cannot keep up")
	f.BoolVar(&opts.promisc, "promisc", false, "promiscuous mode: also traffic not addressed to this host")
	addHEPFlags(f, &opts.hep)
}

// parseSize reads a byte count with an optional K, M or G suffix (powers of
// 1024; a trailing B or iB is allowed).
func parseSize(flag, s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, usagef("--%s %q: want a size such as 64M or 1G", flag, s)
	}
	return v * mult, nil
}

func runCaptureCmd(ctx context.Context, opts *captureOptions, io *streams) error {
	if _, err := opts.check(); err != nil {
		return err
	}
	if opts.db == "" && opts.write == "" && opts.hep.send == "" {
		return usagef("capture needs --db PATH (store dialogs), -w FILE (write packets) or --hep-send ADDR (forward as HEP)")
	}
	var st *store.Store
	switch {
	case opts.db != "":
		var err error
		if st, err = store.Open(opts.db, store.Options{}); err != nil {
			return err
		}
		defer st.Close()
	case opts.hep.send != "":
		// Forwarding needs the decoder, which runs inside the import
		// pipeline; its dialogs go to a scratch store removed at the end.
		var err error
		if st, err = store.OpenTemp("", store.Options{DialogsOnly: true}); err != nil {
			return err
		}
		defer st.Close()
	}
	var status func(captureStatus)
	var line *statusLine
	if io.ErrTTY && !opts.quiet {
		line = &statusLine{w: io.ErrOut}
		status = line.draw
	}
	res, err := runCapture(ctx, opts, st, status)
	if line != nil {
		line.clear()
	}
	if st != nil {
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	if res.started && (!opts.quiet || opts.stats) {
		s := res
		switch {
		case opts.db != "" && len(opts.ifaces) == 0:
			// HEP only: no interface, so no packets or kernel drops of ours.
			fmt.Fprintf(io.ErrOut, "%s: %d SIP messages, %d dialogs in %s\n",
				opts.db, s.Messages, s.Dialogs, s.Elapsed.Round(time.Millisecond))
		case opts.db != "":
			fmt.Fprintf(io.ErrOut, "%s: %d packets, %d SIP messages, %d dialogs in %s; %d dropped by the kernel\n",
				opts.db, s.Packets, s.Messages, s.Dialogs, s.Elapsed.Round(time.Millisecond), s.KernelDrops)
		case len(opts.ifaces) > 0:
			fmt.Fprintf(io.ErrOut, "%d packets in %s; %d dropped by the kernel\n",
				s.Packets, s.Elapsed.Round(time.Millisecond), s.KernelDrops)
		}
		if opts.stats && len(opts.ifaces) > 0 {
			fmt.Fprintf(io.ErrOut, "queue: at most %s of packets waited for decoding (--queue %s)\n",
				humanBytes(s.QueuePeak), opts.queue)
		}
		if len(opts.hep.listen) > 0 {
			fmt.Fprintf(io.ErrOut, "HEP: %d packets received, %d dropped (not HEP, wrong --hep-password, or faster than decoded)\n",
				s.HEPPackets, s.HEPDropped)
		}
		if len(s.Files) > 0 {
			fmt.Fprintf(io.ErrOut, "wrote %s\n", strings.Join(s.Files, ", "))
		}
		// As messages --stats: which limits bit, naming the flag, the
		// HEP listeners' own among them.
		printLimits(io.ErrOut, "", s.Limits, s.DialogsLimited,
			limitRow{"--limit-hep-queue", "HEP packets dropped, decoding behind (flood)", s.HEPQueued},
			limitRow{"--limit-hep-conns", "HEP TCP connections refused", s.HEPRefused})
	}
	return err
}

// captureSizes are the sizes captureOptions give as text.
type captureSizes struct{ buffer, queue, rotate int64 }

// check validates the options before anything is opened.
func (opts *captureOptions) check() (captureSizes, error) {
	var sz captureSizes
	if len(opts.ifaces) == 0 && len(opts.hep.listen) == 0 {
		return sz, usagef("capture needs -i IFACE (comma-separated, or any) or --hep-listen udp|tcp:ADDR:PORT")
	}
	if opts.snaplen <= 0 || opts.snaplen > 262144 {
		return sz, usagef("--snaplen %d: want 1 to 262144", opts.snaplen)
	}
	var err error
	if sz.buffer, err = parseSize("buffer", opts.buffer); err != nil {
		return sz, err
	}
	if opts.readers < 1 || opts.readers > 64 {
		return sz, usagef("--readers %d: want 1 to 64", opts.readers)
	}
	if sz.queue, err = parseSize("queue", opts.queue); err != nil {
		return sz, err
	}
	if opts.rotateSize != "" {
		if sz.rotate, err = parseSize("rotate-size", opts.rotateSize); err != nil {
			return sz, err
		}
	}
	if (sz.rotate > 0 || opts.rotateTime > 0) && opts.write == "" {
		return sz, usagef("--rotate-size and --rotate-time need -w FILE")
	}
	return sz, nil
}

// runCapture captures on opts.ifaces until ctx is cancelled (then flushes
// and returns nil) or an interface fails (then what was captured is stored
// and the error returned). Dialogs go to st as they end when st is not
// nil. status, when set, is called about twice a second from another
// goroutine, and once at the end.
func runCapture(ctx context.Context, opts *captureOptions, st *store.Store, status func(captureStatus)) (captureStatus, error) {
	var final captureStatus
	sz, err := opts.check()
	if err != nil {
		return final, err
	}
	lopts := capture.LiveOptions{Snaplen: opts.snaplen, Buffer: int(sz.buffer), Queue: int(sz.queue), Readers: opts.readers, Promisc: opts.promisc}
	if opts.filter != "" {
		expr := opts.filter
		lopts.Filter = func(link capture.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
			prog, err := bpfc.Compile(expr, int(link), snaplen)
			if err != nil {
				return nil, usagef("-f %q: %v", expr, err)
			}
			return prog, nil
		}
	}
	var live capture.Live
	if len(opts.ifaces) > 0 {
		if live, err = capture.OpenLive(opts.ifaces, lopts); err != nil {
			return final, err
		}
	}
	// HEP listeners end when ctx does (SIGINT); they are fanned in with
	// the interfaces, and never block them (a full queue drops and counts).
	heps, err := opts.hep.listeners(ctx)
	if err != nil {
		if live != nil {
			live.Close()
		}
		return final, err
	}
	if len(heps) > 0 {
		srcs := heps
		if live != nil {
			srcs = append([]capture.Source{live}, heps...)
		}
		live = capture.Join(srcs...)
	}
	defer live.Close()
	sender, err := opts.hep.sender()
	if err != nil {
		return final, err
	}
	if sender != nil {
		defer sender.Close()
	}

	var src capture.Source = live
	var rot *capture.Rotator
	if opts.write != "" {
		var links []capture.LinkType
		if l, ok := live.(capture.Interfaces); ok {
			for _, ifc := range l.Interfaces() {
				links = append(links, ifc.Link)
			}
		}
		rot, err = capture.NewRotator(opts.write, capture.FormatFor(links...), sz.rotate, opts.rotateTime)
		if err != nil {
			return final, err
		}
		src = &teeSource{Source: live, w: rot}
	}

	start := time.Now()
	var msgs, dialogs atomic.Int64
	var open atomic.Int64
	snapshot := func() captureStatus {
		ls := live.Stats()
		s := captureStatus{Elapsed: time.Since(start), Packets: ls.Packets, KernelDrops: ls.KernelDrops, QueuePeak: ls.QueuePeak, Queued: ls.Queued,
			Messages: msgs.Load(), Dialogs: dialogs.Load(), Open: int(open.Load())}
		for _, h := range heps {
			if l, ok := h.(*capture.HEPListener); ok {
				hs := l.Stats()
				s.HEPPackets += int64(hs.Packets)
				s.HEPDropped += int64(hs.Bad + hs.BadPassword + hs.Dropped)
				s.HEPQueued += int64(hs.Dropped)
				s.HEPRefused += int64(hs.Refused)
			}
		}
		if opts.db != "" {
			s.DBSize = fileSize(opts.db) + fileSize(opts.db+"-wal")
		}
		if rot != nil {
			s.Files = rot.Files()
		}
		return s
	}

	// SIGINT ends the capture, not the pipeline: the sources stop, the
	// decoder, correlator and store drain and flush, and the run ends
	// normally.
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				live.Stop()
				return
			case <-stopped:
				return
			case <-tick.C:
				if status != nil {
					status(snapshot())
				}
			}
		}
	}()
	pctx := context.WithoutCancel(ctx)
	var runErr error
	var limits decode.LimitStats
	var dialogsLimited int64
	if st != nil {
		imp := &importer{store: st, src: src, io: &streams{ErrOut: io.Discard}, quiet: true, live: true, diagnose: true, keylog: opts.keylog,
			correlate: opts.links.options(), forward: hepForward(sender), decode: opts.links.limits.decode(),
			onMessage: func(cs correlate.Stats) {
				msgs.Store(cs.Messages)
				dialogs.Store(cs.Dialogs)
				// Frozen dialogs have ended and been stored; they wait
				// in Grace for late retransmissions only.
				open.Store(int64(cs.Open - cs.Frozen))
			}}
		var res importResult
		res, runErr = imp.run(pctx)
		limits, dialogsLimited = res.decode.Stats.Limits, res.correlate.DialogsLimited
	} else {
		// Only -w: no decoding.
		var f capture.Frame
		for {
			if err := src.Next(&f); err != nil {
				if err != io.EOF {
					runErr = err
				}
				break
			}
		}
	}
	close(stopped)
	wg.Wait()
	if rot != nil {
		if err := rot.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if tee, ok := src.(*teeSource); ok && tee.err != nil && runErr == nil {
		runErr = tee.err
	}
	if err := live.Err(); err != nil && runErr == nil {
		runErr = err
	}
	final = snapshot()
	final.Limits, final.DialogsLimited = limits, dialogsLimited
	final.started = true
	if status != nil {
		status(final)
	}
	return final, runErr
}

// teeSource writes every frame it hands on to a Rotator (-w). A write error
// ends the capture: the source then returns io.EOF and err is set.
type teeSource struct {
	capture.Source
	w     *capture.Rotator
	err   error
	since int
}

func (t *teeSource) Next(f *capture.Frame) error {
	if t.err != nil {
		return io.EOF
	}
	if err := t.Source.Next(f); err != nil {
		if err == io.EOF {
			// Frames written so far reach the file before the pipeline
			// winds down.
			t.w.Flush()
		}
		return err
	}
	if err := t.w.WriteFrame(f); err != nil {
		t.err = err
		return io.EOF
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// statusLine draws a capture's status on a terminal's standard error.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	drawn bool
}

func (l *statusLine) draw(s captureStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := fmt.Sprintf("%s  %d packets  %d SIP messages  %d dialogs  %d in progress  %d kernel drops",
		s.Elapsed.Round(time.Second), s.Packets, s.Messages, s.Dialogs, s.Open, s.KernelDrops)
	if s.Queued > 4<<20 {
		// Decoding is behind: packets wait in memory (--queue).
		line += "  queue " + humanBytes(s.Queued)
	}
	if s.DBSize > 0 {
		line += "  db " + humanBytes(s.DBSize)
	}
	fmt.Fprintf(l.w, "\r\033[K%s", line)
	l.drawn = true
}

func (l *statusLine) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprint(l.w, "\r\033[K")
	}
}

// hepForward sends every decoded message to Homer (or another collector) as
// HEPv3 with its original addresses and capture time; nil without a sender.
// A send error (a collector that is down) never stops the capture.
func hepForward(s *capture.HEPSender) func(*decode.Message) {
	if s == nil {
		return nil
	}
	return func(m *decode.Message) {
		proto := uint8(17) // UDP
		switch m.Transport {
		case decode.TCP, decode.TLS, decode.WS, decode.WSS:
			proto = 6
		case decode.SCTP:
			proto = 132
		}
		_ = s.Send(m.Src, m.Dst, proto, m.Time, m.Raw)
	}
}
