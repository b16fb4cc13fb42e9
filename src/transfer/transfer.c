// transfer.c: the optimization loop of style transfer: the starting picture, the
// steps, progress, numeric failures and checkpoints.
#include "nst.h"
#include "model/model_api.h"
#include "optim/optim.h"
#include "transfer/objective.h"
#include "transfer/colorspace.h"
#include "transfer/transfer.h"
#include "transfer/checkpoint.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include <zlib.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// splitmix64: a small, good generator for reproducible noise.
static unsigned long long next_random(unsigned long long *state) {
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// The state a progress callback can read the image from.
typedef struct run_state {
    const nst_input_norm *norm;
    const float *x;
    int w, h;
} run_state;

int nst_progress_image(const nst_progress *p, nst_image *out, nst_error *err) {
    const run_state *rs = p->internal;
    int rc = nst_image_alloc(out, rs->w, rs->h, err);
    if (rc) return rc;
    nst_model_to_rgb(out->data, rs->x, rs->w * rs->h, rs->norm);
    return NST_OK;
}

static int all_finite(const float *v, size_t n) {
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += v[i] * 0.0f;   // NaN*0 and Inf*0 are NaN
    return acc == 0.0f;
}

// The starting picture in RGB (content, noise, the first style, or a given picture),
// with init_noise_blend of noise mixed in, then in the model's input space.
static int init_image(float *x, const nst_input_norm *var, const nst_image *content,
                      const nst_image *styles, const nst_params *p, nst_error *err) {
    int w = content->w, h = content->h, rc = NST_OK;
    size_t npix = (size_t)w * h;
    unsigned long long state = p->seed;
    nst_image start = {0};
    if (p->init == NST_INIT_CONTENT) {
        rc = nst_image_resize(&start, content, w, h, err);   // same size: an exact copy
    } else if (p->init == NST_INIT_NOISE) {
        if (!(rc = nst_image_alloc(&start, w, h, err)))
            for (size_t i = 0; i < 3 * npix; i++) start.data[i] = (float)(next_random(&state) >> 40) * (255.0f / 16777216.0f);
    } else if (p->init == NST_INIT_STYLE) {
        rc = nst_image_resize(&start, &styles[0], w, h, err);
    } else {
        if (!p->init_image) return nst_fail(err, NST_ERR_USAGE, "init from an image, but none given");
        rc = nst_image_resize(&start, p->init_image, w, h, err);
    }
    if (rc) return rc;
    float b = p->init_noise_blend;
    if (b > 0) {
        if (p->init == NST_INIT_NOISE) state = p->seed ^ 0x5DEECE66DULL;   // fresh noise, not the same
        for (size_t i = 0; i < 3 * npix; i++) {
            float noise = (float)(next_random(&state) >> 40) * (255.0f / 16777216.0f);
            start.data[i] = (1.0f - b) * start.data[i] + b * noise;
        }
    }
    nst_rgb_to_model(x, start.data, npix, var);
    nst_image_free(&start);
    return NST_OK;
}

// A mask picture (channel 0, 0..255) as w*h values in 0..1.
static float *mask_values(const nst_image *mask, int w, int h, nst_error *err) {
    nst_image fitted = {0};
    if (nst_image_resize(&fitted, mask, w, h, err)) return NULL;
    float *m = malloc(sizeof(float) * w * h);
    if (m) for (size_t i = 0; i < (size_t)w * h; i++) m[i] = fminf(fmaxf(fitted.data[i] / 255.0f, 0.0f), 1.0f);
    else nst_fail(err, NST_ERR_NOMEM, "out of memory for a mask");
    nst_image_free(&fitted);
    return m;
}

// A checkpoint's fingerprint: a CRC-32 of everything the loss depends on (the
// pictures in model space, the masks, the weights, the settings) and of the
// optimizer's settings, so that a run resumes only where it was stopped.
static uLong crc_bytes(uLong crc, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n < (1u << 30) ? (uInt)n : (1u << 30);
        crc = crc32(crc, b, k);
        b += k; n -= k;
    }
    return crc;
}

