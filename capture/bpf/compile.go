// Package bpf compiles tcpdump filter expressions to classic BPF.
//
// PLACEHOLDER: the real compiler comes from branch hepbpf; this file only
// keeps the signature so that callers build. The lead replaces it at merge.
package bpf

import (
	"errors"

	"golang.org/x/net/bpf"
)

// ErrNotAvailable is what the placeholder Compile returns.
var ErrNotAvailable = errors.New("filters not available yet")

// Compile compiles a tcpdump filter expression for a link type (a pcap
// LINKTYPE_ value) to a classic BPF program whose accepting returns keep
// snaplen bytes.
func Compile(expr string, linkType int, snaplen int) ([]bpf.RawInstruction, error) {
	return nil, ErrNotAvailable
}
