// hdf5.c: Keras HDF5 weight files, read through libhdf5.
//
// The file is walked the way Keras loads it: the layer_names attribute lists the
// layers, each layer group's weight_names lists its datasets, kernel first. Only
// layers named blockB_convC are opened; everything else is ignored unread.
//
// A weight file must never make nst read another file or run code, so every link is
// checked before it is followed (hard links only), datasets with external storage or
// virtual layouts are refused, and filter plugins are never loaded. Shapes are checked
// (3x3 kernels; the data no larger than the file, as no compression is allowed) before
// anything is allocated; weights.c checks channels against the layer before. Debian's libhdf5 is built
// without thread safety: every call into it holds one mutex.
#include "model/hdf5.h"
#include <stdio.h>
#include <string.h>

int nsti_h5_sniff(const char *path) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    unsigned char buf[2048 + 8];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    for (size_t at = 0; at + 8 <= n; at = at ? at * 2 : 512)  // 0, 512, 1024, 2048
        if (memcmp(buf + at, sig, 8) == 0) return 1;
    return 0;
}

#ifndef NST_HAVE_HDF5

int nsti_h5_open(nsti_h5_file **out, const char *path, nst_error *err) {
    *out = NULL;
    return nsti_fail(err, NST_ERR_FORMAT,
                    "%s: an HDF5 (Keras) file, but HDF5 support not built in (install libhdf5-dev and rebuild)",
                    path);
}
void nsti_h5_close(nsti_h5_file *f) { (void)f; }
int nsti_h5_count(const nsti_h5_file *f) { (void)f; return 0; }
const char *nsti_h5_name(const nsti_h5_file *f, int i) { (void)f; (void)i; return NULL; }
const char *nsti_h5_dtype(const nsti_h5_file *f, const char *name) { (void)f; (void)name; return NULL; }
int nsti_h5_read_f32(nsti_h5_file *f, const char *name, float **data, int64_t shape[8], int *ndim,
                    nst_error *err) {
    (void)f; (void)shape; (void)ndim;
    *data = NULL;
    return nsti_fail(err, NST_ERR_FORMAT, "HDF5 support not built in (tensor %s)", name);
}

#else

#include "model/dtype.h"
#include "model/weights.h"
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>

#define H5_MAX_LAYERS 1024     // VGG19 with its top has 26 layers
#define H5_MAX_NAME 256        // bytes in one layer or weight name
#define H5_MAX_PARTS 4         // "/"-separated parts of a weight name (tf.keras: 2)
#define H5_MAX_TENSORS 64      // two per conv, and room for duplicates to be reported
#define H5_ATTR_PARTS 16       // Keras splits big attributes into layer_names0, 1, ...
#define H5_MAX_CHUNK ((hsize_t)64 << 20)
#define H5_MAX_CHANNELS 65536

enum { DT_F32, DT_F16, DT_F64 };
static const char *const dt_names[] = {"F32", "F16", "F64"};
static const int dt_size[] = {4, 2, 8};

typedef struct h5_tensor {
    char name[40];     // "features.34.weight"
    char where[640];   // the dataset's HDF5 path, for messages
    hid_t dset, htype;   // the dataset and its stored type
    int feature, is_bias, dtype;
    size_t cin, cout;   // from the dataset's shape: (3, 3, cin, cout), or (cout) for a bias
} h5_tensor;

struct nsti_h5_file {
    char *path;
    hsize_t bytes;   // the file's size: no dataset holds more (nothing is compressed)
    hid_t file, lapl;
    h5_tensor t[H5_MAX_TENSORS];
    int n;
};

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

