#include "transfer/objective.h"
#include "loss/losses.h"
#include "nn/backend.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "nst.h"

// "conv1_1..conv3_4 and relu1_1..relu3_4" for error messages.
static void list_layers(char *buf, size_t n, const nsti_vgg_weights *w) {
    const char *last = w->layer[w->n_conv - 1].name;
    snprintf(buf, n, "conv1_1..%s and relu1_1..relu%s", last, last + 4);
}

static int parse_layer_list(nsti_layer_ref *refs, int *count, const char *list, const nsti_vgg_weights *w,
                            const char *what, nst_error *err) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *count = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (*count >= NST_MAX_LAYERS)
            return nsti_fail(err, NST_ERR_USAGE, "too many %s layers (at most %d)", what, NST_MAX_LAYERS);
        nsti_layer_ref r;
        int rc = nsti_layer_parse(&r, tok, w);
        if (rc == -1)
            return nsti_fail(err, NST_ERR_USAGE, "unknown %s layer '%s' (expected convX_Y or reluX_Y, e.g. relu4_2)", what, tok);
        if (rc) {
            char have[128];
            list_layers(have, sizeof have, w);
            return nsti_fail(err, NST_ERR_MODEL, "the model has no layer %s (a %s layer): it has %s", tok, what, have);
        }
        for (int k = 0; k < *count; k++)   // twice would weigh it twice, unasked
            if (refs[k].conv == r.conv && refs[k].relu == r.relu)
                return nsti_fail(err, NST_ERR_USAGE, "%s layer %s given twice", what, tok);
        refs[(*count)++] = r;
    }
    if (*count == 0) return nsti_fail(err, NST_ERR_USAGE, "no %s layers given", what);
    return NST_OK;
}

// The default content layer: relu4_2, else the second layer of the deepest block the
// model has (relu3_2 on a model that stops at conv3_4), else its last layer.
static nsti_layer_ref default_content(const nsti_vgg_weights *w) {
    nsti_layer_ref r = {w->n_conv - 1, 1};
    if (nsti_layer_parse(&r, "relu4_2", w) == 0) return r;
    for (int i = 0; i < w->n_conv; i++)
        if (w->layer[i].sub == 2) r.conv = i;
    return r;
}

int nsti_objective_layers(nsti_objective *obj, const nsti_vgg_weights *w, const nst_params *p,
                         nst_error *err) {
    int rc;
    if (p->content_layers[0]) {
        if ((rc = parse_layer_list(obj->content, &obj->n_content, p->content_layers, w, "content", err))) return rc;
    } else {
        obj->content[0] = default_content(w);
        obj->n_content = 1;
    }
    if (p->style_layers[0]) {
        if ((rc = parse_layer_list(obj->style, &obj->n_style, p->style_layers, w, "style", err))) return rc;
    } else {
        // the first layer of each block: relu1_1, relu2_1, ... (Gatys et al.)
        obj->n_style = 0;
        for (int i = 0; i < w->n_conv && obj->n_style < NST_MAX_LAYERS; i++)
            if (w->layer[i].sub == 1) obj->style[obj->n_style++] = (nsti_layer_ref){i, 1};
    }
    for (int i = 0; i < obj->n_style; i++) obj->style_layer_w[i] = 1.0f;
    if (p->style_layer_weights[0]) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", p->style_layer_weights);
        int k = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *end;
            float v = strtof(tok, &end);
            if (end == tok || *end || !(v >= 0) || v > 1e30f)
                return nsti_fail(err, NST_ERR_USAGE, "bad style layer weight '%s'", tok);
            if (k < obj->n_style) obj->style_layer_w[k] = v;
            k++;
        }
        if (k != obj->n_style)
            return nsti_fail(err, NST_ERR_USAGE, "%d style layer weights given for %d style layers", k, obj->n_style);
    }
    return NST_OK;
}

