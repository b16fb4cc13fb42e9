// Optical flow (src/video/flow.c, flow_dis.cpp): the warp and the consistency mask
// against values worked out by hand (plain C, with or without OpenCV), and DIS's flow
// on pictures whose motion is known (only when nst was built with OpenCV).
#include "testlib.h"
#include "nst.h"
#include "video/flow.h"
#include "video/plugin.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static double uniform(void) {   // 0..1
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static float px(const nst_image *img, int c, int x, int y) {
    return img->data[(size_t)c * img->w * img->h + (size_t)y * img->w + x];
}

static void random_image(nst_image *img, int w, int h) {
    nst_error err;
    CHECK(nst_image_alloc(img, w, h, &err) == 0);
    for (size_t i = 0; i < (size_t)3 * w * h; i++) img->data[i] = (float)(255 * uniform());
}

// A flow field of w x h, every vector (dx, dy).
static void const_flow(nst_flow *f, int w, int h, float dx, float dy) {
    size_t n = (size_t)w * h;
    f->w = w;
    f->h = h;
    f->data = malloc(2 * n * sizeof *f->data);
    CHECK(f->data != NULL);
    for (size_t i = 0; i < n; i++) { f->data[i] = dx; f->data[n + i] = dy; }
}

static float *flow_dx(nst_flow *f, int x, int y) { return &f->data[(size_t)y * f->w + x]; }
static float *flow_dy(nst_flow *f, int x, int y) { return &f->data[(size_t)f->w * f->h + (size_t)y * f->w + x]; }

static int one_line(const char *msg) { return msg[0] && !strchr(msg, '\n') && !strchr(msg, '\r'); }

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

// ---- warp -----------------------------------------------------------------------------

// An integer shift moves the picture exactly; beyond the border the edge repeats.
static void test_warp_integer_shift(void) {
    nst_image img = {0}, out = {0};
    nst_flow f = {0};
    nst_error err;
    const int w = 7, h = 5;
    random_image(&img, w, h);
    const int shifts[3][2] = {{2, 1}, {-3, 2}, {0, -1}};
    for (int k = 0; k < 3; k++) {
        int sx = shifts[k][0], sy = shifts[k][1];
        const_flow(&f, w, h, (float)sx, (float)sy);
        CHECKF(nst_flow_warp(&out, &img, &f, &err) == 0, "%s", err.msg);
        if (!out.data) { nst_flow_free(&f); continue; }
        CHECK(out.w == w && out.h == h);
        int bad = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    bad += px(&out, c, x, y) != px(&img, c, clampi(x + sx, 0, w - 1), clampi(y + sy, 0, h - 1));
        CHECKF(bad == 0, "shift (%d, %d): %d values differ", sx, sy, bad);
        nst_image_free(&out);
        nst_flow_free(&f);
    }
    nst_image_free(&img);
}

// dx in the first plane, dy in the second: a flow (y - x, x - y) transposes a square.
static void test_warp_per_pixel(void) {
    nst_image img = {0}, out = {0};
    nst_flow f = {0};
    nst_error err;
    const int s = 6;
    random_image(&img, s, s);
    const_flow(&f, s, s, 0, 0);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) { *flow_dx(&f, x, y) = (float)(y - x); *flow_dy(&f, x, y) = (float)(x - y); }
    CHECKF(nst_flow_warp(&out, &img, &f, &err) == 0, "%s", err.msg);
    int bad = 0;
    for (int c = 0; out.data && c < 3; c++)
        for (int y = 0; y < s; y++)
            for (int x = 0; x < s; x++) bad += px(&out, c, x, y) != px(&img, c, y, x);
    CHECKF(out.data && bad == 0, "%d values differ from the transposed picture", bad);
    nst_image_free(&out);
    nst_flow_free(&f);
    nst_image_free(&img);
}

