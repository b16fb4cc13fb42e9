// gemm.h: single-precision matrix multiply, row-major.
// C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C
#ifndef NST_GEMM_H
#define NST_GEMM_H

// Plain loops, the oracle. Threads split the rows of C.
void nsti_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta,
                   float *c, int ldc);
// The fast path: OpenBLAS when built with it, else the reference loops.
void nsti_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc);
// The same product through oneDNN's sgemm when built in, else nsti_sgemm. Why: oneDNN
// picks its kernel for the CPU at run time, while OpenBLAS 0.3.21 falls back to its
// generic SSE3 kernel on CPUs newer than itself. Measured on 2 cores of a Sapphire
// Rapids-class Xeon for VGG19's shapes at 512x384: Gram matrices (F F^T, K = pixels)
// 3-5x faster (100-315 GFLOP/s against 50-64); the style gradient's (C,C)x(C,N)
// product faster from C = 128 up (C=256: 20 ms against 25) but slower at C = 64
// (46 ms against 28), where it is memory-bound: the losses choose per shape.
void nsti_sgemm_onednn(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc);
// (With the oneDNN backend the Gram term's two products run as oneDNN matmuls instead,
// 2-4x faster again on these shapes: dnnl_gram.h. This stays its fallback.)
// Either of the two above: the losses take the one that goes with the network's
// backend (oneDNN's with the oneDNN backend, nsti_sgemm with the others, so that the
// BLAS and reference backends run no generated code: valgrind checks them).
typedef void (*nsti_sgemm_fn)(int trans_a, int trans_b, int m, int n, int k, float alpha,
                             const float *a, int lda, const float *b, int ldb, float beta,
                             float *c, int ldc);
// Which implementation nsti_sgemm uses ("openblas" or "reference").
const char *nsti_sgemm_backend(void);


#endif
