// backend_reference.c: plain loops for every layer, the oracle the other backends are
// tested against (layers.c). Never fast; always right.
#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/plain_net.h"

static void conv_forward(nsti_vgg *net, int i, float *out, const float *in) {
    const nsti_conv_layer *l = &net->weights->layer[i];
    nsti_conv3x3_forward_ref(out, in, net->weights->weight[i], net->weights->bias[i], l->cin, l->cout,
                            net->h[i], net->w[i]);
}

static void conv_backward(nsti_vgg *net, int i, float *din, const float *dout) {
    const nsti_conv_layer *l = &net->weights->layer[i];
    nsti_conv3x3_backward_ref(din, dout, net->weights->weight[i], l->cin, l->cout, net->h[i], net->w[i]);
}

static int available(void) { return 1; }
static int init(nsti_vgg *net, int bf16, nst_error *err) { (void)bf16; return nsti_plain_init(net, 0, err); }
static void forward(nsti_vgg *net, const float *x) { nsti_plain_forward(net, x, conv_forward); }
static void backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn fn, void *ctx) {
    nsti_plain_backward(net, dx, fn, ctx, conv_backward);
}

const nsti_backend_ops nsti_backend_reference = {
    .id = NST_BACKEND_REF, .key = "reference", .available = available, .has_bf16 = nsti_plain_no_bf16,
    .bytes = nsti_plain_bytes, .init = init, .free = nsti_plain_free, .forward = forward,
    .activation = nsti_plain_activation, .backward = backward, .gemm = nsti_sgemm,
};
