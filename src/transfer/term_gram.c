// term_gram.c: the style term of Gatys et al., mean((G - A)^2) per layer with
// G = F F^T / (C N) (or unnormalized, --loss-scale raw's tutorial Grams). With several
// styles the target is their blend: with blend weights summing to 1,
// sum_s b_s ||G - A_s||^2 = ||G - sum_s b_s A_s||^2 + const, the same gradient for
// one Gram. With masks (spatial control) each style is matched inside its region
// against its own Gram matrix instead. Where the backend multiplies its own copy of the
// activations (the oneDNN backend, float32 or bf16: backend.h's gram), the unmasked
// products run there.
#include "transfer/terms.h"
#include "transfer/objective.h"
#include "loss/losses.h"
#include "nn/backend.h"
#include <stdlib.h>
#include <string.h>

typedef struct gram_state {
    float *own[NST_MAX_STYLES][NST_MAX_LAYERS];        // each style's own Gram (C,C)
    float own_scale[NST_MAX_STYLES][NST_MAX_LAYERS];
} gram_state;

static float gram_div(const nsti_objective *obj, int c, size_t n) {
    return obj->raw_gram ? 1.0f : (float)((double)c * n);
}

// g (C,C) = F F^T / div for activation r of net: the backend's product, else gemm's.
static void layer_gram(const nsti_vgg *net, nsti_layer_ref r, float *g, int c, size_t n, float div) {
    if (net->ops->gram && !net->ops->gram(net, r, g, div)) return;
    nsti_gram(net->ops->gemm, g, nsti_vgg_activation(net, r), c, (int)n, div);
}

static int add_target(nsti_term *t, nsti_objective *obj, const nsti_vgg *net, int s, int n_styles, float blend,
                      int conv) {
    (void)n_styles;
    gram_state *st = t->state;
    if (!st && !(st = t->state = calloc(1, sizeof *st))) return NST_ERR_NOMEM;
    for (int i = 0; i < t->n_layers; i++) {
        nsti_layer_ref r = t->layer[i];
        if (conv >= 0 && r.conv != conv) continue;
        int c = net->weights->layer[r.conv].cout;
        size_t n = (size_t)net->h[r.conv] * net->w[r.conv], cc = (size_t)c * c;
        if (!t->target[i] && !(t->target[i] = calloc(cc, sizeof(float)))) return NST_ERR_NOMEM;
        layer_gram(net, r, obj->scratch, c, n, gram_div(obj, c, n));
        for (size_t k = 0; k < cc; k++) t->target[i][k] += blend * obj->scratch[k];
        // each style's own target too, for spatial control (small: C*C)
        if (!(st->own[s][i] = malloc(sizeof(float) * (cc ? cc : 1)))) return NST_ERR_NOMEM;
        memcpy(st->own[s][i], obj->scratch, sizeof(float) * cc);
        st->own_scale[s][i] = nsti_term_auto_scale(obj, obj->scratch, cc, nsti_term_layer_sum(t));
    }
    return NST_OK;
}

static int finish(nsti_term *t, nsti_objective *obj) {
    for (int i = 0; i < t->n_layers; i++) {
        size_t c = (size_t)obj->net.weights->layer[t->layer[i].conv].cout;
        t->scale[i] = t->target[i] ? nsti_term_auto_scale(obj, t->target[i], c * c, nsti_term_layer_sum(t)) : 1.0f;
    }
    return NST_OK;
}

// One guided-Gram term: style s matched inside its region m. F is (C,N).
static double masked_term(nsti_term *t, nsti_objective *obj, float *grad, const float *f, int i, int s, int c,
                          size_t n) {
    gram_state *st = t->state;
    const float *m = obj->style_mask[s][i];
    double m2 = 0;
    for (size_t k = 0; k < n; k++) m2 += (double)m[k] * m[k];
    if (m2 <= 0) return 0;   // the region vanishes at this layer's resolution
    float *fm = obj->masked, *tg = obj->term_grad;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t k = 0; k < n; k++) fm[(size_t)ch * n + k] = f[(size_t)ch * n + k] * m[k];
    memset(tg, 0, sizeof(float) * c * n);
    float weight = t->weight * t->layer_w[i] * st->own_scale[s][i];
    float div = obj->raw_gram ? 1.0f : (float)((double)c * m2);
    float extra = obj->raw_gram ? (float)((double)c * m2) : 1.0f;
    double v = nsti_style_loss(obj->net.ops->gemm, tg, fm, st->own[s][i], c, (int)n, div, extra, weight, obj->scratch);
    // d/dF of F*m is m
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t k = 0; k < n; k++) tg[(size_t)ch * n + k] *= m[k];
    nsti_term_add_grad(obj, grad, tg, (size_t)c * n, weight);
    return v;
}

// The unmasked term on the backend's products: G, then G - A, then g += factor (G - A) F.
static int backend_term(nsti_objective *obj, float *g, nsti_layer_ref r, const float *target, int c, float div,
                        float extra, float weight, double *value) {
    const nsti_vgg *net = &obj->net;
    float *d = obj->scratch;
    if (!net->ops->gram || !net->ops->gram_grad || net->ops->gram(net, r, d, div)) return -1;
    *value = nsti_style_diff(d, target, c, weight, extra);
    float factor = nsti_style_grad_factor(c, div, extra, weight);
    for (size_t k = 0; k < (size_t)c * c; k++) d[k] *= factor;
    if (net->ops->gram_grad(net, r, g, d)) {   // cannot fail once gram ran; if it did, the plain product
        size_t n = (size_t)net->h[r.conv] * net->w[r.conv];
        net->ops->gemm(0, 0, c, (int)n, c, 1.0f, d, c, nsti_vgg_activation(net, r), (int)n, 1.0f, g, (int)n);
    }
    return 0;
}

static void eval_layer(nsti_term *t, nsti_objective *obj, int i, float *grad) {
    nsti_layer_ref r = t->layer[i];
    int c = obj->net.weights->layer[r.conv].cout;
    size_t n = (size_t)obj->net.h[r.conv] * obj->net.w[r.conv];
    if (obj->n_masked) {
        const float *f = nsti_vgg_activation(&obj->net, r);
        for (int s = 0; s < obj->n_masked; s++) t->last += masked_term(t, obj, grad, f, i, s, c, n);
        return;
    }
    int direct = !obj->normalize_gradients;
    float weight = t->weight * t->layer_w[i] * t->scale[i];
    float extra = obj->raw_gram ? (float)((double)c * n) : 1.0f, div = gram_div(obj, c, n);
    float *g = direct ? grad : obj->term_grad;
    if (!direct) memset(g, 0, sizeof(float) * c * n);
    double v;
    if (backend_term(obj, g, r, t->target[i], c, div, extra, weight, &v))
        v = nsti_style_loss(obj->net.ops->gemm, g, nsti_vgg_activation(&obj->net, r), t->target[i], c, (int)n, div,
                            extra, weight, obj->scratch);
    t->last += v;
    if (!direct) nsti_term_add_grad(obj, grad, g, (size_t)c * n, weight);
}

static void free_state(nsti_term *t) {
    gram_state *st = t->state;
    for (int s = 0; st && s < NST_MAX_STYLES; s++)
        for (int i = 0; i < NST_MAX_LAYERS; i++) free(st->own[s][i]);
    free(st);
    t->state = NULL;
}

const nsti_term_kind nsti_term_style_gram = {
    .name = "style", .source = NST_TARGET_STYLE, .add_target = add_target, .finish = finish,
    .eval_layer = eval_layer, .free = free_state,
};
