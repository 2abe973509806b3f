#!/usr/bin/env bash
# Side-by-side decoding speed on one capture: sipscope vs tshark vs sngrep (issue 2).
#
# usage: scripts/bench-decode.sh FILE
#   env SIPSCOPE=path   a built sipscope (default: ./sipscope if present, else built
#                       from ./cmd/sipscope into a temp dir; "not available yet" if
#                       that fails)
#   env REPEAT=N        run each tool N times and keep the fastest (default 1)
#   env GOBENCH=0       skip the Go micro-benchmarks
#
# Make the 300,000-packet capture with `sudo scripts/mkbench.sh DIR 300kpkt`.
#
# What runs (each under /usr/bin/time -f '%e %M': wall seconds, peak RSS KiB):
#   sipscope messages --format jsonl FILE >/dev/null
#   tshark -r FILE -q -z sip,stat                   (dissects every packet, SIP statistics)
#   sngrep -N -q -I FILE                            (-N: no curses UI, -q: no dialog counter;
#                                                   it reads the whole file and exits)
# and prints packets per second for each and the ratios sipscope/tshark and
# sipscope/sngrep (time ratio < 1 and pps ratio > 1 mean sipscope is faster).
# Notes: sngrep keeps at most capture.limit dialogs (20,000 by default; -l raises it,
# scripts/bench-calls.sh does); sngrep sleeps about 0.5 s before it exits, included
# here. The Go benchmarks (BenchmarkFrame: one SIP frame, no file I/O) run with
# -cpu 1 and report per-core packets per second and allocations per packet; if a
# decode benchmark reads SIPSCOPE_BENCH_PCAP it is run on FILE too.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=${1:?usage: scripts/bench-decode.sh FILE}
[ -r "$FILE" ] || { echo "bench-decode: cannot read $FILE" >&2; exit 1; }
FILE=$(cd "$(dirname "$FILE")" && pwd)/$(basename "$FILE")
REPEAT=${REPEAT:-1}
TMP=$(mktemp -d /tmp/sipscope-bench-decode.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"

# shellcheck source=scripts/benchlib.sh
. "$ROOT/scripts/benchlib.sh"

PKTS=$(packets "$FILE")
echo "file:    $FILE ($(stat -c %s "$FILE") bytes)"
echo "packets: $PKTS"
echo "machine: $(nproc) CPUs, $(uname -r); best of $REPEAT run(s)"
echo

S_T='' S_M=''
find_sipscope
if [ -n "$SIPSCOPE_BIN" ] && "$SIPSCOPE_BIN" messages --help >/dev/null 2>&1; then
	measure sipscope "$SIPSCOPE_BIN" messages --format jsonl "$FILE"
	S_T=$T S_M=$M
else
	echo "sipscope: not available yet (no 'sipscope messages')"
fi

measure tshark tshark -r "$FILE" -q -z sip,stat
W_T=$T W_M=$M
measure sngrep sngrep -N -q -I "$FILE"
N_T=$T N_M=$M

printf '%-18s %10s %10s %14s\n' tool "wall s" "peak MiB" "packets/s"
row sipscope "$S_T" "$S_M"
row tshark "$W_T" "$W_M"
row sngrep "$N_T" "$N_M"
echo
ratio "sipscope/tshark" "$S_T" "$S_M" "$W_T" "$W_M"
ratio "sipscope/sngrep" "$S_T" "$S_M" "$N_T" "$N_M"
# What each found, for a cross-check that they did the same work.
echo
if [ -n "$S_T" ]; then echo "sipscope: $(wc -l <"$TMP/sipscope.out") SIP messages"; fi
if [ -n "$W_T" ]; then
	echo "tshark:   $(grep -E "Number of SIP messages" "$TMP/tshark.out" | sed 's/^ *//')," \
		"$(grep -E "Number of resent SIP messages" "$TMP/tshark.out" | sed 's/^ *//')"
fi

if [ "${GOBENCH:-1}" != 0 ] && command -v go >/dev/null 2>&1; then
	echo
	echo "Go benchmarks (one core):"
	go test ./decode/ -run '^$' -bench '^BenchmarkFrame$' -benchmem -cpu 1 2>&1 |
		grep -E "^Benchmark|^ok|FAIL" || echo "  BenchmarkFrame: not available yet"
	if grep -qs SIPSCOPE_BENCH_PCAP decode/*_test.go; then
		SIPSCOPE_BENCH_PCAP=$FILE go test ./decode/ -run '^$' -bench . -benchmem -cpu 1 2>&1 |
			grep -E "^Benchmark.*(File|Pcap|Capture)|FAIL" || true
	fi
fi
