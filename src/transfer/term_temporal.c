// term_temporal.c: temporal consistency for video (Ruder, Dosovitskiy and Brox 2016):
// weight * sum over targets j of mean over the picture's values of m_j * (v - t_j)^2,
// t_j an earlier stylized frame warped to this one, m_j its consistency mask (1: kept).
// Under AUTO v is in pixel units and the term in 0..1 units (/ 255^2), as tv's.
#include "transfer/terms.h"
#include "transfer/objective.h"
#include <stdlib.h>
#include <string.h>

// t->target[j] (3,H,W) in the optimizer's units; t->mask[j] (H,W) 0..1 or NULL.
typedef struct temporal_state { int n; } temporal_state;

// v is (3,H,W); grad (3,H,W) gets the term's gradient added.
static void eval_image(nsti_term *t, nsti_objective *obj, const float *v, float *grad) {
    const temporal_state *st = t->state;
    if (!st || t->weight == 0) return;
    size_t npix = (size_t)obj->net.h[0] * obj->net.w[0], n = 3 * npix;
    double k = (obj->auto_scale ? t->weight / (255.0 * 255.0) : t->weight) / (double)n;
    double sum = 0;
    for (int j = 0; j < st->n; j++) {
        const float *target = t->target[j], *mask = t->mask[j];
        // the value in one thread, in order: the same bits for any thread count
        for (size_t i = 0; i < n; i++) {
            double d = (double)v[i] - target[i], m = mask ? mask[i % npix] : 1.0;
            sum += m * d * d;
        }
        float g = (float)(2.0 * k);
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) grad[i] += g * (mask ? mask[i % npix] : 1.0f) * (v[i] - target[i]);
    }
    t->last = k * sum;
}

static void free_state(nsti_term *t) { free(t->state); t->state = NULL; }

const nsti_term_kind nsti_term_temporal = {
    .name = "temporal", .source = NST_TARGET_NONE, .eval_image = eval_image, .free = free_state,
};

int nsti_term_temporal_set(nsti_term *t, float **targets, float **masks, int n) {
    if (n > NST_MAX_LAYERS) return NST_ERR_USAGE;
    temporal_state *st = calloc(1, sizeof *st);
    if (!st) return NST_ERR_NOMEM;
    st->n = n;
    for (int j = 0; j < n; j++) {   // the term owns them from here
        t->target[j] = targets[j];
        t->mask[j] = masks ? masks[j] : NULL;
    }
    t->state = st;
    return NST_OK;
}
