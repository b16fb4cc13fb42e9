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
// Which implementation nst_sgemm uses ("openblas" or "reference").
const char *nst_sgemm_backend(void);

#endif