int nsti_objective_depth(const nsti_objective *obj) {
    int d = 0;
    for (int i = 0; i < obj->n_content; i++) if (obj->content[i].conv + 1 > d) d = obj->content[i].conv + 1;
    for (int i = 0; i < obj->n_style; i++) if (obj->style[i].conv + 1 > d) d = obj->style[i].conv + 1;
    return d;
}

void nsti_objective_loss_at(const nsti_objective *obj, int *loss_at) {
    memset(loss_at, 0, sizeof(int) * NST_MAX_CONVS);
    for (int i = 0; i < obj->n_content; i++)
        loss_at[obj->content[i].conv] |= obj->content[i].relu ? NST_LOSS_POST : NST_LOSS_PRE;
    int gram = 1;   // a Gram style term (as if, before the terms are built: the memory estimate)
    for (int t = 0; t < obj->n_terms; t++)
        if (!strcmp(obj->terms[t].kind->name, "style")) gram = obj->terms[t].kind == &nsti_term_style_gram;
    for (int i = 0; i < obj->n_style; i++)
        loss_at[obj->style[i].conv] |= (obj->style[i].relu ? NST_LOSS_POST : NST_LOSS_PRE) | (gram ? NST_LOSS_GRAM : 0);
}

int nsti_objective_style_loss_at(const nsti_objective *obj, int *loss_at) {
    int all[NST_MAX_CONVS], depth = 0;
    nsti_objective_loss_at(obj, all);
    memset(loss_at, 0, sizeof(int) * NST_MAX_CONVS);
    for (int i = 0; i < obj->n_style; i++) {
        int c = obj->style[i].conv;
        loss_at[c] |= (obj->style[i].relu ? NST_LOSS_POST : NST_LOSS_PRE) | (all[c] & NST_LOSS_GRAM);
        if (c + 1 > depth) depth = c + 1;
    }
    return depth;
}

// term_grad and masked: as large as the largest activation any loss reads.
static int ensure_term_scratch(nsti_objective *obj) {
    if (obj->term_grad) return 0;
    size_t most = 0;
    for (int t = 0; t < obj->n_terms; t++)
        for (int i = 0; i < obj->terms[t].n_layers; i++) {
            nsti_layer_ref r = obj->terms[t].layer[i];
            size_t n = (size_t)obj->net.weights->layer[r.conv].cout * obj->net.h[r.conv] * obj->net.w[r.conv];
            if (n > most) most = n;
        }
    if (most == 0) most = 1;   // no terms: malloc(0) may be NULL
    obj->term_grad = malloc(most * sizeof(float));
    obj->masked = malloc(most * sizeof(float));
    return obj->term_grad && obj->masked ? 0 : -1;
}

// A w x h mask (0..1) resampled to layer conv's resolution, antialiased.
static float *mask_at_layer(const nsti_objective *obj, const float *mask, int w, int h, int conv, nst_error *err) {
    nst_image full = {0}, small = {0};
    int lw = obj->net.w[conv], lh = obj->net.h[conv];
    size_t n = (size_t)w * h;
    float *out = NULL;
    if (nst_image_alloc(&full, w, h, err)) return NULL;
    for (int ch = 0; ch < 3; ch++) memcpy(full.data + ch * n, mask, n * sizeof(float));
    if (nst_image_resize(&small, &full, lw, lh, err) == NST_OK && (out = malloc(sizeof(float) * lw * lh))) {
        for (size_t k = 0; k < (size_t)lw * lh; k++) out[k] = small.data[k] < 0 ? 0 : small.data[k] > 1 ? 1 : small.data[k];
    } else if (!out) {
        nsti_fail(err, NST_ERR_NOMEM, "out of memory for the masks");
    }
    nst_image_free(&full);
    nst_image_free(&small);
    return out;
}

nsti_term *nsti_objective_term(nsti_objective *obj, const char *name) {
    for (int t = 0; t < obj->n_terms; t++)
        if (!strcmp(obj->terms[t].kind->name, name)) return &obj->terms[t];
    return NULL;
}

