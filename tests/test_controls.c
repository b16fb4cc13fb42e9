// Artist controls at the library level: spatial masks (guided Gram matrices), the
// content mask, normalized gradients, coarse-to-fine stages, initialization.
#include "testlib.h"
#include "nst.h"
#include "model/model_api.h"
#include "transfer/objective.h"
#include "nn/backend.h"
#include "transfer/colorspace.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static nst_model *model;
static nst_image content, style_a, style_b;

static int load_all(void) {
    char path[1024];
    nst_error err;
    snprintf(path, sizeof path, "%s/models/vgg19-conv1_1-conv3_4.caffe.safetensors", nst_test_shared());
    if (nst_model_load(&model, path, &err)) { fprintf(stderr, "%s\n", err.msg); return 0; }
    const char *names[3] = {"tubingen.jpg", "starry_night.jpg", "seated-nude.jpg"};
    nst_image *dst[3] = {&content, &style_a, &style_b};
    for (int i = 0; i < 3; i++) {
        nst_image full = {0};
        snprintf(path, sizeof path, "%s/images/%s", nst_test_shared(), names[i]);
        if (nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err) || nst_image_fit(dst[i], &full, 64, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 0;
        }
        nst_image_free(&full);
    }
    return 1;
}

static void mean_rgb(const nst_image *img, int x0, int x1, double out[3]) {
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (int y = 0; y < img->h; y++)
            for (int x = x0; x < x1; x++) s += img->data[((size_t)c * img->h + y) * img->w + x];
        out[c] = s / ((double)img->h * (x1 - x0));
    }
}

static double dist3(const double a[3], const double b[3]) {
    return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// Two styles, each assigned to one half: each half takes on its own style's colours.
static void test_style_masks_assign_regions(void) {
    nst_image masks[2] = {{0}, {0}}, out = {0};
    nst_error err;
    for (int s = 0; s < 2; s++) {
        CHECK(nst_image_alloc(&masks[s], content.w, content.h, &err) == 0);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < content.h; y++)
                for (int x = 0; x < content.w; x++)
                    masks[s].data[((size_t)c * content.h + y) * content.w + x] = ((x < content.w / 2) == (s == 0)) ? 255 : 0;
    }
    nst_image styles[2] = {style_a, style_b};
    nst_params p;
    nst_params_default(&p);
    p.iterations = 60;
    p.content_weight = 0.01f;   // let style dominate so the regions show it clearly
    p.init = NST_INIT_NOISE;
    p.style_masks = masks;
    CHECKF(nst_transfer(model, &content, styles, 2, &p, &out, &err) == 0, "%s", err.msg);
    if (out.data) {
        double left[3], right[3], sa[3], sb[3];
        mean_rgb(&out, 0, out.w / 2 - 4, left);
        mean_rgb(&out, out.w / 2 + 4, out.w, right);
        mean_rgb(&style_a, 0, style_a.w, sa);
        mean_rgb(&style_b, 0, style_b.w, sb);
        CHECKF(dist3(left, sa) < dist3(left, sb), "left half %.0f,%.0f,%.0f is closer to style b", left[0], left[1], left[2]);
        CHECKF(dist3(right, sb) < dist3(right, sa), "right half %.0f,%.0f,%.0f is closer to style a", right[0], right[1], right[2]);
    }
    nst_image_free(&out);
    nst_image_free(&masks[0]);
    nst_image_free(&masks[1]);
}

static double last_content_term;
static int record_content(const nst_progress *pr, void *user) {
    (void)user;
    last_content_term = nst_progress_term(pr, "content");
    return 0;
}

// A black content mask switches the content loss off.
static void test_content_mask_weights_content(void) {
    nst_image mask = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&mask, 7, 5, &err) == 0);   // any size: resized to the content
    memset(mask.data, 0, sizeof(float) * 3 * 7 * 5);
    nst_params p;
    nst_params_default(&p);
    p.iterations = 3;
    p.content_mask = &mask;
    p.progress = record_content;
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0);
    CHECKF(last_content_term == 0, "content term %g with a black mask", last_content_term);
    for (size_t i = 0; i < (size_t)3 * 7 * 5; i++) mask.data[i] = 255;
    nst_image_free(&out);
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0);
    CHECKF(last_content_term > 0, "content term %g with a white mask", last_content_term);
    nst_image_free(&out);
    nst_image_free(&mask);
}

