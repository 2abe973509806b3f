#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time (FUZZTIME, default
# 3s each), one after the other: part of the README's test command, so CI
# fuzzes each decoder stage and the whole pipeline on every run. A target
# that fails leaves its input under the package's testdata/fuzz/FuzzName/:
# commit it, and plain `go test` replays it as a regression test ever after.
#
#   scripts/fuzz.sh                 # every target, 3 s each
#   FUZZTIME=1m scripts/fuzz.sh decode   # the targets of ./decode, 1 min each
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3s}
pkgs=("$@")
if ((${#pkgs[@]} == 0)); then
  mapfile -t pkgs < <(go list ./...)
else
  for i in "${!pkgs[@]}"; do pkgs[$i]=$(go list "./${pkgs[$i]#./}"); done
fi
failed=0
for pkg in "${pkgs[@]}"; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  # Fuzz targets are the FuzzXxx(f *testing.F) functions of its tests.
  mapfile -t targets < <(grep -ho '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' "$dir"/*_test.go 2>/dev/null |
    sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' | sort -u)
  for t in "${targets[@]}"; do
    echo "fuzz $pkg $t ($fuzztime)"
    corpus="$dir/testdata/fuzz/$t"
    before=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
    log=$(mktemp /tmp/fuzz-XXXXXX.log)
    if ! go test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" >"$log" 2>&1; then
      after=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
      if ((after == before)) && grep -q '^    context deadline exceeded$' "$log" && ! grep -q -- '--- FAIL: .*/' "$log"; then
        # Go's fuzz coordinator can report its own -fuzztime deadline as a
        # failure, with no failing input (golang/go#75804, fixed in Go 1.27
        # by golang/go PR 79199): internal/fuzz's stop() suppresses the
        # deadline only when it equals fuzzCtx.Err(), and the child
        # fuzzCtx is cancelled a moment after its parent's Done closes.
        # Reproduced with go1.26.8 on a target that only sums its bytes
        # (run 80 of a loop of 300 ms windows): not a finding of the target.
        echo "  (ignored: Go's fuzztime deadline race, golang/go#75804; no failing input)"
      else
        cat "$log"
        echo "FAIL: $pkg $t (the failing input is in $corpus/: commit it)"
        failed=1
      fi
    fi
    rm -f "$log"
  done
done
exit $failed
