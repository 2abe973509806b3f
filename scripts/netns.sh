# shellcheck shell=bash
# Helpers shared by the scripts that make captures (scripts/mkcaptures.sh, mkmedia.sh,
# mktls.sh, mkbench.sh, mkqa.sh, bench-live.sh). Source it; do not run it.
#
# All traffic stays on the loopback interface of a private network namespace that
# these helpers create and delete, so nothing ever leaves the machine and nothing on
# the host's own loopback is disturbed. Needs root (ip netns, tcpdump).

# die MESSAGE: print to stderr and exit 1.
die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# need_root: the namespace and the capture need CAP_NET_ADMIN / CAP_NET_RAW.
need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (it creates a network namespace and runs tcpdump)"
}

# need_tools TOOL...: fail early, naming the Debian package to install.
need_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		die "missing ${missing[*]}: apt-get install -y sip-tester tshark tcpdump iproute2 (sngrep, kamailio for some parts)"
	fi
}

# ns_session DEFAULT: the namespace and temporary folder of one run. NS is $CAP_NS when
# set (two runs side by side then do not collide), else DEFAULT; WORK is a fresh
# /tmp/NS.XXXXXX. On exit, whatever happens, ns_cleanup stops tcpdump and every pid in
# BG_PIDS, deletes the namespace and WORK (kept, and said so, when KEEP is set).
ns_session() {
	NS=${CAP_NS:-$1}
	WORK=$(mktemp -d "/tmp/$NS.XXXXXX")
	BG_PIDS=()
	trap ns_cleanup EXIT
	trap 'exit 130' INT TERM
}

ns_cleanup() {
	local p
	if [ -n "${CAP_PID:-}" ]; then kill -INT "$CAP_PID" 2>/dev/null || true; fi
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ns_delete "$NS"
	if [ -n "${KEEP:-}" ]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}

# wanted NAME: whether to make NAME: the NAMEs given on the command line (the array
# ONLY) pick some; none picks all.
wanted() {
	[ ${#ONLY[@]} -eq 0 ] && return 0
	local n
	for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
	return 1
}

# reap PID [LABEL]: wait for a background peer (a SIPp UAS ends by itself after its
# -m calls) for up to 10 s, then stop it: if its partner failed early it would wait
# for calls that never come. With LABEL, prints "(LABEL stopped) " or
# "(LABEL exit N) " when it did not end well.
reap() {
	local pid=$1 label=${2:-} rc=0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill "$pid" 2>/dev/null && [ -n "$label" ]; then echo -n "($label stopped) "; fi
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" != 0 ] && [ -n "$label" ]; then echo -n "($label exit $rc) "; fi
	return 0
}

# rtp_tools: what the scripts that play RTP need besides need_tools: sip-tester's
# recordings in REC, and scripts/rtpmangle built as $WORK/rtpmangle.
rtp_tools() {
	[ -f "$REC/g711a.pcap" ] || die "no $REC/g711a.pcap: apt-get install -y sip-tester (or set SIPP_RECORDINGS)"
	(cd "$ROOT" && go build -o "$WORK/rtpmangle" ./scripts/rtpmangle)
}

# ns_create NAME [MTU]: a fresh namespace with only lo, up (re-created if left over).
ns_create() {
	local ns=$1 mtu=${2:-}
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	if [ -n "$mtu" ]; then
		ip -n "$ns" link set lo mtu "$mtu"
	fi
}

# ns_delete NAME: delete the namespace; processes still inside are not ours to keep.
ns_delete() {
	ip netns del "$1" 2>/dev/null || true
}

# nsx NAME CMD...: run CMD inside the namespace.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# cap_start NAME FILE [TCPDUMP_ARGS...]: start tcpdump on lo inside the namespace,
# writing every packet whole (snaplen 0) to FILE, and return once it is listening.
# By default each packet is written as it arrives (-U --immediate-mode); set
# CAP_BUFFERED=1 for high packet rates, where per-packet writes make tcpdump lag.
# Sets CAP_PID, CAP_FILE and CAP_ERR (tcpdump's stderr, with its counters at the end).
cap_start() {
	local ns=$1 file=$2 live=(-U --immediate-mode)
	shift 2
	[ -z "${CAP_BUFFERED:-}" ] || live=()
	CAP_ERR=$(mktemp)
	CAP_FILE=$file
	# ip netns exec execs tcpdump, so CAP_PID is tcpdump's own pid.
	ip netns exec "$ns" tcpdump -i lo -s 0 "${live[@]}" "$@" -w "$file" 2>"$CAP_ERR" &
	CAP_PID=$!
	for _ in $(seq 1 100); do
		grep -q "listening on" "$CAP_ERR" 2>/dev/null && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$CAP_ERR" >&2
	die "tcpdump did not start for $file"
}

# cap_stop: let the last packets reach the file, stop tcpdump with SIGINT (it then
# flushes and prints its counters) and wait for it. Sets CAP_STATS to tcpdump's
# counters ("N packets captured, N packets received by filter, N packets dropped by
# kernel"). Call it directly, not in a pipeline: it must wait for its own child.
cap_stop() {
	CAP_STATS=
	[ -n "${CAP_PID:-}" ] || return 0
	# tcpdump can lag well behind the traffic at high rates; a SIGINT that lands
	# while it is still writing can leave a damaged tail (the handler flushes the
	# same stdio buffer the writer is in). So wait until the file has stopped
	# growing for a second (at most 5 minutes).
	local last=-1 size
	sleep 0.5
	for _ in $(seq 1 300); do
		size=$(stat -c %s "$CAP_FILE" 2>/dev/null || echo 0)
		[ "$size" != "$last" ] || break
		last=$size
		sleep 1
	done
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	CAP_PID=
	# shellcheck disable=SC2034 # read by the scripts that source this file
	CAP_STATS=$(grep -E "captured|received|dropped" "$CAP_ERR" | paste -sd, - | sed 's/,/, /g') || true
	rm -f "$CAP_ERR"
}

# wait_listen NAME PORT: wait (up to 5 s) until something listens on PORT (udp or tcp) in NAME.
wait_listen() {
	local ns=$1 port=$2
	for _ in $(seq 1 100); do
		if ip netns exec "$ns" ss -lnut 2>/dev/null | awk '{print $5}' | grep -qE "[:.]$port\$"; then
			return 0
		fi
		sleep 0.05
	done
	echo "warning: nothing listening on port $port in $ns" >&2
}

# tshark_tsv PCAP OUT: Wireshark's reading of the SIP in PCAP, in the corpus format
# (frame, time_epoch, method, status, cseq, call_id; tab-separated, no header), with
# heuristic SIP on every port and SIP quoted inside ICMP errors left out.
tshark_tsv() {
	tshark -r "$1" \
		--enable-heuristic sip_udp --enable-heuristic sip_tcp --enable-heuristic sip_sctp \
		-Y 'sip && !icmp && !icmpv6' \
		-T fields -e frame.number -e frame.time_epoch -e sip.Method -e sip.Status-Code \
		-e sip.CSeq -e sip.Call-ID >"$2" 2>/dev/null
}
