package render

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/correlate"
)

// streamCases are pages of several calls: crafted calls with findings,
// captures of many dialogs, and calls with RTP bands and charts.
func streamCases(t *testing.T) map[string][]*Ladder {
	t.Helper()
	rd, rm := rejectedCall()
	pd, pm := proxiedCall()
	cases := map[string][]*Ladder{
		"crafted": {Layout(rd, rm, LayoutOptions{}), Layout(pd, pm, LayoutOptions{}), Layout(rd, rm, LayoutOptions{MergePorts: true})},
		"media":   {mediaLadder(t, "lossy.pcap"), mediaLadder(t, "oneway.pcap"), mediaLadder(t, "dtmf-rfc4733.pcap")},
	}
	for _, name := range []string{"many-tcp6", "rejects"} {
		for _, c := range readCapture(t, filepath.Join("..", "testdata", "qa", name+".pcap")) {
			cases[name] = append(cases[name], Layout(c.dialogs, c.msgs, LayoutOptions{}))
		}
		if len(cases[name]) < 2 {
			t.Fatalf("%s: %d dialogs, want several", name, len(cases[name]))
		}
	}
	return cases
}

// streamFindings diagnoses each ladder as the export does.
func streamFindings(l *Ladder) map[string][]correlate.Finding {
	return Findings(l, correlate.DefaultDiagnoseOptions(), correlate.DefaultMediaDiagnoseOptions())
}

// TestHTMLPageSameAsMulti: a page written call by call, its sections kept
// in a scratch file (or a buffer) and each call given its own findings, is
// byte for byte the page HTMLMulti writes with every call and all the
// findings at once; and nothing reaches the output before Close, since the
// call list that comes first is complete only then.
func TestHTMLPageSameAsMulti(t *testing.T) {
	for name, ladders := range streamCases(t) {
		t.Run(name, func(t *testing.T) {
			all := map[string][]correlate.Finding{}
			pages := make([]CallPage, len(ladders))
			for i, l := range ladders {
				maps.Copy(all, streamFindings(l))
				pages[i] = CallPage{Ladder: l}
			}
			if name == "crafted" && len(all) == 0 {
				t.Fatal("the crafted calls have no findings to show")
			}
			var want bytes.Buffer
			if err := HTMLMulti(&want, pages, HTMLOptions{Findings: all, Generated: "test"}); err != nil {
				t.Fatal(err)
			}
			f, err := os.CreateTemp(t.TempDir(), "sections")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for sname, scratch := range map[string]io.ReadWriter{"file": f, "buffer": new(bytes.Buffer), "nil": nil} {
				var got bytes.Buffer
				p := NewHTMLPage(&got, scratch, HTMLOptions{Generated: "test"})
				for _, l := range ladders {
					if err := p.Add(CallPage{Ladder: l, Findings: streamFindings(l)}); err != nil {
						t.Fatal(err)
					}
				}
				if got.Len() != 0 {
					t.Errorf("%s: %d bytes written before Close, want 0", sname, got.Len())
				}
				if err := p.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%s: the page differs from HTMLMulti's (%d bytes, want %d)", sname, got.Len(), want.Len())
				}
				if err := p.Add(pages[0]); !errors.Is(err, errPageClosed) {
					t.Errorf("%s: Add after Close: got %v, want %v", sname, err, errPageClosed)
				}
			}
		})
	}
}

// TestHTMLPageEmpty: a page of no calls is HTMLMulti's, "sipscope: 0 calls".
func TestHTMLPageEmpty(t *testing.T) {
	var want, got bytes.Buffer
	if err := HTMLMulti(&want, nil, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := NewHTMLPage(&got, nil, HTMLOptions{}).Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("empty page: got\n%s\nwant\n%s", got.Bytes(), want.Bytes())
	}
	if !bytes.Contains(got.Bytes(), []byte("<title>sipscope: 0 calls</title>")) {
		t.Errorf("empty page: no title \"sipscope: 0 calls\"")
	}
}

// failingScratch fails every write, as a full disk would.
type failingScratch struct{ bytes.Buffer }

var errFull = errors.New("no space left on device")

func (*failingScratch) Write([]byte) (int, error) { return 0, errFull }

// TestHTMLPageScratchError: a scratch file that cannot be written fails
// the page, by Close at the latest (Add buffers), and writes nothing.
func TestHTMLPageScratchError(t *testing.T) {
	ladders := streamCases(t)["many-tcp6"]
	var out bytes.Buffer
	p := NewHTMLPage(&out, &failingScratch{}, HTMLOptions{})
	var err error
	for _, l := range ladders {
		if err = p.Add(CallPage{Ladder: l}); err != nil {
			break
		}
	}
	if err == nil {
		err = p.Close()
	}
	if !errors.Is(err, errFull) {
		t.Errorf("got %v, want %v", err, errFull)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written to the output of a failed page, want 0", out.Len())
	}
}
