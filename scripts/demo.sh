#!/usr/bin/env bash
# The quick start: installs the packages, builds, fetches the model once
# (`make weights`) and stylizes the project's own example pictures.
# Usage: scripts/demo.sh [OUTPUT.png] [extra nst options...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-stylized.png}
shift || true
scripts/install-deps.sh --runtime
make -j2 build/nst
model=()
if [ -z "${NST_MODEL:-}" ] && ! make -s weights; then
    # offline: the project's shared copies, the full network first
    for m in ../shared/models/vgg19-full.caffe.safetensors ../shared/models/vgg19-conv1_1-conv3_4.caffe.safetensors; do
        if [ -f "$m" ]; then
            echo "demo: using the VGG19 in $m instead" >&2
            model=(--model "$m")
            break
        fi
    done
    [ ${#model[@]} -gt 0 ] || exit 1
fi
build/nst -c examples/content.png -s examples/style.png -o "$out" --size 384 --iterations 150 "${model[@]}" "$@"
