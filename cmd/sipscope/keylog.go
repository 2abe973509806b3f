package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/pflag"

	"github.com/sipscope/sipscope/decode"
)

// keylogUsage is the help of --keylog, the same on every command.
const keylogUsage = "decrypt SIP over TLS and WSS with the TLS secrets in `FILE` (NSS key log, as SSLKEYLOGFILE writes it; keys inside pcapng files are read without it)"

func addKeylogFlag(f *pflag.FlagSet, path *string) {
	f.StringVar(path, "keylog", "", keylogUsage)
}

// keylogReader reads a key log file, and re-reads what was appended to it
// when the decoder meets a session it has no keys for: peers write the key
// log as they handshake, so a live capture must look again.
type keylogReader struct {
	path string
	keys *decode.KeyLog
	off  int64
}

// openKeylog reads the key log at path; the error names --keylog and the
// file. A file with no secret in it is not an error (it may be filled as
// a live capture runs) but is said, in warn.
func openKeylog(path string) (k *keylogReader, warn string, err error) {
	k = &keylogReader{path: path, keys: decode.NewKeyLog()}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("--keylog %s: no such file (write one with SSLKEYLOGFILE=%s, or tls.Config.KeyLogWriter)", path, path)
	case err != nil:
		return nil, "", fmt.Errorf("--keylog %s: %w", path, pathErr(err))
	case fi.IsDir():
		return nil, "", fmt.Errorf("--keylog %s is a folder, not a key log file", path)
	}
	if _, err := k.more(); err != nil {
		return nil, "", err
	}
	if k.keys.Len() == 0 {
		warn = fmt.Sprintf("--keylog %s: no TLS secrets in it (%d line(s) not understood): want lines such as CLIENT_RANDOM <hex> <hex> or CLIENT_TRAFFIC_SECRET_0 <hex> <hex>", path, k.keys.Skipped())
	}
	return k, warn, nil
}

// more reads the lines appended since the last read; it reports whether
// there were any. A line cut at the end of the file is left for next time.
func (k *keylogReader) more() (bool, error) {
	f, err := os.Open(k.path)
	if err != nil {
		return false, fmt.Errorf("--keylog %s: %w", k.path, pathErr(err))
	}
	defer f.Close()
	if _, err := f.Seek(k.off, io.SeekStart); err != nil {
		return false, fmt.Errorf("--keylog %s: %w", k.path, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return false, fmt.Errorf("--keylog %s: %w", k.path, pathErr(err))
	}
	end := len(b)
	for end > 0 && b[end-1] != '\n' {
		end--
	}
	if end == 0 {
		return false, nil
	}
	k.off += int64(end)
	before := k.keys.Len()
	if err := k.keys.Read(bytes.NewReader(b[:end])); err != nil {
		return false, fmt.Errorf("--keylog %s: %w", k.path, err)
	}
	return k.keys.Len() > before, nil
}

// tlsNotes explains, after a run, the TLS sessions that could not be
// read: the sessions without keys (named by client random, to grep for in
// a key log), the records that did not decrypt (wrong keys), and the
// streams joined after their handshake.
func tlsNotes(s decode.Stats, missing []string, keylog string) []string {
	var notes []string
	if s.TLSNoKeys > 0 {
		hint := "give the key log with --keylog FILE (SSLKEYLOGFILE of the client, or tls.Config.KeyLogWriter)"
		if keylog != "" {
			hint = "they are not in " + keylog + ": was it written by these very sessions?"
		}
		notes = append(notes, fmt.Sprintf("%d TLS session(s) without keys, not decrypted: %s", s.TLSNoKeys, hint))
	}
	if s.TLSBadRecords > 0 {
		notes = append(notes, fmt.Sprintf("%d TLS record(s) did not decrypt with the keys given: the key log holds other secrets for these client randoms (a key log from another run, or a damaged one?)", s.TLSBadRecords))
	}
	if s.TLSMidSession > 0 {
		notes = append(notes, fmt.Sprintf("%d TLS stream(s) began before the capture did (no handshake captured): they cannot be decrypted, even with keys; start capturing before the TLS connections open", s.TLSMidSession))
	}
	if s.TLSUnsupported > 0 {
		notes = append(notes, fmt.Sprintf("%d TLS session(s) use a cipher suite sipscope does not decrypt (it reads AES-GCM, AES-CBC with SHA-1/SHA-256/SHA-384 and ChaCha20-Poly1305)", s.TLSUnsupported))
	}
	return notes
}

// printTLSStats adds the TLS counters and the client randoms of the
// sessions without keys to --stats.
func printTLSStats(w io.Writer, s decode.Stats, missing []string) {
	if s.TLSSessions == 0 {
		return
	}
	for _, r := range []struct {
		name string
		n    int64
	}{
		{"TLS sessions", s.TLSSessions},
		{"TLS sessions decrypted", s.TLSDecrypted},
		{"TLS records decrypted", s.TLSRecords},
		{"TLS sessions without keys", s.TLSNoKeys},
		{"TLS records not decrypting", s.TLSBadRecords},
		{"TLS streams joined mid-session", s.TLSMidSession},
		{"TLS unsupported cipher suite", s.TLSUnsupported},
	} {
		fmt.Fprintf(w, "%-30s %d\n", r.name, r.n)
	}
	for _, cr := range missing {
		fmt.Fprintf(w, "  no keys for client random %s\n", cr)
	}
}

// tlsHint is the short reason TLS records stayed encrypted, for the notes
// on an empty result.
func tlsHint(s decode.Stats) string {
	switch {
	case s.TLSBadRecords > 0:
		return "the keys given do not decrypt them"
	case s.TLSMidSession > 0 && s.TLSNoKeys == 0:
		return "the capture began after the TLS handshakes"
	case s.TLSSessions > 0 && s.TLSNoKeys == 0 && s.TLSUnsupported > 0:
		return "a cipher suite sipscope does not decrypt"
	}
	return "give the TLS key log with --keylog FILE, or capture SIP before encryption, e.g. HEP from the proxy"
}
