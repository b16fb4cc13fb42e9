// terms.h: the loss as a list of terms. Each term has a kind (its functions), the
// layers it reads, a weight, its targets and optional masks. The objective runs the
// network on each target picture and hands every term the activations it asked for
// (setup), then, each evaluation, the generated picture's activations layer by layer
// on the way back (eval_layer) and the picture itself (eval_image). A new term is one
// file that defines an nsti_term_kind, and one line where the objective builds its list.
#ifndef NST_TERMS_H
#define NST_TERMS_H
#include "nn/vgg.h"
#include "nst.h"

struct nsti_objective;
typedef struct nsti_term nsti_term;

// Which picture a term's targets come from.
typedef enum { NST_TARGET_NONE = 0, NST_TARGET_CONTENT = 1, NST_TARGET_STYLE = 2 } nsti_target_source;

typedef struct nsti_term_kind {
    const char *name;               // the log's key: "content", "style", "tv"
    nsti_target_source source;
    // The target picture's activations, in a network sized for it (net): style
    // picture s of n_styles with blend weight blend (content: s 0 of 1, blend 1); only
    // the term's layers at conv layer `conv` (the style pictures' networks are streamed,
    // a layer at a time), or all of them when conv is -1.
    int (*add_target)(nsti_term *t, struct nsti_objective *obj, const nsti_vgg *net, int s, int n_styles, float blend,
                      int conv);
    // After all targets: scales, scratch. May be NULL.
    int (*finish)(nsti_term *t, struct nsti_objective *obj);
    // Layer t->layer[li] of the generated picture (its activation: nsti_vgg_activation
    // on obj->net, or the backend's Gram matrix), grad the (C,H,W) gradient buffer the
    // term adds to. Adds its weighted value to t->last (in as many parts as it has: the
    // sum's order is the picture's bits).
    void (*eval_layer)(nsti_term *t, struct nsti_objective *obj, int li, float *grad);
    // The picture v (3,H,W), the optimizer's variable; grad is dL/dv. May be NULL.
    void (*eval_image)(nsti_term *t, struct nsti_objective *obj, const float *v, float *grad);
    void (*free)(nsti_term *t);      // the kind's own buffers; may be NULL
} nsti_term_kind;

struct nsti_term {
    const nsti_term_kind *kind;
    float weight;                            // alpha, beta, gamma
    int n_layers;
    nsti_layer_ref layer[NST_MAX_LAYERS];
    float layer_w[NST_MAX_LAYERS];           // per layer (style layer weights), 1 by default
    float *target[NST_MAX_LAYERS];           // per layer, the kind's format
    float scale[NST_MAX_LAYERS];             // AUTO: 1 / (layers * mean(target^2)); RAW: 1
    float *mask[NST_MAX_LAYERS];             // per layer (N), or NULL
    void *state;                             // the kind's own
    double last;                             // weighted value at the last evaluation
};

extern const nsti_term_kind nsti_term_content, nsti_term_style_gram, nsti_term_style_moments, nsti_term_tv,
    nsti_term_temporal;

// The temporal term's n targets ((3,H,W), the optimizer's units) and masks ((H,W) 0..1,
// or masks NULL: all ones); the term takes ownership of them (malloc'ed).
int nsti_term_temporal_set(nsti_term *t, float **targets, float **masks, int n);

// The kind of style term --style-loss names: "gram" (Gatys et al.) or "moments"
// (channel means and deviations, Li et al. 2017); NULL for another name.
const nsti_term_kind *nsti_style_term_kind(nst_style_loss_kind kind);

// Adds weight * g to grad (n values); with normalized gradients, scaled to unit L1
// norm first (jcjohnson's --normalize_gradients).
void nsti_term_add_grad(const struct nsti_objective *obj, float *grad, const float *g, size_t n, float weight);
// AUTO's scale of a target t of n values over `layers` layers (1 in RAW).
float nsti_term_auto_scale(const struct nsti_objective *obj, const float *t, size_t n, double layers);
// The term's layers' weights summed (1 when 0).
double nsti_term_layer_sum(const nsti_term *t);
void nsti_term_free(nsti_term *t);

#endif
