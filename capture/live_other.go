//go:build !linux

package capture

// OpenLive is available on Linux only; elsewhere it returns
// ErrLiveUnsupported.
func OpenLive(ifaces []string, opts LiveOptions) (Live, error) {
	return nil, ErrLiveUnsupported
}
