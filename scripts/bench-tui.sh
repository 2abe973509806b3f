#!/usr/bin/env bash
# Key-to-frame latency of the terminal UI on a 100,000-call database (issue 8:
# keys answered within 50 ms): scrolling deep in the list, End in a sorted list,
# a sort key, and filters, each timed from the key to the frame that shows it;
# sorts by derived columns (start, duration, messages, from) and by a SIP header
# column (Contact: the store's in-memory header index, built in the background
# as the UI opens; the first sort by it is timed on its own).
#
# usage: scripts/bench-tui.sh [CAPTURE|DB]
#   CAPTURE  a big capture (default /tmp/sipscope-bench/sipp-100000-calls.pcap);
#            when it is missing and we are root, it is made with
#            scripts/mkbench.sh DIR 100000 (SIPp in a network namespace, ~2 min)
#   DB       a database made by `sipscope import` (*.db): used as it is
#   env BENCHTIME=N    runs per measurement (default 20x)
#   env BASELINE=1     also measure a copy without migration 0009's indexes (what
#                      deep sorted pages cost before them)
#   env FIRST=CAPTURE  also time `sipscope tui CAPTURE`'s first screen with a dialog row
#                      and how the list fills in (TestTUIFirstScreen; e.g. the 500,000-call
#                      capture of scripts/mkbench.sh)
#
# Runs BenchmarkTUIKeys (cmd/sipscope/tui_bench_test.go) and prints one line per
# measurement in milliseconds per key.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ARG=${1:-/tmp/sipscope-bench/sipp-100000-calls.pcap}
BENCHTIME=${BENCHTIME:-20x}
TMP=$(mktemp -d /tmp/sipscope-bench-tui.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

cd "$ROOT"
go build -o "$TMP/sipscope" ./cmd/sipscope
case $ARG in
*.db)
	DB=$ARG
	;;
*)
	if [ ! -r "$ARG" ]; then
		if [ "$(id -u)" = 0 ]; then
			scripts/mkbench.sh "$(dirname "$ARG")" 100000
		fi
		[ -r "$ARG" ] || { echo "bench-tui: no capture $ARG: make it with sudo scripts/mkbench.sh $(dirname "$ARG") 100000" >&2; exit 1; }
	fi
	DB=$TMP/tui.db
	start=$(date +%s.%N)
	"$TMP/sipscope" import -q "$ARG" --db "$DB"
	end=$(date +%s.%N)
	printf 'imported %s in %.1f s\n' "$ARG" "$(echo "$end - $start" | bc)"
	;;
esac
echo "database: $DB ($(stat -c %s "$DB") bytes)"

run() { # run LABEL DB
	echo "== $1"
	SIPSCOPE_TUI_DB=$2 go test -v -run '^$' -bench '^BenchmarkTUIKeys$' -benchtime "$BENCHTIME" ./cmd/sipscope |
		awk '/^BenchmarkTUIKeys\// && /ns\/op/ { # go test -v also prints the bare name first
			name = $1; sub(/^BenchmarkTUIKeys\//, "", name); sub(/-[0-9]+$/, "", name)
			for (i = 3; i < NF; i++) if ($(i+1) == "ns/op") ns = $i
			for (i = 3; i < NF; i++) if ($(i+1) == "ns/key") ns = $i
			printf "  %-40s %8.1f ms/key\n", name, ns / 1e6
		}
		/dialogs$/ && /bench_test|tui_bench/ { print "  " $0 }
		/first sort by a header column/ { sub(/^ *tui_bench_test.go:[0-9]*: /, ""); print "  " $0 }
		/^(FAIL|--- FAIL)/ { print }'
}
run "with migration 0009 (this sipscope)" "$DB" || true
if [ -n "${BASELINE:-}" ]; then
	cp "$DB" "$TMP/base.db"
	python3 - "$TMP/base.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for (name,) in c.execute("SELECT name FROM sqlite_schema WHERE type='index' AND name LIKE 'dialogs_page_%'").fetchall():
    c.execute("DROP INDEX " + name)
c.commit()
PY
	run "baseline: migration 0009's indexes dropped" "$TMP/base.db" || true
fi
if [ -n "${FIRST:-}" ]; then
	echo "== first screen of sipscope tui $FIRST"
	SIPSCOPE_TUI_PCAP=$FIRST go test -count 1 -run '^TestTUIFirstScreen$' -v -timeout 15m ./cmd/sipscope |
		sed -n 's/^ *tui_bench_test.go:[0-9]*: /  /p'
fi
