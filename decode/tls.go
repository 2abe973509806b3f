package decode

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// SIP over TLS (RFC 3261 §26.3.1, RFC 5630) and WebSocket over TLS
// (RFC 7118): the TLS record layer (RFC 5246 §6.2, RFC 8446 §5) read over
// the reassembled TCP stream of each direction, the handshake followed
// just enough to know the session (client and server random, version,
// cipher suite, extensions), and the records decrypted with the secrets of
// a key log. The decrypted application data of each direction is a
// stream of its own (a tcpStream with secure set) that goes through the
// same SIP framing and WebSocket decoding as clear TCP.
//
// Sessions without keys are counted and named, never guessed at.

const (
	// maxTLSRecord bounds a record: 2^14 of content plus the expansion
	// RFC 5246 §6.2.3 allows (2048); TLS 1.3 allows only 256.
	maxTLSRecord = 1<<14 + 2048
	// maxTLSHandshake bounds one handshake message we buffer (a
	// certificate chain is the largest we see).
	maxTLSHandshake = 1 << 17
	// maxTLSFailures is how many records of a direction may fail to
	// decrypt before we stop trying (wrong keys).
	maxTLSFailures = 4
	// maxTLSSkipped bounds the handshake records of a direction skipped
	// when the key log has its application secrets only.
	maxTLSSkipped = 8
	// maxTLSStash bounds the bytes of a direction kept while waiting
	// for the other side's hello.
	maxTLSStash = 256 << 10
	// maxTLSNamed bounds the client randoms kept to name sessions
	// without keys.
	maxTLSNamed = 64
	// maxTLSResume bounds the session IDs and tickets remembered for
	// TLS 1.2 resumption.
	maxTLSResume = 4096
)

// TLS content types (RFC 8446 §5.1) and handshake types (§4).
const (
	tlsCCS       = 20
	tlsAlert     = 21
	tlsHandshake = 22
	tlsAppData   = 23

	hsClientHello      = 1
	hsServerHello      = 2
	hsNewSessionTicket = 4
	hsFinished         = 20
	hsKeyUpdate        = 24
)

// hrrRandom is the ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
var hrrRandom = [32]byte{0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C}

// tlsConn is one TLS session on a TCP connection, shared by both
// directions.
type tlsConn struct {
	cr, sr      [32]byte
	haveCR      bool
	haveSH      bool // a ServerHello (not a retry request) was seen
	tls13       bool
	version     uint16 // negotiated: 0x0301 TLS 1.0 ... 0x0304 TLS 1.3
	suite       *tlsSuite
	clientSID   []byte
	sid         []byte // the ServerHello's session ID
	looked      bool   // the key logs were searched for the session
	hrr         bool   // a HelloRetryRequest was seen
	ticket      []byte // the ClientHello's session ticket (RFC 5077)
	etm         bool
	master      []byte
	secrets     *tlsSecrets
	dir         [2]*tlsDir // [0] client to server, [1] server to client
	noKeys      bool       // counted in TLSNoKeys
	decrypted   bool       // counted in TLSDecrypted
	midSession  bool       // counted in TLSMidSession
	unsupported bool       // counted in TLSUnsupported
}

// tlsDir is one direction of a TLS session.
type tlsDir struct {
	conn     *tlsConn
	s        *tcpStream // the ciphertext stream
	client   bool       // this direction is the client's
	known    bool       // client or server decided
	enc      bool       // records are protected from here on
	cipher   *recordCipher
	seq      uint64
	secret   []byte // TLS 1.3: the current traffic secret
	appPhase bool   // TLS 1.3: application traffic keys in use
	pending  []byte // TLS 1.3: switch to this secret after this record
	hs       []byte // handshake bytes not yet parsed
	failures int
	// stash holds records that came before the other side's hello.
	stash      []tlsStashed
	stashBytes int
	skipHS     bool // TLS 1.3 without handshake secrets: skip the records before the first that opens
	skipped    int
	plain      *tcpStream // decrypted application data
}

