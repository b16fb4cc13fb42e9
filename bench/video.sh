#!/usr/bin/env bash
# bench/video.sh [FRAMES] [SIZE]: nst video with optical flow and the temporal term
# against per-frame stylization (--flow none), same options otherwise, on the project's
# two test clips made from examples/content.png (tools/make_clips: a slow pan with a
# zoom, and a disc moving over the still picture). For each clip and method it prints
# the seconds per frame, the mean temporal error (tools/temporal_error: stylized frame
# i against frame i-1 warped along the content's flow, where the flow is consistent)
# and each frame's style term against the per-frame run's; then the error ratio.
# Writes a strip of frames (content, flow, none) per clip to build/bench-video/.
# Environment: MODEL (default the shared full VGG19), THREADS (default all cores),
# OPTS (more options for both methods, e.g. "--temporal-weight 100").
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-16}; size=${2:-256}
model=${MODEL:-../shared/models/vgg19-full.caffe.safetensors}
threads=${THREADS:-$(nproc)}
out=build/bench-video
mkdir -p "$out"
for t in make_clips temporal_error video_strip; do [ -x build/tools/$t ] || make -s build/tools/$t; done
[ -f examples/content.png ] || build/tools/draw_examples examples >/dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $threads threads;" \
     "$frames frames at $size px, model $(basename "$model") ${OPTS:-}"
rm -rf "$out/pan" "$out/object"; mkdir -p "$out/pan" "$out/object"
build/tools/make_clips examples/content.png "$out/pan/%05d.png" "$out/object/%05d.png" "$frames" 320 240
for clip in pan object; do
    for flow in dis none; do
        dir="$out/$clip-$flow"
        rm -rf "$dir" "$dir.frames"; mkdir -p "$dir"
        start=$(date +%s.%N)
        # shellcheck disable=SC2086
        build/nst video -m "$model" -c "$out/$clip/%05d.png" -s examples/style.png -o "$dir/%05d.png" \
            --size "$size" --flow "$flow" --threads "$threads" --quiet ${OPTS:-}
        end=$(date +%s.%N)
        err=$(build/tools/temporal_error "$out/$clip/%05d.png" "$dir/%05d.png" | tail -n 1)
        printf '%-7s %-5s %6.1f s/frame  %s\n' "$clip" "$flow" "$(echo "($end - $start) / $frames" | bc -l)" "$err"
        echo "${err#mean temporal error }" | cut -d' ' -f1 > "$dir.error"
    done
    /usr/bin/python3 - "$out/$clip-dis/%05d.png.json" "$out/$clip-none/%05d.png.json" <<'EOF'
import json, sys
a, b = (json.load(open(p))["result"]["per_frame"] for p in sys.argv[1:3])
r = [x["style"] / y["style"] for x, y in zip(a, b)]
print("        style term, flow / none, per frame: min %.2f, max %.2f, mean %.2f" % (min(r), max(r), sum(r) / len(r)))
EOF
    echo "        temporal error none / dis: $(echo "$(cat "$out/$clip-none.error") / $(cat "$out/$clip-dis.error")" | bc -l | cut -c1-5)x"
    build/tools/video_strip "$out/strip-$clip.jpg" 5 --width 192 "$out/$clip/%05d.png" "$out/$clip-dis/%05d.png" \
        "$out/$clip-none/%05d.png"
done
echo "strips: $out/strip-pan.jpg, $out/strip-object.jpg (rows: content, --flow dis, --flow none)"
