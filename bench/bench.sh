#!/usr/bin/env bash
# Speed and memory of nst against the PyTorch anchor (../shared/reference/seed_recipe_bench.py),
# one after the other in the same run, on the tutorial's recipe (Adam, full VGG19 up to
# conv5_1, random weights: speed does not depend on their values).
# Usage: bench/bench.sh [SIZES...]   (default: 256 512; nst alone above 512)
# Prints one line per size: seconds per iteration for each, their ratio, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-256 512}")
[ $# -eq 0 ] && sizes=(256 512)
iters=${ITERS:-6}
threads=${THREADS:-2}
anchor=../shared/reference/seed_recipe_bench.py
make -s all fixtures >/dev/null
model=build/bench/vgg19_random.safetensors
mkdir -p build/bench
[ -f "$model" ] || build/nst model convert build/fixtures/vgg19_random_full.pth "$model"
build/tools/draw_examples build/bench >/dev/null 2>&1 || cp examples/*.png build/bench/
precisions=(${PRECISIONS:-fp32 bf16})
printf "%-6s %-5s %-8s %11s %11s %7s %13s %13s %7s\n" size prec threads "torch s/it" "nst s/it" ratio "torch RSS MiB" "nst RSS MiB" ratio
for s in "${sizes[@]}"; do
  for prec in "${precisions[@]}"; do
    t_spi=-; t_rss=-
    if [ "$s" -le 512 ]; then
        line=$(/usr/bin/python3 "$anchor" "$s" "$iters" "$threads" $([ "$prec" = bf16 ] && echo --bf16))
        t_spi=$(sed 's/.*s_per_iter=\([0-9.]*\).*/\1/' <<<"$line")
        t_rss=$(sed 's/.*peak_rss_mib=\([0-9.]*\).*/\1/' <<<"$line")
    fi
    log=build/bench/log_${s}_$prec.jsonl
    /usr/bin/time -f "%M" -o build/bench/rss_$s build/nst -c build/bench/content.png -s build/bench/style.png \
        -o build/bench/out_$s.png -m "$model" --preset tutorial --size "$s" --iterations "$iters" \
        --threads "$threads" --precision "$prec" --log "$log" --quiet
    # median seconds per iteration from the log's time_s (iteration 0 is the start)
    n_spi=$(sed 's/.*"time_s":\([0-9.]*\).*/\1/' "$log" | awk 'NR>1 {print $1-prev} {prev=$1}' | sort -g |
            awk '{d[NR]=$1} END {printf "%.3f", (NR%2 ? d[(NR+1)/2] : (d[NR/2]+d[NR/2+1])/2)}')
    n_rss=$(( $(cat build/bench/rss_$s) / 1024 ))
    ratio=-; rratio=-
    [ "$t_spi" != - ] && ratio=$(awk -v a="$n_spi" -v b="$t_spi" 'BEGIN{printf "%.2f", a/b}')
    [ "$t_rss" != - ] && rratio=$(awk -v a="$n_rss" -v b="$t_rss" 'BEGIN{printf "%.2f", a/b}')
    printf "%-6s %-5s %-8s %11s %11s %7s %13s %13s %7s\n" "$s" "$prec" "$threads" "$t_spi" "$n_spi" "$ratio" "$t_rss" "$n_rss" "$rratio"
  done
done
# which oneDNN kernels ran, per layer and direction (IMPL=0 skips it)
if [ "${IMPL:-1}" != 0 ]; then
    echo
    bench/impl.sh 512 "${precisions[@]}"
fi
