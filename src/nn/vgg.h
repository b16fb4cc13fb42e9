// vgg.h: VGG19's `features` on one image, forward and backward to the image.
// Only the layers up to the deepest one asked for are computed. All buffers are
// allocated once, for one image size, by nst_vgg_init: never in the optimization loop.
#ifndef NST_VGG_H
#define NST_VGG_H
#include <stddef.h>
#include "model/weights.h"

typedef enum { NST_BACKEND_REFERENCE = 0, NST_BACKEND_GEMM = 1, NST_BACKEND_ONEDNN = 2 } nst_backend;

// Where losses read activations: bits of loss_at[i] for conv layer i.
#define NST_LOSS_PRE 1    // convX_Y, before the ReLU
#define NST_LOSS_POST 2   // reluX_Y

// The oneDNN backend's activation layout: chosen per CPU and precision, or forced
// (for tests) by adding NST_DNNL_LAYOUT_* << 1 to nst_vgg_init's bf16 argument.
enum { NST_DNNL_LAYOUT_AUTO = 0, NST_DNNL_LAYOUT_BLOCKED = 1, NST_DNNL_LAYOUT_CHANNELS_LAST = 2 };

struct nst_dnnl_net;   // the oneDNN backend's state (vgg_dnnl.c)

// A named activation: convX_Y (before ReLU) or reluX_Y (after it).
typedef struct nst_layer_ref {
    int conv;      // 0..15, index of the conv layer
    int relu;      // 1: after the ReLU
} nst_layer_ref;

// Parses "conv4_2" or "relu4_2". Returns 0 on success.
int nst_layer_parse(nst_layer_ref *ref, const char *name);
void nst_layer_format(char *buf, size_t n, nst_layer_ref ref);

typedef struct nst_vgg {
    const nst_vgg_weights *weights;  // borrowed
    int n_conv;                      // layers computed: the deepest needed + 1
    int avg_pool;                    // 1: average pooling instead of max
    nst_backend backend;
    int h[NST_VGG_CONVS], w[NST_VGG_CONVS];  // spatial size at each conv layer
    float *wflip[NST_VGG_CONVS];     // weights for the backward pass (gemm backend)
    float *post[NST_VGG_CONVS];      // (C,H,W) after ReLU: the activations
    float *pre[NST_VGG_CONVS];       // (C,H,W) before ReLU, only where a loss reads it
    float *pooled[NST_VGG_CONVS];    // (C,H/2,W/2) input of conv i when a pool precedes it
    float *grad[2];                  // ping-pong gradient buffers, largest activation size
    float *col;                      // im2col scratch
    size_t col_floats;
    size_t bytes;                    // total allocated
    int loss_at[NST_VGG_CONVS];      // NST_LOSS_* bits
    int bf16;                        // oneDNN backend: bfloat16 activations and convolutions
    int forward_only;                // no backward pass (style targets): no memory for it
    int dnnl_layout;                 // NST_DNNL_LAYOUT_*: oneDNN's activation layout (tests force one)
    struct nst_dnnl_net *dnnl;       // oneDNN backend state, else NULL
} nst_vgg;

// True when a 2x2 pool precedes conv layer i (after conv1_2, conv2_2, conv3_4, conv4_4).
int nst_vgg_pool_before(int i);
// Bytes nst_vgg_init would allocate, for memory estimates.
size_t nst_vgg_bytes(int n_conv, int h, int w, const int *loss_at);

// loss_at[i] (NST_LOSS_* bits, may be NULL for "every relu") says which activations
// losses read. bf16 (bit 0) asks the oneDNN backend for bfloat16 convolutions; its
// higher bits may force a layout (NST_DNNL_LAYOUT_*). A forward_only
// network cannot run nst_vgg_backward.
int nst_vgg_init(nst_vgg *net, const nst_vgg_weights *wts, int n_conv, int h, int w,
                 const int *loss_at, int avg_pool, nst_backend backend, int bf16, int forward_only,
                 nst_error *err);
// 1 when the oneDNN backend was built in; 1 when the CPU has native bf16 (AVX512-BF16 or AMX).
int nst_vgg_have_onednn(void);
int nst_vgg_cpu_has_bf16(void);
// 1 when oneDNN will run AMX kernels on this CPU (AMX-BF16, enabled by the OS).
int nst_vgg_cpu_has_amx(void);
void nst_vgg_free(nst_vgg *net);
// x is (3,H,W) in the model's input space.
void nst_vgg_forward(nst_vgg *net, const float *x);
// Activation of a layer after the last forward pass: (C, h[i]*w[i]).
const float *nst_vgg_activation(const nst_vgg *net, nst_layer_ref ref);
// Backward pass. add_loss_grad is called at each layer a loss reads (deepest first)
// with a (C,H,W) gradient buffer for that activation, so the losses on it can add
// dL/dF: first for reluX_Y (grad w.r.t. post), then for convX_Y (grad w.r.t. pre).
// Writes dL/dx (3,H,W) into dx.
typedef void (*nst_loss_grad_fn)(void *ctx, nst_layer_ref ref, float *grad);
void nst_vgg_backward(nst_vgg *net, float *dx, nst_loss_grad_fn add_loss_grad, void *ctx);

#endif
