#!/usr/bin/env bash
# Make the big benchmark captures (never committed): SIPp calling SIPp at a high rate
# over UDP on the loopback of a private network namespace, recorded by tcpdump.
#
# usage: sudo scripts/mkbench.sh [DIR] [SIZE...]
#   DIR   where to write (default /tmp/sipscope-bench)
#   SIZE  300kpkt   ~300,000 packets (42,858 calls × 7 packets) -> DIR/sipp-300k-packets.pcap
#         N         N calls -> DIR/sipp-N-calls.pcap (e.g. 50000, and 500000 for the
#                   ten-times-larger flat-memory check)
#   default sizes: 300kpkt 50000
#
# Each call is scripts/sipp/uac-basic.xml against uas-basic.xml: INVITE, 100, 180,
# 200, ACK, BYE, 200 (7 UDP packets, ~480 bytes each), started at RATE calls/s
# (default 2000, env RATE), each lasting HOLD ms between ACK and BYE (default 1000,
# env HOLD), so about RATE×HOLD/1000 calls are up at once.
#
# Needs root and sip-tester, tcpdump, tshark (capinfos), iproute2. Measured on the
# 2-core development machine (no drops, no failed calls): 300kpkt 24 s and 138 MB
# (300,006 packets); 50000 calls 27 s and 161 MB (350,000 packets); 500000 calls
# 4 min 14 s and 1.6 GB (3,500,000 packets): the time is the call rate, so lower
# RATE for a slower machine. The packet count is checked with capinfos, and
# tcpdump's drop counter and SIPp's failed calls are reported: a capture with
# drops is still written, and the benchmark should say so.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/netns.sh
. "$ROOT/scripts/netns.sh"

SC=$ROOT/scripts/sipp
DIR=${1:-/tmp/sipscope-bench}
[ $# -gt 0 ] && shift
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(300kpkt 50000)
RATE=${RATE:-2000}
HOLD=${HOLD:-1000}
CAP_NS=${CAP_NS:-${BENCH_NS:-}}
ns_session sipscope-bench

need_root
need_tools sipp tcpdump capinfos ip ss
for s in "${SIZES[@]}"; do
	[[ $s == 300kpkt || $s =~ ^[1-9][0-9]*$ ]] || die "bad SIZE $s: want 300kpkt or a number of calls"
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
ns_create "$NS" 1500

# sipp_calls LOG: "successful failed" from the cumulative column of SIPp's last screen.
sipp_calls() {
	local ok bad
	ok=$(grep "Successful call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
	bad=$(grep "Failed call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
	echo "${ok:-?} ${bad:-?}"
}

make_one() {
	local calls=$1 out=$2 start end timeout_s
	local uac_log=$WORK/uac.log uas_log=$WORK/uas.log
	# Enough time for the calls at RATE plus slack for a slow machine.
	timeout_s=$((calls * 3 / RATE + 60))
	echo "== $out: $calls calls at $RATE/s, hold ${HOLD} ms"
	start=$(date +%s.%N)
	# -B 65536: a 64 MiB kernel buffer so tcpdump keeps up with the burst; buffered
	# file writes (no -U) for the same reason.
	CAP_BUFFERED=1 cap_start "$NS" "$out" -Z root -B 65536 >/dev/null
	(cd "$WORK" && exec ip netns exec "$NS" timeout $((timeout_s + 30)) sipp -nostdin \
		-sf "$SC/uas-basic.xml" -i 127.0.0.1 -p 5060 -m "$calls" -buff_size 4194304 \
		-timeout "${timeout_s}s" >"$uas_log" 2>&1) &
	UAS_PID=$!
	BG_PIDS+=("$UAS_PID")
	wait_listen "$NS" 5060
	local rc=0
	(cd "$WORK" && exec ip netns exec "$NS" timeout $((timeout_s + 30)) sipp -nostdin \
		127.0.0.1:5060 -sf "$SC/uac-basic.xml" -s bob -i 127.0.0.1 -p 15060 \
		-r "$RATE" -d "$HOLD" -m "$calls" -l $((RATE * (HOLD / 1000 + 3))) -buff_size 4194304 \
		-timeout "${timeout_s}s" >"$uac_log" 2>&1) || rc=$?
	# The UAS ends after its last BYE; do not wait forever for calls that failed.
	reap "$UAS_PID"
	cap_stop
	end=$(date +%s.%N)
	local pkts
	pkts=$(capinfos -M -c "$out" 2>"$WORK/capinfos.err" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}') || true
	if [ -s "$WORK/capinfos.err" ]; then
		echo "   WARNING: capinfos: $(tr '\n' ' ' <"$WORK/capinfos.err")"
	fi
	echo "   sipp uac exit $rc; calls ok/failed: uac $(sipp_calls "$uac_log"), uas $(sipp_calls "$uas_log")"
	echo "   tcpdump: $CAP_STATS"
	printf '   %s packets (capinfos), %s bytes, %s s to make\n' "$pkts" "$(stat -c %s "$out")" \
		"$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')"
}

for s in "${SIZES[@]}"; do
	if [ "$s" = 300kpkt ]; then
		# 300,000 / 7 packets per call, rounded up.
		make_one 42858 "$DIR/sipp-300k-packets.pcap"
	else
		make_one "$s" "$DIR/sipp-$s-calls.pcap"
	fi
done
