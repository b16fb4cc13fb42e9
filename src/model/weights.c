// weights.c: VGG19 conv weights from a safetensors or torch .pth file. Every tensor
// is checked against VGG19's shapes and for NaN/Inf before the caller sees it.
#include "model/weights.h"
#include "model/hdf5.h"
#include "model/pth.h"
#include "model/safetensors.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const nst_input_norm nst_norm_caffe = {
    .bgr = 1, .scale = 1.0f, .mean = {103.939f, 116.779f, 123.68f}, .std = {1.0f, 1.0f, 1.0f},
    .name = "caffe"};
const nst_input_norm nst_norm_torchvision = {
    .bgr = 0, .scale = 1.0f / 255.0f, .mean = {0.485f, 0.456f, 0.406f},
    .std = {0.229f, 0.224f, 0.225f}, .name = "torchvision"};

// The tensors of either format behind one small interface.
typedef struct source {
    nst_st_file *st;
    nst_pth_file *pth;
    nst_h5_file *h5;
} source;

static int src_count(const source *s) {
    return s->h5 ? nst_h5_count(s->h5) : s->st ? nst_st_count(s->st) : nst_pth_count(s->pth);
}
static const char *src_name(const source *s, int i) {
    return s->h5 ? nst_h5_name(s->h5, i) : s->st ? nst_st_name(s->st, i) : nst_pth_name(s->pth, i);
}
static const char *src_dtype(const source *s, const char *name) {
    return s->h5 ? nst_h5_dtype(s->h5, name) : s->st ? nst_st_dtype(s->st, name) : nst_pth_dtype(s->pth, name);
}
static int src_read(source *s, const char *name, float **d, int64_t shape[8], int *ndim,
                    nst_error *err) {
    if (s->h5) return nst_h5_read_f32(s->h5, name, d, shape, ndim, err);
    return s->st ? nst_st_read_f32(s->st, name, d, shape, ndim, err)
                 : nst_pth_read_f32(s->pth, name, d, shape, ndim, err);
}

// Sniffs the format: a zip (torch.save since 1.6) or else safetensors.
static int is_zip(const char *path, nst_error *err, int *zip) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return nst_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[24] = {0};
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    // A zip (a local file header, or the end record of an empty archive, so that the
    // zip reader says what is wrong with it), or torch.save's pre-1.6 format: a bare
    // pickle of the magic number, PROTO then LONG1 of 10 bytes (as a safetensors
    // header length that would be 177 MB, so never valid). nst_pth_open reads both.
    *zip = nst_pth_sniff(head, n) != 0;
    return NST_OK;
}

enum { KEY_CONV, KEY_IGNORED, KEY_UNKNOWN };

// "features.N.weight", "N.bias", ...: sets the conv index and whether it is a bias.
static int classify(const char *name, int *conv, int *is_bias) {
    if (strncmp(name, "classifier.", 11) == 0) return KEY_IGNORED;
    const char *k = strncmp(name, "features.", 9) == 0 ? name + 9 : name;
    int n = 0, digits = 0;
    while (*k >= '0' && *k <= '9' && digits < 3) n = n * 10 + (*k++ - '0'), digits++;
    if (!digits || (digits > 1 && k[-digits] == '0') || *k++ != '.') return KEY_UNKNOWN;
    if (strcmp(k, "weight") == 0) *is_bias = 0;
    else if (strcmp(k, "bias") == 0) *is_bias = 1;
    else return KEY_UNKNOWN;
    for (int i = 0; i < NST_VGG_CONVS; i++)
        if (nst_vgg_feature_index(i) == n) {
            *conv = i;
            return KEY_CONV;
        }
    return KEY_UNKNOWN;
}

static void shape_str(char *out, size_t cap, const int64_t *shape, int ndim) {
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(out + len, cap - len, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (len < cap) snprintf(out + len, cap - len, "]");
}

// Reads one conv tensor, checking shape and values; *out is malloc'd.
static int read_tensor(source *s, const char *path, const char *name, int conv, int is_bias,
                       float **out, nst_error *err) {
    int64_t shape[8], want[4] = {nst_vgg_cout(conv), nst_vgg_cin(conv), 3, 3};
    int ndim, want_ndim = is_bias ? 1 : 4;
    float *d;
    int rc = src_read(s, name, &d, shape, &ndim, err);
    if (rc != NST_OK) return rc;
    int ok = ndim == want_ndim;
    for (int i = 0; ok && i < ndim; i++) ok = shape[i] == want[i];
    if (!ok) {
        char got_s[128], want_s[128];
        shape_str(got_s, sizeof got_s, shape, ndim);
        shape_str(want_s, sizeof want_s, want, want_ndim);
        free(d);
        return nst_fail(err, NST_ERR_MODEL, "%s: tensor %s: shape %s, but VGG19's %s needs %s", path,
                        name, got_s, nst_vgg_conv_name(conv), want_s);
    }
    size_t n = is_bias ? (size_t)want[0] : (size_t)(want[0] * want[1] * 9);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d[i])) {
            float v = d[i];
            free(d);
            return nst_fail(err, NST_ERR_FORMAT, "%s: tensor %s: element %zu is %s", path, name, i,
                            isnan(v) ? "NaN" : "infinite");
        }
    *out = d;
    return NST_OK;
}