// Takes the lock; the first time, silences HDF5's error printing and turns off
// plugin loading (a filter id in a file could otherwise make HDF5 dlopen a library).
static void h5_enter(void) {
    static int ready;
    pthread_mutex_lock(&h5_lock);
    if (!ready) {
        H5open();
        H5PLset_loading_state(0);
        ready = 1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    H5Eclear2(H5E_DEFAULT);
}
static void h5_leave(void) { pthread_mutex_unlock(&h5_lock); }

// The innermost HDF5 error ("truncated file: eof = ..."), cleaned up to one line.
static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data) {
    char *out = data;
    if (n == 0 && e->desc) {
        snprintf(out, 160, "%s", e->desc);
        for (char *p = out; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
    }
    return 0;
}
static const char *h5_why(char buf[160]) {
    snprintf(buf, 160, "unknown HDF5 error");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
    return buf;
}

// External links are refused before they are followed; this callback makes sure
// HDF5 itself never opens one either.
static herr_t deny_elink(const char *parent_file, const char *parent_group, const char *child_file,
                         const char *child_obj, unsigned *flags, hid_t fapl, void *data) {
    (void)parent_file; (void)parent_group; (void)child_file; (void)child_obj;
    (void)flags; (void)fapl; (void)data;
    return -1;
}

static void drop(hid_t id) {
    if (id >= 0) H5Idec_ref(id);
}

void nsti_h5_close(nsti_h5_file *f) {
    if (!f) return;
    h5_enter();
    for (int i = 0; i < f->n; i++) {
        drop(f->t[i].htype);
        drop(f->t[i].dset);
    }
    drop(f->lapl);
    drop(f->file);
    h5_leave();
    free(f->path);
    free(f);
}

// Follows link `name` of group g, which must be a hard link to a group (group=1) or
// a dataset. `where` is the link's full path, for messages.
static int open_link(nsti_h5_file *f, hid_t g, const char *name, int group, const char *where,
                     hid_t *out, nst_error *err) {
    char why[160];
    *out = H5I_INVALID_HID;
    if (!*name || !strcmp(name, ".") || strchr(name, '/'))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s: bad link name '%s'", f->path, where, name);
    htri_t exists = H5Lexists(g, name, f->lapl);
    if (exists < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s: cannot look up: %s", f->path, where, h5_why(why));
    if (!exists) return nsti_fail(err, NST_ERR_MODEL, "%s: %s does not exist", f->path, where);
    H5L_info_t li;
    if (H5Lget_info(g, name, &li, f->lapl) < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s: cannot read the link: %s", f->path, where, h5_why(why));
    if (li.type == H5L_TYPE_EXTERNAL)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: %s is an external link to another file: refused (a weight file may not make nst read other files)",
                        f->path, where);
    if (li.type == H5L_TYPE_SOFT)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s is a soft link: refused (only hard links are followed)",
                        f->path, where);
    if (li.type != H5L_TYPE_HARD)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s is a user-defined link (type %d): refused", f->path,
                        where, (int)li.type);
    *out = group ? H5Gopen2(g, name, H5P_DEFAULT) : H5Dopen2(g, name, H5P_DEFAULT);
    if (*out < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: %s is not %s (HDF5: %s)", f->path, where,
                        group ? "a group" : "a dataset", h5_why(why));
    return NST_OK;
}

