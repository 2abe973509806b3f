#!/usr/bin/env bash
# Make the TLS captures in testdata/tls/: SIP over TLS (and over WSS) between real
# TLS stacks, Go's crypto/tls (scripts/tlspeer) and OpenSSL's s_client/s_server,
# recorded by tcpdump on the loopback of a private network namespace. Each NAME.pcap
# has its key log NAME.keys (NSS format, written by the peers themselves) and
# NAME.tshark.tsv: what Wireshark decodes with the key log
# (frame, time_epoch, method, status, cseq, call_id).
#
# usage: sudo scripts/mktls.sh [OUTDIR] [NAME...]
#
# Needs root, go, tcpdump, tshark, openssl, iproute2. The namespace (tls-cap, or
# $CAP_NS) and its temp folder (/tmp/NS.*) are removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/netns.sh
. "$ROOT/scripts/netns.sh"

OUT=${1:-$ROOT/testdata/tls}
[ $# -gt 0 ] && shift
ONLY=("$@")
ns_session tls-cap

need_root
need_tools go tcpdump tshark openssl ip ss
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/tlspeer" ./scripts/tlspeer)
PEER=$WORK/tlspeer
ns_create "$NS" 1500

# finish NAME: stop the capture, keep the key log, write Wireshark's reading.
finish() {
	local name=$1
	cap_stop
	cp "$WORK/$name.keys" "$OUT/$name.keys"
	tshark -r "$OUT/$name.pcap" -o "tls.keylog_file:$OUT/$name.keys" -d tcp.port==5061,tls \
		-Y 'sip' -T fields -e frame.number -e frame.time_epoch -e sip.Method -e sip.Status-Code \
		-e sip.CSeq -e sip.Call-ID >"$OUT/$name.tshark.tsv" 2>/dev/null
	echo "$name: $(wc -l <"$OUT/$name.tshark.tsv") SIP messages (tshark), $CAP_STATS"
}

# go_pair NAME CERT CLIENT_ARGS...: tlspeer server and client, one capture.
go_pair() {
	local name=$1 cert=$2 serve=1
	shift 2
	wanted "$name" || return 0
	case " $* " in *" -conns 2 "*) serve=2 ;; esac
	: >"$WORK/$name.keys"
	cap_start "$NS" "$OUT/$name.pcap" tcp port 5061
	# RSA key exchange suites are off by default since Go 1.22: tlsrsakex=1
	# turns them back on, as old SIP trunks still need them.
	nsx "$NS" env GODEBUG=tlsrsakex=1,tls3des=1 "$PEER" -server -addr 127.0.0.1:5061 -cert "$cert" \
		-keylog "$WORK/$name.srv.keys" -serve "$serve" "$([ "$name" = wss ] && echo -ws || echo -ws=false)" \
		"$([ "$name" = tls13-hrr ] && echo -hrr || echo -hrr=false)" &
	local spid=$!
	BG_PIDS+=("$spid")
	wait_listen "$NS" 5061
	nsx "$NS" env GODEBUG=tlsrsakex=1 "$PEER" -addr 127.0.0.1:5061 -keylog "$WORK/$name.keys" "$@"
	wait "$spid" || true
	finish "$name"
}

go_pair tls13-aes128gcm ecdsa -tls 1.3 -calls 2
go_pair tls12-ecdhe-aes128gcm ecdsa -tls 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 -calls 2
go_pair tls12-ecdhe-aes256gcm rsa -tls 1.2 -suite TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
go_pair tls12-ecdhe-cbc-sha rsa -tls 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
go_pair tls12-ecdhe-cbc-sha256 rsa -tls 1.2 -suite TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
go_pair tls12-ecdhe-chacha20 ecdsa -tls 1.2 -suite TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
go_pair tls12-rsa-aes128gcm rsa -tls 1.2 -suite TLS_RSA_WITH_AES_128_GCM_SHA256
go_pair tls12-resumed ecdsa -tls 1.2 -suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 -conns 2
go_pair tls13-resumed ecdsa -tls 1.3 -conns 2
go_pair wss ecdsa -tls 1.3 -ws
go_pair tls13-hrr ecdsa -tls 1.3

# sip_text CALLID VIA: one INVITE, as a SIP phone would send it over TLS.
sip_invite() {
	printf 'INVITE sip:bob@sip.test SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:alice@sip.test>;tag=a1\r\nTo: <sip:bob@sip.test>\r\nCall-ID: %s\r\nCSeq: %s INVITE\r\nContact: <sip:alice@127.0.0.1:40000;transport=tls>\r\nContent-Length: 0\r\n\r\n' "$2" "$1" "$3"
}
sip_reply() {
	printf 'SIP/2.0 %s\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bK%s\r\nFrom: <sip:alice@sip.test>;tag=a1\r\nTo: <sip:bob@sip.test>;tag=b1\r\nCall-ID: %s\r\nCSeq: %s INVITE\r\nContent-Length: 0\r\n\r\n' "$4" "$2" "$1" "$3"
}

