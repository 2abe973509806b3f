package decode

import (
	"strings"
	"testing"
)

// nameAddrPlain is how NameAddr values were read before Parse kept From,
// To and Contact as AddrHeader (one function, tag and all): the reference
// TestAddrHeaderSame and FuzzAddrHeader hold NewAddrHeader and Parse to.
func nameAddrPlain(v string) (na NameAddr) {
	v = trimLWS(v)
	quoted := false
	if len(v) > 0 && v[0] == '"' {
		if e := quotedEnd(v); e > 0 {
			na.Display, v, quoted = v[1:e], v[e+1:], true
		}
	}
	var uri, params string
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		if !quoted {
			na.Display = trimLWS(v[:lt])
		}
		uri = v[lt+1:]
		if gt := strings.IndexByte(uri, '>'); gt >= 0 {
			uri, params = uri[:gt], uri[gt+1:]
		}
	} else {
		uri = v
		if semi := strings.IndexByte(v, ';'); semi >= 0 {
			uri, params = v[:semi], v[semi+1:]
		}
	}
	na.URI = trimLWS(uri)
	na.User, na.Host = splitURI(na.URI)
	for params != "" {
		if params[0] == ';' {
			params = params[1:]
			continue
		}
		var name, val string
		name, val, params = nextParam(params)
		if strings.EqualFold(name, "tag") {
			na.Tag = val
			break
		}
	}
	return na
}

// addrSeeds put delimiters where a shortcut could read them wrongly:
// quotes, brackets and semicolons in odd places, tags with white space,
// case and empty values, a tag that is not the first parameter.
var addrSeeds = []string{
	`sipp <sip:sipp@127.0.0.1:5060>;tag=4711SIPpTag001`,
	`<sip:bob@127.0.0.1:5060>;tag=4712SIPpTag012`,
	`sip:sipp@127.0.0.1:5060;transport=UDP`,
	`"Alice Smith" <sips:alice@atlanta.example.com;transport=tls>;tag=9fxced76sl`,
	`<sip:a@b>;TAG=X`, `<sip:a@b>;tag =x`, `<sip:a@b>; tag=x`, `<sip:a@b>;tag= x ;y`,
	`<sip:a@b>;tag=`, `<sip:a@b>;tag=;q`, `<sip:a@b>;;tag=z`, `<sip:a@b>;x=1;tag=y;tag=z`,
	`<sip:a@b>;tagx=1`, `<sip:a@b>tag=1`, `<sip:a@b>;tag`, `sip:a@b;tag=1`, `sip:a@b;TaG=1;x`,
	`"q\"x" <sip:a@b>;tag=2`, `"a<b>" <sip:c@d>;tag=3`, `"unterminated <sip:a@b>;tag=4`,
	`<sip:a@b;tag=inner>;tag=outer`, `<sip:a@b`, `*`, ``, `<>`, `;tag=1`, " \t<sip:a@b>;tag=5\t ",
	`a <b> <c>;tag=6`, `<sip:a@b>;tag=7>;tag=8`, `<sip:a@b>;tag=x y`,
}

func TestAddrHeaderSame(t *testing.T) {
	for _, v := range addrSeeds {
		checkAddrHeader(t, v)
	}
}

func FuzzAddrHeader(f *testing.F) {
	for _, v := range addrSeeds {
		f.Add(v)
	}
	f.Fuzz(checkAddrHeader)
}

func checkAddrHeader(t *testing.T, v string) {
	want := nameAddrPlain(v)
	a := NewAddrHeader(v)
	if a.Value != trimLWS(v) || a.Tag != want.Tag {
		t.Errorf("NewAddrHeader(%q) = %+v, want value %q tag %q", v, a, trimLWS(v), want.Tag)
	}
	if got := a.Parse(); got != want {
		t.Errorf("NewAddrHeader(%q).Parse() = %+v, want %+v", v, got, want)
	}
	if a.URI() != want.URI || a.User() != want.User || a.Host() != want.Host || a.Display() != want.Display {
		t.Errorf("NewAddrHeader(%q) accessors: %q %q %q %q, want %+v", v, a.URI(), a.User(), a.Host(), a.Display(), want)
	}
}
