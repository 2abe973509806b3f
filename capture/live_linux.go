//go:build linux

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ARPHRD_ values (linux/if_arp.h) of interfaces whose frames carry an
// Ethernet header on an AF_PACKET SOCK_RAW socket. Linux loopback frames
// have one too, with zero addresses.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// OpenLive opens the named interfaces for capture ("any" means every
// interface that is up now) and returns a Live source of their frames.
//
// Each interface gets its own AF_PACKET socket with a memory-mapped
// TPACKET_V3 ring (gopacket's afpacket, pure Go): the kernel fills blocks of
// packets and hands a block over when full or after 64 ms, so a capture
// costs one poll per block, not one system call per packet. Several
// interfaces are read in parallel and fanned in with Join. A goroutine
// empties the rings into a queue in memory (LiveOptions.Queue) that the
// returned source's Next reads, so that a consumer that falls behind for a
// while makes frames wait there rather than the kernel drop them.
//
// Ethernet and loopback interfaces are read with their link header
// (LinkEthernet); others (tun, ppp, GRE…) from the network header on
// (SOCK_DGRAM, LinkRaw). On loopback, the copy of each packet the kernel
// shows as sent is dropped in the kernel, since it is seen again as
// received (libpcap does the same).
//
// Needs CAP_NET_RAW (root). An unknown interface, or one that is not up, is
// an error naming it.
func OpenLive(ifaces []string, opts LiveOptions) (Live, error) {
	if opts.Snaplen <= 0 {
		opts.Snaplen = defaultSnaplen
	}
	if opts.Buffer <= 0 {
		opts.Buffer = defaultBuffer
	}
	names, err := expandAny(ifaces)
	if err != nil {
		return nil, err
	}
	if opts.Queue <= 0 {
		opts.Queue = defaultQueue
	}
	readers := max(opts.Readers, 1)
	var srcs []Source
	var index []int
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for i, name := range names {
		ring := opts
		ring.Buffer = max(opts.Buffer/readers, 1<<20)
		for r := 0; r < readers; r++ {
			s, err := openInterface(i, name, ring)
			if err != nil {
				closeAll()
				return nil, err
			}
			srcs = append(srcs, s)
			index = append(index, i)
			if readers == 1 {
				continue
			}
			if err := s.tp.SetFanout(afpacket.FanoutHash, fanoutID(s.ifindex)); err != nil {
				closeAll()
				return nil, fmt.Errorf("capture on %s: fanout of %d readers: %w", name, readers, err)
			}
		}
	}
	if len(srcs) == 1 {
		return newHandoff(srcs[0].(*liveSource), opts.Queue), nil
	}
	return newHandoff(joinMapped(srcs, index), opts.Queue), nil
}

// fanoutID names the PACKET_FANOUT group of one interface's readers. Groups
// are shared by every socket of the network namespace that joins the same
// id (even in another process), so it is made from our pid and the
// interface: two sipscope processes, or one with several interfaces, do
// not mix their packets.
func fanoutID(ifindex int) uint16 {
	return uint16(os.Getpid()*131 + ifindex)
}

// expandAny replaces "any" by the interfaces that are up and checks the
// rest exist.
func expandAny(ifaces []string) ([]string, error) {
	if len(ifaces) == 0 {
		return nil, errors.New("no interface given")
	}
	var names []string
	seen := map[string]bool{}
	for _, name := range ifaces {
		name = strings.TrimSpace(name)
		if name == "any" {
			all, err := net.Interfaces()
			if err != nil {
				return nil, fmt.Errorf("list interfaces: %w", err)
			}
			for _, ifc := range all {
				if ifc.Flags&net.FlagUp != 0 && !seen[ifc.Name] {
					seen[ifc.Name] = true
					names = append(names, ifc.Name)
				}
			}
			continue
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("no interface is up")
	}
	return names, nil
}

// liveSource reads one interface.
type liveSource struct {
	index   int
	name    string
	ifindex int
	link    LinkType
	snaplen int
	tp      *afpacket.TPacket

	number     int64
	lastCheck  time.Time
	stopped    atomic.Bool
	packets    atomic.Int64
	mu         sync.Mutex // guards err and closed
	err        error
	closed     bool
	finalDrops int64 // drops when closed
}

func openInterface(index int, name string, opts LiveOptions) (*liveSource, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("interface %s: no such interface (list them with `ip link`)", name)
	}
	if ifc.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("interface %s is down (ip link set %s up)", name, name)
	}
	hw, err := arphrd(name)
	if err != nil {
		return nil, err
	}
	s := &liveSource{index: index, name: name, ifindex: ifc.Index, snaplen: opts.Snaplen}
	sock := afpacket.SocketRaw
	s.link = LinkEthernet
	if hw != arphrdEther && hw != arphrdLoopback {
		sock, s.link = afpacket.SocketDgram, LinkRaw
	}
	// Frames are 2^n bytes within 512 KiB blocks; TPACKET_V3 packs packets
	// of any size into a block, so frame size only bounds the largest.
	const block = 1 << 19
	blocks := max(opts.Buffer/block, 2)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptSocketType(sock),
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(64*time.Millisecond),
		// Wake up now and then to see Stop even when no packet comes.
		afpacket.OptPollTimeout(100*time.Millisecond),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, fmt.Errorf("capture on %s: %w (needs root or CAP_NET_RAW)", name, err)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	s.tp = tp
	prog, err := s.program(opts, hw == arphrdLoopback)
	if err != nil {
		tp.Close()
		return nil, err
	}
	if len(prog) > 0 {
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("attach filter on %s: %w", name, err)
		}
	}
	if opts.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("promiscuous mode on %s: %w", name, err)
		}
	}
	return s, nil
}

