// Kernels against their plain-loop oracles, and every hand-written backward
// pass against finite differences.
#include "testlib.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/relu_mask.h"
#include "loss/losses.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 88172645463325252ULL;
static float frand(void) {   // uniform in [-1, 1)
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) / 8388608.0 - 1.0);
}
static float *rand_vec(size_t n) {
    float *v = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) v[i] = frand();
    return v;
}
static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

// nsti_sgemm (OpenBLAS or plain loops) and nsti_sgemm_onednn (oneDNN's, where built)
// against the oracle, in every transpose, and the oracle against a direct sum.
static void test_gemm_matches_reference(void) {
    int m = 37, n = 53, k = 29;
    nsti_sgemm_fn fns[2] = {nsti_sgemm, nsti_sgemm_onednn};
    for (int f = 0; f < 2; f++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                float *a = rand_vec((size_t)m * k), *b = rand_vec((size_t)k * n);
                float *c1 = rand_vec((size_t)m * n), *c2 = malloc(sizeof(float) * m * n);
                memcpy(c2, c1, sizeof(float) * m * n);
                float c35 = c1[3 * n + 5];
                int lda = ta ? m : k, ldb = tb ? k : n;
                fns[f](ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, c1, n);
                nsti_sgemm_ref(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, c2, n);
                nst_test_close(f ? "gemm (onednn)" : "gemm", c1, c2, (long)m * n, 1e-5, 0);
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(ta ? a[p * lda + 3] : a[3 * lda + p]) * (tb ? b[5 * ldb + p] : b[p * ldb + 5]);
                CHECKF(fabs(c2[3 * n + 5] - (0.7 * s + 0.3 * c35)) < 1e-4, "oracle %g, direct sum %g", c2[3 * n + 5],
                       0.7 * s + 0.3 * c35);
                free(a); free(b); free(c1); free(c2);
            }
}

static void test_conv_gemm_matches_reference(void) {
    int sizes[][4] = {{3, 8, 7, 9}, {5, 4, 1, 6}, {16, 12, 11, 2}};
    for (int t = 0; t < 3; t++) {
        int cin = sizes[t][0], cout = sizes[t][1], h = sizes[t][2], w = sizes[t][3];
        float *inp = rand_vec((size_t)cin * h * w), *wt = rand_vec((size_t)cout * cin * 9), *b = rand_vec(cout);
        float *o1 = malloc(sizeof(float) * cout * h * w), *o2 = malloc(sizeof(float) * cout * h * w);
        size_t colf = (size_t)(cin > cout ? cin : cout) * 9 * w;   // one row at a time: exercises chunking
        float *col = malloc(colf * sizeof(float));
        nsti_conv3x3_forward_ref(o1, inp, wt, b, cin, cout, h, w);
        nsti_conv3x3_forward_gemm(o2, inp, wt, b, cin, cout, h, w, col, colf);
        nst_test_close("conv forward", o2, o1, (long)cout * h * w, 1e-5, 1e-6);
        // backward: reference scatter vs flipped-weight convolution
        float *dout = rand_vec((size_t)cout * h * w), *d1 = malloc(sizeof(float) * cin * h * w), *d2 = malloc(sizeof(float) * cin * h * w);
        float *wf = malloc(sizeof(float) * cout * cin * 9);
        nsti_conv3x3_backward_ref(d1, dout, wt, cin, cout, h, w);
        nsti_conv3x3_flip_weights(wf, wt, cin, cout);
        nsti_conv3x3_forward_gemm(d2, dout, wf, NULL, cout, cin, h, w, col, colf);
        nst_test_close("conv backward", d2, d1, (long)cin * h * w, 1e-5, 1e-6);
        free(inp); free(wt); free(b); free(o1); free(o2); free(col); free(dout); free(d1); free(d2); free(wf);
    }
}

