// stages.c: what wraps the optimization: colour preservation (Gatys et al. 2017)
// and coarse-to-fine stages.
#include "transfer/transfer.h"
#include "transfer/checkpoint.h"
#include "util/status.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// The pictures the optimization sees, after colour preservation's preparation.
typedef struct prepared {
    nst_image content;
    nst_image styles[NST_MAX_STYLES];
    int owns;   // 1 when the pictures above were made here (else they alias the inputs)
} prepared;

static void prepared_free(prepared *pr) {
    if (pr->owns) {
        nst_image_free(&pr->content);
        for (int s = 0; s < NST_MAX_STYLES; s++) nst_image_free(&pr->styles[s]);
    }
    memset(pr, 0, sizeof *pr);
}

static int prepare_colors(prepared *pr, const nst_image *content, const nst_image *styles, int n_styles,
                          nst_preserve_colors mode, nst_error *err) {
    memset(pr, 0, sizeof *pr);
    if (mode == NST_COLORS_NONE || mode == NST_COLORS_LUMINANCE_POST) {
        pr->content = *content;
        for (int s = 0; s < n_styles; s++) pr->styles[s] = styles[s];
        return NST_OK;
    }
    pr->owns = 1;
    int rc;
    if (mode == NST_COLORS_LUMINANCE) {
        // style on luminance only: Y in all channels, the styles' Y matched to the content's
        if ((rc = nst_color_luminance(&pr->content, content, NULL, err))) goto fail;
        for (int s = 0; s < n_styles; s++)
            if ((rc = nst_color_luminance(&pr->styles[s], &styles[s], content, err))) goto fail;
    } else if (mode == NST_COLORS_HISTOGRAM) {
        if ((rc = nst_image_resize(&pr->content, content, content->w, content->h, err))) goto fail;
        for (int s = 0; s < n_styles; s++)
            if ((rc = nst_color_match(&pr->styles[s], &styles[s], content, err))) goto fail;
    } else {
        rc = nsti_fail(err, NST_ERR_USAGE, "unknown colour preservation mode %d", (int)mode);
        goto fail;
    }
    return NST_OK;
fail:
    prepared_free(pr);
    return rc;
}

// After the optimization: the content's chroma back, for the luminance modes.
static int finish_colors(nst_image *out, const nst_image *content, nst_preserve_colors mode, nst_error *err) {
    if (mode != NST_COLORS_LUMINANCE && mode != NST_COLORS_LUMINANCE_POST) return NST_OK;
    if (!out->data) return NST_OK;
    nst_image fitted = {0}, kept = {0};
    int rc = nst_image_resize(&fitted, content, out->w, out->h, err);
    if (!rc) rc = nst_color_keep_chroma(&kept, out, &fitted, err);
    nst_image_free(&fitted);
    if (rc) return rc;
    nst_image_free(out);
    *out = kept;
    return NST_OK;
}

int nst_transfer(const nst_model *m, const nst_image *content, const nst_image *styles,
                 int n_styles, const nst_params *p, nst_image *out, nst_error *err) {
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nsti_fail(err, NST_ERR_USAGE, "between 1 and %d style images are needed, got %d", NST_MAX_STYLES, n_styles);
    prepared pr;
    int rc = prepare_colors(&pr, content, styles, n_styles, p->preserve_colors, err);
    if (rc) return rc;
    // the luminance mode optimizes Y alone: so are the temporal targets
    nst_params q = *p;
    nst_image luma[NST_MAX_TEMPORAL] = {{0}};
    if (p->preserve_colors == NST_COLORS_LUMINANCE && p->n_temporal > 0 && p->n_temporal <= NST_MAX_TEMPORAL &&
        p->temporal_targets) {
        for (int j = 0; j < p->n_temporal && !rc; j++) rc = nst_color_luminance(&luma[j], &p->temporal_targets[j], NULL, err);
        q.temporal_targets = luma;
    }
    nsti_stage alone = {0, 0};
    if (!rc) rc = nsti_transfer_core(m, &pr.content, pr.styles, n_styles, &q, &alone, out, err);
    for (int j = 0; j < NST_MAX_TEMPORAL; j++) nst_image_free(&luma[j]);
    prepared_free(&pr);
    // the picture so far is kept on interruption, NaN and a failed checkpoint, so it gets its colours too
    if (nst_transfer_kept(rc, out)) {
        nst_error ferr;
        int frc = finish_colors(out, content, p->preserve_colors, &ferr);
        if (frc && rc == NST_OK) { if (err) *err = ferr; rc = frc; }
    }
    return rc;
}

int nst_transfer_kept(int status, const nst_image *out) {
    return out && out->data && nsti_status_keeps_picture(status);
}

// Progress across stages: iterations and optimization time count on from the previous
// stages, and each later stage's iteration 0 (the previous result, upsampled) is not
// reported again.
typedef struct stage_progress {
    const nst_params *outer;
    int offset, total;
    int skip_first;
    double time_offset;   // the earlier stages' optimization seconds (of this process)
    double last_time;     // the stage's time_s at its last report
} stage_progress;

static int on_stage_progress(const nst_progress *p, void *user) {
    stage_progress *sp = user;
    sp->last_time = p->time_s;
    if (sp->skip_first && p->iter == 0) return 0;
    nst_progress q = *p;
    q.iter = p->iter + sp->offset;
    q.iterations = sp->total;
    q.time_s = p->time_s + sp->time_offset;
    return sp->outer->progress(&q, sp->outer->progress_user);
}

