package capture

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFormatFor(t *testing.T) {
	for _, tc := range []struct {
		links []LinkType
		want  string
	}{
		{nil, "pcap"},
		{[]LinkType{LinkEthernet}, "pcap"},
		{[]LinkType{LinkEthernet, LinkEthernet}, "pcap"},
		{[]LinkType{LinkEthernet, LinkLinuxSLL}, "pcapng"},
		{[]LinkType{LinkRaw, LinkRaw, LinkIPv6}, "pcapng"},
	} {
		if got := FormatFor(tc.links...); got != tc.want {
			t.Errorf("FormatFor(%v): got %s, want %s", tc.links, got, tc.want)
		}
	}
}

func TestWriterRoundTrip(t *testing.T) {
	frames := []Frame{
		{Time: ts(0), Link: LinkEthernet, Data: []byte("frame one"), OrigLen: 9},
		{Time: ts(1), Link: LinkEthernet, Data: []byte("frame two, cut"), OrigLen: 1500},
		{Time: ts(time.Hour + 7), Link: LinkEthernet, Data: []byte("three"), OrigLen: 0}, // OrigLen raised to len(Data)
	}
	mixed := []Frame{
		{Time: ts(0), Link: LinkEthernet, Data: []byte("eth"), OrigLen: 3},
		{Time: ts(1), Link: LinkIPv4, Data: []byte("ipv4"), OrigLen: 4},
		{Time: ts(2), Link: LinkEthernet, Data: []byte("eth again"), OrigLen: 9},
		{Time: ts(3), Link: LinkLinuxSLL2, Data: []byte("sll2"), OrigLen: 4},
	}
	for _, tc := range []struct {
		name   string
		format string
		frames []Frame
	}{
		{"pcap", "pcap", frames},
		{"pcapng-one-link", "pcapng", frames},
		{"pcapng-mixed", "pcapng", mixed},
		{"pcap-empty", "pcap", nil},
		{"pcapng-empty", "pcapng", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.frames {
				if err := w.WriteFrame(&tc.frames[i]); err != nil {
					t.Fatalf("WriteFrame %d: %v", i, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			p := writeFile(t, "out."+tc.format, buf.Bytes())
			got, warns := openAll(t, p)
			if len(warns) != 0 {
				t.Errorf("got warnings %q", warns)
			}
			if len(got) != len(tc.frames) {
				t.Fatalf("read back %d frames, want %d", len(got), len(tc.frames))
			}
			for i, g := range got {
				w := tc.frames[i]
				if !g.Time.Equal(w.Time) || g.Link != w.Link || !bytes.Equal(g.Data, w.Data) ||
					g.OrigLen != max(w.OrigLen, len(w.Data)) || g.Number != int64(i+1) {
					t.Errorf("frame %d: got %v link %d %q orig %d, want %v link %d %q orig %d",
						i, g.Time, g.Link, g.Data, g.OrigLen, w.Time, w.Link, w.Data, max(w.OrigLen, len(w.Data)))
				}
			}
			tsharkAgrees(t, p, got)
		})
	}
}

// tsharkAgrees checks that tshark reads the file at p as the frames want:
// same count, times and captured lengths. It skips without tshark.
func tsharkAgrees(t *testing.T, p string, want []Frame) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not on PATH: not checked against Wireshark")
		return
	}
	out, err := exec.Command("tshark", "-n", "-r", p, "-T", "fields",
		"-e", "frame.time_epoch", "-e", "frame.cap_len", "-e", "frame.len").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("tshark read %d frames, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		f := want[i]
		w := fmt.Sprintf("%d.%09d\t%d\t%d", f.Time.Unix(), f.Time.Nanosecond(), len(f.Data), f.OrigLen)
		if l != w {
			t.Errorf("tshark frame %d: got %q, want %q", i+1, l, w)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, "pcapx"); err == nil {
		t.Error("NewWriter(pcapx): got no error")
	}
	w, _ := NewWriter(&bytes.Buffer{}, "pcap")
	if err := w.WriteFrame(&Frame{Link: LinkEthernet, Data: []byte("x"), Time: ts(0)}); err != nil {
		t.Fatal(err)
	}
	err := w.WriteFrame(&Frame{Link: LinkRaw, Data: []byte("y"), Time: ts(0), File: "a.pcap", Number: 7})
	if !errors.Is(err, ErrLinkMismatch) {
		t.Errorf("got %v, want ErrLinkMismatch", err)
	}
	// The file stays usable: the mismatching frame was not written.
	if err := w.WriteFrame(&Frame{Link: LinkEthernet, Data: []byte("z"), Time: ts(1)}); err != nil {
		t.Errorf("after a mismatch: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Error(err)
	}
	if err := w.WriteFrame(&Frame{Link: LinkEthernet}); err == nil {
		t.Error("WriteFrame after Close: got no error")
	}
}

// TestWriterCorpus copies corpus captures through Writer and checks that
// the copy reads back the same.
func TestWriterCorpus(t *testing.T) {
	for _, name := range []string{"nDPI/gre_sip.pcapng", "heplify/sip_ipv4_tcp_retrans.pcap", "zeek/sip-long-request-response-paths.pcap"} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(corpusDir(t), name)
			orig, _ := openAll(t, in)
			links := make([]LinkType, len(orig))
			for i, f := range orig {
				links[i] = f.Link
			}
			out := filepath.Join(t.TempDir(), "copy")
			fh, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewWriter(fh, FormatFor(links...))
			if err != nil {
				t.Fatal(err)
			}
			for i := range orig {
				if err := w.WriteFrame(&orig[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fh.Close()
			copied, _ := openAll(t, out)
			if len(copied) != len(orig) {
				t.Fatalf("copy has %d frames, want %d", len(copied), len(orig))
			}
			for i := range orig {
				a, b := orig[i], copied[i]
				if !a.Time.Equal(b.Time) || a.Link != b.Link || !bytes.Equal(a.Data, b.Data) || a.OrigLen != b.OrigLen {
					t.Fatalf("frame %d differs after the copy", i+1)
				}
			}
		})
	}
}
