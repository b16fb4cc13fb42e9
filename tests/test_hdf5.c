// Keras HDF5 weights (src/model/hdf5.c): the files of tests/fixtures/make_hdf5_fixtures.py
// load with exactly the values h5py wrote, transposed from Keras' (h, w, in, out) to
// torch's (out, in, h, w), in both layouts Keras writes; every refusal is one line
// naming the file; and scripts/fetch-weights.sh checks its pin and converts a file://
// copy. Without libhdf5 (no NST_HAVE_HDF5) an HDF5 file gets "not built in".
#include "testlib.h"
#include "model/hdf5.h"
#include "model/safetensors.h"
#include "model/weights.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

#ifdef NST_HAVE_HDF5
static const char *fixture(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/hdf5/%s", nst_test_fixtures(), name);
    return p;
}

static size_t weight_n(int i) { return (size_t)vgg19_cout(i) * (size_t)vgg19_cin(i) * 9; }

// The fixture script's weights (see kernel_oihw() and bias() there), index n in
// torch's (out, in, h, w) order: small multiples of 2^-14, exact in float16.
static float want_weight(int i, size_t n) {
    uint32_t v = (uint32_t)(((uint64_t)n + 7919u * (unsigned)i + 1) * 2654435761ull) >> 21;
    return (float)(((double)v - 1024) / 16384);
}
static float want_bias(int i, size_t n) {
    uint32_t v = (uint32_t)(((uint64_t)n + 104729u * (unsigned)i + 3) * 2246822519ull) >> 22;
    return (float)(((double)v - 512) / 1024);
}

// w holds exactly the fixture weights in its first n layers and nothing after.
static void check_expected(const nsti_vgg_weights *w, int n, const char *what) {
    CHECKF(w->n_conv == n, "%s: %d layers, want %d", what, w->n_conv, n);
    for (int i = 0; i < n && i < w->n_conv; i++) {
        size_t bad = 0, first = 0;
        for (size_t k = 0; k < weight_n(i); k++)
            if (w->weight[i][k] != want_weight(i, k) && !bad++) first = k;
        CHECKF(!bad, "%s %s weight: %zu of %zu differ, first at %zu: %g, want %g", what, vgg19_name(i),
               bad, weight_n(i), first, w->weight[i][first], want_weight(i, first));
        bad = 0;
        for (size_t k = 0; k < (size_t)vgg19_cout(i); k++)
            if (w->bias[i][k] != want_bias(i, k) && !bad++) first = k;
        CHECKF(!bad, "%s %s bias: %zu differ, first at %zu", what, vgg19_name(i), bad, first);
    }
    for (int i = n; i < NST_MAX_CONVS; i++) CHECK(w->weight[i] == NULL && w->bias[i] == NULL);
}

static int load_ok(nsti_vgg_weights *w, const char *path) {
    nst_error err = {0, ""};
    int rc = nsti_weights_load(w, path, &err);
    CHECKF(rc == NST_OK, "%s: %s", path, err.msg);
    return rc == NST_OK;
}

static void expect_loads(const char *name, int n, const char *dtype) {
    nsti_vgg_weights w;
    if (!load_ok(&w, fixture(name))) return;
    check_expected(&w, n, name);
    CHECKF(!strcmp(w.dtype, dtype), "%s: dtype %s, want %s", name, w.dtype, dtype);
    nsti_weights_free(&w);
}

#endif

// The load fails with a one-line message naming the file and holding needle.
static void expect_fail(const char *path, int code, const char *needle) {
    nst_test_weights_refused(path, code, needle);
}

#ifdef NST_HAVE_HDF5

static void test_keras_release_layout_full_f16(void) { expect_loads("keras_v01_full_f16.h5", 16, "F16"); }
static void test_tfkeras_layout_full_f16(void) { expect_loads("tfkeras_full_f16.h5", 16, "F16"); }
static void test_keras_release_layout_partial_f32(void) { expect_loads("keras_v01_partial_f32.h5", 8, "F32"); }
static void test_tfkeras_layout_partial_f32(void) { expect_loads("tfkeras_partial_f32.h5", 8, "F32"); }
static void test_whole_model_layout(void) { expect_loads("model_partial_f32.h5", 4, "F32"); }
static void test_float64(void) { expect_loads("f64.h5", 2, "F64"); }
static void test_big_endian(void) { expect_loads("big_endian.h5", 2, "F32"); }
static void test_chunked_shuffle_fletcher32(void) { expect_loads("chunked.h5", 2, "F32"); }
static void test_userblock_signature_at_512(void) { expect_loads("userblock.h5", 2, "F32"); }
static void test_split_layer_names(void) { expect_loads("split_names.h5", 4, "F32"); }

