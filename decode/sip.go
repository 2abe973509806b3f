package decode

// Parse parses one SIP message from b into m, resetting every field of m.
// The string fields, Body and Raw of m alias b.
// (stub: replaced by the SIP parser)
func Parse(b []byte, m *Message) error {
	*m = Message{}
	return ErrNotSIP
}
