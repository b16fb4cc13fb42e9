// terms.c: what every loss term shares (terms.h).
#include "transfer/terms.h"
#include "transfer/objective.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

const nsti_term_kind *nsti_style_term_kind(nst_style_loss_kind kind) {
    switch (kind) {
    case NST_STYLE_LOSS_GRAM: return &nsti_term_style_gram;
    case NST_STYLE_LOSS_MOMENTS: return &nsti_term_style_moments;
    default: return NULL;
    }
}

void nsti_term_add_grad(const nsti_objective *obj, float *grad, const float *g, size_t n, float weight) {
    float k = 1.0f;
    if (obj->normalize_gradients) {   // g = weight * dL/dF: add weight * g / |g|_1
        double l1 = 0;
        for (size_t i = 0; i < n; i++) l1 += fabs(g[i]);
        k = (float)(fabs(weight) / (l1 + 1e-8));
    }
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) grad[i] += k * g[i];
}

// AUTO: 1 / (layers * mean(t^2)) for a target t of n values, so that the term is the
// mean over layers of ||F - t||^2 / ||t||^2; RAW: 1. A target of zeros keeps 1.
float nsti_term_auto_scale(const nsti_objective *obj, const float *t, size_t n, double layers) {
    if (!obj->auto_scale) return 1.0f;
    double sq = 0;
    for (size_t k = 0; k < n; k++) sq += (double)t[k] * t[k];
    double mean = sq / (double)n;
    return mean > 0 ? (float)(1.0 / (layers * mean)) : 1.0f;
}

double nsti_term_layer_sum(const nsti_term *t) {
    double sum = 0;
    for (int i = 0; i < t->n_layers; i++) sum += t->layer_w[i];
    return sum > 0 ? sum : 1.0;
}

void nsti_term_free(nsti_term *t) {
    if (t->kind && t->kind->free) t->kind->free(t);
    for (int i = 0; i < NST_MAX_LAYERS; i++) { free(t->target[i]); free(t->mask[i]); }
    memset(t, 0, sizeof *t);
}
