// Model loading: safetensors and torch .pth files made by real torch.save
// (tests/fixtures/make_model_fixtures.py) load with exactly torch's values, and
// every hostile or broken file crafted here fails cleanly with a message naming it.
#include "testlib.h"
#include "model/dtype.h"
#include "model/safetensors.h"
#include "model/weights.h"
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

static char tmpdir[256];

// --- small helpers ---

static const char *fixture(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/%s", nst_test_fixtures(), name);
    return p;
}

static const char *tmp(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/%s", tmpdir, name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *len) { return nst_test_read_bytes(path, len); }

static float *read_floats(const char *path, size_t *n) {
    size_t len = 0;
    uint8_t *d = read_all(path, &len);
    if (d) *n = len / 4;
    // malloc'd bytes have no type of their own: reading them as floats is defined
    // cppcheck-suppress invalidPointerCast
    return (float *)d;  // and malloc'd memory is suitably aligned
}

static void write_bytes(const char *path, const void *d, size_t n) {
    FILE *fp = fopen(path, "wb");
    CHECKF(fp && fwrite(d, 1, n, fp) == n, "cannot write %s", path);
    if (fp) fclose(fp);
}

// Bitwise equality (so -0.0 and exact rounding count); reports the first difference.
static int same_bits(const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], 4) != 0) {
            CHECKF(0, "%s: element %zu is %.9g, want %.9g", what, i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static size_t weight_n(int i) { return (size_t)vgg19_cout(i) * (size_t)vgg19_cin(i) * 9; }

// w's first n layers against floats laid out w0 b0 w1 b1 ...; returns floats used.
static size_t check_layers(const nsti_vgg_weights *w, int n, const float *want, const char *what) {
    size_t at = 0;
    char label[128];
    for (int i = 0; i < n; i++) {
        snprintf(label, sizeof label, "%s %s weight", what, vgg19_name(i));
        if (w->weight[i]) same_bits(label, w->weight[i], want + at, weight_n(i));
        else CHECKF(0, "%s: no weight", label);
        at += weight_n(i);
        snprintf(label, sizeof label, "%s %s bias", what, vgg19_name(i));
        if (w->bias[i]) same_bits(label, w->bias[i], want + at, (size_t)vgg19_cout(i));
        else CHECKF(0, "%s: no bias", label);
        at += (size_t)vgg19_cout(i);
    }
    return at;
}

static int norm_equal(const nsti_input_norm *a, const nsti_input_norm *b) {
    return a->bgr == b->bgr && a->scale == b->scale && !memcmp(a->mean, b->mean, sizeof a->mean) &&
           !memcmp(a->std, b->std, sizeof a->std) && a->name && b->name && !strcmp(a->name, b->name);
}

// The load must fail with code `code` (0: any), a message naming the file and
// holding `needle`, and leave w empty.
static void expect_fail(const char *path, int code, const char *needle) {
    nst_test_weights_refused(path, code, needle);
}

static int load_ok(nsti_vgg_weights *w, const char *path) {
    nst_error err = {0, ""};
    if (nsti_weights_load(w, path, &err) != NST_OK) {
        CHECKF(0, "loading %s: %s", path, err.msg);
        return 0;
    }
    return 1;
}

// --- safetensors crafting ---

typedef struct st_tensor_spec {
    const char *name, *dtype;
    int ndim;
    int64_t shape[4];
    const float *values;  // F32 data (NULL: zeros); other dtypes get zeros
} st_tensor_spec;

// Writes tensors with consistent offsets; `meta` is a JSON object text or NULL.
static const char *write_st(const char *name, const st_tensor_spec *t, int n, const char *meta) {
    json_t *root = json_object();
    if (meta) json_object_set_new(root, "__metadata__", json_loads(meta, 0, NULL));
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        int64_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= t[i].shape[d];
        size_t bytes = (size_t)numel * (strcmp(t[i].dtype, "F32") ? 2 : 4);
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++) json_array_append_new(shape, json_integer(t[i].shape[d]));
        json_object_set_new(root, t[i].name,
                            json_pack("{s:s,s:o,s:[I,I]}", "dtype", t[i].dtype, "shape", shape,
                                      "data_offsets", (json_int_t)off, (json_int_t)(off + bytes)));
        off += bytes;
    }
    char *h = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    size_t hlen = strlen(h);
    uint8_t *buf = calloc(1, 8 + hlen + off);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, h, hlen);
    size_t at = 8 + hlen;
    for (int i = 0; i < n; i++) {
        int64_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= t[i].shape[d];
        int f32 = !strcmp(t[i].dtype, "F32");
        if (f32 && t[i].values) memcpy(buf + at, t[i].values, (size_t)numel * 4);  // little-endian host
        at += (size_t)numel * (f32 ? 4 : 2);
    }
    const char *path = tmp(name);
    write_bytes(path, buf, at);
    free(h);
    free(buf);
    return path;
}

// A raw header (any text, even broken) followed by `data_len` zero bytes.
static const char *write_st_raw(const char *name, const char *header, size_t data_len) {
    size_t hlen = strlen(header);
    uint8_t *buf = calloc(1, 8 + hlen + data_len);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(buf + 8, header, hlen);
    const char *path = tmp(name);
    write_bytes(path, buf, 8 + hlen + data_len);
    free(buf);
    return path;
}

static float w11[64 * 27], b11[64], w12[64 * 64 * 9], b12[64];

static void init_values(void) {
    for (int i = 0; i < 64 * 27; i++) w11[i] = (float)(i % 97) * 0.01f - 0.4f;
    for (int i = 0; i < 64 * 64 * 9; i++) w12[i] = (float)(i % 89) * -0.003f + 0.1f;
    for (int i = 0; i < 64; i++) b11[i] = (float)i * 0.5f, b12[i] = (float)i * -0.25f;
}

#define W11 {"features.0.weight", "F32", 4, {64, 3, 3, 3}, w11}
#define B11 {"features.0.bias", "F32", 1, {64}, b11}
#define W12 {"features.2.weight", "F32", 4, {64, 64, 3, 3}, w12}
#define B12 {"features.2.bias", "F32", 1, {64}, b12}

// --- .pth crafting: a pickle builder and a zip writer (libzip) ---

typedef struct pk {
    uint8_t b[1 << 17];
    size_t n;
} pk;

