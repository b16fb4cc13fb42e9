// The temporal term of video runs (Ruder et al. 2016): its value and gradient against
// PyTorch (tests/fixtures/make_fixtures.py, temporal.safetensors) and by finite
// differences, and its effect in a whole run: the picture is pulled to the target
// where the mask is white and left alone where it is black.
#include "testlib.h"
#include "model/safetensors.h"
#include "transfer/objective.h"
#include "transfer/terms.h"
#include "nst.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nst_test_program program;

static float *get(nsti_st_file *st, const char *key, int64_t *numel) {
    float *d = NULL;
    int64_t shape[8], n = 1;
    int nd;
    nst_error err;
    if (nsti_st_read_f32(st, key, &d, shape, &nd, &err)) { CHECKF(0, "%s", err.msg); return NULL; }
    for (int i = 0; i < nd; i++) n *= shape[i];
    if (numel) *numel = n;
    return d;
}

// A temporal term on an objective that has only the picture's size: what eval_image reads.
static void fake_objective(nsti_objective *obj, nsti_term *t, int w, int h, float weight) {
    memset(obj, 0, sizeof *obj);
    memset(t, 0, sizeof *t);
    obj->net.h[0] = h;
    obj->net.w[0] = w;
    obj->auto_scale = 1;
    t->kind = &nsti_term_temporal;
    t->weight = weight;
}

static float *copy_of(const float *src, size_t n) {
    float *d = malloc(n * sizeof(float));
    if (d) memcpy(d, src, n * sizeof(float));
    return d;
}

static void test_value_and_gradient_match_pytorch(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/temporal.safetensors", nst_test_fixtures());
    nsti_st_file *st;
    nst_error err;
    if (nsti_st_open(&st, path, &err)) { CHECKF(0, "%s (make fixtures)", err.msg); return; }
    int64_t nu, nt, nm;
    float *u = get(st, "u", &nu), *targets = get(st, "targets", &nt), *masks = get(st, "masks", &nm);
    float *meta = get(st, "meta", NULL), *loss = get(st, "loss", NULL), *grad = get(st, "grad", NULL);
    if (u && targets && masks && meta && loss && grad) {
        int n = (int)meta[1], h = 23, w = 31;
        size_t npix = (size_t)w * h;
        CHECK(nu == (int64_t)(3 * npix) && nt == n * nu && nm == n * (int64_t)npix);
        nsti_objective obj;
        nsti_term t;
        fake_objective(&obj, &t, w, h, meta[0]);
        float *tg[NST_MAX_TEMPORAL], *mk[NST_MAX_TEMPORAL];
        for (int j = 0; j < n; j++) { tg[j] = copy_of(targets + j * 3 * npix, 3 * npix); mk[j] = copy_of(masks + j * npix, npix); }
        CHECK(nsti_term_temporal_set(&t, tg, mk, n) == NST_OK);
        float *g = calloc(3 * npix, sizeof(float));
        t.kind->eval_image(&t, &obj, u, g);
        float got = (float)t.last;
        nst_test_close("temporal loss", &got, loss, 1, 1e-5, 0);
        nst_test_close("temporal gradient", g, grad, (long)(3 * npix), 1e-5, 0);
        // a gradient added to what is there: twice gives double
        t.kind->eval_image(&t, &obj, u, g);
        for (size_t i = 0; i < 3 * npix; i++) g[i] *= 0.5f;
        nst_test_close("temporal gradient, added", g, grad, (long)(3 * npix), 1e-5, 0);
        free(g);
        nsti_term_free(&t);
    }
    free(u); free(targets); free(masks); free(meta); free(loss); free(grad);
    nsti_st_close(st);
}

