package decode

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// Key derivation and record protection for the TLS sessions we decrypt.
// Every primitive is the standard library's or golang.org/x/crypto's: this
// file only wires them as RFC 5246 (TLS 1.2), RFC 7905 (ChaCha20 in TLS
// 1.2), RFC 7366 (encrypt-then-MAC) and RFC 8446 (TLS 1.3) say.

type cipherKind uint8

const (
	kindGCM cipherKind = iota + 1
	kindChaCha
	kindCBC
)

// tlsSuite is what decryption needs of a cipher suite.
type tlsSuite struct {
	id     uint16
	kind   cipherKind
	keyLen int
	mac    func() hash.Hash // CBC suites: the record MAC
	prf    func() hash.Hash // TLS 1.2 PRF hash (RFC 5246 §5), TLS 1.3 HKDF hash
	tls13  bool
}

// tlsSuites are the suites we decrypt, by IANA number.
var tlsSuites = func() map[uint16]*tlsSuite {
	m := map[uint16]*tlsSuite{}
	add := func(kind cipherKind, key int, mac, prf func() hash.Hash, tls13 bool, ids ...uint16) {
		for _, id := range ids {
			m[id] = &tlsSuite{id: id, kind: kind, keyLen: key, mac: mac, prf: prf, tls13: tls13}
		}
	}
	// TLS 1.3 (RFC 8446 §B.4).
	add(kindGCM, 16, nil, sha256.New, true, 0x1301)
	add(kindGCM, 32, nil, sha512.New384, true, 0x1302)
	add(kindChaCha, 32, nil, sha256.New, true, 0x1303)
	// TLS 1.2 AEAD: RSA, DHE, ECDHE-ECDSA, ECDHE-RSA key exchange.
	add(kindGCM, 16, nil, sha256.New, false, 0x009c, 0x009e, 0xc02b, 0xc02f)
	add(kindGCM, 32, nil, sha512.New384, false, 0x009d, 0x009f, 0xc02c, 0xc030)
	add(kindChaCha, 32, nil, sha256.New, false, 0xcca8, 0xcca9, 0xccaa)
	// TLS 1.2 CBC with HMAC-SHA1 (the PRF is still SHA-256, RFC 5246 §5).
	add(kindCBC, 16, sha1.New, sha256.New, false, 0x002f, 0x0033, 0xc009, 0xc013)
	add(kindCBC, 32, sha1.New, sha256.New, false, 0x0035, 0x0039, 0xc00a, 0xc014)
	// CBC with HMAC-SHA256 and HMAC-SHA384 (RFC 5289).
	add(kindCBC, 16, sha256.New, sha256.New, false, 0x003c, 0x0067, 0xc023, 0xc027)
	add(kindCBC, 32, sha256.New, sha256.New, false, 0x003d, 0x006b)
	add(kindCBC, 32, sha512.New384, sha512.New384, false, 0xc024, 0xc028)
	return m
}()

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	out := make([]byte, 0, n+64)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// prf10 is the TLS 1.0 and 1.1 PRF (RFC 2246 §5): P_MD5 over the first
// half of the secret XOR P_SHA1 over the second half (the halves share a
// byte when the length is odd).
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	h := (len(secret) + 1) / 2
	a := prf12(md5.New, secret[:h], label, seed, n)
	b := prf12(sha1.New, secret[len(secret)-h:], label, seed, n)
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // context length: empty
	out := make([]byte, n)
	if _, err := hkdf.Expand(h, secret, info).Read(out); err != nil {
		return nil
	}
	return out
}

// recordCipher removes the protection of the records of one direction.
type recordCipher struct {
	suite  *tlsSuite
	aead   cipher.AEAD
	iv     []byte // TLS 1.3 and ChaCha20: the 12-byte IV; GCM 1.2: the 4-byte salt
	block  cipher.Block
	macKey []byte
	mac    hash.Hash
	etm    bool // RFC 7366 encrypt-then-MAC
	// implicitIV: TLS 1.0 CBC, the IV chains from record to record.
	implicitIV bool
	nonce      [12]byte
	hdr        [13]byte
}

