package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/sipscope/sipscope/capture"
	"github.com/sipscope/sipscope/decode"
	"github.com/sipscope/sipscope/store"
)

// writeKeepTLS is export --keep-tls: the calls' frames as captured, and
// for the messages that came over TLS or WSS every frame of their TCP
// connections from the first up to the call's last message on it (a
// record can be decrypted only after the handshake and every record
// before it on its direction, whose sequence numbers the keys need), with
// the keys of those connections in a pcapng Decryption Secrets Block, so
// that Wireshark and sipscope decrypt the file on their own. The frames
// are read again from the capture files the messages came from.
func writeKeepTLS(ctx context.Context, w, errOut io.Writer, st *store.Store, ids []string, keylog string) error {
	frames, err := st.Frames(ctx, ids)
	if err != nil {
		return err
	}
	msgs, err := st.Messages(ctx, ids)
	if err != nil {
		return err
	}
	type conn struct {
		file string
		a, b netip.AddrPort // a < b
	}
	norm := func(file string, x, y netip.AddrPort) conn {
		if y.Compare(x) < 0 {
			x, y = y, x
		}
		return conn{file, x, y}
	}
	last := map[conn]time.Time{}
	files := map[string]bool{}
	for _, m := range msgs {
		if m.Transport != decode.TLS && m.Transport != decode.WSS {
			continue
		}
		c := norm(m.File, m.Src, m.Dst)
		if m.Time.After(last[c]) {
			last[c] = m.Time
		}
		files[m.File] = true
	}
	type ref struct {
		file string
		n    int64
	}
	have := map[ref]bool{}
	for _, f := range frames {
		have[ref{f.File, f.Number}] = true
	}
	var secrets []byte
	var names []string
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "" || name == "-" {
			return fmt.Errorf("--keep-tls: the TLS messages came from standard input, which cannot be read again: export from the capture file")
		}
		src, err := capture.Open([]string{name}, capture.Options{})
		if err != nil {
			return fmt.Errorf("--keep-tls needs the capture file the TLS frames came from: %w", err)
		}
		ss, _ := src.(capture.SecretsSource)
		var f capture.Frame
		for {
			err := src.Next(&f)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				src.Close()
				return fmt.Errorf("--keep-tls: read %s: %w", name, err)
			}
			if ss != nil {
				secrets = append(secrets, ss.TLSSecrets()...)
			}
			if have[ref{name, f.Number}] {
				continue
			}
			a, b, ok := capture.TCPEndpoints(&f)
			if !ok {
				continue
			}
			end, ok := last[norm(name, a, b)]
			if !ok || f.Time.After(end) {
				continue
			}
			frames = append(frames, decode.FrameRef{File: name, Number: f.Number, Time: f.Time, Link: uint16(f.Link),
				Data: bytes.Clone(f.Data), OrigLen: f.OrigLen})
			have[ref{name, f.Number}] = true
		}
		src.Close()
	}
	if keylog != "" {
		b, err := os.ReadFile(keylog)
		if err != nil {
			return fmt.Errorf("--keylog %s: %w", keylog, pathErr(err))
		}
		secrets = append(secrets, '\n')
		secrets = append(secrets, b...)
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].Time.Before(frames[j].Time) })
	keys := keysFor(secrets, frames)
	if len(keys) == 0 && len(last) > 0 {
		fmt.Fprintf(errOut, "sipscope: warning: --keep-tls: no keys for these TLS connections in the key log or the capture: the export stays encrypted\n")
	}
	// Always pcapng: it carries the keys, and says there were none.
	return writeFramesWith(w, frames, true, keys)
}

// keysFor keeps the key log lines whose client random is in one of the
// frames (a ClientHello's random, RFC 8446 §4.1.2): the export carries the
// keys of its own connections, not every secret of the key log.
func keysFor(keylog []byte, frames []decode.FrameRef) []byte {
	var out []byte
	seen := map[string]bool{}
	for _, line := range bytes.Split(keylog, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) != 3 || seen[string(line)] {
			continue
		}
		cr, err := hex.DecodeString(string(f[1]))
		if err != nil || len(cr) != 32 {
			continue
		}
		for _, fr := range frames {
			if bytes.Contains(fr.Data, cr) {
				seen[string(line)] = true
				out = append(out, bytes.TrimSpace(line)...)
				out = append(out, '\n')
				break
			}
		}
	}
	return out
}