// With normalized gradients a single content term's gradient keeps its direction and
// changes its length (backpropagation is linear in the layer's gradient).
static void test_normalized_gradients_rescale_each_term(void) {
    nst_params p;
    nst_params_default(&p);
    p.style_weight = 0;
    p.tv_weight = 0;
    snprintf(p.style_layers, sizeof p.style_layers, "relu1_1");
    size_t n = (size_t)3 * content.w * content.h;
    float *x = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float)), *g[2];
    nsti_rgb_to_model(c, content.data, (size_t)content.w * content.h, &model->weights.norm);
    for (size_t i = 0; i < n; i++) x[i] = c[i] + 10.0f * sinf((float)i);
    const float *styles[1] = {c};
    float blend = 1;
    for (int k = 0; k < 2; k++) {
        nsti_objective obj;
        nst_error err;
        p.normalize_gradients = k;
        g[k] = malloc(n * sizeof(float));
        CHECK(nsti_objective_init(&obj, &model->weights, &p, c, content.w, content.h, styles, &content.w, &content.h,
                                 1, &blend, &nsti_backend_blas, 0, &err) == 0);
        nsti_objective_eval(&obj, x, g[k]);
        nsti_objective_free(&obj);
    }
    double dot = 0, n0 = 0, n1 = 0;
    for (size_t i = 0; i < n; i++) { dot += (double)g[0][i] * g[1][i]; n0 += (double)g[0][i] * g[0][i]; n1 += (double)g[1][i] * g[1][i]; }
    double cosine = dot / sqrt(n0 * n1), ratio = sqrt(n1 / n0);
    CHECKF(cosine > 0.99999, "cosine %.8f", cosine);
    CHECKF(fabs(ratio - 1) > 0.01, "normalization did not change the length (ratio %g)", ratio);
    free(x); free(c); free(g[0]); free(g[1]);
}

static int stage_iters[64], stage_count;
static int record_iters(const nst_progress *pr, void *user) {
    (void)user;
    if (stage_count < 64) stage_iters[stage_count++] = pr->iter;
    return 0;
}

// Coarse to fine: the requested final size, iterations counted across stages.
static void test_scales_give_final_size_and_count_on(void) {
    nst_image out = {0};
    nst_error err;
    nst_params p;
    nst_params_default(&p);
    p.progress = record_iters;
    int scales[2] = {32, 48}, iters[2] = {4, 3};
    stage_count = 0;
    CHECKF(nst_transfer_scales(model, &content, &style_a, 1, scales, iters, 2, 1.0f, &p, &out, &err) == 0, "%s", err.msg);
    CHECKF(out.w == 48 && out.h == 36, "final size %dx%d", out.w, out.h);
    CHECKF(stage_count == 8, "%d progress reports", stage_count);
    for (int i = 0; i < stage_count; i++) CHECKF(stage_iters[i] == i, "report %d says iteration %d", i, stage_iters[i]);
    nst_image_free(&out);
    int bad[2] = {48, 32};
    CHECK(nst_transfer_scales(model, &content, &style_a, 1, bad, iters, 2, 1.0f, &p, &out, &err) == NST_ERR_USAGE);
}

// The fine stage starts from the content at its size plus the coarse stage's
// stylization upsampled: with no iterations anywhere, the result is the content
// itself (upsampling the coarse result instead would blur it: the check fails then).
static void test_fine_stage_starts_from_content_plus_stylization(void) {
    nst_image out = {0}, fitted = {0};
    nst_error err;
    nst_params p;
    nst_params_default(&p);
    int scales[2] = {16, 48}, iters[2] = {0, 0};
    CHECKF(nst_transfer_scales(model, &content, &style_a, 1, scales, iters, 2, 1.0f, &p, &out, &err) == 0, "%s", err.msg);
    CHECK(nst_image_fit(&fitted, &content, 48, &err) == 0);
    double diff = 0;
    size_t n = (size_t)3 * fitted.w * fitted.h;
    for (size_t i = 0; out.data && out.w == fitted.w && out.h == fitted.h && i < n; i++) diff += fabs(out.data[i] - fitted.data[i]);
    diff /= (double)n;
    CHECKF(out.w == fitted.w && out.h == fitted.h && diff < 0.5, "%dx%d, mean difference %.3f levels from the content",
           out.w, out.h, diff);
    nst_image_free(&out);
    nst_image_free(&fitted);
}

