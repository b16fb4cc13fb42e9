// term_content.c: the content term, mean((F - P)^2) per layer, P the content picture's
// activation at the generated picture's size; with a mask, weighed per position.
#include "transfer/terms.h"
#include "transfer/objective.h"
#include "loss/losses.h"
#include <stdlib.h>
#include <string.h>

static size_t layer_values(const nsti_vgg *net, nsti_layer_ref r) {
    return (size_t)net->weights->layer[r.conv].cout * net->h[r.conv] * net->w[r.conv];
}

static int add_target(nsti_term *t, nsti_objective *obj, const nsti_vgg *net, int s, int n_styles, float blend,
                      int conv) {
    (void)obj; (void)s; (void)n_styles; (void)blend;
    for (int i = 0; i < t->n_layers; i++) {
        if (conv >= 0 && t->layer[i].conv != conv) continue;
        size_t n = layer_values(net, t->layer[i]);
        if (!(t->target[i] = malloc(n * sizeof(float)))) return NST_ERR_NOMEM;
        memcpy(t->target[i], nsti_vgg_activation(net, t->layer[i]), n * sizeof(float));
    }
    return NST_OK;
}

static int finish(nsti_term *t, nsti_objective *obj) {
    for (int i = 0; i < t->n_layers; i++)
        t->scale[i] = nsti_term_auto_scale(obj, t->target[i], layer_values(&obj->net, t->layer[i]), (double)t->n_layers);
    return NST_OK;
}

static void eval_layer(nsti_term *t, nsti_objective *obj, int i, float *grad) {
    nsti_layer_ref r = t->layer[i];
    const float *f = nsti_vgg_activation(&obj->net, r);
    int c = obj->net.weights->layer[r.conv].cout;
    size_t npos = (size_t)obj->net.h[r.conv] * obj->net.w[r.conv], n = (size_t)c * npos;
    // with normalized gradients each term's gradient goes through term_grad first
    int direct = !obj->normalize_gradients;
    float *g = direct ? grad : obj->term_grad;
    if (!direct) memset(g, 0, n * sizeof(float));
    float weight = t->weight * t->scale[i];
    t->last += t->mask[i] ? nsti_content_loss_masked(g, f, t->target[i], t->mask[i], c, npos, weight)
                          : nsti_content_loss(g, f, t->target[i], n, weight);
    if (!direct) nsti_term_add_grad(obj, grad, g, n, weight);
}

const nsti_term_kind nsti_term_content = {
    .name = "content", .source = NST_TARGET_CONTENT, .add_target = add_target, .finish = finish,
    .eval_layer = eval_layer,
};
