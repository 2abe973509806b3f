// Command tlspeer is a SIP-over-TLS (and SIP-over-WSS) client and server
// built on Go's crypto/tls, writing the session keys to an NSS key log
// (Config.KeyLogWriter). scripts/mktls.sh runs it in a network namespace
// under tcpdump to make the captures of testdata/tls: real TLS from a real
// stack, never sipscope's own code.
//
//	tlspeer -server -addr 127.0.0.1:5061 -keylog keys.txt [-cert rsa|ecdsa] [-ws]
//	tlspeer -addr 127.0.0.1:5061 -keylog keys.txt -tls 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 [-calls 2] [-conns 2] [-ws]
//
// The client places -calls calls (INVITE, 100, 200, ACK, BYE, 200) on each
// of -conns connections; with -conns 2 the second connection resumes the
// first one's session (tickets, or PSK in TLS 1.3). The server answers and
// exits after -serve connections.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	server := flag.Bool("server", false, "be the server")
	addr := flag.String("addr", "127.0.0.1:5061", "address to listen on or dial")
	keylog := flag.String("keylog", "", "append the session keys to this NSS key log file")
	certKind := flag.String("cert", "ecdsa", "server certificate key: rsa or ecdsa")
	ws := flag.Bool("ws", false, "speak SIP over WebSocket (RFC 7118) inside TLS (WSS)")
	version := flag.String("tls", "1.3", "TLS version for the client: 1.2 or 1.3")
	suite := flag.String("suite", "", "TLS 1.2 cipher suite name for the client (crypto/tls names)")
	calls := flag.Int("calls", 1, "calls per connection (client)")
	conns := flag.Int("conns", 1, "connections, each after the other; later ones resume the session (client)")
	serve := flag.Int("serve", 1, "connections to serve before exiting (server)")
	hrr := flag.Bool("hrr", false, "accept only P-384 key shares, which Go clients do not send first: a HelloRetryRequest (server, TLS 1.3)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("tlspeer: ")

	var kl io.Writer
	if *keylog != "" {
		f, err := os.OpenFile(*keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		kl = f
	}
	if *server {
		if err := runServer(*addr, *certKind, kl, *ws, *serve, *hrr); err != nil {
			log.Fatal(err)
		}
		return
	}
	cfg := &tls.Config{InsecureSkipVerify: true, KeyLogWriter: kl, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	switch *version {
	case "1.2":
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	case "1.3":
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	default:
		log.Fatalf("-tls %s: want 1.2 or 1.3", *version)
	}
	if *suite != "" {
		id, ok := suiteID(*suite)
		if !ok {
			log.Fatalf("-suite %s: unknown cipher suite", *suite)
		}
		cfg.CipherSuites = []uint16{id}
	}
	for c := 0; c < *conns; c++ {
		if err := runClient(*addr, cfg, *ws, *calls, c); err != nil {
			log.Fatal(err)
		}
	}
}

// suiteID finds a cipher suite by name, the insecure ones included (RSA
// key exchange and CBC suites are what we must be able to decrypt).
func suiteID(name string) (uint16, bool) {
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if s.Name == name {
			return s.ID, true
		}
	}
	return 0, false
}

func selfSigned(kind string) (tls.Certificate, error) {
	var key any
	var pub any
	switch kind {
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return tls.Certificate{}, err
		}
		key, pub = k, &k.PublicKey
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		key, pub = k, &k.PublicKey
	default:
		return tls.Certificate{}, fmt.Errorf("-cert %s: want rsa or ecdsa", kind)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sip.test"},
		DNSNames: []string{"sip.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func runServer(addr, kind string, kl io.Writer, ws bool, serve int, hrr bool) error {
	cert, err := selfSigned(kind)
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, KeyLogWriter: kl, MinVersion: tls.VersionTLS12,
		CipherSuites: allSuites()}
	if hrr {
		// RFC 8446 §4.1.4: the client's key shares do not fit, the
		// server asks for another (P-384) in a HelloRetryRequest.
		cfg.CurvePreferences = []tls.CurveID{tls.CurveP384}
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer ln.Close()
	for i := 0; i < serve; i++ {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if err := serveConn(c, ws); err != nil {
			log.Printf("connection %d: %v", i, err)
		}
		c.Close()
	}
	return nil
}

func allSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

// peer reads and writes SIP messages over a TLS connection, framed by
// Content-Length (RFC 3261 §18.3) or, with ws, in WebSocket messages.
type peer struct {
	c      net.Conn
	r      *bufio.Reader
	ws     bool
	client bool
}

func (p *peer) read() (string, error) {
	if p.ws {
		return p.readWS()
	}
	var head strings.Builder
	cl := 0
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		head.WriteString(line)
		t := strings.TrimRight(line, "\r\n")
		if t == "" {
			break
		}
		if k, v, ok := strings.Cut(t, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Content-Length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(p.r, body); err != nil {
		return "", err
	}
	return head.String() + string(body), nil
}

func (p *peer) write(msg string) error {
	if p.ws {
		return p.writeWS([]byte(msg))
	}
	_, err := io.WriteString(p.c, msg)
	return err
}

// writeWS sends one text frame (RFC 6455 §5.2); the client masks it (§5.3).
func (p *peer) writeWS(b []byte) error {
	var h []byte
	h = append(h, 0x81)
	mask := byte(0)
	if p.client {
		mask = 0x80
	}
	switch {
	case len(b) < 126:
		h = append(h, mask|byte(len(b)))
	default:
		h = append(h, mask|126, byte(len(b)>>8), byte(len(b)))
	}
	out := b
	if p.client {
		key := make([]byte, 4)
		rand.Read(key)
		h = append(h, key...)
		out = make([]byte, len(b))
		for i := range b {
			out[i] = b[i] ^ key[i&3]
		}
	}
	_, err := p.c.Write(append(h, out...))
	return err
}

func (p *peer) readWS() (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		return "", err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(p.r, l[:]); err != nil {
			return "", err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		return "", errors.New("frame too large")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(p.r, key[:]); err != nil {
			return "", err
		}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(p.r, b); err != nil {
		return "", err
	}
	if masked {
		for i := range b {
			b[i] ^= key[i&3]
		}
	}
	if h[0]&0x0f == 0x8 {
		return "", io.EOF
	}
	return string(b), nil
}

func serveConn(c net.Conn, ws bool) error {
	p := &peer{c: c, r: bufio.NewReader(c), ws: ws}
	if ws {
		// RFC 6455 §4.2: read the upgrade request, answer 101.
		var keyHdr string
		for {
			line, err := p.r.ReadString('\n')
			if err != nil {
				return err
			}
			t := strings.TrimRight(line, "\r\n")
			if t == "" {
				break
			}
			if k, v, ok := strings.Cut(t, ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Key") {
				keyHdr = strings.TrimSpace(v)
			}
		}
		sum := sha1.Sum([]byte(keyHdr + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
		if _, err := io.WriteString(c, resp); err != nil {
			return err
		}
	}
	for {
		msg, err := p.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		method, _, _ := strings.Cut(msg, " ")
		switch method {
		case "INVITE":
			if err := p.write(response(msg, "100 Trying", false)); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
			if err := p.write(response(msg, "200 OK", true)); err != nil {
				return err
			}
		case "ACK":
		default:
			if err := p.write(response(msg, "200 OK", false)); err != nil {
				return err
			}
		}
	}
}

// response answers req, copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2).
func response(req, status string, sdp bool) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 " + status + "\r\n")
	for _, line := range strings.Split(req, "\r\n") {
		k, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "via", "from", "call-id", "cseq":
			b.WriteString(line + "\r\n")
		case "to":
			if !strings.Contains(line, "tag=") && status != "100 Trying" {
				line += ";tag=srv1"
			}
			b.WriteString(line + "\r\n")
		}
	}
	body := ""
	if sdp {
		body = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
		b.WriteString("Contact: <sip:srv@127.0.0.1:5061;transport=tls>\r\nContent-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

func runClient(addr string, cfg *tls.Config, ws bool, calls, conn int) error {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	p := &peer{c: c, r: bufio.NewReader(c), ws: ws, client: true}
	local := c.LocalAddr().String()
	if ws {
		key := make([]byte, 16)
		rand.Read(key)
		req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
		if _, err := io.WriteString(c, req); err != nil {
			return err
		}
		for {
			line, err := p.r.ReadString('\n')
			if err != nil {
				return err
			}
			if strings.TrimRight(line, "\r\n") == "" {
				break
			}
		}
	}
	tr := "TLS"
	if ws {
		tr = "WSS"
	}
	for i := 0; i < calls; i++ {
		callID := fmt.Sprintf("tls-%d-%d-%s@%s", conn, i, randHex(4), strings.Split(local, ":")[0])
		branch := func() string { return "z9hG4bK" + randHex(6) }
		sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n"
		hdr := func(method string, cseq int, toTag string) string {
			to := "<sip:bob@sip.test>"
			if toTag != "" {
				to += ";tag=" + toTag
			}
			return fmt.Sprintf("%s sip:bob@sip.test SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s\r\nMax-Forwards: 70\r\n"+
				"From: <sip:alice@sip.test>;tag=cli%d\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"+
				"Contact: <sip:alice@%s;transport=%s>\r\n", method, tr, local, branch(), i, to, callID, cseq, method, local, strings.ToLower(tr))
		}
		inv := hdr("INVITE", 1, "") + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
		if err := p.write(inv); err != nil {
			return err
		}
		for {
			resp, err := p.read()
			if err != nil {
				return err
			}
			if strings.HasPrefix(resp, "SIP/2.0 200") {
				break
			}
		}
		if err := p.write(hdr("ACK", 1, "srv1") + "Content-Length: 0\r\n\r\n"); err != nil {
			return err
		}
		time.Sleep(30 * time.Millisecond)
		if err := p.write(hdr("BYE", 2, "srv1") + "Content-Length: 0\r\n\r\n"); err != nil {
			return err
		}
		if _, err := p.read(); err != nil {
			return err
		}
	}
	// Let the server's session tickets (TLS 1.3 sends them after the
	// handshake) reach the cache before closing, for the next connection.
	time.Sleep(50 * time.Millisecond)
	if ws {
		c.Write([]byte{0x88, 0x80, 1, 2, 3, 4}) // close frame, masked, empty
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
