// vgg.h: a VGG's `features` (the layer table of nsti_vgg_weights) on one image, forward
// and backward to the image.
// Only the layers up to the deepest one asked for are computed. All buffers are
// allocated once, for one image size, by nsti_vgg_init: never in the optimization loop.
#ifndef NST_VGG_H
#define NST_VGG_H
#include <stddef.h>
#include "model/weights.h"
#include "nst.h"   // nst_backend_choice: the one backend enum

struct nsti_backend_ops;   // backend.h

// Where losses read activations: bits of loss_at[i] for conv layer i.
#define NST_LOSS_PRE 1    // convX_Y, before the ReLU
#define NST_LOSS_POST 2   // reluX_Y
#define NST_LOSS_GRAM 4   // with PRE or POST: a Gram term reads it (a backend may prepare its products)

// The oneDNN backend's activation layout: chosen per CPU and precision, or forced
// (for tests) by adding NST_DNNL_LAYOUT_* << 1 to nsti_vgg_init's bf16 argument.
enum { NST_DNNL_LAYOUT_AUTO = 0, NST_DNNL_LAYOUT_BLOCKED = 1, NST_DNNL_LAYOUT_CHANNELS_LAST = 2 };

// nsti_vgg_init's forward_only: a network for the optimization (TRAIN), one that only
// runs forward (FORWARD: the activations stay readable after the pass), or one that
// hands each activation a loss reads to a visitor during the pass (STREAM: read them
// there, nsti_vgg_forward_visit; a backend may keep them all in one buffer).
enum { NSTI_VGG_TRAIN = 0, NSTI_VGG_FORWARD = 1, NSTI_VGG_STREAM = 2 };

// A named activation: convX_Y (before ReLU) or reluX_Y (after it).
typedef struct nsti_layer_ref {
    int conv;      // index of the conv layer in the model's table
    int relu;      // 1: after the ReLU
} nsti_layer_ref;

// Parses "conv4_2" or "relu4_2" against the model's table. Returns 0 on success, -1
// when name is not of that form, -2 when the model has no such layer.
int nsti_layer_parse(nsti_layer_ref *ref, const char *name, const nsti_vgg_weights *w);
void nsti_layer_format(char *buf, size_t n, const nsti_vgg_weights *w, nsti_layer_ref ref);

typedef struct nsti_vgg {
    const nsti_vgg_weights *weights;  // borrowed: the layer table and the weights
    const struct nsti_backend_ops *ops;   // the kernels (backend.h)
    int n_conv;                      // layers computed: the deepest needed + 1
    int avg_pool;                    // 1: average pooling instead of max
    int h[NST_MAX_CONVS], w[NST_MAX_CONVS];  // spatial size at each conv layer
    int loss_at[NST_MAX_CONVS];      // NST_LOSS_* bits
    int bf16;                        // bfloat16 activations and convolutions (oneDNN)
    int forward_only;                // NSTI_VGG_FORWARD or _STREAM: no backward pass, no memory for it
    int dnnl_layout;                 // NST_DNNL_LAYOUT_*: oneDNN's activation layout (tests force one)
    size_t bytes;                    // total allocated
    // The (C,H,W) float32 buffers of the plain backends (reference, BLAS: plain_net.c).
    float *wflip[NST_MAX_CONVS];     // weights for the backward pass (BLAS)
    float *post[NST_MAX_CONVS];      // (C,H,W) after ReLU: the activations
    float *pre[NST_MAX_CONVS];       // (C,H,W) before ReLU, only where a loss reads it
    float *pooled[NST_MAX_CONVS];    // (C,H/2,W/2) input of conv i when a pool precedes it
    float *grad[2];                  // ping-pong gradient buffers, largest activation size
    float *col;                      // im2col scratch (BLAS)
    size_t col_floats;
    void *impl;                      // any other backend's own state (oneDNN's)
} nsti_vgg;


// The spatial size at each of the first n_conv layers for an h x w input.
void nsti_vgg_layer_sizes(const nsti_vgg_weights *wts, int n_conv, int h, int w, int *hs, int *ws);

// loss_at[i] (NST_LOSS_* bits, may be NULL for "every relu") says which activations
// losses read. bf16 (bit 0) asks for bfloat16 convolutions (a backend whose has_bf16
// says so); its higher bits may force oneDNN's layout (NST_DNNL_LAYOUT_*). A
// forward_only network cannot run nsti_vgg_backward.
int nsti_vgg_init(nsti_vgg *net, const nsti_vgg_weights *wts, int n_conv, int h, int w,
                 const int *loss_at, int avg_pool, const struct nsti_backend_ops *ops, int bf16,
                 int forward_only, nst_error *err);
void nsti_vgg_free(nsti_vgg *net);
// x is (3,H,W) in the model's input space.
void nsti_vgg_forward(nsti_vgg *net, const float *x);
// The forward pass, calling visit(ctx, net, i) for each conv layer i that loss_at
// marks, in order, once its activations can be read (nsti_vgg_activation, the
// backend's gram); in a NSTI_VGG_STREAM network, only until visit returns. A non-zero
// return stops the pass and is returned; else 0.
typedef int (*nsti_layer_visit_fn)(void *ctx, const struct nsti_vgg *net, int conv);
int nsti_vgg_forward_visit(nsti_vgg *net, const float *x, nsti_layer_visit_fn visit, void *ctx);
// Activation of a layer after the last forward pass: (C, h[i]*w[i]) float32, valid
// until the next call for another activation (bf16 networks widen one at a time).
const float *nsti_vgg_activation(const nsti_vgg *net, nsti_layer_ref ref);
// Backward pass. add_loss_grad is called at each layer a loss reads (deepest first)
// with a (C,H,W) gradient buffer for that activation, so the losses on it can add
// dL/dF: first for reluX_Y (grad w.r.t. post), then for convX_Y (grad w.r.t. pre).
// Writes dL/dx (3,H,W) into dx.
typedef void (*nsti_loss_grad_fn)(void *ctx, nsti_layer_ref ref, float *grad);
void nsti_vgg_backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx);

#endif
