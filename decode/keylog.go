package decode

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// KeyLog holds TLS session secrets by client random, as read from an NSS
// key log file (the SSLKEYLOGFILE format written by browsers, curl,
// OpenSSL 3 and Go's tls.Config.KeyLogWriter) or from the Decryption
// Secrets Blocks of a pcapng file. It is not safe for concurrent use; a
// Decoder only reads it.
type KeyLog struct {
	m       map[[32]byte]*tlsSecrets
	lines   int // secrets lines read
	skipped int // lines not understood
}

// tlsSecrets are the secrets of one session (one client random).
type tlsSecrets struct {
	master []byte // TLS 1.2 master secret (CLIENT_RANDOM)
	// TLS 1.3 traffic secrets (RFC 8446 §7.1).
	chs, shs, cts, sts []byte
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{m: make(map[[32]byte]*tlsSecrets)} }

// ReadKeyLogFile reads the NSS key log at path.
func ReadKeyLogFile(path string) (*KeyLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	k := NewKeyLog()
	if err := k.Read(f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return k, nil
}

// Read adds the secrets of an NSS key log: one "LABEL CLIENT_RANDOM
// SECRET" line each, hex encoded; "#" lines are comments. Labels we do
// not use (EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, the RSA
// pre-master lines) are skipped and counted (Skipped), as are broken
// lines: a key log is appended to by many programs and a bad line must
// not lose the good ones. Read fails only on a read error.
func (k *KeyLog) Read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		k.line(sc.Bytes())
	}
	return sc.Err()
}

// line reads one key log line.
func (k *KeyLog) line(b []byte) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == '#' {
		return
	}
	f := bytes.Fields(b)
	if len(f) != 3 {
		k.skipped++
		return
	}
	var cr [32]byte
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if hex.DecodedLen(len(f[1])) != 32 {
		k.skipped++
		return
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		k.skipped++
		return
	}
	if _, err := hex.Decode(secret, f[2]); err != nil || len(secret) == 0 {
		k.skipped++
		return
	}
	if !k.add(string(f[0]), cr, secret) {
		k.skipped++
		return
	}
	k.lines++
}

// add records one secret under its label; it reports whether the label is
// one we use.
func (k *KeyLog) add(label string, cr [32]byte, secret []byte) bool {
	if k.m == nil {
		k.m = make(map[[32]byte]*tlsSecrets)
	}
	s := k.m[cr]
	if s == nil {
		s = &tlsSecrets{}
	}
	switch label {
	case "CLIENT_RANDOM":
		if len(secret) != 48 { // RFC 5246 §8.1: master_secret[48]
			return false
		}
		s.master = secret
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		s.chs = secret
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		s.shs = secret
	case "CLIENT_TRAFFIC_SECRET_0":
		s.cts = secret
	case "SERVER_TRAFFIC_SECRET_0":
		s.sts = secret
	default:
		return false
	}
	k.m[cr] = s
	return true
}

// Len is how many sessions (client randoms) have secrets.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.m)
}

// Skipped is how many lines were not understood or not used.
func (k *KeyLog) Skipped() int {
	if k == nil {
		return 0
	}
	return k.skipped
}

// lookup returns the secrets of the session with client random cr.
func (k *KeyLog) lookup(cr [32]byte) *tlsSecrets {
	if k == nil {
		return nil
	}
	return k.m[cr]
}
