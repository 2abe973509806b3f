#!/usr/bin/env bash
# Proves that two sipscope builds store the same database (issue 12: speed
# work must not change what an import writes). same-output.sh compares what
# the commands print; this compares the rows an import stores.
#
# usage: scripts/same-import.sh OLD_BINARY NEW_BINARY [CAPTURE...]
#   With no CAPTURE: every capture under testdata/ and ../shared/corpus/ (when
#   present), plus the 50,000-call bench capture when /tmp/sipscope-bench has it.
#   env BIG=0   skip the bench captures even when present.
#
# For each capture it runs `sipscope import -q --db X CAPTURE` with both
# builds and compares `sqlite3 X .dump` (needs the sqlite3 shell), with the
# times that differ by construction set to 0: files.imported (when the import
# started) and schema_migrations.applied. It also compares the exit status.
# It prints one line per difference and exits 1 when there is any.
set -uo pipefail

OLD=${1:?usage: scripts/same-import.sh OLD NEW [CAPTURE...]}
NEW=${2:?usage: scripts/same-import.sh OLD NEW [CAPTURE...]}
shift 2
command -v sqlite3 >/dev/null || { echo "same-import: needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/samelib.sh
. "$ROOT/scripts/samelib.sh"
same_captures "$ROOT" "$@"
TMP=$(mktemp -d /tmp/same-import.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# dump prints the database's rows with the import times zeroed.
dump() {
	sqlite3 "$1" "UPDATE files SET imported = 0; UPDATE schema_migrations SET applied = 0;" ".dump" 2>&1
}

diffs=0 checked=0 failed=0
for f in "${caps[@]}"; do
	rm -f "$TMP/old.db" "$TMP/new.db"
	"$OLD" import -q --db "$TMP/old.db" "$f" >/dev/null 2>&1; a=$?
	"$NEW" import -q --db "$TMP/new.db" "$f" >/dev/null 2>&1; b=$?
	checked=$((checked + 1))
	[ $a = 0 ] || failed=$((failed + 1))
	if [ $a != $b ]; then
		echo "DIFFERENT: import $f (exit $a vs $b)"
		diffs=$((diffs + 1))
		continue
	fi
	[ -e "$TMP/old.db" ] || continue # refused in both: nothing stored
	if ! cmp -s <(dump "$TMP/old.db") <(dump "$TMP/new.db"); then
		echo "DIFFERENT: import $f (database)"
		diffs=$((diffs + 1))
	fi
done
echo "same-import: ${#caps[@]} captures, $checked imports, $diffs different, $failed exited non-zero in OLD"
[ $diffs = 0 ]
