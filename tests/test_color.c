// Colour preservation's building blocks (src/color): YCbCr chroma transfer,
// luminance with matched statistics, and linear colour transfer. The checks use
// their own arithmetic (JPEG's rounded YCbCr constants, plain covariance sums), not
// the library's.
#include "testlib.h"
#include "nst.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 0x1234567887654321ULL;
static double uniform(void) {   // 0..1
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

// JPEG's (JFIF) full-range BT.601 conversion, with the constants as the standard
// prints them.
static void ycbcr(const nst_image *img, size_t i, double *y, double *cb, double *cr) {
    size_t n = (size_t)img->w * img->h;
    double r = img->data[i], g = img->data[n + i], b = img->data[2 * n + i];
    *y = 0.299 * r + 0.587 * g + 0.114 * b;
    *cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    *cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
}

// A random picture whose channels are correlated: c = base + mix * noise.
static void random_image(nst_image *img, int w, int h, double mix[3][3], double base[3]) {
    nst_error err;
    CHECK(nst_image_alloc(img, w, h, &err) == 0);
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        double z[3] = {uniform() - 0.5, uniform() - 0.5, uniform() - 0.5};
        for (int c = 0; c < 3; c++)
            img->data[c * n + i] = (float)(base[c] + mix[c][0] * z[0] + mix[c][1] * z[1] + mix[c][2] * z[2]);
    }
}

static void random_pair(nst_image *a, nst_image *b, int w, int h) {
    double mix_a[3][3] = {{200, 30, 0}, {150, 60, 10}, {90, -20, 40}}, base_a[3] = {120, 110, 90};
    double mix_b[3][3] = {{40, 0, 100}, {-30, 80, 20}, {10, 10, 230}}, base_b[3] = {60, 140, 170};
    random_image(a, w, h, mix_a, base_a);
    random_image(b, w, h, mix_b, base_b);
}

// Two real pictures of the shared set at the same size (w x h of the first, fitted to 128).
static int real_pair(nst_image *a, nst_image *b, int same_size) {
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/images/tubingen.jpg", nst_test_shared());
    snprintf(pb, sizeof pb, "%s/images/starry_night.jpg", nst_test_shared());
    nst_image fa = {0}, fb = {0};
    nst_error err;
    int ok = nst_image_load(&fa, pa, NST_DEFAULT_MAX_PIXELS, &err) == 0 &&
             nst_image_load(&fb, pb, NST_DEFAULT_MAX_PIXELS, &err) == 0 &&
             nst_image_fit(a, &fa, 128, &err) == 0 &&
             (same_size ? nst_image_resize(b, &fb, a->w, a->h, &err) : nst_image_fit(b, &fb, 100, &err)) == 0;
    CHECKF(ok, "%s", err.msg);
    nst_image_free(&fa);
    nst_image_free(&fb);
    return ok;
}

// ---- keep_chroma ------------------------------------------------------------------

static void check_keep_chroma(const nst_image *result, const nst_image *content, const char *what) {
    nst_image out = {0};
    nst_error err;
    CHECKF(nst_color_keep_chroma(&out, result, content, &err) == 0, "%s: %s", what, err.msg);
    if (!out.data) return;
    CHECK(out.w == result->w && out.h == result->h);
    size_t n = (size_t)out.w * out.h;
    double worst_y = 0, worst_c = 0;
    for (size_t i = 0; i < n; i++) {
        double y, cb, cr, yr, cbr, crr, yc, cbc, crc;
        ycbcr(&out, i, &y, &cb, &cr);
        ycbcr(result, i, &yr, &cbr, &crr);
        ycbcr(content, i, &yc, &cbc, &crc);
        worst_y = fmax(worst_y, fabs(y - yr));
        worst_c = fmax(worst_c, fmax(fabs(cb - cbc), fabs(cr - crc)));
    }
    CHECKF(worst_y <= 1e-3, "%s: Y differs from the result's by %g", what, worst_y);
    CHECKF(worst_c <= 1e-3, "%s: Cb/Cr differ from the content's by %g", what, worst_c);
    nst_image_free(&out);
}

