#include "nn/vgg.h"
#include "nn/layers.h"
#include "nn/vgg_dnnl.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nst_layer_parse(nst_layer_ref *ref, const char *name) {
    int block, sub, n = 0;
    int relu;
    if (strncmp(name, "conv", 4) == 0) relu = 0;
    else if (strncmp(name, "relu", 4) == 0) relu = 1;
    else return -1;
    if (sscanf(name + 4, "%d_%d%n", &block, &sub, &n) != 2 || name[4 + n] != 0) return -1;
    static const int per_block[5] = {2, 2, 4, 4, 4};
    if (block < 1 || block > 5 || sub < 1 || sub > per_block[block - 1]) return -1;
    int idx = 0;
    for (int b = 0; b < block - 1; b++) idx += per_block[b];
    ref->conv = idx + sub - 1;
    ref->relu = relu;
    return 0;
}

void nst_layer_format(char *buf, size_t n, nst_layer_ref ref) {
    snprintf(buf, n, "%s%s", ref.relu ? "relu" : "conv", nst_vgg_conv_name(ref.conv) + 4);
}

int nst_vgg_pool_before(int i) { return i == 2 || i == 4 || i == 8 || i == 12; }

// Walks the layer sizes: sizes at conv i after the preceding pools.
static void layer_sizes(int n_conv, int h, int w, int *hs, int *ws) {
    for (int i = 0; i < n_conv; i++) {
        if (nst_vgg_pool_before(i)) { h /= 2; w /= 2; }
        hs[i] = h; ws[i] = w;
    }
}

#define COL_BUDGET_FLOATS ((size_t)4 << 20)   // 16 MiB of im2col scratch

static size_t col_floats_for(int n_conv, const int *ws) {
    size_t need = COL_BUDGET_FLOATS;
    for (int i = 0; i < n_conv; i++) {   // at least one output row per layer, both directions
        size_t one_row = (size_t)9 * (nst_vgg_cin(i) > nst_vgg_cout(i) ? nst_vgg_cin(i) : nst_vgg_cout(i)) * ws[i];
        if (one_row > need) need = one_row;
    }
    return need;
}

size_t nst_vgg_bytes(int n_conv, int h, int w, const int *loss_at) {
    int hs[NST_VGG_CONVS], ws[NST_VGG_CONVS];
    layer_sizes(n_conv, h, w, hs, ws);
    size_t floats = 0, largest = 0;
    for (int i = 0; i < n_conv; i++) {
        size_t a = (size_t)nst_vgg_cout(i) * hs[i] * ws[i];
        size_t in = (size_t)nst_vgg_cin(i) * hs[i] * ws[i];
        floats += a * (loss_at && (loss_at[i] & NST_LOSS_PRE) ? 2 : 1);
        if (nst_vgg_pool_before(i)) floats += in;
        floats += (size_t)nst_vgg_cin(i) * nst_vgg_cout(i) * 9;
        if (a > largest) largest = a;
        if (in > largest) largest = in;
    }
    floats += 2 * largest + col_floats_for(n_conv, ws);
    return floats * sizeof(float);
}

int nst_vgg_init(nst_vgg *net, const nst_vgg_weights *wts, int n_conv, int h, int w,
                 const int *loss_at, int avg_pool, nst_backend backend, int bf16, int forward_only,
                 nst_error *err) {
    memset(net, 0, sizeof *net);
    net->forward_only = forward_only;
    net->dnnl_layout = bf16 >> 1;
    bf16 &= 1;
    if (n_conv < 1 || n_conv > wts->n_conv)
        return nst_fail(err, NST_ERR_MODEL, "the model has %d conv layers, %d needed", wts->n_conv, n_conv);
    net->weights = wts;
    net->n_conv = n_conv;
    net->avg_pool = avg_pool;
    net->backend = backend;
    layer_sizes(n_conv, h, w, net->h, net->w);
    for (int i = 0; i < n_conv; i++) net->loss_at[i] = loss_at ? loss_at[i] : NST_LOSS_POST;
    if (net->h[n_conv - 1] < 1 || net->w[n_conv - 1] < 1)
        return nst_fail(err, NST_ERR_USAGE, "a %dx%d image is too small for layer %s (it is pooled %d times)",
                        w, h, nst_vgg_conv_name(n_conv - 1), n_conv > 12 ? 4 : n_conv > 8 ? 3 : n_conv > 4 ? 2 : n_conv > 2 ? 1 : 0);
    if (backend == NST_BACKEND_ONEDNN) return nst_dnnl_init(net, bf16, err);
    if (bf16) return nst_fail(err, NST_ERR_USAGE, "bf16 needs the oneDNN backend");
    size_t largest = 0;
    for (int i = 0; i < n_conv; i++) {
        size_t hw = (size_t)net->h[i] * net->w[i];
        size_t a = (size_t)nst_vgg_cout(i) * hw, in = (size_t)nst_vgg_cin(i) * hw;
        net->post[i] = malloc(a * sizeof(float));
        if (!net->post[i]) goto nomem;
        if ((net->loss_at[i] & NST_LOSS_PRE) && !(net->pre[i] = malloc(a * sizeof(float)))) goto nomem;
        if (nst_vgg_pool_before(i) && !(net->pooled[i] = malloc(in * sizeof(float)))) goto nomem;
        if (backend == NST_BACKEND_GEMM && !forward_only) {
            size_t nw = (size_t)nst_vgg_cin(i) * nst_vgg_cout(i) * 9;
            if (!(net->wflip[i] = malloc(nw * sizeof(float)))) goto nomem;
            nst_conv3x3_flip_weights(net->wflip[i], wts->weight[i], nst_vgg_cin(i), nst_vgg_cout(i));
        }
        if (a > largest) largest = a;
        if (in > largest) largest = in;
    }
    for (int k = 0; k < 2 && !forward_only; k++)
        if (!(net->grad[k] = malloc(largest * sizeof(float)))) goto nomem;
    if (backend == NST_BACKEND_GEMM) {
        net->col_floats = col_floats_for(n_conv, net->w);
        if (!(net->col = malloc(net->col_floats * sizeof(float)))) goto nomem;
    }
    net->bytes = nst_vgg_bytes(n_conv, h, w, net->loss_at);
    return NST_OK;
nomem:
    nst_vgg_free(net);
    return nst_fail(err, NST_ERR_NOMEM, "out of memory allocating the network for a %dx%d image", w, h);
}

