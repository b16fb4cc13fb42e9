#!/usr/bin/env bash
# scripts/golden.sh record|check FILE: the guard for a refactor that must not change the
# pictures (issue #12). It runs a fixed set of small runs that between them touch every
# backend and precision, both loss scales, the presets, Adam and L-BFGS, stages, colour
# modes, masks, several styles, normalized gradients, noise starts and checkpoints, and
# writes the SHA-256 of each run's picture, log (loss values; time_s left out) and
# checkpoint to FILE ("record"), or runs them again and compares with FILE ("check":
# exit 1 and one line per difference). Hashes hold for one machine, thread count and
# build: record on the commit before the change, check after it, on the same machine.
# NST=path picks the binary (default build/nst); the models are ../shared's partial
# Caffe VGG19 and build/fixtures' random full one (make fixtures). FILE's "# machine:"
# line names the CPU, its vector features, the core count and the kernel libraries;
# "check" on another machine compares nothing and exits 77 (a skip, for tests).
# GOLDEN_ONLY="default masks" makes and compares only the runs named.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: scripts/golden.sh record|check FILE}
file=${2:?usage: scripts/golden.sh record|check FILE}
nst=${NST:-build/nst}
shared=${NST_SHARED:-../shared}
partial=$shared/models/vgg19-conv1_1-conv3_4.caffe.safetensors
full=build/fixtures/vgg19_random_full.pth
[ -f "$partial" ] && [ -f "$full" ] || { echo "golden: needs $partial and $full (make fixtures)" >&2; exit 1; }
# the machine, as far as the kernels that run (and so the bits) depend on it
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(grep -m1 '^flags' /proc/cpuinfo |
    tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512_vnni|avx512_bf16|amx_bf16|amx_tile)$' | sort | tr '\n' ' ')$(nproc) cores; $(dpkg-query -W -f '${Package} ${Version} ' libdnnl2 libopenblas0-pthread 2>/dev/null)"
if [ "$mode" = check ] && [ "$(grep -m1 '^# machine: ' "$file" | cut -c12-)" != "$machine" ]; then
    echo "golden: $file was recorded on another machine ($(grep -m1 '^# machine: ' "$file" | cut -c12-)); this is $machine: nothing compared"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# masks: the left and right halves of the content's frame, as PNGs nst reads
/usr/bin/python3 - "$work" <<'PY'
import sys, zlib, struct
def png(path, w, h, f):
    raw = b"".join(b"\0" + bytes(f(x, y) for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1] + "/left.png", 64, 48, lambda x, y: 255 if x < 32 else 0)
png(sys.argv[1] + "/right.png", 64, 48, lambda x, y: 0 if x < 32 else 255)
PY
c=examples/content.png s=examples/style.png
common=(-c "$c" -q --threads 2)
runs=(
    "default|-s $s -m $partial --size 64 --iterations 8"
    "stages|-s $s -m $partial --scales 32,64 --iterations 4,4"
    "adam|-s $s -m $partial --size 64 --optimizer adam --lr 2 --iterations 8"
    "raw|-s $s -m $partial --size 64 --loss-scale raw --iterations 8"
    "tutorial|-s $s -m $full --preset tutorial --size 48 --iterations 5"
    "gatys|-s $s -m $full --preset gatys --size 48 --iterations 5"
    "full-default|-s $s -m $full --size 48 --iterations 5"
    "blas|-s $s -m $partial --size 64 --backend blas --iterations 6"
    "reference|-s $s -m $partial --size 32 --backend reference --iterations 3"
    "bf16|-s $s -m $partial --size 64 --precision bf16 --iterations 6"
    "luminance|-s $s -m $partial --size 64 --preserve-colors luminance --iterations 6"
    "histogram|-s $s -m $partial --size 64 --preserve-colors histogram --iterations 6"
    "two-styles|-s $s,$c -m $partial --size 64 --style-blend-weights 3,1 --iterations 6"
    "masks|-s $s,$c -m $partial --size 64 --style-mask $work/left.png,$work/right.png --content-mask $work/left.png --iterations 6"
    "normalized|-s $s -m $partial --size 64 --normalize-gradients --iterations 6"
    "noise|-s $s -m $partial --size 64 --init noise --seed 7 --init-noise-blend 1 --iterations 6"
    "checkpoint|-s $s -m $partial --size 64 --iterations 8 --checkpoint-every 4"
)
have_bf16=$(grep -q avx512_bf16 /proc/cpuinfo && echo 1 || echo 0)
out="$work/hashes"
: > "$out"
for r in "${runs[@]}"; do
    name=${r%%|*}
    [ -n "${GOLDEN_ONLY:-}" ] && [[ " $GOLDEN_ONLY " != *" $name "* ]] && continue
    read -r -a args <<<"${r#*|}"
    [ "$name" = bf16 ] && [ "$have_bf16" = 0 ] && { echo "$name skipped (no AVX512-BF16)" >> "$out"; continue; }
    extra=()
    [ "$name" = checkpoint ] && extra=(--checkpoint "$work/$name.ckpt")
    if ! "$nst" "${common[@]}" "${args[@]}" "${extra[@]}" -o "$work/$name.png" --log "$work/$name.log" 2>"$work/$name.err"; then
        echo "$name failed: $(tail -n 1 "$work/$name.err")" >> "$out"
        continue
    fi
    echo "$name picture $(sha256sum < "$work/$name.png" | cut -d' ' -f1)" >> "$out"
    echo "$name log $(sed 's/"time_s":[0-9.]*,//' "$work/$name.log" | sha256sum | cut -d' ' -f1)" >> "$out"
    # the checkpoint without its clock: bytes 88-95 (seconds so far) and the CRC-32 after all
    [ -f "$work/$name.ckpt" ] && echo "$name checkpoint $({ head -c 88 "$work/$name.ckpt"; head -c 8 /dev/zero;
        tail -c +97 "$work/$name.ckpt" | head -c -4; } | sha256sum | cut -d' ' -f1)" >> "$out"
done
case $mode in
record)
    { echo "# scripts/golden.sh record at $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
      echo "# machine: $machine"
      cat "$out"; } > "$file"
    echo "golden: $(grep -c . "$out") hashes written to $file" ;;
check)
    want() {   # the file's hashes, of the runs made (GOLDEN_ONLY: those named)
        grep -v '^#' "$file" | while read -r name rest; do
            [ -z "${GOLDEN_ONLY:-}" ] || [[ " $GOLDEN_ONLY " == *" $name "* ]] && echo "$name $rest"; done; }
    if diff <(want) "$out" > "$work/diff"; then
        echo "golden: all $(grep -c . "$out") hashes match $file"
    else
        grep '^[<>]' "$work/diff" | sed 's/^</was:/; s/^>/now:/'
        echo "golden: differences from $file" >&2
        exit 1
    fi ;;
*) echo "golden: record or check, not $mode" >&2; exit 2 ;;
esac