static void pk_bytes(pk *p, const void *d, size_t n) {
    if (p->n + n <= sizeof p->b) memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void pk_op(pk *p, int op) { uint8_t c = (uint8_t)op; pk_bytes(p, &c, 1); }
static void pk_u32(pk *p, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pk_bytes(p, b, 4);
}
static void pk_str(pk *p, const char *s) { pk_op(p, 'X'); pk_u32(p, (uint32_t)strlen(s)); pk_bytes(p, s, strlen(s)); }
static void pk_int(pk *p, long v) {
    if (v >= 0 && v < 256) { pk_op(p, 'K'); pk_op(p, (int)v); }
    else { pk_op(p, 'J'); pk_u32(p, (uint32_t)v); }
}
static void pk_global(pk *p, const char *module, const char *name) {
    pk_op(p, 'c');
    pk_bytes(p, module, strlen(module));
    pk_op(p, '\n');
    pk_bytes(p, name, strlen(name));
    pk_op(p, '\n');
}

typedef struct pth_tensor {
    const char *name, *storage_type, *key;
    long storage_numel, offset;
    int ndim;
    long shape[4], stride[4];
} pth_tensor;

// The pickle torch.save writes for an OrderedDict of tensors (memo ops left out).
static void pk_state_dict(pk *p, const pth_tensor *t, int n) {
    pk_op(p, 0x80); pk_op(p, 2);
    pk_global(p, "collections", "OrderedDict");
    pk_op(p, ')'); pk_op(p, 'R');
    pk_op(p, '(');
    for (int i = 0; i < n; i++) {
        pk_str(p, t[i].name);
        pk_global(p, "torch._utils", "_rebuild_tensor_v2");
        pk_op(p, '(');
        pk_op(p, '('); pk_str(p, "storage"); pk_global(p, "torch", t[i].storage_type);
        pk_str(p, t[i].key); pk_str(p, "cpu"); pk_int(p, t[i].storage_numel); pk_op(p, 't');
        pk_op(p, 'Q');
        pk_int(p, t[i].offset);
        pk_op(p, '('); for (int d = 0; d < t[i].ndim; d++) pk_int(p, t[i].shape[d]); pk_op(p, 't');
        pk_op(p, '('); for (int d = 0; d < t[i].ndim; d++) pk_int(p, t[i].stride[d]); pk_op(p, 't');
        pk_op(p, 0x89);
        pk_global(p, "collections", "OrderedDict"); pk_op(p, ')'); pk_op(p, 'R');
        pk_op(p, 't'); pk_op(p, 'R');
    }
    pk_op(p, 'u');
    pk_op(p, '.');
}

typedef struct zentry { const char *name; const void *data; size_t len; } zentry;

static const char *write_zip(const char *name, const zentry *e, int n) {
    const char *path = tmp(name);
    int code = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    CHECKF(z != NULL, "zip_open %s: %d", path, code);
    if (!z) return path;
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, e[i].data, e[i].len, 0);
        zip_int64_t idx = s ? zip_file_add(z, e[i].name, s, ZIP_FL_OVERWRITE) : -1;
        if (idx < 0) { zip_source_free(s); CHECKF(0, "zip add %s", e[i].name); continue; }
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    CHECKF(zip_close(z) == 0, "zip_close %s", path);
    return path;
}

// conv1_1 as torch would save it: storage "0" the weight, "1" the bias.
static pth_tensor conv11_w = {"features.0.weight", "FloatStorage", "0", 1728, 0, 4, {64, 3, 3, 3}, {27, 9, 3, 1}};
static pth_tensor conv11_b = {"features.0.bias", "FloatStorage", "1", 64, 0, 1, {64}, {1}};

// A .pth with the given pickle and conv1_1's storages (`wbytes` of the weight kept;
// more than w11 holds are taken from w12).
static const char *write_pth(const char *name, const pk *p, size_t wbytes) {
    zentry e[] = {{"archive/data.pkl", p->b, p->n},
                  {"archive/data/0", wbytes > sizeof w11 ? (const void *)w12 : (const void *)w11, wbytes},
                  {"archive/data/1", b11, sizeof b11},
                  {"archive/version", "3\n", 2}};
    return write_zip(name, e, 4);
}

static const char *write_conv11_pth(const char *name, pth_tensor w, pth_tensor b) {
    pk p = {.n = 0};
    pth_tensor t[2] = {w, b};
    pk_state_dict(&p, t, 2);
    return write_pth(name, &p, sizeof w11);
}

// --- conversions against torch's own tables ---

static void test_half_to_float_matches_torch(void) {
    size_t n = 0;
    float *want = read_floats(fixture("half_to_float.bin"), &n);
    if (!want) return;
    CHECK(n == 65536);
    int bad = 0;
    for (size_t i = 0; i < n && bad < 5; i++) {
        float got = nsti_half_to_float((uint16_t)i);
        int ok = isnan(want[i]) ? isnan(got) != 0 : memcmp(&got, &want[i], 4) == 0;
        if (!ok) { bad++; CHECKF(0, "half 0x%04zx: got %.9g want %.9g", i, got, want[i]); }
    }
    free(want);
}

static void test_bf16_to_float_matches_torch(void) {
    size_t n = 0;
    float *want = read_floats(fixture("bf16_to_float.bin"), &n);
    if (!want) return;
    CHECK(n == 65536);
    int bad = 0;
    for (size_t i = 0; i < n && bad < 5; i++) {
        float got = nsti_bf16_to_float((uint16_t)i);
        int ok = isnan(want[i]) ? isnan(got) != 0 : memcmp(&got, &want[i], 4) == 0;
        if (!ok) { bad++; CHECKF(0, "bf16 0x%04zx: got %.9g want %.9g", i, got, want[i]); }
    }
    free(want);
}

// Every float32 of IN narrowed by convert against torch's 16-bit patterns in OUT; a NaN
// (exponent bits exp_mask all ones, any of man_mask set) only has to stay a NaN.
static void check_narrowing(const char *in_name, const char *out_name, uint16_t (*convert)(float), const char *type,
                            uint16_t exp_mask, uint16_t man_mask) {
    size_t n = 0, m = 0;
    float *in = read_floats(fixture(in_name), &n);
    uint8_t *out = read_all(fixture(out_name), &m);
    if (!in || !out) { free(in); free(out); return; }
    CHECK(m == 2 * n && n > 100000);
    int bad = 0;
    for (size_t i = 0; i < n && 2 * i + 1 < m && bad < 5; i++) {
        uint16_t want = (uint16_t)(out[2 * i] | out[2 * i + 1] << 8), got = convert(in[i]);
        int want_nan = (want & exp_mask) == exp_mask && (want & man_mask);
        int got_nan = (got & exp_mask) == exp_mask && (got & man_mask);
        if (want_nan ? !got_nan : got != want) {
            bad++;
            CHECKF(0, "float %.9g: %s 0x%04x, torch 0x%04x", in[i], type, got, want);
        }
    }
    free(in);
    free(out);
}

static void test_float_to_half_rounds_like_torch(void) {
    check_narrowing("float_to_half_in.bin", "float_to_half_out.bin", nsti_float_to_half, "half", 0x7c00, 0x3ff);
}

// ties are 50000 of its inputs (the 16 dropped bits exactly 0x8000)
static void test_float_to_bf16_rounds_like_torch(void) {
    check_narrowing("float_to_bf16_in.bin", "float_to_bf16_out.bin", nsti_float_to_bf16, "bf16", 0x7f80, 0x7f);
}