// Three numbers separated by commas (optionally in brackets), e.g. "0.485,0.456,0.406".
static int parse3(const char *s, float v[3]) {
    s += strspn(s, " [");
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        v[i] = strtof(s, &end);
        if (end == s || errno || !isfinite(v[i])) return -1;
        s = end + strspn(end, " ");
        if (i < 2 && *s++ != ',') return -1;
    }
    s += strspn(s, " ]");
    return *s ? -1 : 0;
}

// Known weights, recognised by conv1_1's first 16 biases whatever the file's format:
// the Caffe-trained VGG19 of Simonyan & Zisserman, as Keras' port, jcjohnson's
// vgg19-d01eb7cb.pth and the converted copies of either hold it.
static const struct known_weights {
    const char *name;
    const nst_input_norm *norm;
    float bias0[16];
} known[] = {
    {"the Caffe-trained VGG19 (Simonyan & Zisserman)", &nst_norm_caffe,
     {0.730177581f, 0.0649362877f, 0.0342884697f, 0.826038599f, 0.257802904f, 0.54867655f, -0.0124385431f,
      0.347899437f, 0.551087081f, 0.0629714504f, 0.606990576f, 0.267031223f, 0.649414003f, 0.170736551f,
      0.477230906f, 0.382505864f}},
};

static const struct known_weights *recognise(const nst_vgg_weights *w) {
    for (size_t k = 0; k < sizeof known / sizeof *known; k++) {
        int same = 1;
        for (int i = 0; i < 16 && same; i++)   // within float16's rounding: converted copies match too
            same = fabsf(w->bias[0][i] - known[k].bias0[i]) <= 1e-3f * fabsf(known[k].bias0[i]) + 1e-6f;
        if (same) return &known[k];
    }
    return NULL;
}

// The input convention, decided in this order: the file's metadata (safetensors
// __metadata__ "input", refined by mean_bgr / mean / std); known weights; the
// format (Keras' VGG files take Caffe input; a torch.save'd file without metadata is
// taken as torchvision's, as torchvision's own models are). format names the file's
// kind for the reason given.
static int read_norm(nst_vgg_weights *w, const nst_st_file *st, const char *format, const char *path,
                     nst_error *err) {
    w->norm = nst_norm_torchvision;
    const char *in = st ? nst_st_metadata(st, "input") : NULL;
    if (!in) {
        const struct known_weights *k = recognise(w);
        if (k) {
            w->norm = *k->norm;
            snprintf(w->norm_reason, sizeof w->norm_reason, "known weights: conv1_1 is %s's", k->name);
        } else if (strcmp(format, "Keras HDF5") == 0) {
            w->norm = nst_norm_caffe;
            snprintf(w->norm_reason, sizeof w->norm_reason, "a Keras HDF5 file: Keras' VGG weights take Caffe input");
        } else {
            snprintf(w->norm_reason, sizeof w->norm_reason,
                     "a %s file without metadata and unknown weights: taken as torchvision's", format);
        }
        return NST_OK;
    }
    if (strncmp(in, "caffe", 5) == 0) w->norm = nst_norm_caffe;
    else if (strncmp(in, "torchvision", 11) == 0) w->norm = nst_norm_torchvision;
    else
        return nst_fail(err, NST_ERR_FORMAT, "%s: unknown input convention '%s' (caffe or torchvision)",
                        path, in);
    w->norm_from_metadata = 1;
    snprintf(w->norm_reason, sizeof w->norm_reason, "the file's metadata (input: %.120s)", in);
    const char *mean_bgr = nst_st_metadata(st, "mean_bgr"), *mean = nst_st_metadata(st, "mean");
    const char *std = nst_st_metadata(st, "std");
    float v[3];
    if (mean_bgr) {
        if (parse3(mean_bgr, v))
            return nst_fail(err, NST_ERR_FORMAT, "%s: metadata mean_bgr '%s' is not three numbers", path, mean_bgr);
        for (int c = 0; c < 3; c++) w->norm.mean[c] = w->norm.bgr ? v[c] : v[2 - c];
    }
    if (mean) {
        if (parse3(mean, v))
            return nst_fail(err, NST_ERR_FORMAT, "%s: metadata mean '%s' is not three numbers", path, mean);
        memcpy(w->norm.mean, v, sizeof v);
    }
    if (std) {
        if (parse3(std, v) || !(v[0] > 0 && v[1] > 0 && v[2] > 0))
            return nst_fail(err, NST_ERR_FORMAT, "%s: metadata std '%s' is not three positive numbers",
                            path, std);
        memcpy(w->norm.std, v, sizeof v);
    }
    return NST_OK;
}

