#include "transfer/objective.h"
#include "loss/losses.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "nst.h"

static const char *const default_style[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};

// "conv1_1, conv1_2, ..." for error messages.
static void list_layers(char *buf, size_t n, int n_conv) {
    snprintf(buf, n, "conv1_1..%s and relu1_1..relu%s", nst_vgg_conv_name(n_conv - 1),
             nst_vgg_conv_name(n_conv - 1) + 4);
}

static int parse_layer_list(nst_layer_ref *refs, int *count, const char *list, int n_conv,
                            const char *what, nst_error *err) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *count = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (*count >= NST_MAX_LAYERS)
            return nst_fail(err, NST_ERR_USAGE, "too many %s layers (at most %d)", what, NST_MAX_LAYERS);
        nst_layer_ref r;
        if (nst_layer_parse(&r, tok))
            return nst_fail(err, NST_ERR_USAGE, "unknown %s layer '%s' (expected convX_Y or reluX_Y, e.g. relu4_2)", what, tok);
        if (r.conv >= n_conv) {
            char have[128];
            list_layers(have, sizeof have, n_conv);
            return nst_fail(err, NST_ERR_MODEL, "the model has no layer %s: it has %s", tok, have);
        }
        refs[(*count)++] = r;
    }
    if (*count == 0) return nst_fail(err, NST_ERR_USAGE, "no %s layers given", what);
    return NST_OK;
}

int nst_objective_layers(nst_objective *obj, const nst_vgg_weights *w, const nst_params *p,
                         nst_error *err) {
    int n_conv = w->n_conv, rc;
    if (p->content_layers[0]) {
        if ((rc = parse_layer_list(obj->content, &obj->n_content, p->content_layers, n_conv, "content", err))) return rc;
    } else {
        // relu4_2, else the second layer of the deepest block the model has
        nst_layer_ref r;
        nst_layer_parse(&r, "relu4_2");
        if (r.conv >= n_conv) {
            static const int block_second[] = {1, 3, 5, 9, 13};   // conv indices of convB_2
            int b = 0;
            for (int k = 0; k < 5; k++) if (block_second[k] < n_conv) b = k;
            r.conv = block_second[b] < n_conv ? block_second[b] : n_conv - 1;
        }
        obj->content[0] = r;
        obj->n_content = 1;
    }
    if (p->style_layers[0]) {
        if ((rc = parse_layer_list(obj->style, &obj->n_style, p->style_layers, n_conv, "style", err))) return rc;
    } else {
        obj->n_style = 0;
        for (int k = 0; k < 5; k++) {
            nst_layer_ref r;
            nst_layer_parse(&r, default_style[k]);
            if (r.conv < n_conv) obj->style[obj->n_style++] = r;
        }
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
                return nst_fail(err, NST_ERR_USAGE, "bad style layer weight '%s'", tok);
            if (k < obj->n_style) obj->style_layer_w[k] = v;
            k++;
        }
        if (k != obj->n_style)
            return nst_fail(err, NST_ERR_USAGE, "%d style layer weights given for %d style layers", k, obj->n_style);
    }
    return NST_OK;
}

int nst_objective_depth(const nst_objective *obj) {
    int d = 0;
    for (int i = 0; i < obj->n_content; i++) if (obj->content[i].conv + 1 > d) d = obj->content[i].conv + 1;
    for (int i = 0; i < obj->n_style; i++) if (obj->style[i].conv + 1 > d) d = obj->style[i].conv + 1;
    return d;
}

void nst_objective_loss_at(const nst_objective *obj, int *loss_at) {
    memset(loss_at, 0, sizeof(int) * NST_VGG_CONVS);
    for (int i = 0; i < obj->n_content; i++)
        loss_at[obj->content[i].conv] |= obj->content[i].relu ? NST_LOSS_POST : NST_LOSS_PRE;
    for (int i = 0; i < obj->n_style; i++)
        loss_at[obj->style[i].conv] |= obj->style[i].relu ? NST_LOSS_POST : NST_LOSS_PRE;
}