// The gradient against central differences of the value (double precision inside).
static void test_gradient_by_finite_differences(void) {
    int w = 9, h = 7, n = 2;
    size_t npix = (size_t)w * h;
    unsigned s = 12345;
    float *u = malloc(3 * npix * sizeof(float)), *tg[2], *mk[2];
    for (int j = 0; j < n; j++) { tg[j] = malloc(3 * npix * sizeof(float)); mk[j] = malloc(npix * sizeof(float)); }
    for (size_t i = 0; i < 3 * npix; i++) {
        s = s * 1103515245u + 12345u; u[i] = (float)(s >> 16) / 65536.0f * 255.0f;
        for (int j = 0; j < n; j++) { s = s * 1103515245u + 12345u; tg[j][i] = (float)(s >> 16) / 65536.0f * 255.0f; }
    }
    for (size_t i = 0; i < npix; i++)
        for (int j = 0; j < n; j++) { s = s * 1103515245u + 12345u; mk[j][i] = (float)(s >> 16) / 65536.0f; }
    nsti_objective obj;
    nsti_term t;
    fake_objective(&obj, &t, w, h, 40.0f);
    CHECK(nsti_term_temporal_set(&t, tg, mk, n) == NST_OK);
    float *g = calloc(3 * npix, sizeof(float)), *scratch = calloc(3 * npix, sizeof(float));
    t.kind->eval_image(&t, &obj, u, g);
    double worst = 0, largest = 0;
    for (size_t i = 0; i < 3 * npix; i += 5) {
        float keep = u[i], eps = 0.5f;
        u[i] = keep + eps; t.kind->eval_image(&t, &obj, u, scratch); double up = t.last;
        u[i] = keep - eps; t.kind->eval_image(&t, &obj, u, scratch); double down = t.last;
        u[i] = keep;
        double fd = (up - down) / (2.0 * eps);
        worst = fmax(worst, fabs(fd - g[i]));
        largest = fmax(largest, fabs(g[i]));
    }
    CHECKF(largest > 0 && worst <= 1e-4 * largest, "finite differences: worst %g of %g", worst, largest);
    free(g); free(scratch); free(u);
    nsti_term_free(&t);
}

static int load_small(nst_image *out, const char *name, int size) {
    char path[1024];
    nst_image full = {0};
    nst_error err;
    snprintf(path, sizeof path, "%s/images/%s", nst_test_shared(), name);
    int rc = nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_fit(out, &full, size, &err);
    nst_image_free(&full);
    CHECKF(rc == 0, "%s", err.msg);
    return rc == 0;
}

typedef struct seen { int has_temporal; double temporal; } seen;
static int watch(const nst_progress *p, void *user) {
    seen *s = user;
    for (int t = 0; t < p->n_terms; t++)
        if (!strcmp(p->term_name[t], "temporal")) { s->has_temporal = 1; s->temporal = p->term[t]; }
    return 0;
}

// Mean absolute difference of channel values over the columns [x0, x1).
static double mean_diff(const nst_image *a, const nst_image *b, int x0, int x1) {
    double sum = 0;
    size_t count = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < a->h; y++)
            for (int x = x0; x < x1; x++) {
                size_t k = ((size_t)c * a->h + y) * a->w + x;
                sum += fabs(a->data[k] - b->data[k]);
                count++;
            }
    return sum / (double)count;
}

