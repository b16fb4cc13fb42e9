// plain_net.c: see plain_net.h. Layer by layer: pool (if the table says so), conv,
// ReLU; backward in reverse, with the losses' gradients added where they read.
#include "nn/plain_net.h"
#include "nn/layers.h"
#include <stdlib.h>
#include <string.h>

#define COL_BUDGET_FLOATS ((size_t)4 << 20)   // 16 MiB of im2col scratch

static size_t col_floats_for(const nsti_vgg_weights *wts, int n_conv, const int *ws) {
    size_t need = COL_BUDGET_FLOATS;
    for (int i = 0; i < n_conv; i++) {   // at least one output row per layer, both directions
        const nsti_conv_layer *l = &wts->layer[i];
        size_t one_row = (size_t)9 * (l->cin > l->cout ? l->cin : l->cout) * ws[i];
        if (one_row > need) need = one_row;
    }
    return need;
}

size_t nsti_plain_bytes(const nsti_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16,
                        int forward_only) {
    (void)bf16;
    (void)forward_only;   // a bound: the plain backends keep every activation either way
    int hs[NST_MAX_CONVS], ws[NST_MAX_CONVS];
    nsti_vgg_layer_sizes(wts, n_conv, h, w, hs, ws);
    size_t floats = 0, largest = 0;
    for (int i = 0; i < n_conv; i++) {
        const nsti_conv_layer *l = &wts->layer[i];
        size_t a = (size_t)l->cout * hs[i] * ws[i];
        size_t in = (size_t)l->cin * hs[i] * ws[i];
        floats += a * (loss_at && (loss_at[i] & NST_LOSS_PRE) ? 2 : 1);
        if (l->pool_before) floats += in;
        floats += (size_t)l->cin * l->cout * 9;
        if (a > largest) largest = a;
        if (in > largest) largest = in;
    }
    floats += 2 * largest + col_floats_for(wts, n_conv, ws);
    return floats * sizeof(float);
}

int nsti_plain_init(nsti_vgg *net, int blas, nst_error *err) {
    const nsti_vgg_weights *wts = net->weights;
    size_t largest = 0;
    for (int i = 0; i < net->n_conv; i++) {
        size_t hw = (size_t)net->h[i] * net->w[i];
        const nsti_conv_layer *l = &wts->layer[i];
        size_t a = (size_t)l->cout * hw, in = (size_t)l->cin * hw;
        net->post[i] = malloc(a * sizeof(float));
        if (!net->post[i]) goto nomem;
        if ((net->loss_at[i] & NST_LOSS_PRE) && !(net->pre[i] = malloc(a * sizeof(float)))) goto nomem;
        if (l->pool_before && !(net->pooled[i] = malloc(in * sizeof(float)))) goto nomem;
        if (blas && !net->forward_only) {
            size_t nw = (size_t)l->cin * l->cout * 9;
            if (!(net->wflip[i] = malloc(nw * sizeof(float)))) goto nomem;
            nsti_conv3x3_flip_weights(net->wflip[i], wts->weight[i], l->cin, l->cout);
        }
        if (a > largest) largest = a;
        if (in > largest) largest = in;
    }
    for (int k = 0; k < 2 && !net->forward_only; k++)
        if (!(net->grad[k] = malloc((largest ? largest : 1) * sizeof(float)))) goto nomem;
    if (blas) {
        net->col_floats = col_floats_for(wts, net->n_conv, net->w);
        if (!(net->col = malloc(net->col_floats * sizeof(float)))) goto nomem;
    }
    net->bytes = nsti_plain_bytes(wts, net->n_conv, net->h[0], net->w[0], net->loss_at, 0, net->forward_only);
    return NST_OK;
nomem:;
    int w = net->w[0], h = net->h[0];
    nsti_plain_free(net);
    return nsti_fail(err, NST_ERR_NOMEM, "out of memory allocating the network for a %dx%d image", w, h);
}

void nsti_plain_free(nsti_vgg *net) {
    for (int i = 0; i < NST_MAX_CONVS; i++) {
        free(net->post[i]); free(net->pre[i]); free(net->pooled[i]); free(net->wflip[i]);
        net->post[i] = net->pre[i] = net->pooled[i] = net->wflip[i] = NULL;
    }
    free(net->grad[0]); free(net->grad[1]); free(net->col);
    net->grad[0] = net->grad[1] = net->col = NULL;
}

// The input of conv i: the image, the pooled previous activation, or the previous one.
static const float *layer_input(const nsti_vgg *net, int i, const float *x) {
    if (i == 0) return x;
    return net->weights->layer[i].pool_before ? net->pooled[i] : net->post[i - 1];
}

void nsti_plain_forward(nsti_vgg *net, const float *x, nsti_plain_conv_fn conv) {
    const nsti_conv_layer *layer = net->weights->layer;
    for (int i = 0; i < net->n_conv; i++) {
        if (layer[i].pool_before) {
            int c = layer[i - 1].cout, h = net->h[i - 1], w = net->w[i - 1];
            if (net->avg_pool) nsti_avgpool_forward(net->pooled[i], net->post[i - 1], c, h, w);
            else nsti_maxpool_forward(net->pooled[i], net->post[i - 1], c, h, w);
        }
        size_t n = (size_t)layer[i].cout * net->h[i] * net->w[i];
        conv(net, i, net->post[i], layer_input(net, i, x));
        if (net->pre[i]) memcpy(net->pre[i], net->post[i], n * sizeof(float));
        nsti_relu_forward(net->post[i], n);
    }
}

const float *nsti_plain_activation(const nsti_vgg *net, nsti_layer_ref ref) {
    return ref.relu ? net->post[ref.conv] : net->pre[ref.conv];
}

void nsti_plain_backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx,
                        nsti_plain_conv_fn conv_backward) {
    const nsti_conv_layer *layer = net->weights->layer;
    int top = net->n_conv - 1;
    float *g = net->grad[0], *other = net->grad[1];
    memset(g, 0, sizeof(float) * layer[top].cout * net->h[top] * net->w[top]);
    for (int i = top; i >= 0; i--) {
        int h = net->h[i], w = net->w[i];
        size_t n = (size_t)layer[i].cout * h * w;
        // g holds dL/d relu_i output
        if (net->loss_at[i] & NST_LOSS_POST) add_loss_grad(ctx, (nsti_layer_ref){i, 1}, g);
        nsti_relu_backward(g, net->post[i], n);
        if (net->loss_at[i] & NST_LOSS_PRE) add_loss_grad(ctx, (nsti_layer_ref){i, 0}, g);
        float *din = i == 0 ? dx : other;
        conv_backward(net, i, din, g);
        if (i == 0) break;
        if (layer[i].pool_before) {
            // din is dL/d pooled; spread it back to relu_{i-1}'s output in g
            int c = layer[i - 1].cout, ph = net->h[i - 1], pw = net->w[i - 1];
            if (net->avg_pool) nsti_avgpool_backward(g, din, c, ph, pw);
            else nsti_maxpool_backward(g, din, net->post[i - 1], c, ph, pw);
        } else {
            float *t = g; g = other; other = t;
        }
    }
}

int nsti_plain_no_bf16(void) { return 0; }
