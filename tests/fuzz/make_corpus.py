#!/usr/bin/python3
"""make_corpus.py OUTDIR [MAKE_IMAGE_SEEDS]: writes the fuzzers' seed corpora, all made
by the project itself, into OUTDIR/<target>/ (fuzz_safetensors, fuzz_pth, fuzz_pickle,
fuzz_image, fuzz_options, fuzz_config, fuzz_checkpoint, fuzz_video):

- valid models: VGG19's conv1_1 (and conv1_2) in F32, F16 and BF16, as safetensors
  written byte by byte (tests/hostile/craft.py) and as .pth written by torch.save
  itself (when PyTorch is installed) and by craft.py, in the zip and the legacy
  (pre-1.6) formats; their data.pkl for the pickle
  fuzzer, plus pickles in protocols 2 and 4;
- pictures: every PNG and JPEG variant the loader handles, from the C program
  MAKE_IMAGE_SEEDS (tests/fuzz/make_image_seeds.c, libpng/libjpeg) when given, and
  craft.py's minimal PNG and JPEG;
- command lines and --config files for the option parser, and their dictionaries
  (tests/fuzz/<target>.dict plus every option name in cli/options.c), written to
  OUTDIR/<target>.dict;
- checkpoints of a 4x3 run (fuzz_checkpoint's expectation) for L-BFGS with 0, 2 and 4
  pairs and for Adam, written field by field as src/transfer/checkpoint.h lays them out;
- videos of a few frames in each container and codec the reader accepts (MP4/H.264,
  WebM/VP9, Matroska/MPEG-4, AVI/MJPEG, MOV/PNG, MP4/HEVC, MKV/AV1), written by the
  `ffmpeg` program when it is installed (else fuzz_video starts from nothing);
- the small files of the hostile-input suite (tests/hostile/make_hostile.py), each
  in the corpus of the fuzzer that reads its format (size bombs apart).

Seeds larger than MAX_SEED bytes are left out: libFuzzer sets its input size limit
from the largest seed, and big inputs make every mutation slower."""
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'hostile'))
import craft  # noqa: E402

MAX_SEED = 16384
# Hostile files left out of the seeds: the size bombs (each makes the library reserve
# gigabytes, which under ASan takes seconds per run) and files that make libpng
# allocate a huge chunk buffer. The fuzzers find such inputs by themselves; seeds
# should let them spend their time elsewhere.
SLOW_SEEDS = {'png_chunk_len_huge.png'}
TARGETS = ['fuzz_safetensors', 'fuzz_pth', 'fuzz_pickle', 'fuzz_image', 'fuzz_options', 'fuzz_config',
           'fuzz_checkpoint', 'fuzz_hdf5', 'fuzz_video']


class Corpus:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = {t: 0 for t in TARGETS}
        for t in TARGETS:
            d = os.path.join(outdir, t)
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)

    def add(self, target, name, data):
        if len(data) > MAX_SEED:
            return
        with open(os.path.join(self.outdir, target, name), 'wb') as f:
            f.write(data)
        self.count[target] += 1