static void test_keep_chroma_random(void) {
    nst_image a = {0}, b = {0};
    random_pair(&a, &b, 37, 23);
    check_keep_chroma(&a, &b, "random");
    check_keep_chroma(&b, &a, "random, swapped");
    // and it is not the identity: the output differs from both inputs
    nst_image out = {0};
    nst_error err;
    CHECK(nst_color_keep_chroma(&out, &a, &b, &err) == 0);
    double da = 0, db = 0;
    for (size_t i = 0; out.data && i < 3 * (size_t)a.w * a.h; i++) {
        da = fmax(da, fabs(out.data[i] - a.data[i]));
        db = fmax(db, fabs(out.data[i] - b.data[i]));
    }
    CHECKF(da > 1 && db > 1, "output equals an input (%g, %g)", da, db);
    nst_image_free(&out);
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_keep_chroma_real(void) {
    nst_image a = {0}, b = {0};
    if (real_pair(&a, &b, 1)) {
        check_keep_chroma(&b, &a, "starry night's luminance, tubingen's chroma");
        // a result equal to the content gives the content back
        nst_image out = {0};
        nst_error err;
        CHECK(nst_color_keep_chroma(&out, &a, &a, &err) == 0);
        if (out.data) nst_test_close("content with its own chroma", out.data, a.data, 3L * a.w * a.h, 0, 1e-3);
        nst_image_free(&out);
    }
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_keep_chroma_refuses_other_sizes(void) {
    nst_image a = {0}, b = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&a, 10, 8, &err) == 0 && nst_image_alloc(&b, 8, 10, &err) == 0);
    CHECK(nst_color_keep_chroma(&out, &a, &b, &err) == NST_ERR_USAGE);
    CHECKF(strstr(err.msg, "10x8") && strstr(err.msg, "8x10"), "%s", err.msg);
    CHECK(out.data == NULL);
    nst_image empty = {0};
    CHECK(nst_color_keep_chroma(&out, &empty, &a, &err) == NST_ERR_USAGE);
    CHECK(nst_color_luminance(&out, &empty, NULL, &err) == NST_ERR_USAGE);
    CHECK(nst_color_match(&out, &a, &empty, &err) == NST_ERR_USAGE);
    CHECK(out.data == NULL);
    nst_image_free(&a);
    nst_image_free(&b);
}

// ---- luminance --------------------------------------------------------------------

static void y_stats(const nst_image *img, double *mean, double *std) {
    size_t n = (size_t)img->w * img->h;
    double s = 0, s2 = 0, y, cb, cr;
    for (size_t i = 0; i < n; i++) { ycbcr(img, i, &y, &cb, &cr); s += y; }
    *mean = s / n;
    for (size_t i = 0; i < n; i++) { ycbcr(img, i, &y, &cb, &cr); s2 += (y - *mean) * (y - *mean); }
    *std = sqrt(s2 / n);
}

static void check_gray(const nst_image *out, const char *what) {
    size_t n = (size_t)out->w * out->h;
    for (size_t i = 0; i < n; i++)
        if (out->data[i] != out->data[n + i] || out->data[i] != out->data[2 * n + i]) {
            CHECKF(0, "%s: pixel %zu is not gray: %g %g %g", what, i, out->data[i], out->data[n + i],
                   out->data[2 * n + i]);
            return;
        }
}

static void test_luminance_alone(void) {
    nst_image a = {0}, b = {0}, out = {0};
    nst_error err;
    random_pair(&a, &b, 31, 17);
    CHECKF(nst_color_luminance(&out, &a, NULL, &err) == 0, "%s", err.msg);
    if (out.data) {
        check_gray(&out, "no reference");
        size_t n = (size_t)a.w * a.h;
        double worst = 0, y, cb, cr;
        for (size_t i = 0; i < n; i++) {
            ycbcr(&a, i, &y, &cb, &cr);
            worst = fmax(worst, fabs(out.data[i] - y));
        }
        CHECKF(worst <= 1e-3, "Y differs by %g", worst);
    }
    nst_image_free(&out);
    nst_image_free(&a);
    nst_image_free(&b);
}

static void check_luminance_matched(const nst_image *img, const nst_image *ref, const char *what) {
    nst_image out = {0};
    nst_error err;
    CHECKF(nst_color_luminance(&out, img, ref, &err) == 0, "%s: %s", what, err.msg);
    if (!out.data) return;
    check_gray(&out, what);
    double m, s, mr, sr, mi, si;
    y_stats(&out, &m, &s);   // of a gray picture, Y is the gray value
    y_stats(ref, &mr, &sr);
    y_stats(img, &mi, &si);
    CHECKF(fabs(m - mr) <= 1e-3 * fmax(1, mr), "%s: mean %g, reference's %g", what, m, mr);
    CHECKF(fabs(s - sr) <= 1e-3 * fmax(1e-3, sr), "%s: deviation %g, reference's %g", what, s, sr);
    // an affine function of the input's Y: standardized values agree
    size_t n = (size_t)img->w * img->h;
    double worst = 0, y, cb, cr;
    for (size_t i = 0; si > 0 && s > 0 && i < n; i++) {
        ycbcr(img, i, &y, &cb, &cr);
        worst = fmax(worst, fabs((y - mi) / si - (out.data[i] - m) / s));
    }
    CHECKF(worst <= 1e-3, "%s: not an affine map of Y (%g)", what, worst);
    nst_image_free(&out);
}