// The losses' matrix products: oneDNN's sgemm with the oneDNN backend (see gemm.h),
// nst_sgemm (OpenBLAS or plain loops) with the others.
static nst_sgemm_fn loss_gemm(nst_backend backend) {
    return backend == NST_BACKEND_ONEDNN ? nst_sgemm_onednn : nst_sgemm;
}

static float gram_div(const nst_objective *obj, int c, size_t n) {
    return obj->raw_gram ? 1.0f : (float)((double)c * n);
}

// term_grad and masked: as large as the largest activation any loss reads.
static int ensure_term_scratch(nst_objective *obj) {
    if (obj->term_grad) return 0;
    size_t most = 0;
    for (int i = 0; i < obj->n_content + obj->n_style; i++) {
        nst_layer_ref r = i < obj->n_content ? obj->content[i] : obj->style[i - obj->n_content];
        size_t n = (size_t)nst_vgg_cout(r.conv) * obj->net.h[r.conv] * obj->net.w[r.conv];
        if (n > most) most = n;
    }
    obj->term_grad = malloc(most * sizeof(float));
    obj->masked = malloc(most * sizeof(float));
    return obj->term_grad && obj->masked ? 0 : -1;
}

// A w x h mask (0..1) resampled to layer conv's resolution, antialiased.
static float *mask_at_layer(const nst_objective *obj, const float *mask, int w, int h, int conv, nst_error *err) {
    nst_image full = {0}, small = {0};
    int lw = obj->net.w[conv], lh = obj->net.h[conv];
    size_t n = (size_t)w * h;
    float *out = NULL;
    if (nst_image_alloc(&full, w, h, err)) return NULL;
    for (int ch = 0; ch < 3; ch++) memcpy(full.data + ch * n, mask, n * sizeof(float));
    if (nst_image_resize(&small, &full, lw, lh, err) == NST_OK && (out = malloc(sizeof(float) * lw * lh))) {
        for (size_t k = 0; k < (size_t)lw * lh; k++) out[k] = small.data[k] < 0 ? 0 : small.data[k] > 1 ? 1 : small.data[k];
    } else if (!out) {
        nst_fail(err, NST_ERR_NOMEM, "out of memory for the masks");
    }
    nst_image_free(&full);
    nst_image_free(&small);
    return out;
}

int nst_objective_set_masks(nst_objective *obj, const float *const *style_masks, int n_styles,
                            const float *content_mask, int w, int h, nst_error *err) {
    if (style_masks) {
        for (int s = 0; s < n_styles; s++)
            for (int i = 0; i < obj->n_style; i++)
                if (!(obj->style_mask[s][i] = mask_at_layer(obj, style_masks[s], w, h, obj->style[i].conv, err)))
                    return err ? err->code : NST_ERR_NOMEM;
        obj->n_masked = n_styles;
    }
    if (content_mask)
        for (int i = 0; i < obj->n_content; i++)
            if (!(obj->content_mask[i] = mask_at_layer(obj, content_mask, w, h, obj->content[i].conv, err)))
                return err ? err->code : NST_ERR_NOMEM;
    if ((style_masks || obj->normalize_gradients) && ensure_term_scratch(obj))
        return nst_fail(err, NST_ERR_NOMEM, "out of memory for the masks");
    return NST_OK;
}

nst_input_norm nst_objective_variable_norm(const nst_input_norm *model, int auto_scale) {
    nst_input_norm v = *model;
    if (!auto_scale) return v;
    for (int c = 0; c < 3; c++) { v.mean[c] = model->mean[c] / model->scale; v.std[c] = 1.0f; }
    v.scale = 1.0f;
    return v;
}

// The style layers' weights summed: AUTO's style term is their weighted mean.
static double style_layer_sum(const nst_objective *obj) {
    double sum = 0;
    for (int i = 0; i < obj->n_style; i++) sum += obj->style_layer_w[i];
    return sum > 0 ? sum : 1.0;
}

