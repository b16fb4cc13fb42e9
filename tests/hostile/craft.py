"""craft.py: byte-level builders for every format nst reads -- safetensors, torch
.pth (a zip archive holding a pickle), PNG and JPEG -- so that any field can be made
to lie. Used by make_hostile.py (the hostile-input suite) and by
tests/fuzz/make_corpus.py (the fuzzers' seeds). Standard library only."""
import json
import random
import struct
import zlib

# ---- VGG19 ---------------------------------------------------------------------

VGG_CONVS = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 256), (256, 512), (512, 512), (512, 512), (512, 512), (512, 512),
             (512, 512), (512, 512), (512, 512)]
FEATURE_INDEX = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]

DTYPE_SIZE = {'F32': 4, 'F16': 2, 'BF16': 2}


def encode(dtype, values):
    """Little-endian bytes of values in F32, F16 or BF16 (BF16: float32's top half)."""
    if dtype == 'F32':
        return struct.pack('<%df' % len(values), *values)
    if dtype == 'F16':
        return struct.pack('<%de' % len(values), *values)
    if dtype == 'BF16':
        return b''.join(struct.pack('<f', v)[2:] for v in values)
    raise ValueError(dtype)


def conv_values(conv, seed=0):
    """Small deterministic weights and biases for VGG19 conv layer `conv`."""
    cin, cout = VGG_CONVS[conv]
    rng = random.Random(seed * 100 + conv)
    w = [rng.uniform(-0.25, 0.25) for _ in range(cout * cin * 9)]
    b = [rng.uniform(-0.5, 0.5) for _ in range(cout)]
    return w, b


def vgg_tensors(k=1, dtype='F32', seed=0, prefix='features.'):
    """The first k conv layers as [(name, dtype, shape, bytes)], weight then bias."""
    out = []
    for i in range(k):
        cin, cout = VGG_CONVS[i]
        w, b = conv_values(i, seed)
        n = FEATURE_INDEX[i]
        out.append(('%s%d.weight' % (prefix, n), dtype, [cout, cin, 3, 3], encode(dtype, w)))
        out.append(('%s%d.bias' % (prefix, n), dtype, [cout], encode(dtype, b)))
    return out


# ---- safetensors -----------------------------------------------------------------