static uLong settings_crc(uLong crc, const nst_objective *obj, const nst_params *p, int w, int h,
                          const int *sw, const int *sh, const float *blend, int n_styles) {
    char text[2048], name[16];
    int len = snprintf(text, sizeof text, "%dx%d c%.9g s%.9g t%.9g raw%d avg%d norm%d opt%d lr%.9g hist%d%s |",
                       w, h, p->content_weight, p->style_weight, p->tv_weight, p->raw_gram, p->avg_pool,
                       p->normalize_gradients, (int)p->optimizer, p->lr,
                       p->optimizer == NST_OPTIMIZER_LBFGS ? p->lbfgs_history : 0, obj->auto_scale ? " auto" : "");
    for (int i = 0; i < obj->n_content && len < (int)sizeof text; i++) {
        nst_layer_format(name, sizeof name, obj->net.weights, obj->content[i]);
        len += snprintf(text + len, sizeof text - len, " %s", name);
    }
    for (int i = 0; i < obj->n_style && len < (int)sizeof text; i++) {
        nst_layer_format(name, sizeof name, obj->net.weights, obj->style[i]);
        len += snprintf(text + len, sizeof text - len, " %s*%.9g", name, obj->style_layer_w[i]);
    }
    for (int s = 0; s < n_styles && len < (int)sizeof text; s++)
        len += snprintf(text + len, sizeof text - len, " %dx%d*%.9g", sw[s], sh[s], blend[s]);
    if (p->style_loss != NST_STYLE_LOSS_GRAM && len < (int)sizeof text)   // Gram's text is nst 0.4's
        len += snprintf(text + len, sizeof text - len, " style-loss%d", (int)p->style_loss);
    return crc_bytes(crc, text, strlen(text));
}

static uLong weights_crc(uLong crc, const nst_vgg_weights *wts) {
    for (int i = 0; i < wts->n_conv; i++) {
        crc = crc_bytes(crc, wts->weight[i], (size_t)wts->layer[i].cout * wts->layer[i].cin * 9 * sizeof(float));
        crc = crc_bytes(crc, wts->bias[i], (size_t)wts->layer[i].cout * sizeof(float));
    }
    return crc;
}

// A checkpoint that could not be written is NST_ERR_IO, whatever the cause (also a
// failed allocation): the picture so far comes with it.
static int fail_write(nst_error *err) {
    if (err) err->code = NST_ERR_IO;
    return NST_ERR_IO;
}

// What the progress callback sees: the loss and each term by name, then the range penalty.
static nst_progress progress_of(const nst_objective *obj, int it, int iterations, double time_s, double f,
                                const run_state *rs) {
    nst_progress pr = {.iter = it, .iterations = iterations, .time_s = time_s, .loss = f, .internal = rs};
    for (int t = 0; t < obj->n_terms && pr.n_terms < NST_MAX_TERMS - 1; t++) {
        pr.term_name[pr.n_terms] = obj->terms[t].kind->name;
        pr.term[pr.n_terms++] = obj->terms[t].last;
    }
    pr.term_name[pr.n_terms] = "range";
    pr.term[pr.n_terms++] = obj->last_range;
    return pr;
}

double nst_progress_term(const nst_progress *p, const char *name) {
    for (int t = 0; t < p->n_terms; t++)
        if (p->term_name[t] && !strcmp(p->term_name[t], name)) return p->term[t];
    return 0;
}