// AUTO: 1 / (layers * mean(t^2)) for a target t of n values, so that the term is the
// mean over layers of ||F - t||^2 / ||t||^2; RAW: 1. A target of zeros keeps 1.
static float auto_scale_of(const nst_objective *obj, const float *t, size_t n, double layers) {
    if (!obj->auto_scale) return 1.0f;
    double sq = 0;
    for (size_t k = 0; k < n; k++) sq += (double)t[k] * t[k];
    double mean = sq / (double)n;
    return mean > 0 ? (float)(1.0 / (layers * mean)) : 1.0f;
}

int nst_objective_init(nst_objective *obj, const nst_vgg_weights *wts, const nst_params *p,
                       const float *content_x, int w, int h, const float *const *style_x,
                       const int *style_w, const int *style_h, int n_styles,
                       const float *blend, nst_backend backend, int bf16, nst_error *err) {
    memset(obj, 0, sizeof *obj);
    int rc = nst_objective_layers(obj, wts, p, err);
    if (rc) return rc;
    obj->content_weight = p->content_weight;
    obj->style_weight = p->style_weight;
    obj->tv_weight = p->tv_weight;
    obj->raw_gram = p->raw_gram;
    obj->normalize_gradients = p->normalize_gradients;
    obj->auto_scale = p->loss_scale == NST_LOSS_SCALE_AUTO;
    for (int i = 0; i < NST_MAX_LAYERS; i++) {
        obj->content_scale[i] = obj->style_scale[i] = 1.0f;
        for (int s = 0; s < NST_MAX_STYLES; s++) obj->style_scale_own[s][i] = 1.0f;
    }
    nst_input_norm var = nst_objective_variable_norm(&wts->norm, obj->auto_scale);
    for (int c = 0; c < 3; c++) {
        // model input x = (rgb*scale - mean)/std and variable u = rgb - mean/scale: x = u*scale/std
        obj->to_model[c] = obj->auto_scale ? wts->norm.scale / wts->norm.std[c] : 1.0f;
        obj->lo[c] = -var.mean[c];
        obj->hi[c] = 255.0f - var.mean[c];
    }
    if (obj->auto_scale && !(obj->xbuf = malloc(sizeof(float) * 3 * (size_t)w * h))) goto nomem;
    int depth = nst_objective_depth(obj), keep[NST_VGG_CONVS];
    nst_objective_loss_at(obj, keep);

    int cmax = 0;
    for (int i = 0; i < obj->n_style; i++)
        if (nst_vgg_cout(obj->style[i].conv) > cmax) cmax = nst_vgg_cout(obj->style[i].conv);
    if (cmax && !(obj->scratch = malloc((size_t)cmax * cmax * sizeof(float)))) goto nomem;

    // style targets: blended Gram matrices. With blend weights summing to 1,
    // sum_s b_s ||G - A_s||^2 = ||G - sum_s b_s A_s||^2 + const, so this has the
    // same gradient as summing the weighted per-style losses, at the cost of one Gram.
    for (int i = 0; i < obj->n_style; i++) {
        int c = nst_vgg_cout(obj->style[i].conv);
        if (!(obj->style_target[i] = calloc((size_t)c * c, sizeof(float)))) goto nomem;
    }
    for (int s = 0; s < n_styles; s++) {
        nst_vgg snet;
        if ((rc = nst_vgg_init(&snet, wts, depth, style_h[s], style_w[s], keep, p->avg_pool, backend, bf16, 1, err))) {
            nst_objective_free(obj);
            return rc;
        }
        nst_vgg_forward(&snet, style_x[s]);
        for (int i = 0; i < obj->n_style; i++) {
            nst_layer_ref r = obj->style[i];
            int c = nst_vgg_cout(r.conv);
            size_t n = (size_t)snet.h[r.conv] * snet.w[r.conv];
            nst_gram(loss_gemm(backend), obj->scratch, nst_vgg_activation(&snet, r), c, (int)n, gram_div(obj, c, n));
            for (size_t k = 0; k < (size_t)c * c; k++) obj->style_target[i][k] += blend[s] * obj->scratch[k];
            // each style's own target too, for spatial control (small: C*C)
            if (!(obj->style_target_own[s][i] = malloc(sizeof(float) * c * c))) { nst_vgg_free(&snet); goto nomem; }
            memcpy(obj->style_target_own[s][i], obj->scratch, sizeof(float) * c * c);
            obj->style_scale_own[s][i] = auto_scale_of(obj, obj->scratch, (size_t)c * c, style_layer_sum(obj));
        }
        nst_vgg_free(&snet);
    }
    for (int i = 0; i < obj->n_style; i++) {
        size_t cc = (size_t)nst_vgg_cout(obj->style[i].conv) * nst_vgg_cout(obj->style[i].conv);
        obj->style_scale[i] = auto_scale_of(obj, obj->style_target[i], cc, style_layer_sum(obj));
    }
    // then the network for the generated image (one network alive at a time keeps
    // the peak memory down), and the content targets at its size
    if ((rc = nst_vgg_init(&obj->net, wts, depth, h, w, keep, p->avg_pool, backend, bf16, 0, err))) {
        nst_objective_free(obj);
        return rc;
    }
    if (obj->normalize_gradients && ensure_term_scratch(obj)) goto nomem;
    // content targets, at the generated image's size
    nst_vgg_forward(&obj->net, content_x);
    for (int i = 0; i < obj->n_content; i++) {
        nst_layer_ref r = obj->content[i];
        size_t n = (size_t)nst_vgg_cout(r.conv) * obj->net.h[r.conv] * obj->net.w[r.conv];
        if (!(obj->content_target[i] = malloc(n * sizeof(float)))) goto nomem;
        memcpy(obj->content_target[i], nst_vgg_activation(&obj->net, r), n * sizeof(float));
        obj->content_scale[i] = auto_scale_of(obj, obj->content_target[i], n, (double)obj->n_content);
    }
    return NST_OK;
nomem:
    nst_objective_free(obj);
    return nst_fail(err, NST_ERR_NOMEM, "out of memory for the loss targets");
}