int nsti_objective_set_masks(nsti_objective *obj, const float *const *style_masks, int n_styles,
                            const float *content_mask, int w, int h, nst_error *err) {
    nsti_term *style = nsti_objective_term(obj, "style"), *content = nsti_objective_term(obj, "content");
    if (style_masks) {
        if (style && style->kind != &nsti_term_style_gram)
            return nsti_fail(err, NST_ERR_USAGE, "style masks need the Gram style loss (--style-loss gram)");
        for (int s = 0; s < n_styles; s++)
            for (int i = 0; i < obj->n_style; i++)
                if (!(obj->style_mask[s][i] = mask_at_layer(obj, style_masks[s], w, h, obj->style[i].conv, err)))
                    return err ? err->code : NST_ERR_NOMEM;
        obj->n_masked = n_styles;
    }
    if (content_mask && content)
        for (int i = 0; i < content->n_layers; i++)
            if (!(content->mask[i] = mask_at_layer(obj, content_mask, w, h, content->layer[i].conv, err)))
                return err ? err->code : NST_ERR_NOMEM;
    if ((style_masks || obj->normalize_gradients) && ensure_term_scratch(obj))
        return nsti_fail(err, NST_ERR_NOMEM, "out of memory for the masks");
    return NST_OK;
}

nsti_input_norm nsti_objective_variable_norm(const nsti_input_norm *model, int auto_scale) {
    nsti_input_norm v = *model;
    if (!auto_scale) return v;
    for (int c = 0; c < 3; c++) { v.mean[c] = model->mean[c] / model->scale; v.std[c] = 1.0f; }
    v.scale = 1.0f;
    return v;
}

// The list: content, style (Gram or moments), tv, temporal (video). A new term is one
// more line here.
static int build_terms(nsti_objective *obj, const nst_params *p, nst_error *err) {
    const nsti_term_kind *style = nsti_style_term_kind(p->style_loss);
    if (!style) return nsti_fail(err, NST_ERR_USAGE, "unknown style loss %d", (int)p->style_loss);
    struct { const nsti_term_kind *kind; float weight; int n; const nsti_layer_ref *layers; const float *w; } list[] = {
        {&nsti_term_content, p->content_weight, obj->n_content, obj->content, NULL},
        {style, p->style_weight, obj->n_style, obj->style, obj->style_layer_w},
        {&nsti_term_tv, p->tv_weight, 0, NULL, NULL},
        {&nsti_term_temporal, p->temporal_weight, 0, NULL, NULL},   // video only: not in other runs' logs
    };
    obj->n_terms = (int)(sizeof list / sizeof *list) - !(p->temporal_weight > 0 && p->n_temporal > 0);
    for (int k = 0; k < obj->n_terms; k++) {
        nsti_term *t = &obj->terms[k];
        t->kind = list[k].kind;
        t->weight = list[k].weight;
        t->n_layers = list[k].n;
        for (int i = 0; i < t->n_layers; i++) {
            t->layer[i] = list[k].layers[i];
            t->layer_w[i] = list[k].w ? list[k].w[i] : 1.0f;
        }
        for (int i = 0; i < NST_MAX_LAYERS; i++) t->scale[i] = 1.0f;
    }
    return NST_OK;
}

// Hands the terms that take their targets from a target picture's network its
// activations at conv layer `conv` (-1: every layer).
static int add_targets(nsti_objective *obj, const nsti_vgg *net, nsti_target_source source, int s, int n_styles,
                       float blend, int conv) {
    for (int t = 0; t < obj->n_terms; t++) {
        nsti_term *term = &obj->terms[t];
        if (term->kind->source != source) continue;
        int rc = term->kind->add_target(term, obj, net, s, n_styles, blend, conv);
        if (rc) return rc;
    }
    return NST_OK;
}

typedef struct style_visit {
    nsti_objective *obj;
    int s, n_styles;
    float blend;
} style_visit;

static int visit_style_layer(void *ctx, const nsti_vgg *net, int conv) {
    style_visit *v = ctx;
    return add_targets(v->obj, net, NST_TARGET_STYLE, v->s, v->n_styles, v->blend, conv);
}