def models(c):
    meta_variants = [None, {'input': 'caffe'}, {'input': 'torchvision: RGB 0..1'},
                     {'input': 'caffe', 'mean_bgr': '[103.9, 116.8, 123.7]'},
                     {'input': 'torchvision', 'mean': '0.5,0.5,0.5', 'std': '0.25, 0.25, 0.25'}]
    for dtype in ['F32', 'F16', 'BF16']:
        for i, meta in enumerate(meta_variants):
            c.add('fuzz_safetensors', 'conv1_1_%s_%d.safetensors' % (dtype.lower(), i),
                  craft.safetensors(craft.vgg_tensors(1, dtype), meta))
        c.add('fuzz_safetensors', 'conv1_1_noprefix_%s.safetensors' % dtype.lower(),
              craft.safetensors(craft.vgg_tensors(1, dtype, prefix='')))
    # a classifier tensor (ignored), and tensors that are no VGG19 at all
    c.add('fuzz_safetensors', 'with_classifier.safetensors',
          craft.safetensors(craft.vgg_tensors(1, 'F16') + [('classifier.6.bias', 'F32', [3], craft.encode('F32', [1, 2, 3]))]))
    c.add('fuzz_safetensors', 'generic.safetensors',
          craft.safetensors([('a', 'F32', [2, 3], craft.encode('F32', [0, 1, 2, 3, 4, 5])),
                             ('b', 'BF16', [], craft.encode('BF16', [7])),
                             ('c', 'F16', [0, 4], b'')], {'note': 'x'}))
    c.add('fuzz_safetensors', 'empty_header.safetensors', craft.st_pack(b'{}', b''))

    # .pth written by craft.py (protocols 2 and 4; another archive prefix)
    for dtype in ['F32', 'F16', 'BF16']:
        c.add('fuzz_pth', 'craft_conv1_1_%s.pth' % dtype.lower(), craft.pth(craft.vgg_tensors(1, dtype)))
    c.add('fuzz_pth', 'craft_proto4.pth', craft.pth(craft.vgg_tensors(1, 'F16'), prefix='vgg19', proto=4))
    for dtype in ['F32', 'BF16']:
        for name, pkl in craft.pth_entries(craft.vgg_tensors(1, dtype)):
            if name.endswith('data.pkl'):
                c.add('fuzz_pickle', 'craft_%s.pkl' % dtype.lower(), pkl)
    for proto in (2, 4):
        ents = craft.pth_entries(craft.vgg_tensors(2, 'F16'), proto=proto)
        c.add('fuzz_pickle', 'craft_two_layers_proto%d.pkl' % proto, ents[0][1])
    # legacy (pre-1.6) .pth as PyTorch 0.4-1.5 (v2), 0.2-0.3 (v1) and 0.1 (v0) wrote them
    for style in ('v2', 'v1', 'v0'):
        for dtype in ['F32', 'F16', 'BF16']:
            c.add('fuzz_pth', 'legacy_%s_%s.pth' % (style, dtype.lower()),
                  craft.pth_legacy(craft.vgg_tensors(1, dtype), style))
    c.add('fuzz_pth', 'legacy_proto4.pth', craft.pth_legacy(craft.vgg_tensors(1, 'F16'), 'v1', proto=4))
    # Python 2's OrderedDict: called with one list of [key, value] lists
    t16 = craft.vgg_tensors(1, 'F16')
    head, _, storages = craft.legacy_parts(t16, 'v0')
    pairs = b''.join(craft.EMPTY_LIST + craft.MARK + craft.p_str(n) +
                     craft.p_legacy_tensor(str(i), len(raw) // 2, shape, 'v0', storage='HalfStorage') + craft.APPENDS
                     for i, (n, _, shape, raw) in enumerate(t16))
    state = (craft.p_proto(2) + craft.p_global('collections', 'OrderedDict') +
             craft.p_tuple([craft.EMPTY_LIST + craft.MARK + pairs + craft.APPENDS]) + craft.REDUCE + craft.STOP)
    c.add('fuzz_pth', 'legacy_py2_pairs.pth', craft.legacy_pack(head, state, storages))

    # .pth written by torch.save itself
    try:
        import torch
    except ImportError:
        print('make_corpus.py: no PyTorch, so no torch.save seeds', file=sys.stderr)
        return
    torch.manual_seed(0)
    dicts = {
        'torch_conv1_1_f32': OrderedDict([('features.0.weight', torch.randn(64, 3, 3, 3)),
                                          ('features.0.bias', torch.randn(64))]),
        'torch_conv1_1_f16': OrderedDict([('features.0.weight', torch.randn(64, 3, 3, 3).half()),
                                          ('features.0.bias', torch.randn(64).half())]),
        'torch_conv1_1_bf16': OrderedDict([('0.weight', torch.randn(64, 3, 3, 3).bfloat16()),
                                           ('0.bias', torch.randn(64).bfloat16())]),
        'torch_small': OrderedDict([('x', torch.arange(6.0).reshape(2, 3)), ('y', torch.zeros(0)),
                                    ('z', torch.tensor(3.5))]),
    }
    shared = torch.randn(64 * 27 + 64)   # two views of one storage, the second at an offset
    dicts['torch_shared_storage'] = OrderedDict([('features.0.weight', shared[:1728].view(64, 3, 3, 3)),
                                                 ('features.0.bias', shared[1728:])])
    for name, sd in dicts.items():
        buf = io.BytesIO()
        torch.save(sd, buf)
        data = buf.getvalue()
        c.add('fuzz_pth', name + '.pth', data)
        legacy = io.BytesIO()
        torch.save(sd, legacy, _use_new_zipfile_serialization=False)
        c.add('fuzz_pth', name + '_legacy.pth', legacy.getvalue())
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for n in z.namelist():
                if n.endswith('/data.pkl'):
                    c.add('fuzz_pickle', name + '.pkl', z.read(n))


def hdf5_models(c):
    """Keras HDF5 files of conv1_1 (h5craft.py, with h5py): both of Keras' layouts and
    model.save()'s, F32, F16 and F64, a user block, chunked storage."""
    import h5craft
    if not h5craft.available():
        print('make_corpus.py: no h5py, so no HDF5 seeds', file=sys.stderr)
        return
    for layout in ('keras', 'tfkeras', 'model'):
        for dtype in ('<f4', '<f2'):
            c.add('fuzz_hdf5', 'conv1_1_%s_%s.h5' % (layout, dtype[1:]), h5craft.build(1, dtype, layout))
    c.add('fuzz_hdf5', 'conv1_1_f64_be.h5', h5craft.build(1, '>f8'))
    c.add('fuzz_hdf5', 'conv1_1_userblock.h5', h5craft.build(1, '<f2', 'keras', userblock_size=512))
    c.add('fuzz_hdf5', 'conv1_1_chunked.h5',
          h5craft.build(1, '<f2', tweak=h5craft.replace(h5craft.K11, data=h5craft.kernel(0, '<f2'), chunks=(3, 3, 3, 16),
                                                          shuffle=True, fletcher32=True)))
    c.add('fuzz_hdf5', 'conv1_1_latest_format.h5', h5craft.build(1, '<f2', libver='latest'))


def pictures(c, tool):
    if tool:
        d = tempfile.mkdtemp()
        try:
            subprocess.run([tool, d], check=True)
            for n in sorted(os.listdir(d)):
                with open(os.path.join(d, n), 'rb') as f:
                    c.add('fuzz_image', n, f.read())
        finally:
            shutil.rmtree(d)
    c.add('fuzz_image', 'craft_rgb.png', craft.png(craft.png_rgb(9, 7)))
    c.add('fuzz_image', 'craft_flat.jpg', craft.jpeg(craft.jpeg_segments(24, 16)))
    c.add('fuzz_image', 'craft_flat_gray.jpg', craft.jpeg(craft.jpeg_segments(8, 8, 1)))
    c.add('fuzz_image', 'craft_progressive.jpg', craft.jpeg_many_scans(3))


# (name, ffmpeg output options): tiny videos, one per container and codec nst reads.
VIDEO_SEEDS = [
    ('h264.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast']),
    ('h264_faststart.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-movflags', '+faststart']),
    ('vp9.webm', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '100k']),
    ('vp8.webm', ['-c:v', 'libvpx', '-deadline', 'realtime', '-b:v', '100k']),
    ('mpeg4.mkv', ['-c:v', 'mpeg4', '-q:v', '10']),
    ('mjpeg.avi', ['-c:v', 'mjpeg', '-q:v', '20']),
    ('png.mov', ['-c:v', 'png']),
    ('hevc.mp4', ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=none']),
    ('av1.mkv', ['-c:v', 'libaom-av1', '-cpu-used', '8', '-b:v', '50k']),
    ('rawvideo.avi', ['-c:v', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '8x8']),
]


