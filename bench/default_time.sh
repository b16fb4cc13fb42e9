#!/usr/bin/env bash
# The default run against the time it takes: the loss reached against wall time by
# the old default (one 512-px stage, 200 L-BFGS iterations: --scales none) and the new
# one (--scales auto: 256 px then 512 px, 150 iterations), on one pair of
# ../shared/images with the full Caffe VGG19, one after the other in the same run.
# Only the 512-px stage's lines count (a 256-px loss is another picture's). Then the
# quality measures of bench/quality.py for both results, and each run's wall time
# (start to written file, model loading included) and peak RSS.
# Usage: bench/default_time.sh [CONTENT STYLE]   (default: tubingen starry_night)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${NST_SHARED:-../shared}
model=$shared/models/vgg19-full.caffe.safetensors
content=$shared/images/${1:-tubingen}.jpg
style=$shared/images/${2:-starry_night}.jpg
out=build/bench/default_time
mkdir -p "$out"
make -s all
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; AMX: $(grep -q amx_bf16 /proc/cpuinfo && echo yes || echo no)"
run() {   # name, options...
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$out/$name.time" build/nst -q -m "$model" -c "$content" -s "$style" \
        -o "$out/$name.png" --log "$out/$name.log" "$@"
}
run old --scales none --iterations 200 --precision fp32   # nst 0.3's default
run new
# where the default picks bf16 (AMX), the same schedule in float32 too: the quality check
names=(old new)
if ! grep -q '"precision": "fp32"' "$out/new.png.json"; then
    run new_fp32 --precision fp32
    names+=(new_fp32)
fi
# the new run's fine stage begins after its first stage's iterations: two thirds of
# the total OUTPUT.json records ("scales": "auto"; nst_schedule's split)
total=$(tr -d ' \n' < "$out/new.png.json" | sed -n 's/.*"iterations":\([0-9]*\).*/\1/p')
coarse=$((total * 2 / 3))
printf "%8s %26s %26s\n" seconds "old: loss (content, style)" "new: loss (content, style)"
at() {   # log, seconds, first iteration that counts: "loss (content, style/weight)"
    awk -v t="$2" -v first="$3" -F'[:,]' '$2 >= first && $4 <= t { l = sprintf("%.4f (%.3f, %.4f)", $6, $8, $10 / 10) }
        END { print (l == "" ? "-" : l) }' "$1"
}
for t in 15 30 45 60 75 90 120 150 180 210; do
    printf "%8s %26s %26s\n" "$t" "$(at "$out/old.log" "$t" 0)" "$(at "$out/new.log" "$t" "$((coarse + 1))")"
done
for name in "${names[@]}"; do
    read -r secs kb < "$out/$name.time"
    q=$(/usr/bin/python3 bench/quality.py "$model" "$content" "$style" "$out/$name.png")
    prec=$(grep -o "\"precision\": \"[a-z0-9]*\"" "$out/$name.png.json" | cut -d\" -f4)
    final=$(tail -1 "$out/$name.log" | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
    echo "$name ($prec): $secs s wall, peak RSS $((kb / 1024)) MiB, final loss $final; measures: $q"
done