# ossl_pair NAME SERVER_ARGS -- CLIENT_ARGS: openssl s_server and s_client, the client
# sending two INVITEs with a KeyUpdate between them (s_client's "K" command: update
# our keys and ask the peer to update its own, RFC 8446 §4.6.3), the server answering.
ossl_pair() {
	local name=$1 sargs=() cargs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	cargs=("$@")
	wanted "$name" || return 0
	: >"$WORK/$name.keys"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
		-subj /CN=sip.test -days 1 2>/dev/null
	cap_start "$NS" "$OUT/$name.pcap" tcp port 5061
	{
		sleep 1
		sip_reply "ossl-1@sip.test" 1 1 "200 OK"
		sleep 1.5
		sip_reply "ossl-2@sip.test" 2 1 "200 OK"
		sleep 1
	} | nsx "$NS" openssl s_server -quiet -accept 127.0.0.1:5061 -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
		-naccept 1 "${sargs[@]}" >"$WORK/$name.srv.out" 2>&1 &
	local spid=$!
	BG_PIDS+=("$spid")
	wait_listen "$NS" 5061
	{
		sip_invite "ossl-1@sip.test" 1 1
		sleep 1.5
		printf 'K\n'
		sleep 0.5
		sip_invite "ossl-2@sip.test" 2 1
		sleep 2
	} | nsx "$NS" openssl s_client -connect 127.0.0.1:5061 -keylogfile "$WORK/$name.keys" "${cargs[@]}" \
		>"$WORK/$name.cli.out" 2>&1 || true
	sleep 0.5
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	finish "$name"
}

ossl_pair openssl-tls13-chacha20 -- -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
ossl_pair openssl-tls13-aes256gcm -- -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
# TLS 1.2 CBC between OpenSSLs negotiates encrypt-then-MAC (RFC 7366).
ossl_pair openssl-tls12-cbc-etm -- -tls1_2 -cipher ECDHE-RSA-AES256-SHA384
# TLS 1.0 (old SIP phones still speak it): CBC with the IV chained from record to
# record (RFC 2246 §6.2.3.2), the MD5+SHA-1 PRF; with and without encrypt-then-MAC.
ossl_pair openssl-tls10-cbc -cipher 'ALL:@SECLEVEL=0' -- -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
ossl_pair openssl-tls10-cbc-mte -cipher 'ALL:@SECLEVEL=0' -- -tls1 -no_etm -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'

# The key log inside the capture: a pcapng Decryption Secrets Block, as Wireshark
# users share decryptable captures.
for name in tls13-aes128gcm tls12-ecdhe-aes128gcm; do
	wanted "$name" || continue
	editcap --inject-secrets "tls,$OUT/$name.keys" "$OUT/$name.pcap" "$OUT/$name-dsb.pcapng"
done

# Calls through Kamailio's tls module (OpenSSL), TLS on both legs: tlspeer client
# 127.0.0.1 -> Kamailio 127.0.0.1:5061 (TLS 1.2, ECDHE AES-GCM) -> tlspeer server
# 127.0.0.1:5081 (TLS 1.3, Kamailio as the TLS client). Debian's SIPp is built without
# OpenSSL ("To use a TLS transport you must compile SIPp with OpenSSL"), so SIPp -t l1
# cannot be the peer here; the Go peers write the key log of both legs.
if wanted kamailio-tls; then
	if command -v kamailio >/dev/null 2>&1 && [ -e /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ]; then
		name=kamailio-tls
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/kkey.pem" -out "$WORK/kcert.pem" \
			-subj /CN=sip.test -days 1 2>/dev/null
		cat >"$WORK/tls.cfg" <<-TLS
			[server:default]
			method = TLSv1.2+
			verify_certificate = no
			require_certificate = no
			private_key = $WORK/kkey.pem
			certificate = $WORK/kcert.pem
			[client:default]
			method = TLSv1.2+
			verify_certificate = no
			require_certificate = no
		TLS
		sed "s|TLSCFG|$WORK/tls.cfg|" "$ROOT/scripts/kamailio/tls-proxy.cfg" >"$WORK/kam.cfg"
		mkdir -p "$WORK/kam"
		: >"$WORK/$name.keys"
		cap_start "$NS" "$OUT/$name.pcap" tcp port 5061 or tcp port 5081
		(exec ip netns exec "$NS" kamailio -f "$WORK/kam.cfg" -DD -E -Y "$WORK/kam" >"$WORK/kamailio.log" 2>&1) &
		KAM_PID=$!
		BG_PIDS+=("$KAM_PID")
		wait_listen "$NS" 5061
		nsx "$NS" "$PEER" -server -addr 127.0.0.1:5081 -keylog "$WORK/$name.keys" -serve 1 >"$WORK/uas.log" 2>&1 &
		UAS_PID=$!
		BG_PIDS+=("$UAS_PID")
		wait_listen "$NS" 5081
		nsx "$NS" "$PEER" -addr 127.0.0.1:5061 -keylog "$WORK/$name.keys" -tls 1.2 \
			-suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -calls 2 || echo "kamailio-tls: client failed"
		sleep 0.5
		kill "$KAM_PID" 2>/dev/null || true
		wait "$KAM_PID" 2>/dev/null || true
		kill "$UAS_PID" 2>/dev/null || true
		wait "$UAS_PID" 2>/dev/null || true
		cap_stop
		cp "$WORK/$name.keys" "$OUT/$name.keys"
		tshark -r "$OUT/$name.pcap" -o "tls.keylog_file:$OUT/$name.keys" -d tcp.port==5081,tls -d tls.port==5081,sip \
			-Y 'sip' -T fields -e frame.number -e frame.time_epoch -e sip.Method -e sip.Status-Code \
			-e sip.CSeq -e sip.Call-ID >"$OUT/$name.tshark.tsv" 2>/dev/null
		echo "$name: $(wc -l <"$OUT/$name.tshark.tsv") SIP messages (tshark, both legs), $CAP_STATS"
	else
		echo "kamailio-tls: skipped (needs kamailio and kamailio-tls-modules)"
	fi
fi
