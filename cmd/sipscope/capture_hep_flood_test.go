package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// hepFloodFiles are the captures whose SIP messages the flood test sends as
// HEP: calls, a proxied call, a registration, a re-INVITE, IPv6.
var hepFloodFiles = []string{"busy.pcap", "cancelled.pcap", "proxy-2hop.pcap", "register-401.pcap",
	"reinvite-hold.pcap", "udp-basic.pcap", "ipv6-basic.pcap", "tcp-basic.pcap"}

// fileMessages decodes the SIP messages of the captures, in order.
func fileMessages(t *testing.T, files []string) []*decode.Message {
	t.Helper()
	src, err := capture.Open(files, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var msgs []*decode.Message
	d := decode.New(decode.Options{}, decode.HandlerFuncs{OnMessage: func(m *decode.Message) {
		msgs = append(msgs, m.Clone())
	}})
	if err := d.Run(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// hep12 encodes a message as HEP v1 or v2 (hep_hdr, hep_iphdr or
// hep_ip6hdr, for v2 hep_timehdr in the sender's byte order, little-endian
// here), as Kamailio's and OpenSIPS's old sipcapture modules send it.
func hep12(version byte, m *decode.Message, proto byte) []byte {
	src, dst := m.Src.Addr().Unmap(), m.Dst.Addr().Unmap()
	family, alen := byte(2), 4
	if src.Is6() {
		family, alen = 10, 16
	}
	b := []byte{version, byte(8 + 2*alen), family, proto}
	b = binary.BigEndian.AppendUint16(b, m.Src.Port())
	b = binary.BigEndian.AppendUint16(b, m.Dst.Port())
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	if version == 2 {
		b[1] += 12
		b = binary.LittleEndian.AppendUint32(b, uint32(m.Time.Unix()))
		b = binary.LittleEndian.AppendUint32(b, uint32(m.Time.Nanosecond()/1000))
		b = binary.LittleEndian.AppendUint16(b, 7) // capture id
		b = append(b, 0, 0)
	}
	return append(b, m.Raw...)
}

// hep3Gzip is AppendHEP3 with the payload gzipped in a compressed-payload
// chunk (0x0010), as heplify and captagent send it with compression on.
func hep3Gzip(t *testing.T, o capture.HEPSendOptions, m *decode.Message, proto byte) []byte {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(m.Raw)
	w.Close()
	b, err := capture.AppendHEP3(nil, o, m.Src, m.Dst, proto, m.Time, nil)
	if err != nil {
		t.Fatal(err)
	}
	// AppendHEP3 ended with an empty payload chunk (type 0x000f, length
	// 6): turn it into the compressed chunk.
	b = b[:len(b)-6]
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, 0x0010)
	b = binary.BigEndian.AppendUint16(b, uint16(6+z.Len()))
	b = append(b, z.Bytes()...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	return b
}

func protoOf(m *decode.Message) byte {
	switch m.Transport {
	case decode.TCP, decode.TLS, decode.WS, decode.WSS:
		return 6
	case decode.SCTP:
		return 132
	}
	return 17
}

// TestCaptureHEPFlood floods a HEP collector with garbage while real HEP
// flows: random bytes, truncated HEP3, HEP3 whose length field lies,
// datagrams of 65,000 bytes, junk TCP streams, and (with --hep-password)
// packets with a wrong or no key and HEP v2, which has no key. Every real
// message, sent as HEP v1, v2, v3 and gzip-compressed v3 (without a
// password) or v3 with the key, must be stored in its dialog, and the
// summary must count exactly the garbage as dropped.
func TestCaptureHEPFlood(t *testing.T) {
	var files []string
	for _, f := range hepFloodFiles {
		files = append(files, filepath.Join("..", "..", "testdata", "sipp", f))
	}
	msgs := fileMessages(t, files)
	if len(msgs) < 50 {
		t.Fatalf("%d messages in %v, want more", len(msgs), hepFloodFiles)
	}
	want := map[string]int{}
	for _, f := range files {
		for id, n := range dialogCounts(t, f, "") {
			if _, dup := want[id]; dup {
				t.Fatalf("Call-ID %s in two captures", id)
			}
			want[id] = n
		}
	}

	for _, password := range []string{"", "fl00d"} {
		t.Run("password="+password, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "x.db")
			udpPort, tcpPort := freePort(t), freePort(t)
			args := []string{"--hep-listen", fmt.Sprintf("udp:127.0.0.1:%d", udpPort),
				"--hep-listen", fmt.Sprintf("tcp:127.0.0.1:%d", tcpPort), "--db", db, "--stats"}
			if password != "" {
				args = append(args, "--hep-password", password)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var errOut bytes.Buffer
			cmd := newCaptureCmd(&streams{Out: &bytes.Buffer{}, ErrOut: &errOut})
			cmd.SetArgs(args)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx) }()
			waitBoundUDP(t, udpPort)
			for i := 0; ; i++ {
				if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort)); err == nil {
					c.Close()
					break
				}
				if i == 200 {
					t.Fatal("TCP listener not up")
				}
				time.Sleep(25 * time.Millisecond)
			}

			var wg sync.WaitGroup
			var garbage int // packets the listener must count as dropped
			wg.Add(1)
			go func() { // the flood
				defer wg.Done()
				c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				m := msgs[0]
				good, _ := capture.AppendHEP3(nil, capture.HEPSendOptions{ID: 9, Password: password}, m.Src, m.Dst, 17, m.Time, m.Raw)
				lying := bytes.Clone(good)
				binary.BigEndian.PutUint16(lying[4:], uint16(len(good)+100)) // claims more than it has
				chunkLie := bytes.Clone(good)
				binary.BigEndian.PutUint16(chunkLie[10:], 60000) // a chunk longer than the packet
				huge := make([]byte, 65000)
				copy(huge, "HEP3\xff\xff")
				kinds := [][]byte{[]byte("HEP3"), lying, chunkLie}
				if password != "" {
					wrong, _ := capture.AppendHEP3(nil, capture.HEPSendOptions{ID: 9, Password: "guess"}, m.Src, m.Dst, 17, m.Time, m.Raw)
					none, _ := capture.AppendHEP3(nil, capture.HEPSendOptions{ID: 9}, m.Src, m.Dst, 17, m.Time, m.Raw)
					kinds = append(kinds, wrong, none, hep12(2, m, 17))
				}
				for i := 0; i < 3000; i++ {
					var b []byte
					if i%150 == 0 {
						b = huge
					} else if i%3 == 0 {
						b = kinds[(i/3)%len(kinds)]
					} else {
						b = make([]byte, 1+rng.IntN(1400))
						for k := range b {
							b[k] = byte(rng.Uint32())
						}
						if b[0] == 1 || b[0] == 2 || (len(b) >= 4 && string(b[:4]) == "HEP3") {
							b[0] = 0 // random bytes that could pass for HEP are not garbage
						}
					}
					if _, err := c.Write(b); err != nil {
						t.Error(err)
						return
					}
					garbage++
					// A flood the socket buffer (net.core.rmem_max, 208 KiB
					// by default) holds even when the listener is slow to
					// be scheduled: the counts must be exact.
					if i%25 == 24 {
						time.Sleep(time.Millisecond)
					}
				}
			}()
			junkTCP := 0
			for i := 0; i < 5; i++ { // junk TCP streams: each counted once and closed
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tcpPort))
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
				c.Close()
				junkTCP++
			}

			// The real traffic: every message once, over UDP, as v1, v2, v3,
			// compressed v3 in turn (with a password: v3 with the key).
			c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", udpPort))
			if err != nil {
				t.Fatal(err)
			}
			o := capture.HEPSendOptions{ID: 4242, Name: "edge-7", Password: password}
			for i, m := range msgs {
				var b []byte
				switch {
				case password != "" || i%4 == 2:
					b, err = capture.AppendHEP3(nil, o, m.Src, m.Dst, protoOf(m), m.Time, m.Raw)
				case i%4 == 0:
					b = hep12(1, m, protoOf(m))
				case i%4 == 1:
					b = hep12(2, m, protoOf(m))
				default:
					b = hep3Gzip(t, o, m, protoOf(m))
				}
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Write(b); err != nil {
					t.Fatal(err)
				}
				time.Sleep(200 * time.Microsecond)
			}
			c.Close()
			wg.Wait()
			time.Sleep(500 * time.Millisecond)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("capture: %v\n%s", err, errOut.String())
			}

			sum := regexp.MustCompile(`HEP: (\d+) packets received, (\d+) dropped`).FindStringSubmatch(errOut.String())
			if sum == nil {
				t.Fatalf("no HEP summary: %s", errOut.String())
			}
			if got, _ := strconv.Atoi(sum[1]); got != len(msgs) {
				t.Errorf("HEP packets received: %d, want the %d real messages", got, len(msgs))
			}
			if got, _ := strconv.Atoi(sum[2]); got != garbage+junkTCP {
				t.Errorf("HEP packets dropped: %d, want the %d garbage datagrams and %d junk TCP streams",
					got, garbage, junkTCP)
			}
			t.Logf("%d messages, %d dialogs; %s", len(msgs), len(want), sum[0])
			got := dialogCounts(t, "", db)
			for id, n := range want {
				if got[id] != n {
					t.Errorf("dialog %s: %d messages stored, want %d", id, got[id], n)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d dialogs stored, want %d", len(got), len(want))
			}
			// Each message keeps the version it came in and the sender's id.
			st, err := store.Open(db, store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var ids []string
			for id := range want {
				ids = append(ids, id)
			}
			stored, err := st.Messages(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			versions := map[int]int{}
			for _, m := range stored {
				if m.HEP == nil {
					t.Fatalf("message %d of %s: no HEP information", m.Seq, m.CallID)
				}
				versions[m.HEP.Version]++
				if m.HEP.Version == 3 && (m.HEP.AgentID != 4242 || m.HEP.AgentName != "edge-7") {
					t.Errorf("message %d: HEP agent %d %q, want 4242 edge-7", m.Seq, m.HEP.AgentID, m.HEP.AgentName)
				}
			}
			if password == "" && (versions[1] == 0 || versions[2] == 0 || versions[3] == 0) {
				t.Errorf("HEP versions stored %v, want v1, v2 and v3", versions)
			}
			if password != "" && (len(versions) != 1 || versions[3] != len(msgs)) {
				t.Errorf("HEP versions stored %v, want v3 only", versions)
			}
		})
	}
}