// Reads string attribute `attr` of obj (Keras' layer_names, weight_names; or its
// parts attr0, attr1, ... when Keras split a big one) into a malloc'd array of
// H5_MAX_NAME-byte strings. *n = -1 when there is no such attribute.
static int read_names(nsti_h5_file *f, hid_t obj, const char *attr, const char *where, char **out,
                      int *n, nst_error *err) {
    char why[160], part[64];
    *out = NULL;
    *n = -1;
    char *names = NULL;
    int total = 0, rc = NST_OK;
    for (int k = -1; k < H5_ATTR_PARTS && rc == NST_OK; k++) {
        if (k < 0) snprintf(part, sizeof part, "%s", attr);
        else snprintf(part, sizeof part, "%s%d", attr, k);
        htri_t ex = H5Aexists(obj, part);
        if (ex < 0) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: %s", f->path, where, part, h5_why(why));
            break;
        }
        if (!ex) {
            if (k < 0) continue;   // not there whole: maybe in parts
            break;
        }
        hid_t a = H5Aopen(obj, part, H5P_DEFAULT), type = -1, space = -1, mem = -1;
        if (a >= 0) type = H5Aget_type(a), space = H5Aget_space(a);
        if (a < 0 || type < 0 || space < 0) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: %s", f->path, where, part, h5_why(why));
        } else {
            int ndims = H5Sget_simple_extent_ndims(space);
            hssize_t count = H5Sget_simple_extent_npoints(space);
            size_t size = H5Tget_size(type);
            if (ndims < 0 || ndims > 1 || count < 0 || count > H5_MAX_LAYERS - total)
                rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: not a list of at most %d names",
                              f->path, where, part, H5_MAX_LAYERS);
            else if (count > 0 && H5Tget_class(type) != H5T_STRING)
                rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s is not a list of strings", f->path,
                              where, part);
            else if (count > 0 && H5Tis_variable_str(type) != 0)
                rc = nsti_fail(err, NST_ERR_FORMAT,
                              "%s: %s: attribute %s holds variable-length strings (Keras writes fixed-length ones)",
                              f->path, where, part);
            else if (count > 0 && (size == 0 || size >= H5_MAX_NAME))
                rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: names of %zu bytes (at most %d)",
                              f->path, where, part, size, H5_MAX_NAME - 1);
            else if (count > 0) {
                char *raw = malloc((size_t)count * size);
                char *grown = realloc(names, (size_t)(total + count) * H5_MAX_NAME);
                if (grown) names = grown;
                if (!raw || !grown) rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", f->path);
                else if ((mem = H5Tcopy(type)) < 0 || H5Aread(a, mem, raw) < 0)
                    rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: cannot read: %s", f->path, where,
                                  part, h5_why(why));
                for (hssize_t i = 0; rc == NST_OK && i < count; i++) {
                    char *s = names + (size_t)(total + i) * H5_MAX_NAME;
                    memcpy(s, raw + (size_t)i * size, size);
                    s[size] = 0;
                    for (char *p = s; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: attribute %s: a name holds control characters",
                                          f->path, where, part);
                            break;
                        }
                }
                free(raw);
                if (rc == NST_OK) total += (int)count;
            }
        }
        drop(mem);
        drop(space);
        drop(type);
        drop(a);
        if (*n < 0) *n = 0;
        if (k < 0) break;   // found whole: no parts
    }
    if (rc != NST_OK) {
        free(names);
        return rc;
    }
    if (*n >= 0) *n = total;
    *out = names;
    return NST_OK;
}

// "block3_conv2" -> 3 * 1000 + 2; -1 for other layers (input_1, block1_pool, fc1...).
static int layer_block_conv(const char *name) {
    int b = 0, c = 0, digits = 0;
    if (strncmp(name, "block", 5) != 0) return -1;
    name += 5;
    while (*name >= '0' && *name <= '9' && digits < 3) b = b * 10 + (*name++ - '0'), digits++;
    if (!digits || strncmp(name, "_conv", 5) != 0) return -1;
    name += 5;
    digits = 0;
    while (*name >= '0' && *name <= '9' && digits < 3) c = c * 10 + (*name++ - '0'), digits++;
    if (!digits || *name || b < 1 || c < 1) return -1;
    return b * 1000 + c;
}

// torchvision's `features` index of blockB_convC, given every conv layer the file
// names: a conv and its ReLU take 2 indices, the pooling that ends a block 1. A
// missing layer leaves a gap that weights.c reports.
static int feature_index(int bc, const int *all, int n) {
    int b = bc / 1000, c = bc % 1000, index = 0;
    for (int blk = 1; blk < b; blk++) {
        int convs = 0;
        for (int i = 0; i < n; i++) if (all[i] / 1000 == blk && all[i] % 1000 > convs) convs = all[i] % 1000;
        index += 2 * convs + 1;
    }
    return index + 2 * (c - 1);
}

// 0..2 (DT_*) for IEEE float32, float64 and half (as numpy writes it), either byte order.
static int float_kind(hid_t t) {
    if (H5Tget_class(t) != H5T_FLOAT) return -1;
    if (H5Tequal(t, H5T_IEEE_F32LE) > 0 || H5Tequal(t, H5T_IEEE_F32BE) > 0) return DT_F32;
    if (H5Tequal(t, H5T_IEEE_F64LE) > 0 || H5Tequal(t, H5T_IEEE_F64BE) > 0) return DT_F64;
    size_t spos, epos, esize, mpos, msize;
    if (H5Tget_size(t) == 2 && H5Tget_precision(t) == 16 && H5Tget_offset(t) == 0 &&
        H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos == 15 && epos == 10 &&
        esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(t) == 15 && H5Tget_norm(t) == H5T_NORM_IMPLIED)
        return DT_F16;
    return -1;
}

static void dims_str(char *out, size_t cap, const hsize_t *d, int n) {
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, i ? ", %llu" : "%llu", (unsigned long long)d[i]);
    if (len < cap) snprintf(out + len, cap - len, "]");
}