// Half a pixel gives the mean of the two neighbours (four, diagonally), the last
// column or row its own value.
static void test_warp_half_pixel(void) {
    nst_image img = {0}, out = {0};
    nst_flow f = {0};
    nst_error err;
    const int w = 6, h = 4;
    random_image(&img, w, h);
    const float shifts[3][2] = {{0.5f, 0}, {0, 0.5f}, {-0.5f, -0.5f}};
    for (int k = 0; k < 3; k++) {
        float sx = shifts[k][0], sy = shifts[k][1];
        const_flow(&f, w, h, sx, sy);
        CHECKF(nst_flow_warp(&out, &img, &f, &err) == 0, "%s", err.msg);
        double worst = 0;
        for (int c = 0; out.data && c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    // the two columns (rows) around x + sx (y + sy), clamped
                    int x0 = clampi((int)floor(x + sx), 0, w - 1), x1 = clampi((int)ceil(x + sx), 0, w - 1);
                    int y0 = clampi((int)floor(y + sy), 0, h - 1), y1 = clampi((int)ceil(y + sy), 0, h - 1);
                    double want = (px(&img, c, x0, y0) + px(&img, c, x1, y0) + px(&img, c, x0, y1) +
                                   px(&img, c, x1, y1)) / 4.0;
                    worst = fmax(worst, fabs(px(&out, c, x, y) - want));
                }
        CHECKF(out.data && worst < 1e-4, "shift (%g, %g): off by %g", sx, sy, worst);
        // spot checks written out
        if (out.data && k == 0) {
            CHECK(fabsf(px(&out, 1, 2, 3) - (px(&img, 1, 2, 3) + px(&img, 1, 3, 3)) / 2) < 1e-4f);
            CHECK(px(&out, 2, w - 1, 1) == px(&img, 2, w - 1, 1));
        }
        nst_image_free(&out);
        nst_flow_free(&f);
    }
    nst_image_free(&img);
}

// Far outside the picture the nearest corner is taken; a quarter pixel weighs 1:3.
static void test_warp_border_clamp(void) {
    nst_image img = {0}, out = {0};
    nst_flow f = {0};
    nst_error err;
    const int w = 5, h = 4;
    random_image(&img, w, h);
    const_flow(&f, w, h, 1000, -1000);
    CHECKF(nst_flow_warp(&out, &img, &f, &err) == 0, "%s", err.msg);
    int bad = 0;
    for (int c = 0; out.data && c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) bad += px(&out, c, x, y) != px(&img, c, w - 1, 0);
    CHECKF(out.data && bad == 0, "%d values are not the top right corner's", bad);
    nst_image_free(&out);
    nst_flow_free(&f);
    // (-1.25, 0): columns 0 and 1 clamp to column 0; column 2 samples 0.75: 1/4 of column 0, 3/4 of 1
    const_flow(&f, w, h, -1.25f, 0);
    CHECKF(nst_flow_warp(&out, &img, &f, &err) == 0, "%s", err.msg);
    if (out.data) {
        CHECK(px(&out, 0, 0, 2) == px(&img, 0, 0, 2));
        CHECK(px(&out, 1, 1, 3) == px(&img, 1, 0, 3));
        CHECK(fabsf(px(&out, 2, 2, 1) - (0.25f * px(&img, 2, 0, 1) + 0.75f * px(&img, 2, 1, 1))) < 1e-4f);
        CHECK(fabsf(px(&out, 0, 4, 0) - (0.25f * px(&img, 0, 2, 0) + 0.75f * px(&img, 0, 3, 0))) < 1e-4f);
    }
    nst_image_free(&out);
    nst_flow_free(&f);
    nst_image_free(&img);
}