// The layer table from `features` indices: VGG19's and VGG16's, and the refusals.
static void test_layout_from_features(void) {
    nsti_conv_layer l[NST_MAX_CONVS];
    int f19[16], bad = -1;
    for (int i = 0; i < 16; i++) f19[i] = vgg19_feature(i);
    CHECK(nsti_layout_from_features(l, f19, 16, &bad) == 0);
    for (int i = 0; i < 16; i++) {
        CHECKF(!strcmp(l[i].name, vgg19_name(i)), "layer %d: %s", i, l[i].name);
        CHECK(l[i].pool_before == (i == 2 || i == 4 || i == 8 || i == 12));
    }
    CHECK(!strcmp(nsti_layout_arch(l, 16), "vgg19") && !strcmp(nsti_layout_arch(l, 8), "vgg"));
    static const int f16[13] = {0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28};   // torchvision's vgg16
    static const char *const n16[13] = {"conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
                                        "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"};
    CHECK(nsti_layout_from_features(l, f16, 13, &bad) == 0);
    for (int i = 0; i < 13; i++) CHECKF(!strcmp(l[i].name, n16[i]), "vgg16 layer %d: %s", i, l[i].name);
    CHECK(l[7].pool_before && l[10].pool_before && !l[8].pool_before && !strcmp(nsti_layout_arch(l, 13), "vgg16"));
    int relu = -1;
    CHECK(nsti_layout_find(l, 13, "relu4_3", &relu) == 9 && relu == 1);
    CHECK(nsti_layout_find(l, 13, "conv5_4", &relu) == -1 && nsti_layout_find(l, 13, "pool1", &relu) == -1);
    static const int gap[3] = {0, 2, 6}, late[2] = {2, 4}, adjacent[2] = {0, 1};
    CHECK(nsti_layout_from_features(l, gap, 3, &bad) == -1 && bad == 2);
    CHECK(nsti_layout_from_features(l, late, 2, &bad) == -1 && bad == 0);
    CHECK(nsti_layout_from_features(l, adjacent, 2, &bad) == -1 && bad == 1);
}

// --- real files load with exact values ---

static void check_small3(const char *file, const char *expected, const char *dtype) {
    nsti_vgg_weights w;
    size_t n = 0;
    float *want = read_floats(fixture(expected), &n);
    if (!want) return;
    if (load_ok(&w, fixture(file))) {
        CHECKF(w.n_conv == 3, "%s: n_conv %d", file, w.n_conv);
        CHECKF(!strcmp(w.dtype, dtype), "%s: dtype %s", file, w.dtype);
        CHECK(norm_equal(&w.norm, &nsti_norm_torchvision) && !w.norm_from_metadata);
        if (w.n_conv == 3) CHECK(check_layers(&w, 3, want, file) == n);
        CHECK(w.weight[3] == NULL && w.bias[3] == NULL);
        nsti_weights_free(&w);
        CHECK(w.n_conv == 0 && w.weight[0] == NULL);
    }
    free(want);
}

static void test_pth_f32_exact(void) { check_small3("small3_f32.pth", "expected_small3_f32.bin", "F32"); }
static void test_pth_f16_exact(void) { check_small3("small3_f16.pth", "expected_small3_f16.bin", "F16"); }

static void test_pth_bf16_exact(void) { check_small3("small3_bf16.pth", "expected_small3_bf16.bin", "BF16"); }
static void test_pth_pickle_protocol_4(void) {
    check_small3("small3_f32_proto4.pth", "expected_small3_f32.bin", "F32");
}
static void test_safetensors_f32_exact(void) {
    check_small3("small3_f32.safetensors", "expected_small3_f32.bin", "F32");
}
static void test_safetensors_f16_exact(void) {
    check_small3("small3_f16.safetensors", "expected_small3_f16.bin", "F16");
}
static void test_safetensors_bf16_exact(void) {
    check_small3("small3_bf16.safetensors", "expected_small3_bf16.bin", "BF16");
}

// A module's state_dict: keys "0.weight"..., _metadata via BUILD, plus classifier.*.
static void check_nofeat(const char *file) {
    nsti_vgg_weights w;
    size_t n = 0;
    float *want = read_floats(fixture("expected_small2_nofeat.bin"), &n);
    if (!want) return;
    if (load_ok(&w, fixture(file))) {
        CHECKF(w.n_conv == 2, "n_conv %d", w.n_conv);
        if (w.n_conv == 2) CHECK(check_layers(&w, 2, want, file) == n);
        nsti_weights_free(&w);
    }
    free(want);
}

static void test_pth_keys_without_features_and_classifier_ignored(void) { check_nofeat("small2_nofeat.pth"); }
static void test_safetensors_keys_without_features_and_classifier_ignored(void) {
    check_nofeat("small2_nofeat.safetensors");
}

static void test_shared_partial_caffe_model(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/vgg19-conv1_1-conv3_4.caffe.safetensors", nst_test_shared());
    nsti_vgg_weights w;
    if (!load_ok(&w, path)) return;
    CHECK(w.n_conv == 8);
    CHECK(w.norm_from_metadata == 1);
    CHECK(norm_equal(&w.norm, &nsti_norm_caffe));
    CHECK(w.norm.bgr == 1 && w.norm.scale == 1.0f && w.norm.std[0] == 1.0f);
    CHECK(w.norm.mean[0] == 103.939f && w.norm.mean[1] == 116.779f && w.norm.mean[2] == 123.68f);
    CHECK(!strcmp(w.dtype, "F32"));
    CHECK(w.weight[8] == NULL);
    // Independent check of two tensors: their offsets from the JSON header, raw bytes.
    size_t len = 0;
    uint8_t *raw = read_all(path, &len);
    json_t *h = NULL;
    if (raw && len > 8) {
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--) hlen = hlen << 8 | raw[i];
        h = json_loadb((const char *)raw + 8, (size_t)hlen, 0, NULL);
        const char *keys[2] = {"features.0.weight", "features.16.bias"};
        const float *got[2] = {w.weight[0], w.bias[7]};
        size_t count[2] = {64 * 27, 256};
        for (int k = 0; k < 2 && h && got[k]; k++) {
            json_t *off = json_object_get(json_object_get(h, keys[k]), "data_offsets");
            size_t b = (size_t)json_integer_value(json_array_get(off, 0));
            size_t e = (size_t)json_integer_value(json_array_get(off, 1));
            CHECK(e - b == count[k] * 4 && 8 + hlen + e <= len);
            if (e - b == count[k] * 4 && 8 + hlen + e <= len) {
                float *want = malloc(count[k] * 4);
                memcpy(want, raw + 8 + hlen + b, count[k] * 4);
                same_bits(keys[k], got[k], want, count[k]);
                free(want);
            }
        }
        CHECK(h != NULL);
    }
    json_decref(h);
    free(raw);
    nsti_weights_free(&w);
}