static void test_conv_reference_known_values(void) {
    // a 1-channel 3x3 image, all-ones kernel, bias 1: each output is 1 + sum of its neighbourhood
    float inp[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wt[9], b = 1, out[9];
    for (int i = 0; i < 9; i++) wt[i] = 1;
    nsti_conv3x3_forward_ref(out, inp, wt, &b, 1, 1, 3, 3);
    float want[9] = {1 + 12, 1 + 21, 1 + 16, 1 + 27, 1 + 45, 1 + 33, 1 + 24, 1 + 39, 1 + 28};
    nst_test_close("conv known", out, want, 9, 0, 1e-6);
}

// Directional derivative check: (L(x+eps v) - L(x-eps v)) / 2eps against <grad, v>.
typedef double (*scalar_fn)(const float *x, float *grad, void *ctx);
static void fd_check(const char *what, scalar_fn fn, void *ctx, size_t n, double eps, double rtol) {
    float *x = rand_vec(n), *g = calloc(n, sizeof(float)), *v = rand_vec(n);
    float *xp = malloc(n * sizeof(float)), *scratch = calloc(n, sizeof(float));
    fn(x, g, ctx);
    double analytic = dot(g, v, n);
    for (size_t i = 0; i < n; i++) xp[i] = x[i] + (float)eps * v[i];
    double fp = fn(xp, NULL, ctx);
    for (size_t i = 0; i < n; i++) xp[i] = x[i] - (float)eps * v[i];
    double fm = fn(xp, NULL, ctx);
    double numeric = (fp - fm) / (2 * eps);
    double err = fabs(numeric - analytic) / fmax(fabs(analytic), 1e-12);
    CHECKF(err < rtol, "%s: numeric %.9g analytic %.9g rel err %.3g", what, numeric, analytic, err);
    free(x); free(g); free(v); free(xp); free(scratch);
}

// L = sum(r * layer(x)) for a fixed random r, so dL/dy = r.
typedef struct { int c, h, w, cout; float *wt, *r, *wf; int kind; } layer_ctx;
static double layer_fn(const float *x, float *grad, void *vctx) {
    layer_ctx *k = vctx;
    int c = k->c, h = k->h, w = k->w;
    size_t nin = (size_t)c * h * w, nout;
    float *y;
    if (k->kind == 0) { nout = (size_t)k->cout * h * w; y = malloc(nout * sizeof(float)); nsti_conv3x3_forward_ref(y, x, k->wt, NULL, c, k->cout, h, w); }
    else if (k->kind == 1 || k->kind == 2) {
        nout = (size_t)c * (h / 2) * (w / 2); y = malloc(nout * sizeof(float));
        if (k->kind == 1) nsti_maxpool_forward(y, x, c, h, w); else nsti_avgpool_forward(y, x, c, h, w);
    } else { nout = nin; y = malloc(nout * sizeof(float)); memcpy(y, x, nin * sizeof(float)); nsti_relu_forward(y, nout); }
    double L = dot(y, k->r, nout);
    if (grad) {
        if (k->kind == 0) nsti_conv3x3_backward_ref(grad, k->r, k->wt, c, k->cout, h, w);
        else if (k->kind == 1) nsti_maxpool_backward(grad, k->r, x, c, h, w);
        else if (k->kind == 2) nsti_avgpool_backward(grad, k->r, c, h, w);
        else { memcpy(grad, k->r, nin * sizeof(float)); nsti_relu_backward(grad, y, nin); }
    }
    free(y);
    return L;
}

static void test_layer_backward_finite_differences(void) {
    const char *names[4] = {"conv", "maxpool", "avgpool", "relu"};
    for (int kind = 0; kind < 4; kind++) {
        layer_ctx k = {3, 7, 9, 4, NULL, NULL, NULL, kind};   // odd sizes: pooling floors
        k.wt = rand_vec((size_t)k.cout * k.c * 9);
        k.r = rand_vec((size_t)(k.cout > k.c ? k.cout : k.c) * k.h * k.w);
        fd_check(names[kind], layer_fn, &k, (size_t)k.c * k.h * k.w, kind == 0 || kind == 2 ? 1e-2 : 1e-4, 1e-3);
        free(k.wt); free(k.r);
    }
}

typedef struct { int c, n, kind; float *target; float *scratch; double *stats; } loss_ctx;
static double loss_fn(const float *x, float *grad, void *vctx) {
    loss_ctx *k = vctx;
    if (grad) memset(grad, 0, sizeof(float) * k->c * k->n);
    if (k->kind == 0) return nsti_content_loss(grad, x, k->target, (size_t)k->c * k->n, 3.0f);
    if (k->kind == 1) return nsti_style_loss(nsti_sgemm, grad, x, k->target, k->c, k->n, (float)(k->c * k->n), 1.0f, 50.0f, k->scratch);
    if (k->kind == 2) return nsti_style_loss(nsti_sgemm, grad, x, k->target, k->c, k->n, 1.0f, (float)(k->c * k->n), 5.0f, k->scratch);
    if (k->kind == 4) return nsti_moments_loss(grad, x, k->target, k->c, (size_t)k->n, 7.0f, k->stats);
    return nsti_tv_loss(grad, x, k->c, 5, k->n / 5, 2.0f);
}

static void test_loss_gradients_finite_differences(void) {
    const char *names[5] = {"content", "style", "style raw gram", "tv", "style moments"};
    for (int kind = 0; kind < 5; kind++) {
        loss_ctx k = {4, 35, kind, NULL, NULL, NULL};
        k.target = rand_vec((size_t)k.c * (kind == 1 || kind == 2 ? k.c : k.n));
        k.scratch = malloc(sizeof(float) * k.c * k.c);
        k.stats = malloc(sizeof(double) * 2 * k.c);
        if (kind == 4)   // means anywhere, deviations positive
            for (int i = 0; i < k.c; i++) k.target[k.c + i] = 0.2f + fabsf(k.target[k.c + i]);
        if (kind == 1 || kind == 2)   // Gram targets are symmetric
            for (int i = 0; i < k.c; i++)
                for (int j = 0; j < i; j++) k.target[j * k.c + i] = k.target[i * k.c + j];
        fd_check(names[kind], loss_fn, &k, (size_t)k.c * k.n, 1e-2, 2e-3);
        free(k.target); free(k.scratch); free(k.stats);
    }
}

static void test_known_loss_values(void) {
    // content: mean((f-p)^2) = (1+4)/2, weighted by 2
    float f[2] = {1, 2}, p[2] = {0, 0}, g[2] = {0, 0};
    CHECK(fabs(nsti_content_loss(g, f, p, 2, 2.0f) - 5.0) < 1e-9);
    CHECK(fabs(g[0] - 2.0f) < 1e-6 && fabs(g[1] - 4.0f) < 1e-6);   // 2*w*(f-p)/n
    // gram of one channel [1,2,3] over N=3 with C*N normalisation: 14/3
    float f1[3] = {1, 2, 3}, gm[1];
    nsti_gram(nsti_sgemm, gm, f1, 1, 3, 3.0f);
    CHECK(fabs(gm[0] - 14.0f / 3) < 1e-6);
    nsti_gram_ref(gm, f1, 1, 3, 3.0f);
    CHECK(fabs(gm[0] - 14.0f / 3) < 1e-6);
    // tv of a 1x2x2 image [[0,1],[2,3]]: vertical diffs 2,2 -> 4; horizontal 1,1 -> 1
    float x[4] = {0, 1, 2, 3};
    CHECK(fabs(nsti_tv_loss(NULL, x, 1, 2, 2, 1.0f) - 5.0) < 1e-9);
    // moments of one channel [1,2,3]: mean 2, deviation sqrt(2/3 + 1e-5); against a
    // target of 0 and 0, w * (4 + 2/3 + 1e-5) / 2; the gradient at 1 is
    // w/(C N) * (mu + sigma * (1 - mu) / sigma) = w/3 * (2 - 1)
    float tz[2] = {0, 0}, gz[3] = {0, 0, 0};
    double st[2];
    CHECK(fabs(nsti_moments_loss(gz, f1, tz, 1, 3, 2.0f, st) - (4 + 2.0 / 3 + 1e-5)) < 1e-6);
    CHECK(fabs(st[0] - 2) < 1e-12 && fabs(st[1] - sqrt(2.0 / 3 + 1e-5)) < 1e-12);
    CHECK(fabs(gz[0] - 2.0f / 3) < 1e-6 && fabs(gz[1] - 4.0f / 3) < 1e-6);
}

static void test_gram_matches_reference(void) {
    int c = 19, n = 301;
    float *f = rand_vec((size_t)c * n), *g1 = malloc(sizeof(float) * c * c), *g2 = malloc(sizeof(float) * c * c);
    nsti_gram_ref(g2, f, c, n, (float)(c * n));
    nsti_gram(nsti_sgemm, g1, f, c, n, (float)(c * n));
    nst_test_close("gram", g1, g2, (long)c * c, 1e-5, 1e-7);
    nsti_gram(nsti_sgemm_onednn, g1, f, c, n, (float)(c * n));
    nst_test_close("gram (onednn)", g1, g2, (long)c * c, 1e-5, 1e-7);
    free(f); free(g1); free(g2);
}

// The ReLU bit masks: the plain loops on known values (positive in, zero, -0, NaN,
// negatives out), then the dispatching (AVX-512 where the CPU has it) versions
// against them, byte for byte, at lengths around the vector and byte boundaries.
static void test_relu_masks(void) {
    const float y[10] = {1.0f, -1.0f, 0.0f, -0.0f, NAN, 2e-38f, -3.0f, 5.0f, 7.0f, 0.0f};
    uint8_t m[2];
    nsti_relu_mask_f32_ref(m, y, 10);
    CHECKF(m[0] == 0xa1 && m[1] == 0x01, "f32 mask %02x %02x, want a1 01", m[0], m[1]);
    const uint16_t yb[10] = {0x3f80, 0xbf80, 0x0000, 0x8000, 0x7fc0, 0x0001, 0xc040, 0x40a0, 0x40e0, 0};
    nsti_relu_mask_bf16_ref(m, yb, 10);   // a bf16 NaN's bits are positive: it is kept (bit 4)
    CHECKF(m[0] == 0xb1 && m[1] == 0x01, "bf16 mask %02x %02x, want b1 01", m[0], m[1]);
    float g[10];
    for (int i = 0; i < 10; i++) g[i] = (float)(i + 1);
    nsti_relu_apply_mask_f32_ref(g, m, 10);
    CHECKF(g[0] == 1 && g[1] == 0 && g[5] == 6 && g[6] == 0 && g[7] == 8 && g[8] == 9 && g[9] == 0,
           "f32 masked %g %g %g %g %g %g %g", g[0], g[1], g[5], g[6], g[7], g[8], g[9]);
    printf("     (AVX-512 masks: %s)\n", nsti_relu_mask_simd() ? "yes" : "no, plain loops only");
    static const size_t lengths[] = {1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1003, 100000};
    for (size_t t = 0; t < sizeof lengths / sizeof *lengths; t++) {
        size_t n = lengths[t], nb = (n + 7) / 8;
        float *f = rand_vec(n), *g1 = rand_vec(n), *g2 = malloc(n * sizeof(float));
        uint16_t *h = malloc(n * 2), *hg1 = malloc(n * 2), *hg2 = malloc(n * 2);
        uint8_t *m1 = malloc(nb), *m2 = malloc(nb);
        for (size_t i = 0; i < n; i++) {
            if (i % 13 == 5) f[i] = i % 2 ? -0.0f : 0.0f;
            if (i % 29 == 3) f[i] = NAN;
            uint32_t u;
            memcpy(&u, &f[i], 4);
            h[i] = (uint16_t)(u >> 16);
            hg1[i] = hg2[i] = (uint16_t)(rng >> (i % 48));
        }
        memcpy(g2, g1, n * sizeof(float));
        nsti_relu_mask_f32(m1, f, n);
        nsti_relu_mask_f32_ref(m2, f, n);
        CHECKF(!memcmp(m1, m2, nb), "f32 mask differs at n=%zu", n);
        nsti_relu_apply_mask_f32(g1, m2, n);
        nsti_relu_apply_mask_f32_ref(g2, m2, n);
        CHECKF(!memcmp(g1, g2, n * sizeof(float)), "f32 masked gradient differs at n=%zu", n);
        nsti_relu_mask_bf16(m1, h, n);
        nsti_relu_mask_bf16_ref(m2, h, n);
        CHECKF(!memcmp(m1, m2, nb), "bf16 mask differs at n=%zu", n);
        nsti_relu_apply_mask_bf16(hg1, m2, n);
        nsti_relu_apply_mask_bf16_ref(hg2, m2, n);
        CHECKF(!memcmp(hg1, hg2, n * 2), "bf16 masked gradient differs at n=%zu", n);
        free(f); free(g1); free(g2); free(h); free(hg1); free(hg2); free(m1); free(m2);
    }
}

int main(void) {
    TEST(test_gemm_matches_reference);
    TEST(test_conv_reference_known_values);
    TEST(test_conv_gemm_matches_reference);
    TEST(test_layer_backward_finite_differences);
    TEST(test_loss_gradients_finite_differences);
    TEST(test_known_loss_values);
    TEST(test_gram_matches_reference);
    TEST(test_relu_masks);   // last: the random values of the tests above stay as they were
    return nst_test_summary();
}