def st_parts(tensors, metadata=None):
    """The header (a dict, in order) and the data section for tensors laid end to end."""
    header, data = {}, b''
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {'dtype': dtype, 'shape': shape,
                        'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def st_pack(header, data, hlen=None):
    """8-byte little-endian header length (hlen, if given, lies), JSON header, data.
    header may be a dict or the header's exact bytes."""
    hb = header if isinstance(header, bytes) else json.dumps(header).encode()
    if not isinstance(header, bytes):
        hb += b' ' * (-len(hb) % 8)   # as the reference writer: data starts 8-aligned
    return struct.pack('<Q', len(hb) if hlen is None else hlen) + hb + data


def safetensors(tensors, metadata=None):
    return st_pack(*st_parts(tensors, metadata))


# ---- pickle (the subset torch.save writes) --------------------------------------

MARK, STOP, TUPLE, EMPTY_TUPLE, EMPTY_DICT, REDUCE, SETITEMS = b'(', b'.', b't', b')', b'}', b'R', b'u'
BINPERSID, NEWFALSE, NEWTRUE, BUILD = b'Q', b'\x89', b'\x88', b'b'


def p_proto(n=2):
    return b'\x80' + bytes([n])


def p_global(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def p_str(s):
    b = s.encode() if isinstance(s, str) else s
    return b'X' + struct.pack('<I', len(b)) + b


def p_int(n):
    if 0 <= n < 256:
        return b'K' + bytes([n])
    if 0 <= n < 65536:
        return b'M' + struct.pack('<H', n)
    if -2**31 <= n < 2**31:
        return b'J' + struct.pack('<i', n)
    raw = n.to_bytes(8, 'little', signed=True)
    return b'\x8a' + bytes([len(raw)]) + raw


def p_tuple(items):
    return MARK + b''.join(items) + TUPLE if items else EMPTY_TUPLE


def p_storage(key, numel, storage='FloatStorage'):
    """The persistent id torch writes for a storage, and BINPERSID."""
    return p_tuple([p_str('storage'), p_global('torch', storage), p_str(key), p_str('cpu'),
                    p_int(numel)]) + BINPERSID


def p_tensor(key, numel, shape, stride=None, offset=0, storage='FloatStorage'):
    """_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""
    if stride is None:
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
    return (p_global('torch._utils', '_rebuild_tensor_v2') +
            p_tuple([p_storage(key, numel, storage), p_int(offset),
                     p_tuple([p_int(d) for d in shape]), p_tuple([p_int(d) for d in stride]),
                     NEWFALSE, p_global('collections', 'OrderedDict') + EMPTY_TUPLE + REDUCE]) +
            REDUCE)


def p_state_dict(entries, proto=2):
    """entries: [(name, tensor pickle bytes)] -> an OrderedDict pickle."""
    body = b''.join(p_str(name) + t for name, t in entries)
    return (p_proto(proto) + p_global('collections', 'OrderedDict') + EMPTY_TUPLE + REDUCE +
            (MARK + body + SETITEMS if entries else b'') + STOP)


STORAGE_OF = {'F32': 'FloatStorage', 'F16': 'HalfStorage', 'BF16': 'BFloat16Storage'}


def pth_entries(tensors, prefix='archive', proto=2):
    """[(name, dtype, shape, bytes)] -> the zip entries torch.save writes: data.pkl,
    one storage per tensor (data/0, data/1, ...) and version."""
    pk, files = [], []
    for i, (name, dtype, shape, raw) in enumerate(tensors):
        numel = len(raw) // DTYPE_SIZE[dtype]
        pk.append((name, p_tensor(str(i), numel, shape, storage=STORAGE_OF[dtype])))
        files.append(('%s/data/%d' % (prefix, i), raw))
    return ([('%s/data.pkl' % prefix, p_state_dict(pk, proto))] + files +
            [('%s/version' % prefix, b'3\n')])


# ---- legacy torch.save (before PyTorch 1.6): pickles, then raw storages ------------

LEGACY_MAGIC = 0x1950a86a20f9469cfc6c
EMPTY_LIST, APPENDS = b']', b'e'


def p_legacy_header(magic=LEGACY_MAGIC, version=1001, little_endian=True, proto=2):
    """The three pickles a legacy file starts with: magic number, version, sys_info."""
    sizes = EMPTY_DICT + MARK + p_str('short') + p_int(2) + p_str('int') + p_int(4) + \
        p_str('long') + p_int(8) + SETITEMS
    info = EMPTY_DICT + MARK + p_str('protocol_version') + p_int(1001) + p_str('little_endian') + \
        (NEWTRUE if little_endian else NEWFALSE) + p_str('type_sizes') + sizes + SETITEMS
    return (p_proto(proto) + b'\x8a\x0a' + magic.to_bytes(10, 'little') + STOP +
            p_proto(proto) + p_int(version) + STOP + p_proto(proto) + info + STOP)


def p_legacy_tensor(key, numel, shape, style='v2', offset=0, storage='FloatStorage', view=None,
                    module='torch'):
    """A tensor as the PyTorch of `style` pickled it: 'v2' _rebuild_tensor_v2 (0.4-1.5),
    'v1' _rebuild_tensor (0.2-0.3), 'v0' the tensor class then BUILD (0.1). Its
    persistent id has view_metadata: None, or view = (key, offset, size)."""
    stride, acc = [], 1
    for d in reversed(shape):
        stride.insert(0, acc)
        acc *= d
    v = b'N' if view is None else p_tuple([p_str(view[0]), p_int(view[1]), p_int(view[2])])
    pid = p_tuple([p_str('storage'), p_global(module, storage), p_str(key), p_str('cpu'),
                   p_int(numel), v]) + BINPERSID
    args = [pid, p_int(offset), p_tuple([p_int(d) for d in shape]), p_tuple([p_int(d) for d in stride])]
    if style == 'v2':
        return (p_global('torch._utils', '_rebuild_tensor_v2') +
                p_tuple(args + [NEWFALSE, p_global('collections', 'OrderedDict') + EMPTY_TUPLE + REDUCE]) +
                REDUCE)
    if style == 'v1':
        return p_global('torch._utils', '_rebuild_tensor') + p_tuple(args) + REDUCE
    return p_global(module, storage.replace('Storage', 'Tensor')) + EMPTY_TUPLE + REDUCE + p_tuple(args) + BUILD


def p_key_list(keys, proto=2):
    return p_proto(proto) + EMPTY_LIST + (MARK + b''.join(p_str(k) for k in keys) + APPENDS if keys else b'') + STOP


def legacy_parts(tensors, style='v2', proto=2):
    """[(name, dtype, shape, bytes)] -> (header, state dict pickle, storages), one
    storage per tensor, keyed '0', '1', ...; storages are [(key, element count, bytes)]."""
    pk, storages = [], []
    for i, (name, dtype, shape, raw) in enumerate(tensors):
        numel = len(raw) // DTYPE_SIZE[dtype]
        pk.append((name, p_legacy_tensor(str(i), numel, shape, style, storage=STORAGE_OF[dtype])))
        storages.append((str(i), numel, raw))
    return p_legacy_header(proto=proto), p_state_dict(pk, proto), storages


def legacy_pack(header, state, storages, keys=None, proto=2):
    """The file: header, state dict, the key list (keys, or the storages' own), then
    each storage's 8-byte little-endian element count and bytes."""
    keys = [k for k, _, _ in storages] if keys is None else keys
    return (header + state + p_key_list(keys, proto) +
            b''.join(struct.pack('<Q', n) + raw for _, n, raw in storages))


def pth_legacy(tensors, style='v2', proto=2):
    return legacy_pack(*legacy_parts(tensors, style, proto), proto=proto)


# ---- zip (hand-written, so that every size and checksum can lie) ------------------

def zip_build(entries):
    """entries: dicts with name, data and optionally: method (0 stored, 8 deflated),
    crc, csize, usize (central directory), lcrc, lcsize, lusize (local header),
    payload (the stored bytes, instead of data compressed). Returns the archive."""
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e['name'].encode() if isinstance(e['name'], str) else e['name']
        data = e['data']
        method = e.get('method', 0)
        if 'payload' in e:
            payload = e['payload']
        elif method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = c.compress(data) + c.flush()
        else:
            payload = data
        crc = e.get('crc', zlib.crc32(data) & 0xffffffff)
        csize, usize = e.get('csize', len(payload)), e.get('usize', len(data))
        offset = len(out)
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0x21,
                           e.get('lcrc', crc), e.get('lcsize', csize), e.get('lusize', usize),
                           len(name), 0) + name + payload
        central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0x21,
                               crc, csize, usize, len(name), 0, 0, 0, 0, 0, offset) + name
    n = len(entries)
    eocd = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, len(central), len(out), 0)
    return bytes(out + central + eocd)


