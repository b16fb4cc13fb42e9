#!/usr/bin/python3
"""make_hostile.py OUTDIR: writes the hostile-input suite -- crafted model files
(safetensors, torch .pth) and pictures (PNG, JPEG) that each break one rule -- and
OUTDIR/MANIFEST, one line per file, tab-separated:

    FILE  ROLE  CODES  WHAT

ROLE is how tests/test_hostile.c hands the file to `nst`: `model` (-m), `content`
(-c) or `style` (-s). CODES lists the exit codes the README documents for it
(3: malformed input, 4: a size limit, 5 where a model holds NaN/Inf weights).
Every file must be refused with one line naming it, and nothing written.
Standard library only; run by `make fixtures` through
tests/fixtures/make_hostile_fixtures.py."""
import copy
import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import (DTYPE_SIZE, EMPTY_DICT, EMPTY_TUPLE, MARK, NEWFALSE, REDUCE, SETITEMS, STOP,
                   TUPLE, encode, jpeg, jpeg_many_scans, jpeg_segment, jpeg_segments, p_global,
                   p_int, p_proto, p_state_dict, p_str, p_tensor, p_tuple, png, png_chunk,
                   png_ihdr, png_rgb, pth_entries, st_pack, st_parts, vgg_tensors, zip_build)

FORMAT, LIMIT, NUMERIC_OR_FORMAT = '3', '4', '3,5'


class Suite:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lines = []

    def add(self, name, role, codes, what, data):
        assert name not in [l.split('\t')[0] for l in self.lines], name
        assert '\t' not in what and '\n' not in what
        with open(os.path.join(self.outdir, name), 'wb') as f:
            f.write(data)
        self.lines.append('\t'.join([name, role, codes, what]))

    def finish(self):
        with open(os.path.join(self.outdir, 'MANIFEST'), 'w') as f:
            f.write('\n'.join(self.lines) + '\n')


# ---- safetensors -------------------------------------------------------------------

