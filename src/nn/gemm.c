#include "nn/gemm.h"
#include <stddef.h>
#ifdef NST_HAVE_OPENBLAS
#include <cblas.h>
#endif

void nst_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta,
                   float *c, int ldc) {
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < m; i++) {
        float *crow = c + (size_t)i * ldc;
        if (beta == 0.0f) for (int j = 0; j < n; j++) crow[j] = 0.0f;
        else if (beta != 1.0f) for (int j = 0; j < n; j++) crow[j] *= beta;
        for (int p = 0; p < k; p++) {
            float av = alpha * (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
            if (!trans_b) {
                const float *brow = b + (size_t)p * ldb;   // contiguous: vectorizes
                for (int j = 0; j < n; j++) crow[j] += av * brow[j];
            } else {
                for (int j = 0; j < n; j++) crow[j] += av * b[(size_t)j * ldb + p];
            }
        }
    }
}

void nst_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc) {
#ifdef NST_HAVE_OPENBLAS
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
#else
    nst_sgemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

const char *nst_sgemm_backend(void) {
#ifdef NST_HAVE_OPENBLAS
    return "openblas";
#else
    return "reference";
#endif
}

void nst_sgemm_set_threads(int n) {
#ifdef NST_HAVE_OPENBLAS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}