// A later stage's start: the content at the new size plus the previous stage's
// stylization (its result minus its content), upsampled. Upsampling the result itself
// blurs the content's detail, which the fine stage then spends its iterations
// restoring (measured: relu4_2's content error jumped from 0.40 to 0.74 at the switch
// and was 0.44 after 60 more iterations, against 0.37 for a single stage).
static int upsample_stylization(nst_image *start, const nst_image *prev, const nst_image *prev_content,
                                const nst_image *content, nst_error *err) {
    nst_image up = {0}, up_c = {0};
    nst_image_free(start);
    int rc = nst_image_resize(&up, prev, content->w, content->h, err);
    if (!rc) rc = nst_image_resize(&up_c, prev_content, content->w, content->h, err);
    if (!rc) rc = nst_image_resize(start, content, content->w, content->h, err);   // a copy
    if (!rc) {
        size_t n = (size_t)3 * content->w * content->h;
        for (size_t i = 0; i < n; i++) {
            float v = content->data[i] + (up.data[i] - up_c.data[i]);
            start->data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
    }
    nst_image_free(&up);
    nst_image_free(&up_c);
    return rc;
}

int nst_transfer_scales(const nst_model *m, const nst_image *content, const nst_image *styles,
                        int n_styles, const int *scales, const int *iterations, int n_scales,
                        float style_scale, const nst_params *p, nst_image *out, nst_error *err) {
    if (n_scales < 1) return nsti_fail(err, NST_ERR_USAGE, "no scales given");
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nsti_fail(err, NST_ERR_USAGE, "between 1 and %d style images are needed, got %d", NST_MAX_STYLES, n_styles);
    if (!(style_scale > 0) || !isfinite(style_scale)) return nsti_fail(err, NST_ERR_USAGE, "style scale must be positive");
    int total = 0;
    for (int k = 0; k < n_scales; k++) {
        if (scales[k] < 16 || (k > 0 && scales[k] < scales[k - 1]))
            return nsti_fail(err, NST_ERR_USAGE, "scales must be at least 16 and ascending (got %d after %d)",
                            scales[k], k ? scales[k - 1] : 0);
        if (iterations[k] < 0) return nsti_fail(err, NST_ERR_USAGE, "iterations must be >= 0");
        total += iterations[k];
    }
    int first = 0, done = 0;   // resuming: the checkpoint's stage, and the iterations before it
    if (p->resume) {
        int rc = nsti_checkpoint_stage(p->resume, &first, err);
        if (rc) return rc;
        if (first >= n_scales)
            return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint is of stage %d; this run has %d stages", p->resume,
                            first + 1, n_scales);
        for (int k = 0; k < first; k++) done += iterations[k];
    }
    if (p->max_memory) {   // the last stage is the largest: refuse before any stage runs
        int w, h, sw[NST_MAX_STYLES], sh[NST_MAX_STYLES];
        int last = scales[n_scales - 1], style_size = nst_style_size(last, style_scale);
        nst_fit_size(content->w, content->h, last, &w, &h);
        for (int s = 0; s < n_styles; s++) nst_fit_size(styles[s].w, styles[s].h, style_size, &sw[s], &sh[s]);
        size_t need = nst_estimate_bytes(m, p, w, h, sw, sh, n_styles);
        if (need > p->max_memory)
            return nsti_fail(err, NST_ERR_LIMIT, "a %dx%d run needs about %.1f GiB, more than the limit of %.1f GiB (--max-memory)",
                            w, h, need / 1073741824.0, p->max_memory / 1073741824.0);
    }
    prepared pr;
    int rc = prepare_colors(&pr, content, styles, n_styles, p->preserve_colors, err);
    if (rc) return rc;
    nst_image prev = {0}, c = {0}, prev_c = {0}, start = {0};
    nst_image st[NST_MAX_STYLES];
    memset(st, 0, sizeof st);
    double time_offset = 0;
    for (int k = first; k < n_scales && rc == NST_OK; k++) {
        nst_params q = *p;
        q.preserve_colors = NST_COLORS_NONE;   // prepared once above, finished once below
        q.iterations = iterations[k];
        q.resume = k == first ? p->resume : NULL;
        stage_progress sp = {p, done, total, k > 0, time_offset, 0};
        if (p->progress) { q.progress = on_stage_progress; q.progress_user = &sp; }
        int style_size = nst_style_size(scales[k], style_scale);
        if ((rc = nst_image_fit(&c, &pr.content, scales[k], err))) break;
        if (k > first) {   // (a resumed stage starts from its checkpoint)
            if ((rc = upsample_stylization(&start, &prev, &prev_c, &c, err))) break;
            q.init = NST_INIT_IMAGE; q.init_image = &start; q.init_noise_blend = 0;
        }
        for (int s = 0; s < n_styles && !rc; s++) rc = nst_image_fit(&st[s], &pr.styles[s], style_size, err);
        nst_image result = {0};
        nsti_stage stage = {k, done};
        if (!rc) rc = nsti_transfer_core(m, &c, st, n_styles, &q, &stage, &result, err);
        nst_image_free(&prev_c);
        prev_c = c;
        memset(&c, 0, sizeof c);
        nst_image_free(&start);
        for (int s = 0; s < n_styles; s++) nst_image_free(&st[s]);
        nst_image_free(&prev);
        time_offset += sp.last_time;
        prev = result;   // the next stage starts here; on failure it is what we have
        done += iterations[k];
    }
    prepared_free(&pr);
    nst_image_free(&c); nst_image_free(&prev_c); nst_image_free(&start);
    *out = prev;
    if (nst_transfer_kept(rc, out)) {
        nst_error ferr;
        int frc = finish_colors(out, content, p->preserve_colors, &ferr);
        if (frc && rc == NST_OK) { if (err) *err = ferr; rc = frc; }
    }
    return rc;
}