static void test_full_vgg19_pth(void) {
    nsti_vgg_weights w;
    size_t n = 0;
    float *probe = read_floats(fixture("vgg19_random_full_probe.bin"), &n);
    if (!probe) return;
    if (load_ok(&w, fixture("vgg19_random_full.pth"))) {
        CHECK(w.n_conv == 16 && !strcmp(w.dtype, "F32"));
        CHECK(norm_equal(&w.norm, &nsti_norm_torchvision) && !w.norm_from_metadata);
        size_t at = 0;
        for (int i = 0; i < w.n_conv && at < n; i++) {
            char label[64];
            size_t wn = weight_n(i);
            snprintf(label, sizeof label, "%s bias", vgg19_name(i));
            same_bits(label, w.bias[i], probe + at, (size_t)vgg19_cout(i));
            at += (size_t)vgg19_cout(i);
            snprintf(label, sizeof label, "%s weight head", vgg19_name(i));
            same_bits(label, w.weight[i], probe + at, 64);
            snprintf(label, sizeof label, "%s weight tail", vgg19_name(i));
            same_bits(label, w.weight[i] + wn - 64, probe + at + 64, 64);
            at += 128;
        }
        CHECK(at == n);
        nsti_weights_free(&w);
    }
    free(probe);
}

static void test_crafted_pth_loads(void) {
    // The builder's baseline must load, so that the hostile variants below fail for their own reason.
    const char *path = write_conv11_pth("good.pth", conv11_w, conv11_b);
    nsti_vgg_weights w;
    if (load_ok(&w, path)) {
        CHECK(w.n_conv == 1 && !strcmp(w.dtype, "F32"));
        if (w.n_conv == 1) {
            same_bits("weight", w.weight[0], w11, 64 * 27);
            same_bits("bias", w.bias[0], b11, 64);
        }
        nsti_weights_free(&w);
    }
    // A tensor at an offset inside a larger shared storage (torch allows it).
    pth_tensor b = conv11_b;
    b.key = "0";
    b.storage_numel = 1728;
    b.offset = 100;
    path = write_conv11_pth("offset.pth", conv11_w, b);
    if (load_ok(&w, path)) {
        same_bits("bias at offset 100", w.bias[0], w11 + 100, 64);
        nsti_weights_free(&w);
    }
}

// Every opcode of the subset in one valid file: the state dict gets a BUILD whose
// state holds floats, longs, None, bools, long strings, tuples and memo traffic.
static void test_pickle_opcode_subset(void) {
    pk p = {.n = 0};
    pth_tensor t[2] = {conv11_w, conv11_b};
    pk_state_dict(&p, t, 2);
    p.n--;  // drop STOP
    static const uint8_t tail[] = {
        0x94, '}', 0x8c, 9, '_', 'm', 'e', 't', 'a', 'd', 'a', 't', 'a',
        ']', '(',
        'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,                      // 1.5
        0x8a, 8, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -2
        0x8a, 0,                                                 // 0
        'M', 0x34, 0x12, 'J', 0xff, 0xff, 0xff, 0xff, 'N', 0x88, 0x89,
        0x8d, 1, 0, 0, 0, 0, 0, 0, 0, 'x',
        'e',
        'K', 1, 'K', 2, 0x86, 'a',
        'K', 1, 'K', 2, 'K', 3, 0x87, 'r', 0, 1, 0, 0, 'a',
        'j', 0, 1, 0, 0, 'q', 3, 'a', 'h', 3, 'a',
        's', 'b', '.'};
    pk_bytes(&p, tail, sizeof tail);
    // and the same behind a protocol-4 FRAME
    pk q = {.n = 0};
    pk_op(&q, 0x80); pk_op(&q, 4); pk_op(&q, 0x95);
    uint64_t flen = p.n - 2;
    for (int i = 0; i < 8; i++) pk_op(&q, (int)(flen >> (8 * i) & 0xff));
    pk_bytes(&q, p.b + 2, p.n - 2);
    const char *files[2] = {write_pth("subset.pth", &p, sizeof w11), write_pth("frame.pth", &q, sizeof w11)};
    for (int k = 0; k < 2; k++) {
        nsti_vgg_weights w;
        if (!load_ok(&w, files[k])) continue;
        CHECK(w.n_conv == 1);
        if (w.n_conv == 1) same_bits("bias", w.bias[0], b11, 64);
        nsti_weights_free(&w);
    }
    // A FRAME claiming more bytes than there are.
    q.b[3 + 1] = 0x7f;
    expect_fail(write_pth("badframe.pth", &q, sizeof w11), NST_ERR_FORMAT, "FRAME");
    // LONG1 beyond 64 bits.
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 0x8a); pk_op(&p, 9);
    for (int i = 0; i < 9; i++) pk_op(&p, 1);
    pk_op(&p, '.');
    expect_fail(write_pth("long9.pth", &p, sizeof w11), NST_ERR_LIMIT, "LONG1");
}

static void test_legacy_torch_format(void) {
    static const uint8_t legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20,
                                     0x6a, 0xa8, 0x50, 0x19, 0x2e};
    write_bytes(tmp("legacy.pth"), legacy, sizeof legacy);
    expect_fail(tmp("legacy.pth"), NST_ERR_FORMAT, "legacy");
}

static void test_metadata_sets_norm(void) {
    st_tensor_spec t[] = {W11, B11};
    nsti_vgg_weights w;
    const char *p = write_st("tv_custom.safetensors", t, 2,
                             "{\"input\":\"torchvision: RGB\",\"mean\":\"0.5, 0.25,0.125\",\"std\":\"[0.25,0.5,2]\"}");
    if (load_ok(&w, p)) {
        CHECK(w.norm_from_metadata == 1 && w.norm.bgr == 0 && w.norm.scale == 1.0f / 255.0f);
        CHECK(w.norm.mean[0] == 0.5f && w.norm.mean[1] == 0.25f && w.norm.mean[2] == 0.125f);
        CHECK(w.norm.std[0] == 0.25f && w.norm.std[1] == 0.5f && w.norm.std[2] == 2.0f);
        CHECK(!strcmp(w.norm.name, "torchvision"));
        nsti_weights_free(&w);
    }
    p = write_st("caffe_mean.safetensors", t, 2, "{\"input\":\"caffe\",\"mean_bgr\":\"1,2,3\"}");
    if (load_ok(&w, p)) {
        CHECK(w.norm_from_metadata == 1 && w.norm.bgr == 1 && w.norm.scale == 1.0f);
        CHECK(w.norm.mean[0] == 1.0f && w.norm.mean[1] == 2.0f && w.norm.mean[2] == 3.0f);
        CHECK(!strcmp(w.norm.name, "caffe"));
        nsti_weights_free(&w);
    }
    p = write_st("no_input.safetensors", t, 2, "{\"architecture\":\"vgg19\"}");
    if (load_ok(&w, p)) {
        CHECK(!w.norm_from_metadata && norm_equal(&w.norm, &nsti_norm_torchvision));
        nsti_weights_free(&w);
    }
    expect_fail(write_st("bad_input.safetensors", t, 2, "{\"input\":\"keras\"}"), NST_ERR_FORMAT, "keras");
    expect_fail(write_st("bad_mean.safetensors", t, 2, "{\"input\":\"caffe\",\"mean_bgr\":\"1,2\"}"),
                NST_ERR_FORMAT, "mean_bgr");
    expect_fail(write_st("bad_std.safetensors", t, 2, "{\"input\":\"torchvision\",\"std\":\"1,0,1\"}"),
                NST_ERR_FORMAT, "std");
}