static void test_warp_refusals(void) {
    nst_image img = {0}, out = {0};
    nst_flow f = {0};
    nst_error err = {0};
    random_image(&img, 5, 4);
    const_flow(&f, 4, 5, 0, 0);
    CHECK(nst_flow_warp(&out, &img, &f, &err) == NST_ERR_USAGE && out.data == NULL);
    CHECKF(one_line(err.msg) && strstr(err.msg, "5x4") && strstr(err.msg, "4x5"), "%s", err.msg);
    nst_flow_free(&f);
    const_flow(&f, 5, 4, 0, 0);
    f.data[7] = NAN;
    CHECK(nst_flow_warp(&out, &img, &f, &err) == NST_ERR_USAGE && out.data == NULL && one_line(err.msg));
    f.data[7] = 0;
    img.data[3] = INFINITY;
    CHECK(nst_flow_warp(&out, &img, &f, &err) == NST_ERR_USAGE && out.data == NULL && one_line(err.msg));
    nst_flow empty = {0};
    CHECK(nst_flow_warp(&out, &img, &empty, &err) == NST_ERR_USAGE && out.data == NULL && one_line(err.msg));
    // freeing is safe on a zeroed flow and twice
    nst_flow_free(&empty);
    nst_flow_free(&f);
    nst_flow_free(&f);
    CHECK(f.data == NULL && f.w == 0 && f.h == 0);
    nst_flow_free(NULL);
    nst_image_free(&img);
}

// ---- consistency ----------------------------------------------------------------------

// Counts the mask's values that differ from want(x, y) (0 or 255), checking that the
// three channels agree and hold only 0 and 255.
static int mask_mismatches(const nst_image *m, int (*want)(int x, int y, int w, int h), int verbose) {
    int bad = 0;
    for (int y = 0; y < m->h; y++)
        for (int x = 0; x < m->w; x++) {
            float v = px(m, 0, x, y);
            if (px(m, 1, x, y) != v || px(m, 2, x, y) != v || (v != 0 && v != 255)) { bad++; continue; }
            if (v != want(x, y, m->w, m->h)) {
                if (verbose && bad < 5) fprintf(stderr, "    (%d, %d): %g, want %d\n", x, y, v, want(x, y, m->w, m->h));
                bad++;
            }
        }
    return bad;
}

// Backward (2, -1), forward (-2, 1): consistent everywhere p + w_b stays in the picture.
static int want_shift(int x, int y, int w, int h) {
    (void)h;
    return x + 2 <= w - 1 && y - 1 >= 0 ? 255 : 0;
}

static void test_consistency_constant_shift(void) {
    nst_flow b = {0}, f = {0};
    nst_image m = {0};
    nst_error err;
    const int w = 20, h = 15;
    const_flow(&b, w, h, 2, -1);
    const_flow(&f, w, h, -2, 1);
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    CHECK(m.data && m.w == w && m.h == h);
    if (m.data) CHECKF(mask_mismatches(&m, want_shift, 1) == 0, "see above");
    nst_image_free(&m);
    // a zero flow both ways: all consistent, the border included
    nst_flow_free(&b);
    nst_flow_free(&f);
    const_flow(&b, w, h, 0, 0);
    const_flow(&f, w, h, 0, 0);
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    int zeros = 0;
    for (size_t i = 0; m.data && i < (size_t)3 * w * h; i++) zeros += m.data[i] != 255;
    CHECKF(m.data && zeros == 0, "%d values are not 255", zeros);
    nst_image_free(&m);
    // forward not the inverse of backward: inconsistent everywhere
    nst_flow_free(&f);
    const_flow(&f, w, h, 2, -1);
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    int whites = 0;
    for (size_t i = 0; m.data && i < (size_t)3 * w * h; i++) whites += m.data[i] != 0;
    CHECKF(m.data && whites == 0, "%d values are not 0", whites);
    nst_image_free(&m);
    nst_flow_free(&b);
    nst_flow_free(&f);
}

// A square of S x S moves right by 4 pixels from frame i-1 (at X0, Y0) to frame i;
// the background stays. In frame i the strip the square left, x in [X0, X0 + 4), is
// disoccluded: the backward flow there is 0, but the forward flow at the same place
// (the square in frame i-1) is +4. The square's edges in frame i are motion boundaries
// (the backward flow jumps from 0 to -4 between x = X0 + 3 and X0 + 4, and so on).
enum { SQ_X0 = 10, SQ_Y0 = 8, SQ_S = 12, SQ_D = 4 };
static int in_square(int x, int y, int x0) { return x >= x0 && x < x0 + SQ_S && y >= SQ_Y0 && y < SQ_Y0 + SQ_S; }

