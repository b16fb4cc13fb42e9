#!/usr/bin/env bash
# bench/ab.sh OLD_NST NEW_NST [SIZE] [ROUNDS]: two builds of nst on bench.sh's recipe
# (the tutorial preset: Adam, the random full VGG19, 6 iterations), alternating
# ROUNDS times (default 3) so that both see the same machine load. Prints each run's
# median seconds per iteration and peak RSS, then the medians over the rounds and
# their ratio (NEW / OLD). For "speed and memory within noise" after a refactor.
# Environment: PRECISION (default fp32), THREADS (default all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: bench/ab.sh OLD_NST NEW_NST [SIZE] [ROUNDS]}
new=${2:?usage: bench/ab.sh OLD_NST NEW_NST [SIZE] [ROUNDS]}
size=${3:-512}; rounds=${4:-3}
prec=${PRECISION:-fp32}; threads=${THREADS:-$(nproc)}
model=build/bench/vgg19_random.safetensors
mkdir -p build/bench
[ -f "$model" ] || build/nst model convert build/fixtures/vgg19_random_full.pth "$model"
build/tools/draw_examples build/bench >/dev/null 2>&1 || cp examples/*.png build/bench/
median() { sort -g | awk '{d[NR]=$1} END {printf "%.3f", (NR%2 ? d[(NR+1)/2] : (d[NR/2]+d[NR/2+1])/2)}'; }
one() {   # one run of binary $1: "s/iter rss_mib"
    local log=build/bench/ab_$$.jsonl
    /usr/bin/time -f "%M" -o build/bench/ab_rss_$$ "$1" -c build/bench/content.png -s build/bench/style.png \
        -o build/bench/ab_$$.png -m "$model" --preset tutorial --size "$size" --iterations 6 \
        --threads "$threads" --precision "$prec" --log "$log" --quiet
    echo "$(sed 's/.*"time_s":\([0-9.]*\).*/\1/' "$log" | awk 'NR>1 {print $1-prev} {prev=$1}' | median)" \
         "$(( $(cat build/bench/ab_rss_$$) / 1024 ))"
    rm -f "$log" build/bench/ab_rss_$$ build/bench/ab_$$.png build/bench/ab_$$.png.json
}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $threads threads, $size px, $prec"
: > build/bench/ab_old; : > build/bench/ab_new
for r in $(seq "$rounds"); do
    o=$(one "$old"); n=$(one "$new")
    echo "round $r: old $o   new $n   (s/iter, peak RSS MiB)"
    echo "$o" >> build/bench/ab_old; echo "$n" >> build/bench/ab_new
done
os=$(cut -d' ' -f1 build/bench/ab_old | median); ns=$(cut -d' ' -f1 build/bench/ab_new | median)
orss=$(cut -d' ' -f2 build/bench/ab_old | median); nrss=$(cut -d' ' -f2 build/bench/ab_new | median)
echo "median: old $os s/iter $orss MiB, new $ns s/iter $nrss MiB; new/old $(awk -v a="$ns" -v b="$os" 'BEGIN{printf "%.3f", a/b}') time, $(awk -v a="$nrss" -v b="$orss" 'BEGIN{printf "%.3f", a/b}') memory"
