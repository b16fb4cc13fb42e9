// vgg.c: the network's sizes from its layer table, and the calls into its backend.
#include "nn/vgg.h"
#include "nn/backend.h"
#include <stdio.h>
#include <string.h>

int nsti_layer_parse(nsti_layer_ref *ref, const char *name, const nsti_vgg_weights *w) {
    int block, sub, n = 0, relu = 0;
    if ((strncmp(name, "conv", 4) && strncmp(name, "relu", 4)) ||
        sscanf(name + 4, "%d_%d%n", &block, &sub, &n) != 2 || name[4 + n] != 0)
        return -1;
    int i = nsti_layout_find(w->layer, w->n_conv, name, &relu);
    if (i < 0) return -2;
    ref->conv = i;
    ref->relu = relu;
    return 0;
}

void nsti_layer_format(char *buf, size_t n, const nsti_vgg_weights *w, nsti_layer_ref ref) {
    snprintf(buf, n, "%s%s", ref.relu ? "relu" : "conv", w->layer[ref.conv].name + 4);
}

void nsti_vgg_layer_sizes(const nsti_vgg_weights *wts, int n_conv, int h, int w, int *hs, int *ws) {
    for (int i = 0; i < n_conv; i++) {
        if (wts->layer[i].pool_before) { h /= 2; w /= 2; }
        hs[i] = h; ws[i] = w;
    }
}

int nsti_vgg_init(nsti_vgg *net, const nsti_vgg_weights *wts, int n_conv, int h, int w,
                 const int *loss_at, int avg_pool, const nsti_backend_ops *ops, int bf16,
                 int forward_only, nst_error *err) {
    memset(net, 0, sizeof *net);
    net->forward_only = forward_only;
    net->dnnl_layout = bf16 >> 1;
    bf16 &= 1;
    if (n_conv < 1 || n_conv > wts->n_conv)
        return nsti_fail(err, NST_ERR_MODEL, "the model has %d conv layers, %d needed", wts->n_conv, n_conv);
    if (!ops->available()) return nsti_fail(err, NST_ERR_USAGE, "the %s backend is not built in", ops->key);
    if (bf16 && !ops->has_bf16()) return nsti_fail(err, NST_ERR_USAGE, "bf16 needs the oneDNN backend");
    net->weights = wts;
    net->ops = ops;
    net->n_conv = n_conv;
    net->avg_pool = avg_pool;
    net->bf16 = bf16;
    nsti_vgg_layer_sizes(wts, n_conv, h, w, net->h, net->w);
    for (int i = 0; i < n_conv; i++) net->loss_at[i] = loss_at ? loss_at[i] : NST_LOSS_POST;
    if (net->h[n_conv - 1] < 1 || net->w[n_conv - 1] < 1)
        return nsti_fail(err, NST_ERR_USAGE, "a %dx%d image is too small for layer %s (it is pooled %d times)",
                        w, h, wts->layer[n_conv - 1].name, wts->layer[n_conv - 1].block - 1);
    return ops->init(net, bf16, err);
}

void nsti_vgg_free(nsti_vgg *net) {
    if (net->ops) net->ops->free(net);
    memset(net, 0, sizeof *net);
}

void nsti_vgg_forward(nsti_vgg *net, const float *x) { net->ops->forward(net, x); }

int nsti_vgg_forward_visit(nsti_vgg *net, const float *x, nsti_layer_visit_fn visit, void *ctx) {
    if (net->ops->forward_visit) return net->ops->forward_visit(net, x, visit, ctx);
    net->ops->forward(net, x);   // a backend that keeps every activation: visit them after
    for (int i = 0; i < net->n_conv && visit; i++) {
        int rc = net->loss_at[i] ? visit(ctx, net, i) : 0;
        if (rc) return rc;
    }
    return 0;
}

const float *nsti_vgg_activation(const nsti_vgg *net, nsti_layer_ref ref) {
    if (ref.conv < 0 || ref.conv >= net->n_conv) return NULL;
    return net->ops->activation(net, ref);
}

void nsti_vgg_backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx) {
    net->ops->backward(net, dx, add_loss_grad, ctx);
}
