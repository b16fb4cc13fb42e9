// The legacy (pre-1.6) torch.save format: files written by torch.save itself
// (tests/fixtures/make_legacy_fixtures.py) load with exactly torch's values and the
// same values as the zip format; files crafted as PyTorch 0.1-0.3 and Python 2 wrote
// them load as torch.load reads them; and every broken file, cut at any byte, is
// refused with one line naming it.
#include "testlib.h"
#include "model/pth.h"
#include "model/weights.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static const char *fixture(const char *name) {
    static char buf[4][1024];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 1024, "%s/legacy/%s", nst_test_fixtures(), name);
    return p;
}

static uint8_t *read_all(const char *path, size_t *len) { return nst_test_read_bytes(path, len); }

static size_t weight_n(int i) { return (size_t)vgg19_cout(i) * (size_t)vgg19_cin(i) * 9; }

// Bitwise equality (so -0.0 and exact rounding count); reports the first difference.
static void same_bits(const char *what, const float *got, const float *want, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], 4) != 0) {
            CHECKF(0, "%s: element %zu is %.9g, want %.9g", what, i, got[i], want[i]);
            return;
        }
}

static int load_ok(nsti_vgg_weights *w, const char *path) {
    nst_error err = {0, ""};
    int rc = nsti_weights_load(w, path, &err);
    CHECKF(rc == NST_OK, "%s: %s", path, err.msg);
    return rc == NST_OK;
}

// w's first n layers against torch's floats laid out w0 b0 w1 b1 ...
static void check_layers(const nsti_vgg_weights *w, int n, const char *expected) {
    size_t len = 0, at = 0;
    // malloc'd bytes have no type of their own: reading them as floats is defined
    // cppcheck-suppress invalidPointerCast
    float *want = (float *)read_all(fixture(expected), &len);
    if (!want) return;
    for (int i = 0; i < n && w->n_conv >= n; i++) {
        CHECKF((at + weight_n(i) + (size_t)vgg19_cout(i)) * 4 <= len, "%s too short", expected);
        if ((at + weight_n(i) + (size_t)vgg19_cout(i)) * 4 > len) break;
        same_bits(vgg19_name(i), w->weight[i], want + at, weight_n(i));
        at += weight_n(i);
        same_bits(vgg19_name(i), w->bias[i], want + at, (size_t)vgg19_cout(i));
        at += (size_t)vgg19_cout(i);
    }
    CHECKF(at * 4 == len, "%s: used %zu of %zu bytes", expected, at * 4, len);
    free(want);
}

// torch.save's legacy file equals torch's own widening and the zip file, bit for bit.
static void check_p8(const char *tag, const char *dtype) {
    char legacy[64], zip[64], expected[64];
    snprintf(legacy, sizeof legacy, "p8_%s.pth", tag);
    snprintf(zip, sizeof zip, "p8_%s_zip.pth", tag);
    snprintf(expected, sizeof expected, "expected_p8_%s.bin", tag);
    nsti_vgg_weights a, b;
    if (!load_ok(&a, fixture(legacy))) return;
    CHECK(a.n_conv == 4);
    CHECKF(strcmp(a.dtype, dtype) == 0, "dtype %s, want %s", a.dtype, dtype);
    check_layers(&a, 4, expected);
    if (load_ok(&b, fixture(zip))) {
        CHECK(b.n_conv == 4);
        for (int i = 0; i < 4 && b.n_conv == 4; i++) {
            same_bits("legacy vs zip weight", a.weight[i], b.weight[i], weight_n(i));
            same_bits("legacy vs zip bias", a.bias[i], b.bias[i], (size_t)vgg19_cout(i));
        }
        CHECK(strcmp(a.norm.name, b.norm.name) == 0);   // the format does not change the convention
        nsti_weights_free(&b);
    }
    nsti_weights_free(&a);
}

static void test_torch_save_f32(void) { check_p8("f32", "F32"); }
static void test_torch_save_f16(void) { check_p8("f16", "F16"); }
static void test_torch_save_bf16(void) { check_p8("bf16", "BF16"); }

static void test_pickle_protocol_4(void) {
    nsti_vgg_weights w;
    if (!load_ok(&w, fixture("p8_f32_proto4.pth"))) return;
    check_layers(&w, 4, "expected_p8_f32.bin");
    nsti_weights_free(&w);
}

static void test_views_into_one_storage(void) {
    nsti_vgg_weights w;
    if (!load_ok(&w, fixture("views.pth"))) return;
    CHECK(w.n_conv == 2);
    check_layers(&w, 2, "expected_views.bin");
    nsti_weights_free(&w);
}