// tlsState is the decoder's TLS state beyond single connections.
type tlsState struct {
	scratch []byte
	dsb     *KeyLog // secrets from pcapng Decryption Secrets Blocks
	named   map[[32]byte]bool
	missing []string // client randoms of sessions without keys, hex
	// TLS 1.2 resumption (RFC 5246 §7.3, RFC 5077): the master secret of
	// a session we decrypted, by session ID and by ticket, for the
	// abbreviated handshakes that resume it (key loggers such as Go's do
	// not log those).
	bySID    map[string][]byte
	byTicket map[string][]byte
}

// AddSecrets adds the secrets of an NSS key log held in b, as found in a
// pcapng Decryption Secrets Block (type 0x544c534b). It applies to the
// sessions whose handshake comes later in the capture.
func (d *Decoder) AddSecrets(b []byte) {
	if d.tls.dsb == nil {
		d.tls.dsb = NewKeyLog()
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		d.tls.dsb.line(line)
	}
}

// TLSMissing returns the client randoms (hex) of TLS sessions whose keys
// were not in the key log, at most 64, in the order they were seen: what
// to look for in a key log (`grep RANDOM keys.txt`).
func (d *Decoder) TLSMissing() []string { return d.tls.missing }

// startTLS makes s a TLS direction, sharing the session of the reverse
// direction when it is already TLS.
func (d *Decoder) startTLS(s *tcpStream) {
	s.mode = modeTLS
	var c *tlsConn
	if r := d.tcp.streams[flowKey{s.key.dst, s.key.src}]; r != nil && r.tls != nil && (r.tls.conn.dir[0] == nil || r.tls.conn.dir[1] == nil) {
		c = r.tls.conn
	}
	if c == nil {
		c = &tlsConn{}
		d.stats.TLSSessions++
	}
	dir := &tlsDir{conn: c, s: s}
	s.tls = dir
	if c.dir[0] == nil && c.dir[1] == nil {
		// Provisionally: the first handshake message decides.
		c.dir[0] = dir
	} else if c.dir[0] == nil {
		c.dir[0] = dir
	} else {
		c.dir[1] = dir
	}
	if o := dir.other(); o != nil && o.known {
		dir.known, dir.client = true, !o.client
	}
}

// other is the opposite direction of dir, if seen.
func (dir *tlsDir) other() *tlsDir {
	c := dir.conn
	if c.dir[0] == dir {
		return c.dir[1]
	}
	return c.dir[0]
}

// setRole records which side dir is, once its first handshake message
// says so.
func (dir *tlsDir) setRole(client bool) {
	if dir.known {
		return
	}
	dir.known, dir.client = true, client
	c := dir.conn
	o := dir.other()
	if client {
		c.dir[0], c.dir[1] = dir, o
	} else {
		c.dir[0], c.dir[1] = o, dir
	}
	if o != nil && !o.known {
		o.known, o.client = true, !client
	}
}

// drainTLS reads whole records off a TLS direction.
func (d *Decoder) drainTLS(s *tcpStream, p *pkt) bool {
	for {
		b := s.data()
		if len(b) < 5 {
			return false
		}
		n := int(binary.BigEndian.Uint16(b[3:5]))
		if b[0] < tlsCCS || b[0] > 24 || b[1] != 3 || n > maxTLSRecord {
			// Not a record header: the stream is not (or no longer)
			// TLS we can follow.
			d.stats.Malformed++
			s.mode = modeIgnore
			return true
		}
		if len(b) < 5+n {
			return false
		}
		from := s.bufOff()
		d.tlsRecord(s, p, b[:5+n], from)
		s.consume(5 + n)
	}
}

// tlsStashed is a client record that came before the ServerHello it
// needs, with a copy of the frames that carried it.
type tlsStashed struct {
	rec    []byte
	frames []FrameRef
	at     time.Time
}

