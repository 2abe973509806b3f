package render

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Terminal safety (issue 13). Every header, reason phrase, URI and body
// byte sipscope prints to a terminal came from a stranger: an ESC (ECMA-48
// §5.3: CSI, OSC, DCS...), a BEL, a backspace, a carriage return in mid
// line or a C1 control (U+0080-U+009F, which some terminals read as CSI
// and OSC) could move the cursor, rewrite what is on the screen or set the
// window title. The functions here show such bytes escaped, as Go writes
// them ("\x1b", "\r", "\u009b"), so the reader sees that they were there.
// Bidirectional overrides (U+202A-U+202E, U+2066-U+2069) are escaped too:
// they reorder what is shown (CVE-2021-42574, "Trojan Source").

// Sanitize makes s safe to print on one terminal line: every control
// character (C0 including tab, CR and LF; DEL; C1), bidirectional override
// and byte that is not UTF-8 is written as an escape (\t, \r, \n, \x1b,
// \u009b, \u202e, \xff); everything else is kept. A string with nothing to
// escape is returned as it is, without allocating.
func Sanitize(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	writeEscaped(&b, s[i:], false)
	return b.String()
}

// SanitizeText makes multi-line text, such as a raw SIP message, safe to
// print on a terminal: line ends (CRLF or LF) become LF and tabs stay;
// every other control character, bidirectional override and byte that is
// not UTF-8 is escaped as Sanitize does (a CR not followed by LF is shown
// "\r").
func SanitizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	writeEscaped(&b, s, true)
	return b.String()
}

// writeEscaped writes s to b with unsafe runes escaped; with lines, LF and
// tab are kept and CRLF is written LF.
func writeEscaped(b *strings.Builder, s string, lines bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		if lines {
			switch {
			case c == '\n' || c == '\t':
				b.WriteByte(c)
				i++
				continue
			case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
				b.WriteByte('\n')
				i += 2
				continue
			}
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(c))
		case !unsafeRune(r, n):
			b.WriteString(s[i : i+n])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x80:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		default:
			q := strconv.QuoteRuneToASCII(r) // '\u009b'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
}

// unsafeRune reports whether the rune r, n bytes long in its string, must
// not reach a terminal as it is.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n <= 1:
		return true // not UTF-8
	case r < 0x20 || r == 0x7f:
		return true // C0, DEL
	case r >= 0x80 && r <= 0x9f:
		return true // C1
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true // bidirectional embeddings, overrides and isolates
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0x0f]})
}