static int style_targets(nsti_objective *obj, const nsti_vgg_weights *wts, const nst_params *p,
                         const float *const *style_x, const int *style_w, const int *style_h, int n_styles,
                         const float *blend, const nsti_backend_ops *backend, int bf16, nst_error *err) {
    // only the style layers: the content layers' activations come from the generated
    // picture's network
    int style_keep[NST_MAX_CONVS];
    int depth = nsti_objective_style_loss_at(obj, style_keep);
    for (int s = 0; s < n_styles && depth > 0; s++) {
        nsti_vgg snet;
        // streamed: the targets are taken as the pass goes, so one layer's activations
        // are held at a time (at 512x512, float32: 64 MiB instead of 130)
        int rc = nsti_vgg_init(&snet, wts, depth, style_h[s], style_w[s], style_keep, p->avg_pool, backend, bf16,
                               NSTI_VGG_STREAM, err);
        if (rc) return rc;
        style_visit v = {obj, s, n_styles, blend[s]};
        rc = nsti_vgg_forward_visit(&snet, style_x[s], visit_style_layer, &v);
        nsti_vgg_free(&snet);
        if (rc) return nsti_fail(err, rc, "out of memory for the loss targets");
    }
    return NST_OK;
}

int nsti_objective_init(nsti_objective *obj, const nsti_vgg_weights *wts, const nst_params *p,
                       const float *content_x, int w, int h, const float *const *style_x,
                       const int *style_w, const int *style_h, int n_styles,
                       const float *blend, const nsti_backend_ops *backend, int bf16, nst_error *err) {
    memset(obj, 0, sizeof *obj);
    int rc = nsti_objective_layers(obj, wts, p, err);
    if (!rc) rc = build_terms(obj, p, err);
    if (rc) return rc;
    obj->raw_gram = p->raw_gram;
    obj->normalize_gradients = p->normalize_gradients;
    obj->auto_scale = p->loss_scale == NST_LOSS_SCALE_AUTO;
    nsti_input_norm var = nsti_objective_variable_norm(&wts->norm, obj->auto_scale);
    for (int c = 0; c < 3; c++) {
        // model input x = (rgb*scale - mean)/std and variable u = rgb - mean/scale: x = u*scale/std
        obj->to_model[c] = obj->auto_scale ? wts->norm.scale / wts->norm.std[c] : 1.0f;
        obj->lo[c] = -var.mean[c];
        obj->hi[c] = 255.0f - var.mean[c];
    }
    if (obj->auto_scale && !(obj->xbuf = malloc(sizeof(float) * 3 * (size_t)w * h))) goto nomem;
    int keep[NST_MAX_CONVS];
    nsti_objective_loss_at(obj, keep);
    int cmax = 0;
    for (int i = 0; i < obj->n_style; i++)
        if (wts->layer[obj->style[i].conv].cout > cmax) cmax = wts->layer[obj->style[i].conv].cout;
    if (cmax && !(obj->scratch = malloc((size_t)cmax * cmax * sizeof(float)))) goto nomem;
    // the style pictures' networks one at a time, then the generated picture's (one
    // network alive at a time keeps the peak memory down), which gives the content
    // targets at its size
    if ((rc = style_targets(obj, wts, p, style_x, style_w, style_h, n_styles, blend, backend, bf16, err)) ||
        (rc = nsti_vgg_init(&obj->net, wts, nsti_objective_depth(obj), h, w, keep, p->avg_pool, backend, bf16, 0, err))) {
        nsti_objective_free(obj);
        return rc;
    }
    if (obj->normalize_gradients && ensure_term_scratch(obj)) goto nomem;
    nsti_vgg_forward(&obj->net, content_x);
    if (add_targets(obj, &obj->net, NST_TARGET_CONTENT, 0, 1, 1.0f, -1)) goto nomem;
    for (int t = 0; t < obj->n_terms; t++)
        if (obj->terms[t].kind->finish && obj->terms[t].kind->finish(&obj->terms[t], obj)) goto nomem;
    return NST_OK;
nomem:
    nsti_objective_free(obj);
    return nsti_fail(err, NST_ERR_NOMEM, "out of memory for the loss targets");
}

