#!/usr/bin/env bash
# Loss reached against wall time: the tutorial's recipe (Adam, lr 0.003) against nst's
# L-BFGS on the same loss (--preset tutorial), full VGG19 (random weights), SIZE px.
# The PyTorch recipe's curve is nst's own Adam curve (the same algorithm, checked
# step by step against torch.optim.Adam by the tests) at PyTorch's measured seconds per
# iteration, from ../shared/reference/seed_recipe_bench.py run in the same session.
# Usage: bench/loss_vs_time.sh [SIZE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512}
budget=${2:-120}
make -s all fixtures >/dev/null
model=build/bench/vgg19_random.safetensors
mkdir -p build/bench
[ -f "$model" ] || build/nst model convert build/fixtures/vgg19_random_full.pth "$model"
[ -f build/bench/content.png ] || build/tools/draw_examples build/bench >/dev/null
torch=$(/usr/bin/python3 ../shared/reference/seed_recipe_bench.py "$size" 4 2 | sed 's/.*s_per_iter=\([0-9.]*\).*/\1/')
common=(-c build/bench/content.png -s build/bench/style.png -m "$model" --size "$size" --preset tutorial --quiet)
build/nst "${common[@]}" -o build/bench/adam.png --iterations 300 --log build/bench/adam.jsonl
build/nst "${common[@]}" -o build/bench/lbfgs.png --optimizer lbfgs --lr 1 --iterations 200 --log build/bench/lbfgs.jsonl
echo "PyTorch recipe: $torch s/iter at ${size}px"
printf "%10s %16s %16s %16s\n" "seconds" "PyTorch Adam" "nst Adam" "nst L-BFGS"
for t in 5 10 20 30 60 90 120 180 240; do
    [ "$t" -le "$budget" ] || continue
    pa=$(awk -v t="$t" -v s="$torch" -F'[:,]' '{ if ($2 * s <= t) l = $6 } END {print l}' build/bench/adam.jsonl)
    na=$(awk -v t="$t" -F'[:,]' '{ if ($4 <= t) l = $6 } END {print l}' build/bench/adam.jsonl)
    nl=$(awk -v t="$t" -F'[:,]' '{ if ($4 <= t) l = $6 } END {print l}' build/bench/lbfgs.jsonl)
    printf "%10s %16s %16s %16s\n" "$t" "${pa:--}" "${na:--}" "${nl:--}"
done
echo "(PyTorch's 2000-step recipe takes $(awk -v s="$torch" 'BEGIN{printf "%.0f", 2000*s}') s at this size.)"