def videos(c):
    ffmpeg = shutil.which('ffmpeg')
    if not ffmpeg:
        print('make_corpus.py: no ffmpeg program: fuzz_video has no seeds')
        return
    d = tempfile.mkdtemp()
    try:
        for name, args in VIDEO_SEEDS:
            out = os.path.join(d, name)
            cmd = [ffmpeg, '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=10',
                   '-frames:v', '5', '-pix_fmt', 'yuv420p'] + args + ['-y', out]
            if name == 'png.mov' or name == 'rawvideo.avi':
                cmd[cmd.index('-pix_fmt') + 1] = 'rgb24'
            if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
                with open(out, 'rb') as f:
                    c.add('fuzz_video', name, f.read())
    finally:
        shutil.rmtree(d)


def options(c):
    lines = [
        ['-c', 'a.jpg', '-s', 'b.png', '-o', 'out.png'],
        ['--content', 'a.jpg', '--style', 'b.png,c.jpg,d.png', '--output', 'o.jpg', '-m', 'm.safetensors',
         '--size', '256', '--style-scale', '0.5', '--max-pixels', '1000000', '--quiet'],
        ['-c', 'a', '-s', 'b', '-o', 'c', '--content-weight', '5', '--style-weight', '1e4', '--tv-weight', '0',
         '--content-layers', 'relu4_2', '--style-layers', 'relu1_1,relu2_1', '--style-layer-weights', '1,0.5'],
        ['-c', 'a', '-s', 'b,c', '-o', 'd', '--style-blend-weights', '0.3,0.7', '--pooling', 'avg',
         '--optimizer', 'adam', '--iterations', '10', '--lr', '0.01', '--lbfgs-history', '5'],
        ['-c', 'a', '-s', 'b', '-o', 'd', '--init', 'noise', '--seed', '42', '--threads', '2', '--preset', 'gatys',
         '--backend', 'reference', '--precision', 'bf16', '--log', 'l.jsonl', '--save-every', '5'],
        ['--preset', 'tutorial', '-c', 'x', '-s', 'y', '-o', 'z', '--init', 'start.png', '--backend', 'blas'],
        ['--help'], ['--version'], ['-c'], ['--size', 'huge'], ['--bogus', '1'],
    ]
    for i, args in enumerate(lines):
        c.add('fuzz_options', 'args_%02d' % i, '\n'.join(args).encode())
    c.add('fuzz_options', 'args_nul', b'\0'.join(a.encode() for a in lines[1]))
    every = ['-c', 'a', '-s', 'b', '-o', 'c']
    for name in option_names():
        every += [name, '1']
    c.add('fuzz_options', 'args_every_option', '\n'.join(every).encode())


