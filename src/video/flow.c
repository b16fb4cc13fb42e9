// flow.c: optical flow for video style transfer (Ruder, Dosovitskiy, Brox, "Artistic
// style transfer for videos and spherical images", arXiv 1604.08610): the flow itself
// from OpenCV's DIS (plugin/flow_dis.cpp, in the video plugin: plugin.h), and in plain C the
// warp along a flow and the consistency mask of a backward and a forward flow.
//
// A flow field is (2,h,w) planar floats: dx then dy. The flow from a to b says where
// each pixel of a is in b: a(p) ~ b(p + flow(p)). Like nst_image_resize, each function
// allocates its output afresh and only when it succeeds: whatever *out held before is
// neither freed nor changed on failure.
#include "nst.h"
#include "image/image.h"
#include "util/status.h"
#include "video/flow.h"
#include "video/plugin.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// *vp: the video plugin with OpenCV's DIS in it (plugin.h); else the reason.
static int with_opencv(const nsti_video_plugin **vp, nst_error *err) {
#ifdef NST_HAVE_OPENCV
    int rc = nsti_video_plugin_load(vp, err);
    if (rc || (*vp)->flow_dis) return rc;
#endif
    *vp = NULL;
    return nsti_fail(err, NST_ERR_USAGE, "nst was built without OpenCV: no optical flow (use --flow none)");
}

int nst_flow_available(void) {
    const nsti_video_plugin *vp;
    return with_opencv(&vp, NULL) == NST_OK;
}

void nst_flow_free(nst_flow *flow) {
    if (!flow) return;
    free(flow->data);
    flow->data = NULL;
    flow->w = flow->h = 0;
}

static int all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

static int check_image(const nst_image *img, const char *fn, const char *what, nst_error *err) {
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s is an empty picture", fn, what);
    if (!all_finite(img->data, (size_t)3 * img->w * img->h))
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s holds a NaN or infinite value", fn, what);
    return NST_OK;
}

static int check_flow(const nst_flow *flow, const char *fn, const char *what, nst_error *err) {
    if (!flow || !flow->data || flow->w <= 0 || flow->h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s is an empty flow field", fn, what);
    if (!all_finite(flow->data, (size_t)2 * flow->w * flow->h))
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s holds a NaN or infinite value", fn, what);
    return NST_OK;
}

// ---- The flow (DIS) ------------------------------------------------------------------

// Luminance (BT.601, as JPEG's Y), rounded to 8 bits: what DIS works on.
static void to_gray(unsigned char *gray, const nst_image *img) {
    size_t n = (size_t)img->w * img->h;
    const float *r = img->data, *g = r + n, *b = g + n;
    for (size_t i = 0; i < n; i++) {
        double y = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
        y = y < 0 ? 0 : y > 255 ? 255 : y;
        gray[i] = (unsigned char)(y + 0.5);
    }
}

int nst_flow_compute(nst_flow *out, const nst_image *a, const nst_image *b, nst_error *err) {
    static const char fn[] = "nst_flow_compute";
    const nsti_video_plugin *vp;
    int rc = with_opencv(&vp, err);
    if (rc) return rc;
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "%s: no output flow", fn);
    if ((rc = check_image(a, fn, "the first picture", err)) || (rc = check_image(b, fn, "the second picture", err)))
        return rc;
    if (a->w != b->w || a->h != b->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the first picture is %dx%d but the second is %dx%d", fn, a->w,
                         a->h, b->w, b->h);
    // DIS needs room for its 8x8 patches (OpenCV 4.6 refuses below 8 pixels a side and
    // 12 on the longer one); a floor of its own keeps the message clear and the same
    // across OpenCV versions.
    if (a->w < NSTI_FLOW_MIN_SIDE || a->h < NSTI_FLOW_MIN_SIDE)
        return nsti_fail(err, NST_ERR_USAGE, "%s: %dx%d pictures are too small for optical flow (at least %dx%d)",
                         fn, a->w, a->h, NSTI_FLOW_MIN_SIDE, NSTI_FLOW_MIN_SIDE);
    size_t n = (size_t)a->w * a->h;
    unsigned char *gray = malloc(2 * n);
    float *data = malloc(2 * n * sizeof *data);
    if (!gray || !data) {
        free(gray);
        free(data);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory for a %dx%d flow", fn, a->w, a->h);
    }
    to_gray(gray, a);
    to_gray(gray + n, b);
    char msg[sizeof err->msg];
    rc = vp->flow_dis(gray, gray + n, a->w, a->h, data, data + n, msg, sizeof msg);
    free(gray);
    if (rc) {
        free(data);
        return nsti_fail(err, rc, "%s: %dx%d: %s", fn, a->w, a->h, msg);
    }
    if (!all_finite(data, 2 * n)) {   // not expected from DIS; the callers rely on it
        free(data);
        return nsti_fail(err, NST_ERR_NUMERIC, "%s: the flow holds a NaN or infinite value", fn);
    }
    out->w = a->w;
    out->h = a->h;
    out->data = data;
    return NST_OK;
}

// ---- Warping ---------------------------------------------------------------------------

// Bilinear sampling at (x, y), clamped to the picture: the integer corner (x0, y0),
// its right and lower neighbours' offsets (0 at the last column or row) and weights.
typedef struct bilinear {
    size_t i00, i10, i01, i11;
    double fx, fy;
} bilinear;

