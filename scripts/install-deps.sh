#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages nst needs to build and test, when missing.
set -euo pipefail
pkgs=(build-essential pkg-config zlib1g-dev libpng-dev libjpeg-dev libzip-dev libjansson-dev libgif-dev groff-base
      libopenblas-dev libdnnl-dev libhdf5-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopencv-video-dev parallel python3-torch python3-torchvision python3-h5py
      ffmpeg clang-14 libclang-rt-14-dev libomp-14-dev valgrind clang-tidy cppcheck)
[ "${1:-}" = "--runtime" ] && pkgs=(build-essential pkg-config zlib1g-dev libpng-dev libjpeg-dev libzip-dev libjansson-dev libgif-dev
                                    libopenblas-dev libdnnl-dev libhdf5-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libopencv-video-dev curl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