// The default schedule: from 256 px up, half size with two thirds of the
// iterations, then full size; one stage below, with stages ONE, and in the presets
// that reproduce a recipe.
static void test_default_schedule(void) {
    nst_params p;
    nst_error err;
    nst_params_default(&p);
    int sc[2] = {0, 0}, it[2] = {0, 0};
    CHECKF(p.iterations == 150 && p.stages == NST_STAGES_AUTO, "iterations %d", p.iterations);
    CHECK(nst_schedule(&p, 512, sc, it) == 2 && sc[0] == 256 && sc[1] == 512 && it[0] == 100 && it[1] == 50);
    CHECK(nst_schedule(&p, 255, sc, it) == 1 && sc[0] == 255 && it[0] == 150);
    p.iterations = 1;
    CHECK(nst_schedule(&p, 1024, sc, it) == 1 && it[0] == 1);
    p.iterations = 301;
    CHECK(nst_schedule(&p, 1001, sc, it) == 2 && sc[0] == 500 && it[0] == 200 && it[1] == 101);
    p.stages = NST_STAGES_ONE;
    CHECK(nst_schedule(&p, 512, sc, it) == 1 && sc[0] == 512 && it[0] == 301);
    CHECK(nst_params_preset(&p, "default", &err) == 0 && p.stages == NST_STAGES_AUTO);
    CHECK(nst_params_preset(&p, "tutorial", &err) == 0 && p.stages == NST_STAGES_ONE);
    CHECK(nst_params_preset(&p, "default", &err) == 0 && nst_params_preset(&p, "gatys", &err) == 0 &&
          p.stages == NST_STAGES_ONE);
}

// L-BFGS's first step in the AUTO loss scale moves the picture by about a level where
// it moves most (it was 1e-3 of a level, below bf16's rounding: the run stalled).
static nst_image first_pictures[2];
static int keep_first_pictures(const nst_progress *pr, void *user) {
    (void)user;
    if (pr->iter < 2) {
        nst_error err;
        nst_image_free(&first_pictures[pr->iter]);
        nst_progress_image(pr, &first_pictures[pr->iter], &err);
    }
    return 0;
}

static void test_first_lbfgs_step_moves_a_level(void) {
    nst_image out = {0};
    nst_error err;
    nst_params p;
    nst_params_default(&p);
    p.iterations = 1;
    p.progress = keep_first_pictures;
    CHECKF(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0, "%s", err.msg);
    double most = 0;
    size_t n = (size_t)3 * content.w * content.h;
    for (size_t i = 0; first_pictures[0].data && first_pictures[1].data && i < n; i++)
        most = fmax(most, fabs(first_pictures[1].data[i] - first_pictures[0].data[i]));
    CHECKF(most >= 0.5, "the first step moved a value by at most %.4f levels", most);
    for (int k = 0; k < 2; k++) nst_image_free(&first_pictures[k]);
    nst_image_free(&out);
}

static double first_loss;
static int record_first(const nst_progress *pr, void *user) {
    (void)user;
    if (pr->iter == 0) first_loss = pr->loss;
    return 0;
}

// Starting points: the style picture, and noise blended into the content.
static void test_init_style_and_noise_blend(void) {
    nst_image out = {0};
    nst_error err;
    nst_params p;
    nst_params_default(&p);
    p.iterations = 0;
    p.progress = record_first;
    double l_content, l_style, l_blend;
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0);
    l_content = first_loss;
    nst_image_free(&out);
    p.init = NST_INIT_STYLE;
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0);
    l_style = first_loss;
    // starting from the style picture: its own Grams at full size vs resized ones differ
    // only slightly, so the style term is far below the content start's
    CHECKF(l_style != l_content, "init style gave the same start as content");
    nst_image_free(&out);
    p.init = NST_INIT_CONTENT;
    p.init_noise_blend = 0.5f;
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == 0);
    l_blend = first_loss;
    CHECKF(l_blend != l_content, "noise blend changed nothing");
    // the output of a zero-iteration run is the start: half content, half noise
    double diff = 0;
    for (size_t i = 0; i < (size_t)3 * out.w * out.h; i++) diff += fabs(out.data[i] - content.data[i]);
    diff /= 3.0 * out.w * out.h;
    CHECKF(diff > 20 && diff < 100, "mean |start - content| = %g", diff);
    nst_image_free(&out);
    p.init_noise_blend = 1.5f;
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == NST_ERR_USAGE);
}