// program is the kernel filter: on loopback a prologue dropping the sent
// copy of each packet, then the user's filter, or a "keep snaplen bytes"
// when there is none.
func (s *liveSource) program(opts LiveOptions, loopback bool) ([]bpf.RawInstruction, error) {
	var user []bpf.RawInstruction
	if opts.Filter != nil {
		var err error
		user, err = opts.Filter(s.link, s.snaplen)
		if err != nil {
			return nil, fmt.Errorf("filter for %s: %w", s.name, err)
		}
	}
	if len(user) == 0 {
		if !loopback && s.snaplen >= defaultSnaplen {
			return nil, nil // keep everything whole: no program at all
		}
		var err error
		user, err = bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: uint32(s.snaplen)}})
		if err != nil {
			return nil, err
		}
	}
	if !loopback {
		return user, nil
	}
	pro, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType}, // skb->pkt_type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		return nil, err
	}
	// Classic BPF jumps are relative, so the user's program still works
	// after the prologue.
	return append(pro, user...), nil
}

// arphrd asks the kernel for an interface's hardware type (ARPHRD_*): the
// sa_family of its SIOCGIFHWADDR address. Unlike /sys/class/net, the ioctl
// answers for the caller's network namespace.
func arphrd(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("interface %s: hardware type: %w", name, err)
	}
	return int(ifr.Uint16()), nil
}

// Next implements Source. Data aliases the ring: it is valid until the next
// call, when the block it lies in may go back to the kernel.
func (s *liveSource) Next(f *Frame) error {
	for {
		if s.stopped.Load() {
			return io.EOF
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			if time.Since(s.lastCheck) > time.Second {
				s.lastCheck = time.Now()
				if err := s.check(); err != nil {
					return s.fail(err)
				}
			}
			continue
		}
		if err != nil {
			if cerr := s.check(); cerr != nil {
				return s.fail(cerr)
			}
			return s.fail(fmt.Errorf("capture on %s: %w", s.name, err))
		}
		s.number++
		s.packets.Add(1)
		if len(data) > s.snaplen {
			data = data[:s.snaplen]
		}
		*f = Frame{
			Source:  s.index,
			File:    s.name,
			Number:  s.number,
			Time:    ci.Timestamp.UTC(),
			Link:    s.link,
			Data:    data,
			OrigLen: ci.Length,
		}
		return nil
	}
}

// check reports an interface that went away or down.
func (s *liveSource) check() error {
	ifc, err := net.InterfaceByIndex(s.ifindex)
	if err != nil || ifc.Name != s.name {
		return fmt.Errorf("interface %s went away during the capture", s.name)
	}
	if ifc.Flags&net.FlagUp == 0 {
		return fmt.Errorf("interface %s went down during the capture", s.name)
	}
	return nil
}

// fail records err and ends the source: what was read is kept.
func (s *liveSource) fail(err error) error {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.stopped.Store(true)
	return io.EOF
}

// Stop implements Live.
func (s *liveSource) Stop() { s.stopped.Store(true) }

// Err implements Live.
func (s *liveSource) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stats implements Live. The kernel's counters are read (and reset) by
// the socket option; afpacket sums them.
func (s *liveSource) Stats() LiveStats {
	st := LiveStats{Packets: s.packets.Load()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return LiveStats{Packets: st.Packets, KernelDrops: s.finalDrops}
	}
	if _, v3, err := s.tp.SocketStats(); err == nil {
		st.KernelDrops = int64(v3.Drops())
		s.finalDrops = st.KernelDrops
	}
	return st
}

// Interfaces implements Interfaces.
func (s *liveSource) Interfaces() []Interface { return []Interface{{s.name, s.link}} }

// Warnings implements Source: a live source has none.
func (s *liveSource) Warnings() []string { return nil }

// Close implements io.Closer: it frees the ring and the socket.
func (s *liveSource) Close() error {
	s.Stats() // keep the last drop count
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.tp.Close()
	}
	return nil
}
