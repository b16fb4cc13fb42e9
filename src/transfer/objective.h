// objective.h: the style transfer loss as a function of the image, with its
// gradient: a list of terms (terms.h; content, style, total variation) through the
// model's network, plus AUTO's range penalty.
#ifndef NST_OBJECTIVE_H
#define NST_OBJECTIVE_H
#include "nn/vgg.h"
#include "transfer/terms.h"

#define NST_MAX_LOSS_TERMS 6   // the checkpoint has slots for this many (checkpoint.h)

typedef struct nsti_objective {
    nsti_vgg net;                       // sized for the generated image
    // The layers p asks for, resolved against the model (nsti_objective_layers).
    int n_content, n_style;
    nsti_layer_ref content[NST_MAX_LAYERS], style[NST_MAX_LAYERS];
    float style_layer_w[NST_MAX_LAYERS];
    // The loss terms, evaluated and reported in this order: content, style, tv, temporal.
    int n_terms;
    nsti_term terms[NST_MAX_LOSS_TERMS];
    int raw_gram;                      // --loss-scale raw's tutorial Grams
    // Loss scale (nst_params.loss_scale): under AUTO each term's weight is multiplied
    // by its layer's scale (terms.h), so that it does not depend on the activations'.
    int auto_scale;
    // AUTO's optimizer variable is the picture in pixel units (0..255 minus the mean):
    // the network sees it clamped to [lo, hi] (0..255 in pixels: the picture as it will
    // be saved) times to_model[c] (1 for a Caffe model), and a penalty pulls values
    // outside that range back, where the network's gradient is 0.
    float to_model[3], lo[3], hi[3];
    float *xbuf;                       // (3,H,W) the network's input (AUTO)
    double last_range;                 // the penalty's share of the last evaluation
    float *scratch;                    // (C,C) for the largest style layer
    // spatial control: per style s and style layer i, the region mask at that layer's
    // resolution (N); NULL without masks
    int n_masked;                      // styles with masks (0, or the number of styles)
    float *style_mask[NST_MAX_STYLES][NST_MAX_LAYERS];
    int normalize_gradients;
    float *term_grad;                  // (C,N) scratch for masked / normalized terms
    float *masked;                     // (C,N) scratch: F times a mask
    long evals;
} nsti_objective;

// Resolves the layer lists of p against the model (defaults fall back to the
// deepest layers it has). Fills the layer fields of obj only.
int nsti_objective_layers(nsti_objective *obj, const nsti_vgg_weights *w, const nst_params *p,
                         nst_error *err);
// Allocates the network and targets for a w x h generated image, and computes
// the targets from the content image and the style images (model input space).
int nsti_objective_init(nsti_objective *obj, const nsti_vgg_weights *wts, const nst_params *p,
                       const float *content_x, int w, int h, const float *const *style_x,
                       const int *style_w, const int *style_h, int n_styles,
                       const float *blend, const struct nsti_backend_ops *backend, int bf16, nst_error *err);
// Masks for spatial control, at the generated image's size (w*h values in 0..1);
// call after nsti_objective_init. style_masks holds n_styles masks or is NULL;
// content_mask may be NULL.
int nsti_objective_set_masks(nsti_objective *obj, const float *const *style_masks, int n_styles,
                            const float *content_mask, int w, int h, nst_error *err);
// The backend and precision nst_params asks for, checked against what is built in and the CPU.
int nsti_choose_backend(const nst_params *p, const struct nsti_backend_ops **backend, int *bf16, nst_error *err);
// NST_LOSS_* bits per conv layer: which activations the losses read.
void nsti_objective_loss_at(const nsti_objective *obj, int *loss_at);
// The same for the style pictures' networks (the style layers only); returns their
// depth (the deepest style layer + 1, 0 without one).
int nsti_objective_style_loss_at(const nsti_objective *obj, int *loss_at);
void nsti_objective_free(nsti_objective *obj);
// The optimizer variable's convention: the model's own (RAW), or pixel units minus
// the model's mean (AUTO). Pictures go in and out of the optimizer through it.
nsti_input_norm nsti_objective_variable_norm(const nsti_input_norm *model, int auto_scale);
// Loss at x (3,H,W), the optimizer variable (see above); writes the gradient into grad.
double nsti_objective_eval(void *obj, const float *x, float *grad);
// The deepest conv layer any loss needs, + 1.
int nsti_objective_depth(const nsti_objective *obj);
// The term named name ("content", "style", "tv", "temporal"), or NULL.
nsti_term *nsti_objective_term(nsti_objective *obj, const char *name);
// The weighted value of the term named name ("content", "style", "tv") at the last
// evaluation; "range" is the penalty's. 0 for a term the objective does not have.
double nsti_objective_last(const nsti_objective *obj, const char *name);

#endif
