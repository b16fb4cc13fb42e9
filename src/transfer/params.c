// params.c: the settings of a run: defaults, presets, the layers and kernels they
// resolve to, and the memory they would need.
#include "nst.h"
#include "model/model_api.h"
#include "nn/gemm.h"
#include "nn/backend.h"
#include "nn/backend_dnnl.h"
#include "transfer/objective.h"
#include <stdio.h>
#include <string.h>

const char *nst_version(void) { return NST_VERSION; }

void nst_params_default(nst_params *p) {
    memset(p, 0, sizeof *p);
    p->iterations = 150;
    p->optimizer = NST_OPTIMIZER_LBFGS;
    p->lr = 1.0f;
    p->lbfgs_history = 20;
    p->content_weight = 1.0f;
    p->style_weight = 10.0f;
    p->tv_weight = 1.0f;
    p->init = NST_INIT_CONTENT;
    p->seed = 0;
    p->checkpoint_every = 50;
    p->precision = NST_PRECISION_AUTO;
}

// The paper's layers: content relu4_2, style relu1_1..relu5_1.
static void paper_layers(nst_params *p) {
    snprintf(p->content_layers, sizeof p->content_layers, "relu4_2");
    snprintf(p->style_layers, sizeof p->style_layers, "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1");
}

int nst_params_preset(nst_params *p, const char *name, nst_error *err) {
    if (strcmp(name, "default") == 0) {
        // what the other presets set, back to the defaults; the rest (threads, memory
        // limit, masks, checkpoints, progress...) is not a recipe and stays
        nst_params d;
        nst_params_default(&d);
        p->iterations = d.iterations;
        p->optimizer = d.optimizer;
        p->lr = d.lr;
        p->content_weight = d.content_weight;
        p->style_weight = d.style_weight;
        p->tv_weight = d.tv_weight;
        memcpy(p->content_layers, d.content_layers, sizeof d.content_layers);
        memcpy(p->style_layers, d.style_layers, sizeof d.style_layers);
        memcpy(p->style_layer_weights, d.style_layer_weights, sizeof d.style_layer_weights);
        p->raw_gram = d.raw_gram;
        p->loss_scale = d.loss_scale;
        p->stages = d.stages;
        p->avg_pool = d.avg_pool;
        p->init = d.init;
    } else if (strcmp(name, "tutorial") == 0) {
        // ../shared/seed's recipe: raw Grams, weights 1,.75,.2,.2,.2 over C*H*W,
        // content 1, style 1e6, Adam lr 0.003, 2000 steps from the content image.
        p->iterations = 2000;
        p->optimizer = NST_OPTIMIZER_ADAM;
        p->lr = 0.003f;
        p->content_weight = 1.0f;
        p->style_weight = 1e6f;
        p->tv_weight = 0.0f;
        paper_layers(p);
        snprintf(p->style_layer_weights, sizeof p->style_layer_weights, "1,0.75,0.2,0.2,0.2");
        p->raw_gram = 1;
        p->loss_scale = NST_LOSS_SCALE_RAW;
        p->stages = NST_STAGES_ONE;
        p->avg_pool = 0;
        p->init = NST_INIT_CONTENT;
    } else if (strcmp(name, "gatys") == 0) {
        // the paper: average pooling, L-BFGS, style relu1_1..relu5_1, content relu4_2
        p->optimizer = NST_OPTIMIZER_LBFGS;
        p->lr = 1.0f;
        p->avg_pool = 1;
        p->raw_gram = 0;
        // its recipe as in nst 0.2: these weights in the raw loss contract
        p->loss_scale = NST_LOSS_SCALE_RAW;
        p->stages = NST_STAGES_ONE;
        p->content_weight = 1.0f;
        p->style_weight = 1e4f;
        p->tv_weight = 0.0f;
        paper_layers(p);
        p->style_layer_weights[0] = 0;
        p->init = NST_INIT_NOISE;
    } else {
        return nsti_fail(err, NST_ERR_USAGE, "unknown preset '%s' (default, tutorial, gatys)", name);
    }
    return NST_OK;
}

int nst_schedule(const nst_params *p, int size, int scales[2], int iterations[2]) {
    if (p->stages != NST_STAGES_AUTO || size < NST_SCHEDULE_MIN_SIZE || p->iterations < 2) {
        scales[0] = size;
        iterations[0] = p->iterations;
        return 1;
    }
    // The coarse stage costs a quarter as much per iteration and finds the style's
    // large structures; the fine stage starts from its stylization upsampled onto
    // the content (nst_transfer_scales) and sharpens it.
    int coarse = (int)((long long)p->iterations * 2 / 3);
    scales[0] = size / 2;
    scales[1] = size;
    iterations[0] = coarse;
    iterations[1] = p->iterations - coarse;
    return 2;
}

int nst_resolve_layers(const nst_model *m, const nst_params *p, char *content, size_t content_len,
                       char *style, size_t style_len, nst_error *err) {
    nsti_objective obj;
    memset(&obj, 0, sizeof obj);
    int rc = nsti_objective_layers(&obj, &m->weights, p, err);
    if (rc) return rc;
    char name[16];
    content[0] = style[0] = 0;
    for (int i = 0; i < obj.n_content; i++) {
        nsti_layer_format(name, sizeof name, &m->weights, obj.content[i]);
        snprintf(content + strlen(content), content_len - strlen(content), "%s%s", i ? "," : "", name);
    }
    for (int i = 0; i < obj.n_style; i++) {
        nsti_layer_format(name, sizeof name, &m->weights, obj.style[i]);
        snprintf(style + strlen(style), style_len - strlen(style), "%s%s", i ? "," : "", name);
    }
    return NST_OK;
}

