package render

import (
	"bytes"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	rd, rm := rejectedCall()
	pd, pm := proxiedCall()
	cases := []struct {
		name string
		l    *Ladder
		opts TextOptions
	}{
		{"rejected", Layout(rd, rm, LayoutOptions{}), TextOptions{}},
		{"rejected-ascii", Layout(rd, rm, LayoutOptions{}), TextOptions{ASCII: true}},
		{"rejected-color", Layout(rd, rm, LayoutOptions{}), TextOptions{Color: true}},
		{"rejected-narrow", Layout(rd, rm, LayoutOptions{}), TextOptions{Width: 50}},
		{"proxied", Layout(pd, pm, LayoutOptions{}), TextOptions{}},
		{"proxied-merged-aliases", Layout(pd, pm, LayoutOptions{MergePorts: true, Aliases: Aliases{"192.168.1.2": "phone", "212.242.33.35": "proxy"}}), TextOptions{}},
		{"proxied-width-100", Layout(pd, pm, LayoutOptions{}), TextOptions{Width: 100}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, c.l, c.opts); err != nil {
				t.Fatal(err)
			}
			if c.opts.ASCII {
				for i, r := range b.String() {
					if r > 0x7e && r != '\n' {
						t.Fatalf("non-ASCII rune %q at byte %d", r, i)
					}
				}
			}
			if c.opts.Width > 0 {
				for _, line := range strings.Split(b.String(), "\n") {
					if n := runeLen(line); n > c.opts.Width && !strings.HasPrefix(line, "Call-ID") && !strings.HasPrefix(line, "Date") && !strings.HasPrefix(line, "[") && !strings.HasPrefix(line, "Labels") {
						t.Errorf("line is %d wide, want at most %d: %q", n, c.opts.Width, line)
					}
				}
			}
			golden(t, c.name, b.Bytes())
		})
	}
}
