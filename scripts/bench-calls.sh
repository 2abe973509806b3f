#!/usr/bin/env bash
# Side-by-side call analysis on one capture: sipscope calls and import vs sngrep (issue 3).
#
# usage: scripts/bench-calls.sh FILE [FILE10x]
#   FILE     e.g. a 50,000-call capture:  sudo scripts/mkbench.sh DIR 50000
#   FILE10x  optional, ten times larger:  sudo scripts/mkbench.sh DIR 500000
#   env SIPSCOPE=path   a built sipscope (default: ./sipscope, else built from ./cmd/sipscope)
#   env REPEAT=N        runs per measurement, fastest kept (default 1)
#   env SNGREP10X=0     skip sngrep on FILE10x (it keeps up to 200,000 dialogs in memory)
#
# What runs (each under /usr/bin/time -f '%e %M': wall seconds, peak RSS KiB):
#   sipscope calls --format jsonl FILE >FILE.out     (analysis, nothing left behind)
#   sipscope import FILE --db TMP/bench.db            (a fresh database each run)
#   sngrep -N -q -l 200000 -I FILE                    (no UI, quiet, up to 200,000 dialogs)
# and the targets of issue 3: calls <= 1/5 of sngrep's wall time and <= 1/2 of its
# peak memory; import <= 1/3 of its time; with FILE10x, sipscope calls' peak memory
# on FILE10x <= 1.5 x that on FILE (a streaming analysis in flat memory).
# sngrep stops keeping dialogs at -l (200,000), so on a 500,000-call file it does
# less work than sipscope: its FILE10x numbers are context, not a target.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILE=${1:?usage: scripts/bench-calls.sh FILE [FILE10x]}
BIG=${2:-}
for f in "$FILE" $BIG; do
	[ -r "$f" ] || { echo "bench-calls: cannot read $f" >&2; exit 1; }
done
REPEAT=${REPEAT:-1}
TMP=$(mktemp -d /tmp/sipscope-bench-calls.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=scripts/benchlib.sh
. "$ROOT/scripts/benchlib.sh"

find_sipscope
HAVE_CALLS='' HAVE_IMPORT=''
if [ -n "$SIPSCOPE_BIN" ]; then
	"$SIPSCOPE_BIN" calls --help >/dev/null 2>&1 && HAVE_CALLS=1
	"$SIPSCOPE_BIN" import --help >/dev/null 2>&1 && HAVE_IMPORT=1
fi
[ -n "$HAVE_CALLS" ] || echo "sipscope calls: not available yet"
[ -n "$HAVE_IMPORT" ] || echo "sipscope import: not available yet"

# bench_file FILE TAG: measure all three on FILE; sets C_T_TAG, C_M_TAG, I_T_TAG, ...
bench_file() {
	local file=$1 tag=$2 run_sngrep=${3:-1}
	PKTS=$(packets "$file")
	echo "== $file ($(stat -c %s "$file") bytes, $PKTS packets)"
	local ct='' cm='' it='' im='' nt='' nm=''
	if [ -n "$HAVE_CALLS" ]; then
		measure "calls-$tag" "$SIPSCOPE_BIN" calls --format jsonl "$file"
		ct=$T cm=$M
	fi
	if [ -n "$HAVE_IMPORT" ]; then
		# A fresh database each run: importing a file twice is a no-op by design.
		# shellcheck disable=SC2016 # $1.. expand in the inner sh
		measure "import-$tag" sh -c 'rm -f "$1" "$1-wal" "$1-shm"; exec "$2" import "$3" --db "$1"' \
			sh "$TMP/bench-$tag.db" "$SIPSCOPE_BIN" "$file"
		it=$T im=$M
	fi
	if [ "$run_sngrep" = 1 ]; then
		measure "sngrep-$tag" sngrep -N -q -l 200000 -I "$file"
		nt=$T nm=$M
	fi
	printf '%-18s %10s %10s %14s\n' tool "wall s" "peak MiB" "packets/s"
	row "sipscope calls" "$ct" "$cm"
	row "sipscope import" "$it" "$im"
	if [ "$run_sngrep" = 1 ]; then row "sngrep -l 200000" "$nt" "$nm"; else echo "sngrep             (skipped)"; fi
	if [ -n "$ct" ]; then
		echo "sipscope calls: $(wc -l <"$TMP/calls-$tag.out") dialogs;" \
			"states: $(grep -o '"state":"[a-z-]*"' "$TMP/calls-$tag.out" | cut -d'"' -f4 | sort | uniq -c | awk '{printf "%s %s ", $2, $1}')"
	fi
	echo
	ratio "calls/sngrep" "$ct" "$cm" "$nt" "$nm" 0.2 0.5
	ratio "import/sngrep" "$it" "$im" "$nt" "$nm" 0.333
	echo
	eval "C_T_$tag=\$ct C_M_$tag=\$cm I_T_$tag=\$it I_M_$tag=\$im"
}

echo "machine: $(nproc) CPUs, $(uname -r); best of $REPEAT run(s)"
echo
bench_file "$FILE" small
if [ -n "$BIG" ]; then
	bench_file "$BIG" big "$([ "${SNGREP10X:-1}" = 0 ] && echo 0 || echo 1)"
	# shellcheck disable=SC2154 # set by eval in bench_file
	if [ -n "$C_M_small" ] && [ -n "$C_M_big" ]; then
		awk -v s="$C_M_small" -v b="$C_M_big" -v st="$C_T_small" -v bt="$C_T_big" 'BEGIN {
			r = b / s
			printf "sipscope calls, 10x file vs 1x: peak memory %.1f -> %.1f MiB, ratio %.2f target <= 1.5 %s; time ratio %.1f\n",
				s / 1024, b / 1024, r, (r <= 1.5) ? "ok" : "MISSED", (st > 0 ? bt / st : 0) }'
	fi
	# shellcheck disable=SC2154
	if [ -n "$I_M_small" ] && [ -n "$I_M_big" ]; then
		awk -v s="$I_M_small" -v b="$I_M_big" 'BEGIN {
			printf "sipscope import, 10x file vs 1x: peak memory %.1f -> %.1f MiB, ratio %.2f\n", s / 1024, b / 1024, b / s }'
	fi
fi
