//go:build linux

package capture

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread moved into a network namespace made for
// the test (root needed; skipped otherwise). Sockets fn creates stay in it.
// NS in the setup commands stands for the namespace's name, which has the
// pid in it: runs of these tests in several worktrees must not delete each
// other's namespaces.
func inNetns(t *testing.T, name string, setup [][]string, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: a network namespace and an AF_PACKET socket")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	ns := fmt.Sprintf("live-%s-%d", name, os.Getpid())
	for _, args := range setup {
		for i := range args {
			if args[i] == "NS" {
				args[i] = ns
			}
		}
	}
	exec.Command("ip", "netns", "del", ns).Run()
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range append([][]string{{"netns", "add", ns}, {"-n", ns, "link", "set", "lo", "up"}}, setup...) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			panic(err) // the thread is in the wrong namespace: do not let it serve others
		}
	}()
	fn()
}

// collect reads src until it has been quiet for a while, then stops it.
func collect(t *testing.T, src Live) []Frame {
	var got []Frame
	done := make(chan struct{})
	go func() {
		defer close(done)
		var f Frame
		for src.Next(&f) == nil {
			c := f
			c.Data = bytes.Clone(f.Data)
			got = append(got, c)
		}
	}()
	time.Sleep(700 * time.Millisecond) // TPACKET_V3 hands a block over after 64 ms at most
	src.Stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not end after Stop")
	}
	return got
}

// TestLiveLoopbackFilter captures datagrams on a namespace's loopback with
// a kernel filter keeping UDP port 5060 only: each kept datagram arrives
// once (not also as the kernel's "sent" copy), the other port not at all.
func TestLiveLoopbackFilter(t *testing.T) {
	// Ethernet, IPv4 (options-free header, as the kernel sends them),
	// UDP, destination port 5060.
	keep5060, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800, SkipFalse: 5},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17, SkipFalse: 3},
		bpf.LoadAbsolute{Off: 36, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 5060, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	var links []LinkType
	inNetns(t, "pkg", nil, func() {
		src, err := OpenLive([]string{"lo"}, LiveOptions{Filter: func(l LinkType, snaplen int) ([]bpf.RawInstruction, error) {
			links = append(links, l)
			return keep5060, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < 10; i++ {
			for _, port := range []int{5060, 5070} {
				msg := fmt.Sprintf("OPTIONS sip:%d@127.0.0.1 SIP/2.0\r\nCall-ID: live-%d-%d\r\n\r\n", i, port, i)
				if _, err := c.WriteTo([]byte(msg), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
					t.Fatal(err)
				}
			}
		}
		got := collect(t, src)
		if len(links) != 1 || links[0] != LinkEthernet {
			t.Errorf("Filter asked for link types %v, want [Ethernet]", links)
		}
		if len(got) != 10 {
			t.Fatalf("got %d frames, want the 10 datagrams to port 5060, once each", len(got))
		}
		for i, f := range got {
			want := fmt.Sprintf("Call-ID: live-5060-%d", i)
			if !bytes.Contains(f.Data, []byte(want)) || f.File != "lo" || f.Number != int64(i+1) || f.Link != LinkEthernet {
				t.Errorf("frame %d: %s #%d link %d, want lo #%d with %q", i, f.File, f.Number, f.Link, i+1, want)
			}
			if f.OrigLen != len(f.Data) || time.Since(f.Time) > time.Minute {
				t.Errorf("frame %d: OrigLen %d of %d bytes, time %v", i, f.OrigLen, len(f.Data), f.Time)
			}
		}
		if st := src.Stats(); st.Packets != 10 || st.KernelDrops != 0 {
			t.Errorf("Stats: %+v, want 10 packets, no drops", st)
		}
		if err := src.Err(); err != nil {
			t.Errorf("Err: %v", err)
		}
	})
}

// TestLiveAnySnaplen opens "any" in a namespace with lo and a veth pair,
// then adds a second pair: all of them are read, the one added after the
// start included (one socket bound to no interface), each frame names its
// interface, a datagram on lo is seen once, and --snaplen cuts frames in
// the kernel while OrigLen keeps the length from the IP header on.
func TestLiveAnySnaplen(t *testing.T) {
	setup := [][]string{
		{"-n", "NS", "link", "add", "live-d0", "type", "veth", "peer", "name", "live-d1"},
		{"-n", "NS", "addr", "add", "10.98.0.1/24", "dev", "live-d0"},
		{"-n", "NS", "link", "set", "live-d0", "up"},
		{"-n", "NS", "link", "set", "live-d1", "up"},
	}
	inNetns(t, "any", setup, func() {
		src, err := OpenLive([]string{"any"}, LiveOptions{Snaplen: 60})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		ifs := src.(Interfaces).Interfaces()
		if len(ifs) != 1 || ifs[0] != (Interface{"any", LinkRaw}) {
			t.Fatalf("any: interfaces %v, want one: any, raw IP", ifs)
		}
		// An interface that appears after the capture started. A static
		// neighbour sends our datagram out at once, without ARP.
		ns := fmt.Sprintf("live-any-%d", os.Getpid())
		for _, args := range [][]string{
			{"-n", ns, "link", "add", "live-n0", "type", "veth", "peer", "name", "live-n1"},
			{"-n", ns, "addr", "add", "10.97.0.1/24", "dev", "live-n0"},
			{"-n", ns, "link", "set", "live-n0", "up"},
			{"-n", ns, "link", "set", "live-n1", "up"},
			{"-n", ns, "neigh", "add", "10.97.0.2", "lladdr", "02:00:00:00:00:02", "dev", "live-n0"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v: %v %s", args, err, out)
			}
		}
		c, err := net.ListenPacket("udp4", ":0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		payload := bytes.Repeat([]byte("x"), 200)
		// To lo; out of live-d0 (10.98.0.2 is nobody: the kernel asks for
		// it with ARP, which both ends of the pair see); out of live-n0.
		c.WriteTo(payload, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060})
		c.WriteTo(payload, &net.UDPAddr{IP: net.IPv4(10, 98, 0, 2), Port: 5060})
		c.WriteTo(payload, &net.UDPAddr{IP: net.IPv4(10, 97, 0, 2), Port: 5060})
		got := collect(t, src)
		seen := map[string]int{}
		for _, f := range got {
			seen[f.File]++
			if f.Source != 0 || f.Link != LinkRaw {
				t.Errorf("frame of %s: Source %d link %d, want 0 and raw IP", f.File, f.Source, f.Link)
			}
			if len(f.Data) > 60 {
				t.Errorf("%s frame %d: %d bytes, want at most the snaplen 60", f.File, f.Number, len(f.Data))
			}
			ours := len(f.Data) == 60 && f.Data[0]>>4 == 4 && f.Data[9] == 17 && bytes.Equal(f.Data[28:], payload[:32])
			if !ours {
				continue
			}
			seen["datagram on "+f.File]++
			if f.OrigLen != 20+8+200 {
				t.Errorf("%s frame %d: OrigLen %d, want %d", f.File, f.Number, f.OrigLen, 20+8+200)
			}
		}
		for _, want := range []string{"live-d0", "live-d1", "datagram on live-n0", "datagram on live-n1"} {
			if seen[want] == 0 {
				t.Errorf("frames %v: want some from %s", seen, want)
			}
		}
		if seen["datagram on lo"] != 1 {
			t.Errorf("datagram on lo seen %d times, want once (frames %v)", seen["datagram on lo"], seen)
		}
	})
}