void nsti_objective_free(nsti_objective *obj) {
    nsti_vgg_free(&obj->net);
    for (int t = 0; t < NST_MAX_LOSS_TERMS; t++) nsti_term_free(&obj->terms[t]);
    for (int i = 0; i < NST_MAX_LAYERS; i++)
        for (int s = 0; s < NST_MAX_STYLES; s++) free(obj->style_mask[s][i]);
    free(obj->term_grad); free(obj->masked);
    free(obj->scratch); free(obj->xbuf);
    memset(obj, 0, sizeof *obj);
}

double nsti_objective_last(const nsti_objective *obj, const char *name) {
    if (!strcmp(name, "range")) return obj->last_range;
    for (int t = 0; t < obj->n_terms; t++)
        if (!strcmp(obj->terms[t].kind->name, name)) return obj->terms[t].last;
    return 0;
}

// Called by the backward pass at each layer a loss reads: every term on that layer,
// in the list's order, adds its value and gradient.
static void add_layer_losses(void *ctx, nsti_layer_ref ref, float *grad) {
    nsti_objective *obj = ctx;
    for (int t = 0; t < obj->n_terms; t++) {
        nsti_term *term = &obj->terms[t];
        for (int i = 0; i < term->n_layers; i++)
            if (term->layer[i].conv == ref.conv && term->layer[i].relu == ref.relu)
                term->kind->eval_layer(term, obj, i, grad);
    }
}

// AUTO's range penalty, in 0..1 units: RANGE_WEIGHT * sum over values outside 0..255 of
// (distance / 255)^2, over the pixels. Strong enough that L-BFGS steps come back
// into range within an iteration or two; inside the range it is 0.
#define RANGE_WEIGHT 10.0

// d/du = d/dx * dx/du: to_model inside the range, else 0 and the penalty's gradient.
static void range_penalty(nsti_objective *obj, const float *v, float *grad, size_t npix) {
    double range = 0;
    const double k2 = RANGE_WEIGHT / (255.0 * 255.0) / (double)npix;
    for (size_t k = 0; k < 3 * npix; k++) {
        int c = (int)(k / npix);
        float out = v[k] < obj->lo[c] ? v[k] - obj->lo[c] : v[k] > obj->hi[c] ? v[k] - obj->hi[c] : 0.0f;
        if (out == 0.0f) { grad[k] *= obj->to_model[c]; continue; }
        range += (double)out * out;
        grad[k] = (float)(2.0 * k2 * out);
    }
    obj->last_range = range * k2;
}

double nsti_objective_eval(void *ctx, const float *v, float *grad) {
    nsti_objective *obj = ctx;
    nsti_vgg *net = &obj->net;
    size_t npix = (size_t)net->h[0] * net->w[0];
    for (int t = 0; t < obj->n_terms; t++) obj->terms[t].last = 0;
    obj->last_range = 0;
    obj->evals++;
    const float *x = v;
    if (obj->auto_scale) {   // the picture as it will be saved, in the model's units
        #pragma omp parallel for schedule(static)
        for (size_t k = 0; k < 3 * npix; k++) {
            int c = (int)(k / npix);
            obj->xbuf[k] = fminf(fmaxf(v[k], obj->lo[c]), obj->hi[c]) * obj->to_model[c];
        }
        x = obj->xbuf;
    }
    nsti_vgg_forward(net, x);
    nsti_vgg_backward(net, grad, add_layer_losses, obj);
    if (obj->auto_scale) range_penalty(obj, v, grad, npix);
    // terms on the picture itself (total variation) after the network's gradient is in v's units
    for (int t = 0; t < obj->n_terms; t++)
        if (obj->terms[t].kind->eval_image) obj->terms[t].kind->eval_image(&obj->terms[t], obj, v, grad);
    double total = 0;
    for (int t = 0; t < obj->n_terms; t++) total += obj->terms[t].last;
    return total + obj->last_range;
}