// Where the data is and how it is stored: in this file, uncompressed. A weight file
// may never make nst read another file, nor make libhdf5 inflate a chunk.
static int check_storage(const nsti_h5_file *f, const h5_tensor *t, hid_t dcpl, H5D_layout_t layout, nst_error *err) {
    const char *p = f->path, *w = t->where;
    if (layout == H5D_VIRTUAL)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: dataset %s is a virtual dataset (data mapped from other files): refused", p, w);
    if (layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED && layout != H5D_COMPACT)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: unknown storage layout %d", p, w, (int)layout);
    if (H5Pget_external_count(dcpl) != 0)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: dataset %s keeps its data in external files: refused (a weight file may not make nst read other files)",
                        p, w);
    // Shuffle and fletcher32 never grow data; deflate and the rest could inflate a
    // small chunk into gigabytes inside libhdf5, so they are refused.
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags;
        size_t nelem = 0;
        char fname[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelem, NULL, sizeof fname, fname, NULL);
        fname[sizeof fname - 1] = 0;
        for (char *c = fname; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
        if (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32)
            return nsti_fail(err, NST_ERR_FORMAT,
                            "%s: dataset %s is compressed with filter %d (%s): not supported, nst reads uncompressed weights only",
                            p, w, (int)id, fname[0] ? fname : "unknown");
    }
    return NST_OK;
}

// Checks dataset t->dset: where its data lives, its type and its shape (Keras'
// HWIO kernel or the bias), before a byte of it is read.
static int check_dataset(nsti_h5_file *f, h5_tensor *t, nst_error *err) {
    char why[160];
    const char *p = f->path, *w = t->where;
    int rc = NST_OK;
    hid_t dcpl = H5Dget_create_plist(t->dset), type = H5Dget_type(t->dset), space = H5Dget_space(t->dset);
    if (dcpl < 0 || type < 0 || space < 0) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: %s", p, w, h5_why(why));
        goto done;
    }
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if ((rc = check_storage(f, t, dcpl, layout, err))) goto done;
    t->dtype = float_kind(type);
    if (t->dtype < 0) {
        rc = nsti_fail(err, NST_ERR_FORMAT,
                      "%s: dataset %s: element type (class %d, %zu bytes) is not float32, float16 or float64", p, w,
                      (int)H5Tget_class(type), H5Tget_size(type));
        goto done;
    }
    hsize_t dims[H5S_MAX_RANK];
    int ndim = H5Sget_simple_extent_type(space) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space) : -1;
    if (ndim < 0 || H5Sget_simple_extent_dims(space, dims, NULL) != ndim) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: not a simple array", p, w);
        goto done;
    }
    // The channels are checked against the layer before by weights.c; here only the
    // form: Keras' (height, width, in, out) kernel of a 3x3 conv, or a bias vector.
    int ok = t->is_bias ? ndim == 1 && dims[0] >= 1 && dims[0] <= H5_MAX_CHANNELS
                        : ndim == 4 && dims[0] == 3 && dims[1] == 3 && dims[2] >= 1 && dims[2] <= H5_MAX_CHANNELS &&
                              dims[3] >= 1 && dims[3] <= H5_MAX_CHANNELS;
    if (!ok) {
        char got_s[128];
        dims_str(got_s, sizeof got_s, dims, ndim < 8 ? ndim : 8);
        int theano = !t->is_bias && ndim == 4 && dims[2] == 3 && dims[3] == 3;
        rc = nsti_fail(err, NST_ERR_MODEL, "%s: dataset %s: shape %s%s, but a conv %s is %s%s", p, w, got_s,
                      ndim > 8 ? "..." : "", t->is_bias ? "bias" : "kernel",
                      t->is_bias ? "[out]" : "[3, 3, in, out] (Keras' height, width, in, out)",
                      theano ? ": this is Theano's channels-first order, use a tf_dim_ordering file" : "");
        goto done;
    }
    hsize_t need = (hsize_t)dt_size[t->dtype];
    for (int i = 0; i < ndim; i++) need *= dims[i];
    if (need > f->bytes) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: %llu bytes of data, but the file has %llu", p, w,
                      (unsigned long long)need, (unsigned long long)f->bytes);
        goto done;
    }
    t->cin = t->is_bias ? 0 : (size_t)dims[2];
    t->cout = t->is_bias ? (size_t)dims[0] : (size_t)dims[3];
    if (layout == H5D_CHUNKED) {
        hsize_t chunk[H5S_MAX_RANK], bytes = (hsize_t)dt_size[t->dtype];
        int cr = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
        for (int i = 0; i < cr && i < H5S_MAX_RANK && bytes <= H5_MAX_CHUNK; i++)
            bytes = chunk[i] && bytes <= H5_MAX_CHUNK / chunk[i] ? bytes * chunk[i] : H5_MAX_CHUNK + 1;
        if (cr != ndim || bytes > H5_MAX_CHUNK) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: bad chunk shape", p, w);
            goto done;
        }
    }
    // Data never written would read back as fill values: a file without weights.
    H5D_space_status_t st;
    if (H5Dget_space_status(t->dset, &st) < 0 || st == H5D_SPACE_STATUS_NOT_ALLOCATED) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: no data stored (never written)", p, w);
        goto done;
    }