// Every conv layer plus classifier.*, as PyTorch 0.2-0.3 wrote them (_rebuild_tensor).
static void test_jcjohnson_like(void) {
    nsti_pth_file *f = NULL;
    nst_error err = {0, ""};
    CHECKF(nsti_pth_open(&f, fixture("jcjohnson.pth"), &err) == NST_OK, "%s", err.msg);
    if (f) {
        CHECK(nsti_pth_count(f) == 32 + 6);
        CHECK(strcmp(nsti_pth_format(f), "pth (legacy)") == 0);
        nsti_pth_close(f);
    }
    nsti_vgg_weights w;
    if (!load_ok(&w, fixture("jcjohnson.pth"))) return;
    CHECK(w.n_conv == 16);
    CHECK(strcmp(w.dtype, "F32") == 0);
    size_t len = 0, at = 0;
    // malloc'd bytes have no type of their own: reading them as floats is defined
    // cppcheck-suppress invalidPointerCast
    float *probe = (float *)read_all(fixture("expected_jcjohnson_probe.bin"), &len);
    for (int i = 0; probe && i < 16 && w.n_conv == 16; i++) {   // bias, first and last 64 weights
        int cout = vgg19_cout(i);
        same_bits("bias", w.bias[i], probe + at, (size_t)cout);
        at += (size_t)cout;
        same_bits("first weights", w.weight[i], probe + at, 64);
        same_bits("last weights", w.weight[i] + weight_n(i) - 64, probe + at + 64, 64);
        at += 128;
    }
    CHECK(!probe || at * 4 == len);
    free(probe);
    nsti_weights_free(&w);
}

// PyTorch 0.1 under Python 2: tensor classes filled by BUILD, SHORT_BINSTRING keys,
// OrderedDict([[key, value], ...]).
static void test_python2_pytorch01(void) {
    nsti_vgg_weights w;
    if (!load_ok(&w, fixture("py2_v0.pth"))) return;
    CHECK(w.n_conv == 2 && strcmp(w.dtype, "F16") == 0);
    check_layers(&w, 2, "expected_py2_v0.bin");
    nsti_weights_free(&w);
}

static void test_storage_view_and_cuda(void) {
    nsti_vgg_weights w;
    if (load_ok(&w, fixture("storage_view.pth"))) {
        check_layers(&w, 1, "expected_small.bin");
        nsti_weights_free(&w);
    }
    if (load_ok(&w, fixture("cuda.pth"))) {
        check_layers(&w, 1, "expected_small.bin");
        nsti_weights_free(&w);
    }
}

// The pickles are read in a growing prefix of the file: one over 64 KB still loads,
// also in protocol 4, whose frames the first prefix cuts.
static void check_big_pickle(const char *name) {
    nsti_pth_file *f = NULL;
    nst_error err = {0, ""};
    CHECKF(nsti_pth_open(&f, fixture(name), &err) == NST_OK, "%s", err.msg);
    if (!f) return;
    CHECK(nsti_pth_count(f) == 3002);
    float *d = NULL;
    int64_t shape[8];
    int ndim = 0;
    CHECK(nsti_pth_read_f32(f, "classifier.2999.bias", &d, shape, &ndim, &err) == NST_OK);
    CHECK(d && ndim == 1 && shape[0] == 2 && d[0] == 2999.0f && d[1] == 2999.0f);
    free(d);
    nsti_pth_close(f);
    nsti_vgg_weights w;
    if (load_ok(&w, fixture(name))) {
        check_layers(&w, 1, "expected_small.bin");
        nsti_weights_free(&w);
    }
}

static void test_big_pickle(void) {
    check_big_pickle("big_pickle.pth");
    check_big_pickle("big_pickle_proto4.pth");
}

static void test_api(void) {
    nsti_pth_file *f = NULL;
    nst_error err = {0, ""};
    CHECKF(nsti_pth_open(&f, fixture("p8_f16.pth"), &err) == NST_OK, "%s", err.msg);
    if (f) {
        CHECK(strcmp(nsti_pth_format(f), "pth (legacy)") == 0);
        CHECK(nsti_pth_count(f) == 8);
        CHECK(nsti_pth_name(f, 0) && strcmp(nsti_pth_name(f, 0), "features.0.weight") == 0);
        CHECK(nsti_pth_name(f, 8) == NULL);
        CHECK(nsti_pth_dtype(f, "features.7.bias") && strcmp(nsti_pth_dtype(f, "features.7.bias"), "F16") == 0);
        float *d = NULL;
        int64_t shape[8];
        int ndim = 0;
        CHECK(nsti_pth_read_f32(f, "features.5.weight", &d, shape, &ndim, &err) == NST_OK);
        CHECK(ndim == 4 && shape[0] == 128 && shape[1] == 64 && shape[2] == 3 && shape[3] == 3);
        free(d);
        CHECK(nsti_pth_read_f32(f, "nope", &d, shape, &ndim, &err) == NST_ERR_MODEL && d == NULL);
        nsti_pth_close(f);
    }
    CHECKF(nsti_pth_open(&f, fixture("p8_f16_zip.pth"), &err) == NST_OK, "%s", err.msg);
    if (f) {
        CHECK(strcmp(nsti_pth_format(f), "pth (zip)") == 0);
        nsti_pth_close(f);
    }
}