void nst_objective_free(nst_objective *obj) {
    nst_vgg_free(&obj->net);
    for (int i = 0; i < NST_MAX_LAYERS; i++) {
        free(obj->content_target[i]); free(obj->style_target[i]); free(obj->content_mask[i]);
        for (int s = 0; s < NST_MAX_STYLES; s++) { free(obj->style_mask[s][i]); free(obj->style_target_own[s][i]); }
    }
    free(obj->term_grad); free(obj->masked);
    free(obj->scratch); free(obj->xbuf);
    memset(obj, 0, sizeof *obj);
}

// Adds term (n values) into grad, scaled to unit L1 norm times weight when the
// gradients are normalized (jcjohnson's --normalize_gradients).
static void add_term(const nst_objective *obj, float *grad, const float *term, size_t n, float weight) {
    float k = 1.0f;
    if (obj->normalize_gradients) {   // term = weight * g: add weight * g / |g|_1
        double l1 = 0;
        for (size_t i = 0; i < n; i++) l1 += fabs(term[i]);
        k = (float)(fabs(weight) / (l1 + 1e-8));
    }
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) grad[i] += k * term[i];
}

// One guided-Gram term: style s matched inside its region m. F is (C,N).
static double masked_style_term(nst_objective *obj, float *grad, const float *f, int i, int s, int c, size_t n) {
    const float *m = obj->style_mask[s][i];
    double m2 = 0;
    for (size_t k = 0; k < n; k++) m2 += (double)m[k] * m[k];
    if (m2 <= 0) return 0;   // the region vanishes at this layer's resolution
    float *fm = obj->masked, *tg = obj->term_grad;
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t k = 0; k < n; k++) fm[(size_t)ch * n + k] = f[(size_t)ch * n + k] * m[k];
    memset(tg, 0, sizeof(float) * c * n);
    float weight = obj->style_weight * obj->style_layer_w[i] * obj->style_scale_own[s][i];
    float div = obj->raw_gram ? 1.0f : (float)((double)c * m2);
    float extra = obj->raw_gram ? (float)((double)c * m2) : 1.0f;
    double v = nst_style_loss(loss_gemm(obj->net.backend), tg, fm, obj->style_target_own[s][i], c, (int)n, div, extra, weight, obj->scratch);
    // d/dF of F*m is m
    #pragma omp parallel for schedule(static)
    for (int ch = 0; ch < c; ch++)
        for (size_t k = 0; k < n; k++) tg[(size_t)ch * n + k] *= m[k];
    add_term(obj, grad, tg, (size_t)c * n, weight);
    return v;
}

