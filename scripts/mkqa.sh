#!/usr/bin/env bash
# Make the held-out QA captures: SIPp scenarios unlike those of testdata/sipp and
# testdata/media (TCP and IPv6 with audio, hold and resume moving the media, early media
# then CANCEL, 480/486/603 rejects, many simultaneous calls, a long call), with G.711
# audio and RFC 4733 digits from Debian's sip-tester recordings played by SIPp
# (<exec play_pcap_audio>), some first rewritten by scripts/rtpmangle; recorded by
# tcpdump on the loopback of a private network namespace. Writes NAME.pcap,
# NAME.tshark.tsv (Wireshark's reading of the SIP, as scripts/mkcaptures.sh) and
# NAME.rtp-streams.txt (tshark -z rtp,streams) for each.
#
# usage: sudo scripts/mkqa.sh [OUTDIR] [NAME...]
#   OUTDIR defaults to /tmp/qa-captures; NAMEs pick some captures (default: all).
#   CAP_NS=NAME names the network namespace (default sipscope-qa).
#
# Needs root, Go, and the Debian packages sip-tester, tcpdump, tshark, iproute2.
# Takes about two minutes. Scenarios are in scripts/qa/ (and scripts/sipp/).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/netns.sh
. "$ROOT/scripts/netns.sh"