#if H5_VERSION_GE(1, 10, 5)
    if (layout == H5D_CHUNKED && st != H5D_SPACE_STATUS_ALLOCATED) {   // some chunks may be missing
        hsize_t chunk[4], have = 0, need = 1;
        H5Pget_chunk(dcpl, 4, chunk);
        for (int i = 0; i < ndim; i++) need *= (dims[i] + chunk[i] - 1) / chunk[i];
        if (H5Dget_num_chunks(t->dset, space, &have) < 0 || have != need) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: %llu of its %llu chunks stored", p, w,
                          (unsigned long long)have, (unsigned long long)need);
            goto done;
        }
    }
#endif
    t->htype = type;   // kept for reading
    type = H5I_INVALID_HID;
done:
    drop(space);
    drop(type);
    drop(dcpl);
    return rc;
}

// Opens weight `wname` ("kernel:0", "block1_conv1/kernel:0") of layer group lg,
// one hard link at a time, and checks it.
static int open_weight(nsti_h5_file *f, hid_t lg, const char *lwhere, const char *wname, int feature,
                       int is_bias, nst_error *err) {
    if (f->n == H5_MAX_TENSORS)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: more than %d conv weights", f->path, H5_MAX_TENSORS);
    h5_tensor *t = &f->t[f->n];
    memset(t, 0, sizeof *t);
    t->dset = t->htype = H5I_INVALID_HID;
    t->feature = feature;
    t->is_bias = is_bias;
    snprintf(t->name, sizeof t->name, "features.%d.%s", feature, is_bias ? "bias" : "weight");
    snprintf(t->where, sizeof t->where, "%s/%s", lwhere, wname);
    char part[H5_MAX_NAME], where[sizeof t->where];
    const char *s = wname;
    hid_t g = lg;
    int rc = NST_OK;
    for (int k = 0; rc == NST_OK; k++) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        if (k == H5_MAX_PARTS) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: %s: weight name has more than %d parts", f->path, t->where,
                          H5_MAX_PARTS);
            break;
        }
        memcpy(part, s, len);
        part[len] = 0;
        snprintf(where, sizeof where, "%s/%.*s", lwhere, (int)(s - wname + (ptrdiff_t)len), wname);
        hid_t next;
        rc = open_link(f, g, part, slash != NULL, where, &next, err);
        if (g != lg) drop(g);
        g = H5I_INVALID_HID;
        if (rc != NST_OK) break;
        if (!slash) {
            t->dset = next;
            break;
        }
        g = next;
        s = slash + 1;
    }
    if (g != lg) drop(g);
    f->n++;   // counted even on failure, so that close releases its id
    return rc == NST_OK ? check_dataset(f, t, err) : rc;
}