static void test_luminance_matches_reference(void) {
    nst_image a = {0}, b = {0};
    random_pair(&a, &b, 29, 19);
    check_luminance_matched(&a, &b, "random");
    check_luminance_matched(&b, &a, "random, swapped");
    nst_image_free(&a);
    nst_image_free(&b);
    if (real_pair(&a, &b, 0)) {   // of different sizes
        check_luminance_matched(&b, &a, "starry night to tubingen");
        check_luminance_matched(&a, &b, "tubingen to starry night");
    }
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_luminance_flat(void) {
    nst_image flat = {0}, ref = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&flat, 9, 7, &err) == 0);
    for (size_t i = 0; i < 3 * 63; i++) flat.data[i] = 50;
    double mix[3][3] = {{50, 0, 0}, {0, 50, 0}, {0, 0, 50}}, base[3] = {200, 100, 150};
    random_image(&ref, 12, 5, mix, base);
    CHECKF(nst_color_luminance(&out, &flat, &ref, &err) == 0, "%s", err.msg);
    double mr, sr;
    y_stats(&ref, &mr, &sr);
    for (size_t i = 0; out.data && i < 3 * 63; i++)
        if (!(fabs(out.data[i] - mr) <= 1e-3 * mr)) { CHECKF(0, "flat picture: %g, want the mean %g", out.data[i], mr); break; }
    nst_image_free(&out);
    // and a flat reference flattens the picture
    CHECK(nst_color_luminance(&out, &ref, &flat, &err) == 0);
    for (size_t i = 0; out.data && i < 3 * 60; i++)
        if (!(fabs(out.data[i] - 50) <= 1e-3)) { CHECKF(0, "flat reference: %g, want 50", out.data[i]); break; }
    nst_image_free(&out);
    nst_image_free(&flat);
    nst_image_free(&ref);
}

// ---- colour match -----------------------------------------------------------------

static void stats(const nst_image *img, double mean[3], double cov[3][3]) {
    size_t n = (size_t)img->w * img->h;
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += img->data[c * n + i];
        mean[c] = s / n;
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (img->data[a * n + i] - mean[a]) * (img->data[b * n + i] - mean[b]);
            cov[a][b] = s / n;
        }
}

static void check_match(const nst_image *img, const nst_image *ref, const char *what) {
    nst_image out = {0};
    nst_error err;
    CHECKF(nst_color_match(&out, img, ref, &err) == 0, "%s: %s", what, err.msg);
    if (!out.data) return;
    CHECK(out.w == img->w && out.h == img->h);
    double mo[3], co[3][3], mr[3], cr[3][3], scale = 0, worst_m = 0, worst_c = 0;
    stats(&out, mo, co);
    stats(ref, mr, cr);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) scale = fmax(scale, fabs(cr[a][b]));
    for (int a = 0; a < 3; a++) {
        worst_m = fmax(worst_m, fabs(mo[a] - mr[a]) / fmax(1, fabs(mr[a])));
        for (int b = 0; b < 3; b++) worst_c = fmax(worst_c, fabs(co[a][b] - cr[a][b]) / scale);
    }
    CHECKF(worst_m <= 1e-3, "%s: means differ by %g relative", what, worst_m);
    CHECKF(worst_c <= 1e-3, "%s: covariances differ by %g relative (ref's largest entry %g)", what, worst_c, scale);
    nst_image_free(&out);
}

