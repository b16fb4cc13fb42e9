#include "nn/layers.h"
#include "nn/gemm.h"
#include <string.h>

void nsti_conv3x3_forward_ref(float *out, const float *inp, const float *weight,
                             const float *bias, int cin, int cout, int h, int w) {
    #pragma omp parallel for schedule(static)
    for (int co = 0; co < cout; co++) {
        float *o = out + (size_t)co * h * w;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float acc = bias ? bias[co] : 0.0f;
                for (int ci = 0; ci < cin; ci++) {
                    const float *ip = inp + (size_t)ci * h * w;
                    const float *k = weight + ((size_t)co * cin + ci) * 9;
                    for (int ky = 0; ky < 3; ky++) {
                        int iy = y + ky - 1;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int ix = x + kx - 1;
                            if (ix < 0 || ix >= w) continue;
                            acc += k[ky * 3 + kx] * ip[(size_t)iy * w + ix];
                        }
                    }
                }
                o[(size_t)y * w + x] = acc;
            }
    }
}

void nsti_conv3x3_backward_ref(float *dinp, const float *dout, const float *weight,
                              int cin, int cout, int h, int w) {
    // Scatter form of the chain rule, parallel over input channels so that no
    // two threads write the same plane.
    #pragma omp parallel for schedule(static)
    for (int ci = 0; ci < cin; ci++) {
        float *d = dinp + (size_t)ci * h * w;
        memset(d, 0, sizeof(float) * h * w);
        for (int co = 0; co < cout; co++) {
            const float *g = dout + (size_t)co * h * w;
            const float *k = weight + ((size_t)co * cin + ci) * 9;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float gv = g[(size_t)y * w + x];
                    for (int ky = 0; ky < 3; ky++) {
                        int iy = y + ky - 1;
                        if (iy < 0 || iy >= h) continue;
                        for (int kx = 0; kx < 3; kx++) {
                            int ix = x + kx - 1;
                            if (ix < 0 || ix >= w) continue;
                            d[(size_t)iy * w + ix] += k[ky * 3 + kx] * gv;
                        }
                    }
                }
        }
    }
}

void nsti_conv3x3_flip_weights(float *wflip, const float *weight, int cin, int cout) {
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int k = 0; k < 9; k++)
                wflip[((size_t)ci * cout + co) * 9 + (8 - k)] = weight[((size_t)co * cin + ci) * 9 + k];
}

// col is (Cin*9, rows*W) for output rows [y0, y0+rows): col[(ci*9+ky*3+kx)][r*W+x]
// holds inp[ci][y0+r+ky-1][x+kx-1], zero outside the image.
static void im2col_rows(float *col, const float *inp, int cin, int h, int w, int y0, int rows) {
    size_t n = (size_t)rows * w;
    #pragma omp parallel for schedule(static)
    for (int kk = 0; kk < cin * 9; kk++) {
        int ci = kk / 9, ky = (kk % 9) / 3, kx = kk % 3;
        const float *ip = inp + (size_t)ci * h * w;
        float *c = col + (size_t)kk * n;
        for (int r = 0; r < rows; r++) {
            int iy = y0 + r + ky - 1;
            float *cr = c + (size_t)r * w;
            if (iy < 0 || iy >= h) { memset(cr, 0, sizeof(float) * w); continue; }
            const float *src = ip + (size_t)iy * w;
            int x0 = kx == 0 ? 1 : 0, x1 = kx == 2 ? w - 1 : w;   // x with 0 <= x+kx-1 < w
            if (x0 > 0) cr[0] = 0.0f;
            if (x1 < w) cr[w - 1] = 0.0f;
            if (x1 > x0) memcpy(cr + x0, src + x0 + kx - 1, sizeof(float) * (size_t)(x1 - x0));
        }
    }
}

void nsti_conv3x3_forward_gemm(float *out, const float *inp, const float *weight,
                              const float *bias, int cin, int cout, int h, int w,
                              float *col, size_t col_floats) {
    int k = cin * 9;
    int rows = (int)(col_floats / ((size_t)k * w));
    if (rows < 1) rows = 1;   // caller guarantees col holds at least one row
    if (rows > h) rows = h;
    size_t hw = (size_t)h * w;
    for (int y0 = 0; y0 < h; y0 += rows) {
        int r = rows < h - y0 ? rows : h - y0;
        int n = r * w;
        im2col_rows(col, inp, cin, h, w, y0, r);
        float *o = out + (size_t)y0 * w;
        if (bias) {
            #pragma omp parallel for schedule(static)
            for (int co = 0; co < cout; co++)
                for (int j = 0; j < n; j++) o[co * hw + j] = bias[co];
        }
        nsti_sgemm(0, 0, cout, n, k, 1.0f, weight, k, col, n, bias ? 1.0f : 0.0f, o, (int)hw);
    }
}

void nsti_relu_forward(float *x, size_t n) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void nsti_relu_backward(float *dx, const float *y, size_t n) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) if (!(y[i] > 0.0f)) dx[i] = 0.0f;
}

void nsti_maxpool_forward(float *out, const float *inp, int c, int h, int w) {
    int oh = h / 2, ow = w / 2;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *p = inp + ((size_t)ch * h + 2 * y) * w + 2 * x;
                float m = p[0];
                if (p[1] > m) m = p[1];
                if (p[w] > m) m = p[w];
                if (p[w + 1] > m) m = p[w + 1];
                out[((size_t)ch * oh + y) * ow + x] = m;
            }
}

void nsti_maxpool_backward(float *dinp, const float *dout, const float *inp, int c, int h, int w) {
    int oh = h / 2, ow = w / 2;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        memset(dinp + (size_t)ch * h * w, 0, sizeof(float) * h * w);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                size_t base = ((size_t)ch * h + 2 * y) * w + 2 * x;
                size_t off[4] = {0, 1, (size_t)w, (size_t)w + 1};
                int best = 0;
                for (int i = 1; i < 4; i++)
                    if (inp[base + off[i]] > inp[base + off[best]]) best = i;
                dinp[base + off[best]] = dout[((size_t)ch * oh + y) * ow + x];
            }
    }
}

void nsti_avgpool_forward(float *out, const float *inp, int c, int h, int w) {
    int oh = h / 2, ow = w / 2;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *p = inp + ((size_t)ch * h + 2 * y) * w + 2 * x;
                out[((size_t)ch * oh + y) * ow + x] = 0.25f * (p[0] + p[1] + p[w] + p[w + 1]);
            }
}

void nsti_avgpool_backward(float *dinp, const float *dout, int c, int h, int w) {
    int oh = h / 2, ow = w / 2;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++) {
        memset(dinp + (size_t)ch * h * w, 0, sizeof(float) * h * w);
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                float g = 0.25f * dout[((size_t)ch * oh + y) * ow + x];
                size_t base = ((size_t)ch * h + 2 * y) * w + 2 * x;
                dinp[base] = g; dinp[base + 1] = g; dinp[base + w] = g; dinp[base + w + 1] = g;
            }
    }
}
