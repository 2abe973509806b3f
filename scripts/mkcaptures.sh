#!/usr/bin/env bash
# Make the small real-peer captures in testdata/sipp/: SIPp calling SIPp (and once
# through a Kamailio proxy), recorded by tcpdump on the loopback of a private network
# namespace, plus NAME.tshark.tsv next to each capture: Wireshark's reading in the
# format of ../shared/corpus (frame, time_epoch, method, status, cseq, call_id).
#
# usage: sudo scripts/mkcaptures.sh [OUTDIR] [NAME...]
#   OUTDIR defaults to testdata/sipp; NAMEs pick some captures (default: all).
#   CAP_NS=NAME names the network namespace (default sipscope-cap), so that two
#   runs side by side do not collide; its temporary folder is /tmp/NAME.XXXXXX.
#
# Needs root (network namespace, tcpdump) and the Debian packages sip-tester, tcpdump,
# tshark, iproute2 (kamailio for proxy-2hop; skipped with a note when absent).
# Re-runnable: file names are fixed and overwritten. Takes about a minute; the
# namespace is deleted on exit, whatever happens. No packet leaves the namespace.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/netns.sh
. "$ROOT/scripts/netns.sh"

SC=$ROOT/scripts/sipp
OUT=${1:-$ROOT/testdata/sipp}
[ $# -gt 0 ] && shift
ONLY=("$@")
ns_session sipscope-cap

need_root
need_tools sipp tcpdump tshark ip ss
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Loopback with an Ethernet-sized MTU, so big UDP datagrams leave as IP fragments
# exactly as they would on a real network.
ns_create "$NS" 1500

# Every SIPp run: no keyboard, no screen on a terminal, a hard stop after 60 s.
SIPP=(timeout 90 sipp -nostdin -timeout 60s -timeout_error)

# capture NAME UAS_PORT "UAS ARGS" "UAC ARGS": record one SIPp UAC/UAS exchange.
# An empty UAS ARGS runs the UAC alone (nobody answers). Arguments are word-split.
capture() {
	local name=$1 port=$2 uas=$3 uac=$4 pcap uas_pid=
	wanted "$name" || return 0
	pcap=$OUT/$name.pcap
	printf '%-20s ' "$name"
	cap_start "$NS" "$pcap" -Z root >/dev/null
	if [ -n "$uas" ]; then
		# shellcheck disable=SC2086
		(cd "$WORK" && exec ip netns exec "$NS" "${SIPP[@]}" $uas >"$WORK/$name.uas.log" 2>&1) &
		uas_pid=$!
		BG_PIDS+=("$uas_pid")
		wait_listen "$NS" "$port"
	fi
	local rc=0
	# shellcheck disable=SC2086
	(cd "$WORK" && exec ip netns exec "$NS" "${SIPP[@]}" $uac >"$WORK/$name.uac.log" 2>&1) || rc=$?
	[ -z "$uas_pid" ] || reap "$uas_pid" uas
	[ "$rc" = 0 ] || echo -n "(uac exit $rc) "
	cap_stop
	echo "${CAP_STATS%%,*}"
	tshark_tsv "$pcap" "$OUT/$name.tshark.tsv"
	printf '%-20s %6d bytes, %3d frames with SIP\n' "" "$(stat -c %s "$pcap")" "$(wc -l <"$OUT/$name.tshark.tsv")"
}

V4=127.0.0.1
V6=::1
UAS4="-i $V4 -p 5060"
UAS6="-i $V6 -p 5060"
# Sequential calls (-l 1), five a second; -d is the pause between ACK and BYE.
UAC4="$V4:5060 -i $V4 -p 15060 -s bob -l 1 -r 5 -d 300"
UAC6="[$V6]:5060 -i $V6 -p 15060 -s bob -l 1 -r 5 -d 300"

capture udp-basic 5060 "-sf $SC/uas-basic.xml $UAS4 -m 3" "-sf $SC/uac-basic.xml $UAC4 -m 3"
capture tcp-basic 5060 "-sf $SC/uas-basic.xml $UAS4 -t t1 -m 2" "-sf $SC/uac-basic.xml $UAC4 -t t1 -m 2"
capture ipv6-basic 5060 "-sf $SC/uas-basic.xml $UAS6 -m 2" "-sf $SC/uac-basic.xml $UAC6 -m 2"
capture busy 5060 "-sf $SC/uas-busy.xml $UAS4 -m 1" "-sf $SC/uac-reject.xml $UAC4 -m 1"
capture notfound 5060 "-sf $SC/uas-notfound.xml $UAS4 -m 1" "-sf $SC/uac-reject.xml $UAC4 -m 1"
capture cancelled 5060 "-sf $SC/uas-cancel.xml $UAS4 -m 1" "-sf $SC/uac-cancel.xml $UAC4 -m 1"
capture noanswer 5060 "" "-sf $SC/uac-noanswer.xml $UAC4 -m 1"
# -nd: without it SIPp "helpfully" sends the missing ACK and a BYE when the call times out.
capture answered-no-ack 5060 "-sf $SC/uas-noack.xml $UAS4 -m 1 -nd" "-sf $SC/uac-noack.xml $UAC4 -m 1 -nd"
capture reinvite-hold 5060 "-sf $SC/uas-reinvite.xml $UAS4 -m 1" "-sf $SC/uac-reinvite.xml $UAC4 -m 1"
capture fragmented-udp 5060 "-sf $SC/uas-basic.xml $UAS4 -m 1" "-sf $SC/uac-fragmented.xml $UAC4 -m 1"
capture fragmented-ipv6 5060 "-sf $SC/uas-basic.xml $UAS6 -m 1" "-sf $SC/uac-fragmented.xml $UAC6 -m 1"
capture register-401 5060 "-sf $SC/uas-register.xml $UAS4 -m 1" "-sf $SC/uac-register.xml $UAC4 -m 1"
capture subscribe-notify 5060 "-sf $SC/uas-subscribe.xml $UAS4 -m 1" "-sf $SC/uac-subscribe.xml $UAC4 -m 1"
capture retransmissions 5060 "-sf $SC/uas-slow.xml $UAS4 -m 1" "-sf $SC/uac-basic.xml $UAC4 -m 1"
capture options 5060 "-sf $SC/uas-options.xml $UAS4 -m 2" "-sf $SC/uac-options.xml $UAC4 -m 2"
capture message 5060 "-sf $SC/uas-message.xml $UAS4 -m 2" "-sf $SC/uac-message.xml $UAC4 -m 2"
# What `sipscope diagnose` must find (issue 10), one code each.
capture codec-488 5060 "-sf $SC/uas-488.xml $UAS4 -m 1" "-sf $SC/uac-reject.xml $UAC4 -m 1"
capture server-503 5060 "-sf $SC/uas-503.xml $UAS4 -m 1" "-sf $SC/uac-reject.xml $UAC4 -m 1"
capture redirect-302 5060 "-sf $SC/uas-302.xml $UAS4 -m 1" "-sf $SC/uac-reject.xml $UAC4 -m 1"
capture bye-481 5060 "-sf $SC/uas-481.xml $UAS4 -m 1" "-sf $SC/uac-bye-unknown.xml $UAC4 -m 1"
capture glare-491 5060 "-sf $SC/uas-glare.xml $UAS4 -m 1" "-sf $SC/uac-glare.xml $UAC4 -m 1"
capture register-401-loop 5060 "-sf $SC/uas-register-fail.xml $UAS4 -m 1" "-sf $SC/uac-register-fail.xml $UAC4 -m 1"
capture x-account 5060 "-sf $SC/uas-basic.xml $UAS4 -m 6" "-sf $SC/uac-account.xml -inf $SC/accounts.csv $UAC4 -m 6"
capture prack-missing 5060 "-sf $SC/uas-100rel.xml $UAS4 -m 1" "-sf $SC/uac-basic.xml $UAC4 -m 1"
capture session-timer 5060 "-sf $SC/uas-timer.xml $UAS4 -m 1" "-sf $SC/uac-basic.xml $V4:5060 -i $V4 -p 15060 -s bob -l 1 -r 5 -d 4000 -m 1"

# SCTP (sipp -t s1): this SIPp build has SCTP, but it needs the kernel's sctp module;
# where socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) fails there is nothing to record.
if wanted sctp-basic; then
	if nsx "$NS" sipp -h 2>&1 | grep -q "s1: SCTP" &&
		python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)' 2>/dev/null; then
		capture sctp-basic 5060 "-sf $SC/uas-basic.xml $UAS4 -t s1 -m 2" "-sf $SC/uac-basic.xml $UAC4 -t s1 -m 2"
	else
		printf '%-20s skipped: no SCTP in this kernel (socket(IPPROTO_SCTP) fails: EPROTONOSUPPORT)\n' sctp-basic
	fi
