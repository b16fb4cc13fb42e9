// backend_reference.c: plain loops for every layer, the oracle the other backends are
// tested against (layers.c). Never fast; always right.
#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/plain_net.h"

static void conv_forward(nst_vgg *net, int i, float *out, const float *in) {
    const nst_conv_layer *l = &net->weights->layer[i];
    nst_conv3x3_forward_ref(out, in, net->weights->weight[i], net->weights->bias[i], l->cin, l->cout,
                            net->h[i], net->w[i]);
}

static void conv_backward(nst_vgg *net, int i, float *din, const float *dout) {
    const nst_conv_layer *l = &net->weights->layer[i];
    nst_conv3x3_backward_ref(din, dout, net->weights->weight[i], l->cin, l->cout, net->h[i], net->w[i]);
}

static int available(void) { return 1; }
static int init(nst_vgg *net, int bf16, nst_error *err) { (void)bf16; return nst_plain_init(net, 0, err); }
static void forward(nst_vgg *net, const float *x) { nst_plain_forward(net, x, conv_forward); }
static void backward(nst_vgg *net, float *dx, nst_loss_grad_fn fn, void *ctx) {
    nst_plain_backward(net, dx, fn, ctx, conv_backward);
}

const nst_backend_ops nst_backend_reference = {
    .id = NST_BACKEND_REF, .key = "reference", .available = available, .has_bf16 = nst_plain_no_bf16,
    .bytes = nst_plain_bytes, .init = init, .free = nst_plain_free, .forward = forward,
    .activation = nst_plain_activation, .backward = backward, .gemm = nst_sgemm,
};
