// backend_blas.c: convolutions as im2col and one matrix product (OpenBLAS when built
// with it, else plain loops): the backward pass is the forward one with the weights
// flipped and transposed (layers.c).
#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/plain_net.h"

static void conv_forward(nsti_vgg *net, int i, float *out, const float *in) {
    const nsti_conv_layer *l = &net->weights->layer[i];
    nsti_conv3x3_forward_gemm(out, in, net->weights->weight[i], net->weights->bias[i], l->cin, l->cout,
                             net->h[i], net->w[i], net->col, net->col_floats);
}

static void conv_backward(nsti_vgg *net, int i, float *din, const float *dout) {
    const nsti_conv_layer *l = &net->weights->layer[i];
    nsti_conv3x3_forward_gemm(din, dout, net->wflip[i], NULL, l->cout, l->cin, net->h[i], net->w[i], net->col,
                             net->col_floats);
}

static int available(void) { return 1; }
static int init(nsti_vgg *net, int bf16, nst_error *err) { (void)bf16; return nsti_plain_init(net, 1, err); }
static void forward(nsti_vgg *net, const float *x) { nsti_plain_forward(net, x, conv_forward); }
static void backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn fn, void *ctx) {
    nsti_plain_backward(net, dx, fn, ctx, conv_backward);
}

const nsti_backend_ops nsti_backend_blas = {
    .id = NST_BACKEND_BLAS, .key = "blas", .available = available, .has_bf16 = nsti_plain_no_bf16,
    .bytes = nsti_plain_bytes, .init = init, .free = nsti_plain_free, .forward = forward,
    .activation = nsti_plain_activation, .backward = backward, .gemm = nsti_sgemm,
};
