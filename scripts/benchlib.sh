# shellcheck shell=bash
# Helpers shared by scripts/bench-decode.sh and scripts/bench-calls.sh. Source it
# after setting TMP (a scratch directory) and REPEAT (runs per measurement).

# find_sipscope: sets SIPSCOPE_BIN to $SIPSCOPE, ./sipscope, or a fresh build of
# ./cmd/sipscope in $TMP; leaves it empty when there is none yet.
find_sipscope() {
	SIPSCOPE_BIN=${SIPSCOPE:-}
	if [ -z "$SIPSCOPE_BIN" ] && [ -x "$ROOT/sipscope" ]; then SIPSCOPE_BIN=$ROOT/sipscope; fi
	if [ -z "$SIPSCOPE_BIN" ] && command -v go >/dev/null 2>&1; then
		if (cd "$ROOT" && go build -o "$TMP/sipscope" ./cmd/sipscope) 2>"$TMP/build.err"; then
			SIPSCOPE_BIN=$TMP/sipscope
		else
			echo "sipscope: build failed: $(head -1 "$TMP/build.err")" >&2
		fi
	fi
}

# measure NAME CMD...: run CMD REPEAT times under /usr/bin/time -f '%e %M %U %S',
# stdout to $TMP/NAME.out (a file, not a terminal or pipe), stdin from /dev/null.
# Sets T (best wall seconds), M (peak RSS KiB of that run) and C (its CPU seconds,
# user + system), or T= M= C= when CMD failed.
measure() {
	local name=$1 t m u s best_t='' best_m='' best_c=''
	shift
	for _ in $(seq 1 "$REPEAT"); do
		if ! /usr/bin/time -f '%e %M %U %S' -o "$TMP/time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null; then
			echo "$name failed: $(grep -v '^Command exited' "$TMP/$name.err" | tail -1)" >&2
			T='' M='' C=''
			return 0
		fi
		read -r t m u s <"$TMP/time"
		if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
			best_t=$t best_m=$m best_c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
		fi
	done
	# shellcheck disable=SC2034 # results for the caller
	T=$best_t M=$best_m C=$best_c
}

# row NAME T M [COUNT]: one table line: wall seconds, peak MiB, packets/s (of $PKTS).
row() {
	if [ -z "$2" ]; then
		printf '%-18s %10s %10s %14s\n' "$1" "n/a" "n/a" "n/a"
		return
	fi
	awk -v n="$1" -v t="$2" -v m="$3" -v p="$PKTS" 'BEGIN {
		if (t > 0) printf "%-18s %10.2f %10.1f %14.0f\n", n, t, m / 1024, p / t
		else printf "%-18s %10.2f %10.1f %14s\n", n, t, m / 1024, "(too fast)" }'
}

# ratio LABEL T1 M1 T2 M2 [TIME_TARGET MEM_TARGET]: time and peak-memory ratios of
# run 1 over run 2, with the targets they must stay under when given.
ratio() {
	if [ -z "$2" ] || [ -z "$4" ]; then
		printf '%-26s n/a\n' "$1"
		return
	fi
	awk -v l="$1" -v t1="$2" -v m1="$3" -v t2="$4" -v m2="$5" -v tt="${6:-}" -v mt="${7:-}" 'BEGIN {
		mr = (m2 > 0) ? m1 / m2 : 0
		if (t1 == 0 || t2 == 0) ts = "time n/a (under 0.01 s)"
		else {
			tr = t1 / t2
			ts = sprintf("time %.3f (%.1fx %s)", tr, (tr <= 1) ? t2 / t1 : tr, (tr <= 1) ? "faster" : "slower")
			if (tt != "") ts = ts sprintf(" target <= %s %s", tt, (tr <= tt) ? "ok" : "MISSED")
		}
		ms = sprintf("peak memory %.3f", mr)
		if (mt != "") ms = ms sprintf(" target <= %s %s", mt, (mr <= mt) ? "ok" : "MISSED")
		printf "%-26s %s; %s\n", l, ts, ms }'
}

# packets FILE: the packet count capinfos reads.
packets() {
	capinfos -M -c "$1" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}'
}