// tlsRecord handles one whole record at stream offset from.
func (d *Decoder) tlsRecord(s *tcpStream, p *pkt, rec []byte, from int64) {
	dir := s.tls
	c := dir.conn
	if !dir.enc && dir.known && (len(dir.stash) > 0 || rec[0] != tlsHandshake &&
		(dir.client && !c.haveSH && !c.hrr || !dir.client && !c.haveCR)) {
		// This side's records after its hello need the other side's
		// hello, which the other direction has not delivered yet
		// (directions are reassembled apart; captures merged from two
		// taps can misorder them): keep them, in order, until it comes.
		if dir.stashBytes+len(rec) <= maxTLSStash {
			frames, at := d.framesFor(s, from, from+int64(len(rec)))
			st := tlsStashed{rec: bytes.Clone(rec), at: at}
			for _, f := range frames {
				f.Data = bytes.Clone(f.Data)
				st.frames = append(st.frames, f)
			}
			dir.stash = append(dir.stash, st)
			dir.stashBytes += len(rec)
			return
		}
	}
	d.tlsRecordFrames(dir, p, rec, func() ([]FrameRef, time.Time) {
		return d.framesFor(s, from, from+int64(len(rec)))
	})
}

// replayStash handles the records kept for want of the other hello.
func (d *Decoder) replayStash(dir *tlsDir) {
	st := dir.stash
	dir.stash, dir.stashBytes = nil, 0
	for _, r := range st {
		d.tlsRecordFrames(dir, streamPkt(dir.s), r.rec, func() ([]FrameRef, time.Time) { return r.frames, r.at })
	}
}

// tlsRecordFrames handles one whole record; frames tells which frames
// carried it (asked only for application data).
func (d *Decoder) tlsRecordFrames(dir *tlsDir, p *pkt, rec []byte, frames func() ([]FrameRef, time.Time)) {
	c := dir.conn
	typ, ver, body := rec[0], binary.BigEndian.Uint16(rec[1:3]), rec[5:]
	if !dir.enc {
		switch typ {
		case tlsHandshake:
			d.tlsHandshake(dir, body)
			return
		case tlsCCS:
			if c.haveSH && !c.tls13 {
				// RFC 5246 §7.1: the records after ChangeCipherSpec
				// use the pending keys.
				dir.enc, dir.seq = true, 0
				d.tlsKeys12(dir)
			}
			// TLS 1.3: a middlebox compatibility record (RFC 8446 §D.4).
			return
		case tlsAlert:
			return
		case tlsAppData:
			if c.haveSH && c.tls13 {
				// RFC 8446 §2: everything after the ServerHello is
				// protected with the handshake traffic keys.
				dir.enc, dir.seq = true, 0
				if !d.tlsKeys13(dir, false) && d.tlsKeys13(dir, true) {
					// A key log with the application secrets
					// only: the handshake records of this
					// direction cannot be read, the data after
					// them can (RFC 8446 §7.3).
					dir.skipHS = true
				}
				break
			}
			if !c.haveCR && !c.midSession {
				// We never saw the handshake: the capture started
				// after it.
				c.midSession = true
				d.stats.TLSMidSession++
			}
			d.stats.Encrypted++
			return
		default:
			return
		}
	}
	if dir.cipher == nil {
		if !c.haveCR && !c.midSession {
			// The ClientHello was not captured: no key log can help.
			c.midSession = true
			d.stats.TLSMidSession++
		}
		d.stats.Encrypted++
		return
	}
	if dir.failures >= maxTLSFailures {
		d.stats.Encrypted++
		return
	}
	var inner byte
	var pt []byte
	var err error
	if c.tls13 {
		if typ != tlsAppData {
			return // a clear CCS among protected records (§5)
		}
		inner, pt, err = dir.cipher.open13(d.tls.scratch, rec[:5], body, dir.seq)
		if err != nil && !dir.appPhase {
			// We may have missed the Finished that switches keys
			// (a handshake message we could not read): try the
			// application keys.
			if d.tlsKeys13(dir, true) {
				inner, pt, err = dir.cipher.open13(d.tls.scratch, rec[:5], body, dir.seq)
			}
		}
	} else {
		inner = typ
		pt, err = dir.cipher.open12(d.tls.scratch, typ, ver, body, dir.seq)
	}
	if err != nil && dir.skipHS && dir.skipped < maxTLSSkipped {
		// Still in the handshake we have no keys for: not wrong keys.
		dir.skipped++
		d.stats.Encrypted++
		return
	}
	if err != nil {
		dir.failures++
		d.stats.TLSBadRecords++
		d.stats.Encrypted++
		return
	}
	dir.skipHS = false
	if cap(pt) > cap(d.tls.scratch) {
		d.tls.scratch = pt[:0]
	}
	dir.seq++
	dir.failures = 0
	if !c.decrypted {
		c.decrypted = true
		d.stats.TLSDecrypted++
	}
	d.stats.TLSRecords++
	switch inner {
	case tlsAppData:
		fr, at := frames()
		d.tlsPlain(dir, p, pt, fr, at)
	case tlsHandshake:
		d.tlsHandshake(dir, pt)
	}
	if dir.pending != nil {
		// A Finished or KeyUpdate in this record: the next record of
		// this direction uses the new secret (RFC 8446 §4.4.4, §4.6.3).
		sec := dir.pending
		dir.pending = nil
		if cph, err := cipher13(c.suite, sec); err == nil {
			dir.cipher, dir.secret, dir.seq, dir.appPhase = cph, sec, 0, true
		}
	}
}