// Against numpy's own transpose, dumped as float32 (w0 b0 w1 b1 ...), bit for bit.
static void test_partial_against_numpy_dump(void) {
    char *ref = nst_test_read_file(fixture("partial_ref.f32"));
    CHECKF(ref != NULL, "%s missing", fixture("partial_ref.f32"));
    if (!ref) return;
    const char *files[] = {"keras_v01_partial_f32.h5", "tfkeras_partial_f32.h5"};
    for (int f = 0; f < 2; f++) {
        nsti_vgg_weights w;
        if (!load_ok(&w, fixture(files[f]))) continue;
        // malloc'd bytes have no type of their own: reading them as floats is defined
        // cppcheck-suppress invalidPointerCast
        const float *want = (const float *)ref;
        for (int i = 0; i < 8 && i < w.n_conv; i++) {
            CHECKF(!memcmp(w.weight[i], want, weight_n(i) * 4), "%s %s weight differs from numpy's", files[f],
                   vgg19_name(i));
            want += weight_n(i);
            CHECKF(!memcmp(w.bias[i], want, (size_t)vgg19_cout(i) * 4), "%s %s bias differs", files[f],
                   vgg19_name(i));
            want += vgg19_cout(i);
        }
        nsti_weights_free(&w);
    }
    free(ref);
}

// The reader's own interface: torchvision names in Keras' order, shapes, dtypes.
static void test_reader_api(void) {
    nsti_h5_file *f;
    nst_error err = {0, ""};
    int rc = nsti_h5_open(&f, fixture("tfkeras_full_f16.h5"), &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    if (rc != NST_OK) return;
    CHECK(nsti_h5_count(f) == 32);
    CHECK(nsti_h5_name(f, 32) == NULL && nsti_h5_name(f, -1) == NULL);
    CHECK(!strcmp(nsti_h5_name(f, 0), "features.0.weight") && !strcmp(nsti_h5_name(f, 1), "features.0.bias"));
    CHECK(!strcmp(nsti_h5_name(f, 31), "features.34.bias"));
    CHECK(!strcmp(nsti_h5_dtype(f, "features.34.weight"), "F16"));
    CHECK(nsti_h5_dtype(f, "classifier.0.weight") == NULL);
    float *d;
    int64_t shape[8];
    int ndim;
    rc = nsti_h5_read_f32(f, "features.28.weight", &d, shape, &ndim, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    if (rc == NST_OK) {
        CHECK(ndim == 4 && shape[0] == 512 && shape[1] == 512 && shape[2] == 3 && shape[3] == 3 && shape[4] == 0);
        CHECK(d[0] == want_weight(12, 0) && d[weight_n(12) - 1] == want_weight(12, weight_n(12) - 1));
        free(d);
    }
    rc = nsti_h5_read_f32(f, "features.2.bias", &d, shape, &ndim, &err);
    CHECK(rc == NST_OK && ndim == 1 && shape[0] == 64);
    if (rc == NST_OK) free(d);
    rc = nsti_h5_read_f32(f, "features.1.weight", &d, shape, &ndim, &err);
    CHECK(rc == NST_ERR_MODEL && d == NULL && strstr(err.msg, "tfkeras_full_f16.h5"));
    nsti_h5_close(f);
}

// Two sessions may load models in two threads: libhdf5 is not thread-safe, hdf5.c locks.
static void *load_thread(void *arg) {
    long bad = 0;
    for (int r = 0; r < 3; r++) {
        nsti_vgg_weights w;
        nst_error err = {0, ""};
        if (nsti_weights_load(&w, (const char *)arg, &err) != NST_OK) { bad++; continue; }
        for (int i = 0; i < w.n_conv; i++)
            for (size_t k = 0; k < weight_n(i); k += 97) bad += w.weight[i][k] != want_weight(i, k);
        nsti_weights_free(&w);
    }
    return (void *)bad;
}

static void test_two_threads(void) {
    pthread_t t[2];
    const char *files[2] = {fixture("tfkeras_partial_f32.h5"), fixture("keras_v01_partial_f32.h5")};
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, load_thread, (void *)files[i]) == 0);
    for (int i = 0; i < 2; i++) {
        void *bad = NULL;
        pthread_join(t[i], &bad);
        CHECKF(bad == NULL, "thread %d: %ld failures", i, (long)bad);
    }
}

