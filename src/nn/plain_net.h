// plain_net.h: the network in (C,H,W) float32 buffers, layer by layer, shared by the
// backends that differ only in their convolution kernels (reference, BLAS).
#ifndef NST_PLAIN_NET_H
#define NST_PLAIN_NET_H
#include "nn/vgg.h"

// out = conv_i(in) forward, or din = conv_i^T(dout) backward; both (C,H,W).
typedef void (*nsti_plain_conv_fn)(nsti_vgg *net, int i, float *out, const float *in);

// Allocates the buffers; `blas` adds the flipped weights and the im2col scratch.
int nsti_plain_init(nsti_vgg *net, int blas, nst_error *err);
size_t nsti_plain_bytes(const nsti_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16,
                        int forward_only);
void nsti_plain_free(nsti_vgg *net);
void nsti_plain_forward(nsti_vgg *net, const float *x, nsti_plain_conv_fn conv);
const float *nsti_plain_activation(const nsti_vgg *net, nsti_layer_ref ref);
void nsti_plain_backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx,
                        nsti_plain_conv_fn conv_backward);
int nsti_plain_no_bf16(void);

#endif
