#!/usr/bin/env bash
# `make weights [MODEL=...]`, or scripts/fetch-weights.sh [MODEL]: downloads a VGG19,
# checks it against a pinned hash and stores a compact conv-only F32 copy (80 MB) where
# nst looks by default: $NST_MODEL if set, else ${XDG_DATA_HOME:-~/.local/share}/nst/vgg19.safetensors.
#   keras (default)  Keras' Caffe-trained VGG19, vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
#                    (80 MB, fchollet/deep-learning-models v0.1), pinned by MD5
#   torchvision      torchvision's vgg19-dcbb9e9d.pth (548 MB)
#   caffe-pth        jcjohnson's Caffe-trained vgg19-d01eb7cb.pth (legacy torch.save format)
# The .pth files are named by the first 8 hex digits of their SHA-256, which is
# checked exactly as torch.hub's check_hash does.
# Overrides (tests use them to feed a local file:// copy): NST_WEIGHTS_URL, and the pin,
# NST_WEIGHTS_MD5 (keras) or NST_WEIGHTS_SHA256 (a prefix; the .pth models). NST_BIN: nst.
set -euo pipefail
nst=${NST_BIN:-build/nst}
model=${1:-${MODEL:-keras}}
case $model in
    keras)
        url=https://github.com/fchollet/deep-learning-models/releases/download/v0.1/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5
        algo=MD5 pin=${NST_WEIGHTS_MD5:-253f8cb515780f3b799900260a226db6} ;;
    torchvision)
        url=https://download.pytorch.org/models/vgg19-dcbb9e9d.pth
        algo=SHA-256 pin=${NST_WEIGHTS_SHA256:-dcbb9e9d} ;;
    caffe-pth)
        url=https://web.eecs.umich.edu/~justincj/models/vgg19-d01eb7cb.pth
        algo=SHA-256 pin=${NST_WEIGHTS_SHA256:-d01eb7cb} ;;
    *)
        echo "make weights: unknown MODEL '$model' (keras, torchvision or caffe-pth)" >&2; exit 2 ;;
esac
url=${NST_WEIGHTS_URL:-$url}
dest=${NST_MODEL:-${XDG_DATA_HOME:-$HOME/.local/share}/nst/vgg19.safetensors}
if [ -s "$dest" ] && "$nst" model info "$dest" >/dev/null 2>&1; then
    # say which: a model fetched before nst 0.3 is torchvision's, not the Caffe default
    echo "weights already at $dest ($("$nst" model info "$dest" | sed -n 's/^input: \([a-z]*\).*/\1 input/p')); remove it to fetch MODEL=$model"
    exit 0
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
file=$tmp/${url##*/}
echo "downloading $url"
if command -v curl >/dev/null; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$file" "$url" 2>"$tmp/err" ||
        { echo "make weights: cannot download $url: $(tail -n 1 "$tmp/err")" >&2; exit 1; }
elif command -v wget >/dev/null; then
    wget -q -T 20 -O "$file" "$url" 2>"$tmp/err" ||
        { echo "make weights: cannot download $url (network unreachable?)" >&2; exit 1; }
else
    echo "make weights: neither curl nor wget is installed (apt-get install curl)" >&2; exit 1
fi
if [ "$algo" = MD5 ]; then
    got=$(md5sum "$file" | cut -c1-32)
    [ "$got" = "$pin" ] ||
        { echo "make weights: $url: MD5 $got is not the pinned $pin; not using it" >&2; exit 1; }
else
    got=$(sha256sum "$file" | cut -c1-64)
    case "$got" in
        "$pin"*) ;;
        *) echo "make weights: $url: SHA-256 $got does not start with $pin; not using it" >&2; exit 1 ;;
    esac
fi
"$nst" model convert "$file" "$dest" --dtype f32
echo "stored $dest"
"$nst" model info "$dest" | head -n 4
