#include "loss/losses.h"
#include "nn/gemm.h"
#include <math.h>

void nsti_gram(nsti_sgemm_fn gemm, float *g, const float *f, int c, int n, float div) {
    gemm(0, 1, c, c, n, 1.0f / div, f, n, f, n, 0.0f, g, c);
}

void nsti_gram_ref(float *g, const float *f, int c, int n, float div) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int k = 0; k < n; k++) s += (double)f[(size_t)i * n + k] * f[(size_t)j * n + k];
            g[(size_t)i * c + j] = (float)(s / div);
        }
}

double nsti_content_loss(float *grad, const float *f, const float *p, size_t n, float weight) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)f[i] - p[i];
        s += d * d;
    }
    if (grad) {
        float k = (float)(2.0 * weight / (double)n);
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) grad[i] += k * (f[i] - p[i]);
    }
    return weight * s / (double)n;
}

double nsti_content_loss_masked(float *grad, const float *f, const float *p, const float *m,
                               int c, size_t n, float weight) {
    double s = 0;
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < n; i++) {
            double d = (double)f[(size_t)ch * n + i] - p[(size_t)ch * n + i];
            s += m[i] * d * d;
        }
    double total = (double)c * n;
    if (grad) {
        float k = (float)(2.0 * weight / total);
        #pragma omp parallel for schedule(static)
        for (int ch = 0; ch < c; ch++)
            for (size_t i = 0; i < n; i++) {
                size_t j = (size_t)ch * n + i;
                grad[j] += k * m[i] * (f[j] - p[j]);
            }
    }
    return weight * s / total;
}

double nsti_style_diff(float *d, const float *a, int c, float weight, float extra_div) {
    double s = 0;
    for (size_t i = 0; i < (size_t)c * c; i++) {
        d[i] -= a[i];
        s += (double)d[i] * d[i];
    }
    return weight * s / ((double)c * c) / extra_div;
}

float nsti_style_grad_factor(int c, float gram_div, float extra_div, float weight) {
    // dL/dF = 2 * dL/dG * F / gram_div (G is symmetric), dL/dG = 2w(G-A)/(E*C^2)
    return (float)(4.0 * weight / (extra_div * ((double)c * c) * gram_div));
}

double nsti_style_loss(nsti_sgemm_fn gemm, float *grad, const float *f, const float *a, int c, int n,
                      float gram_div, float extra_div, float weight, float *scratch) {
    nsti_gram(gemm, scratch, f, c, n, gram_div);
    double v = nsti_style_diff(scratch, a, c, weight, extra_div);   // scratch = G - A
    if (grad) {
        float alpha = nsti_style_grad_factor(c, gram_div, extra_div, weight);
        // memory-bound at C = 64, where OpenBLAS was faster (see gemm.h)
        (c >= 128 ? gemm : nsti_sgemm)(0, 0, c, n, c, alpha, scratch, c, f, n, 1.0f, grad, n);
    }
    return v;
}

double nsti_tv_loss(float *grad, const float *x, int c, int h, int w, float weight) {
    double sv = 0, sh = 0;
    size_t nv = (size_t)c * (h - 1) * w, nh = (size_t)c * h * (w - 1);
    float kv = nv ? (float)(2.0 * weight / nv) : 0, kh = nh ? (float)(2.0 * weight / nh) : 0;
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                size_t i = ((size_t)ch * h + y) * w + xx;
                if (y + 1 < h) {
                    float d = x[i + w] - x[i];
                    sv += (double)d * d;
                    if (grad) { grad[i + w] += kv * d; grad[i] -= kv * d; }
                }
                if (xx + 1 < w) {
                    float d = x[i + 1] - x[i];
                    sh += (double)d * d;
                    if (grad) { grad[i + 1] += kh * d; grad[i] -= kh * d; }
                }
            }
    return weight * ((nv ? sv / nv : 0) + (nh ? sh / nh : 0));
}

#define MOMENTS_EPS 1e-5   // keeps sigma's gradient finite on a constant channel

// stats (2C): the means, then the deviations, of f (C,N). Each channel's sums run
// serially in double: the same result for any thread count.
void nsti_moments(double *stats, const float *f, int c, size_t n) {
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float *x = f + (size_t)ch * n;
        double s = 0, ss = 0;
        for (size_t k = 0; k < n; k++) s += x[k];
        double mu = s / (double)n;
        for (size_t k = 0; k < n; k++) ss += ((double)x[k] - mu) * ((double)x[k] - mu);
        stats[ch] = mu;
        stats[c + ch] = sqrt(ss / (double)n + MOMENTS_EPS);
    }
}

double nsti_moments_loss(float *grad, const float *f, const float *target, int c, size_t n, float weight,
                        double *st) {
    nsti_moments(st, f, c, n);
    double s = 0;
    for (int k = 0; k < 2 * c; k++) s += (st[k] - target[k]) * (st[k] - target[k]);
    if (grad) {
        double k0 = weight / ((double)c * (double)n);
        #pragma omp parallel for schedule(static)
        for (int ch = 0; ch < c; ch++) {
            double mu = st[ch], sigma = st[c + ch];
            double a = k0 * (mu - target[ch]), b = k0 * (sigma - target[c + ch]) / sigma;
            float *g = grad + (size_t)ch * n;
            const float *x = f + (size_t)ch * n;
            for (size_t k = 0; k < n; k++) g[k] += (float)(a + b * ((double)x[k] - mu));
        }
    }
    return weight * s / (2.0 * c);
}

