// backend_blas.c: convolutions as im2col and one matrix product (OpenBLAS when built
// with it, else plain loops): the backward pass is the forward one with the weights
// flipped and transposed (layers.c).
#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/plain_net.h"

static void conv_forward(nst_vgg *net, int i, float *out, const float *in) {
    const nst_conv_layer *l = &net->weights->layer[i];
    nst_conv3x3_forward_gemm(out, in, net->weights->weight[i], net->weights->bias[i], l->cin, l->cout,
                             net->h[i], net->w[i], net->col, net->col_floats);
}

static void conv_backward(nst_vgg *net, int i, float *din, const float *dout) {
    const nst_conv_layer *l = &net->weights->layer[i];
    nst_conv3x3_forward_gemm(din, dout, net->wflip[i], NULL, l->cout, l->cin, net->h[i], net->w[i], net->col,
                             net->col_floats);
}

static int available(void) { return 1; }
static int init(nst_vgg *net, int bf16, nst_error *err) { (void)bf16; return nst_plain_init(net, 1, err); }
static void forward(nst_vgg *net, const float *x) { nst_plain_forward(net, x, conv_forward); }
static void backward(nst_vgg *net, float *dx, nst_loss_grad_fn fn, void *ctx) {
    nst_plain_backward(net, dx, fn, ctx, conv_backward);
}

const nst_backend_ops nst_backend_blas = {
    .id = NST_BACKEND_BLAS, .key = "blas", .available = available, .has_bf16 = nst_plain_no_bf16,
    .bytes = nst_plain_bytes, .init = init, .free = nst_plain_free, .forward = forward,
    .activation = nst_plain_activation, .backward = backward, .gemm = nst_sgemm,
};
