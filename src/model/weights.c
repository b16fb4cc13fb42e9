// weights.c: a VGG's conv weights from a safetensors, torch .pth or Keras HDF5 file.
// The layer table comes from the tensors' `features` indices (layout.c); every tensor
// is checked against the layer before it and for NaN/Inf before the caller sees it.
#include "model/weights.h"
#include "model/hdf5.h"
#include "model/pth.h"
#include "model/safetensors.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const nsti_input_norm nsti_norm_caffe = {
    .bgr = 1, .scale = 1.0f, .mean = {103.939f, 116.779f, 123.68f}, .std = {1.0f, 1.0f, 1.0f},
    .name = "caffe"};
const nsti_input_norm nsti_norm_torchvision = {
    .bgr = 0, .scale = 1.0f / 255.0f, .mean = {0.485f, 0.456f, 0.406f},
    .std = {0.229f, 0.224f, 0.225f}, .name = "torchvision"};

// The tensors of either format behind one small interface.
typedef struct source {
    nsti_st_file *st;
    nsti_pth_file *pth;
    nsti_h5_file *h5;
} source;

static int src_count(const source *s) {
    return s->h5 ? nsti_h5_count(s->h5) : s->st ? nsti_st_count(s->st) : nsti_pth_count(s->pth);
}
static const char *src_name(const source *s, int i) {
    return s->h5 ? nsti_h5_name(s->h5, i) : s->st ? nsti_st_name(s->st, i) : nsti_pth_name(s->pth, i);
}
static const char *src_dtype(const source *s, const char *name) {
    return s->h5 ? nsti_h5_dtype(s->h5, name) : s->st ? nsti_st_dtype(s->st, name) : nsti_pth_dtype(s->pth, name);
}
static int src_read(source *s, const char *name, float **d, int64_t shape[8], int *ndim,
                    nst_error *err) {
    if (s->h5) return nsti_h5_read_f32(s->h5, name, d, shape, ndim, err);
    return s->st ? nsti_st_read_f32(s->st, name, d, shape, ndim, err)
                 : nsti_pth_read_f32(s->pth, name, d, shape, ndim, err);
}

// Sniffs the format: a zip (torch.save since 1.6) or else safetensors.
static int is_zip(const char *path, nst_error *err, int *zip) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[24] = {0};
    size_t n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    // A zip (a local file header, or the end record of an empty archive, so that the
    // zip reader says what is wrong with it), or torch.save's pre-1.6 format: a bare
    // pickle of the magic number, PROTO then LONG1 of 10 bytes (as a safetensors
    // header length that would be 177 MB, so never valid). nsti_pth_open reads both.
    *zip = nsti_pth_sniff(head, n) != 0;
    return NST_OK;
}

enum { KEY_CONV, KEY_IGNORED, KEY_UNKNOWN };

// "features.N.weight", "N.bias", ...: sets N and whether it is a bias.
static int classify(const char *name, int *feature, int *is_bias) {
    if (strncmp(name, "classifier.", 11) == 0) return KEY_IGNORED;
    const char *k = strncmp(name, "features.", 9) == 0 ? name + 9 : name;
    int n = 0, digits = 0;
    while (*k >= '0' && *k <= '9' && digits < 3) n = n * 10 + (*k++ - '0'), digits++;
    if (!digits || (digits > 1 && k[-digits] == '0') || *k++ != '.') return KEY_UNKNOWN;
    if (strcmp(k, "weight") == 0) *is_bias = 0;
    else if (strcmp(k, "bias") == 0) *is_bias = 1;
    else return KEY_UNKNOWN;
    *feature = n;
    return KEY_CONV;
}