fi

# A call through a record-routing proxy: UAC 127.0.0.1:5060 -> Kamailio 127.0.0.1:5070
# -> UAS 127.0.0.1:5080. Each message appears twice, once on each leg.
if wanted proxy-2hop; then
	if command -v kamailio >/dev/null 2>&1; then
		mkdir -p "$WORK/kam"
		(exec ip netns exec "$NS" kamailio -f "$ROOT/scripts/kamailio/proxy.cfg" -DD -E -Y "$WORK/kam" \
			>"$WORK/kamailio.log" 2>&1) &
		BG_PIDS+=("$!")
		KAM_PID=$!
		wait_listen "$NS" 5070
		capture proxy-2hop 5080 "-sf $SC/uas-basic.xml -i $V4 -p 5080 -m 2" \
			"-sf $SC/uac-basic.xml $V4:5080 -rsa $V4:5070 -i $V4 -p 5060 -s bob -l 1 -r 5 -d 300 -m 2"
		kill "$KAM_PID" 2>/dev/null || true
		wait "$KAM_PID" 2>/dev/null || true
	else
		printf '%-20s skipped: kamailio is not installed (apt-get install -y kamailio)\n' proxy-2hop
	fi
fi

du -ch "$OUT"/*.pcap | tail -1 | sed 's/total/total pcap bytes/'