def safetensors_cases(s):
    base = vgg_tensors(1, 'F32')
    meta = {'input': 'caffe'}
    header, data = st_parts(base, meta)
    good = st_pack(header, data)
    hb_len = struct.unpack('<Q', good[:8])[0]

    def st(name, codes, what, blob):
        s.add('st_' + name + '.safetensors', 'model', codes, what, blob)

    def mutated(fn):
        h, d = st_parts(base, copy.deepcopy(meta))
        fn(h)
        return st_pack(h, d)

    st('empty', FORMAT, 'empty file', b'')
    st('short', FORMAT, 'five bytes, shorter than the length field', good[:5])
    st('length_only', FORMAT, 'the 8-byte header length and nothing else', good[:8])
    st('trunc_header', FORMAT, 'cut in the middle of the JSON header', good[:8 + hb_len // 2])
    st('trunc_data', FORMAT, 'cut in the middle of the data section', good[:8 + hb_len + len(data) // 2])
    st('trunc_last_byte', FORMAT, 'the last data byte is missing', good[:-1])
    st('len_huge', FORMAT, 'header length 2^63-1', struct.pack('<Q', 2**63 - 1) + good[8:])
    st('len_over_limit', FORMAT, 'header length just over the 100 MB cap',
       struct.pack('<Q', 100 * 1000 * 1000 + 1) + good[8:])
    st('len_short', FORMAT, 'header length 10 bytes shorter than the JSON',
       struct.pack('<Q', hb_len - 10) + good[8:])
    st('len_long', FORMAT, 'header length runs 16 bytes into the data',
       struct.pack('<Q', hb_len + 16) + good[8:])
    st('not_json', FORMAT, 'header is not JSON', st_pack(b'this is not json{{', data))
    st('json_array', FORMAT, 'header is a JSON array', st_pack(b'[1, 2, 3]', data))
    st('json_nul', FORMAT, 'header JSON holds a NUL byte', st_pack(b'{"a\x00b": 1}', data))
    st('json_deep', FORMAT, 'metadata nested 100000 arrays deep',
       st_pack(b'{"__metadata__": ' + b'[' * 100000 + b']' * 100000 + b'}', data))
    st('dup_key', FORMAT, 'the same tensor name twice in the header',
       st_pack(json.dumps(header).replace('"features.0.bias"', '"features.0.weight"').encode(), data))

    def offsets(name, off):
        return lambda h: h[name].__setitem__('data_offsets', off)
    nw = 64 * 27 * 4
    st('offsets_past_end', FORMAT, 'bias data offsets end past the file',
       mutated(offsets('features.0.bias', [nw, nw + 256 + 4096])))
    st('offsets_far', FORMAT, 'data offsets near 2^63',
       mutated(offsets('features.0.bias', [2**62, 2**62 + 256])))
    st('offsets_reversed', FORMAT, 'data offsets end before they begin',
       mutated(offsets('features.0.bias', [nw + 256, nw])))
    st('offsets_negative', FORMAT, 'negative data offsets',
       mutated(offsets('features.0.bias', [-256, 0])))
    st('offsets_overlap', FORMAT, 'weight and bias share bytes',
       mutated(offsets('features.0.bias', [nw - 128, nw + 128])))
    st('offsets_not_pair', FORMAT, 'data offsets with three numbers',
       mutated(offsets('features.0.bias', [nw, nw + 128, nw + 256])))
    st('offsets_float', FORMAT, 'data offsets are floats',
       mutated(offsets('features.0.bias', [float(nw), float(nw + 256)])))

    def field(name, key, value):
        return lambda h: h[name].__setitem__(key, value)
    st('shape_vs_bytes', FORMAT, 'shape needs more bytes than the offsets hold',
       mutated(field('features.0.weight', 'shape', [64, 3, 3, 4])))
    st('dtype_vs_bytes', FORMAT, 'dtype F16 with F32-sized data',
       mutated(field('features.0.weight', 'dtype', 'F16')))
    st('dtype_unknown', FORMAT, 'dtype F64', mutated(field('features.0.bias', 'dtype', 'F64')))
    st('dtype_missing', FORMAT, 'no dtype', mutated(lambda h: h['features.0.bias'].pop('dtype')))
    st('shape_negative', FORMAT, 'a negative dimension',
       mutated(field('features.0.bias', 'shape', [-64])))
    st('shape_float', FORMAT, 'a fractional dimension',
       mutated(field('features.0.bias', 'shape', [63.5])))
    st('dim_bomb', FORMAT, 'shape [2^40, 2^40, 2^40]: element count overflows',
       mutated(field('features.0.bias', 'shape', [2**40, 2**40, 2**40])))
    st('dim_bomb_zero', FORMAT, 'shape [2^62, 2^62, 0]: zero elements, huge dimensions',
       mutated(field('features.0.bias', 'shape', [2**62, 2**62, 0])))
    st('too_many_dims', FORMAT, 'nine dimensions',
       mutated(field('features.0.bias', 'shape', [1, 1, 1, 1, 1, 1, 1, 1, 64])))
    st('entry_not_object', FORMAT, 'a tensor entry that is a number',
       mutated(lambda h: h.__setitem__('features.0.bias', 7)))
    st('metadata_not_object', FORMAT, '__metadata__ is a list',
       mutated(lambda h: h.__setitem__('__metadata__', ['caffe'])))
    st('metadata_value_int', FORMAT, 'a __metadata__ value that is a number',
       mutated(lambda h: h['__metadata__'].__setitem__('input', 1)))
    st('input_unknown', FORMAT, 'input convention "bgr-ish"',
       mutated(lambda h: h['__metadata__'].__setitem__('input', 'bgr-ish')))
    st('mean_bad', FORMAT, 'metadata mean with two numbers',
       mutated(lambda h: h['__metadata__'].__setitem__('mean', '1,2')))
    st('std_zero', FORMAT, 'metadata std of zero (a division by zero later)',
       mutated(lambda h: h['__metadata__'].__setitem__('std', '0,0,0')))
    st('mean_nan', FORMAT, 'metadata mean NaN',
       mutated(lambda h: h['__metadata__'].__setitem__('mean', 'nan,nan,nan')))

    # shapes and values that are well-formed safetensors but no VGG19
    def model(tensors, m=meta):
        return st_pack(*st_parts(tensors, m))
    w, b = base
    st('vgg_shape', FORMAT, 'conv1_1 weight of shape [64, 3, 5, 3]',
       model([(w[0], 'F32', [64, 3, 5, 3], encode('F32', [0.0] * (64 * 45))), b]))
    st('vgg_flat', FORMAT, 'conv1_1 weight flattened to [1728]',
       model([(w[0], 'F32', [1728], w[3]), b]))
    st('no_conv', FORMAT, 'only classifier tensors',
       model([('classifier.0.bias', 'F32', [4], encode('F32', [0.0] * 4))]))
    st('no_tensors', FORMAT, 'a header with metadata only', model([]))
    st('unknown_tensor', FORMAT, 'features.1.weight (a ReLU has no weights)',
       model(base + [('features.1.weight', 'F32', [1], encode('F32', [0.0]))]))
    st('no_bias', FORMAT, 'conv1_1 weight without its bias', model([w]))
    two = vgg_tensors(3, 'F16')
    st('gap', FORMAT, 'conv1_1 and conv2_1 but no conv1_2', model(two[:2] + two[4:]))
    st('same_param_twice', FORMAT, 'features.0.bias and 0.bias', model(base + [('0.bias',) + b[1:]]))
    st('mixed_prefix_gap', FORMAT, 'conv1_2 alone, without conv1_1', model(two[2:4]))

    def poisoned(dtype, index, value, bias=False):
        t = vgg_tensors(1, dtype)
        k = 1 if bias else 0
        raw = bytearray(t[k][3])
        size = DTYPE_SIZE[dtype]
        raw[index * size:(index + 1) * size] = encode(dtype, [value])
        t[k] = t[k][:3] + (bytes(raw),)
        return model(t)
    nan, inf = float('nan'), float('inf')
    st('nan_weight_f32', NUMERIC_OR_FORMAT, 'a NaN weight (F32)', poisoned('F32', 1000, nan))
    st('inf_bias_f32', NUMERIC_OR_FORMAT, 'an infinite bias (F32)', poisoned('F32', 63, -inf, True))
    st('nan_weight_f16', NUMERIC_OR_FORMAT, 'a NaN weight (F16)', poisoned('F16', 0, nan))
    st('inf_weight_bf16', NUMERIC_OR_FORMAT, 'an infinite weight (BF16)', poisoned('BF16', 1727, inf))


# ---- .pth ------------------------------------------------------------------------

def pth_cases(s):
    base = vgg_tensors(1, 'F32')
    entries = pth_entries(base)
    good_zip = zip_build([{'name': n, 'data': d} for n, d in entries])

    def pt(name, codes, what, blob):
        s.add('pth_' + name + '.pth', 'model', codes, what, blob)

    def with_pickle(pkl, extra=None):
        """The base archive with data.pkl replaced (storages kept)."""
        es = [{'name': n, 'data': pkl if n.endswith('data.pkl') else d} for n, d in entries]
        return zip_build(es + (extra or []))

    def call(mod, name, arg=b'X\x02\x00\x00\x00id'):
        return p_proto(2) + p_global(mod, name) + MARK + arg + TUPLE + REDUCE + STOP

    # forbidden globals and opcodes: nothing may run, each is named in the error
    pt('os_system', FORMAT, 'GLOBAL os.system called through REDUCE', with_pickle(call('os', 'system')))
    pt('builtins_eval', FORMAT, 'GLOBAL builtins.eval', with_pickle(call('builtins', 'eval')))
    pt('subprocess_popen', FORMAT, 'STACK_GLOBAL subprocess.Popen (protocol 4)',
       with_pickle(p_proto(4) + b'\x8c\x0asubprocess\x8c\x05Popen\x93' + MARK + p_str('id') + TUPLE +
                   REDUCE + STOP))
    pt('posix_system', FORMAT, 'GLOBAL posix.system hidden inside a tensor entry',
       with_pickle(p_state_dict([('features.0.weight', call('posix', 'system')[2:-1])])))
    pt('reduce_storage', FORMAT, 'REDUCE on torch.FloatStorage (allowed name, not callable)',
       with_pickle(p_proto(2) + p_global('torch', 'FloatStorage') + EMPTY_TUPLE + REDUCE + STOP))
    pt('reduce_int', FORMAT, 'REDUCE on an integer', with_pickle(p_proto(2) + p_int(5) + EMPTY_TUPLE + REDUCE + STOP))
    pt('inst', FORMAT, 'INST os system', with_pickle(p_proto(2) + MARK + p_str('id') + b'ios\nsystem\n' + STOP))
    pt('obj', FORMAT, 'OBJ with a forbidden class',
       with_pickle(p_proto(2) + MARK + p_global('os', 'system') + p_str('id') + b'o' + STOP))
    pt('newobj', FORMAT, 'NEWOBJ on OrderedDict',
       with_pickle(p_proto(2) + p_global('collections', 'OrderedDict') + EMPTY_TUPLE + b'\x81' + STOP))
    pt('persid_text', FORMAT, 'text PERSID opcode', with_pickle(p_proto(2) + b'P0\n' + STOP))
    pt('ext1', FORMAT, 'EXT1 (extension registry) opcode', with_pickle(p_proto(2) + b'\x82\x01' + STOP))
    pt('unknown_opcode', FORMAT, 'opcode 0xff', with_pickle(p_proto(2) + b'\xff' + STOP))
    pt('proto_99', FORMAT, 'pickle protocol 99', with_pickle(b'\x80\x63' + EMPTY_DICT + STOP))
    pt('no_stop', FORMAT, 'pickle without STOP', with_pickle(entries[0][1][:-1]))
    pt('trunc_pickle', FORMAT, 'pickle cut in half', with_pickle(entries[0][1][:len(entries[0][1]) // 2]))
    pt('empty_pickle', FORMAT, 'empty data.pkl', with_pickle(b''))
    pt('deep_marks', '3,4', '100000 nested MARKs',
       with_pickle(p_proto(2) + MARK * 100000 + EMPTY_DICT + STOP))
    pt('deep_lists', '3,4', '200000 lists nested by APPEND',
       with_pickle(p_proto(2) + b']' * 200000 + b'a' * 199999 + STOP))
    pt('deep_tuples', '3,4', '300000 tuples nested by TUPLE1',
       with_pickle(p_proto(2) + EMPTY_DICT + b'\x85' * 300000 + STOP))
    pt('self_reference', FORMAT, 'a dict that holds itself (memo)',
       with_pickle(p_proto(2) + EMPTY_DICT + b'q\x00' + p_str('x') + b'h\x00' + b's' + STOP))
    pt('memo_unset', FORMAT, 'BINGET of a memo slot never stored', with_pickle(p_proto(2) + b'h\x07' + STOP))
    pt('memo_huge', '3,4', 'LONG_BINPUT at index 2^32-1',
       with_pickle(p_proto(2) + EMPTY_DICT + b'r\xff\xff\xff\xff' + STOP))
    pt('string_huge', '3,4', 'BINUNICODE8 claiming 2^62 bytes',
       with_pickle(p_proto(4) + b'\x8d' + struct.pack('<Q', 2**62) + b'abc' + STOP))
    pt('long_huge', '3,4', 'LONG1 of 200 bytes', with_pickle(p_proto(2) + b'\x8a\xc8' + b'\x01' * 200 + STOP))
    pt('setitems_odd', FORMAT, 'SETITEMS with a key and no value',
       with_pickle(p_proto(2) + EMPTY_DICT + MARK + p_str('k') + SETITEMS + STOP))
    pt('not_dict', FORMAT, 'the pickle holds a list', with_pickle(p_proto(2) + b']' + STOP))
    pt('value_not_tensor', FORMAT, 'a state-dict value that is a string',
       with_pickle(p_proto(2) + EMPTY_DICT + p_str('features.0.weight') + p_str('x') + b's' + STOP))
    sd = lambda t: with_pickle(p_state_dict([('features.0.weight', t)]))
    pt('storage_key_path', FORMAT, 'storage key "../../etc/passwd"', sd(p_tensor('../../etc/passwd', 1728, [64, 3, 3, 3])))
    pt('storage_missing', FORMAT, 'storage data/9 not in the archive', sd(p_tensor('9', 1728, [64, 3, 3, 3])))
    pt('storage_numel_lies', FORMAT, 'the pickle declares a larger storage than the entry',
       sd(p_tensor('0', 4000, [64, 3, 3, 3])))
    pt('offset_past_storage', FORMAT, 'tensor offset past the end of its storage',
       sd(p_tensor('0', 1728, [64, 3, 3, 3], offset=1000)))
    pt('strides_bad', FORMAT, 'non-contiguous strides', sd(p_tensor('0', 1728, [64, 3, 3, 3], stride=[1, 64, 192, 576])))
    pt('shape_overflow', FORMAT, 'shape [2^62, 2^62] (element count overflows)',
       sd(p_tensor('0', 1728, [2**62, 2**62], stride=[2**62, 1])))
    pt('dims_9', FORMAT, 'nine dimensions', sd(p_tensor('0', 1728, [1] * 8 + [1728])))
    pt('negative_numel', FORMAT, 'storage of -1 elements', sd(p_tensor('0', -1, [64, 3, 3, 3])))
    pt('rebuild_args', FORMAT, '_rebuild_tensor_v2 with two arguments',
       with_pickle(p_proto(2) + p_global('torch._utils', '_rebuild_tensor_v2') +
                   p_tuple([p_int(1), p_int(2)]) + REDUCE + STOP))
    pt('dup_key', FORMAT, 'the same key twice',
       with_pickle(p_state_dict([('features.0.weight', p_tensor('0', 1728, [64, 3, 3, 3])),
                                 ('features.0.weight', p_tensor('0', 1728, [64, 3, 3, 3]))])))
    nan_t = list(base)
    raw = bytearray(nan_t[0][3])
    raw[40:44] = encode('F32', [float('nan')])
    nan_t[0] = nan_t[0][:3] + (bytes(raw),)
    pt('nan_weight', NUMERIC_OR_FORMAT, 'a NaN weight',
       zip_build([{'name': n, 'data': d} for n, d in pth_entries(nan_t)]))

    # the zip container
    pt('legacy', FORMAT, 'pre-1.6 torch.save header whose magic number is zeros', b'\x80\x02\x8a\x0a' + b'\x00' * 64)
    pt('zip_trunc_half', FORMAT, 'archive cut in half', good_zip[:len(good_zip) // 2])
    pt('zip_no_eocd', FORMAT, 'archive without its end-of-central-directory record', good_zip[:-22])
    pt('zip_local_only', FORMAT, 'only the local header of data.pkl', good_zip[:40])
    pt('zip_empty_archive', FORMAT, 'an empty zip archive', zip_build([]))
    pt('zip_no_pickle', FORMAT, 'an archive without data.pkl',
       zip_build([{'name': 'archive/readme.txt', 'data': b'hello'}]))
    pt('zip_two_pickles', FORMAT, 'two data.pkl entries',
       zip_build([{'name': n, 'data': d} for n, d in entries] +
                 [{'name': 'other/data.pkl', 'data': entries[0][1]}]))

    def lying(index, **kw):
        es = [{'name': n, 'data': d} for n, d in entries]
        es[index].update(kw)
        return zip_build(es)
    pkl_len = len(entries[0][1])
    w_len = len(entries[1][1])
    pt('zip_pickle_size_bigger', FORMAT, 'data.pkl: the directory claims 100 bytes more',
       lying(0, usize=pkl_len + 100, lusize=pkl_len + 100))
    pt('zip_pickle_size_smaller', FORMAT, 'data.pkl: the directory claims 10 bytes fewer',
       lying(0, usize=pkl_len - 10, lusize=pkl_len - 10))
    pt('zip_storage_size_bigger', FORMAT, 'a storage: the directory claims 4096 bytes more',
       lying(1, usize=w_len + 4096, csize=w_len + 4096, lusize=w_len + 4096, lcsize=w_len + 4096))
    pt('zip_local_central_differ', FORMAT, 'local header and central directory disagree on a size',
       lying(1, lusize=w_len - 4, lcsize=w_len - 4))
    pt('zip_bad_crc_pickle', FORMAT, 'data.pkl with a wrong CRC', lying(0, crc=0x12345678, lcrc=0x12345678))
    pt('zip_bad_crc_storage', FORMAT, 'a storage with a wrong CRC', lying(1, crc=0xdeadbeef, lcrc=0xdeadbeef))
    pt('zip_bad_deflate', FORMAT, 'data.pkl: deflated stream of garbage',
       lying(0, method=8, payload=b'\xff' * 64, csize=64, lcsize=64))
    pt('zip_unknown_method', FORMAT, 'data.pkl: compression method 99', lying(0, method=99))
    pt('zip_offset_past_end', FORMAT, 'a central-directory entry pointing past the end',
       zip_build([{'name': n, 'data': d} for n, d in entries])[:-22] +
       struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 4, 4, 10**6, 10**6, 0))
    # zip bombs: sizes declared far beyond what the data holds or what nst allows
    pt('bomb_pickle_4g', LIMIT, 'data.pkl declares 4 GB uncompressed (over the 64 MB cap)',
       lying(0, method=8, usize=0xfffffff0, lusize=0xfffffff0))
    pt('zip64_marker', FORMAT, 'size 0xffffffff (the zip64 marker) without a zip64 record',
       lying(0, method=8, usize=0xffffffff, lusize=0xffffffff))
    pt('bomb_storage_4g', LIMIT, 'a storage declares 4 GB (over the 2 GB cap)',
       lying(1, usize=0xfffffff0, lusize=0xfffffff0))
    pt('bomb_storage_lie_1g', '3,4', 'a storage declares 1.9 GB but holds 7 KB',
       lying(1, method=8, usize=1900 * 1000 * 1000, lusize=1900 * 1000 * 1000))
    big = 1900 * 1000 * 1000
    es = [{'name': n, 'data': d} for n, d in entries]
    es[0]['data'] = p_state_dict([('features.0.weight', p_tensor('0', big // 4, [64, 3, 3, 3])),
                                  ('features.0.bias', p_tensor('1', 64, [64]))])
    es[1].update(method=8, usize=big, lusize=big)
    pt('bomb_storage_consistent', '3,4', 'pickle and directory agree on a 1.9 GB storage that holds 7 KB',
       zip_build(es))
    zeros = b'\x00' * (80 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(zeros) + c.flush()
    pt('bomb_pickle_80m', LIMIT, 'a real zip bomb: data.pkl inflates to 80 MB of zeros (over the 64 MB cap)',
       lying(0, method=8, payload=packed, csize=len(packed), lcsize=len(packed), usize=len(zeros),
             lusize=len(zeros), crc=zlib.crc32(zeros) & 0xffffffff, lcrc=zlib.crc32(zeros) & 0xffffffff))


def pth_legacy_cases(s):
    """The legacy (pre-1.6) torch.save format: pickles, then raw storages."""
    import craft as c
    base = vgg_tensors(1, 'F32')
    header, state, storages = c.legacy_parts(base)
    good = c.legacy_pack(header, state, storages)
    w_n = len(base[0][3]) // 4

    def pl(name, codes, what, blob):
        s.add('pth_legacy_' + name + '.pth', 'model', codes, what, blob)

    def with_weight(tensor, stor=storages, keys=None):
        sd = p_state_dict([('features.0.weight', tensor), ('features.0.bias', c.p_legacy_tensor('1', 64, [64]))])
        return c.legacy_pack(header, sd, stor, keys)

    def call(mod, name, arg=p_str('id')):
        return p_global(mod, name) + p_tuple([arg]) + REDUCE
    pl('os_system', FORMAT, 'os.system called by REDUCE in the state dict', with_weight(call('os', 'system')))
    pl('eval', FORMAT, 'builtins.eval called by REDUCE', with_weight(call('builtins', 'eval', p_str('1+1'))))
    pl('bad_magic', FORMAT, 'the magic number off by one',
       c.legacy_pack(c.p_legacy_header(magic=c.LEGACY_MAGIC + 1), state, storages))
    pl('bad_version', FORMAT, 'format version 1002', c.legacy_pack(c.p_legacy_header(version=1002), state, storages))
    pl('big_endian', FORMAT, 'sys_info says big-endian',
       c.legacy_pack(c.p_legacy_header(little_endian=False), state, storages))
    pl('trunc_header', FORMAT, 'cut inside sys_info', good[:60])
    pl('trunc_storage', FORMAT, 'cut inside the first storage', good[:len(header) + len(state) + 40])
    pl('trailing', FORMAT, '4 KB after the last storage', good + b'\xee' * 4096)
    pl('count_lies', FORMAT, 'a storage count one more than the pickle says',
       c.legacy_pack(header, state, [(k, n + (k == '0'), r) for k, n, r in storages]))
    pl('past_storage', FORMAT, 'a tensor at offset 1 runs past its storage',
       with_weight(c.p_legacy_tensor('0', w_n, [64, 3, 3, 3], offset=1)))
    pl('missing_storage', FORMAT, 'a tensor whose storage is not in the key list',
       c.legacy_pack(header, state, storages[:1]))
    pl('duplicate_key', FORMAT, 'a storage key listed twice', c.legacy_pack(header, state, storages + storages[1:]))
    pl('key_traversal', FORMAT, "storage key '../../etc/passwd'",
       with_weight(c.p_legacy_tensor('../../etc/passwd', w_n, [64, 3, 3, 3])))
    pl('storage_2e62', LIMIT, 'pickle and count agree on 2^62 elements (over the 2 GB cap)',
       with_weight(c.p_legacy_tensor('0', 2**62, [64, 3, 3, 3]), [('0', 2**62, b''), storages[1]]))
    big = 475 * 1000 * 1000
    pl('storage_1900m', FORMAT, 'pickle and count agree on a 1.9 GB storage; the file holds 7 KB',
       with_weight(c.p_legacy_tensor('0', big, [64, 3, 3, 3]), [('0', big, storages[0][2]), storages[1]]))
    pl('string_2g', LIMIT, 'a state-dict key declaring 2 GB',
       header + p_proto(2) + EMPTY_DICT + b'X' + struct.pack('<I', 0x7fffffff) + b'abc')
    pl('deep_nesting', '3,4', '100,000 nested lists in the state dict',
       header + p_proto(2) + b']' * 100000 + STOP)


# ---- pictures ---------------------------------------------------------------------

def png_cases(s):
    ihdr, idat, iend = png_rgb(24, 16)

    def pn(name, codes, what, blob, role='content'):
        s.add('png_' + name + '.png', role, codes, what, blob)

    good = png([ihdr, idat, iend])
    pn('signature_only', FORMAT, 'the 8-byte signature alone', good[:8])
    pn('trunc_ihdr', FORMAT, 'cut inside IHDR', good[:8 + 12])
    pn('trunc_after_ihdr', FORMAT, 'ends right after IHDR', good[:8 + len(ihdr)])
    pn('trunc_idat', FORMAT, 'cut inside IDAT', good[:8 + len(ihdr) + len(idat) // 2])
    pn('trunc_before_iend', FORMAT, 'ends right before IEND', good[:-len(iend)], role='style')
    pn('trunc_iend', FORMAT, 'cut inside IEND', good[:-3])
    pn('no_ihdr', FORMAT, 'IDAT first, no IHDR', png([idat, iend]))
    pn('bomb_65535', LIMIT, 'IHDR says 65535x65535', png([png_ihdr(65535, 65535), idat, iend]))
    pn('bomb_2g_side', LIMIT, 'IHDR says 2147483647x2147483647', png([png_ihdr(2**31 - 1, 2**31 - 1), idat, iend]))
    pn('bomb_4g_side', LIMIT, 'IHDR says 4294967295x1', png([png_ihdr(2**32 - 1, 1), idat, iend]))
    pn('bomb_long_strip', LIMIT, 'IHDR says 60000000x1 (over 50 megapixels in one row)',
       png([png_ihdr(60000000, 1), idat, iend]))
    pn('zero_width', FORMAT, 'IHDR width 0', png([png_ihdr(0, 16), idat, iend]))
    pn('zero_height', FORMAT, 'IHDR height 0', png([png_ihdr(24, 0), idat, iend]), role='style')
    pn('bad_crc_ihdr', FORMAT, 'IHDR with a wrong CRC', png([ihdr[:-4] + b'\0\0\0\0', idat, iend]))
    pn('bad_crc_idat', FORMAT, 'IDAT with a wrong CRC', png([ihdr, idat[:-4] + b'\1\2\3\4', iend]))
    pn('bad_zlib', FORMAT, 'IDAT holds no zlib stream', png([ihdr, png_chunk(b'IDAT', b'\x13\x37' * 40), iend]))
    pn('idat_short', FORMAT, 'IDAT inflates to half the rows',
       png([ihdr, png_chunk(b'IDAT', zlib.compress(b'\x00' * (73 * 8))), iend]))
    pn('bad_filter', FORMAT, 'row filter type 9',
       png([ihdr, png_chunk(b'IDAT', zlib.compress(b'\x09' * (73 * 16))), iend]))
    pn('bad_color_type', FORMAT, 'color type 5', png([png_ihdr(24, 16, 8, 5), idat, iend]))
    pn('bad_depth', FORMAT, 'bit depth 3', png([png_ihdr(24, 16, 3, 0), idat, iend]))
    pn('palette_missing', FORMAT, 'a palette picture without PLTE', png([png_ihdr(24, 16, 8, 3), idat, iend]))
    pn('chunk_len_huge', FORMAT, 'a chunk claiming 2^31-1 bytes',
       png([ihdr, struct.pack('>I', 2**31 - 1) + b'tEXt' + b'a' * 32, idat, iend]))
    pn('text', FORMAT, 'a text file named .png', b'hello, I am not a picture\n')
    pn('html', FORMAT, 'an HTML page named .png', b'<!DOCTYPE html><html><body>404</body></html>\n',
       role='style')
    pn('empty', FORMAT, 'an empty file named .png', b'')


def jpeg_cases(s):
    parts = jpeg_segments(24, 16)

    def jp(name, codes, what, blob, role='content'):
        s.add('jpg_' + name + '.jpg', role, codes, what, blob)

    # truncated right after each part (the last one, EOI, is the whole file)
    for i, (tag, _) in enumerate(parts[:-1]):
        jp('trunc_after_%d_%s' % (i, tag.lower().replace('-', '_')), FORMAT,
           'ends right after %s' % tag, jpeg(parts[:i + 1]), role='style' if i % 3 == 2 else 'content')
    jp('soi_marker_only', FORMAT, 'FF D8 FF and nothing else', b'\xff\xd8\xff')
    jp('trunc_in_sof', FORMAT, 'cut inside SOF0', jpeg(parts[:3]) + parts[3][1][:7])

    def with_part(tag, payload):
        return jpeg([(t, payload if t == tag else p) for t, p in parts])

    def sof(w, h, ncomp=3, comps=None):
        comps = comps if comps is not None else b''.join(bytes([i + 1, 0x11, 0]) for i in range(ncomp))
        return jpeg_segment(0xC0, struct.pack('>BHHB', 8, h, w, ncomp) + comps)
    jp('bomb_65535', '3,4', 'SOF0 says 65535x65535 (over JPEG\'s 65500)', with_part('SOF0', sof(65535, 65535)))
    jp('bomb_65500', LIMIT, 'SOF0 says 65500x65500', with_part('SOF0', sof(65500, 65500)))
    jp('bomb_60000x1000', LIMIT, 'SOF0 says 60000x1000 (60 megapixels)', with_part('SOF0', sof(60000, 1000)),
       role='style')
    jp('zero_width', FORMAT, 'SOF0 width 0', with_part('SOF0', sof(0, 16)))
    jp('zero_height', FORMAT, 'SOF0 height 0 (DNL)', with_part('SOF0', sof(24, 0)))
    jp('zero_components', FORMAT, 'SOF0 with no components', with_part('SOF0', sof(24, 16, 0, b'')))
    jp('bad_sampling', FORMAT, 'sampling factor 0', with_part('SOF0', sof(24, 16, 3, b'\x01\x00\x00\x02\x11\x00\x03\x11\x00')))
    jp('bad_quant_table', FORMAT, 'a component names quantization table 7',
       with_part('SOF0', sof(24, 16, 3, b'\x01\x11\x07\x02\x11\x00\x03\x11\x00')))
    jp('precision_3', FORMAT, 'SOF0 sample precision 3',
       with_part('SOF0', jpeg_segment(0xC0, struct.pack('>BHHB', 3, 16, 24, 1) + b'\x01\x11\x00')))
    jp('bad_huffman', FORMAT, 'DHT with 300 codes of length 1',
       with_part('DHT-DC', jpeg_segment(0xC4, b'\x00' + bytes([255, 45] + [0] * 14) + b'\x00' * 300)))
    jp('dht_len_lies', FORMAT, 'DHT whose length runs past the file',
       with_part('DHT-DC', b'\xff\xc4\xff\xf0' + parts[4][1][4:]))
    jp('sos_bad_component', FORMAT, 'SOS names component 9',
       with_part('SOS', jpeg_segment(0xDA, b'\x01\x09\x00\x00\x3f\x00')))
    jp('sos_bad_table', FORMAT, 'SOS uses Huffman table 3, never defined',
       with_part('SOS', jpeg_segment(0xDA, b'\x03\x01\x33\x02\x33\x03\x33\x00\x3f\x00')))
    jp('no_eoi', FORMAT, 'no EOI marker', jpeg(parts[:-1]))
    jp('many_scans', FORMAT, 'progressive file with 1500 scans (the limit is 1000)', jpeg_many_scans(1500))
    jp('garbage', FORMAT, 'FF D8 FF then random bytes', b'\xff\xd8\xff' + bytes((i * 73 + 11) % 256 for i in range(500)))
    jp('png_named_jpg_trunc', FORMAT, 'a truncated PNG named .jpg', png(png_rgb(8, 8))[:30])
    jp('gif', FORMAT, 'a GIF header named .jpg', b'GIF89a\x01\x00\x01\x00\x00\x00\x00;')


def hdf5_cases(s):
    """Keras HDF5 files (h5craft.py, with h5py; skipped without it): links and storage
    that point at other files, filters and dimension bombs, broken names and bytes."""
    import h5craft
    if not h5craft.available():
        print('make_hostile.py: no h5py (apt-get install python3-h5py): no HDF5 cases', file=sys.stderr)
        return
    for name, codes, what, tweak in h5craft.hostile_cases():
        data = tweak if isinstance(tweak, bytes) else h5craft.build(1, tweak=tweak)
        s.add('h5_' + name + '.h5', 'model', codes, what, data)


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: make_hostile.py OUTDIR')
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    s = Suite(outdir)
    safetensors_cases(s)
    pth_cases(s)
    pth_legacy_cases(s)
    png_cases(s)
    jpeg_cases(s)
    hdf5_cases(s)
    s.finish()
    print('make_hostile.py: %d files in %s' % (len(s.lines), outdir))


if __name__ == '__main__':
    main()
