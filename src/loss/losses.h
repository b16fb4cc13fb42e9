// losses.h: the loss terms of style transfer and their gradients.
// Each function returns the weighted term and, when grad is not NULL, adds its
// gradient to grad. Sums run serially in double so results do not depend on
// the number of threads.
#ifndef NST_LOSSES_H
#define NST_LOSSES_H
#include <stddef.h>
#include "nn/gemm.h"

// G is (C,C) = F F^T / div, F is (C,N), multiplied by gemm (nsti_sgemm or
// nsti_sgemm_onednn, see gemm.h).
void nsti_gram(nsti_sgemm_fn gemm, float *g, const float *f, int c, int n, float div);
// Plain loops, the oracle for nsti_gram.
void nsti_gram_ref(float *g, const float *f, int c, int n, float div);

// weight * mean((F - P)^2) over n values. F, P, grad are (n).
double nsti_content_loss(float *grad, const float *f, const float *p, size_t n, float weight);

// weight * mean(m * (F - P)^2) over C*N values, m (N) broadcast over channels.
double nsti_content_loss_masked(float *grad, const float *f, const float *p, const float *m,
                               int c, size_t n, float weight);

// weight * mean((G - A)^2) / extra_div over the C*C entries, G = F F^T / gram_div.
// F is (C,N), A is (C,C), grad is (C,N). scratch holds C*C floats. gemm as for nsti_gram
// (below 128 channels the gradient's product runs on nsti_sgemm: see gemm.h).
double nsti_style_loss(nsti_sgemm_fn gemm, float *grad, const float *f, const float *a, int c, int n,
                      float gram_div, float extra_div, float weight, float *scratch);
// nsti_style_loss in two steps, for a Gram matrix G computed elsewhere (a backend's own
// product, backend.h): d holds G (C,C) and becomes G - A; returns the term's value.
double nsti_style_diff(float *d, const float *a, int c, float weight, float extra_div);
// The factor of dL/dF = factor * (G - A) F.
float nsti_style_grad_factor(int c, float gram_div, float extra_div, float weight);

// Li et al. 2017's style statistics of F (C,N): stats[c] the channel means, stats[C+c]
// the deviations sqrt(var + 1e-5) (population variance).
void nsti_moments(double *stats, const float *f, int c, size_t n);
// weight * mean over the 2C statistics of (stat(F) - target)^2; target is (2C) as
// nsti_moments writes it, stats 2C doubles of scratch. F, grad are (C,N).
double nsti_moments_loss(float *grad, const float *f, const float *target, int c, size_t n, float weight,
                        double *stats);

// weight * (mean((x[:,i+1,j]-x[:,i,j])^2) + mean((x[:,i,j+1]-x[:,i,j])^2)). x is (C,H,W).
double nsti_tv_loss(float *grad, const float *x, int c, int h, int w, float weight);

#endif
