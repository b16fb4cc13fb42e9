// dnnl_gram.h: a style layer's two matrix products, G = F F^T and grad += D F, as oneDNN
// matmul primitives made once per layer shape (the oneDNN backend), on the network's
// own (C,N) copy of the activation: float32, or bfloat16 in bf16 networks.
//
// Why: oneDNN's matmul runs its brgemm kernels (AMX, AVX512-BF16, AVX-512), where its
// sgemm API, which the losses called before, ran 2-4x slower on these shapes (K = the
// pixels for the Gram, up to 196608). Measured on an AMD EPYC (AVX-512, AVX512-BF16, no
// AMX), 2 cores, VGG19's five style layers at 512x384, Gram and gradient together an
// iteration: sgemm 118 ms; matmul float32 49 ms; matmul bf16 30 ms. In bf16, with the
// convolutions on AMX, the float32 products had been about half of an iteration.
//
// Precision: float32 is float32 throughout (the sums in another order than sgemm's). In
// bf16, F is bf16 already (the network's activation), so every product of the Gram
// matrix is exact in float32 and the sums are float32; the gradient's D (C,C) is rounded
// to bf16 before the product, as the bf16 backward convolutions then round the gradient.
#ifndef NST_DNNL_GRAM_H
#define NST_DNNL_GRAM_H
#include <stddef.h>
#include <stdint.h>

#ifdef NST_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

typedef struct nsti_dnnl_gram {
    int c;
    size_t n;
    dnnl_primitive_t gram;     // G (C,C) f32 = F (C,N) F^T, both read from F's one buffer
    dnnl_primitive_t grad;     // grad (C,N) f32 += D (C,C) F (C,N), D and F of F's type (or NULL)
    dnnl_memory_t f, f_t, g;   // over F, F^T (the same bytes, strided) and G
    dnnl_memory_t d, dst;      // over D (d_bf16, or the caller's float32 D) and the gradient
    uint16_t *d_bf16;          // bf16: (C,C), D rounded, what `grad` reads (float32 reads D itself)
} nsti_dnnl_gram;

// Makes the primitives for F of shape (c, n), float32 or bf16, on engine: the Gram's, and
// the gradient's with with_grad (not for forward-only networks). Returns 0, or -1 when
// oneDNN cannot, or would run its reference matmul (then the caller multiplies the
// float32 activation with sgemm, as before).
int nsti_dnnl_gram_init(nsti_dnnl_gram *m, dnnl_engine_t engine, int c, size_t n, int bf16, int with_grad);
void nsti_dnnl_gram_free(nsti_dnnl_gram *m);
// g (C,C) = F F^T / div. f is (C,N) of the type given to init.
int nsti_dnnl_gram_run(nsti_dnnl_gram *m, dnnl_stream_t stream, float *g, const void *f, float div);
// grad (C,N) += D F (bf16: bf16(D) F). d (C,C) float32 is read only. -1 without `grad`.
int nsti_dnnl_gram_grad_run(nsti_dnnl_gram *m, dnnl_stream_t stream, float *grad, const void *f,
                           const float *d);
#endif

#endif