void nst_vgg_free(nst_vgg *net) {
    if (net->dnnl) nst_dnnl_free(net);
    for (int i = 0; i < NST_VGG_CONVS; i++) {
        free(net->post[i]); free(net->pre[i]); free(net->pooled[i]); free(net->wflip[i]);
    }
    free(net->grad[0]); free(net->grad[1]); free(net->col);
    memset(net, 0, sizeof *net);
}

static void conv_forward(nst_vgg *net, int i, float *out, const float *in) {
    int h = net->h[i], w = net->w[i];
    const nst_vgg_weights *wts = net->weights;
    if (net->backend == NST_BACKEND_GEMM)
        nst_conv3x3_forward_gemm(out, in, wts->weight[i], wts->bias[i], nst_vgg_cin(i),
                                 nst_vgg_cout(i), h, w, net->col, net->col_floats);
    else
        nst_conv3x3_forward_ref(out, in, wts->weight[i], wts->bias[i], nst_vgg_cin(i),
                                nst_vgg_cout(i), h, w);
}

static void conv_backward(nst_vgg *net, int i, float *din, const float *dout) {
    int h = net->h[i], w = net->w[i];
    if (net->backend == NST_BACKEND_GEMM)
        nst_conv3x3_forward_gemm(din, dout, net->wflip[i], NULL, nst_vgg_cout(i),
                                 nst_vgg_cin(i), h, w, net->col, net->col_floats);
    else
        nst_conv3x3_backward_ref(din, dout, net->weights->weight[i], nst_vgg_cin(i),
                                 nst_vgg_cout(i), h, w);
}

// The input of conv i: the image, the pooled previous activation, or the previous one.
static const float *layer_input(const nst_vgg *net, int i, const float *x) {
    if (i == 0) return x;
    return nst_vgg_pool_before(i) ? net->pooled[i] : net->post[i - 1];
}

void nst_vgg_forward(nst_vgg *net, const float *x) {
    if (net->dnnl) { nst_dnnl_forward(net, x); return; }
    for (int i = 0; i < net->n_conv; i++) {
        if (nst_vgg_pool_before(i)) {
            int c = nst_vgg_cout(i - 1), h = net->h[i - 1], w = net->w[i - 1];
            if (net->avg_pool) nst_avgpool_forward(net->pooled[i], net->post[i - 1], c, h, w);
            else nst_maxpool_forward(net->pooled[i], net->post[i - 1], c, h, w);
        }
        size_t n = (size_t)nst_vgg_cout(i) * net->h[i] * net->w[i];
        conv_forward(net, i, net->post[i], layer_input(net, i, x));
        if (net->pre[i]) memcpy(net->pre[i], net->post[i], n * sizeof(float));
        nst_relu_forward(net->post[i], n);
    }
}

const float *nst_vgg_activation(const nst_vgg *net, nst_layer_ref ref) {
    if (ref.conv < 0 || ref.conv >= net->n_conv) return NULL;
    if (net->dnnl) return nst_dnnl_activation(net, ref);
    return ref.relu ? net->post[ref.conv] : net->pre[ref.conv];
}

void nst_vgg_backward(nst_vgg *net, float *dx, nst_loss_grad_fn add_loss_grad, void *ctx) {
    if (net->dnnl) { nst_dnnl_backward(net, dx, add_loss_grad, ctx); return; }
    int top = net->n_conv - 1;
    float *g = net->grad[0], *other = net->grad[1];
    memset(g, 0, sizeof(float) * nst_vgg_cout(top) * net->h[top] * net->w[top]);
    for (int i = top; i >= 0; i--) {
        int h = net->h[i], w = net->w[i];
        size_t n = (size_t)nst_vgg_cout(i) * h * w;
        // g holds dL/d relu_i output
        if (net->loss_at[i] & NST_LOSS_POST) add_loss_grad(ctx, (nst_layer_ref){i, 1}, g);
        nst_relu_backward(g, net->post[i], n);
        if (net->loss_at[i] & NST_LOSS_PRE) add_loss_grad(ctx, (nst_layer_ref){i, 0}, g);
        float *din = i == 0 ? dx : other;
        conv_backward(net, i, din, g);
        if (i == 0) break;
        if (nst_vgg_pool_before(i)) {
            // din is dL/d pooled; spread it back to relu_{i-1}'s output in g
            int c = nst_vgg_cout(i - 1), ph = net->h[i - 1], pw = net->w[i - 1];
            if (net->avg_pool) nst_avgpool_backward(g, din, c, ph, pw);
            else nst_maxpool_backward(g, din, net->post[i - 1], c, ph, pw);
        } else {
            float *t = g; g = other; other = t;
        }
    }
}
