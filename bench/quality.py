#!/usr/bin/python3
"""bench/quality.py: how stylized and how faithful a result is, measured in PyTorch.

    /usr/bin/python3 bench/quality.py MODEL.safetensors CONTENT STYLE OUT [OUT...]

For each OUT it prints one JSON line {"out", "style", "content", "style_layers"}:
  style   = mean over relu1_1..relu5_1 of ||G(out) - G(style)||^2 / ||G(style)||^2,
            with G = F F^T / N (N = positions);
  content = ||F(out) - F(content)||^2 / ||F(content)||^2 at relu4_2.
Lower is better for both. Every picture is resized to 512 px on its longest side
(antialiased bilinear) and fed in Caffe's convention (BGR, 0..255, minus the mean), so
MODEL must be a Caffe-convention VGG19 with all 16 conv layers (features.N keys), such
as ../shared/models/vgg19-full.caffe.safetensors. Runs with Debian's python3-torch;
it is a measuring tool, never a runtime dependency of nst.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
POOL_AFTER = {2, 4, 8, 12}          # 1-based conv counts after which VGG19 pools
STYLE = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
CONTENT = "relu4_2"
NAMES = ["1_1", "1_2", "2_1", "2_2", "3_1", "3_2", "3_3", "3_4",
         "4_1", "4_2", "4_3", "4_4", "5_1", "5_2", "5_3", "5_4"]
MEAN_BGR = torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            a, b = v["data_offsets"]
            f.seek(base + a)
            dt = {"F32": np.float32, "F16": np.float16}[v["dtype"]]
            out[k] = torch.from_numpy(np.frombuffer(f.read(b - a), dtype=dt).astype(np.float32).reshape(v["shape"]))
        return out


def load_picture(path, longest=int(__import__("os").environ.get("QUALITY_SIZE", "512"))):
    im = Image.open(path).convert("RGB")
    x = torch.from_numpy(np.asarray(im, dtype=np.float32)).permute(2, 0, 1)[None]
    h, w = x.shape[2:]
    s = longest / max(h, w)
    if abs(s - 1) > 1e-9:
        x = F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))), mode="bilinear",
                          align_corners=False, antialias=True)
    return x.flip(1) - MEAN_BGR     # RGB -> BGR, minus the mean


def features(wts, x):
    out = {}
    for i, idx in enumerate(CONVS):
        x = F.relu(F.conv2d(x, wts[f"features.{idx}.weight"], wts[f"features.{idx}.bias"], padding=1))
        out["relu" + NAMES[i]] = x
        if i + 1 in POOL_AFTER:
            x = F.max_pool2d(x, 2, 2)
        if i == 12:                  # relu5_1 is the deepest layer measured
            break
    return out


def gram(f):
    c = f.shape[1]
    f = f.reshape(c, -1).double()
    return f @ f.T / f.shape[1]


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    torch.set_grad_enabled(False)
    wts = load_safetensors(sys.argv[1])
    content = features(wts, load_picture(sys.argv[2]))
    style = features(wts, load_picture(sys.argv[3]))
    targets = {l: gram(style[l]) for l in STYLE}
    pc = content[CONTENT].double()
    for path in sys.argv[4:]:
        f = features(wts, load_picture(path))
        per = [float(((gram(f[l]) - targets[l]) ** 2).sum() / (targets[l] ** 2).sum()) for l in STYLE]
        fo = f[CONTENT].double()
        if fo.shape != pc.shape:
            sys.exit(f"{path}: {tuple(fo.shape)} at {CONTENT}, the content's is {tuple(pc.shape)}: not the same size")
        c = float(((fo - pc) ** 2).sum() / (pc ** 2).sum())
        print(json.dumps({"out": path, "style": round(sum(per) / len(per), 4), "content": round(c, 4),
                          "style_layers": [round(v, 4) for v in per]}), flush=True)


if __name__ == "__main__":
    main()
