// vgg_dnnl.h: the oneDNN backend of nst_vgg (see vgg.h). Activations stay in one
// layout from layer to layer (blocked nChw16c, or channels-last where oneDNN's AMX
// bf16 kernels want it), ReLU is fused into the convolution, and only the activations
// that losses read are reordered to (C,H,W).
#ifndef NST_VGG_DNNL_H
#define NST_VGG_DNNL_H
#include "nn/vgg.h"

int nst_dnnl_init(nst_vgg *net, int bf16, nst_error *err);
// About how many bytes nst_dnnl_init would allocate (for estimates before a run).
size_t nst_dnnl_bytes(int n_conv, int h, int w, const int *loss_at, int bf16);
void nst_dnnl_free(nst_vgg *net);
void nst_dnnl_forward(nst_vgg *net, const float *x);
const float *nst_dnnl_activation(const nst_vgg *net, nst_layer_ref ref);
void nst_dnnl_backward(nst_vgg *net, float *dx, nst_loss_grad_fn add_loss_grad, void *ctx);
// Whether oneDNN's CPU ISA value `isa` has every feature of `want` (dnnl_cpu_isa_*
// values are bit sets: comparing them with >= took AVX2-VNNI CPUs for AMX ones).
int nst_dnnl_isa_includes(unsigned isa, unsigned want);
// The activations' layout of an initialized network: "nChw16c" or "nhwc" ("" without oneDNN).
const char *nst_dnnl_layout_name(const nst_vgg *net);
// How many of the network's primitives run one of oneDNN's reference kernels (its
// slowest: seconds an iteration where a JIT kernel takes milliseconds); the first one
// in words into first[n].
int nst_dnnl_reference_kernels(const nst_vgg *net, char *first, size_t n);

#endif