static void test_match_random(void) {
    nst_image a = {0}, b = {0};
    random_pair(&a, &b, 41, 27);
    check_match(&a, &b, "random");
    check_match(&b, &a, "random, swapped");
    // a picture matched to itself is unchanged: A is the symmetric solution, no rotation
    nst_image out = {0};
    nst_error err;
    CHECK(nst_color_match(&out, &a, &a, &err) == 0);
    if (out.data) nst_test_close("matched to itself", out.data, a.data, 3L * a.w * a.h, 0, 1e-2);
    nst_image_free(&out);
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_match_real(void) {
    nst_image a = {0}, b = {0};
    if (real_pair(&a, &b, 0)) {
        check_match(&b, &a, "starry night to tubingen");
        check_match(&a, &b, "tubingen to starry night");
    }
    nst_image_free(&a);
    nst_image_free(&b);
}

static int all_finite(const nst_image *img) {
    for (size_t i = 0; i < 3 * (size_t)img->w * img->h; i++)
        if (!isfinite(img->data[i])) return 0;
    return 1;
}

static void test_match_degenerate(void) {
    nst_image flat = {0}, gray = {0}, ref = {0}, out = {0};
    nst_error err;
    double mix[3][3] = {{60, 10, 0}, {5, 70, 0}, {0, 20, 50}}, base[3] = {100, 120, 140};
    random_image(&ref, 16, 12, mix, base);
    double mr[3], cr[3][3];
    stats(&ref, mr, cr);
    // a constant picture: finite, every pixel at the reference's mean
    CHECK(nst_image_alloc(&flat, 8, 8, &err) == 0);
    for (int i = 0; i < 64; i++) { flat.data[i] = 10; flat.data[64 + i] = 200; flat.data[128 + i] = 33; }
    CHECKF(nst_color_match(&out, &flat, &ref, &err) == 0, "%s", err.msg);
    if (out.data) {
        CHECK(all_finite(&out));
        for (int c = 0; c < 3; c++)
            CHECKF(fabs(out.data[c * 64 + 5] - mr[c]) <= 1e-3 * mr[c], "channel %d: %g, want %g", c, out.data[c * 64 + 5], mr[c]);
    }
    nst_image_free(&out);
    // a gray picture (rank one covariance): finite, and its own variation kept in order
    CHECK(nst_image_alloc(&gray, 16, 4, &err) == 0);
    for (int i = 0; i < 64; i++) gray.data[i] = gray.data[64 + i] = gray.data[128 + i] = (float)(4 * i);
    CHECKF(nst_color_match(&out, &gray, &ref, &err) == 0, "%s", err.msg);
    if (out.data) {
        CHECK(all_finite(&out));
        double mo[3], co[3][3];
        stats(&out, mo, co);
        for (int c = 0; c < 3; c++) {
            CHECKF(fabs(mo[c] - mr[c]) <= 1e-3 * mr[c], "gray: mean %g, want %g", mo[c], mr[c]);
            CHECKF(co[c][c] <= 1.01 * (cr[0][0] + cr[1][1] + cr[2][2]), "gray: variance %g blew up", co[c][c]);
        }
        double lum0 = out.data[0] + out.data[64] + out.data[128], lum1 = out.data[63] + out.data[127] + out.data[191];
        CHECKF(lum1 > lum0, "gray ramp reversed: %g -> %g", lum0, lum1);
    }
    nst_image_free(&out);
    // a flat reference: everything goes to its colour
    CHECKF(nst_color_match(&out, &ref, &flat, &err) == 0, "%s", err.msg);
    if (out.data) {
        CHECK(all_finite(&out));
        double want[3] = {10, 200, 33};
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < ref.w * ref.h; i++)
                if (!(fabs(out.data[c * ref.w * ref.h + i] - want[c]) <= 1e-2)) {
                    CHECKF(0, "flat reference: channel %d is %g, want %g", c, out.data[c * ref.w * ref.h + i], want[c]);
                    break;
                }
    }
    nst_image_free(&out);
    // a single pixel
    nst_image one = {0};
    CHECK(nst_image_alloc(&one, 1, 1, &err) == 0);
    one.data[0] = 1; one.data[1] = 2; one.data[2] = 3;
    CHECK(nst_color_match(&out, &one, &ref, &err) == 0 && out.data && all_finite(&out));
    nst_image_free(&out);
    CHECK(nst_color_luminance(&out, &one, &one, &err) == 0 && out.data && all_finite(&out));
    nst_image_free(&out);
    // NaN is refused rather than spread
    one.data[1] = NAN;
    CHECK(nst_color_match(&out, &one, &ref, &err) != 0 && out.data == NULL);
    nst_image_free(&one);
    nst_image_free(&flat);
    nst_image_free(&gray);
    nst_image_free(&ref);
}

int main(void) {
    TEST(test_keep_chroma_random);
    TEST(test_keep_chroma_real);
    TEST(test_keep_chroma_refuses_other_sizes);
    TEST(test_luminance_alone);
    TEST(test_luminance_matches_reference);
    TEST(test_luminance_flat);
    TEST(test_match_random);
    TEST(test_match_real);
    TEST(test_match_degenerate);
    return nst_test_summary();
}
