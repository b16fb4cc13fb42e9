#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS_PER_TARGET]: builds the libFuzzer harnesses of tests/fuzz
# (clang, -fsanitize=fuzzer,address,undefined) into build-fuzz/, writes their seed
# corpora (tests/fuzz/make_corpus.py), replays the saved inputs of
# tests/hostile/regress/<target>/ (bugs found and fixed: must pass), then fuzzes
# each target in turn for SECONDS_PER_TARGET (default 60). Prints, per target, the
# executions it survived, and exits 1 if any target crashed, leaked, ran out of
# memory (-rss_limit_mb=2048, which also caps single allocations) or timed out
# (-timeout=10).
#
# Known issues: tests/hostile/known/ISSUES lists bugs found and reported but not yet
# fixed, each with its input in tests/hostile/known/<target>/ and the signature
# (kind, first nst function and file in the stack) of its report. A finding with a
# listed signature is reported but does not fail the run, and fuzzing goes on for
# the rest of the time; anything else fails it. FUZZ_STRICT=1 fails on known issues
# too. When a known input stops failing, the script says so: move it to regress/.
#
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_TARGETS (default all, e.g.
# "fuzz_pickle fuzz_video"), FUZZ_JOBS (parallel make jobs), FUZZ_STRICT. The corpus
# each run grows is kept in build-fuzz/work/<target> so that later runs start from
# it; crash inputs go to build-fuzz/crashes/<target>/, logs to build-fuzz/logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
case $secs in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2;; esac
fb=${FUZZ_BUILD:-build-fuzz}
targets=${FUZZ_TARGETS:-fuzz_safetensors fuzz_pth fuzz_pickle fuzz_image fuzz_options fuzz_config fuzz_checkpoint fuzz_hdf5 fuzz_video}
strict=${FUZZ_STRICT:-0}
known=tests/hostile/known/ISSUES

if ! command -v "${FUZZ_CC:-clang-14}" >/dev/null; then
    echo "fuzz: ${FUZZ_CC:-clang-14} not found (scripts/install-deps.sh installs clang-14)" >&2
    exit 1
fi
mkdir -p "$fb/logs"
make -j"${FUZZ_JOBS:-$(nproc)}" FUZZ_BUILD="$fb" fuzz-build >"$fb/logs/build.log" 2>&1 || {
    tail -n 30 "$fb/logs/build.log" >&2; echo "fuzz: build failed (log: $fb/logs/build.log)" >&2; exit 1; }
/usr/bin/python3 tests/fuzz/make_corpus.py "$fb/corpus" "$fb/make_image_seeds" || exit 1

# Sanitizers: any report is fatal and shows a full stack; leaks count as crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1    # the resize loops are OpenMP: one thread keeps runs reproducible
export OPENBLAS_NUM_THREADS=1
limits=(-rss_limit_mb=2048 -timeout=10)
declare -A maxlen=([fuzz_safetensors]=16384 [fuzz_pth]=16384 [fuzz_pickle]=8192 [fuzz_image]=16384 [fuzz_options]=1024 [fuzz_config]=4096 [fuzz_checkpoint]=4096 [fuzz_hdf5]=16384 [fuzz_video]=65536)

# "KIND<TAB>FUNCTION FILE" of the report in log $1: KIND from its SUMMARY line, then
# the first stack frame in nst's own sources (src/ or cli/).
signature() {
    local kind frame
    kind=$(grep -m1 -E '^SUMMARY: ' "$1" | sed -E 's/^SUMMARY: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer): ([^ ]+( [a-z]+)?).*/\2/')
    case $kind in
        "deadly signal"*|"undefined-behavior"*) ;;
        [0-9]*" byte"*) kind=leak ;;   # "112 byte(s) leaked in 2 allocation(s)": not the count
        *) kind=${kind%% *} ;;
    esac
    frame=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in [^ ]+ [^ ]*/(src|cli)/' "$1" | head -n 1 |
            sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+) [^ ]*\/((src|cli)\/[^:]+).*/\1 \2/')
    printf '%s\t%s\n' "${kind:-unknown}" "${frame:-no nst frame}"
}

