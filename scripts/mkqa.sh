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
[ -f "$REC/g711a.pcap" ] || die "no $REC/g711a.pcap: apt-get install -y sip-tester (or set SIPP_RECORDINGS)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
(cd "$ROOT" && go build -o "$WORK/rtpmangle" ./scripts/rtpmangle)
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

# begin NAME / end NAME: start and stop the capture of NAME, write tshark's readings.
begin() {
	rm -rf "${WORK:?}/$1" && mkdir -p "$WORK/$1"
	printf '%-16s ' "$1"
	cap_start "$NS" "$OUT/$1.pcap" -Z root >/dev/null
}
end() {
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
if wanted tcp-lossy-dtmf; then
	D=$WORK/tcp-lossy-dtmf
	begin tcp-lossy-dtmf
	m -o "$D/caller.pcap" -loss 3 -seed 11 -drop 50-52 "$G@1-60" "$REC/dtmf_2833_0.pcap" "$G@61-100" \
		"$REC/dtmf_2833_9.pcap" "$G@101-140" "$REC/dtmf_2833_star.pcap" "$G@141-200"
	m -o "$D/callee.pcap" "$G@1-180"
	pair "$D" 5060 "$MEDIA_UAS -t t1 -key play yes" "$MEDIA_UAC -t t1 -d 6000"
	end tcp-lossy-dtmf
fi

# 2. One-way audio: the callee sends nothing; the caller's packets held back by
# U(0, 80 ms) (seed 21).
if wanted oneway-jitter; then
	D=$WORK/oneway-jitter
	begin oneway-jitter
	m -o "$D/caller.pcap" -jitter 80ms -seed 21 "$G@1-160"
	cp "$D/caller.pcap" "$D/callee.pcap"
	pair "$D" 5060 "$MEDIA_UAS -key play no" "$MEDIA_UAC -d 5000"
	end oneway-jitter
fi

# 3. Hold and resume: audio both ways, a=sendonly re-INVITE answered a=recvonly on
# port 20002 (hold music to the new port), a=sendrecv re-INVITE, audio with 5% loss.
if wanted hold-resume; then
	D=$WORK/hold-resume
	begin hold-resume
	m -o "$D/caller.pcap" "$G@1-90"
	m -o "$D/hold.pcap" "$G@91-150"
	m -o "$D/resume.pcap" -loss 5 -seed 4 "$G@151-236"
	m -o "$D/callee.pcap" "$G@1-80"
	pair "$D" 5060 "-sf $QA/uas-hold.xml -i $B -p 5060 -mi $B -mp 20000 -m 1" \
		"-sf $QA/uac-hold.xml $B:5060 -i $A -p 5060 -mi $A -mp 10000 -s bob -m 1"
	end hold-resume
fi

# 4. Early media, then CANCEL: 183 with SDP, the callee plays a ringback for 2.5 s,
# the caller cancels (487).
if wanted early-cancel; then
	D=$WORK/early-cancel
	begin early-cancel
	m -o "$D/callee.pcap" "$G@1-120"
	pair "$D" 5060 "-sf $QA/uas-early.xml -i $B -p 5060 -mi $B -mp 20000 -m 1" \
		"-sf $QA/uac-early-cancel.xml $B:5060 -i $A -p 5060 -mi $A -mp 10000 -s bob -m 1"
	end early-cancel
fi

# 5. Rejected calls: 486 Busy Here (IPv6), 603 Decline and 480 Temporarily
# Unavailable (each after 0.7 s of ringing, with a Q.850 Reason).
if wanted rejects; then
	D=$WORK/rejects
	begin rejects
	pair "$D" 5060 "-sf $SC/uas-busy.xml -i ::1 -p 5060 -m 1" "-sf $QA/uac-invite.xml [::1]:5060 -i ::1 -p 5062 -s bob -m 1"
	sed 's/CODE REASON/603 Decline/' "$QA/uas-decline.xml" >"$D/uas-603.xml"
	sed 's/CODE REASON/480 Temporarily Unavailable/' "$QA/uas-decline.xml" >"$D/uas-480.xml"
	pair "$D" 5060 "-sf $D/uas-603.xml -i $B -p 5060 -m 1" "-sf $QA/uac-invite.xml $B:5060 -i $A -p 5062 -s bob -m 1"
	pair "$D" 5060 "-sf $D/uas-480.xml -i $B -p 5060 -m 1" "-sf $QA/uac-invite.xml $B:5060 -i $A -p 5062 -s carl -m 1"
	end rejects
fi

# 6. Twelve simultaneous calls over IPv6 TCP, one connection per call (-t tn), each
# held 1.5 s.
if wanted many-tcp6; then
	D=$WORK/many-tcp6
	begin many-tcp6
	pair "$D" 5060 "-sf $SC/uas-basic.xml -i ::1 -p 5060 -t tn -max_socket 100 -m 12" \
		"-sf $SC/uac-basic.xml [::1]:5060 -i ::1 -p 15060 -t tn -max_socket 100 -s bob -m 12 -l 12 -r 24 -d 1500"
	end many-tcp6
fi

# 7. A long call: 28 s of audio both ways (the recording four times over), never
# committed (about 600 KB).
if wanted long-call; then
	D=$WORK/long-call
	begin long-call
	m -o "$D/caller.pcap" "$G" "$G" "$G" "$G"
	cp "$D/caller.pcap" "$D/callee.pcap"
	pair "$D" 5060 "$MEDIA_UAS -key play yes" "$MEDIA_UAC -d 29000"
	end long-call
fi

du -ch "$OUT"/*.pcap | tail -1 | sed 's/total/total pcap bytes/'
