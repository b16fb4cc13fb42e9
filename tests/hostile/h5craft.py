"""h5craft.py: small Keras HDF5 weight files written with h5py, for the fuzz seeds
(tests/fuzz/make_corpus.py) and the hostile-input suite (make_hostile.py). Unlike
craft.py this needs h5py (Debian's python3-h5py): HDF5 is too intricate to write byte
by byte, so hostile files are made by writing a valid file and then changing it with
h5py, or by cutting its bytes. available() says whether h5py is installed."""
import os
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    h5py = None

# VGG19's first convs: (block, conv, in, out)
CONVS = [(1, 1, 3, 64), (1, 2, 64, 64), (2, 1, 64, 128), (2, 2, 128, 128)]


def available():
    return h5py is not None


def conv_name(i):
    return 'block%d_conv%d' % CONVS[i][:2]


def kernel(i, dtype='<f4'):
    """Keras' (h, w, in, out) kernel of conv i with small values."""
    b, c, cin, cout = CONVS[i]
    n = np.arange(9 * cin * cout, dtype=np.float64)
    return (np.sin(n * 0.37 + i) * 0.05).reshape(3, 3, cin, cout).astype(dtype)


def bias(i, dtype='<f4'):
    return (np.cos(np.arange(CONVS[i][3]) * 0.11 + i) * 0.1).astype(dtype)


def names(lst):
    return np.array([s.encode() for s in lst])


def write(path, n_convs=1, dtype='<f4', layout='tfkeras', tweak=None, **file_kw):
    """A valid file of the first n_convs layers in `layout`: 'keras' (Keras' release
    files: layer/layer_W_1:0), 'tfkeras' (save_weights: layer/layer/kernel:0) or
    'model' (model.save(): the same under /model_weights); then tweak(file)."""
    with h5py.File(path, 'w', **file_kw) as f:
        g = f.create_group('model_weights') if layout == 'model' else f
        layers = ['input_1'] + [conv_name(i) for i in range(n_convs)]
        g.attrs['layer_names'] = names(layers)
        g.create_group('input_1').attrs['weight_names'] = np.array([])
        for i in range(n_convs):
            ln = conv_name(i)
            lg = g.create_group(ln)
            if layout == 'keras':
                wn = ['%s_W_1:0' % ln, '%s_b_1:0' % ln]
            else:
                wn = ['%s/kernel:0' % ln, '%s/bias:0' % ln]
            lg.attrs['weight_names'] = names(wn)
            lg.create_dataset(wn[0], data=kernel(i, dtype))
            lg.create_dataset(wn[1], data=bias(i, dtype))
        if tweak:
            tweak(f)


def build(n_convs=1, dtype='<f4', layout='tfkeras', tweak=None, **file_kw):
    """write() to a temporary file; returns its bytes."""
    fd, path = tempfile.mkstemp(suffix='.h5')
    os.close(fd)
    try:
        write(path, n_convs, dtype, layout, tweak, **file_kw)
        with open(path, 'rb') as f:
            return f.read()
    finally:
        os.unlink(path)


K11 = 'block1_conv1/block1_conv1/kernel:0'
B11 = 'block1_conv1/block1_conv1/bias:0'


def replace(path, **kw):
    """A tweak: dataset `path` replaced by create_dataset(path, **kw)."""
    def fn(f):
        del f[path]
        f.create_dataset(path, **kw)
    return fn


