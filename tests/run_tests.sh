#!/usr/bin/env bash
# Runs every test binary in BUILD/tests and ends with "N passed, N failed".
set -u
build=${1:-build}
export NST_SHARED=${NST_SHARED:-$(cd "$(dirname "$0")/.." && pwd)/../shared}
export NST_FIXTURES=${NST_FIXTURES:-$build/fixtures}
export NST_BUILD=$build
passed=0; failed=0; broken=()
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $(basename "$t")"
    out=$("$t" 2>&1); rc=$?
    echo "$out"
    line=$(printf '%s\n' "$out" | grep '^RESULT ' | tail -n 1)
    if [ -z "$line" ]; then
        failed=$((failed + 1)); broken+=("$(basename "$t") (exit $rc, no summary)")
        continue
    fi
    p=$(sed 's/.*passed=\([0-9]*\).*/\1/' <<<"$line"); f=$(sed 's/.*failed=\([0-9]*\).*/\1/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken+=("$(basename "$t") (exit $rc)"); fi
done
for b in "${broken[@]+"${broken[@]}"}"; do echo "broken: $b"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
