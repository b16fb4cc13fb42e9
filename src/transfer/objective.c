#include "transfer/objective.h"
#include "loss/losses.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            if (k >= obj->n_style) { k++; break; }
            obj->style_layer_w[k++] = v;
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

static float gram_div(const nst_objective *obj, int c, size_t n) {
    return obj->raw_gram ? 1.0f : (float)((double)c * n);
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
        if ((rc = nst_vgg_init(&snet, wts, depth, style_h[s], style_w[s], keep, p->avg_pool, backend, bf16, err))) {
            nst_objective_free(obj);
            return rc;
        }
        nst_vgg_forward(&snet, style_x[s]);
        for (int i = 0; i < obj->n_style; i++) {
            nst_layer_ref r = obj->style[i];
            int c = nst_vgg_cout(r.conv);
            size_t n = (size_t)snet.h[r.conv] * snet.w[r.conv];
            nst_gram(obj->scratch, nst_vgg_activation(&snet, r), c, (int)n, gram_div(obj, c, n));
            for (size_t k = 0; k < (size_t)c * c; k++) obj->style_target[i][k] += blend[s] * obj->scratch[k];
        }
        nst_vgg_free(&snet);
    }
    // then the network for the generated image (one network alive at a time keeps
    // the peak memory down), and the content targets at its size
    if ((rc = nst_vgg_init(&obj->net, wts, depth, h, w, keep, p->avg_pool, backend, bf16, err))) {
        nst_objective_free(obj);
        return rc;
    }
    // content targets, at the generated image's size
    nst_vgg_forward(&obj->net, content_x);
    for (int i = 0; i < obj->n_content; i++) {
        nst_layer_ref r = obj->content[i];
        size_t n = (size_t)nst_vgg_cout(r.conv) * obj->net.h[r.conv] * obj->net.w[r.conv];
        if (!(obj->content_target[i] = malloc(n * sizeof(float)))) goto nomem;
        memcpy(obj->content_target[i], nst_vgg_activation(&obj->net, r), n * sizeof(float));
    }
    return NST_OK;
nomem:
    nst_objective_free(obj);
    return nst_fail(err, NST_ERR_NOMEM, "out of memory for the loss targets");
}

void nst_objective_free(nst_objective *obj) {
    nst_vgg_free(&obj->net);
    for (int i = 0; i < NST_MAX_LAYERS; i++) { free(obj->content_target[i]); free(obj->style_target[i]); }
    free(obj->scratch);
    memset(obj, 0, sizeof *obj);
}

// Called by the backward pass at each layer: adds the losses on that layer.
static void add_layer_losses(void *ctx, nst_layer_ref ref, float *grad) {
    nst_objective *obj = ctx;
    const nst_vgg *net = &obj->net;
    for (int i = 0; i < obj->n_content; i++) {
        nst_layer_ref r = obj->content[i];
        if (r.conv != ref.conv || r.relu != ref.relu) continue;
        size_t n = (size_t)nst_vgg_cout(r.conv) * net->h[r.conv] * net->w[r.conv];
        obj->last_content += nst_content_loss(grad, nst_vgg_activation(net, r), obj->content_target[i], n,
                                              obj->content_weight);
    }
    for (int i = 0; i < obj->n_style; i++) {
        nst_layer_ref r = obj->style[i];
        if (r.conv != ref.conv || r.relu != ref.relu) continue;
        int c = nst_vgg_cout(r.conv);
        size_t n = (size_t)net->h[r.conv] * net->w[r.conv];
        float extra = obj->raw_gram ? (float)((double)c * n) : 1.0f;
        obj->last_style += nst_style_loss(grad, nst_vgg_activation(net, r), obj->style_target[i], c, (int)n,
                                          gram_div(obj, c, n), extra, obj->style_weight * obj->style_layer_w[i],
                                          obj->scratch);
    }
}

double nst_objective_eval(void *ctx, const float *x, float *grad) {
    nst_objective *obj = ctx;
    nst_vgg *net = &obj->net;
    obj->last_content = obj->last_style = obj->last_tv = 0;
    obj->evals++;
    nst_vgg_forward(net, x);
    nst_vgg_backward(net, grad, add_layer_losses, obj);
    if (obj->tv_weight != 0)
        obj->last_tv = nst_tv_loss(grad, x, 3, net->h[0], net->w[0], obj->tv_weight);
    return obj->last_content + obj->last_style + obj->last_tv;
}