def hostile_cases():
    """(name, codes, what, tweak-or-bytes) of the hostile suite's HDF5 files. A tweak
    changes a valid 1-layer tf.keras file; bytes are used as they are."""
    good = build(1)
    cases = []

    def add(name, what, tweak, codes='3'):
        cases.append((name, codes, what, tweak))

    def external_link(f):
        del f['block1_conv1']
        f['block1_conv1'] = h5py.ExternalLink('/etc/passwd', '/block1_conv1')
    add('external_link_passwd', 'the layer group is an external link into /etc/passwd', external_link)

    def external_link_self(f):
        del f['block1_conv1']
        f['block1_conv1'] = h5py.ExternalLink(f.filename, '/block1_conv1')
    add('external_link_self', 'the layer group is an external link back into the file itself', external_link_self)

    def external_storage(f):
        del f[K11]
        f.create_dataset(K11, shape=(3, 3, 3, 64), dtype='<f4', external=[('/etc/passwd', 0, 6912)])
    add('external_storage_passwd', 'the kernel\'s data is stored in /etc/passwd', external_storage)

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(3, 3, 3, 64), dtype='<f4')
        layout[:] = h5py.VirtualSource('/etc/passwd', '/x', shape=(3, 3, 3, 64))
        del f[K11]
        f['block1_conv1/block1_conv1'].create_virtual_dataset('kernel:0', layout)
    add('virtual_passwd', 'the kernel is a virtual dataset mapped from /etc/passwd', virtual)

    def soft_loop(f):
        del f['block1_conv1']
        f['block1_conv1'] = h5py.SoftLink('/block1_conv1')
    add('soft_link_loop', 'the layer group is a soft link to itself', soft_loop)

    def model_weights_soft(f):
        f.move('block1_conv1', 'real')
        f['block1_conv1'] = h5py.SoftLink('/real')
    add('soft_link_layer', 'the layer group is a soft link to another group', model_weights_soft)

    def deflate_bomb(f):
        import zlib
        del f[K11]
        d = f.create_dataset(K11, shape=(3, 3, 3, 64), maxshape=(3, 3, 3, None), chunks=(3, 3, 3, 64),
                             dtype='<f4', compression='gzip')
        d.id.write_direct_chunk((0, 0, 0, 0), zlib.compress(bytes(64 << 20), 9))
    add('deflate_bomb', 'a deflate chunk that inflates to 64 MB', deflate_bomb, '3,4')

    def unknown_filter(f):
        del f[K11]
        f.create_dataset(K11, data=kernel(0), chunks=(3, 3, 3, 64), compression=32001, allow_unknown_filter=True)
    add('filter_plugin', 'the kernel needs filter 32001 (a plugin nst must never load)', unknown_filter)

    add('dims_bomb', 'a kernel of 2^30 x 3 x 3 x 64, never written',
        replace(K11, shape=(1 << 30, 3, 3, 64), chunks=(1, 3, 3, 64), dtype='<f4'), '3,4')
    add('rank_9', 'a kernel with 9 dimensions', replace(K11, data=np.zeros((1,) * 7 + (27, 64), np.float32)))
    add('scalar_kernel', 'a scalar kernel', replace(K11, data=np.float32(1)))
    add('null_kernel', 'a kernel with a null dataspace', replace(K11, data=h5py.Empty('<f4')))
    add('compound_kernel', 'a kernel of compound elements',
        replace(K11, data=np.zeros((3, 3, 3, 64), dtype=[('a', '<f4'), ('b', '<i4')])))
    add('string_kernel', 'a kernel of strings', replace(K11, data=np.full((3, 3, 3, 64), b'x', dtype='S4')))
    add('unwritten_kernel', 'a kernel whose data was never written', replace(K11, shape=(3, 3, 3, 64), dtype='<f4'))
    nan = kernel(0)
    nan[2, 1, 0, 5] = np.nan
    add('nan_kernel', 'a NaN in the kernel', replace(K11, data=nan))
    add('inf_bias_f64', 'an infinite float64 bias', replace(B11, data=np.full(64, np.inf)))
    add('f64_overflow', 'a float64 bias beyond float32\'s range', replace(B11, data=np.full(64, 1e300)))

    def many_names(f):
        f.attrs['layer_names'] = names(['input_1', 'block1_conv1'] + ['x%d' % i for i in range(5000)])
    add('names_5000', 'layer_names with 5002 entries', many_names)

    def long_name(f):
        f.attrs['layer_names'] = names(['input_1', 'block1_conv1', 'y' * 5000])
    add('name_5000_bytes', 'a layer name of 5000 bytes', long_name)

    def newline_name(f):
        f.attrs['layer_names'] = names(['input_1', 'block1_conv1', 'fc1\nnst: all is well'])
    add('name_newline', 'a layer name with a newline (a forged second message line)', newline_name)

    def deep_weight(f):
        deep = 'block1_conv1/' + 'a/' * 8 + 'kernel:0'
        f['block1_conv1'].create_dataset(deep, data=kernel(0))
        f['block1_conv1'].attrs['weight_names'] = names([deep, 'block1_conv1/bias:0'])
    add('weight_name_deep', 'a weight name 10 groups deep', deep_weight)

    def absolute_weight(f):
        f['block1_conv1'].attrs['weight_names'] = names(['/' + K11, '/' + B11])
    add('weight_name_absolute', 'weight names given as absolute paths', absolute_weight)

    def layer_is_dataset(f):
        del f['block1_conv1']
        f.create_dataset('block1_conv1', data=np.zeros(3, np.float32))
    add('layer_is_dataset', 'the layer is a dataset, not a group', layer_is_dataset)

    def weight_is_group(f):
        del f[K11]
        f.create_group(K11)
    add('weight_is_group', 'the kernel is a group, not a dataset', weight_is_group)

    def names_not_strings(f):
        f.attrs['layer_names'] = np.arange(3, dtype=np.int64)
    add('names_integers', 'layer_names holds integers', names_not_strings)

    def names_2d(f):
        f.attrs['layer_names'] = np.array([[b'block1_conv1', b'x'], [b'y', b'z']])
    add('names_2d', 'layer_names is a 2x2 array', names_2d)

    # bytes cut or damaged
    for frac in (8, 100, 0.25, 0.5, 0.9):
        n = frac if isinstance(frac, int) else int(len(good) * frac)
        add('truncated_%d' % n, 'a valid file cut to %d of its %d bytes' % (n, len(good)), good[:n])
    garbage = bytes((i * 131 + 7) % 256 for i in range(4096))
    add('signature_garbage', 'the HDF5 signature, then 4 KB of noise', good[:8] + garbage)
    flipped = bytearray(good)
    for at in range(200, min(len(good), 4096), 97):   # past the superblock
        flipped[at] ^= 0x5a
    add('metadata_flipped', 'a valid file with bytes of its metadata flipped', bytes(flipped))
    sb = bytearray(good)
    sb[8] = 7    # superblock version 7
    add('superblock_v7', 'superblock version 7', bytes(sb))
    return cases
