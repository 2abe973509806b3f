#!/usr/bin/env bash
# The speed benchmark of issue 12, side by side in one run on one machine:
# sipscope calls, import and messages against sngrep and tshark, with the
# targets' ratios.
#
# usage: scripts/bench.sh [DIR]
#   DIR  where the captures are (default /tmp/sipscope-bench; never in git):
#        sipp-50000-calls.pcap, sipp-500000-calls.pcap, sipp-300k-packets.pcap.
#        Missing ones are made with scripts/mkbench.sh (needs root and SIPp; the
#        500,000-call one takes 5 to 9 minutes), existing ones are reused.
#   env SIPSCOPE=path   a built sipscope (default ./sipscope, else built from ./cmd/sipscope)
#   env REPEAT=N        runs per measurement, fastest kept (default 1)
#   env SNGREP10X=1     also run sngrep on the 500,000-call capture (it keeps
#                       every dialog: several GB)
#   env GOBENCH=0       skip the decode-only Go benchmark
#
# What runs (each under /usr/bin/time: wall seconds, user+system CPU seconds, peak RSS):
#   sipscope calls --format jsonl FILE >OUT       on the 50,000- and 500,000-call captures
#   sipscope import FILE --db NEW.db -q            on the same two
#   sipscope messages --format jsonl FILE >OUT     on the 300,000-packet capture
#   sngrep -N -q -l 2000000 -I FILE                on the 50,000-call and 300,000-packet ones
#   tshark -r FILE -q -z sip,stat                  on the 50,000-call one
#   go test ./cmd/sipscope -bench DecodeOnly -cpu 1 on the 300,000-packet one (decode per core)
# Targets (issue 12), ratios of wall time and peak memory in this one run:
#   calls <= 0.1 x sngrep's wall and <= 0.25 x its peak memory; >= 100 x faster than tshark
#   import <= 0.2 x sngrep's wall; messages <= 0.2 x sngrep's wall (300,000 packets)
#   decode alone >= 2,000,000 packets/s on one core
#   500,000 calls: calls' and import's peak memory <= 1.2 x the 50,000-call one, wall <= 11 x
# The machine's load is printed first: on a shared machine the wall times (and
# so the ratios) are noise; CPU seconds are steadier.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/tmp/sipscope-bench}
REPEAT=${REPEAT:-1}
SMALL=$DIR/sipp-50000-calls.pcap
BIG=$DIR/sipp-500000-calls.pcap
PKT=$DIR/sipp-300k-packets.pcap
TMP=$(mktemp -d /tmp/sipscope-bench-run.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=scripts/benchlib.sh
. "$ROOT/scripts/benchlib.sh"

need=()
[ -s "$PKT" ] || need+=(300kpkt)
[ -s "$SMALL" ] || need+=(50000)
[ -s "$BIG" ] || need+=(500000)
if [ ${#need[@]} -gt 0 ]; then
	echo "making ${need[*]} in $DIR (scripts/mkbench.sh)"
	"$ROOT/scripts/mkbench.sh" "$DIR" "${need[@]}"
fi

find_sipscope
[ -n "$SIPSCOPE_BIN" ] || { echo "bench: no sipscope to run" >&2; exit 1; }

echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GB, $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); best of $REPEAT run(s)"
echo "$("$SIPSCOPE_BIN" --version 2>/dev/null | head -1)"
# A build without VCS stamps (GOFLAGS=-buildvcs=false, or a binary from
# elsewhere) does not say what it is: name the tree's commit beside it.
if rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
	git -C "$ROOT" diff --quiet HEAD 2>/dev/null || rev="$rev+changes"
	echo "source tree at $rev (the binary is $SIPSCOPE_BIN)"
fi
for f in "$SMALL" "$BIG" "$PKT"; do
	echo "  $(basename "$f"): $(packets "$f") packets, $(stat -L -c %s "$f") bytes"
done
echo

# run NAME PKTS CMD...: measure and keep NAME's wall (T_NAME), CPU (C_NAME),
# peak KiB (M_NAME) and packets (P_NAME).
run() {
	local name=$1 pkts=$2
	shift 2
	measure "$name" "$@"
	eval "T_$name=\$T C_$name=\$C M_$name=\$M P_$name=\$pkts"
}
# A fresh database each run: importing a file twice is a no-op by design.
# shellcheck disable=SC2016 # $1.. expand in the inner sh
IMPORT=(sh -c 'rm -f "$1" "$1-wal" "$1-shm"; exec "$2" import -q "$3" --db "$1"' sh)

PS=$(packets "$SMALL") PB=$(packets "$BIG") PP=$(packets "$PKT")
run calls50k "$PS" "$SIPSCOPE_BIN" calls -q --format jsonl "$SMALL"
run import50k "$PS" "${IMPORT[@]}" "$TMP/small.db" "$SIPSCOPE_BIN" "$SMALL"
run sngrep50k "$PS" sngrep -N -q -l 2000000 -I "$SMALL"
run tshark50k "$PS" tshark -r "$SMALL" -q -z sip,stat
run calls500k "$PB" "$SIPSCOPE_BIN" calls -q --format jsonl "$BIG"
run import500k "$PB" "${IMPORT[@]}" "$TMP/big.db" "$SIPSCOPE_BIN" "$BIG"
if [ "${SNGREP10X:-0}" = 1 ]; then
	run sngrep500k "$PB" sngrep -N -q -l 2000000 -I "$BIG"
fi
run messages300k "$PP" "$SIPSCOPE_BIN" messages --format jsonl "$PKT"
run sngrep300k "$PP" sngrep -N -q -l 2000000 -I "$PKT"

printf '%-22s %9s %9s %10s %12s\n' command "wall s" "CPU s" "peak MiB" "packets/s"
line() {
	local n=$1 label=$2 t c m p
	eval "t=\${T_$n:-} c=\${C_$n:-} m=\${M_$n:-} p=\${P_$n:-}"
	if [ -z "$t" ]; then
		printf '%-22s %9s\n' "$label" "n/a"
		return
	fi
	awk -v l="$label" -v t="$t" -v c="$c" -v m="$m" -v p="$p" 'BEGIN {
		printf "%-22s %9.2f %9.2f %10.1f %12s\n", l, t, c, m / 1024, (t > 0) ? sprintf("%.0f", p / t) : "-" }'
}
line calls50k "calls 50k"
line import50k "import 50k"
line sngrep50k "sngrep 50k"
line tshark50k "tshark 50k"
line calls500k "calls 500k"
line import500k "import 500k"
[ "${SNGREP10X:-0}" = 1 ] && line sngrep500k "sngrep 500k"
line messages300k "messages 300k pkts"
line sngrep300k "sngrep 300k pkts"
echo

# target LABEL A B OP LIMIT WHAT: the ratio A/B of WHAT (T wall, M memory) and
# whether it meets OP LIMIT (le: at most, ge: at least).
target() {
	local label=$1 a b
	eval "a=\${$4_$2:-} b=\${$4_$3:-}"
	if [ -z "$a" ] || [ -z "$b" ]; then
		printf '%-44s n/a\n' "$label"
		return
	fi
	awk -v l="$label" -v a="$a" -v b="$b" -v op="$5" -v lim="$6" 'BEGIN {
		if (b == 0) { printf "%-44s n/a (zero)\n", l; exit }
		r = a / b
		ok = (op == "le") ? (r <= lim) : (r >= lim)
		printf "%-44s %8.3f  target %s %s  %s\n", l, r, (op == "le") ? "<=" : ">=", lim, ok ? "ok" : "MISSED" }'
}
target "calls / sngrep, wall (50k calls)" calls50k sngrep50k T le 0.1
target "calls / sngrep, peak memory (50k calls)" calls50k sngrep50k M le 0.25
target "tshark / calls, wall (50k calls)" tshark50k calls50k T ge 100
target "import / sngrep, wall (50k calls)" import50k sngrep50k T le 0.2
target "messages / sngrep, wall (300k packets)" messages300k sngrep300k T le 0.2
target "calls 500k / 50k, peak memory" calls500k calls50k M le 1.2
target "calls 500k / 50k, wall" calls500k calls50k T le 11
target "import 500k / 50k, peak memory" import500k import50k M le 1.2
target "import 500k / 50k, wall" import500k import50k T le 11
# And by CPU time, which a loaded machine disturbs less than wall time.
target "calls / sngrep, CPU (50k calls)" calls50k sngrep50k C le 0.1
target "import / sngrep, CPU (50k calls)" import50k sngrep50k C le 0.2
target "messages / sngrep, CPU (300k packets)" messages300k sngrep300k C le 0.2

if [ "${GOBENCH:-1}" != 0 ] && command -v go >/dev/null 2>&1; then
	echo
	# One core: decoding alone (read and decode every frame, drop the messages).
	ns=$(cd "$ROOT" && SIPSCOPE_BENCH=$PKT go test ./cmd/sipscope -run '^$' -bench '^BenchmarkDecodeOnly$' \
		-benchtime 3x -cpu 1 2>/dev/null | awk '/^BenchmarkDecodeOnly/ {print $3}')
	if [ -n "$ns" ]; then
		awk -v ns="$ns" -v p="$PP" 'BEGIN { r = p / (ns / 1e9)
			printf "%-44s %8.0f  target >= 2000000  %s\n", "decode alone, packets/s on one core", r, (r >= 2e6) ? "ok" : "MISSED" }'
	else
		echo "decode alone: BenchmarkDecodeOnly did not run"
	fi
fi
echo
echo "dialogs: calls 50k $(wc -l <"$TMP/calls50k.out"), calls 500k $(wc -l <"$TMP/calls500k.out");" \
	"messages 300k $(wc -l <"$TMP/messages300k.out")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
