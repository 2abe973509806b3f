//go:build linux

package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
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

// OpenLive opens the named interfaces for capture and returns a Live
// source of their frames. "any" (alone or among names) is one socket bound
// to no interface, as libpcap's "any": it sees every interface of the
// network namespace, including those that appear after the capture
// started (a VPN tunnel, a new VLAN), from the network header on
// (LinkRaw), with frames named "any".
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
	if slices.Contains(names, "any") {
		names = []string{"any"}
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

// expandAny trims and deduplicates the names.
func expandAny(ifaces []string) ([]string, error) {
	if len(ifaces) == 0 {
		return nil, errors.New("no interface given")
	}
	var names []string
	seen := map[string]bool{}
	for _, name := range ifaces {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("no interface given")
	}
	return names, nil
}

// liveSource reads one interface.
type liveSource struct {
	index   int
	name    string
	ifindex int            // 0 for "any"
	loIndex int            // "any": the loopback's ifindex, whose sent copies are dropped
	names   map[int]string // "any": interface names by ifindex, for Frame.File
	// ctl is a datagram socket made when the capture opened, for ioctls
	// about interfaces: they answer for its network namespace, whichever
	// thread the reading goroutine runs on.
	ctl     int
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
	ctl, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	s := &liveSource{index: index, name: name, snaplen: opts.Snaplen, ctl: ctl}
	ok := false
	defer func() {
		if !ok {
			unix.Close(ctl)
		}
	}()
	sock, bind := afpacket.SocketRaw, name
	s.link = LinkEthernet
	var hw int
	if name == "any" {
		// Interfaces of every kind: from the network header on.
		sock, s.link, bind = afpacket.SocketDgram, LinkRaw, ""
		if lo, err := net.InterfaceByName("lo"); err == nil {
			s.loIndex = lo.Index
		}
	} else {
		ifc, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("interface %s: no such interface (list them with `ip link`)", name)
		}
		if ifc.Flags&net.FlagUp == 0 {
			return nil, fmt.Errorf("interface %s is down (ip link set %s up)", name, name)
		}
		if hw, err = arphrd(ctl, name); err != nil {
			return nil, err
		}
		s.ifindex = ifc.Index
		if hw != arphrdEther && hw != arphrdLoopback {
			sock, s.link = afpacket.SocketDgram, LinkRaw
		}
	}
	// Frames are 2^n bytes within 512 KiB blocks; TPACKET_V3 packs packets
	// of any size into a block, so frame size only bounds the largest.
	const block = 1 << 19
	blocks := max(opts.Buffer/block, 2)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(bind),
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
	prog, err := s.program(opts, hw == arphrdLoopback || s.loIndex > 0)
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
	ok = true
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
	pro := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType}, // skb->pkt_type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	}
	if s.loIndex > 0 {
		// "any": only the loopback's sent copies; what other interfaces
		// send is seen once, as sent.
		pro = []bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 0, SkipFalse: 3},
			bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(s.loIndex), SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		}
	}
	raw, err := bpf.Assemble(pro)
	if err != nil {
		return nil, err
	}
	// Classic BPF jumps are relative, so the user's program still works
	// after the prologue.
	return append(raw, user...), nil
}

// arphrd asks the kernel for an interface's hardware type (ARPHRD_*): the
// sa_family of its SIOCGIFHWADDR address. Unlike /sys/class/net, the ioctl
// answers for the caller's network namespace.
func arphrd(fd int, name string) (int, error) {
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
		name := s.name
		if s.ifindex == 0 {
			name = s.ifname(ci.InterfaceIndex)
		}
		*f = Frame{
			Source:  s.index,
			File:    name,
			Number:  s.number,
			Time:    ci.Timestamp.UTC(),
			Link:    s.link,
			Data:    data,
			OrigLen: ci.Length,
		}
		return nil
	}
}

// ifname names the interface a frame of "any" came from. Names are
// cached; an index not seen before (an interface that appeared since) is
// asked for once.
func (s *liveSource) ifname(index int) string {
	if n, ok := s.names[index]; ok {
		return n
	}
	if s.names == nil {
		s.names = map[int]string{}
	}
	n, err := s.indexName(index)
	if err != nil {
		n = s.name
	}
	s.names[index] = n
	return n
}

// indexName asks the kernel for the name of interface index (SIOCGIFNAME).
func (s *liveSource) indexName(index int) (string, error) {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return "", err
	}
	ifr.SetUint32(uint32(index))
	if err := unix.IoctlIfreq(s.ctl, unix.SIOCGIFNAME, ifr); err != nil {
		return "", err
	}
	return ifr.Name(), nil
}

// check reports an interface that went away or down ("any" never does).
func (s *liveSource) check() error {
	if s.ifindex == 0 {
		return nil
	}
	name, err := s.indexName(s.ifindex)
	if err != nil || name != s.name {
		return fmt.Errorf("interface %s went away during the capture", s.name)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil
	}
	if err := unix.IoctlIfreq(s.ctl, unix.SIOCGIFFLAGS, ifr); err == nil && ifr.Uint16()&unix.IFF_UP == 0 {
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
		unix.Close(s.ctl)
	}
	return nil
}
