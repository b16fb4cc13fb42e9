// image_resize.c: separable resampling with a triangle (bilinear) filter.
//
// Pixel centers are aligned: output pixel i covers source coordinates
// [i*scale, (i+1)*scale) and samples around (i + 0.5) * scale. The triangle's
// radius is 1 source pixel when upscaling (plain bilinear interpolation) and
// `scale` source pixels when downscaling, so that every source pixel contributes
// and fine detail averages out instead of aliasing (like PIL's BILINEAR resize).
// Weights are normalized to sum to 1, which at the borders amounts to clamping.
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "image/image_codec.h"

// The taps of one axis: output i reads src[start[i] .. start[i] + ntaps) with
// weights w[i * ntaps ..], padded with zeros where the window is clipped.
typedef struct taps {
    int ntaps;
    int *start;
    float *w;
} taps;

static void taps_free(taps *t) {
    free(t->start);
    free(t->w);
}

static int taps_make(taps *t, int in, int out) {
    double scale = (double)in / out;
    double radius = scale > 1.0 ? scale : 1.0;   // in source pixels
    t->ntaps = (int)ceil(radius) * 2 + 1;
    t->start = malloc(sizeof *t->start * (size_t)out);
    t->w = calloc((size_t)out * t->ntaps, sizeof *t->w);
    if (!t->start || !t->w) return NST_ERR_NOMEM;
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;   // in source coordinates
        int lo = (int)floor(center - radius), hi = (int)ceil(center + radius);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        if (hi - lo > t->ntaps) hi = lo + t->ntaps;   // only drops zero-weight ends
        float *w = t->w + (size_t)i * t->ntaps;
        double sum = 0;
        for (int j = lo; j < hi; j++) {
            double d = fabs(j + 0.5 - center) / radius;
            double v = d < 1.0 ? 1.0 - d : 0.0;
            w[j - lo] = (float)v;
            sum += v;
        }
        // sum > 0 always: the source pixel under the center is within the radius
        for (int j = lo; j < hi; j++) w[j - lo] = (float)(w[j - lo] / sum);
        t->start[i] = lo;
    }
    return NST_OK;
}

// Horizontal pass over n rows: each row of src_w samples becomes dst_w samples.
static void resize_rows(float *dst, int dst_w, const float *src, int src_w, long n,
                        const taps *t) {
    #pragma omp parallel for schedule(static)
    for (long r = 0; r < n; r++) {
        const float *s = src + r * src_w;
        float *d = dst + r * dst_w;
        for (int i = 0; i < dst_w; i++) {
            const float *w = t->w + (size_t)i * t->ntaps;
            const float *p = s + t->start[i];
            int m = src_w - t->start[i] < t->ntaps ? src_w - t->start[i] : t->ntaps;
            float acc = 0;
            for (int k = 0; k < m; k++) acc += w[k] * p[k];
            d[i] = acc;
        }
    }
}

// Vertical pass over each of the 3 planes: src is (3, src_h, w), dst (3, dst_h, w).
static void resize_cols(float *dst, int dst_h, const float *src, int src_h, int w,
                        const taps *t) {
    #pragma omp parallel for schedule(static)
    for (long r = 0; r < 3L * dst_h; r++) {
        int c = (int)(r / dst_h), i = (int)(r % dst_h);
        const float *wt = t->w + (size_t)i * t->ntaps;
        const float *s = src + ((size_t)c * src_h + t->start[i]) * w;
        float *d = dst + ((size_t)c * dst_h + i) * w;
        int m = src_h - t->start[i] < t->ntaps ? src_h - t->start[i] : t->ntaps;
        for (int x = 0; x < w; x++) d[x] = 0;
        for (int k = 0; k < m; k++) {
            const float *row = s + (size_t)k * w;
            float wk = wt[k];
            if (wk == 0.0f) continue;
            for (int x = 0; x < w; x++) d[x] += wk * row[x];
        }
    }
}

int nst_image_resize(nst_image *dst, const nst_image *src, int w, int h, nst_error *err) {
    if (!src->data || src->w <= 0 || src->h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "cannot resize an empty image");
    if (w <= 0 || h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "invalid resize target %dx%d", w, h);
    nst_image out;
    int rc = nst_image_alloc(&out, w, h, err);
    if (rc) return rc;
    if (w == src->w && h == src->h) {   // same size: an exact copy
        memcpy(out.data, src->data, sizeof *out.data * 3 * (size_t)w * h);
    } else {
        // Horizontal first into (3, src->h, w), then vertical into (3, h, w).
        nst_image mid = {0};
        taps tx = {0}, ty = {0};
        rc = nst_image_alloc(&mid, w, src->h, err);
        if (rc == NST_OK && (taps_make(&tx, src->w, w) || taps_make(&ty, src->h, h)))
            rc = nsti_fail(err, NST_ERR_NOMEM, "out of memory resizing to %dx%d", w, h);
        if (rc == NST_OK) {
            if (w == src->w) memcpy(mid.data, src->data, sizeof *mid.data * 3 * (size_t)w * src->h);
            else resize_rows(mid.data, w, src->data, src->w, 3L * src->h, &tx);
            if (h == src->h) memcpy(out.data, mid.data, sizeof *out.data * 3 * (size_t)w * h);
            else resize_cols(out.data, h, mid.data, src->h, w, &ty);
        }
        taps_free(&tx);
        taps_free(&ty);
        nst_image_free(&mid);
        if (rc) { nst_image_free(&out); return rc; }
    }
    // Built in `out` first so that dst may be the same struct as src.
    if (dst == src) nst_image_free(dst);
    *dst = out;
    return NST_OK;
}