// A network's allocation at h x w: the generated picture's, or (style) a style
// picture's, streamed to its deepest style layer.
static size_t net_bytes(const nsti_vgg_weights *wts, const nst_params *p, const nsti_objective *obj, int w, int h,
                        int style) {
    int loss_at[NST_MAX_CONVS], depth, bf16 = 0;
    if (style) {
        depth = nsti_objective_style_loss_at(obj, loss_at);
    } else {
        nsti_objective_loss_at(obj, loss_at);
        depth = nsti_objective_depth(obj);
    }
    const nsti_backend_ops *backend;
    if (nsti_choose_backend(p, &backend, &bf16, NULL)) backend = &nsti_backend_blas;
    return depth ? backend->bytes(wts, depth, h, w, loss_at, bf16, style ? NSTI_VGG_STREAM : NSTI_VGG_TRAIN) : 0;
}

size_t nst_estimate_bytes(const nst_model *m, const nst_params *p, int w, int h, const int *style_w,
                          const int *style_h, int n_styles) {
    nsti_objective obj;
    memset(&obj, 0, sizeof obj);
    if (nsti_objective_layers(&obj, &m->weights, p, NULL)) return 0;
    // targets: content activations and Gram matrices
    size_t targets = 0;
    for (int i = 0; i < obj.n_content; i++) {
        int c = obj.content[i].conv, f = 1;
        for (int k = 0; k <= c; k++) if (m->weights.layer[k].pool_before) f *= 2;
        targets += (size_t)m->weights.layer[c].cout * (h / f) * (w / f) * sizeof(float);
    }
    for (int i = 0; i < obj.n_style; i++) {
        size_t c = (size_t)m->weights.layer[obj.style[i].conv].cout;
        targets += c * c * 8;
    }
    // the image, its gradient, the last good one, the content; the optimizer's state;
    // the style pictures, alive all along (the caller's and the model-space copy)
    size_t n = (size_t)3 * w * h, styles = 0, style_net = 0;
    size_t opt = p->optimizer == NST_OPTIMIZER_LBFGS ? (2 * (size_t)p->lbfgs_history + 3) * n : 2 * n;
    for (int s = 0; s < n_styles; s++) {
        styles += (size_t)2 * 3 * style_w[s] * style_h[s] * sizeof(float);
        size_t b = net_bytes(&m->weights, p, &obj, style_w[s], style_h[s], 1);
        if (b > style_net) style_net = b;
    }
    // first each style's network (one at a time), then the generated picture's
    size_t style_phase = style_net + targets, run_phase = net_bytes(&m->weights, p, &obj, w, h, 0) + targets + opt * sizeof(float);
    size_t model = 0;   // the model's own float32 weights, held all along
    for (int i = 0; i < m->weights.n_conv; i++)
        model += ((size_t)m->weights.layer[i].cin * 9 + 1) * m->weights.layer[i].cout * sizeof(float);
    return (style_phase > run_phase ? style_phase : run_phase) + styles + model + 4 * n * sizeof(float) +
           (64u << 20);   // + code, libraries
}

int nsti_choose_backend(const nst_params *p, const nsti_backend_ops **backend, int *bf16, nst_error *err) {
    const nsti_backend_ops *b = nsti_backend_get(p->backend);
    if (!b) return nsti_fail(err, NST_ERR_USAGE, "unknown backend %d", (int)p->backend);
    if (!b->available())
        return nsti_fail(err, NST_ERR_USAGE, "the %s backend is not built in (install libdnnl-dev and rebuild)", b->key);
    *backend = b;
    *bf16 = 0;
    if (p->precision == NST_PRECISION_BF16) {
        if (b != &nsti_backend_dnnl)
            return nsti_fail(err, NST_ERR_USAGE, "--precision bf16 needs the dnnl backend");
        if (!b->has_bf16())
            return nsti_fail(err, NST_ERR_USAGE, "--precision bf16 needs a CPU with AVX512-BF16 or AMX (this one has neither)");
        *bf16 = 1;
    } else if (p->precision == NST_PRECISION_AUTO) {
        // bf16 only where it is faster: on AMX (oneDNN's AMX kernels). With AVX512-BF16
        // alone it was 2.7x slower than float32 Winograd (10 iterations at 512x384 on a
        // Sapphire Rapids-class Xeon without AMX: 14.1 s against 5.2 s), and AMD EPYC
        // was measured no faster either; its quality was within 2% of float32's anyway.
        *bf16 = b == &nsti_backend_dnnl && nsti_dnnl_cpu_has_amx();
    }
    return NST_OK;
}

const char *nst_backend_name(const nst_params *p) {
    const nsti_backend_ops *b;
    int bf16;
    if (nsti_choose_backend(p, &b, &bf16, NULL)) return "unavailable";
    if (b == &nsti_backend_dnnl) return bf16 ? "onednn bf16" : "onednn fp32";
    return b == &nsti_backend_blas ? (strcmp(nsti_sgemm_backend(), "openblas") ? "gemm (plain C)" : "openblas") : "reference";
}