# The ISSUES line that matches target $1 and signature $2 ("KIND<TAB>FRAME"), if any.
known_issue() {
    [ -f "$known" ] || return 1
    local k=${2%%$'\t'*} f=${2#*$'\t'}
    awk -F'\t' -v t="$1" -v k="$k" -v f="$f" '!/^#/ && $1 == t && $2 == k && $3 == f { print; found = 1 } END { exit !found }' "$known"
}

status=0
summary=()
for t in $targets; do
    bin=$fb/$t
    [ -x "$bin" ] || { echo "fuzz: $bin missing" >&2; status=1; continue; }
    # 1. inputs of fixed bugs must pass; inputs of known bugs are reported
    for kind in regress known; do
        dir=tests/hostile/$kind/$t
        [ -d "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ] || continue
        for f in "$dir"/*; do
            rlog=$fb/logs/$t.$kind.$(basename "$f").log
            if "$bin" "${limits[@]}" "$f" >"$rlog" 2>&1; then
                if [ $kind = regress ]; then echo "fuzz: $t: regression input $f passes"
                else echo "fuzz: $t: known-issue input $f no longer fails: if fixed, move it to tests/hostile/regress/$t/ and drop its line from $known"; fi
            else
                sig=$(signature "$rlog")
                if [ $kind = known ] && known_issue "$t" "$sig" >/dev/null && [ "$strict" != 1 ]; then
                    echo "fuzz: $t: known issue still reproduces: $f (${sig/$'\t'/, })"
                else
                    echo "fuzz: $t: $kind input $f FAILS (${sig/$'\t'/, }; log: $rlog)"
                    status=1
                    summary+=("$t: $kind input $(basename "$f") FAILS")
                fi
            fi
        done
    done
    # 2. fuzz for $secs seconds; a known issue is noted and fuzzing resumes
    mkdir -p "$fb/work/$t" "$fb/crashes/$t"
    dict=(); [ -f "$fb/corpus/$t.dict" ] && dict=(-dict="$fb/corpus/$t.dict")
    # libhdf5 leaks on its error paths about once a second (known/ISSUES): while
    # fuzzing, leaks inside it are suppressed so that the fuzzer gets past them
    lsan=${LSAN_OPTIONS:-}
    [ $t = fuzz_hdf5 ] && lsan=${lsan:+$lsan:}suppressions=$PWD/tests/hostile/lsan-libhdf5.supp
    start=$(date +%s); execs=0; run=0; notes=""; line=""
    while :; do
        left=$(( secs - ($(date +%s) - start) ))
        [ $run -gt 0 ] && [ $left -lt 5 ] && break
        [ $left -lt 1 ] && left=1
        run=$((run + 1)); log=$fb/logs/$t.$run.log
        LSAN_OPTIONS=$lsan "$bin" "$fb/work/$t" "$fb/corpus/$t" "${dict[@]}" "${limits[@]}" -max_total_time=$left \
            -max_len="${maxlen[$t]:-16384}" -print_final_stats=1 -artifact_prefix="$fb/crashes/$t/" >"$log" 2>&1
        rc=$?
        n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
        execs=$((execs + ${n:-0}))
        [ $rc -eq 0 ] && break
        artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -n 1 | sed 's/Test unit written to //')
        sig=$(signature "$log")
        if known_issue "$t" "$sig" >/dev/null && [ "$strict" != 1 ] && [ $run -lt 20 ]; then
            notes="$notes; known issue found again (${sig/$'\t'/, }): ${artifact:-?}"
            continue
        fi
        status=1
        line="$t: CRASHED (${sig/$'\t'/, }) after $execs executions in $(( $(date +%s) - start )) s: input ${artifact:-?} (log: $log)"
        grep -E "^(==[0-9]+==ERROR|SUMMARY: |.*runtime error|fuzz harness:)" "$log" | head -n 4
        break
    done
    took=$(( $(date +%s) - start ))
    cov=$(grep -oE '(cov|ft): [0-9]+' "$fb/logs/$t.$run.log" | tail -n 2 | tr '\n' ' ')
    [ -n "$line" ] || line="$t: survived $execs executions in $took s (${cov% })$notes"
    echo "fuzz: $line"
    summary+=("$line")
done
echo "fuzz summary (${secs} s per target):"
for s in "${summary[@]}"; do echo "  $s"; done
[ $status -eq 0 ] && echo "fuzz: no new crashes" || echo "fuzz: FAILED"
exit $status