static void test_sniff(void) {
    static const uint8_t p2[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc},
                         p4[] = {0x80, 0x04, 0x95, 15, 0, 0, 0, 0, 0, 0, 0, 0x8a, 0x0a, 0x6c},
                         st[] = {0x40, 0, 0, 0, 0, 0, 0, 0, '{'}, zip[] = {'P', 'K', 3, 4};
    CHECK(nsti_pth_sniff(p2, sizeof p2) == NST_PTH_LEGACY);
    CHECK(nsti_pth_sniff(p4, sizeof p4) == NST_PTH_LEGACY);
    CHECK(nsti_pth_sniff(p4, 12) == 0);   // cut before the LONG1
    CHECK(nsti_pth_sniff(p2, 3) == 0);
    CHECK(nsti_pth_sniff(st, sizeof st) == 0);
    CHECK(nsti_pth_sniff(zip, sizeof zip) == NST_PTH_ZIP);
}

// One refusal: through nsti_weights_load and nsti_pth_open, the same code and one
// line naming the file and holding `needle`.
static void refused(const char *name, int code, const char *needle) {
    const char *path = fixture(name);
    if (access(path, R_OK) != 0) { CHECKF(0, "missing fixture %s", path); return; }
    nsti_vgg_weights w;
    nst_error err = {0, ""};
    int rc = nsti_weights_load(&w, path, &err);
    if (getenv("NST_TEST_VERBOSE")) printf("  [%d] %s\n", rc, err.msg);
    CHECKF(rc == code, "%s: code %d, want %d: %s", name, rc, code, err.msg);
    CHECKF(rc != NST_OK && rc == err.code, "%s: rc %d, err.code %d", name, rc, err.code);
    CHECKF(strstr(err.msg, name) != NULL, "message does not name %s: %s", name, err.msg);
    CHECKF(strstr(err.msg, needle) != NULL, "%s: message lacks '%s': %s", name, needle, err.msg);
    CHECKF(!strchr(err.msg, '\n'), "message has a newline: %s", err.msg);
    if (rc == NST_OK) nsti_weights_free(&w);
    CHECK(rc == NST_OK || (w.n_conv == 0 && w.weight[0] == NULL));
    nsti_pth_file *f = (nsti_pth_file *)1;
    nst_error err2 = {0, ""};
    int rc2 = nsti_pth_open(&f, path, &err2);
    CHECKF(rc2 == rc && f == NULL && strcmp(err.msg, err2.msg) == 0, "%s: nsti_pth_open gave %d: %s", name, rc2,
           err2.msg);
    if (rc2 == NST_OK && f) nsti_pth_close(f);
}