var errDecrypt = errors.New("TLS record does not decrypt")

// newAEAD makes the AEAD of a suite with key.
func newAEAD(kind cipherKind, key []byte) (cipher.AEAD, error) {
	if kind == kindChaCha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// cipher13 derives a TLS 1.3 direction's cipher from its traffic secret
// (RFC 8446 §7.3).
func cipher13(s *tlsSuite, secret []byte) (*recordCipher, error) {
	key := expandLabel(s.prf, secret, "key", s.keyLen)
	iv := expandLabel(s.prf, secret, "iv", 12)
	a, err := newAEAD(s.kind, key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{suite: s, aead: a, iv: iv}, nil
}

// keyUpdate13 is the next traffic secret (RFC 8446 §7.2).
func keyUpdate13(s *tlsSuite, secret []byte) []byte {
	return expandLabel(s.prf, secret, "traffic upd", s.prf().Size())
}

// ciphers12 derives both directions' ciphers from a TLS 1.2 master secret
// (RFC 5246 §6.3: key_block = PRF(master, "key expansion", server_random +
// client_random), cut into client MAC key, server MAC key, client key,
// server key, client IV, server IV).
//
// TLS 1.0 and 1.1 (RFC 2246, RFC 4346) cut the key block the same way from
// their own PRF (prf10); TLS 1.0 also takes the CBC IVs from it.
func ciphers12(s *tlsSuite, master []byte, cr, sr [32]byte, etm bool, version uint16) (client, server *recordCipher, err error) {
	macLen, ivLen := 0, 0
	switch s.kind {
	case kindGCM:
		ivLen = 4 // RFC 5288 §3: the implicit part of the nonce
	case kindChaCha:
		ivLen = 12 // RFC 7905 §2
	case kindCBC:
		macLen = s.mac().Size()
		ivLen = 16 // unused since TLS 1.1 (explicit IVs), still in the block
	}
	seed := append(append([]byte{}, sr[:]...), cr[:]...)
	var kb []byte
	if version < 0x0303 {
		kb = prf10(master, "key expansion", seed, 2*(macLen+s.keyLen+ivLen))
	} else {
		kb = prf12(s.prf, master, "key expansion", seed, 2*(macLen+s.keyLen+ivLen))
	}
	next := func(n int) []byte { b := kb[:n:n]; kb = kb[n:]; return b }
	cmac, smac := next(macLen), next(macLen)
	ckey, skey := next(s.keyLen), next(s.keyLen)
	civ, siv := next(ivLen), next(ivLen)
	mk := func(mac, key, iv []byte) (*recordCipher, error) {
		c := &recordCipher{suite: s, iv: iv, etm: etm, implicitIV: version == 0x0301 && s.kind == kindCBC}
		if s.kind == kindCBC {
			b, err := aes.NewCipher(key)
			if err != nil {
				return nil, err
			}
			c.block, c.macKey, c.mac = b, mac, hmac.New(s.mac, mac)
			return c, nil
		}
		a, err := newAEAD(s.kind, key)
		if err != nil {
			return nil, err
		}
		c.aead = a
		return c, nil
	}
	if client, err = mk(cmac, ckey, civ); err != nil {
		return nil, nil, err
	}
	if server, err = mk(smac, skey, siv); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

// open13 decrypts a TLS 1.3 record (header hdr, 5 bytes; body after it)
// with sequence number seq into dst, returning the inner content type and
// the content (RFC 8446 §5.2, §5.3).
func (c *recordCipher) open13(dst, hdr, body []byte, seq uint64) (byte, []byte, error) {
	copy(c.nonce[:], c.iv)
	for i := 0; i < 8; i++ {
		c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	pt, err := c.aead.Open(dst[:0], c.nonce[:], body, hdr)
	if err != nil {
		return 0, nil, errDecrypt
	}
	// TLSInnerPlaintext: content, type, zero padding.
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, errDecrypt
	}
	return pt[i], pt[:i], nil
}

// open12 decrypts a TLS 1.2 record of content type typ, version ver,
// with sequence number seq into dst (RFC 5246 §6.2.3).
func (c *recordCipher) open12(dst []byte, typ byte, ver uint16, body []byte, seq uint64) ([]byte, error) {
	h := c.hdr[:]
	binary.BigEndian.PutUint64(h[0:8], seq)
	h[8] = typ
	binary.BigEndian.PutUint16(h[9:11], ver)
	switch c.suite.kind {
	case kindGCM:
		// RFC 5288 §3: nonce = salt (4) + explicit nonce (8, in the record).
		over := 8 + c.aead.Overhead()
		if len(body) < over {
			return nil, errDecrypt
		}
		copy(c.nonce[:4], c.iv)
		copy(c.nonce[4:], body[:8])
		binary.BigEndian.PutUint16(h[11:13], uint16(len(body)-over))
		pt, err := c.aead.Open(dst[:0], c.nonce[:], body[8:], h)
		if err != nil {
			return nil, errDecrypt
		}
		return pt, nil
	case kindChaCha:
		// RFC 7905 §2: nonce = IV xor sequence number, left-padded.
		if len(body) < c.aead.Overhead() {
			return nil, errDecrypt
		}
		copy(c.nonce[:], c.iv)
		for i := 0; i < 8; i++ {
			c.nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
		binary.BigEndian.PutUint16(h[11:13], uint16(len(body)-c.aead.Overhead()))
		pt, err := c.aead.Open(dst[:0], c.nonce[:], body, h)
		if err != nil {
			return nil, errDecrypt
		}
		return pt, nil
	case kindCBC:
		return c.openCBC(dst, h, body)
	}
	return nil, errDecrypt
}

// openCBC checks the MAC and padding of a block cipher record (RFC 5246
// §6.2.3.2: IV, then content + MAC + padding encrypted; RFC 7366: with
// encrypt-then-MAC the MAC covers the IV and ciphertext instead and
// follows them in clear). h holds the sequence number, type and version.
// Timing does not matter here: we read a capture, we are no oracle.
func (c *recordCipher) openCBC(dst, h, body []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	ml := c.mac.Size()
	if c.etm {
		if len(body) < bs+ml {
			return nil, errDecrypt
		}
		ct, tag := body[:len(body)-ml], body[len(body)-ml:]
		binary.BigEndian.PutUint16(h[11:13], uint16(len(ct)))
		c.mac.Reset()
		c.mac.Write(h)
		c.mac.Write(ct)
		if !hmac.Equal(c.mac.Sum(nil), tag) {
			return nil, errDecrypt
		}
		body = ct
	}
	iv, ct := body[:min(bs, len(body))], body[min(bs, len(body)):]
	if c.implicitIV {
		// TLS 1.0 (RFC 2246 §6.2.3.2): no IV in the record; the first
		// from the key block, then the last ciphertext block of the
		// record before.
		iv, ct = c.iv, body
	}
	if len(ct) < bs || len(ct)%bs != 0 || len(iv) != bs {
		return nil, errDecrypt
	}
	pt := append(dst[:0], ct...)
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(pt, pt)
	if c.implicitIV {
		c.iv = append(c.iv[:0], ct[len(ct)-bs:]...)
	}
	pad := int(pt[len(pt)-1])
	if pad+1 > len(pt) {
		return nil, errDecrypt
	}
	for _, b := range pt[len(pt)-1-pad:] {
		if int(b) != pad {
			return nil, errDecrypt
		}
	}
	pt = pt[:len(pt)-1-pad]
	if c.etm {
		return pt, nil
	}
	if len(pt) < ml {
		return nil, errDecrypt
	}
	content, tag := pt[:len(pt)-ml], pt[len(pt)-ml:]
	binary.BigEndian.PutUint16(h[11:13], uint16(len(content)))
	c.mac.Reset()
	c.mac.Write(h)
	c.mac.Write(content)
	if !hmac.Equal(c.mac.Sum(nil), tag) {
		return nil, errDecrypt
	}
	return content, nil
}