// A grey target, white on the left half of the mask: a strong temporal weight holds the
// left half to grey and leaves the right half to the style; weight 0 is the plain run.
static void test_run_follows_the_mask(void) {
    nst_model *m = NULL;
    nst_error err;
    nst_image content = {0}, style = {0}, target = {0}, mask = {0}, plain = {0}, held = {0}, zero = {0};
    if (nst_model_load(&m, program.model, &err)) { CHECKF(0, "%s", err.msg); return; }
    if (!load_small(&content, "tubingen.jpg", 48) || !load_small(&style, "starry_night_crop.png", 48)) goto done;
    CHECK(nst_image_alloc(&target, content.w, content.h, &err) == 0);
    CHECK(nst_image_alloc(&mask, content.w, content.h, &err) == 0);
    size_t npix = (size_t)content.w * content.h;
    for (size_t k = 0; k < 3 * npix; k++) {
        target.data[k] = 128.0f;
        mask.data[k] = (k % npix) % content.w < (size_t)content.w / 2 ? 255.0f : 0.0f;
    }
    nst_params p;
    nst_params_default(&p);
    p.iterations = 30;
    p.threads = 2;
    p.stages = NST_STAGES_ONE;
    seen a = {0}, b = {0}, c = {0};
    p.progress = watch; p.progress_user = &a;
    CHECKF(nst_transfer(m, &content, &style, 1, &p, &plain, &err) == 0, "%s", err.msg);
    CHECK(!a.has_temporal);   // the term is listed only in runs that have it
    p.temporal_weight = 1e4f; p.n_temporal = 1; p.temporal_targets = &target; p.temporal_masks = &mask;
    p.progress_user = &b;
    CHECKF(nst_transfer(m, &content, &style, 1, &p, &held, &err) == 0, "%s", err.msg);
    CHECK(b.has_temporal && b.temporal > 0);
    if (held.data && plain.data) {
        int half = content.w / 2;
        double left = mean_diff(&held, &target, 0, half - 2), right = mean_diff(&held, &target, half + 2, content.w);
        double plain_left = mean_diff(&plain, &target, 0, half - 2);
        CHECKF(left < 10 && left < 0.25 * plain_left, "left half %.2f from the target (%.2f without the term)", left,
               plain_left);
        CHECKF(right > 3 * left, "right half %.2f from the target, left %.2f", right, left);
    }
    p.temporal_weight = 0;   // listed, but weight 0: the plain run, bit for bit
    p.progress_user = &c;
    CHECKF(nst_transfer(m, &content, &style, 1, &p, &zero, &err) == 0, "%s", err.msg);
    CHECK(!c.has_temporal);
    CHECK(zero.data && plain.data && memcmp(zero.data, plain.data, 3 * npix * sizeof(float)) == 0);
done:
    nst_image_free(&content); nst_image_free(&style); nst_image_free(&target); nst_image_free(&mask);
    nst_image_free(&plain); nst_image_free(&held); nst_image_free(&zero);
    nst_model_free(m);
}

static void test_bad_requests_refused(void) {
    nst_model *m = NULL;
    nst_error err;
    nst_image content = {0}, style = {0}, out = {0};
    if (nst_model_load(&m, program.model, &err)) { CHECKF(0, "%s", err.msg); return; }
    if (nst_image_alloc(&content, 24, 24, &err) || nst_image_alloc(&style, 24, 24, &err)) { CHECK(0); goto done; }
    nst_params p;
    nst_params_default(&p);
    p.iterations = 1;
    p.temporal_weight = -1;
    CHECK(nst_transfer(m, &content, &style, 1, &p, &out, &err) == NST_ERR_USAGE && strstr(err.msg, "temporal weight"));
    p.temporal_weight = NAN;
    CHECK(nst_transfer(m, &content, &style, 1, &p, &out, &err) == NST_ERR_USAGE);
    p.temporal_weight = 1;
    p.n_temporal = 1;   // no targets
    CHECK(nst_transfer(m, &content, &style, 1, &p, &out, &err) == NST_ERR_USAGE && strstr(err.msg, "temporal targets"));
    p.temporal_targets = &content;
    p.n_temporal = NST_MAX_TEMPORAL + 1;
    CHECK(nst_transfer(m, &content, &style, 1, &p, &out, &err) == NST_ERR_USAGE);
    nst_image empty = {0};
    p.n_temporal = 1;
    p.temporal_targets = &empty;
    CHECK(nst_transfer(m, &content, &style, 1, &p, &out, &err) == NST_ERR_USAGE && strstr(err.msg, "empty"));
    CHECK(out.data == NULL);
done:
    nst_image_free(&content); nst_image_free(&style); nst_image_free(&out);
    nst_model_free(m);
}

int main(void) {
    if (nst_test_program_init(&program, "nst_temporal")) return 1;
    setenv("OMP_WAIT_POLICY", "passive", 0);
    TEST(test_value_and_gradient_match_pytorch);
    TEST(test_gradient_by_finite_differences);
    TEST(test_run_follows_the_mask);
    TEST(test_bad_requests_refused);
    nst_test_program_done(&program);
    return nst_test_summary();
}
