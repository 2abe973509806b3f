package decode

// Stubs owned by the packet layers (link, IP, UDP, ICMP); replaced by link.go, ip.go, udp.go, icmp.go.

import "github.com/sipscope/sipscope/capture"

type ipState struct{}

func newIPState(o Options) *ipState { return &ipState{} }

// link decodes the link layer of f and everything inside it.
func (d *Decoder) link(f *capture.Frame) {}

// flushIP expires every incomplete IP datagram.
func (d *Decoder) flushIP() {}

// onUDP handles one UDP payload: HEP, SIP (several per datagram), keep-alives.
func (d *Decoder) onUDP(p *pkt, sport, dport uint16, payload []byte) {}