int nst_weights_set_input(nst_vgg_weights *w, const char *convention, nst_error *err) {
    if (strcmp(convention, "caffe") == 0) w->norm = nst_norm_caffe;
    else if (strcmp(convention, "torchvision") == 0) w->norm = nst_norm_torchvision;
    else return nst_fail(err, NST_ERR_USAGE, "unknown input convention '%s' (caffe or torchvision)", convention);
    snprintf(w->norm_reason, sizeof w->norm_reason, "set by the caller (--model-input %s)", convention);
    return NST_OK;
}

// Maps tensor names to conv slots and works out how many layers are present.
static int index_tensors(const source *s, const char *path, const char *names[][2], int *n_conv,
                         nst_error *err) {
    for (int i = 0; i < src_count(s); i++) {
        const char *name = src_name(s, i);
        int conv = 0, is_bias = 0;
        int kind = classify(name, &conv, &is_bias);
        if (kind == KEY_IGNORED) continue;
        if (kind == KEY_UNKNOWN)
            return nst_fail(err, NST_ERR_MODEL, "%s: unexpected tensor %s (not a VGG19 conv layer)", path, name);
        if (names[conv][is_bias])
            return nst_fail(err, NST_ERR_MODEL, "%s: tensors %s and %s are the same parameter", path,
                            names[conv][is_bias], name);
        names[conv][is_bias] = name;
    }
    int k = 0;
    while (k < NST_VGG_CONVS && names[k][0]) k++;
    if (k == 0)
        return nst_fail(err, NST_ERR_MODEL, "%s: no VGG19 conv layers (features.0.weight is missing)", path);
    for (int i = k; i < NST_VGG_CONVS; i++)
        if (names[i][0] || names[i][1])
            return nst_fail(err, NST_ERR_MODEL, "%s: %s is present but %s (features.%d.weight) is missing",
                            path, names[i][0] ? names[i][0] : names[i][1], nst_vgg_conv_name(k),
                            nst_vgg_feature_index(k));
    for (int i = 0; i < k; i++)
        if (!names[i][1])
            return nst_fail(err, NST_ERR_MODEL, "%s: %s has a weight but no bias (features.%d.bias)", path,
                            nst_vgg_conv_name(i), nst_vgg_feature_index(i));
    *n_conv = k;
    return NST_OK;
}

static int load(nst_vgg_weights *w, source *s, const char *path, nst_error *err) {
    const char *names[NST_VGG_CONVS][2] = {{0}};  // [conv][0: weight, 1: bias]
    int k = 0;
    int rc = index_tensors(s, path, names, &k, err);
    if (rc != NST_OK) return rc;
    snprintf(w->dtype, sizeof w->dtype, "%s", src_dtype(s, names[0][0]));
    for (int i = 0; i < k; i++) {
        rc = read_tensor(s, path, names[i][0], i, 0, &w->weight[i], err);
        if (rc == NST_OK) rc = read_tensor(s, path, names[i][1], i, 1, &w->bias[i], err);
        if (rc != NST_OK) return rc;
    }
    w->n_conv = k;
    return read_norm(w, s->st, s->st ? "safetensors" : s->pth ? nst_pth_format(s->pth) : "Keras HDF5", path, err);
}

int nst_weights_load(nst_vgg_weights *w, const char *path, nst_error *err) {
    memset(w, 0, sizeof *w);
    int zip = 0;
    int rc = is_zip(path, err, &zip);
    if (rc != NST_OK) return rc;
    source s = {0};
    if (nst_h5_sniff(path)) rc = nst_h5_open(&s.h5, path, err);   // Keras
    else rc = zip ? nst_pth_open(&s.pth, path, err) : nst_st_open(&s.st, path, err);
    if (rc == NST_OK) rc = load(w, &s, path, err);
    nst_st_close(s.st);
    nst_pth_close(s.pth);
    nst_h5_close(s.h5);
    if (rc != NST_OK) nst_weights_free(w);
    return rc;
}

void nst_weights_free(nst_vgg_weights *w) {
    if (!w) return;
    for (int i = 0; i < NST_VGG_CONVS; i++) {
        free(w->weight[i]);
        free(w->bias[i]);
    }
    memset(w, 0, sizeof *w);
}
