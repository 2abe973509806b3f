// Package decode turns captured frames into SIP messages.
//
// A Decoder takes capture.Frame values in capture order and walks each one
// down its layers: link (Ethernet, Linux SLL/SLL2, raw IP, BSD loopback,
// PPP, 802.1Q/QinQ, PPPoE, MPLS), tunnels (IP-in-IP, GRE, ERSPAN I/II/III,
// VXLAN, GTP-U), IPv4/IPv6 with fragment reassembly, then UDP, TCP (stream
// reassembly and Content-Length framing), WebSocket, SCTP and HEP v1/v2/v3.
// Every SIP message found is parsed by Parse, our own single-pass parser,
// and handed to a Handler as a *Message that knows its addresses, transport,
// encapsulation path (Message.Encap), the frames that carried it and its raw
// bytes. ICMP errors quoting a SIP request become Events. Whatever cannot be
// decoded is counted in Stats, never logged.
//
// SIP over TLS and WSS is decrypted when the session secrets are known
// (tls.go): an NSS key log in Options.Keys (ReadKeyLogFile), or the
// Decryption Secrets Blocks of a pcapng file, which Run hands to
// AddSecrets. Such messages have Transport TLS or WSS; sessions without
// keys are counted (Stats.TLSNoKeys) and named (TLSMissing).
//
//	keys, err := decode.ReadKeyLogFile("sslkeys.txt")
//	if err != nil {
//		return err
//	}
//	d := decode.New(decode.Options{Keys: keys}, h)
//
// Ownership: a *Message handed to a Handler aliases decoder buffers and is
// valid only until the Handler returns; a stage that keeps it calls Clone,
// which copies it once. Parse likewise leaves a Message aliasing its input.
// In the steady state decoding an unfragmented UDP SIP frame allocates
// nothing. A Decoder is not safe for concurrent use.
//
// Example:
//
//	src, err := capture.Open([]string{"trace.pcap"}, capture.Options{})
//	if err != nil {
//		return err
//	}
//	defer src.Close()
//	var kept []*decode.Message
//	d := decode.New(decode.Options{}, handler{func(m *decode.Message) {
//		fmt.Println(m.Time, m.Src, "->", m.Dst, m.Method, m.Status, m.CallID)
//		kept = append(kept, m.Clone())
//	}})
//	var f capture.Frame
//	for {
//		if err := src.Next(&f); err == io.EOF {
//			break
//		} else if err != nil {
//			return err
//		}
//		d.Frame(&f)
//	}
//	d.Flush()
//	fmt.Printf("%+v\n", d.Stats())
package decode