// Opens the layer groups of the conv layers (blockB_convC) listed in wg's layer_names.
static int open_layers(nsti_h5_file *f, hid_t wg, const char *prefix, const char *layers, int n_layers,
                       nst_error *err) {
    int all[H5_MAX_TENSORS / 2], n_all = 0;
    for (int i = 0; i < n_layers; i++) {
        int bc = layer_block_conv(layers + (size_t)i * H5_MAX_NAME);
        if (bc < 0) continue;
        if (n_all == H5_MAX_TENSORS / 2)
            return nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d conv layers", f->path, H5_MAX_TENSORS / 2);
        all[n_all++] = bc;
    }
    int rc = NST_OK;
    for (int i = 0; i < n_layers && rc == NST_OK; i++) {
        const char *name = layers + (size_t)i * H5_MAX_NAME;
        int bc = layer_block_conv(name);
        if (bc < 0) continue;
        int feature = feature_index(bc, all, n_all);
        char where[H5_MAX_NAME + 32];
        snprintf(where, sizeof where, "%s/%s", prefix, name);
        hid_t lg;
        rc = open_link(f, wg, name, 1, where, &lg, err);
        if (rc != NST_OK) return rc;
        char *wnames = NULL;
        int nw = 0;
        rc = read_names(f, lg, "weight_names", where, &wnames, &nw, err);
        if (rc == NST_OK && nw < 0)
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: layer %s has no weight_names attribute", f->path, where);
        if (rc == NST_OK && nw > 2)
            rc = nsti_fail(err, NST_ERR_MODEL, "%s: layer %s has %d weights (a kernel and a bias expected)", f->path,
                          where, nw);
        // Keras' order: the kernel, then the bias. A missing bias is reported by weights.c.
        for (int k = 0; rc == NST_OK && k < nw; k++)
            rc = open_weight(f, lg, where, wnames + (size_t)k * H5_MAX_NAME, feature, k, err);
        free(wnames);
        drop(lg);
    }
    return rc;
}

// The group holding layer_names: the root (save_weights) or /model_weights (model.save).
static int open_weights_group(nsti_h5_file *f, hid_t root, hid_t *wg, const char **prefix, char **layers,
                              int *n, nst_error *err) {
    *wg = H5I_INVALID_HID;
    *prefix = "";
    int rc = read_names(f, root, "layer_names", "/", layers, n, err);
    if (rc != NST_OK || *n >= 0) return rc;
    htri_t mw = H5Lexists(root, "model_weights", f->lapl);
    if (mw <= 0)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: HDF5 file without Keras' layer_names attribute (at / or /model_weights): not Keras weights",
                        f->path);
    *prefix = "/model_weights";
    rc = open_link(f, root, "model_weights", 1, "/model_weights", wg, err);
    if (rc == NST_OK) rc = read_names(f, *wg, "layer_names", "/model_weights", layers, n, err);
    if (rc == NST_OK && *n < 0)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: /model_weights has no layer_names attribute: not Keras weights",
                      f->path);
    return rc;
}