// --- save and load back ---

static int tmp_leftovers(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void roundtrip(const char *src, const char *dst, const char *dtype, const float *want, size_t n) {
    nsti_vgg_weights w, back;
    nst_error err = {0, ""};
    if (!load_ok(&w, fixture(src))) return;
    w.norm = nsti_norm_caffe;
    int rc = nsti_weights_save(&w, tmp(dst), dtype, &err);
    CHECKF(rc == NST_OK, "save: %s", err.msg);
    CHECK(tmp_leftovers() == 0);
    if (rc == NST_OK && load_ok(&back, tmp(dst))) {
        CHECK(back.n_conv == w.n_conv && !strcmp(back.dtype, dtype));
        CHECK(back.norm_from_metadata && norm_equal(&back.norm, &nsti_norm_caffe));
        CHECK(check_layers(&back, back.n_conv, want, dst) == n);
        nsti_weights_free(&back);
        // The header carries the documented metadata.
        nsti_st_file *f = NULL;
        if (nsti_st_open(&f, tmp(dst), &err) == NST_OK) {
            const char *in = nsti_st_metadata(f, "input"), *layers = nsti_st_metadata(f, "layers");
            CHECK(in && !strcmp(in, "caffe: BGR channel order, 0-255 range, mean subtracted"));
            CHECK(layers && !strcmp(layers, w.n_conv == 3 ? "conv1_1..conv2_1" : "conv1_1..conv1_2"));
            const char *arch = nsti_st_metadata(f, "architecture");
            CHECK(arch && !strcmp(arch, "vgg"));   // a part of VGG19: no whole architecture
            CHECK(nsti_st_count(f) == 2 * w.n_conv && !strcmp(nsti_st_name(f, 0), "features.0.weight"));
            nsti_st_close(f);
        } else CHECKF(0, "%s", err.msg);
    }
    nsti_weights_free(&w);
}

static void test_save_load_roundtrip_f32(void) {
    size_t n = 0;
    float *want = read_floats(fixture("expected_small3_f32.bin"), &n);
    if (want) roundtrip("small3_f32.pth", "rt32.safetensors", "F32", want, n);
    free(want);
}

static void test_save_load_roundtrip_f16(void) {
    // Values that are halves already come back exactly ...
    size_t n = 0;
    float *want = read_floats(fixture("expected_small3_f16.bin"), &n);
    if (want) roundtrip("small3_f16.pth", "rt16.safetensors", "F16", want, n);
    free(want);
    // ... and float32 values come back rounded to nearest even.
    want = read_floats(fixture("expected_small2_nofeat.bin"), &n);
    if (!want) return;
    for (size_t i = 0; i < n; i++) want[i] = nsti_half_to_float(nsti_float_to_half(want[i]));
    roundtrip("small2_nofeat.pth", "rt16b.safetensors", "F16", want, n);
    free(want);
}

static void test_save_failure_keeps_old_file(void) {
    nsti_vgg_weights w;
    nst_error err = {0, ""};
    const char *path = tmp("keep.safetensors");
    write_bytes(path, "old", 3);
    if (!load_ok(&w, fixture("small3_f32.pth"))) return;
    // small3 holds 3e38, beyond F16's range: refused, the old file stays.
    int rc = nsti_weights_save(&w, path, "F16", &err);
    CHECKF(rc == NST_ERR_NUMERIC && strstr(err.msg, "keep.safetensors"), "%d %s", rc, err.msg);
    rc = nsti_weights_save(&w, path, "BF16", &err);
    CHECKF(rc == NST_ERR_USAGE && strstr(err.msg, "keep.safetensors"), "%d %s", rc, err.msg);
    w.weight[1][5] = NAN;
    rc = nsti_weights_save(&w, path, "F32", &err);
    CHECKF(rc == NST_ERR_NUMERIC && strstr(err.msg, "conv1_2"), "%d %s", rc, err.msg);
    rc = nsti_weights_save(&w, tmp("no/such/dir.safetensors"), "F32", &err);
    CHECKF(rc != NST_OK, "saved into a missing directory");
    w.weight[1][5] = 0;
    size_t len = 0;
    uint8_t *d = read_all(path, &len);
    CHECK(d && len == 3 && !memcmp(d, "old", 3));
    free(d);
    CHECK(tmp_leftovers() == 0);
    // And a good save replaces it.
    rc = nsti_weights_save(&w, path, "F32", &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    nsti_weights_free(&w);
    if (load_ok(&w, path)) { CHECK(w.n_conv == 3); nsti_weights_free(&w); }
}

// --- broken safetensors ---

static void test_missing_file(void) { expect_fail(tmp("does_not_exist.safetensors"), NST_ERR_IO, "cannot open"); }

static void test_empty_file(void) {
    write_bytes(tmp("empty.safetensors"), "", 0);
    expect_fail(tmp("empty.safetensors"), NST_ERR_FORMAT, "empty");
    write_bytes(tmp("short.safetensors"), "\x02\0\0\0\0", 5);
    expect_fail(tmp("short.safetensors"), NST_ERR_FORMAT, "too short");
}

static void test_bad_header_length(void) {
    uint8_t buf[64] = {0};
    memcpy(buf + 8, "{}", 2);
    buf[0] = 57;  // one byte past the end
    write_bytes(tmp("hlen_past.safetensors"), buf, sizeof buf);
    expect_fail(tmp("hlen_past.safetensors"), NST_ERR_FORMAT, "header length 57");
    memset(buf, 0, 8);
    buf[3] = 0x10;  // 268 MB
    write_bytes(tmp("hlen_huge.safetensors"), buf, sizeof buf);
    expect_fail(tmp("hlen_huge.safetensors"), NST_ERR_FORMAT, "100 MB");
    memset(buf, 0xff, 8);
    write_bytes(tmp("hlen_max.safetensors"), buf, sizeof buf);
    expect_fail(tmp("hlen_max.safetensors"), NST_ERR_FORMAT, "header would be 18446744073709551615 bytes");
    // a picture, or any binary file, is no model: not a length to puzzle over
    const uint8_t png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    write_bytes(tmp("picture.png"), png, sizeof png);
    expect_fail(tmp("picture.png"), NST_ERR_FORMAT, "not a model file (not safetensors");
}

static void test_bad_json(void) {
    expect_fail(write_st_raw("badjson.safetensors", "{\"features.0.weight\": {\"dtype\": \"F32\",", 0),
                NST_ERR_FORMAT, "JSON");
    expect_fail(write_st_raw("array.safetensors", "[1, 2]", 0), NST_ERR_FORMAT, "not a JSON object");
    expect_fail(write_st_raw("entry.safetensors", "{\"features.0.weight\": 5}", 0), NST_ERR_FORMAT,
                "features.0.weight");
    expect_fail(write_st_raw("dupkey.safetensors",
                             "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                             "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                NST_ERR_FORMAT, "JSON");
    expect_fail(write_st_raw("metaval.safetensors", "{\"__metadata__\":{\"input\":5}}", 0), NST_ERR_FORMAT,
                "input");
    expect_fail(write_st_raw("nodtype.safetensors", "{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                NST_ERR_FORMAT, "dtype");
}

static void test_unknown_dtype(void) {
    expect_fail(write_st_raw("f64.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F64\",\"shape\":[64],\"data_offsets\":[0,512]}}",
                             512),
                NST_ERR_FORMAT, "F64");
}

static void test_bad_shapes_in_header(void) {
    expect_fail(write_st_raw("negdim.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[-64],\"data_offsets\":[0,256]}}",
                             256),
                NST_ERR_FORMAT, "shape");
    expect_fail(write_st_raw("overflow.safetensors",
                             "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
                             "\"data_offsets\":[0,0]}}", 0),
                NST_ERR_FORMAT, "too many elements");
    expect_fail(write_st_raw("ninedims.safetensors",
                             "{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4),
                NST_ERR_FORMAT, "dimensions");
    expect_fail(write_st_raw("mismatch.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,128]}}",
                             256),
                NST_ERR_FORMAT, "need 256");
}

static void test_bad_offsets(void) {
    expect_fail(write_st_raw("past.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[10,266]}}",
                             256),
                NST_ERR_FORMAT, "past the end");
    expect_fail(write_st_raw("huge_off.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[64],"
                             "\"data_offsets\":[10,99999999]}}", 256),
                NST_ERR_FORMAT, "[10, 99999999] past the end");
    expect_fail(write_st_raw("reversed.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[256,0]}}",
                             256),
                NST_ERR_FORMAT, "reversed");
    expect_fail(write_st_raw("negoff.safetensors",
                             "{\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}",
                             256),
                NST_ERR_FORMAT, "negative");
    expect_fail(write_st_raw("overlap.safetensors",
                             "{\"features.0.weight\":{\"dtype\":\"F32\",\"shape\":[64,3,3,3],\"data_offsets\":[0,6912]},"
                             "\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[6900,7156]}}",
                             7156),
                NST_ERR_FORMAT, "overlap");
}

// --- well-formed files that are not a usable VGG19 ---

static void test_wrong_shapes(void) {
    st_tensor_spec t[] = {W11, B11};
    t[0].shape[3] = 1;
    t[0].ndim = 4;
    expect_fail(write_st("wshape.safetensors", t, 2, NULL), NST_ERR_MODEL, "features.0.weight");
    st_tensor_spec u[] = {W11, B11};
    u[1].shape[0] = 32;
    expect_fail(write_st("bshape.safetensors", u, 2, NULL), NST_ERR_MODEL, "[64]");
    st_tensor_spec v[] = {W11, B11, W12, B12};
    v[2].shape[1] = 3;  // conv1_2 given conv1_1's input channels
    v[2].values = w11;
    expect_fail(write_st("w2shape.safetensors", v, 4, NULL), NST_ERR_MODEL, "conv1_2");
    // a shape mismatch in a .pth as well
    pth_tensor w = conv11_w;
    w.shape[2] = 9, w.shape[3] = 1, w.stride[2] = 1;  // [64, 3, 9, 1]: right size, wrong shape
    expect_fail(write_conv11_pth("wshape.pth", w, conv11_b), NST_ERR_MODEL, "features.0.weight");
}

static void test_nan_and_inf_weights(void) {
    float saved = w11[100];
    st_tensor_spec t[] = {W11, B11};
    w11[100] = NAN;
    expect_fail(write_st("nan.safetensors", t, 2, NULL), NST_ERR_FORMAT, "NaN");
    w11[100] = -INFINITY;
    expect_fail(write_st("inf.safetensors", t, 2, NULL), NST_ERR_FORMAT, "infinite");
    expect_fail(write_conv11_pth("inf.pth", conv11_w, conv11_b), NST_ERR_FORMAT, "features.0.weight");
    w11[100] = saved;
    b11[3] = NAN;
    expect_fail(write_st("nanbias.safetensors", t, 2, NULL), NST_ERR_FORMAT, "features.0.bias");
    b11[3] = 1.5f;
}

static void test_missing_bias_and_gaps(void) {
    st_tensor_spec nobias[] = {W11, B11, W12};
    expect_fail(write_st("nobias.safetensors", nobias, 3, NULL), NST_ERR_MODEL, "bias");
    st_tensor_spec gap[] = {W11, B11, {"features.5.weight", "F32", 4, {128, 64, 3, 3}, NULL},
                            {"features.5.bias", "F32", 1, {128}, NULL}};
    expect_fail(write_st("gap.safetensors", gap, 4, NULL), NST_ERR_MODEL, "conv1_2");
    st_tensor_spec first_missing[] = {W12, B12};
    expect_fail(write_st("nofirst.safetensors", first_missing, 2, NULL), NST_ERR_MODEL, "features.0.weight");
    st_tensor_spec classifier_only[] = {{"classifier.0.bias", "F32", 1, {10}, NULL}};
    expect_fail(write_st("classifier.safetensors", classifier_only, 1, NULL), NST_ERR_MODEL, "no VGG conv layers");
    st_tensor_spec relu[] = {W11, B11, {"features.1.weight", "F32", 1, {4}, NULL}};
    expect_fail(write_st("relu.safetensors", relu, 3, NULL), NST_ERR_MODEL, "features.1.weight");
    st_tensor_spec both[] = {W11, B11, {"0.bias", "F32", 1, {64}, b11}};
    expect_fail(write_st("twice.safetensors", both, 3, NULL), NST_ERR_MODEL, "0.bias");
}

// --- hostile and broken .pth files ---

static void test_forbidden_global_os_system(void) {
    // Made by the fixture script with Python's zipfile; never unpickled by anyone.
    expect_fail(fixture("evil_os_system.pth"), NST_ERR_FORMAT, "forbidden global 'os system'");
}

static void test_forbidden_globals_crafted(void) {
    pk p = {.n = 0};
    pk_op(&p, 0x80); pk_op(&p, 2);
    pk_str(&p, "builtins"); pk_str(&p, "eval"); pk_op(&p, 0x93);
    pk_str(&p, "print(1)"); pk_op(&p, 0x85); pk_op(&p, 'R'); pk_op(&p, '.');
    expect_fail(write_pth("eval.pth", &p, sizeof w11), NST_ERR_FORMAT, "'builtins eval'");
    pth_tensor w = conv11_w;
    w.storage_type = "DoubleStorage";
    expect_fail(write_conv11_pth("double.pth", w, conv11_b), NST_ERR_FORMAT, "'torch DoubleStorage'");
    // An allowed global used as something it is not: calling a storage type.
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2);
    pk_global(&p, "torch", "FloatStorage"); pk_op(&p, ')'); pk_op(&p, 'R'); pk_op(&p, '.');
    expect_fail(write_pth("callstorage.pth", &p, sizeof w11), NST_ERR_FORMAT, "REDUCE");
}

static void test_unknown_opcode(void) {
    pk p = {.n = 0};
    pk_op(&p, 0x80); pk_op(&p, 2);
    pk_op(&p, 'I'); pk_bytes(&p, "1\n", 2);  // INT: text protocol 0, not in the subset
    pk_op(&p, '.');
    expect_fail(write_pth("opcode.pth", &p, sizeof w11), NST_ERR_FORMAT, "opcode 0x49");
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 0xff);
    expect_fail(write_pth("opcode_ff.pth", &p, sizeof w11), NST_ERR_FORMAT, "opcode 0xff");
}

static void test_deeply_nested_pickle(void) {
    pk *p = calloc(1, sizeof *p);
    pk_op(p, 0x80); pk_op(p, 2);
    for (int i = 0; i < 20000; i++) pk_op(p, '(');
    pk_op(p, '.');
    expect_fail(write_pth("marks.pth", p, sizeof w11), NST_ERR_LIMIT, "MARK");
    p->n = 0;
    pk_op(p, 0x80); pk_op(p, 2);
    for (int i = 0; i < 70000; i++) pk_op(p, ']');  // past the stack limit of 65536
    pk_op(p, '.');
    expect_fail(write_pth("stack.pth", p, sizeof w11), NST_ERR_LIMIT, "stack");
    // Nesting without stack growth: 30000 tuples each inside the next. No recursion anywhere.
    p->n = 0;
    pk_op(p, 0x80); pk_op(p, 2); pk_op(p, ')');
    for (int i = 0; i < 30000; i++) pk_op(p, 0x85);
    pk_op(p, '.');
    expect_fail(write_pth("tuples.pth", p, sizeof w11), NST_ERR_FORMAT, "no state dict");
    free(p);
}

static void test_truncated_pickle(void) {
    pk p = {.n = 0};
    pth_tensor t[2] = {conv11_w, conv11_b};
    pk_state_dict(&p, t, 2);
    size_t full = p.n;
    p.n = full / 2;
    expect_fail(write_pth("trunc_pkl.pth", &p, sizeof w11), NST_ERR_FORMAT, "truncated");
    p.n = full - 1;  // only STOP missing
    expect_fail(write_pth("nostop.pth", &p, sizeof w11), NST_ERR_FORMAT, "no STOP");
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 'X'); pk_u32(&p, 0xffffffffu); pk_bytes(&p, "abc", 3);
    expect_fail(write_pth("longstr.pth", &p, sizeof w11), NST_ERR_LIMIT, "string");
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 'X'); pk_u32(&p, 100); pk_bytes(&p, "abc", 3);
    expect_fail(write_pth("shortstr.pth", &p, sizeof w11), NST_ERR_FORMAT, "truncated");
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 'h'); pk_op(&p, 7); pk_op(&p, '.');
    expect_fail(write_pth("memo.pth", &p, sizeof w11), NST_ERR_FORMAT, "memo");
    p.n = 0;
    pk_op(&p, 0x80); pk_op(&p, 2); pk_op(&p, 'R');
    expect_fail(write_pth("underflow.pth", &p, sizeof w11), NST_ERR_FORMAT, "underflow");
}

static void test_storage_too_small(void) {
    // The pickle declares fewer elements than the view needs ...
    pth_tensor w = conv11_w;
    w.storage_numel = 1000;
    expect_fail(write_conv11_pth("small_decl.pth", w, conv11_b), NST_ERR_FORMAT, "past the end of storage");
    pth_tensor b = conv11_b;
    b.offset = 10;  // 10 + 64 > 64
    expect_fail(write_conv11_pth("offset_past.pth", conv11_w, b), NST_ERR_FORMAT, "features.0.bias");
    // ... or the zip entry holds fewer bytes than the pickle declares.
    pk p = {.n = 0};
    pth_tensor t[2] = {conv11_w, conv11_b};
    pk_state_dict(&p, t, 2);
    expect_fail(write_pth("small_entry.pth", &p, sizeof w11 - 4), NST_ERR_FORMAT, "holds 6908 bytes");
    expect_fail(write_pth("big_entry.pth", &p, sizeof w11 + 4), NST_ERR_FORMAT, "holds 6916 bytes");
    // Non-contiguous strides and a missing storage entry.
    w = conv11_w;
    w.stride[3] = 2;
    expect_fail(write_conv11_pth("strided.pth", w, conv11_b), NST_ERR_FORMAT, "contiguous");
    b = conv11_b;
    b.key = "7";
    expect_fail(write_conv11_pth("nostorage.pth", conv11_w, b), NST_ERR_FORMAT, "data/7");
    b.key = "../0";
    expect_fail(write_conv11_pth("badkey.pth", conv11_w, b), NST_ERR_FORMAT, "storage key");
}

static void test_zip_without_pickle(void) {
    zentry e[] = {{"archive/data/0", w11, sizeof w11}, {"archive/version", "3\n", 2}};
    expect_fail(write_zip("nopkl.pth", e, 2), NST_ERR_FORMAT, "data.pkl");
}

static void test_truncated_zip(void) {
    size_t len = 0;
    uint8_t *d = read_all(fixture("small3_f32.pth"), &len);
    if (!d) return;
    write_bytes(tmp("trunc_half.pth"), d, len / 2);
    expect_fail(tmp("trunc_half.pth"), NST_ERR_FORMAT, "zip");
    write_bytes(tmp("trunc_end.pth"), d, len - 10);
    expect_fail(tmp("trunc_end.pth"), NST_ERR_FORMAT, "zip");
    write_bytes(tmp("trunc_magic.pth"), d, 4);
    expect_fail(tmp("trunc_magic.pth"), NST_ERR_FORMAT, "zip");
    free(d);
}

// Finds the central-directory record of the entry whose name ends with `suffix`.
static uint8_t *central_record(uint8_t *d, size_t len, const char *suffix) {
    size_t sl = strlen(suffix);
    for (size_t i = 0; i + 46 <= len; i++) {
        if (memcmp(d + i, "PK\1\2", 4)) continue;
        size_t nl = (size_t)(d[i + 28] | d[i + 29] << 8);
        if (i + 46 + nl <= len && nl >= sl && !memcmp(d + i + 46 + nl - sl, suffix, sl)) return d + i;
    }
    return NULL;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_zip_entry_lying_about_size(void) {
    size_t len = 0;
    uint8_t *d = read_all(fixture("small3_f32.pth"), &len);
    if (!d) return;
    uint8_t *rec = central_record(d, len, "/data/1");  // conv1_1's bias, 256 bytes
    CHECK(rec != NULL);
    if (!rec) { free(d); return; }
    CHECK(get_u32(rec + 24) == 256);
    uint8_t *copy = malloc(len);
    // Claims more bytes than are there (the read runs into the next header: bad CRC) ...
    memcpy(copy, d, len);
    rec = central_record(copy, len, "/data/1");
    put_u32(rec + 20, 300);
    put_u32(rec + 24, 300);
    write_bytes(tmp("lie_big.pth"), copy, len);
    expect_fail(tmp("lie_big.pth"), NST_ERR_FORMAT, NULL);
    // ... or fewer (the sizes no longer match the pickle's storage).
    memcpy(copy, d, len);
    rec = central_record(copy, len, "/data/1");
    put_u32(rec + 20, 128);
    put_u32(rec + 24, 128);
    write_bytes(tmp("lie_small.pth"), copy, len);
    expect_fail(tmp("lie_small.pth"), NST_ERR_FORMAT, NULL);
    // Only the uncompressed size differs from the stored size.
    memcpy(copy, d, len);
    rec = central_record(copy, len, "/data/1");
    put_u32(rec + 24, 260);
    write_bytes(tmp("lie_usize.pth"), copy, len);
    expect_fail(tmp("lie_usize.pth"), NST_ERR_FORMAT, NULL);
    // data.pkl, whose size nothing else cross-checks, claiming more or fewer bytes.
    // (k = 2: only the uncompressed size, so stored and uncompressed sizes disagree.)
    const char *names[3] = {"lie_pkl_small.pth", "lie_pkl_big.pth", "lie_pkl_usize.pth"};
    for (int k = 0; k < 3; k++) {
        memcpy(copy, d, len);
        rec = central_record(copy, len, "/data.pkl");
        CHECK(rec != NULL);
        if (!rec) break;
        uint32_t size = get_u32(rec + 24) + (k ? 64 : -64);
        if (k < 2) put_u32(rec + 20, size);
        put_u32(rec + 24, size);
        write_bytes(tmp(names[k]), copy, len);
        expect_fail(tmp(names[k]), NST_ERR_FORMAT, "data.pkl");
    }
    // A flipped data byte: same sizes, the CRC catches it.
    memcpy(copy, d, len);
    rec = central_record(copy, len, "/data/1");
    uint32_t local = get_u32(rec + 42);
    size_t data_at = local + 30 + (size_t)(copy[local + 26] | copy[local + 27] << 8) +
                     (size_t)(copy[local + 28] | copy[local + 29] << 8);
    CHECK(data_at + 256 < len);
    if (data_at + 256 < len) copy[data_at + 17] ^= 0x40;
    write_bytes(tmp("crc.pth"), copy, len);
    expect_fail(tmp("crc.pth"), NST_ERR_FORMAT, "features.0.bias");
    free(copy);
    free(d);
}

// --- the safetensors API directly ---

static void test_safetensors_api(void) {
    nsti_st_file *f = NULL;
    nst_error err = {0, ""};
    if (nsti_st_open(&f, fixture("small3_bf16.safetensors"), &err) != NST_OK) {
        CHECKF(0, "%s", err.msg);
        return;
    }
    CHECK(nsti_st_count(f) == 6);
    CHECK(nsti_st_name(f, 6) == NULL && nsti_st_name(f, -1) == NULL);
    CHECK(nsti_st_metadata(f, "input") == NULL);
    CHECK(nsti_st_dtype(f, "features.5.bias") && !strcmp(nsti_st_dtype(f, "features.5.bias"), "BF16"));
    float *d = NULL;
    int64_t shape[8];
    int nd = 0;
    CHECK(nsti_st_read_f32(f, "features.2.weight", &d, shape, &nd, &err) == NST_OK);
    CHECK(nd == 4 && shape[0] == 64 && shape[1] == 64 && shape[2] == 3 && shape[3] == 3 && shape[4] == 0);
    free(d);
    d = NULL;
    CHECK(nsti_st_read_f32(f, "nope", &d, shape, &nd, &err) == NST_ERR_MODEL && d == NULL);
    CHECK(strstr(err.msg, "small3_bf16.safetensors") && strstr(err.msg, "nope"));
    nsti_st_close(f);
    f = (nsti_st_file *)1;
    CHECK(nsti_st_open(&f, tmp("absent.safetensors"), &err) == NST_ERR_IO && f == NULL);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nst_test_weights.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    init_values();
    TEST(test_half_to_float_matches_torch);
    TEST(test_bf16_to_float_matches_torch);
    TEST(test_float_to_half_rounds_like_torch);
    TEST(test_float_to_bf16_rounds_like_torch);
    TEST(test_layout_from_features);
    TEST(test_pth_f32_exact);
    TEST(test_pth_f16_exact);
    TEST(test_pth_bf16_exact);
    TEST(test_pth_pickle_protocol_4);
    TEST(test_pickle_opcode_subset);
    TEST(test_legacy_torch_format);
    TEST(test_safetensors_f32_exact);
    TEST(test_safetensors_f16_exact);
    TEST(test_safetensors_bf16_exact);
    TEST(test_pth_keys_without_features_and_classifier_ignored);
    TEST(test_safetensors_keys_without_features_and_classifier_ignored);
    TEST(test_shared_partial_caffe_model);
    TEST(test_full_vgg19_pth);
    TEST(test_crafted_pth_loads);
    TEST(test_metadata_sets_norm);
    TEST(test_save_load_roundtrip_f32);
    TEST(test_save_load_roundtrip_f16);
    TEST(test_save_failure_keeps_old_file);
    TEST(test_missing_file);
    TEST(test_empty_file);
    TEST(test_bad_header_length);
    TEST(test_bad_json);
    TEST(test_unknown_dtype);
    TEST(test_bad_shapes_in_header);
    TEST(test_bad_offsets);
    TEST(test_wrong_shapes);
    TEST(test_nan_and_inf_weights);
    TEST(test_missing_bias_and_gaps);
    TEST(test_forbidden_global_os_system);
    TEST(test_forbidden_globals_crafted);
    TEST(test_unknown_opcode);
    TEST(test_deeply_nested_pickle);
    TEST(test_truncated_pickle);
    TEST(test_storage_too_small);
    TEST(test_zip_without_pickle);
    TEST(test_truncated_zip);
    TEST(test_zip_entry_lying_about_size);
    TEST(test_safetensors_api);
    // Remove the scratch files (all directly in tmpdir).
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    rmdir(tmpdir);
    return nst_test_summary();
}
