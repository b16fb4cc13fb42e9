// plain_net.h: the network in (C,H,W) float32 buffers, layer by layer, shared by the
// backends that differ only in their convolution kernels (reference, BLAS).
#ifndef NST_PLAIN_NET_H
#define NST_PLAIN_NET_H
#include "nn/vgg.h"

// out = conv_i(in) forward, or din = conv_i^T(dout) backward; both (C,H,W).
typedef void (*nst_plain_conv_fn)(nst_vgg *net, int i, float *out, const float *in);

// Allocates the buffers; `blas` adds the flipped weights and the im2col scratch.
int nst_plain_init(nst_vgg *net, int blas, nst_error *err);
size_t nst_plain_bytes(const nst_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16);
void nst_plain_free(nst_vgg *net);
void nst_plain_forward(nst_vgg *net, const float *x, nst_plain_conv_fn conv);
const float *nst_plain_activation(const nst_vgg *net, nst_layer_ref ref);
void nst_plain_backward(nst_vgg *net, float *dx, nst_loss_grad_fn add_loss_grad, void *ctx,
                        nst_plain_conv_fn conv_backward);
int nst_plain_no_bf16(void);

#endif