static int open_file(nsti_h5_file *f, nst_error *err) {
    char why[160];
    struct stat sb;
    if (stat(f->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return nsti_fail(err, NST_ERR_IO, "%s: not a regular file", f->path);
    f->bytes = (hsize_t)sb.st_size;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    f->lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (fapl < 0 || f->lapl < 0 || H5Pset_fapl_sec2(fapl) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_elink_cb(f->lapl, deny_elink, NULL) < 0) {
        drop(fapl);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: cannot set up HDF5: %s", f->path, h5_why(why));
    }
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);   // read only: no lock to take (and none on NFS to fail)
#endif
    f->file = H5Fopen(f->path, H5F_ACC_RDONLY, fapl);
    if (f->file < 0) h5_why(why);   // before the next call clears HDF5's error stack
    drop(fapl);
    if (f->file < 0) return nsti_fail(err, NST_ERR_FORMAT, "%s: cannot open as HDF5: %s", f->path, why);
    hid_t root = H5Gopen2(f->file, "/", H5P_DEFAULT), wg = H5I_INVALID_HID;
    if (root < 0) return nsti_fail(err, NST_ERR_FORMAT, "%s: no root group: %s", f->path, h5_why(why));
    const char *prefix;
    char *layers = NULL;
    int n = 0;
    int rc = open_weights_group(f, root, &wg, &prefix, &layers, &n, err);
    if (rc == NST_OK) rc = open_layers(f, wg >= 0 ? wg : root, prefix, layers, n, err);
    free(layers);
    drop(wg);
    drop(root);
    return rc;
}

int nsti_h5_open(nsti_h5_file **out, const char *path, nst_error *err) {
    *out = NULL;
    nsti_h5_file *f = calloc(1, sizeof *f);
    size_t len = strlen(path) + 1;
    if (!f || !(f->path = malloc(len))) {
        free(f);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(f->path, path, len);
    f->file = f->lapl = H5I_INVALID_HID;
    h5_enter();
    int rc = open_file(f, err);
    h5_leave();
    if (rc != NST_OK) {
        nsti_h5_close(f);
        return rc;
    }
    *out = f;
    return NST_OK;
}

int nsti_h5_count(const nsti_h5_file *f) { return f->n; }

const char *nsti_h5_name(const nsti_h5_file *f, int i) { return i >= 0 && i < f->n ? f->t[i].name : NULL; }

static h5_tensor *find(const nsti_h5_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return (h5_tensor *)&f->t[i];
    return NULL;
}

const char *nsti_h5_dtype(const nsti_h5_file *f, const char *name) {
    const h5_tensor *t = find(f, name);
    return t ? dt_names[t->dtype] : NULL;
}

int nsti_h5_read_f32(nsti_h5_file *f, const char *name, float **data, int64_t shape[8], int *ndim,
                    nst_error *err) {
    *data = NULL;
    h5_tensor *t = find(f, name);
    if (!t) return nsti_fail(err, NST_ERR_MODEL, "%s: no tensor named %s", f->path, name);
    // check_dataset made sure of the shape: (3, 3, cin, cout) or (cout)
    size_t cin = t->cin, cout = t->cout;
    size_t n = t->is_bias ? cout : 9 * cin * cout;
    void *raw = malloc(n * (size_t)dt_size[t->dtype]);
    float *d = malloc(n * sizeof *d);
    if (!raw || !d) {
        free(raw);
        free(d);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: tensor %s: out of memory", f->path, name);
    }
    char why[160];
    h5_enter();
    hid_t mem = t->dtype == DT_F32 ? H5Tcopy(H5T_NATIVE_FLOAT) : t->dtype == DT_F64 ? H5Tcopy(H5T_NATIVE_DOUBLE)
                                                                                    : H5Tcopy(t->htype);
    // halves are read as stored, but little-endian, and widened by dtype.c
    herr_t r = mem < 0 || (t->dtype == DT_F16 && H5Tset_order(mem, H5T_ORDER_LE) < 0)
                   ? -1 : H5Dread(t->dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
    int rc = r < 0 ? nsti_fail(err, NST_ERR_FORMAT, "%s: dataset %s: cannot read: %s", f->path, t->where, h5_why(why))
                   : NST_OK;
    drop(mem);
    h5_leave();
    if (rc != NST_OK) {
        free(raw);
        free(d);
        return rc;
    }
    float *src = raw;
    if (t->dtype == DT_F16) {
        src = malloc(n * sizeof *src);
        if (src) nsti_dtype_to_f32(NST_DT_F16, raw, src, n);
    } else if (t->dtype == DT_F64) {
        src = malloc(n * sizeof *src);
        const double *v = raw;
        // out of float's range is infinity (weights.c refuses it), not undefined behaviour
        for (size_t i = 0; src && i < n; i++)
            src[i] = isfinite(v[i]) && fabs(v[i]) > FLT_MAX ? (v[i] > 0 ? INFINITY : -INFINITY) : (float)v[i];
    }
    if (!src) {
        free(raw);
        free(d);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: tensor %s: out of memory", f->path, name);
    }
    if (t->is_bias) {
        memcpy(d, src, n * sizeof *d);
        shape[0] = (int64_t)cout;
        *ndim = 1;
    } else {
        // Keras' (h, w, in, out) to torch's (out, in, h, w)
        for (size_t h = 0; h < 3; h++)
            for (size_t w = 0; w < 3; w++)
                for (size_t i = 0; i < cin; i++)
                    for (size_t o = 0; o < cout; o++)
                        // src holds all n = 9 * cin * cout values; the analyzer cannot multiply that out
                        // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
                        d[((o * cin + i) * 3 + h) * 3 + w] = src[((h * 3 + w) * cin + i) * cout + o];
        shape[0] = (int64_t)cout, shape[1] = (int64_t)cin, shape[2] = 3, shape[3] = 3;
        *ndim = 4;
    }
    for (int i = *ndim; i < 8; i++) shape[i] = 0;
    if (src != raw) free(src);
    free(raw);
    *data = d;
    return NST_OK;
}

#endif