static bilinear bilinear_at(double x, double y, int w, int h) {
    x = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
    y = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    int x0 = (int)floor(x), y0 = (int)floor(y);
    if (x0 > w - 1) x0 = w - 1;
    if (y0 > h - 1) y0 = h - 1;
    int x1 = x0 < w - 1 ? x0 + 1 : x0, y1 = y0 < h - 1 ? y0 + 1 : y0;
    bilinear s;
    s.fx = x - x0;
    s.fy = y - y0;
    s.i00 = (size_t)y0 * w + x0;
    s.i10 = (size_t)y0 * w + x1;
    s.i01 = (size_t)y1 * w + x0;
    s.i11 = (size_t)y1 * w + x1;
    return s;
}

static double bilinear_sample(const float *plane, const bilinear *s) {
    double top = (1 - s->fx) * plane[s->i00] + s->fx * plane[s->i10];
    double bottom = (1 - s->fx) * plane[s->i01] + s->fx * plane[s->i11];
    return (1 - s->fy) * top + s->fy * bottom;
}

int nst_flow_warp(nst_image *out, const nst_image *img, const nst_flow *flow, nst_error *err) {
    static const char fn[] = "nst_flow_warp";
    int rc;
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "%s: no output picture", fn);
    if ((rc = check_image(img, fn, "the picture", err)) || (rc = check_flow(flow, fn, "the flow", err))) return rc;
    if (img->w != flow->w || img->h != flow->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the picture is %dx%d but the flow is %dx%d", fn, img->w, img->h,
                         flow->w, flow->h);
    nst_image o = {0};
    if ((rc = nst_image_alloc(&o, img->w, img->h, err))) return rc;
    const int w = img->w, h = img->h;
    const size_t n = (size_t)w * h;
    const float *fx = flow->data, *fy = fx + n;
    #pragma omp parallel for schedule(static)
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            bilinear s = bilinear_at(x + (double)fx[i], y + (double)fy[i], w, h);
            for (int c = 0; c < 3; c++) o.data[c * n + i] = (float)bilinear_sample(img->data + c * n, &s);
        }
    *out = o;
    return NST_OK;
}

// ---- Consistency -----------------------------------------------------------------------

// d/dx of a plane at (x, y): a central difference inside, one-sided at the edges.
static double diff_x(const float *v, int w, int x, int y) {
    const float *row = v + (size_t)y * w;
    if (w == 1) return 0;
    if (x == 0) return row[1] - row[0];
    if (x == w - 1) return row[w - 1] - row[w - 2];
    return 0.5 * ((double)row[x + 1] - row[x - 1]);
}

static double diff_y(const float *v, int w, int h, int x, int y) {
    if (h == 1) return 0;
    if (y == 0) return (double)v[(size_t)w + x] - v[x];
    if (y == h - 1) return (double)v[(size_t)(h - 1) * w + x] - v[(size_t)(h - 2) * w + x];
    return 0.5 * ((double)v[(size_t)(y + 1) * w + x] - v[(size_t)(y - 1) * w + x]);
}

int nst_flow_consistency(nst_image *mask, const nst_flow *backward, const nst_flow *forward, nst_error *err) {
    static const char fn[] = "nst_flow_consistency";
    int rc;
    if (!mask) return nsti_fail(err, NST_ERR_USAGE, "%s: no output mask", fn);
    if ((rc = check_flow(backward, fn, "the backward flow", err)) ||
        (rc = check_flow(forward, fn, "the forward flow", err)))
        return rc;
    if (backward->w != forward->w || backward->h != forward->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the backward flow is %dx%d but the forward one is %dx%d", fn,
                         backward->w, backward->h, forward->w, forward->h);
    nst_image o = {0};
    if ((rc = nst_image_alloc(&o, backward->w, backward->h, err))) return rc;
    const int w = backward->w, h = backward->h;
    const size_t n = (size_t)w * h;
    const float *ub = backward->data, *vb = ub + n, *uf = forward->data, *vf = uf + n;
    #pragma omp parallel for schedule(static)
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            double u = ub[i], v = vb[i];   // w_b: where p is in frame i-1
            double bx = x + u, by = y + v;
            int ok = bx >= 0 && bx <= w - 1 && by >= 0 && by <= h - 1;
            if (ok) {
                // w_f at p + w_b: forward and backward should cancel
                bilinear s = bilinear_at(bx, by, w, h);
                double u2 = bilinear_sample(uf, &s), v2 = bilinear_sample(vf, &s);
                double su = u + u2, sv = v + v2;
                ok = su * su + sv * sv <= 0.01 * (u * u + v * v + u2 * u2 + v2 * v2) + 0.5;
            }
            if (ok) {
                // a motion boundary: the backward flow changes fast here
                double ux = diff_x(ub, w, x, y), uy = diff_y(ub, w, h, x, y);
                double vx = diff_x(vb, w, x, y), vy = diff_y(vb, w, h, x, y);
                ok = ux * ux + uy * uy + vx * vx + vy * vy <= 0.01 * (u * u + v * v) + 0.002;
            }
            float m = ok ? 255.0f : 0.0f;
            o.data[i] = o.data[n + i] = o.data[2 * n + i] = m;
        }
    *mask = o;
    return NST_OK;
}
