// backend_dnnl.h: what the oneDNN backend (nsti_backend_dnnl, backend.h) tells
// beyond the backend table. Activations stay in one
// layout from layer to layer (blocked nChw16c, or channels-last where oneDNN's AMX
// bf16 kernels want it), ReLU is fused into the convolution, only the activations
// that losses read are reordered to (C,H,W), and their Gram matrices are oneDNN matmuls.
#ifndef NST_BACKEND_DNNL_H
#define NST_BACKEND_DNNL_H
#include "nn/vgg.h"

// 1 when oneDNN will run AMX kernels on this CPU (AMX-BF16, enabled by the OS).
int nsti_dnnl_cpu_has_amx(void);
// Whether oneDNN's CPU ISA value `isa` has every feature of `want` (dnnl_cpu_isa_*
// values are bit sets: comparing them with >= took AVX2-VNNI CPUs for AMX ones).
int nsti_dnnl_isa_includes(unsigned isa, unsigned want);
// The activations' layout of an initialized network: "nChw16c" or "nhwc" ("" without oneDNN).
const char *nsti_dnnl_layout_name(const nsti_vgg *net);
// How many of the network's primitives run one of oneDNN's reference kernels (its
// slowest: seconds an iteration where a JIT kernel takes milliseconds); the first one
// in words into first[n].
int nsti_dnnl_reference_kernels(const nsti_vgg *net, char *first, size_t n);

#endif
