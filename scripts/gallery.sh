#!/usr/bin/env bash
# scripts/gallery.sh [MODEL]: redraws the README's gallery (docs/gallery/) from the
# project's own example pictures with the full Caffe VGG19 (default: ../shared's copy)
# and nst's defaults, at 384 px. Each picture is written with its OUTPUT.json.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-../shared/models/vgg19-full.caffe.safetensors}
nst=${NST_BIN:-build/nst}
out=docs/gallery
mkdir -p "$out"
run() { local name=$1; shift; "$nst" -q -m "$model" -c examples/content.png -s examples/style.png --size 384 -o "$out/$name.jpg" "$@"; }
run default --contact-sheet "$out/contact-sheet.jpg"
run preserve-colors --preserve-colors luminance
run style-scale-2 --style-scale 2