// Called by the backward pass at each layer: adds the losses on that layer.
static void add_layer_losses(void *ctx, nst_layer_ref ref, float *grad) {
    nst_objective *obj = ctx;
    const nst_vgg *net = &obj->net;
    // with masks or normalization each term's gradient goes through term_grad first
    int direct = !obj->normalize_gradients;
    for (int i = 0; i < obj->n_content; i++) {
        nst_layer_ref r = obj->content[i];
        if (r.conv != ref.conv || r.relu != ref.relu) continue;
        int c = nst_vgg_cout(r.conv);
        size_t npos = (size_t)net->h[r.conv] * net->w[r.conv], n = (size_t)c * npos;
        float *g = direct ? grad : obj->term_grad;
        if (!direct) memset(g, 0, n * sizeof(float));
        float weight = obj->content_weight * obj->content_scale[i];
        if (obj->content_mask[i])
            obj->last_content += nst_content_loss_masked(g, nst_vgg_activation(net, r), obj->content_target[i],
                                                         obj->content_mask[i], c, npos, weight);
        else
            obj->last_content += nst_content_loss(g, nst_vgg_activation(net, r), obj->content_target[i], n, weight);
        if (!direct) add_term(obj, grad, g, n, weight);
    }
    for (int i = 0; i < obj->n_style; i++) {
        nst_layer_ref r = obj->style[i];
        if (r.conv != ref.conv || r.relu != ref.relu) continue;
        int c = nst_vgg_cout(r.conv);
        size_t n = (size_t)net->h[r.conv] * net->w[r.conv];
        const float *f = nst_vgg_activation(net, r);
        if (obj->n_masked) {
            for (int s = 0; s < obj->n_masked; s++) obj->last_style += masked_style_term(obj, grad, f, i, s, c, n);
            continue;
        }
        float weight = obj->style_weight * obj->style_layer_w[i] * obj->style_scale[i];
        float extra = obj->raw_gram ? (float)((double)c * n) : 1.0f;
        float *g = direct ? grad : obj->term_grad;
        if (!direct) memset(g, 0, sizeof(float) * c * n);
        obj->last_style += nst_style_loss(loss_gemm(obj->net.backend), g, f, obj->style_target[i], c, (int)n, gram_div(obj, c, n), extra,
                                          weight, obj->scratch);
        if (!direct) add_term(obj, grad, g, (size_t)c * n, weight);
    }
}

// AUTO's range penalty, in 0..1 units: RANGE_WEIGHT * sum over values outside 0..255 of
// (distance / 255)^2, over the pixels. Strong enough that L-BFGS steps come back
// into range within an iteration or two; inside the range it is 0.
#define RANGE_WEIGHT 10.0

double nst_objective_eval(void *ctx, const float *v, float *grad) {
    nst_objective *obj = ctx;
    nst_vgg *net = &obj->net;
    size_t npix = (size_t)net->h[0] * net->w[0];
    obj->last_content = obj->last_style = obj->last_tv = obj->last_range = 0;
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
    nst_vgg_forward(net, x);
    nst_vgg_backward(net, grad, add_layer_losses, obj);
    if (obj->auto_scale) {   // d/du = d/dx * dx/du: to_model inside the range, else 0 and the penalty
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
    // AUTO measures total variation on the picture in 0..1 units, RAW in the model's
    if (obj->tv_weight != 0)
        obj->last_tv = nst_tv_loss(grad, v, 3, net->h[0], net->w[0],
                                   obj->auto_scale ? obj->tv_weight / (255.0f * 255.0f) : obj->tv_weight);
    return obj->last_content + obj->last_style + obj->last_tv + obj->last_range;
}
