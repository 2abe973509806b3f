#!/usr/bin/env bash
# Proves that two sipscope builds print the same bytes (issue 12: speed work
# must keep output byte-identical and in the same order).
#
# usage: scripts/same-output.sh OLD_BINARY NEW_BINARY [CAPTURE...]
#   With no CAPTURE: every capture under testdata/ and ../shared/corpus/ (when
#   present), plus the 50,000-call bench capture when /tmp/sipscope-bench has it.
#   env BIG=0   skip the bench captures even when present.
#
# For each capture it runs, with both builds:
#   calls --format jsonl, calls --format csv, calls (table, piped),
#   calls --no-findings --format jsonl, messages --format jsonl, stats --format jsonl
# and compares stdout and the exit status. It prints one line per difference
# and exits 1 when there is any.
set -uo pipefail

OLD=${1:?usage: scripts/same-output.sh OLD NEW [CAPTURE...]}
NEW=${2:?usage: scripts/same-output.sh OLD NEW [CAPTURE...]}
shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/samelib.sh
. "$ROOT/scripts/samelib.sh"
same_captures "$ROOT" "$@"
TMP=$(mktemp -d /tmp/same-output.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

runs=(
	"calls --format jsonl"
	"calls --format csv"
	"calls"
	"calls --no-findings --format jsonl"
	"messages --format jsonl"
	"stats --format jsonl"
)
diffs=0 checked=0 failed=0
for f in "${caps[@]}"; do
	for r in "${runs[@]}"; do
		# shellcheck disable=SC2086
		"$OLD" $r "$f" >"$TMP/old" 2>/dev/null; a=$?
		# shellcheck disable=SC2086
		"$NEW" $r "$f" >"$TMP/new" 2>/dev/null; b=$?
		checked=$((checked + 1))
		[ $a = 0 ] || failed=$((failed + 1))
		if [ $a != $b ] || ! cmp -s "$TMP/old" "$TMP/new"; then
			echo "DIFFERENT: sipscope $r $f (exit $a vs $b)"
			diffs=$((diffs + 1))
		fi
	done
done
# A run that fails in both builds compares nothing: say how many (a wrong
# flag would otherwise pass unseen).
echo "same-output: ${#caps[@]} captures, $checked runs, $diffs different, $failed exited non-zero in OLD"
[ $diffs = 0 ]