def option_names():
    """Every option of cli/options.c ("--size", ...): the strings it compares with and
    the names in its option table, so that the dictionaries and seeds follow the
    options as they are added."""
    try:
        with open(os.path.join(HERE, '..', '..', 'cli', 'options.c')) as f:
            text = f.read()
    except OSError:
        return []
    names = set(re.findall(r'"(--[a-z][a-z0-9-]*)"', text))
    names |= set('--' + n for n in re.findall(r'\{"([a-z][a-z0-9-]*)", (?:\'.\'|0), [01]\}', text))
    return sorted(names)


def dictionaries(outdir):
    """OUTDIR/<target>.dict: tests/fuzz/<target>.dict, and for fuzz_options and
    fuzz_config every option name found in cli/options.c."""
    for t in TARGETS:
        src = os.path.join(HERE, t + '.dict')
        lines = open(src).read().splitlines() if os.path.exists(src) else []
        have = set(l.split('=', 1)[1] for l in lines if '=' in l and not l.startswith('#'))
        for i, name in enumerate(option_names()):
            entry = {'fuzz_options': '"%s"' % name, 'fuzz_config': '"\\"%s\\""' % name[2:]}.get(t)
            if entry and entry not in have:
                lines.append('opt%d=%s' % (i, entry))
        if lines:
            with open(os.path.join(outdir, t + '.dict'), 'w') as f:
                f.write('\n'.join(lines) + '\n')


def configs(c):
    base = {'content': 'a.jpg', 'style': 'b.png', 'output': 'o.png'}
    variants = [
        {},
        {'style': ['b.png', 'c.jpg'], 'style-blend-weights': [0.25, 0.75], 'size': 256, 'quiet': True},
        {'scales': [128, 256, 512], 'iterations': [50, 20, 10], 'optimizer': 'adam', 'lr': 0.02},
        {'preset': 'tutorial', 'style-weight': 1e6, 'tv-weight': 0, 'content-layers': 'relu4_2',
         'style-layers': ['relu1_1', 'relu2_1'], 'style-layer-weights': [1, 0.5], 'nst-version': '0.1.0'},
        {'max-memory': '2G', 'max-pixels': 1000000, 'init': 'noise', 'seed': 7, 'threads': 1,
         'backend': 'reference', 'precision': 'fp32', 'pooling': 'avg', 'normalize-gradients': False},
        {'style-mask': ['m1.png'], 'content-mask': 'cm.png', 'preserve-colors': 'luminance',
         'log': 'l.jsonl', 'plot': 'p.svg', 'save-every': 10},
    ]
    for i, v in enumerate(variants):
        d = dict(base)
        d.update(v)
        c.add('fuzz_config', 'config_%02d.json' % i, json.dumps(d, indent=1).encode())
    every = dict(base)
    for name in option_names():
        if name[2:] not in ('config', 'help', 'version'):
            every.setdefault(name[2:], '1')
    c.add('fuzz_config', 'config_every_key.json', json.dumps(every).encode())
    for i, bad in enumerate([b'', b'[]', b'{"size": "x"}', b'{"config": "x.json"}', b'{"size": 1, "size": 2}',
                             b'{"style": []}', b'{"unknown": 1}', b'{"quiet": "yes"}']):
        c.add('fuzz_config', 'bad_%02d.json' % i, bad)