// tlsPlain appends decrypted application data to the direction's plain
// stream and frames what it can; frames carried its record.
func (d *Decoder) tlsPlain(dir *tlsDir, p *pkt, pt []byte, frames []FrameRef, at time.Time) {
	ps := dir.plainStream()
	if at.IsZero() && p != nil {
		at = p.time
	}
	ps.last = dir.s.last
	ps.file = dir.s.file
	d.appendData(ps, pt, frames, at, false)
	m := d.encap.mark()
	d.encap.push("tls")
	d.drain(ps, p)
	d.encap.truncate(m)
	ps.own()
}

// plainStream returns (making it) the decrypted stream of dir.
func (dir *tlsDir) plainStream() *tcpStream {
	if dir.plain == nil {
		dir.plain = &tcpStream{key: dir.s.key, secure: true, synSeen: true, seqKnown: true, tlsOf: dir}
	}
	return dir.plain
}

// reverseStream is the stream of the opposite direction of s: for a
// decrypted stream, the other direction's decrypted stream.
func (d *Decoder) reverseStream(s *tcpStream) *tcpStream {
	rev := flowKey{s.key.dst, s.key.src}
	if !s.secure {
		r := d.tcp.streams[rev]
		if r == nil {
			r = d.newStream(rev)
			r.last = s.last
			r.file = s.file
		}
		return r
	}
	o := s.tlsOf.other()
	if o == nil {
		// Not seen yet: a detached stream that the other direction's
		// TLS state will adopt.
		return &tcpStream{key: rev, secure: true, synSeen: true}
	}
	return o.plainStream()
}

// tlsHandshake parses the handshake messages in b (RFC 8446 §4: type,
// 24-bit length, body; a message may span records).
func (d *Decoder) tlsHandshake(dir *tlsDir, b []byte) {
	if len(dir.hs) > 0 || len(b) < 4 {
		if len(dir.hs)+len(b) > maxTLSHandshake {
			dir.hs = dir.hs[:0]
			return
		}
		dir.hs = append(dir.hs, b...)
		b = dir.hs
	}
	for len(b) >= 4 {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > maxTLSHandshake {
			b = nil
			break
		}
		if len(b) < 4+n {
			break
		}
		d.tlsMessage(dir, b[0], b[4:4+n])
		b = b[4+n:]
	}
	if len(b) == 0 {
		dir.hs = dir.hs[:0]
		return
	}
	k := copy(dir.hs[:cap(dir.hs)], b)
	if k < len(b) {
		dir.hs = append(dir.hs[:0], b...)
	} else {
		dir.hs = dir.hs[:k]
	}
}