static void test_refusals(void) {
    static const struct { const char *file; int code; const char *needle; } cases[] = {
        {"refuse_external_storage.h5", NST_ERR_FORMAT, "external files: refused"},
        {"refuse_external_link.h5", NST_ERR_FORMAT, "/block1_conv1 is an external link"},
        {"refuse_external_link_dataset.h5", NST_ERR_FORMAT, "bias:0 is an external link"},
        {"refuse_soft_link.h5", NST_ERR_FORMAT, "soft link: refused"},
        {"refuse_virtual.h5", NST_ERR_FORMAT, "virtual dataset"},
        {"refuse_wrong_shape.h5", NST_ERR_MODEL, "shape [64, 4, 3, 3], but conv1_1 needs [out, 3, 3, 3]"},
        {"refuse_theano_order.h5", NST_ERR_MODEL, "Theano's channels-first"},
        {"refuse_int_dtype.h5", NST_ERR_FORMAT, "not float32, float16 or float64"},
        {"refuse_nan.h5", NST_ERR_FORMAT, "features.2.weight: element 5252 is NaN"},
        {"refuse_inf_f16.h5", NST_ERR_FORMAT, "features.0.bias: element 0 is infinite"},
        {"refuse_missing_bias.h5", NST_ERR_MODEL, "conv1_2 has a weight but no bias"},
        {"refuse_bias_not_there.h5", NST_ERR_MODEL, "/block1_conv2/block1_conv2/bias:0 does not exist"},
        {"refuse_missing_group.h5", NST_ERR_MODEL, "/block1_conv2 does not exist"},
        {"refuse_gap.h5", NST_ERR_MODEL, "after a pooling, features.5 (conv2_1)"},
        {"refuse_unwritten.h5", NST_ERR_FORMAT, "no data stored"},
        {"refuse_deflate.h5", NST_ERR_FORMAT, "filter 1 (deflate)"},
        {"refuse_no_layer_names.h5", NST_ERR_FORMAT, "without Keras' layer_names"},
        {"refuse_not_vgg_layer.h5", NST_ERR_MODEL, "/block6_conv1 does not exist"},
        {"refuse_three_weights.h5", NST_ERR_MODEL, "has 3 weights"},
        {"refuse_vlen_names.h5", NST_ERR_FORMAT, "variable-length strings"},
        {"refuse_truncated_half.h5", NST_ERR_FORMAT, "truncated file"},
        {"refuse_truncated_header.h5", NST_ERR_FORMAT, "truncated file"},
        {"refuse_signature_only.h5", NST_ERR_FORMAT, "cannot open as HDF5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_fail(fixture(cases[i].file), cases[i].code, cases[i].needle);
    // the controls: what the links and external storage point to is itself valid
    expect_loads("control_target.h5", 2, "F32");
}

// scripts/fetch-weights.sh with a file:// URL: a wrong MD5 pin is refused in one line
// with nothing stored; the right pin gives a safetensors copy with the same weights.
static void test_fetch_weights(void) {
    const char *src = getenv("NST_SOURCE"), *build = getenv("NST_BUILD");
    char h5[4096], cmd[8192], out[4096], dest[512];
    const char *rel = fixture("keras_v01_partial_f32.h5");
    char cwd[2048] = ".";
    if (!getcwd(cwd, sizeof cwd)) CHECK(0);
    snprintf(h5, sizeof h5, "%s%s%s", rel[0] == '/' ? "" : cwd, rel[0] == '/' ? "" : "/", rel);
    snprintf(dest, sizeof dest, "%s/vgg19.safetensors", tmpdir);
    const char *env_fmt = "cd %s && NST_BIN=%s/nst NST_MODEL=%s NST_WEIGHTS_URL=file://%s %s scripts/fetch-weights.sh %s";
    const char *root = src && *src ? src : ".", *b = build && *build ? build : "build";
    char bin[600];
    snprintf(bin, sizeof bin, "%s", b);
    if (b[0] != '/') snprintf(bin, sizeof bin, "%.400s/%s", cwd, b);   // the script runs from the source root
    // stdout (progress) is dropped; stderr is what the user sees on failure
    snprintf(cmd, sizeof cmd, env_fmt, root, bin, dest, h5, "NST_WEIGHTS_MD5=0123456789abcdef0123456789abcdef", "keras >/dev/null");
    int rc = nst_test_shell(cmd, tmpdir, out, sizeof out);
    CHECKF(rc == 1, "wrong MD5: exit %d: %s", rc, out);
    CHECKF(strstr(out, "is not the pinned 0123456789abcdef0123456789abcdef") && strchr(out, '\n') == out + strlen(out) - 1,
           "wrong MD5: not one line naming the pin: '%s'", out);
    CHECK(access(dest, F_OK) != 0);
    // unreachable: one line
    snprintf(cmd, sizeof cmd, env_fmt, root, bin, dest, "/nonexistent/vgg19.h5", "", "keras >/dev/null");
    rc = nst_test_shell(cmd, tmpdir, out, sizeof out);
    CHECKF(rc == 1 && strstr(out, "cannot download") && strchr(out, '\n') == out + strlen(out) - 1,
           "unreachable: exit %d: '%s'", rc, out);
    CHECK(access(dest, F_OK) != 0);
    // an unknown MODEL
    snprintf(cmd, sizeof cmd, env_fmt, root, bin, dest, h5, "", "vgg16 >/dev/null");
    rc = nst_test_shell(cmd, tmpdir, out, sizeof out);
    CHECKF(rc == 2 && strstr(out, "unknown MODEL 'vgg16'"), "unknown model: exit %d: '%s'", rc, out);
    // the right pin: converted to F32 safetensors at NST_MODEL
    char pin[64] = "";
    snprintf(cmd, sizeof cmd, "md5sum '%s' | cut -c1-32 | tr -d '\\n'", h5);
    nst_test_shell(cmd, tmpdir, pin, sizeof pin);
    char env[128];
    snprintf(env, sizeof env, "NST_WEIGHTS_MD5=%s", pin);
    snprintf(cmd, sizeof cmd, env_fmt, root, bin, dest, h5, env, "keras");
    rc = nst_test_shell(cmd, tmpdir, out, sizeof out);
    CHECKF(rc == 0 && strstr(out, "stored "), "right MD5: exit %d: %s", rc, out);
    nsti_st_file *st = NULL;
    nst_error err = {0, ""};
    if (rc == 0 && nsti_st_open(&st, dest, &err) == NST_OK) {
        CHECK(!strcmp(nsti_st_dtype(st, "features.0.weight"), "F32"));
        nsti_st_close(st);
        nsti_vgg_weights w;
        if (load_ok(&w, dest)) {
            check_expected(&w, 8, "converted");
            nsti_weights_free(&w);
        }
    } else CHECKF(0, "%s: %s", dest, err.msg);
    unlink(dest);
}

#endif

// Any file with HDF5's signature goes to the HDF5 reader, and the signature is
// recognised at 512 too (a user block); without libhdf5 it is "not built in".
static void test_sniff(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/sig.h5", tmpdir);
    unsigned char buf[600] = {0};
    memcpy(buf + 512, "\x89HDF\r\n\x1a\n", 8);
    FILE *fp = fopen(path, "wb");
    CHECK(fp && fwrite(buf, 1, sizeof buf, fp) == sizeof buf);
    if (fp) fclose(fp);
    CHECK(nsti_h5_sniff(path) == 1);
#ifdef NST_HAVE_HDF5
    expect_fail(path, NST_ERR_FORMAT, "cannot open as HDF5");
#else
    expect_fail(path, NST_ERR_FORMAT, "HDF5 support not built in");
#endif
    buf[512] = 0;
    fp = fopen(path, "wb");
    CHECK(fp && fwrite(buf, 1, sizeof buf, fp) == sizeof buf);
    if (fp) fclose(fp);
    CHECK(nsti_h5_sniff(path) == 0);
    unlink(path);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nst-test-hdf5-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    TEST(test_sniff);
#ifdef NST_HAVE_HDF5
    TEST(test_keras_release_layout_full_f16);
    TEST(test_tfkeras_layout_full_f16);
    TEST(test_keras_release_layout_partial_f32);
    TEST(test_tfkeras_layout_partial_f32);
    TEST(test_partial_against_numpy_dump);
    TEST(test_whole_model_layout);
    TEST(test_float64);
    TEST(test_big_endian);
    TEST(test_chunked_shuffle_fletcher32);
    TEST(test_userblock_signature_at_512);
    TEST(test_split_layer_names);
    TEST(test_reader_api);
    TEST(test_two_threads);
    TEST(test_refusals);
    TEST(test_fetch_weights);
#endif
    char p[400];
    snprintf(p, sizeof p, "%s/shell.out", tmpdir);
    unlink(p);
    rmdir(tmpdir);
    return nst_test_summary();
}
