#include "nn/gemm.h"
#include <stddef.h>
#include <omp.h>
#ifdef NST_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#ifdef NST_HAVE_OPENBLAS
#include <cblas.h>
#endif

void nsti_sgemm_ref(int trans_a, int trans_b, int m, int n, int k, float alpha,
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

#ifdef NST_HAVE_OPENBLAS
// With OpenBLAS at one thread a call (nst_blas_single_threaded: the program's choice,
// never the library's), our OpenMP threads each multiply their own block of C's
// columns (or rows): no two write the same memory and the split depends only on the
// thread count, so results are reproducible. Otherwise OpenBLAS threads the one call
// itself: two thread pools spinning against each other were 3x slower on 2 cores.
static void sgemm_block(int trans_a, int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb, float beta,
                        float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                beta, c, ldc);
}

#endif

int nst_blas_single_threaded(void) {
#ifdef NST_HAVE_OPENBLAS
    openblas_set_num_threads(1);
    return 1;
#else
    return 0;
#endif
}

void nsti_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta,
               float *c, int ldc) {
#ifdef NST_HAVE_OPENBLAS
    if (openblas_get_num_threads() > 1) {   // the program left OpenBLAS its own threads
        sgemm_block(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int split_cols = n >= m;
    #pragma omp parallel
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int total = split_cols ? n : m;
        int chunk = (total + nt - 1) / nt;
        if (split_cols) chunk = (chunk + 15) / 16 * 16;   // whole vector blocks
        int lo = t * chunk, hi = lo + chunk < total ? lo + chunk : total;
        if (lo < hi) {
            if (split_cols)
                sgemm_block(trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                            trans_b ? b + (size_t)lo * ldb : b + lo, ldb, beta, c + lo, ldc);
            else
                sgemm_block(trans_a, trans_b, hi - lo, n, k, alpha,
                            trans_a ? a + lo : a + (size_t)lo * lda, lda, b, ldb, beta,
                            c + (size_t)lo * ldc, ldc);
        }
    }
#else
    nsti_sgemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

const char *nsti_sgemm_backend(void) {
#ifdef NST_HAVE_OPENBLAS
    return "openblas";
#else
    return "reference";
#endif
}

void nsti_sgemm_onednn(int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc) {
#ifdef NST_HAVE_DNNL
    // oneDNN threads it over the caller's OpenMP thread count; with a fixed count its
    // split, and so its result, is the same every run
    if (dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) ==
        dnnl_success)
        return;
    // only invalid arguments fail, which the callers never pass: the plain path then
#endif
    nsti_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