static void test_memory_limit_refuses_before_starting(void) {
    nst_image out = {0};
    nst_error err;
    nst_params p;
    nst_params_default(&p);
    p.max_memory = 1 << 20;   // 1 MiB: nothing fits
    CHECK(nst_transfer(model, &content, &style_a, 1, &p, &out, &err) == NST_ERR_LIMIT);
    CHECKF(strstr(err.msg, "GiB") && strstr(err.msg, "--max-memory"), "%s", err.msg);
    CHECK(out.data == NULL);
    int sw[2] = {256, 2048}, sh[2] = {192, 1536};
    size_t small = nst_estimate_bytes(model, &p, 256, 192, sw, sh, 1);
    size_t big = nst_estimate_bytes(model, &p, 2048, 1536, sw + 1, sh + 1, 1);
    CHECKF(big > 16 * small && small > 0, "estimates %zu and %zu", small, big);   // ~ pixels once activations dominate
    // a style picture far larger than the content sets the peak while its network runs
    size_t big_style = nst_estimate_bytes(model, &p, 256, 192, sw + 1, sh + 1, 1);
    CHECKF(big_style > 8 * small, "a 2048x1536 style: %zu, a 256x192 one: %zu", big_style, small);
    // and the limit counts it: a limit that fits the small style refuses the large one
    nst_image large = {0};
    CHECK(nst_image_resize(&large, &style_a, 1024, 1024, &err) == 0);
    int cw[1] = {content.w}, ch[1] = {content.h}, lw[1] = {1024}, lh[1] = {1024};
    p.max_memory = nst_estimate_bytes(model, &p, content.w, content.h, cw, ch, 1) + (1 << 20);
    CHECKF(nst_estimate_bytes(model, &p, content.w, content.h, lw, lh, 1) > p.max_memory, "no difference");
    CHECK(nst_transfer(model, &content, &large, 1, &p, &out, &err) == NST_ERR_LIMIT);
    nst_image_free(&large);
    // with stages, the last (largest) one is checked before the first runs: a limit that
    // fits a 32-px stage but not the 256-px one refuses at once, naming the large size
    int scales[2] = {32, 256}, iters[2] = {1, 1}, w256, h256;
    nst_fit_size(content.w, content.h, 256, &w256, &h256);
    int s256w, s256h;
    nst_fit_size(style_a.w, style_a.h, 256, &s256w, &s256h);
    p.max_memory = nst_estimate_bytes(model, &p, w256, h256, &s256w, &s256h, 1) - 1;
    first_loss = -1;
    p.progress = record_first;
    char want[64];
    snprintf(want, sizeof want, "a %dx%d run", w256, h256);
    CHECK(nst_transfer_scales(model, &content, &style_a, 1, scales, iters, 2, 1.0f, &p, &out, &err) == NST_ERR_LIMIT);
    CHECKF(strstr(err.msg, want) && first_loss == -1, "%s (first loss %g)", err.msg, first_loss);
    CHECK(out.data == NULL);
}

// Presets set their recipe; "default" puts every recipe field back and leaves the
// rest (threads, memory limit, seed, checkpoints, progress) as the caller set it.
static int noop_progress(const nst_progress *pr, void *user) { (void)pr; (void)user; return 0; }

static void test_presets(void) {
    nst_params p, want;
    nst_error err;
    nst_params_default(&p);
    p.threads = 1; p.max_memory = 123456; p.seed = 9; p.checkpoint = "run.ckpt"; p.checkpoint_every = 7;
    p.progress = noop_progress; p.backend = NST_BACKEND_REF;
    want = p;
    CHECK(nst_params_preset(&p, "tutorial", &err) == 0);
    CHECK(p.iterations == 2000 && p.optimizer == NST_OPTIMIZER_ADAM && p.lr == 0.003f && p.style_weight == 1e6f &&
          p.raw_gram == 1 && !strcmp(p.content_layers, "relu4_2") && !strcmp(p.style_layer_weights, "1,0.75,0.2,0.2,0.2") &&
          p.loss_scale == NST_LOSS_SCALE_RAW);
    CHECK(nst_params_preset(&p, "gatys", &err) == 0);
    CHECK(p.optimizer == NST_OPTIMIZER_LBFGS && p.avg_pool == 1 && p.init == NST_INIT_NOISE && p.raw_gram == 0 &&
          !strcmp(p.style_layers, "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1") && !p.style_layer_weights[0] &&
          p.loss_scale == NST_LOSS_SCALE_RAW && p.style_weight == 1e4f && p.content_weight == 1);
    CHECK(nst_params_preset(&p, "default", &err) == 0);
    CHECKF(memcmp(&p, &want, sizeof p) == 0, "after \"default\": threads %d, max_memory %llu, checkpoint %s, "
           "iterations %d", p.threads, p.max_memory, p.checkpoint ? p.checkpoint : "(none)", p.iterations);
    CHECK(nst_params_preset(&p, "picasso", &err) == NST_ERR_USAGE && strstr(err.msg, "picasso"));
}

int main(void) {
    if (!load_all()) { printf("RESULT passed=0 failed=1\n"); return 1; }
    TEST(test_style_masks_assign_regions);
    TEST(test_content_mask_weights_content);
    TEST(test_normalized_gradients_rescale_each_term);
    TEST(test_scales_give_final_size_and_count_on);
    TEST(test_fine_stage_starts_from_content_plus_stylization);
    TEST(test_default_schedule);
    TEST(test_first_lbfgs_step_moves_a_level);
    TEST(test_init_style_and_noise_blend);
    TEST(test_memory_limit_refuses_before_starting);
    TEST(test_presets);
    nst_image_free(&content); nst_image_free(&style_a); nst_image_free(&style_b);
    nst_model_free(model);
    return nst_test_summary();
}
