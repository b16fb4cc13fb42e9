// term_moments.c: the style term of Li et al. 2017 ("Demystifying Neural Style
// Transfer"): match each channel's mean and standard deviation instead of the Gram
// matrix. Per layer, with mu_c and sigma_c = sqrt(var_c + eps) over the N positions
// and the target's mu^_c, sigma^_c (the styles' blend):
//   L = mean over the 2C statistics of the squared difference
//     = sum_c ((mu_c - mu^_c)^2 + (sigma_c - sigma^_c)^2) / (2C)
//   dL/dF_ck = ((mu_c - mu^_c) + (sigma_c - sigma^_c) (F_ck - mu_c) / sigma_c) / (C N)
// O(C N) a layer where the Gram term is O(C^2 N). The loss itself is losses.c's.
#include "transfer/terms.h"
#include "transfer/objective.h"
#include "loss/losses.h"
#include <stdlib.h>
#include <string.h>

static int add_target(nsti_term *t, nsti_objective *obj, const nsti_vgg *net, int s, int n_styles, float blend,
                      int conv) {
    (void)obj; (void)s; (void)n_styles;
    for (int i = 0; i < t->n_layers; i++) {
        nsti_layer_ref r = t->layer[i];
        if (conv >= 0 && r.conv != conv) continue;
        int c = net->weights->layer[r.conv].cout;
        size_t n = (size_t)net->h[r.conv] * net->w[r.conv];
        double *st = malloc(sizeof(double) * 2 * (size_t)c);
        if (!st) return NST_ERR_NOMEM;
        if (!t->target[i] && !(t->target[i] = calloc(2 * (size_t)c, sizeof(float)))) { free(st); return NST_ERR_NOMEM; }
        nsti_moments(st, nsti_vgg_activation(net, r), c, n);
        for (int k = 0; k < 2 * c; k++) t->target[i][k] += (float)(blend * st[k]);
        free(st);
    }
    return NST_OK;
}

// The scales, and the statistics' scratch (2C doubles for the widest layer): allocated
// here, never during the optimization.
static int finish(nsti_term *t, nsti_objective *obj) {
    size_t cmax = 0;
    for (int i = 0; i < t->n_layers; i++) {
        size_t c = (size_t)obj->net.weights->layer[t->layer[i].conv].cout;
        t->scale[i] = nsti_term_auto_scale(obj, t->target[i], 2 * c, nsti_term_layer_sum(t));
        if (c > cmax) cmax = c;
    }
    return (t->state = malloc(sizeof(double) * 2 * (cmax ? cmax : 1))) ? NST_OK : NST_ERR_NOMEM;
}

static void eval_layer(nsti_term *t, nsti_objective *obj, int i, float *grad) {
    nsti_layer_ref r = t->layer[i];
    const float *f = nsti_vgg_activation(&obj->net, r);
    int c = obj->net.weights->layer[r.conv].cout;
    size_t n = (size_t)obj->net.h[r.conv] * obj->net.w[r.conv];
    int direct = !obj->normalize_gradients;
    float weight = t->weight * t->layer_w[i] * t->scale[i];
    float *g = direct ? grad : obj->term_grad;
    if (!direct) memset(g, 0, sizeof(float) * c * n);
    t->last += nsti_moments_loss(g, f, t->target[i], c, n, weight, t->state);
    if (!direct) nsti_term_add_grad(obj, grad, g, (size_t)c * n, weight);
}

static void free_state(nsti_term *t) {
    free(t->state);
    t->state = NULL;
}

const nsti_term_kind nsti_term_style_moments = {
    .name = "style", .source = NST_TARGET_STYLE, .add_target = add_target, .finish = finish,
    .eval_layer = eval_layer, .free = free_state,
};