def pth(tensors, prefix='archive', proto=2):
    return zip_build([{'name': n, 'data': d} for n, d in pth_entries(tensors, prefix, proto)])


# ---- PNG ---------------------------------------------------------------------------

PNG_SIG = b'\x89PNG\r\n\x1a\n'


def png_chunk(kind, data, crc=None):
    if crc is None:
        crc = zlib.crc32(kind + data) & 0xffffffff
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', crc)


def png_ihdr(w, h, depth=8, ctype=2, interlace=0):
    return png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, interlace))


def png_rgb(w, h, seed=1):
    """The chunks of a valid 8-bit RGB PNG: [IHDR, IDAT, IEND] (signature apart)."""
    rng = random.Random(seed)
    raw = b''.join(b'\x00' + bytes(rng.randrange(256) for _ in range(3 * w)) for _ in range(h))
    return [png_ihdr(w, h), png_chunk(b'IDAT', zlib.compress(raw, 9)), png_chunk(b'IEND', b'')]


def png(chunks):
    return PNG_SIG + b''.join(chunks)


# ---- JPEG (a minimal baseline encoder: flat blocks, one-code Huffman tables) --------

def jpeg_segment(marker, payload):
    return b'\xff' + bytes([marker]) + struct.pack('>H', len(payload) + 2) + payload


def jpeg_segments(w=16, h=16, ncomp=3, dc_bits=None):
    """A valid baseline JPEG as a list of named parts: SOI, APP0, DQT, SOF0, DHT (DC),
    DHT (AC), SOS, scan data, EOI. Every block has DC difference 0 (one 1-bit code)
    and an immediate end-of-block (one 1-bit code), so the picture is flat gray."""
    comps = b''.join(bytes([i + 1, 0x11, 0]) for i in range(ncomp))
    blocks = ((w + 7) // 8) * ((h + 7) // 8) * ncomp
    bits = 2 * blocks
    nbytes = (bits + 7) // 8
    data = bytearray(nbytes)
    if bits % 8:
        data[-1] = (1 << (8 - bits % 8)) - 1   # pad with one bits
    one_code = bytes([1] + [0] * 15)
    return [
        ('SOI', b'\xff\xd8'),
        ('APP0', jpeg_segment(0xE0, b'JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00')),
        ('DQT', jpeg_segment(0xDB, b'\x00' + bytes([1] * 64))),
        ('SOF0', jpeg_segment(0xC0, struct.pack('>BHHB', 8, h, w, ncomp) + comps)),
        ('DHT-DC', jpeg_segment(0xC4, b'\x00' + one_code + b'\x00')),
        ('DHT-AC', jpeg_segment(0xC4, b'\x10' + one_code + b'\x00')),
        ('SOS', jpeg_segment(0xDA, bytes([ncomp]) + b''.join(bytes([i + 1, 0x00]) for i in range(ncomp)) +
                             b'\x00\x3f\x00')),
        ('DATA', bytes(data)),
        ('EOI', b'\xff\xd9'),
    ]


def jpeg(parts):
    return b''.join(p for _, p in parts)


def jpeg_many_scans(scans):
    """An 8x8 gray progressive JPEG: one DC scan, then `scans` - 1 DC refinement scans
    (libjpeg only warns about the repetition, so each is decoded)."""
    one_code = bytes([1] + [0] * 15)
    out = (b'\xff\xd8' + jpeg_segment(0xDB, b'\x00' + bytes([1] * 64)) +
           jpeg_segment(0xC2, struct.pack('>BHHB', 8, 8, 8, 1) + b'\x01\x11\x00') +
           jpeg_segment(0xC4, b'\x00' + one_code + b'\x00'))
    out += jpeg_segment(0xDA, b'\x01\x01\x00\x00\x00\x00') + b'\x7f'
    for _ in range(scans - 1):
        out += jpeg_segment(0xDA, b'\x01\x01\x00\x00\x00\x10') + b'\x7f'
    return out + b'\xff\xd9'