// tlsMessage handles one handshake message.
func (d *Decoder) tlsMessage(dir *tlsDir, typ byte, m []byte) {
	c := dir.conn
	switch typ {
	case hsClientHello:
		dir.setRole(true)
		d.clientHello(c, m)
	case hsServerHello:
		dir.setRole(false)
		d.serverHello(c, m)
	case hsNewSessionTicket:
		// TLS 1.2 (RFC 5077 §3.3): lifetime (4), ticket (2-byte length).
		if !c.tls13 && c.master != nil && len(m) >= 6 {
			n := int(binary.BigEndian.Uint16(m[4:6]))
			if len(m) >= 6+n && len(d.tls.byTicket) < maxTLSResume {
				if d.tls.byTicket == nil {
					d.tls.byTicket = map[string][]byte{}
				}
				d.tls.byTicket[string(m[6:6+n])] = c.master
			}
		}
	case hsFinished:
		if c.tls13 && !dir.appPhase && c.secrets != nil {
			if dir.client {
				dir.pending = c.secrets.cts
			} else {
				dir.pending = c.secrets.sts
			}
		}
	case hsKeyUpdate:
		if c.tls13 && dir.appPhase && dir.secret != nil {
			dir.pending = keyUpdate13(c.suite, dir.secret)
		}
	}
}

// clientHello reads the client random, session ID and session ticket
// (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2).
func (d *Decoder) clientHello(c *tlsConn, m []byte) {
	if len(m) < 35 {
		return
	}
	copy(c.cr[:], m[2:34])
	c.haveCR = true
	defer func() {
		d.sessionReady(c)
		d.replaySide(c, false)
	}()
	r := m[34:]
	sid, r, ok := vec8(r)
	if !ok {
		return
	}
	c.clientSID = bytes.Clone(sid)
	if _, r, ok = vec16(r); !ok { // cipher suites
		return
	}
	if _, r, ok = vec8(r); !ok { // compression methods
		return
	}
	exts, _, ok := vec16(r)
	if !ok {
		return
	}
	forExt(exts, func(typ uint16, v []byte) {
		if typ == 35 && len(v) > 0 { // session_ticket (RFC 5077 §3.2)
			c.ticket = bytes.Clone(v)
		}
	})
}

// serverHello reads the server random, version, suite and extensions and
// looks the session's secrets up (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3).
func (d *Decoder) serverHello(c *tlsConn, m []byte) {
	if len(m) < 38 {
		return
	}
	var sr [32]byte
	copy(sr[:], m[2:34])
	if sr == hrrRandom {
		// A HelloRetryRequest: the client's CCS and second ClientHello
		// follow, then the real ServerHello.
		c.hrr = true
		return
	}
	c.sr = sr
	c.haveSH = true
	c.version = binary.BigEndian.Uint16(m[0:2])
	r := m[34:]
	sid, r, ok := vec8(r)
	if !ok || len(r) < 3 {
		return
	}
	id := binary.BigEndian.Uint16(r[0:2])
	r = r[3:]
	exts, _, _ := vec16(r)
	forExt(exts, func(typ uint16, v []byte) {
		switch typ {
		case 43: // supported_versions (RFC 8446 §4.2.1)
			if len(v) == 2 && binary.BigEndian.Uint16(v) == 0x0304 {
				c.tls13 = true
				c.version = 0x0304
			}
		case 22: // encrypt_then_mac (RFC 7366 §2)
			c.etm = true
		}
	})
	c.suite = tlsSuites[id]
	if c.suite != nil && c.version < 0x0303 && (c.suite.kind != kindCBC || c.suite.mac().Size() != sha1.Size) {
		c.suite = nil // AEAD and SHA-2 MAC suites are TLS 1.2's (RFC 5246 §A.5)
	}
	if c.suite == nil || c.suite.tls13 != c.tls13 || c.version < 0x0301 {
		c.suite = nil
		if !c.unsupported {
			c.unsupported = true
			d.stats.TLSUnsupported++
		}
		return
	}
	c.sid = bytes.Clone(sid)
	d.sessionReady(c)
	d.replaySide(c, true)
}

