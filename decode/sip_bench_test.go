package decode

import "testing"

// BenchmarkParse parses an INVITE with SDP into a reused Message, as the
// decoder does per packet.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, msg string }{
		{"INVITE+SDP", testInvite},
		{"200", test200},
		{"multipart", testMultipart},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := []byte(bc.msg)
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if err := Parse(buf, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFrameLen frames an INVITE with SDP as the stream layers do.
func BenchmarkFrameLen(b *testing.B) {
	buf := []byte(testInvite)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := frameLen(buf, true, maxLine); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClone copies a parsed INVITE with SDP.
func BenchmarkClone(b *testing.B) {
	var m Message
	if err := Parse([]byte(testInvite), &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Clone()
	}
}