static int want_square(int x, int y, int w, int h) {
    (void)w; (void)h;
    // disoccluded
    if (y >= SQ_Y0 && y < SQ_Y0 + SQ_S && x >= SQ_X0 && x < SQ_X0 + SQ_D) return 0;
    // the backward flow's central differences reach one pixel on each side of an edge
    int near_edge = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if ((dx == 0) != (dy == 0) &&
                in_square(x + dx, y + dy, SQ_X0 + SQ_D) != in_square(x, y, SQ_X0 + SQ_D))
                near_edge = 1;
    return near_edge ? 0 : 255;
}

static void test_consistency_occlusion(void) {
    nst_flow b = {0}, f = {0};
    nst_image m = {0};
    nst_error err;
    const int w = 40, h = 30;
    const_flow(&b, w, h, 0, 0);
    const_flow(&f, w, h, 0, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (in_square(x, y, SQ_X0 + SQ_D)) *flow_dx(&b, x, y) = -SQ_D;   // frame i -> i-1
            if (in_square(x, y, SQ_X0)) *flow_dx(&f, x, y) = SQ_D;           // frame i-1 -> i
        }
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    if (m.data) {
        CHECKF(mask_mismatches(&m, want_square, 1) == 0, "see above");
        // the middle of the strip is only disoccluded, no motion boundary
        CHECK(px(&m, 0, SQ_X0 + 1, SQ_Y0 + SQ_S / 2) == 0);
        CHECK(px(&m, 1, SQ_X0 + SQ_D + SQ_S / 2, SQ_Y0 + SQ_S / 2) == 255);
    }
    nst_image_free(&m);
    nst_flow_free(&b);
    nst_flow_free(&f);
}

// A sharp edge in the backward flow, (0.5, 0) left of x = E and (0, 0) from it on, with
// the forward flow its opposite: forward and backward agree within the threshold
// everywhere, but the two columns beside the edge are a motion boundary.
enum { EDGE_X = 9 };
static int want_edge(int x, int y, int w, int h) {
    (void)y; (void)w; (void)h;
    return x == EDGE_X - 1 || x == EDGE_X ? 0 : 255;
}

static void test_consistency_motion_boundary(void) {
    nst_flow b = {0}, f = {0};
    nst_image m = {0};
    nst_error err;
    const int w = 20, h = 12;
    const_flow(&b, w, h, 0, 0);
    const_flow(&f, w, h, 0, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < EDGE_X; x++) { *flow_dx(&b, x, y) = 0.5f; *flow_dx(&f, x, y) = -0.5f; }
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    if (m.data) CHECKF(mask_mismatches(&m, want_edge, 1) == 0, "see above");
    nst_image_free(&m);
    // the same edge in dy, across rows
    nst_flow_free(&b);
    nst_flow_free(&f);
    const_flow(&b, h, w, 0, 0);   // transposed: h columns, w rows
    const_flow(&f, h, w, 0, 0);
    for (int y = 0; y < EDGE_X; y++)
        for (int x = 0; x < h; x++) { *flow_dy(&b, x, y) = 0.5f; *flow_dy(&f, x, y) = -0.5f; }
    CHECKF(nst_flow_consistency(&m, &b, &f, &err) == 0, "%s", err.msg);
    int bad = 0;
    for (int y = 0; m.data && y < m.h; y++)
        for (int x = 0; x < m.w; x++) bad += px(&m, 2, x, y) != want_edge(y, x, 0, 0);
    CHECKF(m.data && bad == 0, "dy edge: %d pixels wrong", bad);
    nst_image_free(&m);
    nst_flow_free(&b);
    nst_flow_free(&f);
}

