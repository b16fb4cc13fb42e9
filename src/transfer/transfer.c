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
    const nsti_input_norm *norm;
    const float *x;
    int w, h;
} run_state;

int nst_progress_image(const nst_progress *p, nst_image *out, nst_error *err) {
    const run_state *rs = p->internal;
    int rc = nst_image_alloc(out, rs->w, rs->h, err);
    if (rc) return rc;
    nsti_model_to_rgb(out->data, rs->x, rs->w * rs->h, rs->norm);
    return NST_OK;
}

static int all_finite(const float *v, size_t n) {
    float acc = 0;
    for (size_t i = 0; i < n; i++) acc += v[i] * 0.0f;   // NaN*0 and Inf*0 are NaN
    return acc == 0.0f;
}

// The starting picture in RGB (content, noise, the first style, or a given picture),
// with init_noise_blend of noise mixed in, then in the model's input space.
static int init_image(float *x, const nsti_input_norm *var, const nst_image *content,
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
        if (!p->init_image) return nsti_fail(err, NST_ERR_USAGE, "init from an image, but none given");
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
    nsti_rgb_to_model(x, start.data, npix, var);
    nst_image_free(&start);
    return NST_OK;
}

// A mask picture (channel 0, 0..255) as w*h values in 0..1.
static float *mask_values(const nst_image *mask, int w, int h, nst_error *err) {
    nst_image fitted = {0};
    if (nst_image_resize(&fitted, mask, w, h, err)) return NULL;
    float *m = malloc(sizeof(float) * w * h);
    if (m) for (size_t i = 0; i < (size_t)w * h; i++) m[i] = fminf(fmaxf(fitted.data[i] / 255.0f, 0.0f), 1.0f);
    else nsti_fail(err, NST_ERR_NOMEM, "out of memory for a mask");
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

static uLong settings_crc(uLong crc, const nsti_objective *obj, const nst_params *p, int w, int h,
                          const int *sw, const int *sh, const float *blend, int n_styles) {
    char text[2048], name[16];
    int len = snprintf(text, sizeof text, "%dx%d c%.9g s%.9g t%.9g raw%d avg%d norm%d opt%d lr%.9g hist%d%s |",
                       w, h, p->content_weight, p->style_weight, p->tv_weight, p->raw_gram, p->avg_pool,
                       p->normalize_gradients, (int)p->optimizer, p->lr,
                       p->optimizer == NST_OPTIMIZER_LBFGS ? p->lbfgs_history : 0, obj->auto_scale ? " auto" : "");
    for (int i = 0; i < obj->n_content && len < (int)sizeof text; i++) {
        nsti_layer_format(name, sizeof name, obj->net.weights, obj->content[i]);
        len += snprintf(text + len, sizeof text - len, " %s", name);
    }
    for (int i = 0; i < obj->n_style && len < (int)sizeof text; i++) {
        nsti_layer_format(name, sizeof name, obj->net.weights, obj->style[i]);
        len += snprintf(text + len, sizeof text - len, " %s*%.9g", name, obj->style_layer_w[i]);
    }
    for (int s = 0; s < n_styles && len < (int)sizeof text; s++)
        len += snprintf(text + len, sizeof text - len, " %dx%d*%.9g", sw[s], sh[s], blend[s]);
    if (p->style_loss != NST_STYLE_LOSS_GRAM && len < (int)sizeof text)   // Gram's text is nst 0.4's
        snprintf(text + len, sizeof text - len, " style-loss%d", (int)p->style_loss);
    return crc_bytes(crc, text, strlen(text));
}

static uLong weights_crc(uLong crc, const nsti_vgg_weights *wts) {
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
static nst_progress progress_of(const nsti_objective *obj, int it, int iterations, double time_s, double f,
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
static nsti_checkpoint checkpoint_of(const nsti_stage *stage, int it, int w, int h, const nst_params *p, uint32_t fp,
                                    double f, const nsti_objective *obj, double elapsed, float *x, float *grad,
                                    nsti_adam *adam, nsti_lbfgs *lbfgs) {
    nsti_checkpoint ck = {.stage = stage->index, .iter = it, .w = w, .h = h, .optimizer = (int)p->optimizer,
                         .fingerprint = fp, .loss = f, .n_terms = obj->n_terms, .range = obj->last_range,
                         .elapsed_s = elapsed, .x = x, .grad = grad,
                         .adam = p->optimizer == NST_OPTIMIZER_ADAM ? adam : NULL,
                         .lbfgs = p->optimizer == NST_OPTIMIZER_ADAM ? NULL : lbfgs};
    for (int t = 0; t < obj->n_terms && t < NST_CHECKPOINT_TERMS; t++) ck.term[t] = obj->terms[t].last;
    return ck;
}

// One run's state: the pictures in the model's space, the loss, the optimizer.
typedef struct transfer_run {
    const nst_params *p;
    const nsti_stage *stage;
    int w, h, n_styles;
    size_t npix, n;
    float *x, *grad, *good, *content_x;   // (3,h,w): the variable, its gradient, the last good one
    float *style_x[NST_MAX_STYLES];
    int sw[NST_MAX_STYLES], sh[NST_MAX_STYLES];
    float blend[NST_MAX_STYLES];
    nsti_objective obj;
    nsti_adam adam;
    nsti_lbfgs lbfgs;
    uLong fp;                             // the checkpoints' fingerprint
    nsti_input_norm var;                   // the optimizer variable's convention
    run_state rs;
    int write_failed;                     // a checkpoint could not be written
} transfer_run;

static int check_request(const nst_model *m, const nst_image *content, const nst_image *styles, int n_styles,
                         const nst_params *p, nst_error *err) {
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nsti_fail(err, NST_ERR_USAGE, "between 1 and %d style images are needed, got %d", NST_MAX_STYLES, n_styles);
    if (p->checkpoint_every < 0) return nsti_fail(err, NST_ERR_USAGE, "checkpoint_every must be >= 0");
    if (p->iterations < 0) return nsti_fail(err, NST_ERR_USAGE, "iterations must be >= 0");
    if (p->init_noise_blend < 0 || p->init_noise_blend > 1 || !isfinite(p->init_noise_blend))
        return nsti_fail(err, NST_ERR_USAGE, "init noise blend must be between 0 and 1");
    if (!(p->temporal_weight >= 0) || !isfinite(p->temporal_weight))
        return nsti_fail(err, NST_ERR_USAGE, "the temporal weight must be a number >= 0");
    if (p->n_temporal < 0 || p->n_temporal > NST_MAX_TEMPORAL || (p->n_temporal && !p->temporal_targets))
        return nsti_fail(err, NST_ERR_USAGE, "between 0 and %d temporal targets are needed, got %d", NST_MAX_TEMPORAL,
                         p->n_temporal);
    for (int j = 0; j < p->n_temporal; j++)
        if (!p->temporal_targets[j].data || (p->temporal_masks && !p->temporal_masks[j].data))
            return nsti_fail(err, NST_ERR_USAGE, "temporal target %d (or its mask) is empty", j + 1);
    if (p->max_memory) {
        int style_w[NST_MAX_STYLES], style_h[NST_MAX_STYLES];
        for (int s = 0; s < n_styles; s++) { style_w[s] = styles[s].w; style_h[s] = styles[s].h; }
        size_t need = nst_estimate_bytes(m, p, content->w, content->h, style_w, style_h, n_styles);
        if (need > p->max_memory)
            return nsti_fail(err, NST_ERR_LIMIT, "a %dx%d run needs about %.1f GiB, more than the limit of %.1f GiB (--max-memory)",
                            content->w, content->h, need / 1073741824.0, p->max_memory / 1073741824.0);
    }
    return NST_OK;
}

// The pictures in the model's space, the blend weights, and the pictures' part of
// the fingerprint.
static int load_pictures(transfer_run *r, const nsti_vgg_weights *wts, const nst_image *content,
                         const nst_image *styles, nst_error *err) {
    const nst_params *p = r->p;
    r->x = malloc(r->n * sizeof(float));
    r->grad = malloc(r->n * sizeof(float));
    r->good = malloc(r->n * sizeof(float));
    r->content_x = malloc(r->n * sizeof(float));
    if (!r->x || !r->grad || !r->good || !r->content_x)
        return nsti_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d image", r->w, r->h);
    double bsum = 0;
    for (int s = 0; s < r->n_styles; s++) bsum += p->style_blend[s] > 0 ? p->style_blend[s] : 0;
    for (int s = 0; s < r->n_styles; s++) {
        if (p->style_blend[s] < 0 || !isfinite(p->style_blend[s]))
            return nsti_fail(err, NST_ERR_USAGE, "style blend weights must be >= 0");
        r->blend[s] = bsum > 0 ? (float)(p->style_blend[s] / bsum) : 1.0f / r->n_styles;
        r->sw[s] = styles[s].w; r->sh[s] = styles[s].h;
        if (!(r->style_x[s] = malloc((size_t)3 * r->sw[s] * r->sh[s] * sizeof(float))))
            return nsti_fail(err, NST_ERR_NOMEM, "out of memory for style image %d", s + 1);
        nsti_rgb_to_model(r->style_x[s], styles[s].data, (size_t)r->sw[s] * r->sh[s], &wts->norm);
    }
    nsti_rgb_to_model(r->content_x, content->data, r->npix, &wts->norm);
    if (p->checkpoint || p->resume) {
        r->fp = crc_bytes(weights_crc(crc32(0L, Z_NULL, 0), wts), r->content_x, r->n * sizeof(float));
        for (int s = 0; s < r->n_styles; s++)
            r->fp = crc_bytes(r->fp, r->style_x[s], (size_t)3 * r->sw[s] * r->sh[s] * sizeof(float));
    }
    return NST_OK;
}

// The masks at the picture's size, into the loss and the fingerprint.
static int set_masks(transfer_run *r, nst_error *err) {
    const nst_params *p = r->p;
    float *sm[NST_MAX_STYLES] = {0}, *cm = NULL;
    int rc = NST_OK;
    for (int s = 0; p->style_masks && s < r->n_styles && !rc; s++)
        if (!(sm[s] = mask_values(&p->style_masks[s], r->w, r->h, err))) rc = err ? err->code : NST_ERR_NOMEM;
    if (!rc && p->content_mask && !(cm = mask_values(p->content_mask, r->w, r->h, err))) rc = err ? err->code : NST_ERR_NOMEM;
    if (!rc)
        rc = nsti_objective_set_masks(&r->obj, p->style_masks ? (const float *const *)sm : NULL, r->n_styles, cm, r->w,
                                     r->h, err);
    for (int s = 0; !rc && s < NST_MAX_STYLES; s++) if (sm[s]) r->fp = crc_bytes(r->fp, sm[s], r->npix * sizeof(float));
    if (!rc && cm) r->fp = crc_bytes(r->fp, cm, r->npix * sizeof(float)) ^ 0x9e3779b9u;   // a content mask is not a style mask
    for (int s = 0; s < NST_MAX_STYLES; s++) free(sm[s]);
    free(cm);
    return rc;
}

// The temporal term's targets (earlier frames warped to this one) in the optimizer's
// units and their masks, at the picture's size, into the loss and the fingerprint.
static int set_temporal(transfer_run *r, const nsti_vgg_weights *wts, nst_error *err) {
    const nst_params *p = r->p;
    nsti_term *t = nsti_objective_term(&r->obj, "temporal");
    if (!t) return NST_OK;
    nsti_input_norm var = nsti_objective_variable_norm(&wts->norm, r->obj.auto_scale);
    float *targets[NST_MAX_TEMPORAL] = {0}, *masks[NST_MAX_TEMPORAL] = {0};
    int rc = NST_OK, n = p->n_temporal;
    for (int j = 0; j < n && !rc; j++) {
        nst_image fitted = {0};
        if ((rc = nst_image_resize(&fitted, &p->temporal_targets[j], r->w, r->h, err))) break;
        if ((targets[j] = malloc(r->n * sizeof(float)))) nsti_rgb_to_model(targets[j], fitted.data, r->npix, &var);
        else rc = nsti_fail(err, NST_ERR_NOMEM, "out of memory for the temporal targets");
        nst_image_free(&fitted);
        if (!rc && p->temporal_masks && !(masks[j] = mask_values(&p->temporal_masks[j], r->w, r->h, err)))
            rc = err ? err->code : NST_ERR_NOMEM;
        if (!rc) r->fp = crc_bytes(r->fp, targets[j], r->n * sizeof(float));
        if (!rc && masks[j]) r->fp = crc_bytes(r->fp, masks[j], r->npix * sizeof(float));
    }
    if (!rc) r->fp = crc_bytes(r->fp, &p->temporal_weight, sizeof p->temporal_weight) ^ 0x7e3a1u;
    if (!rc && (rc = nsti_term_temporal_set(t, targets, p->temporal_masks ? masks : NULL, n)))
        nsti_fail(err, rc, "out of memory for the temporal targets");
    if (rc)
        for (int j = 0; j < n; j++) { free(targets[j]); free(masks[j]); }
    return rc;
}

// The loss (targets and masks) and the optimizer.
static int set_up_loss(transfer_run *r, const nsti_vgg_weights *wts, nst_error *err) {
    const nst_params *p = r->p;
    const struct nsti_backend_ops *backend;
    int bf16, rc;
    if ((rc = nsti_choose_backend(p, &backend, &bf16, err)) ||
        (rc = nsti_objective_init(&r->obj, wts, p, r->content_x, r->w, r->h, (const float *const *)r->style_x, r->sw,
                                 r->sh, r->n_styles, r->blend, backend, bf16, err)))
        return rc;
    if ((p->style_masks || p->content_mask) && (rc = set_masks(r, err))) return rc;
    if ((rc = set_temporal(r, wts, err))) return rc;
    if (p->optimizer == NST_OPTIMIZER_ADAM) rc = nsti_adam_init(&r->adam, r->n, p->lr, err);
    else rc = nsti_lbfgs_init(&r->lbfgs, r->n, p->lbfgs_history, p->lr, err);
    if (rc) return rc;
    // AUTO's variable is the picture in 0..255 units: a first step that moved the
    // largest value by 1e-3 there (the raw contract's minimum) changed the loss less
    // than bf16's rounding does, and L-BFGS then stalled on noise (measured: stuck at
    // its first loss for 7 iterations of 11 s each at 256 px on the full model); a
    // level is clear of it in bf16 and was slightly better in float32 too (loss 1.66
    // against 1.72 after 30 iterations)
    if (r->obj.auto_scale) r->lbfgs.first_move = 1.0;
    r->fp = settings_crc(r->fp, &r->obj, p, r->w, r->h, r->sw, r->sh, r->blend, r->n_styles);
    // the optimizer's variable: the picture in the model's units, or in pixel units (AUTO)
    r->var = nsti_objective_variable_norm(&wts->norm, r->obj.auto_scale);
    r->rs = (run_state){&r->var, r->x, r->w, r->h};
    return NST_OK;
}

static nsti_checkpoint checkpoint_now(transfer_run *r, int it, double f, double elapsed) {
    return checkpoint_of(r->stage, it, r->w, r->h, r->p, (uint32_t)r->fp, f, &r->obj, elapsed, r->x, r->grad,
                         &r->adam, &r->lbfgs);
}

// The start: a checkpoint, or the starting picture and its loss.
static int start_point(transfer_run *r, const nst_image *content, const nst_image *styles, double *f, int *start,
                       double *elapsed, nst_error *err) {
    const nst_params *p = r->p;
    *start = 0;
    *elapsed = 0;
    if (!p->resume) {
        int rc = init_image(r->x, &r->var, content, styles, p, err);
        if (!rc) *f = nsti_objective_eval(&r->obj, r->x, r->grad);
        return rc;
    }
    nsti_checkpoint ck = checkpoint_now(r, 0, 0, 0);
    int rc = nsti_checkpoint_read(p->resume, &ck, err);
    if (rc) return rc;
    if (ck.iter > p->iterations)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint is at iteration %d, past this run's %d iterations",
                        p->resume, ck.iter + r->stage->iter_offset, p->iterations + r->stage->iter_offset);
    *start = ck.iter;
    *f = ck.loss;
    for (int t = 0; t < r->obj.n_terms && t < NST_CHECKPOINT_TERMS; t++) r->obj.terms[t].last = ck.term[t];
    r->obj.last_range = ck.range;
    *elapsed = ck.elapsed_s;
    return NST_OK;
}

// The iterations, with progress and checkpoints; r->good holds the last good picture.
static int optimize(transfer_run *r, const nst_image *content, const nst_image *styles, nst_error *err) {
    const nst_params *p = r->p;
    int offset = r->stage->iter_offset, start, saved_at = -1, it, rc;   // saved_at: the last checkpoint's iteration
    double f, elapsed;
    if ((rc = start_point(r, content, styles, &f, &start, &elapsed, err))) return rc;
    double t0 = now_s() - elapsed;
    memcpy(r->good, r->x, r->n * sizeof(float));
    for (it = start;; it++) {
        if (!isfinite(f) || !all_finite(r->grad, r->n))
            return nsti_fail(err, NST_ERR_NUMERIC, "the loss became %s at iteration %d; keeping the last good image",
                            isfinite(f) ? "finite with a NaN/Inf gradient" : "NaN or infinite", it + offset);
        memcpy(r->good, r->x, r->n * sizeof(float));
        if (p->progress) {
            nst_progress pr = progress_of(&r->obj, it, p->iterations, now_s() - t0, f, &r->rs);
            if (p->progress(&pr, p->progress_user)) {
                rc = nsti_fail(err, NST_ERR_INTERRUPTED, "stopped at iteration %d", it + offset);
                break;
            }
        }
        if (it >= p->iterations) break;
        if (p->checkpoint && p->checkpoint_every > 0 && it > start && (it + offset) % p->checkpoint_every == 0) {
            nsti_checkpoint ck = checkpoint_now(r, it, f, now_s() - t0);
            if (nsti_checkpoint_write(p->checkpoint, &ck, err)) { r->write_failed = 1; return fail_write(err); }
            saved_at = it;
        }
        if (p->optimizer == NST_OPTIMIZER_ADAM) {
            if (nsti_adam_step(&r->adam, r->x, r->grad) != NST_STEP_OK)
                return nsti_fail(err, NST_ERR_NUMERIC, "the gradient overflowed float32 in Adam's moments at iteration %d "
                                "(lower the weights or the learning rate); keeping the last good image",
                                it + 1 + offset);
            f = nsti_objective_eval(&r->obj, r->x, r->grad);
        } else {
            int st = nsti_lbfgs_step(&r->lbfgs, r->x, &f, r->grad, nsti_objective_eval, &r->obj);
            if (st == NST_STEP_FAILED) { f = NAN; continue; }
            if (st == NST_STEP_CONVERGED) break;   // no further decrease is possible
        }
    }
    // the end, or a stop asked for: the state as it is now, for --resume
    if (p->checkpoint && saved_at != it) {
        nsti_checkpoint ck = checkpoint_now(r, it, f, now_s() - t0);
        if (nsti_checkpoint_write(p->checkpoint, &ck, err)) {   // reported even after a stop: it was asked for
            r->write_failed = 1;
            return fail_write(err);
        }
    }
    return rc;
}

int nsti_status_keeps_picture(int status) {
    return status == NST_OK || status == NST_ERR_INTERRUPTED || status == NST_ERR_NUMERIC || status == NST_ERR_IO;
}

int nsti_transfer_core(const nst_model *m, const nst_image *content, const nst_image *styles,
                      int n_styles, const nst_params *p, const nsti_stage *stage, nst_image *out, nst_error *err) {
    const nsti_vgg_weights *wts = &m->weights;
    int rc = check_request(m, content, styles, n_styles, p, err);
    if (rc) return rc;
    transfer_run *r = calloc(1, sizeof *r);
    if (!r) return nsti_fail(err, NST_ERR_NOMEM, "out of memory");
    r->p = p;
    r->stage = stage;
    r->w = content->w; r->h = content->h; r->n_styles = n_styles;
    r->npix = (size_t)r->w * r->h; r->n = 3 * r->npix;
    // OpenMP's thread count is the calling thread's: set for this run, given back after
    int threads_before = omp_get_max_threads();
    if (p->threads > 0) omp_set_num_threads(p->threads);
    if (!(rc = load_pictures(r, wts, content, styles, err)) && !(rc = set_up_loss(r, wts, err)))
        rc = optimize(r, content, styles, err);
    // the picture so far also when a checkpoint could not be written (and only then on
    // NST_ERR_IO: a checkpoint that could not be read gives none)
    if (r->good && (rc == NST_ERR_IO ? r->write_failed : nsti_status_keeps_picture(rc))) {
        nst_error tmp;
        nsti_input_norm out_norm = nsti_objective_variable_norm(&wts->norm, p->loss_scale == NST_LOSS_SCALE_AUTO);
        if (nst_image_alloc(out, r->w, r->h, &tmp) == NST_OK) nsti_model_to_rgb(out->data, r->good, r->npix, &out_norm);
        else if (rc == NST_OK) rc = nsti_fail(err, tmp.code, "%s", tmp.msg);
    }
    nsti_adam_free(&r->adam);
    nsti_lbfgs_free(&r->lbfgs);
    nsti_objective_free(&r->obj);
    for (int s = 0; s < NST_MAX_STYLES; s++) free(r->style_x[s]);
    free(r->x); free(r->grad); free(r->good); free(r->content_x);
    free(r);
    omp_set_num_threads(threads_before);
    return rc;
}
