package decode

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// stChunk builds one DATA chunk (RFC 9260 §3.3.1), padded.
func stChunk(flags byte, tsn uint32, stream uint16, data string) []byte {
	b := make([]byte, 16, 16+len(data)+3)
	b[0], b[1] = sctpData, flags
	binary.BigEndian.PutUint16(b[2:], uint16(16+len(data)))
	binary.BigEndian.PutUint32(b[4:], tsn)
	binary.BigEndian.PutUint16(b[8:], stream)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// stSCTP builds an SCTP packet from chunks.
func stSCTP(chunks ...[]byte) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], 5060)
	binary.BigEndian.PutUint16(b[2:], 5060)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

func TestSCTP(t *testing.T) {
	m1, m2 := stSIP("INVITE", 1, 401), stSIP("BYE", 2, 0)
	const be = sctpFlagB | sctpFlagE
	tests := []struct {
		name    string
		packets [][]byte
		want    []string
		frames  [][]int64
	}{
		{"bundled", [][]byte{stSCTP(stChunk(be, 1, 0, m1), stChunk(be, 2, 1, m2))}, []string{m1, m2}, [][]int64{{1}, {1}}},
		{"fragmented in order", [][]byte{
			stSCTP(stChunk(sctpFlagB, 10, 0, m1[:100])),
			stSCTP(stChunk(0, 11, 0, m1[100:200])),
			stSCTP(stChunk(sctpFlagE, 12, 0, m1[200:])),
		}, []string{m1}, [][]int64{{1, 2, 3}}},
		{"fragmented out of order, duplicated, interleaved", [][]byte{
			stSCTP(stChunk(sctpFlagE, 12, 0, m1[200:]), stChunk(be, 13, 1, m2)),
			stSCTP(stChunk(sctpFlagB, 10, 0, m1[:100])),
			stSCTP(stChunk(sctpFlagB, 10, 0, m1[:100])),
			stSCTP(stChunk(0, 11, 0, m1[100:200])),
		}, []string{m2, m1}, [][]int64{{1}, {2, 4, 1}}},
		{"not SIP", [][]byte{stSCTP(stChunk(be, 1, 0, "\x01\x02diameter"))}, nil, nil},
		{"truncated chunk", [][]byte{stSCTP(stChunk(be, 1, 0, m2))[:40]}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stRecord(t)
			d := stDecoder(Options{})
			for i, b := range tc.packets {
				d.onSCTP(stPkt(int64(i+1), stA, stB, b), b)
			}
			d.Flush()
			var raws []string
			var frames [][]int64
			for _, m := range *got {
				raws = append(raws, m.raw)
				frames = append(frames, m.frames)
				if m.tr != SCTP || m.src.Port() != 5060 {
					t.Errorf("got %s from %v, want sctp from port 5060", m.tr, m.src)
				}
			}
			if !reflect.DeepEqual(raws, tc.want) {
				t.Errorf("got %.60q, want %.60q", raws, tc.want)
			}
			if !reflect.DeepEqual(frames, tc.frames) {
				t.Errorf("got frames %v, want %v", frames, tc.frames)
			}
		})
	}
}

func TestSCTPCorpus(t *testing.T) {
	path := stCorpus(t, "heplify/sip_sctp.pcap")
	got := stRecord(t)
	d := stDecoder(Options{})
	stFeed(t, d, path)
	if len(*got) != 4 {
		t.Fatalf("got %d messages, want 4 (stats %+v)", len(*got), d.Stats())
	}
	if !strings.HasPrefix((*got)[0].raw, "INVITE ") || !strings.Contains((*got)[0].raw, "multipart/mixed") {
		t.Errorf("first message %.60q, want the INVITE with a multipart body", (*got)[0].raw)
	}
	if d.Stats().SCTPChunks < 4 {
		t.Errorf("got %d chunks, want at least 4", d.Stats().SCTPChunks)
	}
}
