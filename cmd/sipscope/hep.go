package main

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sipscope/sipscope/capture"
)

// hepOptions are the HEP flags of sipscope capture: listeners that receive
// HEP from SIP servers or other agents, and a collector to forward to.
type hepOptions struct {
	listen   []string // --hep-listen udp:ADDR:PORT | tcp:ADDR:PORT, repeatable
	send     string   // --hep-send udp:HOST:PORT | tcp:HOST:PORT
	id       uint32   // --hep-id
	name     string   // --hep-name
	password string   // --hep-password, both directions
	queue    int      // --limit-hep-queue: packets waiting for decoding
	conns    int      // --limit-hep-conns: TCP connections per listener
}

// addHEPFlags registers the HEP flags on fs.
func addHEPFlags(fs *pflag.FlagSet, o *hepOptions) {
	fs.StringArrayVar(&o.listen, "hep-listen", nil,
		"receive HEP v1/v2/v3 at `ADDR`: udp:IP:PORT or tcp:IP:PORT (repeatable; e.g. udp:0.0.0.0:9060)")
	fs.StringVar(&o.send, "hep-send", "",
		"forward every SIP message as HEPv3 to `ADDR`: udp:HOST:PORT or tcp:HOST:PORT (Homer, or another sipscope)")
	fs.Uint32Var(&o.id, "hep-id", 2001, "capture agent `ID` in sent HEP (Homer's node id)")
	fs.StringVar(&o.name, "hep-name", "", "capture node `NAME` in sent HEP (default: none)")
	fs.StringVar(&o.password, "hep-password", "",
		"HEP auth key (`SECRET`): required on received packets, added to sent ones")
	// Bounds of the listeners (issue 13): what a flood of senders may make
	// capture hold. Over them packets are dropped, connections refused,
	// and --stats counts both.
	fs.IntVar(&o.queue, "limit-hep-queue", 8192, "received HEP packets waiting for decoding (`N`; more are dropped)")
	fs.IntVar(&o.conns, "limit-hep-conns", 256, "HEP TCP connections open at once per listener (`N`; more are refused)")
}

// listeners opens every --hep-listen address. On an error the ones already
// open are closed. They stop when ctx ends.
func (o *hepOptions) listeners(ctx context.Context) ([]capture.Source, error) {
	var out []capture.Source
	for _, spec := range o.listen {
		if !validHEPSpec(spec) {
			closeAll(out)
			return nil, usagef("--hep-listen %q: want udp:ADDR:PORT or tcp:ADDR:PORT", spec)
		}
		src, err := capture.ListenHEP(ctx, spec, capture.HEPOptions{Password: o.password, Queue: o.queue, MaxConns: o.conns})
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("--hep-listen: %w", err)
		}
		out = append(out, src)
	}
	return out, nil
}

// sender connects to --hep-send, or returns nil when it is not set.
func (o *hepOptions) sender() (*capture.HEPSender, error) {
	if o.send == "" {
		return nil, nil
	}
	if !validHEPSpec(o.send) {
		return nil, usagef("--hep-send %q: want udp:HOST:PORT or tcp:HOST:PORT", o.send)
	}
	s, err := capture.NewHEPSender(o.send, capture.HEPSendOptions{ID: o.id, Name: o.name, Password: o.password})
	if err != nil {
		return nil, fmt.Errorf("--hep-send: %w", err)
	}
	return s, nil
}

// validHEPSpec checks the form of a HEP address, so that a typo is a usage
// error (exit 2) and only a failure to bind or connect is exit 1.
func validHEPSpec(spec string) bool {
	network, addr, ok := strings.Cut(spec, ":")
	if !ok || (network != "udp" && network != "tcp") {
		return false
	}
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}

func closeAll(srcs []capture.Source) {
	for _, s := range srcs {
		s.Close()
	}
}