SC=$ROOT/scripts/sipp
QA=$ROOT/scripts/qa
REC=${SIPP_RECORDINGS:-/usr/share/sip-tester}
OUT=${1:-/tmp/qa-captures}
[ $# -gt 0 ] && shift
ONLY=("$@")
ns_session sipscope-qa

need_root
need_tools sipp tcpdump tshark ip ss go
rtp_tools
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
ns_create "$NS" 1500

SIPP=(timeout 90 sipp -nostdin -timeout 60s -timeout_error)
A=127.0.0.1
B=127.0.0.2

m() { "$WORK/rtpmangle" "$@"; }

# pair DIR PORT "UAS ARGS" "UAC ARGS": one SIPp UAS (in the background) and UAC run
# in DIR (where their play_pcap_audio files are). Arguments are word-split.
pair() {
	local dir=$1 port=$2 uas=$3 uac=$4 uas_pid rc=0
	# SIPp opens every recording a scenario names when it loads it, played or not.
	cp "$REC/dtmf_2833_1.pcap" "$dir/dtmf1.pcap"
	cp "$REC/dtmf_2833_5.pcap" "$dir/dtmf5.pcap"
	cp "$REC/dtmf_2833_pound.pcap" "$dir/dtmfpound.pcap"
	# shellcheck disable=SC2086
	(cd "$dir" && exec ip netns exec "$NS" "${SIPP[@]}" $uas >>"$dir/uas.log" 2>&1) &
	uas_pid=$!
	BG_PIDS+=("$uas_pid")
	wait_listen "$NS" "$port"
	# shellcheck disable=SC2086
	(cd "$dir" && exec ip netns exec "$NS" "${SIPP[@]}" $uac >>"$dir/uac.log" 2>&1) || rc=$?
	reap "$uas_pid" uas
	[ "$rc" = 0 ] || echo -n "(uac exit $rc) "
}

# one NAME FUNC: when NAME is wanted, record FUNC (which plays the calls in the
# folder $D) as OUTDIR/NAME.pcap, then write tshark's readings of it.
one() {
	wanted "$1" || return 0
	D=$WORK/$1
	rm -rf "$D" && mkdir -p "$D"
	printf '%-16s ' "$1"
	cap_start "$NS" "$OUT/$1.pcap" -Z root >/dev/null
	"$2"
	local pcap=$OUT/$1.pcap
	cap_stop
	echo "${CAP_STATS%%,*}"
	tshark_tsv "$pcap" "$OUT/$1.tshark.tsv"
	tshark -r "$pcap" -q -o rtp.heuristic_rtp:TRUE -z rtp,streams 2>/dev/null >"$OUT/$1.rtp-streams.txt"
	printf '%-16s %d bytes, %d SIP messages (tshark), %d RTP streams\n' "" "$(stat -c %s "$pcap")" \
		"$(wc -l <"$OUT/$1.tshark.tsv")" "$(grep -c '0x' "$OUT/$1.rtp-streams.txt" || true)"
}

G=$REC/g711a.pcap
MEDIA_UAS="-sf $SC/uas-media.xml -i $B -p 5060 -mi $B -mp 20000 -m 1"
MEDIA_UAC="-sf $SC/uac-media.xml $B:5060 -i $A -p 5060 -mi $A -mp 10000 -s bob -m 1 -key sdpip $A -key info no -key dtmf no"

# 1. Over TCP: the caller's audio with RFC 4733 digits 0, 9 and * spliced in, then 3%
# lost at random (seed 11) and packets 50-52 dropped; the callee's audio clean.
qa_tcp_lossy_dtmf() {
	m -o "$D/caller.pcap" -loss 3 -seed 11 -drop 50-52 "$G@1-60" "$REC/dtmf_2833_0.pcap" "$G@61-100" \
		"$REC/dtmf_2833_9.pcap" "$G@101-140" "$REC/dtmf_2833_star.pcap" "$G@141-200"
	m -o "$D/callee.pcap" "$G@1-180"
	pair "$D" 5060 "$MEDIA_UAS -t t1 -key play yes" "$MEDIA_UAC -t t1 -d 6000"
}
one tcp-lossy-dtmf qa_tcp_lossy_dtmf

# 2. One-way audio: the callee sends nothing; the caller's packets held back by
# U(0, 80 ms) (seed 21).
qa_oneway_jitter() {
	m -o "$D/caller.pcap" -jitter 80ms -seed 21 "$G@1-160"
	cp "$D/caller.pcap" "$D/callee.pcap"
	pair "$D" 5060 "$MEDIA_UAS -key play no" "$MEDIA_UAC -d 5000"
}
one oneway-jitter qa_oneway_jitter

# 3. Hold and resume: audio both ways, a=sendonly re-INVITE answered a=recvonly on
# port 20002 (hold music to the new port), a=sendrecv re-INVITE, audio with 5% loss.
qa_hold_resume() {
	m -o "$D/caller.pcap" "$G@1-90"
	m -o "$D/hold.pcap" "$G@91-150"
	m -o "$D/resume.pcap" -loss 5 -seed 4 "$G@151-236"
	m -o "$D/callee.pcap" "$G@1-80"
	pair "$D" 5060 "-sf $QA/uas-hold.xml -i $B -p 5060 -mi $B -mp 20000 -m 1" \
		"-sf $QA/uac-hold.xml $B:5060 -i $A -p 5060 -mi $A -mp 10000 -s bob -m 1"
}
one hold-resume qa_hold_resume

# 4. Early media, then CANCEL: 183 with SDP, the callee plays a ringback for 2.5 s,
# the caller cancels (487).
qa_early_cancel() {
	m -o "$D/callee.pcap" "$G@1-120"
	pair "$D" 5060 "-sf $QA/uas-early.xml -i $B -p 5060 -mi $B -mp 20000 -m 1" \
		"-sf $QA/uac-early-cancel.xml $B:5060 -i $A -p 5060 -mi $A -mp 10000 -s bob -m 1"
}
one early-cancel qa_early_cancel

# 5. Rejected calls: 486 Busy Here (IPv6), 603 Decline and 480 Temporarily
# Unavailable (each after 0.7 s of ringing, with a Q.850 Reason).
qa_rejects() {
	pair "$D" 5060 "-sf $SC/uas-busy.xml -i ::1 -p 5060 -m 1" "-sf $QA/uac-invite.xml [::1]:5060 -i ::1 -p 5062 -s bob -m 1"
	sed 's/CODE REASON/603 Decline/' "$QA/uas-decline.xml" >"$D/uas-603.xml"
	sed 's/CODE REASON/480 Temporarily Unavailable/' "$QA/uas-decline.xml" >"$D/uas-480.xml"
	pair "$D" 5060 "-sf $D/uas-603.xml -i $B -p 5060 -m 1" "-sf $QA/uac-invite.xml $B:5060 -i $A -p 5062 -s bob -m 1"
	pair "$D" 5060 "-sf $D/uas-480.xml -i $B -p 5060 -m 1" "-sf $QA/uac-invite.xml $B:5060 -i $A -p 5062 -s carl -m 1"
}
one rejects qa_rejects

# 6. Twelve simultaneous calls over IPv6 TCP, one connection per call (-t tn), each
# held 1.5 s.
qa_many_tcp6() {
	pair "$D" 5060 "-sf $SC/uas-basic.xml -i ::1 -p 5060 -t tn -max_socket 100 -m 12" \
		"-sf $SC/uac-basic.xml [::1]:5060 -i ::1 -p 15060 -t tn -max_socket 100 -s bob -m 12 -l 12 -r 24 -d 1500"
}
one many-tcp6 qa_many_tcp6

# 7. A long call: 28 s of audio both ways (the recording four times over), never
# committed (about 600 KB).
qa_long_call() {
	m -o "$D/caller.pcap" "$G" "$G" "$G" "$G"
	cp "$D/caller.pcap" "$D/callee.pcap"
	pair "$D" 5060 "$MEDIA_UAS -key play yes" "$MEDIA_UAC -d 29000"
}
one long-call qa_long_call

du -ch "$OUT"/*.pcap | tail -1 | sed 's/total/total pcap bytes/'