static void shape_str(char *out, size_t cap, const int64_t *shape, int ndim) {
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(out + len, cap - len, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (len < cap) snprintf(out + len, cap - len, "]");
}

// Reads conv layer i's weight or bias, checking its shape against the layer before
// (its input channels are that layer's outputs, 3 for the first) and its values;
// *out is malloc'd. A weight sets layer[i].cin/cout, which its bias must match.
#define MAX_CHANNELS 65536
static int read_tensor(source *s, const char *path, const char *name, nsti_vgg_weights *w, int i, int is_bias,
                       float **out, nst_error *err) {
    nsti_conv_layer *l = &w->layer[i];
    int64_t shape[8];
    int ndim, cin = i ? w->layer[i - 1].cout : 3;
    float *d;
    int rc = src_read(s, name, &d, shape, &ndim, err);
    if (rc != NST_OK) return rc;
    char got[128];
    shape_str(got, sizeof got, shape, ndim);
    int ok = is_bias ? ndim == 1 && shape[0] == l->cout
                     : ndim == 4 && shape[0] >= 1 && shape[0] <= MAX_CHANNELS && shape[1] == cin && shape[2] == 3 &&
                           shape[3] == 3;
    if (!ok) {
        free(d);
        if (is_bias)
            return nsti_fail(err, NST_ERR_MODEL, "%s: tensor %s: shape %s, but %s has %d outputs: [%d]", path, name, got,
                            l->name, l->cout, l->cout);
        return nsti_fail(err, NST_ERR_MODEL,
                        "%s: tensor %s: shape %s, but %s needs [out, %d, 3, 3]: 3x3 kernels on %d input channels (%s%s)",
                        path, name, got, l->name, cin, cin, i ? w->layer[i - 1].name : "the picture's RGB",
                        i ? "'s outputs" : "");
    }
    if (!is_bias) l->cin = cin, l->cout = (int)shape[0];
    size_t n = is_bias ? (size_t)l->cout : (size_t)l->cout * cin * 9;
    for (size_t k = 0; k < n; k++)
        if (!isfinite(d[k])) {
            float v = d[k];
            free(d);
            return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: element %zu is %s", path, name, k,
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
    const nsti_input_norm *norm;
    float bias0[16];
} known[] = {
    {"the Caffe-trained VGG19 (Simonyan & Zisserman)", &nsti_norm_caffe,
     {0.730177581f, 0.0649362877f, 0.0342884697f, 0.826038599f, 0.257802904f, 0.54867655f, -0.0124385431f,
      0.347899437f, 0.551087081f, 0.0629714504f, 0.606990576f, 0.267031223f, 0.649414003f, 0.170736551f,
      0.477230906f, 0.382505864f}},
};

static const struct known_weights *recognise(const nsti_vgg_weights *w) {
    if (w->layer[0].cout < 16) return NULL;
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
static int read_norm(nsti_vgg_weights *w, const nsti_st_file *st, const char *format, const char *path,
                     nst_error *err) {
    w->norm = nsti_norm_torchvision;
    const char *in = st ? nsti_st_metadata(st, "input") : NULL;
    if (!in) {
        const struct known_weights *k = recognise(w);
        if (k) {
            w->norm = *k->norm;
            snprintf(w->norm_reason, sizeof w->norm_reason, "known weights: conv1_1 is %s's", k->name);
        } else if (strcmp(format, "Keras HDF5") == 0) {
            w->norm = nsti_norm_caffe;
            snprintf(w->norm_reason, sizeof w->norm_reason, "a Keras HDF5 file: Keras' VGG weights take Caffe input");
        } else {
            snprintf(w->norm_reason, sizeof w->norm_reason,
                     "a %s file without metadata and unknown weights: taken as torchvision's", format);
        }
        return NST_OK;
    }
    if (strncmp(in, "caffe", 5) == 0) w->norm = nsti_norm_caffe;
    else if (strncmp(in, "torchvision", 11) == 0) w->norm = nsti_norm_torchvision;
    else
        return nsti_fail(err, NST_ERR_FORMAT, "%s: unknown input convention '%s' (caffe or torchvision)",
                        path, in);
    w->norm_from_metadata = 1;
    snprintf(w->norm_reason, sizeof w->norm_reason, "the file's metadata (input: %.120s)", in);
    const char *mean_bgr = nsti_st_metadata(st, "mean_bgr"), *mean = nsti_st_metadata(st, "mean");
    const char *std = nsti_st_metadata(st, "std");
    float v[3];
    if (mean_bgr) {
        if (parse3(mean_bgr, v))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: metadata mean_bgr '%s' is not three numbers", path, mean_bgr);
        for (int c = 0; c < 3; c++) w->norm.mean[c] = w->norm.bgr ? v[c] : v[2 - c];
    }
    if (mean) {
        if (parse3(mean, v))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: metadata mean '%s' is not three numbers", path, mean);
        memcpy(w->norm.mean, v, sizeof v);
    }
    if (std) {
        if (parse3(std, v) || !(v[0] > 0 && v[1] > 0 && v[2] > 0))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: metadata std '%s' is not three positive numbers",
                            path, std);
        memcpy(w->norm.std, v, sizeof v);
    }
    return NST_OK;
}

int nsti_weights_set_input(nsti_vgg_weights *w, const char *convention, nst_error *err) {
    if (strcmp(convention, "caffe") == 0) w->norm = nsti_norm_caffe;
    else if (strcmp(convention, "torchvision") == 0) w->norm = nsti_norm_torchvision;
    else return nsti_fail(err, NST_ERR_USAGE, "unknown input convention '%s' (caffe or torchvision)", convention);
    snprintf(w->norm_reason, sizeof w->norm_reason, "set by the caller (--model-input %s)", convention);
    return NST_OK;
}

// A conv layer's tensors, by `features` index.
typedef struct conv_names {
    int feature;
    const char *name[2];   // [0: weight, 1: bias]
} conv_names;

static int by_feature(const void *a, const void *b) {
    return ((const conv_names *)a)->feature - ((const conv_names *)b)->feature;
}

// Groups the tensors into conv layers, in order, and derives the layer table.
static int index_tensors(const source *s, const char *path, conv_names *convs, nsti_vgg_weights *w, nst_error *err) {
    int n = 0;
    for (int i = 0; i < src_count(s); i++) {
        const char *name = src_name(s, i);
        int feature = 0, is_bias = 0, k = 0;
        int kind = classify(name, &feature, &is_bias);
        if (kind == KEY_IGNORED) continue;
        if (kind == KEY_UNKNOWN)
            return nsti_fail(err, NST_ERR_MODEL, "%s: unexpected tensor %s (not a VGG conv layer)", path, name);
        while (k < n && convs[k].feature != feature) k++;
        if (k == n) {
            if (n == NST_MAX_CONVS)
                return nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d conv layers", path, NST_MAX_CONVS);
            convs[n++] = (conv_names){feature, {NULL, NULL}};
        }
        if (convs[k].name[is_bias])
            return nsti_fail(err, NST_ERR_MODEL, "%s: tensors %s and %s are the same parameter", path,
                            convs[k].name[is_bias], name);
        convs[k].name[is_bias] = name;
    }
    if (n == 0) return nsti_fail(err, NST_ERR_MODEL, "%s: no VGG conv layers (features.0.weight is missing)", path);
    qsort(convs, (size_t)n, sizeof *convs, by_feature);
    int feature[NST_MAX_CONVS], bad = 0;
    for (int i = 0; i < n; i++) feature[i] = convs[i].feature;
    if (nsti_layout_from_features(w->layer, feature, n, &bad)) {
        if (bad == 0) return nsti_fail(err, NST_ERR_MODEL, "%s: features.0.weight (conv1_1) is missing", path);
        const nsti_conv_layer *prev = &w->layer[bad - 1];
        return nsti_fail(err, NST_ERR_MODEL,
                        "%s: %s follows features.%d.weight (%s): a VGG's next conv is features.%d (conv%d_%d) "
                        "or, after a pooling, features.%d (conv%d_1)", path,
                        convs[bad].name[0] ? convs[bad].name[0] : convs[bad].name[1], prev->feature, prev->name, prev->feature + 2, prev->block, prev->sub + 1, prev->feature + 3, prev->block + 1);
    }
    for (int i = 0; i < n; i++) {
        int has_weight = convs[i].name[0] != NULL;
        if (!convs[i].name[0] || !convs[i].name[1])
            return nsti_fail(err, NST_ERR_MODEL, "%s: %s has a %s but no %s (features.%d.%s)", path, w->layer[i].name,
                            has_weight ? "weight" : "bias", has_weight ? "bias" : "weight", convs[i].feature,
                            has_weight ? "bias" : "weight");
    }
    w->n_conv = n;
    return NST_OK;
}

static int load(nsti_vgg_weights *w, source *s, const char *path, nst_error *err) {
    conv_names convs[NST_MAX_CONVS];
    int rc = index_tensors(s, path, convs, w, err);
    if (rc != NST_OK) return rc;
    snprintf(w->dtype, sizeof w->dtype, "%s", src_dtype(s, convs[0].name[0]));
    for (int i = 0; i < w->n_conv && rc == NST_OK; i++) {
        rc = read_tensor(s, path, convs[i].name[0], w, i, 0, &w->weight[i], err);
        if (rc == NST_OK) rc = read_tensor(s, path, convs[i].name[1], w, i, 1, &w->bias[i], err);
    }
    if (rc != NST_OK) return rc;
    return read_norm(w, s->st, s->st ? "safetensors" : s->pth ? nsti_pth_format(s->pth) : "Keras HDF5", path, err);
}

int nsti_weights_load(nsti_vgg_weights *w, const char *path, nst_error *err) {
    memset(w, 0, sizeof *w);
    int zip = 0;
    int rc = is_zip(path, err, &zip);
    if (rc != NST_OK) return rc;
    source s = {0};
    if (nsti_h5_sniff(path)) rc = nsti_h5_open(&s.h5, path, err);   // Keras
    else rc = zip ? nsti_pth_open(&s.pth, path, err) : nsti_st_open(&s.st, path, err);
    if (rc == NST_OK) rc = load(w, &s, path, err);
    nsti_st_close(s.st);
    nsti_pth_close(s.pth);
    nsti_h5_close(s.h5);
    if (rc != NST_OK) nsti_weights_free(w);
    return rc;
}

void nsti_weights_free(nsti_vgg_weights *w) {
    if (!w) return;
    for (int i = 0; i < NST_MAX_CONVS; i++) {
        free(w->weight[i]);
        free(w->bias[i]);
    }
    memset(w, 0, sizeof *w);
}
