#!/usr/bin/env bash
# Make the media captures in testdata/media/: SIPp calling SIPp with audio, each side
# playing RTP recorded in the G.711 A-law and RFC 4733 recordings that Debian's
# sip-tester ships (/usr/share/sip-tester/*.pcap) with <exec play_pcap_audio>, some
# first rewritten by scripts/rtpmangle (packets dropped, re-timed, DTMF spliced in),
# recorded by tcpdump on the loopback of a private network namespace. Writes
# NAME.pcap and NAME.rtp-streams.txt (tshark -z rtp,streams on it) for each.
#
# usage: sudo scripts/mkmedia.sh [OUTDIR] [NAME...]
#   OUTDIR defaults to testdata/media; NAMEs pick some captures (default: all).
#
# Needs root, Go, and the Debian packages sip-tester, tcpdump, tshark, iproute2.
# Each call lasts about 5 s; the namespace (mediax-cap, or $CAP_NS) and its
# /tmp/NS.* folder are removed on exit, whatever happens. No packet leaves the namespace.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/netns.sh
. "$ROOT/scripts/netns.sh"

SC=$ROOT/scripts/sipp
REC=${SIPP_RECORDINGS:-/usr/share/sip-tester}
OUT=${1:-$ROOT/testdata/media}
[ $# -gt 0 ] && shift
ONLY=("$@")
ns_session "${MEDIA_NS:-mediax-cap}" # CAP_NS (or MEDIA_NS) lets two runs go side by side

need_root
need_tools sipp tcpdump tshark ip ss go
rtp_tools
MANGLE=$WORK/rtpmangle
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ns_create "$NS" 1500

SIPP=(timeout 60 sipp -nostdin -timeout 30s -timeout_error)
CALLER=127.0.0.1
CALLEE=127.0.0.2

# The audio: the first 150 packets (4.5 s, 30 ms each) of g711a.pcap, one G.711
# A-law stream (PT 8, SSRC 0xDEE0EE8F) recorded in 2002.
AUDIO="$REC/g711a.pcap@1-150"

# The scenarios of a call: scripts/sipp's, or $WORK/g722-scenarios (see the g722 call).
SCEN=$SC

# call NAME UAS_ARGS UAC_ARGS CALLER_PCAP CALLEE_PCAP: one call, recorded.
call() {
	local name=$1 uas=$2 uac=$3 pcap uas_pid rc=0
	wanted "$name" || return 0
	pcap=$OUT/$name.pcap
	rm -rf "$WORK/$name" && mkdir -p "$WORK/$name"
	cp "$4" "$WORK/$name/caller.pcap"
	cp "$5" "$WORK/$name/callee.pcap"
	cp "$REC/dtmf_2833_1.pcap" "$WORK/$name/dtmf1.pcap"
	cp "$REC/dtmf_2833_5.pcap" "$WORK/$name/dtmf5.pcap"
	cp "$REC/dtmf_2833_pound.pcap" "$WORK/$name/dtmfpound.pcap"
	printf '%-16s ' "$name"
	cap_start "$NS" "$pcap" -Z root >/dev/null
	# shellcheck disable=SC2086
	(cd "$WORK/$name" && exec ip netns exec "$NS" "${SIPP[@]}" -sf "$SCEN/uas-media.xml" \
		-i $CALLEE -p 5060 -mi $CALLEE -mp 20000 -m 1 $uas >"$WORK/$name.uas.log" 2>&1) &
	uas_pid=$!
	BG_PIDS+=("$uas_pid")
	wait_listen "$NS" 5060
	# shellcheck disable=SC2086
	(cd "$WORK/$name" && exec ip netns exec "$NS" "${SIPP[@]}" -sf "$SCEN/uac-media.xml" \
		$CALLEE:5060 -i $CALLER -p 5060 -mi $CALLER -mp 10000 -s bob -m 1 -d 5000 $uac \
		>"$WORK/$name.uac.log" 2>&1) || rc=$?
	reap "$uas_pid" uas
	[ "$rc" = 0 ] || echo -n "(uac exit $rc) "
	cap_stop
	echo "${CAP_STATS%%,*}"
	tshark -r "$pcap" -q -o rtp.heuristic_rtp:TRUE -z rtp,streams 2>/dev/null >"$OUT/$name.rtp-streams.txt"
	sed -n '3,$p' "$OUT/$name.rtp-streams.txt" | grep -v '^=' | sed 's/^/    /'
}

m() { "$MANGLE" "$@"; }

m -o "$WORK/clean.pcap" "$AUDIO"
# 7 of 150 packets (4.7%) dropped at random (seed 3) and a burst of 5 (packets 100-104).
m -o "$WORK/lossy.pcap" -loss 4 -seed 3 -drop 100-104 "$AUDIO"
# Each packet held back by U(0, 120 ms), in order: RFC 3550 jitter well over 20 ms.
m -o "$WORK/jitter.pcap" -jitter 120ms -seed 5 "$AUDIO"
# Audio, digit 1, audio, digit 5, audio, digit # (RFC 4733 events, PT 101, each end
# packet sent three times as recorded), audio: one stream, one SSRC.
m -o "$WORK/dtmf.pcap" "$REC/g711a.pcap@1-40" "$REC/dtmf_2833_1.pcap" "$REC/g711a.pcap@41-60" \
	"$REC/dtmf_2833_5.pcap" "$REC/g711a.pcap@61-80" "$REC/dtmf_2833_pound.pcap" "$REC/g711a.pcap@81-120"

# SIPp keeps the first -key of a name, so every call gives all four: play (does
# the callee send audio), sdpip (the caller's c=), info (INFO DTMF), dtmf (the
# caller plays sip-tester's digit recordings after 1.5 s, which ends its audio).
# The same digits as DTMF tones in the audio itself (Q.23 pairs written as A-law
# over 5 packets, 150 ms, each): in-band DTMF though the SDP offers telephone-event.
m -o "$WORK/inband.pcap" -inband '1@40-44,5@70-74,#@100-104' "$AUDIO"

# From packet 76 on (2.25 s) the caller's audio is µ-law, PT 0: a codec switch in
# the middle of the stream that no SDP negotiated.
m -o "$WORK/switch.pcap" -ulaw 76-150 "$AUDIO"

C=$WORK/clean.pcap
PLAY="-key play yes"
ME="-key sdpip $CALLER"
NOINFO="-key info no -key dtmf no"
call clean "$PLAY" "$ME $NOINFO" "$C" "$C"
call oneway "-key play no" "$ME $NOINFO" "$C" "$C"
call lossy "$PLAY" "$ME $NOINFO" "$WORK/lossy.pcap" "$C"
call jitter "$PLAY" "$ME $NOINFO" "$WORK/jitter.pcap" "$C"
call dtmf-rfc4733 "$PLAY" "$ME $NOINFO" "$WORK/dtmf.pcap" "$C"
call dtmf-info "$PLAY" "$ME -key info yes -key dtmf no" "$C" "$C"
call dtmf-inband "$PLAY" "$ME $NOINFO" "$WORK/inband.pcap" "$C"
call codec-switch "$PLAY" "$ME $NOINFO" "$WORK/switch.pcap" "$C"
call dtmf-sipp "$PLAY" "$ME -key info no -key dtmf yes" "$C" "$C"
# The caller announces 127.0.0.9 (as a phone behind NAT announces its private
# address) but sends from 127.0.0.1: the callee's RTP goes to 127.0.0.9.
call nat "$PLAY" "-key sdpip 127.0.0.9 $NOINFO" "$C" "$C"

# G.722 (PT 9, RFC 3551 §4.5.2: rtpmap G722/8000, one byte per 125 µs like
# G.711) both ways: the same recording relabelled PT 9 by rtpmangle -g722 (the
# bytes stay A-law codes: no G.722 encoder here, and no statistic reads them),
# and both SDPs offering and answering 9 instead of 8. media lists it as G722,
# not scored: there is no G.113 Ie,wb/Bpl we could cite (correlate/emodel.go).
m -o "$WORK/g722-audio.pcap" -g722 1-150 "$AUDIO"
mkdir -p "$WORK/g722-scenarios"
for f in uac-media.xml uas-media.xml; do
	sed 's|RTP/AVP 8 101|RTP/AVP 9 101|; s|rtpmap:8 PCMA/8000|rtpmap:9 G722/8000|' "$SC/$f" >"$WORK/g722-scenarios/$f"
	grep -q 'rtpmap:9 G722/8000' "$WORK/g722-scenarios/$f" || die "$f: the G.722 rewrite of its SDP did not apply"
done
SCEN=$WORK/g722-scenarios
call g722 "$PLAY" "$ME $NOINFO" "$WORK/g722-audio.pcap" "$WORK/g722-audio.pcap"
SCEN=$SC

du -ch "$OUT"/*.pcap | tail -1 | sed 's/total/total pcap bytes/'
