// gemm.h: single-precision matrix multiply, row-major.
// C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C
#ifndef NST_GEMM_H
#define NST_GEMM_H

// Plain loops, the oracle. Threads split the rows of C.
void nst_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta,
                   float *c, int ldc);
// The fast path: OpenBLAS when built with it, else the reference loops.
void nst_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc);
// C (M,M) = alpha * A (M,K) * A^T + beta * C, for Gram matrices (K = pixels, long):
// oneDNN's sgemm when built in, else nst_sgemm. Why: oneDNN picks its kernel for the
// CPU at run time, while OpenBLAS 0.3.21 falls back to its generic SSE3 kernel on
// CPUs newer than itself (measured on 2 cores of a Sapphire Rapids-class Xeon: 50-64
// GFLOP/s against oneDNN's 100-315 for VGG19's Gram shapes at 512x384). The product
// with the short inner dimension (the style gradient) is memory-bound and stays on
// nst_sgemm, which was as fast or faster there (28 ms against 46 ms at C=64).
void nst_sgemm_gram(int m, int k, float alpha, const float *a, int lda, float beta, float *c, int ldc);
// Which implementation nst_sgemm uses ("openblas" or "reference").
const char *nst_sgemm_backend(void);
// Which implementation nst_sgemm_gram uses ("onednn", "openblas" or "reference").
const char *nst_sgemm_gram_backend(void);

#endif
