#include "optim/optim.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int nsti_adam_init(nsti_adam *a, size_t n, float lr, nst_error *err) {
    memset(a, 0, sizeof *a);
    a->n = n; a->lr = lr; a->beta1 = 0.9f; a->beta2 = 0.999f; a->eps = 1e-8f;
    a->m = calloc(n, sizeof(float));
    a->v = calloc(n, sizeof(float));
    if (!a->m || !a->v) {
        nsti_adam_free(a);
        return nsti_fail(err, NST_ERR_NOMEM, "out of memory for the Adam state (%zu values)", n);
    }
    return NST_OK;
}

int nsti_adam_step(nsti_adam *a, float *x, const float *grad) {
    a->t++;
    // Bias corrections in double, element-wise work in float: as torch does.
    double bc1 = 1.0 - pow(a->beta1, (double)a->t);
    double bc2_sqrt = sqrt(1.0 - pow(a->beta2, (double)a->t));
    float step = (float)(a->lr / bc1);
    float b1 = a->beta1, b2 = a->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
    float bc2s = (float)bc2_sqrt, eps = a->eps;
    float *m = a->m, *v = a->v;
    float inf_or_nan = 0;   // stays 0 unless some moment is Inf or NaN (Inf*0 is NaN)
    #pragma omp parallel for schedule(static) reduction(+:inf_or_nan)
    for (size_t i = 0; i < a->n; i++) {
        float g = grad[i];
        m[i] = m[i] * b1 + c1 * g;
        v[i] = v[i] * b2 + c2 * (g * g);
        float denom = sqrtf(v[i]) / bc2s + eps;
        x[i] -= step * (m[i] / denom);
        inf_or_nan += (m[i] + v[i]) * 0.0f;
    }
    return inf_or_nan == 0.0f ? NST_STEP_OK : NST_STEP_FAILED;
}

void nsti_adam_free(nsti_adam *a) {
    free(a->m); free(a->v);
    memset(a, 0, sizeof *a);
}