def checkpoint(optimizer, pairs, steps, w=4, h=3, history=4, fingerprint=0x4e535431):
    """A version-1 checkpoint (see src/transfer/checkpoint.h) with simple finite values."""
    n = 3 * w * h
    hdr = b'NSTCKPT\0' + struct.pack('<10I', 1, optimizer, 0, steps, w, h, fingerprint,
                                     history if optimizer == 0 else 0, pairs, 0)
    hdr += struct.pack('<Q5d', steps, 12.5, 2.5, 10.0, 0.0, 1.25)
    hdr += b'\0' * (128 - len(hdr))
    floats = lambda k: struct.pack('<%df' % n, *[(i % 7 - 3) * k for i in range(n)])
    body = floats(1.0) + floats(0.01)
    if optimizer == 1:
        body += floats(0.001) + struct.pack('<%df' % n, *[1e-6] * n)
    for p in range(pairs):
        body += struct.pack('<d', 0.5 + p) + floats(0.1) + floats(0.2)
    data = hdr + body
    return data + struct.pack('<I', zlib.crc32(data) & 0xffffffff)


def checkpoints(c):
    c.add('fuzz_checkpoint', 'lbfgs_0.ckpt', checkpoint(0, 0, 0))
    c.add('fuzz_checkpoint', 'lbfgs_2.ckpt', checkpoint(0, 2, 5))
    c.add('fuzz_checkpoint', 'lbfgs_4.ckpt', checkpoint(0, 4, 9))
    c.add('fuzz_checkpoint', 'adam.ckpt', checkpoint(1, 0, 7))
    c.add('fuzz_checkpoint', 'other_size.ckpt', checkpoint(0, 1, 3, w=2, h=2))
    c.add('fuzz_checkpoint', 'short.ckpt', checkpoint(0, 2, 5)[:300])


def hostile(c):
    d = tempfile.mkdtemp()
    try:
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'hostile', 'make_hostile.py'), d],
                       check=True, stdout=subprocess.DEVNULL)
        for n in sorted(os.listdir(d)):
            if 'bomb' in n or n in SLOW_SEEDS:
                continue
            with open(os.path.join(d, n), 'rb') as f:
                data = f.read()
            if n.startswith('st_'):
                c.add('fuzz_safetensors', 'hostile_' + n, data)
            elif n.startswith('pth_'):
                c.add('fuzz_pth', 'hostile_' + n, data)
                try:
                    with zipfile.ZipFile(io.BytesIO(data)) as z:
                        pk = [m for m in z.namelist() if m.endswith('data.pkl')]
                        if pk:
                            c.add('fuzz_pickle', 'hostile_' + n + '.pkl', z.read(pk[0]))
                except Exception:
                    pass   # a broken archive is the point of many of these
            elif n.startswith(('png_', 'jpg_')):
                c.add('fuzz_image', 'hostile_' + n, data)
            elif n.startswith('h5_'):
                c.add('fuzz_hdf5', 'hostile_' + n, data)
    finally:
        shutil.rmtree(d)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit('usage: make_corpus.py OUTDIR [MAKE_IMAGE_SEEDS]')
    c = Corpus(sys.argv[1])
    models(c)
    hdf5_models(c)
    pictures(c, sys.argv[2] if len(sys.argv) == 3 else None)
    videos(c)
    options(c)
    configs(c)
    checkpoints(c)
    hostile(c)
    dictionaries(sys.argv[1])
    print('make_corpus.py: seeds in %s: %s' % (sys.argv[1], ', '.join('%s %d' % kv for kv in c.count.items())))


if __name__ == '__main__':
    main()
