#!/usr/bin/env bash
# bench/quality.sh OUTDIR [nst options...]: the quality table of the issue on pictures.
# Runs nst with the given options (on top of the defaults) on content/style pairs of
# ../shared/images at 512 px with the full Caffe VGG19, then measures every result with
# bench/quality.py (style: mean relative Gram error over relu1_1..relu5_1; content:
# relative error at relu4_2; lower is better), next to jcjohnson's published results
# where ../shared has them. PAIRS="content:style ..." picks other pairs.
# Prints one line per result: pair, style, content, seconds of wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/quality.sh OUTDIR [nst options...]}
shift
shared=${NST_SHARED:-../shared}
img=$shared/images
model=${NST_QUALITY_MODEL:-$shared/models/vgg19-full.caffe.safetensors}
nst=${NST_BIN:-build/nst}
pairs=${PAIRS:-"tubingen:starry_night tubingen:seated-nude hoovertowernight:shipwreck brad_pitt:picasso_selfport1907"}
[ -f "$model" ] || { echo "quality: $model is missing" >&2; exit 1; }
mkdir -p "$out"
find_img() { for e in jpg png; do [ -f "$img/$1.$e" ] && { echo "$img/$1.$e"; return; }; done; echo "quality: no $img/$1.*" >&2; exit 1; }
printf '%-36s %8s %8s %8s\n' pair style content seconds
for pair in $pairs; do
    c=$(find_img "${pair%%:*}"); s=$(find_img "${pair##*:}")
    name=${pair//:/_}
    start=$(date +%s.%N)
    "$nst" -q -m "$model" -c "$c" -s "$s" -o "$out/$name.png" --log "$out/$name.log" "$@"
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    ref=$img/reference-outputs/${name/_starry_night/_starry}.png
    ref=${ref/_seated-nude/_seated_nude}
    refs=(); [ -f "$ref" ] && refs=("$ref")
    /usr/bin/python3 bench/quality.py "$model" "$c" "$s" "$out/$name.png" "${refs[@]}" |
        while read -r line; do
            who=$(echo "$line" | sed -n 's/.*"out": "\([^"]*\)".*/\1/p')
            st=$(echo "$line" | sed -n 's/.*"style": \([0-9.e-]*\).*/\1/p')
            co=$(echo "$line" | sed -n 's/.*"content": \([0-9.e-]*\).*/\1/p')
            case $who in */reference-outputs/*) label="$pair (jcjohnson)"; t=-;; *) label="$pair (nst)"; t=$(printf '%.0f' "$secs");; esac
            printf '%-36s %8s %8s %8s\n' "$label" "$st" "$co" "$t"
        done
done