// sessionReady looks the session's keys up once both hellos are read
// (whichever came last: the two directions are reassembled apart).
func (d *Decoder) sessionReady(c *tlsConn) {
	if !c.haveCR || !c.haveSH {
		return
	}
	if c.suite != nil && !c.looked {
		c.looked = true
		if !d.findSecrets(c) {
			d.missingKeys(c)
		}
	}
}

// replaySide handles the records the client side (client true) or the
// server side kept while the other side's hello was missing.
func (d *Decoder) replaySide(c *tlsConn, client bool) {
	for _, dir := range c.dir {
		if dir != nil && dir.known && dir.client == client && len(dir.stash) > 0 {
			d.replayStash(dir)
		}
	}
}

// findSecrets looks the session's secrets up in the key log, the DSB
// secrets and, for a TLS 1.2 abbreviated handshake, the sessions we
// decrypted before. It reports whether the session has keys.
func (d *Decoder) findSecrets(c *tlsConn) bool {
	c.secrets = d.opts.Keys.lookup(c.cr)
	if c.secrets == nil {
		c.secrets = d.tls.dsb.lookup(c.cr)
	}
	if c.tls13 {
		return c.secrets != nil && (c.secrets.shs != nil || c.secrets.sts != nil)
	}
	if c.secrets != nil && c.secrets.master != nil {
		c.master = c.secrets.master
	} else if len(c.sid) > 0 && bytes.Equal(c.sid, c.clientSID) {
		// An abbreviated handshake resuming a session (RFC 5246 §7.3).
		if c.ticket != nil {
			c.master = d.tls.byTicket[string(c.ticket)]
		}
		if c.master == nil {
			c.master = d.tls.bySID[string(c.sid)]
		}
	}
	if c.master == nil {
		return false
	}
	if len(c.sid) > 0 && len(d.tls.bySID) < maxTLSResume {
		if d.tls.bySID == nil {
			d.tls.bySID = map[string][]byte{}
		}
		d.tls.bySID[string(c.sid)] = c.master
	}
	return true
}

// retryKeys looks again for the keys of a session that had none at its
// ServerHello, after Options.MoreKeys read more of the key log (a live
// capture whose peers write the key log as they go).
func (d *Decoder) retryKeys(c *tlsConn) {
	if !c.noKeys || d.opts.MoreKeys == nil || !d.opts.MoreKeys() || !d.findSecrets(c) {
		return
	}
	c.noKeys = false
	d.stats.TLSNoKeys--
	h := hex.EncodeToString(c.cr[:])
	for i, m := range d.tls.missing {
		if m == h {
			d.tls.missing = append(d.tls.missing[:i], d.tls.missing[i+1:]...)
			delete(d.tls.named, c.cr)
			break
		}
	}
}

// missingKeys counts and names a session the key logs have no keys for.
func (d *Decoder) missingKeys(c *tlsConn) {
	if c.noKeys {
		return
	}
	c.noKeys = true
	d.stats.TLSNoKeys++
	if d.tls.named == nil {
		d.tls.named = map[[32]byte]bool{}
	}
	if !d.tls.named[c.cr] && len(d.tls.missing) < maxTLSNamed {
		d.tls.named[c.cr] = true
		d.tls.missing = append(d.tls.missing, hex.EncodeToString(c.cr[:]))
	}
}

