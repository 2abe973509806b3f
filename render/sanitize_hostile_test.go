package render

import (
	"strings"
	"testing"
)

// TestHostileSanitize feeds the escape sequences a crafted message could
// carry and checks that no control byte survives, each shown escaped.
func TestHostileSanitize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"Wрong пароль", "Wрong пароль"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},                 // OSC: set the window title
		{"ua\x1b[2J\x1b[H", `ua\x1b[2J\x1b[H`},                   // CSI: clear the screen
		{"abc\b\b\bxyz", `abc\x08\x08\x08xyz`},                   // backspaces over text
		{"ok\rFAKE", `ok\rFAKE`},                                 // CR mid-line
		{"a\tb\nc", `a\tb\nc`},                                   // one line: tab and LF too
		{"\u009b31m\u009d0;t\u009c", `\u009b31m\u009d0;t\u009c`}, // C1 CSI, OSC, ST
		{"evil\u202eexe.txt", `evil\u202eexe.txt`},               // bidi override
		{"bad\xff\xfebytes", `bad\xff\xfebytes`},
		{"del\x7f", `del\x7f`},
	}
	for _, c := range cases {
		if got := Sanitize(c.in); got != c.want {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
		if hasControl(Sanitize(c.in)) {
			t.Errorf("Sanitize(%q) keeps a control", c.in)
		}
	}
	text := "INVITE sip:x SIP/2.0\r\nUser-Agent: \x1b]2;owned\x07\r\nX: a\tb\rc\r\n\r\n"
	got := SanitizeText(text)
	want := "INVITE sip:x SIP/2.0\nUser-Agent: \\x1b]2;owned\\x07\nX: a\tb\\rc\n\n"
	if got != want {
		t.Errorf("SanitizeText = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { Sanitize("sip:alice@example.com") }); n != 0 {
		t.Errorf("Sanitize of a clean string allocates %v times", n)
	}
}

// hasControl reports whether s holds a byte or rune a terminal acts on
// (tab and LF excepted).
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == 0x202e
	}) >= 0
}