static void test_refusals(void) {
    static const struct { const char *file; int code; const char *needle; } cases[] = {
        {"bad_magic.pth", NST_ERR_FORMAT, "wrong magic number"},
        {"bad_version.pth", NST_ERR_FORMAT, "format version 1002"},
        {"bad_big_endian.pth", NST_ERR_FORMAT, "big-endian"},
        {"bad_no_sysinfo.pth", NST_ERR_FORMAT, "little_endian"},
        {"bad_count_lies.pth", NST_ERR_FORMAT, "holds 1729 elements, but the pickle declares 1728"},
        {"bad_storage_huge.pth", NST_ERR_LIMIT, "exceed the limit"},
        {"bad_storage_short.pth", NST_ERR_FORMAT, "(truncated)"},
        {"bad_tensor_past_storage.pth", NST_ERR_FORMAT, "past the end of storage 0 (1000 elements)"},
        {"bad_offset_past_storage.pth", NST_ERR_FORMAT, "elements [1, 1729) past the end"},
        {"bad_view_past_storage.pth", NST_ERR_FORMAT, "view [1000, +1000) past"},
        {"bad_os_system.pth", NST_ERR_FORMAT, "forbidden global 'os system'"},
        {"bad_missing_key.pth", NST_ERR_FORMAT, "storage 1 is missing"},
        {"bad_duplicate_key.pth", NST_ERR_FORMAT, "storage 1 is listed twice"},
        {"bad_unused_key.pth", NST_ERR_FORMAT, "storage 2 is listed but no tensor uses it"},
        {"bad_trailing.pth", NST_ERR_FORMAT, "16 bytes after the last storage"},
        {"bad_class_dtype.pth", NST_ERR_FORMAT, "tensor class is F16"},
        {"bad_class_unbuilt.pth", NST_ERR_FORMAT, "never given its storage"},
        {"bad_disagree.pth", NST_ERR_FORMAT, "disagree"},
        {"bad_rebuild_args.pth", NST_ERR_FORMAT, "_rebuild_tensor_v2 called with 4 arguments"},
        {"bad_five_item_pid.pth", NST_ERR_FORMAT, "tuple of 6 items"},
        {"bad_zip_rebuild_tensor.pth", NST_ERR_FORMAT, "forbidden global 'torch._utils _rebuild_tensor'"},
        {"bad_trunc_mid_magic.pth", NST_ERR_FORMAT, "legacy torch.save header: truncated"},
        {"bad_trunc_after_magic.pth", NST_ERR_FORMAT, "legacy torch.save header: truncated"},
        {"bad_trunc_mid_version.pth", NST_ERR_FORMAT, "legacy torch.save header: truncated"},
        {"bad_trunc_after_version.pth", NST_ERR_FORMAT, "legacy torch.save header: truncated"},
        {"bad_trunc_mid_sysinfo.pth", NST_ERR_FORMAT, "legacy torch.save header: truncated"},
        {"bad_trunc_after_sysinfo.pth", NST_ERR_FORMAT, "legacy state dict pickle: truncated"},
        {"bad_trunc_mid_state.pth", NST_ERR_FORMAT, "legacy state dict pickle: truncated"},
        {"bad_trunc_after_state.pth", NST_ERR_FORMAT, "legacy storage key list: truncated"},
        {"bad_trunc_mid_keys.pth", NST_ERR_FORMAT, "legacy storage key list: truncated"},
        {"bad_trunc_after_keys.pth", NST_ERR_FORMAT, "truncated at the element count of storage 0"},
        {"bad_trunc_mid_count.pth", NST_ERR_FORMAT, "truncated at the element count of storage 0"},
        {"bad_trunc_after_count.pth", NST_ERR_FORMAT, "storage 0 needs 6912 bytes, but the file ends after 0"},
        {"bad_trunc_mid_storage.pth", NST_ERR_FORMAT, "storage 0 needs 6912 bytes, but the file ends after 100"},
        {"bad_trunc_after_storage.pth", NST_ERR_FORMAT, "truncated at the element count of storage 1"},
        {"bad_trunc_mid_second_count.pth", NST_ERR_FORMAT, "truncated at the element count of storage 1"},
        {"bad_trunc_one_short.pth", NST_ERR_FORMAT, "storage 1 needs 256 bytes, but the file ends after 255"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) refused(cases[i].file, cases[i].code, cases[i].needle);
}

// Every prefix of a small good file is refused cleanly; the whole file loads.
static void test_every_prefix(void) {
    size_t len = 0;
    uint8_t *d = read_all(fixture("cuda.pth"), &len);
    if (!d) return;
    char path[512];
    snprintf(path, sizeof path, "%s/cut.pth", tmpdir);
    int bad = 0;
    for (size_t n = 1; n <= len && bad < 5; n++) {
        FILE *fp = fopen(path, "wb");
        if (!fp || fwrite(d, 1, n, fp) != n) { CHECKF(0, "cannot write %s", path); if (fp) fclose(fp); break; }
        fclose(fp);
        nsti_pth_file *f = NULL;
        nst_error err = {0, ""};
        int rc = nsti_pth_open(&f, path, &err);
        if (n == len) {
            CHECKF(rc == NST_OK, "the whole file: %s", err.msg);
        } else if (rc == NST_OK || !strstr(err.msg, path) || strchr(err.msg, '\n') || rc != NST_ERR_FORMAT) {
            CHECKF(0, "prefix of %zu bytes: rc %d: %s", n, rc, err.msg);
            bad++;
        }
        nsti_pth_close(f);
    }
    unlink(path);
    free(d);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nst_test_legacy.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST(test_torch_save_f32);
    TEST(test_torch_save_f16);
    TEST(test_torch_save_bf16);
    TEST(test_pickle_protocol_4);
    TEST(test_views_into_one_storage);
    TEST(test_jcjohnson_like);
    TEST(test_python2_pytorch01);
    TEST(test_storage_view_and_cuda);
    TEST(test_big_pickle);
    TEST(test_api);
    TEST(test_sniff);
    TEST(test_refusals);
    TEST(test_every_prefix);
    rmdir(tmpdir);
    return nst_test_summary();
}