static void test_consistency_refusals(void) {
    nst_flow b = {0}, f = {0};
    nst_image m = {0};
    nst_error err = {0};
    const_flow(&b, 8, 6, 0, 0);
    const_flow(&f, 6, 8, 0, 0);
    CHECK(nst_flow_consistency(&m, &b, &f, &err) == NST_ERR_USAGE && m.data == NULL);
    CHECKF(one_line(err.msg) && strstr(err.msg, "8x6") && strstr(err.msg, "6x8"), "%s", err.msg);
    nst_flow_free(&f);
    const_flow(&f, 8, 6, 0, 0);
    f.data[60] = -INFINITY;
    CHECK(nst_flow_consistency(&m, &b, &f, &err) == NST_ERR_USAGE && m.data == NULL && one_line(err.msg));
    nst_flow_free(&b);
    nst_flow_free(&f);
}

// ---- compute (DIS) --------------------------------------------------------------------

static int skip_without_opencv(void) {
    if (nst_flow_available()) return 0;
    printf("  skipped: nst was built without OpenCV\n");
    return 1;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

// The median of a flow component over the interior (margin pixels off each side).
static double interior_median(const nst_flow *f, int plane, int margin) {
    int n = 0;
    float *v = malloc(sizeof *v * (size_t)f->w * f->h);
    for (int y = margin; y < f->h - margin; y++)
        for (int x = margin; x < f->w - margin; x++)
            v[n++] = f->data[(size_t)plane * f->w * f->h + (size_t)y * f->w + x];
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    double m = n ? v[n / 2] : NAN;
    free(v);
    return m;
}

static double interior_mean_abs_diff(const nst_image *a, const nst_image *b, int margin) {
    double s = 0;
    long n = 0;
    for (int c = 0; c < 3; c++)
        for (int y = margin; y < a->h - margin; y++)
            for (int x = margin; x < a->w - margin; x++, n++) s += fabs(px(a, c, x, y) - px(b, c, x, y));
    return s / (double)n;
}

// Smooth texture: sines in several directions, a little different in each channel.
static double texture(int c, double x, double y) {
    return 128 + 45 * sin(0.21 * x + 0.05 * y + c) + 35 * sin(0.13 * y - 0.08 * x + 1) +
           25 * cos(0.31 * x + 0.27 * y) + 12 * sin(0.45 * y + 0.1 * c);
}

// Computes the flow a -> b, where b(p) = a(p - s) for a constant s = (want_dx, want_dy),
// and checks over the interior (margin pixels off each side): the median flow is s
// within tol, the mean endpoint error is at most max_epe, and b warped along the flow
// is within max_err (mean absolute difference) of b warped along s exactly (which is a
// itself for a whole-pixel shift). Returns the flow in *out_flow when asked.
static void check_recovered(const char *what, const nst_image *a, const nst_image *b, double want_dx,
                            double want_dy, int margin, double tol, double max_epe, double max_err,
                            nst_flow *out_flow) {
    nst_flow f = {0}, exact = {0};
    nst_image back = {0}, ideal = {0};
    nst_error err;
    CHECKF(nst_flow_compute(&f, a, b, &err) == 0, "%s: %s", what, err.msg);
    if (!f.data) return;
    CHECK(f.w == a->w && f.h == a->h);
    double mx = interior_median(&f, 0, margin), my = interior_median(&f, 1, margin);
    double epe = 0;
    long n = 0;
    for (int y = margin; y < f.h - margin; y++)
        for (int x = margin; x < f.w - margin; x++, n++)
            epe += hypot(*flow_dx(&f, x, y) - want_dx, *flow_dy(&f, x, y) - want_dy);
    epe /= (double)n;
    printf("  %s: median flow (%.3f, %.3f), want (%g, %g); mean endpoint error %.3f px\n", what, mx, my, want_dx,
           want_dy, epe);
    CHECKF(fabs(mx - want_dx) <= tol && fabs(my - want_dy) <= tol, "%s: median (%g, %g), want (%g, %g)", what, mx,
           my, want_dx, want_dy);
    CHECKF(epe <= max_epe, "%s: mean endpoint error %g px", what, epe);
    const_flow(&exact, a->w, a->h, (float)want_dx, (float)want_dy);
    CHECKF(nst_flow_warp(&back, b, &f, &err) == 0 && nst_flow_warp(&ideal, b, &exact, &err) == 0, "%s", err.msg);
    if (back.data && ideal.data) {
        double e = interior_mean_abs_diff(&back, &ideal, margin), e0 = interior_mean_abs_diff(b, &ideal, margin),
               ea = interior_mean_abs_diff(&back, a, margin);
        printf("  %s: b warped back: mean |error| %.3f (b itself: %.3f; from a: %.3f)\n", what, e, e0, ea);
        CHECKF(e <= max_err, "%s: b warped along the flow is off by %g on average", what, e);
    }
    nst_image_free(&back);
    nst_image_free(&ideal);
    nst_flow_free(&exact);
    if (out_flow) *out_flow = f;
    else nst_flow_free(&f);
}

static void test_compute_synthetic_shift(void) {
    if (skip_without_opencv()) return;
    nst_image a = {0}, b = {0};
    nst_error err;
    const int w = 128, h = 96;
    const double sx = 3, sy = -2;
    CHECK(nst_image_alloc(&a, w, h, &err) == 0 && nst_image_alloc(&b, w, h, &err) == 0);
    if (!a.data || !b.data) return;
    // b(p) = a(p - s), so a(p) = b(p + s): the flow from a to b is s
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                size_t i = (size_t)c * w * h + (size_t)y * w + x;
                a.data[i] = (float)texture(c, x, y);
                b.data[i] = (float)texture(c, x - sx, y - sy);
            }
    nst_flow f1 = {0}, f2 = {0};
    check_recovered("synthetic (3, -2)", &a, &b, sx, sy, 10, 0.25, 0.25, 1.5, &f1);
    // the same pictures give the same bytes
    CHECKF(nst_flow_compute(&f2, &a, &b, &err) == 0, "%s", err.msg);
    CHECK(f1.data && f2.data && f1.w == f2.w && f1.h == f2.h &&
          memcmp(f1.data, f2.data, sizeof(float) * 2 * (size_t)w * h) == 0);
    // and from several threads at once
    nst_flow par[4] = {{0}};
    int rcs[4];
    #pragma omp parallel for num_threads(4) schedule(static, 1)
    for (int k = 0; k < 4; k++) rcs[k] = nst_flow_compute(&par[k], &a, &b, NULL);
    for (int k = 0; k < 4; k++) {
        CHECKF(rcs[k] == 0 && par[k].data && f1.data &&
                   memcmp(f1.data, par[k].data, sizeof(float) * 2 * (size_t)w * h) == 0,
               "thread %d: %d", k, rcs[k]);
        nst_flow_free(&par[k]);
    }
    // and the other way the opposite
    check_recovered("synthetic, b to a", &b, &a, -sx, -sy, 10, 0.25, 0.25, 1.5, NULL);
    nst_flow_free(&f1);
    nst_flow_free(&f2);
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_compute_real_picture(void) {
    if (skip_without_opencv()) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/images/tubingen.jpg", nst_test_shared());
    nst_image full = {0}, a = {0}, b = {0};
    nst_flow shift = {0};
    nst_error err;
    CHECKF(nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECKF(full.data && nst_image_fit(&a, &full, 256, &err) == 0, "%s", err.msg);
    nst_image_free(&full);
    if (!a.data) return;
    const float shifts[2][2] = {{-4, 3}, {2.5f, -1.5f}};
    for (int k = 0; k < 2; k++) {
        float sx = shifts[k][0], sy = shifts[k][1];
        // b(p) = a(p - s): the flow from a to b is s
        const_flow(&shift, a.w, a.h, -sx, -sy);
        CHECKF(nst_flow_warp(&b, &a, &shift, &err) == 0, "%s", err.msg);
        nst_flow_free(&shift);
        char what[64];
        snprintf(what, sizeof what, "tubingen %dx%d (%g, %g)", a.w, a.h, sx, sy);
        if (b.data) check_recovered(what, &a, &b, sx, sy, 16, 0.25, 0.3, 2.0, NULL);
        nst_image_free(&b);
    }
    nst_image_free(&a);
}

// A smooth motion that is not a shift: b = a turned by 2 degrees and zoomed by 3%
// about its centre, b(p) = a(p + g(p)); the flow from b to a is then g, a different
// vector at every pixel.
static void test_compute_rotation_zoom(void) {
    if (skip_without_opencv()) return;
    char path[1024];
    snprintf(path, sizeof path, "%s/images/tubingen.jpg", nst_test_shared());
    nst_image full = {0}, a = {0}, b = {0};
    nst_flow g = {0}, f = {0};
    nst_error err;
    CHECKF(nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECKF(full.data && nst_image_fit(&a, &full, 256, &err) == 0, "%s", err.msg);
    nst_image_free(&full);
    if (!a.data) return;
    const double th = 2 * 3.14159265358979 / 180, zoom = 1.03, cx = a.w / 2.0, cy = a.h / 2.0;
    const_flow(&g, a.w, a.h, 0, 0);
    for (int y = 0; y < a.h; y++)
        for (int x = 0; x < a.w; x++) {
            double X = x - cx, Y = y - cy;
            *flow_dx(&g, x, y) = (float)(zoom * (cos(th) * X - sin(th) * Y) + cx - x);
            *flow_dy(&g, x, y) = (float)(zoom * (sin(th) * X + cos(th) * Y) + cy - y);
        }
    CHECKF(nst_flow_warp(&b, &a, &g, &err) == 0, "%s", err.msg);
    CHECKF(b.data && nst_flow_compute(&f, &b, &a, &err) == 0, "%s", err.msg);
    if (f.data) {
        double epe = 0;
        long n = 0;
        const int margin = 16;
        for (int y = margin; y < a.h - margin; y++)
            for (int x = margin; x < a.w - margin; x++, n++)
                epe += hypot(*flow_dx(&f, x, y) - *flow_dx(&g, x, y), *flow_dy(&f, x, y) - *flow_dy(&g, x, y));
        epe /= (double)n;
        printf("  rotation and zoom, %dx%d: mean endpoint error %.3f px (the motion: up to %.1f px)\n", a.w, a.h,
               epe, hypot(*flow_dx(&g, 0, 0), *flow_dy(&g, 0, 0)));
        CHECKF(epe <= 0.15, "mean endpoint error %g px", epe);
    }
    nst_flow_free(&f);
    nst_flow_free(&g);
    nst_image_free(&a);
    nst_image_free(&b);
}

static void test_compute_refusals(void) {
    nst_image a = {0}, b = {0};
    nst_flow f = {0};
    nst_error err = {0};
    random_image(&a, 64, 48);
    random_image(&b, 48, 64);
    int rc = nst_flow_compute(&f, &a, &b, &err);
    CHECK(rc == NST_ERR_USAGE && f.data == NULL && one_line(err.msg));
    if (nst_flow_available())
        CHECKF(strstr(err.msg, "64x48") && strstr(err.msg, "48x64"), "%s", err.msg);
    else
        CHECKF(strcmp(err.msg, "nst was built without OpenCV: no optical flow (use --flow none)") == 0, "%s",
               err.msg);
    CHECK(nst_flow_compute(&f, &a, &a, &err) == (nst_flow_available() ? NST_OK : NST_ERR_USAGE));
    nst_flow_free(&f);
    if (nst_flow_available()) {
        b.w = 64; b.h = 48;   // same size now (the pixels are a reshaped 48x64)
        b.data[5] = NAN;
        CHECK(nst_flow_compute(&f, &a, &b, &err) == NST_ERR_USAGE && f.data == NULL && one_line(err.msg));
        // pictures under 16 pixels a side are refused in one line (DIS itself fails
        // below 8), from 16 on computed
        const int sizes[][2] = {{1, 1}, {3, 2}, {11, 11}, {12, 1}, {1, 12}, {15, 40}, {40, 8}, {16, 16}, {17, 23}};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            nst_image t = {0}, u = {0};
            int w = sizes[k][0], h = sizes[k][1];
            random_image(&t, w, h);
            random_image(&u, w, h);
            rc = nst_flow_compute(&f, &t, &u, &err);
            printf("  %dx%d: %s\n", w, h, rc ? err.msg : "computed");
            if (w >= 16 && h >= 16)
                CHECKF(rc == 0 && f.data != NULL && f.w == w && f.h == h, "%dx%d: %s", w, h, err.msg);
            else
                CHECKF(rc == NST_ERR_USAGE && f.data == NULL && one_line(err.msg) && strstr(err.msg, "too small"),
                       "%dx%d: %s", w, h, rc ? err.msg : "computed");
            nst_flow_free(&f);
            nst_image_free(&t);
            nst_image_free(&u);
        }
    }
    nst_image_free(&a);
    nst_image_free(&b);
}

// The C++ part alone: an exception inside OpenCV (DIS refuses a 3x2 picture, which
// nst_flow_compute never passes it) comes back as a code and one line.
static void test_dis_exception_caught(void) {
#ifdef NST_HAVE_OPENCV
    // through the video plugin's table, as nst_flow_compute calls it
    const nsti_video_plugin *vp;
    nst_error err = {0, ""};
    CHECKF(nsti_video_plugin_load(&vp, &err) == NST_OK && vp->flow_dis, "the video plugin: %s", err.msg);
    if (!vp || !vp->flow_dis) return;
    unsigned char a[6] = {0, 10, 20, 30, 40, 50}, b[6] = {0};
    float dx[6], dy[6];
    char msg[512];
    int rc = vp->flow_dis(a, b, 3, 2, dx, dy, msg, sizeof msg);
    printf("  3x2 into DIS: %d, %s\n", rc, msg);
    CHECK(rc == NST_ERR_USAGE && one_line(msg) && strstr(msg, "OpenCV"));
    // the message is cut to its buffer, NUL-terminated
    char small[16];
    rc = vp->flow_dis(a, b, 3, 2, dx, dy, small, sizeof small);
    CHECK(rc == NST_ERR_USAGE && strlen(small) == sizeof small - 1);
    CHECK(vp->flow_dis(a, b, 3, 2, dx, dy, NULL, 0) == NST_ERR_USAGE);
#else
    printf("  skipped: nst was built without OpenCV\n");
#endif
}

// OpenCV (and FFmpeg) are loaded with the video plugin, by the first flow: not before.
static void test_plugin_loaded_on_first_use(void) {
#ifdef NST_HAVE_OPENCV
    char line[4096];
    int before = 0, after = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f)) before |= strstr(line, "libopencv_") || strstr(line, "libavcodec");
    if (f) fclose(f);
    CHECKF(!before, "OpenCV or FFmpeg loaded before any video call");
    CHECK(nst_flow_available());
    f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f)) after |= strstr(line, "libnst-video.so") && strstr(line, "r-xp");
    if (f) fclose(f);
    CHECKF(after, "libnst-video.so not mapped after nst_flow_available");
#else
    printf("  skipped: nst was built without OpenCV\n");
#endif
}

int main(void) {
    TEST(test_plugin_loaded_on_first_use);
    TEST(test_warp_integer_shift);
    TEST(test_warp_per_pixel);
    TEST(test_warp_half_pixel);
    TEST(test_warp_border_clamp);
    TEST(test_warp_refusals);
    TEST(test_consistency_constant_shift);
    TEST(test_consistency_occlusion);
    TEST(test_consistency_motion_boundary);
    TEST(test_consistency_refusals);
    TEST(test_compute_synthetic_shift);
    TEST(test_compute_real_picture);
    TEST(test_compute_rotation_zoom);
    TEST(test_compute_refusals);
    TEST(test_dis_exception_caught);
    return nst_test_summary();
}
