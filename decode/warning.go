package decode

import "strings"

// Warnings: each is one leniency of Parse, named after the rule it bends.
const (
	// WarnBareLF: a line ended in LF alone; RFC 3261 §7 requires CRLF.
	WarnBareLF Warning = 1 << iota
	// WarnFolded: a header value continued on a folded line (RFC 3261
	// §7.3.1 allows it, but it is obsolete and rare); the lines were joined
	// with one SP.
	WarnFolded
	// WarnJunkBeforeStart: bytes other than CRLF stood before the start
	// line (RFC 3261 §7.5 tolerates only CRLF there); they were skipped.
	WarnJunkBeforeStart
	// WarnSpaceBeforeColon: white space between a header name and its
	// colon (RFC 3261 §7.3.1 HCOLON allows it; RFC 7230 forbids it in
	// HTTP, and most stacks never send it).
	WarnSpaceBeforeColon
	// WarnNoContentLength: no Content-Length header (RFC 3261 §20.14: it
	// SHOULD be present and MUST on streams); the body is the rest of the
	// input.
	WarnNoContentLength
	// WarnBadContentLength: Content-Length is not a decimal number (RFC
	// 3261 §20.14); the body is the rest of the input.
	WarnBadContentLength
	// WarnShortBody: fewer body bytes than Content-Length announced (RFC
	// 3261 §18.3); the body is what there is.
	WarnShortBody
	// WarnDuplicateHeader: a header that may occur once (Call-ID, CSeq,
	// From, To, Content-Length, ...) occurred again (RFC 3261 §7.3.1); the
	// first one counts.
	WarnDuplicateHeader
	// WarnBadSDP: the SDP body broke RFC 8866 §5 (missing '=', bad m= or
	// rtpmap line, ...); what could be read was kept.
	WarnBadSDP
	// WarnNoCRLFEnd: the header section did not end with an empty line
	// (RFC 3261 §7); the message was taken to end there, without a body.
	WarnNoCRLFEnd
	// WarnBadHeader: a header line without a colon or name, or a value we
	// read (CSeq, Max-Forwards) that is not well formed (RFC 3261 §7.3,
	// §25.1); the line was kept in Headers where possible and otherwise
	// skipped.
	WarnBadHeader
	// WarnExtraData: bytes followed the body announced by Content-Length
	// (RFC 3261 §18.3 says to discard them on datagrams); they are not part
	// of Raw.
	WarnExtraData
	// WarnBadMultipart: a multipart body without a boundary or delimiters
	// (RFC 2046 §5.1.1); Parts was left empty.
	WarnBadMultipart
	// WarnBadVersion: the SIP version was not written "SIP/2.0" in upper
	// case (RFC 3261 §7.1 says it is case-insensitive but MUST be sent in
	// upper case).
	WarnBadVersion
	// WarnTooManyHeaders: more header lines than the limit (Options
	// MaxHeaders, --limit-headers; RFC 3261 sets none); only the first
	// ones were kept in Headers, Raw holds them all.
	WarnTooManyHeaders

	warnEnd // one past the last warning
)

var warnNames = [...]string{
	"BareLF",
	"Folded",
	"JunkBeforeStart",
	"SpaceBeforeColon",
	"NoContentLength",
	"BadContentLength",
	"ShortBody",
	"DuplicateHeader",
	"BadSDP",
	"NoCRLFEnd",
	"BadHeader",
	"ExtraData",
	"BadMultipart",
	"BadVersion",
	"TooManyHeaders",
}

// String lists the names of the warnings in w, comma-separated without
// spaces, in bit order (e.g. "BareLF,NoContentLength"); "" when w is 0.
// Unknown bits are shown as "0x…".
func (w Warning) String() string {
	if w == 0 {
		return ""
	}
	var sb strings.Builder
	for i, name := range warnNames {
		if w&(1<<i) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(name)
	}
	if rest := w &^ (warnEnd - 1); rest != 0 {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		const hex = "0123456789abcdef"
		sb.WriteString("0x")
		started := false
		for sh := 28; sh >= 0; sh -= 4 {
			d := (rest >> sh) & 0xf
			if d == 0 && !started {
				continue
			}
			started = true
			sb.WriteByte(hex[d])
		}
	}
	return sb.String()
}