// The checkpoint of the run's current state.
static nst_checkpoint checkpoint_of(const nst_stage *stage, int it, int w, int h, const nst_params *p, uint32_t fp,
                                    double f, const nst_objective *obj, double elapsed, float *x, float *grad,
                                    nst_adam *adam, nst_lbfgs *lbfgs) {
    nst_checkpoint ck = {.stage = stage->index, .iter = it, .w = w, .h = h, .optimizer = (int)p->optimizer,
                         .fingerprint = fp, .loss = f, .n_terms = obj->n_terms, .range = obj->last_range,
                         .elapsed_s = elapsed, .x = x, .grad = grad,
                         .adam = p->optimizer == NST_OPTIMIZER_ADAM ? adam : NULL,
                         .lbfgs = p->optimizer == NST_OPTIMIZER_ADAM ? NULL : lbfgs};
    for (int t = 0; t < obj->n_terms && t < NST_CHECKPOINT_TERMS; t++) ck.term[t] = obj->terms[t].last;
    return ck;
}

int nst_transfer_core(const nst_model *m, const nst_image *content, const nst_image *styles,
                      int n_styles, const nst_params *p, const nst_stage *stage, nst_image *out, nst_error *err) {
    const nst_vgg_weights *wts = &m->weights;
    int w = content->w, h = content->h, rc, write_failed = 0;
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_USAGE, "between 1 and %d style images are needed, got %d", NST_MAX_STYLES, n_styles);
    if (p->checkpoint_every < 0) return nst_fail(err, NST_ERR_USAGE, "checkpoint_every must be >= 0");
    if (p->iterations < 0) return nst_fail(err, NST_ERR_USAGE, "iterations must be >= 0");
    if (p->init_noise_blend < 0 || p->init_noise_blend > 1 || !isfinite(p->init_noise_blend))
        return nst_fail(err, NST_ERR_USAGE, "init noise blend must be between 0 and 1");
    if (p->max_memory) {
        int style_w[NST_MAX_STYLES], style_h[NST_MAX_STYLES];
        for (int s = 0; s < n_styles; s++) { style_w[s] = styles[s].w; style_h[s] = styles[s].h; }
        size_t need = nst_estimate_bytes(m, p, w, h, style_w, style_h, n_styles);
        if (need > p->max_memory)
            return nst_fail(err, NST_ERR_LIMIT, "a %dx%d run needs about %.1f GiB, more than the limit of %.1f GiB (--max-memory)",
                            w, h, need / 1073741824.0, p->max_memory / 1073741824.0);
    }
    const struct nst_backend_ops *backend;
    int bf16;
    if ((rc = nst_choose_backend(p, &backend, &bf16, err))) return rc;

    // OpenMP's thread count is the calling thread's: set for this run, given back after
    int threads_before = omp_get_max_threads();
    if (p->threads > 0) omp_set_num_threads(p->threads);
    size_t npix = (size_t)w * h, n = 3 * npix;
    float *x = malloc(n * sizeof(float)), *grad = malloc(n * sizeof(float));
    float *good = malloc(n * sizeof(float));
    float *content_x = malloc(n * sizeof(float));
    float *style_x[NST_MAX_STYLES] = {0};
    int sw[NST_MAX_STYLES], sh[NST_MAX_STYLES];
    float blend[NST_MAX_STYLES];
    nst_objective obj;
    nst_adam adam;
    nst_lbfgs lbfgs;
    memset(&obj, 0, sizeof obj); memset(&adam, 0, sizeof adam); memset(&lbfgs, 0, sizeof lbfgs);
    if (!x || !grad || !good || !content_x) { rc = nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d image", w, h); goto done; }

    double bsum = 0;
    for (int s = 0; s < n_styles; s++) bsum += p->style_blend[s] > 0 ? p->style_blend[s] : 0;
    for (int s = 0; s < n_styles; s++) {
        if (p->style_blend[s] < 0 || !isfinite(p->style_blend[s])) {
            rc = nst_fail(err, NST_ERR_USAGE, "style blend weights must be >= 0"); goto done;
        }
        blend[s] = bsum > 0 ? (float)(p->style_blend[s] / bsum) : 1.0f / n_styles;
        sw[s] = styles[s].w; sh[s] = styles[s].h;
        if (!(style_x[s] = malloc((size_t)3 * sw[s] * sh[s] * sizeof(float)))) {
            rc = nst_fail(err, NST_ERR_NOMEM, "out of memory for style image %d", s + 1); goto done;
        }
        nst_rgb_to_model(style_x[s], styles[s].data, (size_t)sw[s] * sh[s], &wts->norm);
    }
    nst_rgb_to_model(content_x, content->data, npix, &wts->norm);
    uLong fp = 0;
    if (p->checkpoint || p->resume) {
        fp = crc_bytes(weights_crc(crc32(0L, Z_NULL, 0), wts), content_x, n * sizeof(float));
        for (int s = 0; s < n_styles; s++) fp = crc_bytes(fp, style_x[s], (size_t)3 * sw[s] * sh[s] * sizeof(float));
    }
    if ((rc = nst_objective_init(&obj, wts, p, content_x, w, h, (const float *const *)style_x, sw, sh,
                                 n_styles, blend, backend, bf16, err))) goto done;
    if (p->style_masks || p->content_mask) {
        float *sm[NST_MAX_STYLES] = {0}, *cm = NULL;
        rc = NST_OK;
        for (int s = 0; p->style_masks && s < n_styles && !rc; s++)
            if (!(sm[s] = mask_values(&p->style_masks[s], w, h, err))) rc = err ? err->code : NST_ERR_NOMEM;
        if (!rc && p->content_mask && !(cm = mask_values(p->content_mask, w, h, err))) rc = err ? err->code : NST_ERR_NOMEM;
        if (!rc) rc = nst_objective_set_masks(&obj, p->style_masks ? (const float *const *)sm : NULL, n_styles, cm, w, h, err);
        for (int s = 0; !rc && s < NST_MAX_STYLES; s++) if (sm[s]) fp = crc_bytes(fp, sm[s], npix * sizeof(float));
        if (!rc && cm) fp = crc_bytes(fp, cm, npix * sizeof(float)) ^ 0x9e3779b9u;   // a content mask is not a style mask
        for (int s = 0; s < NST_MAX_STYLES; s++) free(sm[s]);
        free(cm);
        if (rc) goto done;
    }
    if (p->optimizer == NST_OPTIMIZER_ADAM) rc = nst_adam_init(&adam, n, p->lr, err);
    else rc = nst_lbfgs_init(&lbfgs, n, p->lbfgs_history, p->lr, err);
    if (rc) goto done;
    // AUTO's variable is the picture in 0..255 units: a first step that moved the
    // largest value by 1e-3 there (the raw contract's minimum) changed the loss less
    // than bf16's rounding does, and L-BFGS then stalled on noise (measured: stuck at
    // its first loss for 7 iterations of 11 s each at 256 px on the full model); a
    // level is clear of it in bf16 and was slightly better in float32 too (loss 1.66
    // against 1.72 after 30 iterations)
    if (obj.auto_scale) lbfgs.first_move = 1.0;
    fp = settings_crc(fp, &obj, p, w, h, sw, sh, blend, n_styles);

    // the optimizer's variable: the picture in the model's units, or in pixel units (AUTO)
    nst_input_norm var = nst_objective_variable_norm(&wts->norm, obj.auto_scale);
    run_state rs = {&var, x, w, h};
    double f, elapsed = 0;
    int start = 0, saved_at = -1;   // the iteration the last checkpoint this run wrote holds
    if (p->resume) {
        nst_checkpoint ck = checkpoint_of(stage, 0, w, h, p, (uint32_t)fp, 0, &obj, 0, x, grad, &adam, &lbfgs);
        if ((rc = nst_checkpoint_read(p->resume, &ck, err))) goto done;
        if (ck.iter > p->iterations) {
            rc = nst_fail(err, NST_ERR_USAGE, "%s: the checkpoint is at iteration %d, past this run's %d iterations",
                          p->resume, ck.iter + stage->iter_offset, p->iterations + stage->iter_offset);
            goto done;
        }
        start = ck.iter;
        f = ck.loss;
        for (int t = 0; t < obj.n_terms && t < NST_CHECKPOINT_TERMS; t++) obj.terms[t].last = ck.term[t];
        obj.last_range = ck.range;
        elapsed = ck.elapsed_s;
    } else {
        if ((rc = init_image(x, &var, content, styles, p, err))) goto done;
        f = nst_objective_eval(&obj, x, grad);
    }
    double t0 = now_s() - elapsed;
    memcpy(good, x, n * sizeof(float));
    int it;
    for (it = start;; it++) {
        if (!isfinite(f) || !all_finite(grad, n)) {
            rc = nst_fail(err, NST_ERR_NUMERIC, "the loss became %s at iteration %d; keeping the last good image",
                          isfinite(f) ? "finite with a NaN/Inf gradient" : "NaN or infinite", it + stage->iter_offset);
            goto done;
        }
        memcpy(good, x, n * sizeof(float));
        if (p->progress) {
            nst_progress pr = progress_of(&obj, it, p->iterations, now_s() - t0, f, &rs);
            if (p->progress(&pr, p->progress_user)) {
                rc = nst_fail(err, NST_ERR_INTERRUPTED, "stopped at iteration %d", it + stage->iter_offset);
                break;
            }
        }
        if (it >= p->iterations) break;
        int every = p->checkpoint_every;
        if (p->checkpoint && every > 0 && it > start && (it + stage->iter_offset) % every == 0) {
            nst_checkpoint ck = checkpoint_of(stage, it, w, h, p, (uint32_t)fp, f, &obj, now_s() - t0, x, grad, &adam, &lbfgs);
            if (nst_checkpoint_write(p->checkpoint, &ck, err)) { rc = fail_write(err); write_failed = 1; goto done; }
            saved_at = it;
        }
        if (p->optimizer == NST_OPTIMIZER_ADAM) {
            if (nst_adam_step(&adam, x, grad) != NST_STEP_OK) {
                rc = nst_fail(err, NST_ERR_NUMERIC, "the gradient overflowed float32 in Adam's moments at iteration %d "
                              "(lower the weights or the learning rate); keeping the last good image",
                              it + 1 + stage->iter_offset);
                goto done;
            }
            f = nst_objective_eval(&obj, x, grad);
        } else {
            int st = nst_lbfgs_step(&lbfgs, x, &f, grad, nst_objective_eval, &obj);
            if (st == NST_STEP_FAILED) { f = NAN; continue; }
            if (st == NST_STEP_CONVERGED) break;   // no further decrease is possible
        }
    }
    // the end, or a stop asked for: the state as it is now, for --resume
    if (p->checkpoint && saved_at != it) {
        nst_checkpoint ck = checkpoint_of(stage, it, w, h, p, (uint32_t)fp, f, &obj, now_s() - t0, x, grad, &adam, &lbfgs);
        if (nst_checkpoint_write(p->checkpoint, &ck, err)) {   // reported even after a stop: it was asked for
            rc = fail_write(err);
            write_failed = 1;
        }
    }
done:
    // a checkpoint that could not be written stops the run with the picture so far
    if (rc == NST_OK || rc == NST_ERR_INTERRUPTED || rc == NST_ERR_NUMERIC || write_failed) {
        nst_error tmp;
        nst_input_norm out_norm = nst_objective_variable_norm(&wts->norm, p->loss_scale == NST_LOSS_SCALE_AUTO);
        if (nst_image_alloc(out, w, h, &tmp) == NST_OK) nst_model_to_rgb(out->data, good, npix, &out_norm);
        else if (rc == NST_OK) rc = nst_fail(err, tmp.code, "%s", tmp.msg);
    }
    nst_adam_free(&adam);
    nst_lbfgs_free(&lbfgs);
    nst_objective_free(&obj);
    for (int s = 0; s < NST_MAX_STYLES; s++) free(style_x[s]);
    free(x); free(grad); free(good); free(content_x);
    omp_set_num_threads(threads_before);
    return rc;
}