// tlsKeys12 installs the TLS 1.2 keys of dir at its ChangeCipherSpec.
func (d *Decoder) tlsKeys12(dir *tlsDir) {
	c := dir.conn
	d.retryKeys(c)
	if c.master == nil || c.suite == nil || !dir.known {
		return
	}
	cl, sv, err := ciphers12(c.suite, c.master, c.cr, c.sr, c.etm && c.suite.kind == kindCBC, c.version)
	if err != nil {
		return
	}
	if dir.client {
		dir.cipher = cl
	} else {
		dir.cipher = sv
	}
}

// tlsKeys13 installs the TLS 1.3 handshake (or, with app, application)
// traffic keys of dir. It reports whether it changed them.
func (d *Decoder) tlsKeys13(dir *tlsDir, app bool) bool {
	c := dir.conn
	if !app {
		d.retryKeys(c)
	}
	if c.secrets == nil || c.suite == nil || !dir.known {
		return false
	}
	var sec []byte
	switch {
	case app && dir.client:
		sec = c.secrets.cts
	case app:
		sec = c.secrets.sts
	case dir.client:
		sec = c.secrets.chs
	default:
		sec = c.secrets.shs
	}
	if sec == nil {
		return false
	}
	cph, err := cipher13(c.suite, sec)
	if err != nil {
		return false
	}
	dir.cipher, dir.secret, dir.seq, dir.appPhase = cph, sec, 0, app
	return true
}

// endTLS ends the decrypted stream of a TLS direction: bytes left over
// are a truncated message.
func (d *Decoder) endTLS(s *tcpStream) {
	if s.tls == nil {
		return
	}
	// Records still waiting for a hello that never came.
	d.stats.Encrypted += int64(len(s.tls.stash))
	s.tls.stash, s.tls.stashBytes = nil, 0
	if s.tls.plain == nil {
		return
	}
	ps := s.tls.plain
	if ps.ws.inMsg {
		d.stats.Truncated++
	} else if b := ps.data(); len(b) > 0 && ps.mode != modeIgnore && ps.mode != modeHunt && len(b) > skipCRLF(b) {
		d.stats.Truncated++
	}
	ps.buf, ps.head, ps.refs = nil, 0, nil
}

// vec8 splits a vector with a one-byte length off b.
func vec8(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return nil, nil, false
	}
	return b[1 : 1+int(b[0])], b[1+int(b[0]):], true
}

// vec16 splits a vector with a two-byte length off b.
func vec16(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// forExt calls f for each extension of a hello (RFC 8446 §4.2).
func forExt(b []byte, f func(typ uint16, v []byte)) {
	for len(b) >= 4 {
		typ := binary.BigEndian.Uint16(b)
		v, rest, ok := vec16(b[2:])
		if !ok {
			return
		}
		f(typ, v)
		b = rest
	}
}

// tlsResync finds, in bytes joined mid-stream, the first offset where two
// whole TLS application data records follow each other (RFC 8446 §5.1:
// type 23, legacy version 3.1-3.3, a length within bounds), or -1. Two in a
// row keep a 0x17 byte inside a record from passing for a header.
func tlsResync(b []byte) int {
	hdr := func(p int) (int, bool) {
		if p+5 > len(b) || b[p] != tlsAppData || b[p+1] != 3 || b[p+2] < 1 || b[p+2] > 3 {
			return 0, false
		}
		n := int(binary.BigEndian.Uint16(b[p+3 : p+5]))
		return n, n > 0 && n <= maxTLSRecord
	}
	for p := 0; p+10 <= len(b) && p < maxStartWait; p++ {
		n, ok := hdr(p)
		if !ok {
			continue
		}
		if _, ok := hdr(p + 5 + n); ok {
			return p
		}
	}
	return -1
}
