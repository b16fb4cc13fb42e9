#!/usr/bin/env bash
# Which oneDNN implementation ran each convolution, in each direction, with its time:
# one L-BFGS iteration of the default recipe under ONEDNN_VERBOSE=1, the last execution
# of each (layer, direction) kept (the first ones include JIT warm-up).
# Usage: bench/impl.sh [SIZE] [PRECISION...]   (default: 512 fp32 bf16 auto)
# Also run by bench/bench.sh, so its table names the kernels beside the timings.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512}
shift || true
precisions=("${@:-fp32 bf16 auto}")
[ $# -eq 0 ] && precisions=(fp32 bf16 auto)
make -s all fixtures >/dev/null
model=build/bench/vgg19_random.safetensors
mkdir -p build/bench
[ -f "$model" ] || build/nst model convert build/fixtures/vgg19_random_full.pth "$model"
[ -f build/bench/content.png ] || build/tools/draw_examples build/bench >/dev/null 2>&1 || cp examples/*.png build/bench/
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); AMX: $(grep -q amx_bf16 /proc/cpuinfo && echo yes || echo no); AVX512-BF16: $(grep -q avx512_bf16 /proc/cpuinfo && echo yes || echo no)"
for prec in "${precisions[@]}"; do
    out=build/bench/impl_$prec.txt
    if ! ONEDNN_VERBOSE=1 build/nst -c build/bench/content.png -s build/bench/style.png -o build/bench/impl.png \
            -m "$model" --size "$size" --iterations 1 --threads "${THREADS:-2}" --precision "$prec" \
            --quiet >"$out" 2>&1; then
        echo "--precision $prec: $(grep -v onednn_verbose "$out" | tail -1)"
        continue
    fi
    echo "--precision $prec at ${size}px, oneDNN's $(grep -m1 -o 'isa:.*' "$out" | cut -d, -f1):"
    printf "  %-24s %-17s %-34s %-10s %8s\n" "layer (in->out @ HxW)" direction implementation layout ms
    # onednn_verbose,exec,cpu,convolution,IMPL,PROP,MDS,ATTRS,ALG,SHAPE,MS
    grep '^onednn_verbose,exec,cpu,convolution' "$out" | awk -F, '
        { split($10, a, /_/); ic = a[2]; sub(/^ic/, "", ic); oc = ic; sub(/^[0-9]+oc/, "", oc); sub(/oc.*/, "", ic)
          h = a[3]; sub(/^ih/, "", h); sub(/oh.*/, "", h); w = a[4]; sub(/^iw/, "", w); sub(/ow.*/, "", w)
          # the layout of the output (forward) or of its gradient (backward)
          nm = split($7, m, / /); lay = "?"
          for (j = 1; j <= nm; j++) if (m[j] ~ /^(diff_)?dst_/) { lay = m[j]; sub(/^.*blocked:/, "", lay); sub(/:f0$/, "", lay) }
          key = sprintf("%s->%s @ %sx%s", ic, oc, h, w) SUBSEP $6
          if (!(key in seen)) order[++n] = key
          seen[key] = 1; impl[key] = $5; ms[key] = $11; layout[key] = lay }
        END { for (k = 1; k <= n; k++) { split(order[k], p, SUBSEP)
                  printf "  %-24s %-17s %-34s %-10s %8.2f\n", p[1], p[2], impl[order[k]], layout[order[k]], ms[order[k]] } }'
    # the style layers' Gram matrices (F F^T) and gradients (D F): oneDNN matmuls (dnnl_gram.h)
    # onednn_verbose,exec,cpu,matmul,IMPL,PROP,MDS,ATTRS,AUX,SHAPE,MS
    grep '^onednn_verbose,exec,cpu,matmul' "$out" | awk -F, '
        { split($10, d, /:/); split(d[1], a, /x/); split(d[2], b, /x/)
          what = (a[1] == b[2] && a[2] == b[1]) ? "Gram" : "gradient"
          dt = $7; sub(/^src_/, "", dt); sub(/:.*/, "", dt)
          key = sprintf("%s (C=%s, N=%s)", what, a[1], what == "Gram" ? a[2] : b[2])
          if (!(key in seen)) order[++n] = key
          seen[key] = 1; impl[key] = $5 " " dt; ms[key] = $11 }
        END { for (k = 1; k <= n; k++)
                  printf "  %-42s %-34s %8.2f\n", order[k], impl[order[k]], ms[order[k]] }'
done
