package decode

import (
	"strings"
	"testing"
)

// splitURIOld is splitURI as it was before its one-loop rewrite (four
// IndexByte calls): the oracle of FuzzSplitURI.
func splitURIOld(u string) (user, host string) {
	rest := u
	i := 0
	for i < len(u) {
		c := u[i] | 0x20
		if !(c >= 'a' && c <= 'z' || i > 0 && (isDigit(u[i]) || u[i] == '+' || u[i] == '-')) {
			break
		}
		i++
	}
	if i > 0 && i < len(u) && u[i] == ':' {
		if i == 3 && u[0]|0x20 == 't' && u[1]|0x20 == 'e' && u[2]|0x20 == 'l' {
			user = u[4:]
			if j := strings.IndexByte(user, ';'); j >= 0 {
				user = user[:j]
			}
			return user, ""
		}
		rest = u[i+1:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		rest = rest[:q]
	}
	at := strings.IndexByte(rest, '@')
	if at >= 0 {
		user = rest[:at]
		if j := strings.IndexByte(user, ':'); j >= 0 {
			user = user[:j]
		}
		rest = rest[at+1:]
	}
	host = rest
	if j := strings.IndexByte(rest, ';'); j >= 0 {
		host = rest[:j]
	}
	return user, host
}

// nextParamOld is nextParam before its one-loop rewrite.
func nextParamOld(s string) (name, val, rest string) {
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s, rest = s[:i], s[i+1:]
	}
	if eq := strings.IndexByte(s, '='); eq >= 0 {
		return trimLWS(s[:eq]), trimLWS(s[eq+1:]), rest
	}
	return trimLWS(s), "", rest
}

// parseNameAddrOld is NameAddr.parse before its one-loop rewrite, with
// the old splitURI and nextParam.
func parseNameAddrOld(v string) (na NameAddr) {
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
	na.User, na.Host = splitURIOld(na.URI)
	for params != "" {
		if params[0] == ';' {
			params = params[1:] // the usual ">;tag=": skip the empty first segment
			continue
		}
		var name, val string
		name, val, params = nextParamOld(params)
		if len(name) == 3 && name[0]|0x20 == 't' && name[1]|0x20 == 'a' && name[2]|0x20 == 'g' {
			na.Tag = val
			break
		}
	}
	return na
}

// FuzzNameAddr checks the one-loop NameAddr.parse, splitURI and nextParam
// against the IndexByte versions they replaced: the same fields from any
// input.
func FuzzNameAddr(f *testing.F) {
	for _, s := range []string{
		`sipp <sip:sipp@192.0.2.1:5060>;tag=1SIPpTag001`,
		`"Bob \"B\" <x>" <sips:bob:pw@host.example;transport=tcp?h=v>;TAG=a;x`,
		`sip:alice@atlanta.example.com;tag=88sja8x`,
		`<tel:+1-201-555-0123;phone-context=x>`,
		`host:5060;lr`, `<sip:a@b@c;p=q>`, `;tag=`, `<`, `"`, ``,
		`<sip:+123;npdi@h;user=phone>;tag = t ; x=y`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var got NameAddr
		got.parse(v)
		if want := parseNameAddrOld(v); got != want {
			t.Fatalf("parse(%q) = %+v, want %+v", v, got, want)
		}
		if u, h := splitURI(v); true {
			wu, wh := splitURIOld(v)
			if u != wu || h != wh {
				t.Fatalf("splitURI(%q) = %q, %q; want %q, %q", v, u, h, wu, wh)
			}
		}
		n, val, rest := nextParam(v)
		wn, wv, wr := nextParamOld(v)
		if n != wn || val != wv || rest != wr {
			t.Fatalf("nextParam(%q) = %q, %q, %q; want %q, %q, %q", v, n, val, rest, wn, wv, wr)
		}
	})
}
