package decode

// Stubs owned by the stream layers (TCP, WebSocket, SCTP, HEP); replaced by tcp.go, ws.go, sctp.go, hep.go.

type tcpState struct{}

func newTCPState(o Options) *tcpState { return &tcpState{} }

// onTCP handles one TCP segment (header and payload) of the IP datagram p.
func (d *Decoder) onTCP(p *pkt, seg []byte) {}

// onSCTP handles one SCTP packet (common header and chunks).
func (d *Decoder) onSCTP(p *pkt, b []byte) {}

// onHEP decodes b as HEP v1/v2/v3 if it is one and reports whether it was.
func (d *Decoder) onHEP(p *pkt, sport, dport uint16, b []byte) bool { return false }

// flushTCP ends every stream: partial messages count as truncated.
func (d *Decoder) flushTCP() {}
