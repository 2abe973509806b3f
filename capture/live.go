package capture

import (
	"errors"

	"golang.org/x/net/bpf"
)

// ErrLiveUnsupported is returned by OpenLive where live capture is not
// built (every system but Linux).
var ErrLiveUnsupported = errors.New("live capture needs Linux (AF_PACKET); read capture files instead")

// LiveOptions tune OpenLive.
type LiveOptions struct {
	// Snaplen is the most bytes kept of each packet; 0 means 262144
	// (libpcap's MAXIMUM_SNAPLEN). The kernel cuts packets to it, so a
	// small snaplen also saves ring space.
	Snaplen int
	// Buffer is the size in bytes of each interface's memory-mapped ring;
	// 0 means 32 MiB. A bigger ring rides out longer bursts before the
	// kernel drops packets.
	Buffer int
	// Queue is the most memory, in bytes, that frames read from the rings
	// may wait in for the consumer (decoding, storing) when it falls behind
	// during a burst; 0 means 256 MiB. It is used only while behind. The
	// rings are emptied by a goroutine of their own into this queue, so a
	// burst longer than the ring holds is not dropped while there is room
	// here; past it the ring fills and the kernel counts its drops.
	Queue int
	// Readers is how many sockets read each interface, each with its own
	// ring (Buffer split between them) and goroutine, in one PACKET_FANOUT
	// group hashed by flow (PACKET_FANOUT_HASH: both directions of a
	// 5-tuple go to one reader); 0 or 1 means one. More readers help when
	// a single goroutine cannot copy packets out of the ring as fast as
	// the kernel fills it; frames of different flows may then reach Next
	// out of order by up to a ring block (64 ms), each keeping its
	// capture time.
	Readers int
	// Promisc puts the interfaces in promiscuous mode, to see traffic not
	// addressed to this host (a mirror port).
	Promisc bool
	// Filter, when set, returns the classic BPF program to attach in the
	// kernel for an interface of the given link type (a tcpdump
	// expression compiled for that link type). Nil keeps every packet:
	// SIP is found by its start line on any port, and IP fragments and
	// ICMP must reach the decoder.
	Filter func(link LinkType, snaplen int) ([]bpf.RawInstruction, error)
}

// LiveStats counts what a live source saw. Packets counts frames handed out
// by Next; KernelDrops the packets the kernel could not put in the ring
// because it was full (PACKET_STATISTICS tp_drops).
type LiveStats struct {
	Packets     int64
	KernelDrops int64
	// QueuePeak is the most memory, in bytes, frames waited in between
	// the rings and the consumer (LiveOptions.Queue).
	QueuePeak int64
	// Queued is the memory frames wait in now: more than a few MiB means
	// decoding is behind.
	Queued int64
}

// Live is a Source reading from network interfaces (or any other live feed,
// such as a HEP listener) that runs until it is stopped.
//
// Stop, Stats and Err are safe to call from any goroutine while Next runs.
type Live interface {
	Source
	// Stop makes Next return io.EOF within a fraction of a second, so the
	// pipeline can flush what it holds.
	Stop()
	// Stats reports counters so far.
	Stats() LiveStats
	// Err is the error that ended the capture early (an interface that
	// went away), or nil. Next returns io.EOF in that case too, so that
	// what was captured before is kept; callers check Err after.
	Err() error
}

// Interface is one interface a live source reads.
type Interface struct {
	Name string
	Link LinkType
}

// Interfaces is implemented by live sources that read interfaces: the
// interfaces, in Frame.Source order. -w picks its file format from their
// link types.
type Interfaces interface {
	Interfaces() []Interface
}

const (
	defaultSnaplen = 262144
	defaultBuffer  = 32 << 20
	defaultQueue   = 256 << 20
)
