#!/usr/bin/env bash
# `make weights`: downloads torchvision's VGG19 (vgg19-dcbb9e9d.pth, 548 MB), checks
# its SHA-256 and stores a compact conv-only copy (80 MB) where nst looks by default:
# $NST_MODEL if set, else ${XDG_DATA_HOME:-~/.local/share}/nst/vgg19.safetensors.
set -euo pipefail
nst=${NST_BIN:-build/nst}
url=https://download.pytorch.org/models/vgg19-dcbb9e9d.pth
# torchvision names its files by the first 8 hex digits of their SHA-256 and checks
# exactly that prefix (torch.hub's check_hash); we do the same.
want_prefix=dcbb9e9d
dest=${NST_MODEL:-${XDG_DATA_HOME:-$HOME/.local/share}/nst/vgg19.safetensors}
if [ -s "$dest" ] && "$nst" model info "$dest" >/dev/null 2>&1; then
    echo "weights already at $dest"; exit 0
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading $url"
if command -v curl >/dev/null; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$tmp/vgg19.pth" "$url" 2>"$tmp/err" ||
        { echo "make weights: cannot download $url: $(tail -n 1 "$tmp/err")" >&2; exit 1; }
elif command -v wget >/dev/null; then
    wget -q -T 20 -O "$tmp/vgg19.pth" "$url" 2>"$tmp/err" ||
        { echo "make weights: cannot download $url (network unreachable?)" >&2; exit 1; }
else
    echo "make weights: neither curl nor wget is installed (apt-get install curl)" >&2; exit 1
fi
got=$(sha256sum "$tmp/vgg19.pth" | cut -c1-64)
case "$got" in
    "$want_prefix"*) ;;
    *) echo "make weights: $url: SHA-256 $got does not start with $want_prefix; not using it" >&2; exit 1 ;;
esac
"$nst" model convert "$tmp/vgg19.pth" "$dest" --dtype f32
echo "stored $dest"
"$nst" model info "$dest" | head -n 4
