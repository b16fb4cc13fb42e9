// The artist controls of the `nst` program, each shown by its effect: colour
// preservation, coarse to fine, initialization, style blending, masks, the memory
// limit and --config with the OUTPUT.json record. Small pictures (made here from
// the shared images), the partial model, a few iterations.
#include "testlib.h"
#include "nst.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static nst_test_program program;
static const char *tmp, *nst, *model;   // program's
static char content[512], style_a[512], style_b[512], common[2048];
static char out_text[8192];

// Runs `nst ARGS` with stdout and stderr captured into out_text; returns the exit code.
static int run(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", nst, args);
    return nst_test_shell(cmd, tmp, out_text, sizeof out_text);
}

// Runs nst with the common options (model, content, threads, --quiet) and more.
static int run_common(const char *fmt, const char *more) {
    char args[8192];
    snprintf(args, sizeof args, "%s ", common);
    size_t len = strlen(args);
    snprintf(args + len, sizeof args - len, fmt, more);
    return run(args);
}

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

static int count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmp, name); }

static int same_bytes(const char *a, const char *b) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

static int load(nst_image *img, const char *path) {
    nst_error err;
    int ok = nst_image_load(img, path, NST_DEFAULT_MAX_PIXELS, &err) == 0;
    CHECKF(ok, "%s", err.msg);
    return ok;
}

// The log of a run: iteration numbers and loss terms, at most 256 lines.
typedef struct run_log {
    int n, iter[256];
    double loss[256], content[256], style[256];
} run_log;

static int read_log(run_log *l, const char *path) {
    FILE *f = fopen(path, "r");
    char line[512];
    l->n = 0;
    if (!f) { CHECKF(0, "no log %s", path); return 0; }
    while (l->n < 256 && fgets(line, sizeof line, f)) {
        double t, tv;
        int k = l->n;
        if (sscanf(line, "{\"iter\":%d,\"time_s\":%lf,\"loss\":%lf,\"content\":%lf,\"style\":%lf,\"tv\":%lf}",
                   &l->iter[k], &t, &l->loss[k], &l->content[k], &l->style[k], &tv) != 6) {
            CHECKF(0, "bad log line: %s", line);
            break;
        }
        l->n++;
    }
    fclose(f);
    return l->n;
}

// JPEG's YCbCr (BT.601, full range) of pixel i.
static void ycbcr(const nst_image *img, size_t i, double *y, double *cb, double *cr) {
    size_t n = (size_t)img->w * img->h;
    double r = img->data[i], g = img->data[n + i], b = img->data[2 * n + i];
    *y = 0.299 * r + 0.587 * g + 0.114 * b;
    *cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    *cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
}

// The content picture as the program sees it at --size `size`.
static int content_at(nst_image *dst, int size) {
    nst_image full = {0};
    nst_error err;
    int ok = load(&full, content) && nst_image_fit(dst, &full, size, &err) == 0;
    nst_image_free(&full);
    return ok;
}

// Chroma of out against the content's: the largest difference over the pixels that
// saving did not clip (all channels inside 1..254), the share of such pixels, and
// the mean difference over all pixels.
static void chroma_diff(const nst_image *out, const nst_image *ref, double *worst, double *unclipped, double *mean) {
    size_t n = (size_t)out->w * out->h, kept = 0;
    double sum = 0;
    *worst = 0;
    for (size_t i = 0; i < n; i++) {
        double y, cb, cr, yr, cbr, crr;
        ycbcr(out, i, &y, &cb, &cr);
        ycbcr(ref, i, &yr, &cbr, &crr);
        double d = fmax(fabs(cb - cbr), fabs(cr - crr));
        sum += d;
        int clipped = 0;
        for (int c = 0; c < 3; c++) clipped |= out->data[c * n + i] < 1 || out->data[c * n + i] > 254;
        if (!clipped) { kept++; *worst = fmax(*worst, d); }
    }
    *unclipped = (double)kept / n;
    *mean = sum / n;
}

// ---- Colour preservation -------------------------------------------------------

static void check_chroma_kept(const char *mode) {
    char out[300], more[400];
    path_of(out, sizeof out, "colors.png");
    snprintf(more, sizeof more, "--size 64 --iterations 10 --preserve-colors %s -o %s", mode, out);
    CHECKF(run_common("%s", more) == 0, "%s: %s", mode, out_text);
    nst_image img = {0}, ref = {0};
    if (load(&img, out) && content_at(&ref, 64)) {
        CHECKF(img.w == ref.w && img.h == ref.h, "%s: %dx%d, content %dx%d", mode, img.w, img.h, ref.w, ref.h);
        double worst, unclipped, mean;
        chroma_diff(&img, &ref, &worst, &unclipped, &mean);
        CHECKF(worst <= 1.5, "%s: chroma differs from the content's by %.2f levels", mode, worst);
        CHECKF(unclipped >= 0.9, "%s: only %.0f%% of the pixels unclipped", mode, 100 * unclipped);
        // and the style did change the picture: its luminance moved
        size_t n = (size_t)img.w * img.h;
        double dy = 0, y, cb, cr, yr, cbr, crr;
        for (size_t i = 0; i < n; i++) {
            ycbcr(&img, i, &y, &cb, &cr);
            ycbcr(&ref, i, &yr, &cbr, &crr);
            dy += fabs(y - yr);
        }
        CHECKF(dy / n > 2, "%s: the luminance hardly changed (%.2f levels on average)", mode, dy / n);
    }
    nst_image_free(&img);
    nst_image_free(&ref);
}

static void test_preserve_colors_luminance_post(void) { check_chroma_kept("luminance-post"); }
static void test_preserve_colors_luminance(void) { check_chroma_kept("luminance"); }

// Without preservation the same run takes on the style's colours: the check above
// would fail.
static void test_preserve_colors_none_changes_chroma(void) {
    char out[300], more[400];
    path_of(out, sizeof out, "colors_none.png");
    snprintf(more, sizeof more, "--size 64 --iterations 10 --preserve-colors none -o %s", out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    nst_image img = {0}, ref = {0};
    if (load(&img, out) && content_at(&ref, 64)) {
        double worst, unclipped, mean;
        chroma_diff(&img, &ref, &worst, &unclipped, &mean);
        CHECKF(worst > 5 && mean > 1.5, "chroma moved by at most %.2f (mean %.2f) without preservation", worst, mean);
    }
    nst_image_free(&img);
    nst_image_free(&ref);
}

static void test_preserve_colors_histogram(void) {
    char none[300], hist[300], more[400];
    path_of(none, sizeof none, "hist_none.png");
    path_of(hist, sizeof hist, "hist.png");
    snprintf(more, sizeof more, "--size 64 --iterations 5 -o %s", none);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 64 --iterations 5 --preserve-colors histogram -o %s", hist);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    CHECK(exists(hist) && !same_bytes(none, hist));
    CHECKF(run_common("%s", "--size 64 --preserve-colors sepia -o x.png") == 2 && strstr(out_text, "--preserve-colors"),
           "%s", out_text);
}

// ---- Coarse to fine ----------------------------------------------------------------

static void test_scales_final_size_and_continuous_log(void) {
    char out[300], log[300], frame[300], s32[300], more[1200];
    path_of(out, sizeof out, "scales.png");
    path_of(log, sizeof log, "scales.jsonl");
    path_of(frame, sizeof frame, "scales-iter0005.png");
    path_of(s32, sizeof s32, "plain32.png");
    snprintf(more, sizeof more, "--scales 32,64 --iterations 5,5 --save-every 5 --log %s -o %s", log, out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    nst_image img = {0};
    if (load(&img, out)) CHECKF(img.w == 64 && img.h == 48, "the result is %dx%d, not 64x48", img.w, img.h);
    nst_image_free(&img);
    run_log l;
    read_log(&l, log);
    CHECKF(l.n == 11, "%d log lines, want 11 (iterations 0..10)", l.n);
    for (int k = 0; k < l.n; k++) CHECKF(l.iter[k] == k, "line %d is iteration %d", k, l.iter[k]);
    // stage 1 is the plain run at 32 px: the same losses, and the frame at iteration 5
    // is its result
    char plain_log[300];
    path_of(plain_log, sizeof plain_log, "plain32.jsonl");
    snprintf(more, sizeof more, "--size 32 --iterations 5 --log %s -o %s", plain_log, s32);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    run_log p;
    read_log(&p, plain_log);
    CHECKF(p.n == 6, "%d lines in the plain log", p.n);
    for (int k = 0; k < p.n && k < l.n; k++)
        CHECKF(p.loss[k] == l.loss[k], "iteration %d: loss %.9g in stage 1, %.9g at 32 px", k, l.loss[k], p.loss[k]);
    CHECKF(same_bytes(frame, s32), "the picture at iteration 5 is not stage 1's result");
    // stage 2 starts from stage 1's result: its first loss is below what a fresh start at
    // 64 px has after one iteration
    char fresh_log[300];
    path_of(fresh_log, sizeof fresh_log, "fresh64.jsonl");
    snprintf(more, sizeof more, "--size 64 --iterations 1 --log %s -o %s/fresh64.png", fresh_log, tmp);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    run_log f;
    read_log(&f, fresh_log);
    CHECKF(f.n == 2 && l.n == 11 && l.loss[6] < f.loss[1], "stage 2's first loss %g, a fresh start's %g",
           l.n == 11 ? l.loss[6] : -1.0, f.n == 2 ? f.loss[1] : -1.0);
}

// The pictures of a run whose picture grows: the animation's frames all have the
// result's size, the contact sheet its height, the plot counts on across the stages.
static void test_scales_with_animation_plot_and_sheet(void) {
    char out[300], gif[300], svg[300], sheet[300], more[2000];
    path_of(out, sizeof out, "grow.png");
    path_of(gif, sizeof gif, "grow.gif");
    path_of(svg, sizeof svg, "grow.svg");
    path_of(sheet, sizeof sheet, "grow_sheet.png");
    snprintf(more, sizeof more, "--scales 32,64 --iterations 3,3 --animate %s --animate-every 1 --plot %s "
             "--contact-sheet %s -o %s", gif, svg, sheet, out);
    int code = run_common("%s", more);
    if (code == 2 && strstr(out_text, "giflib")) {
        printf("     (nst built without giflib: no --animate)\n");
        return;
    }
    CHECKF(code == 0, "%s", out_text);
    unsigned char head[10] = {0};
    FILE *f = fopen(gif, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f) fclose(f);
    CHECKF(n == 10 && !memcmp(head, "GIF89a", 6), "%s is not a GIF", gif);
    int w = head[6] | head[7] << 8, h = head[8] | head[9] << 8;
    CHECKF(w == 64 && h == 48, "the animation is %dx%d, not the result's 64x48", w, h);
    nst_image img = {0};
    if (load(&img, sheet)) CHECKF(img.h > 48 && img.w > 3 * 48, "contact sheet %dx%d", img.w, img.h);
    nst_image_free(&img);
    CHECK(exists(svg));
}

// With no iterations in stage 2, the result is the content at 64 plus stage 1's
// stylization (its result minus the content at 32), upsampled.
static void test_scales_start_from_previous_result(void) {
    char out[300], s32[300], more[1200];
    path_of(out, sizeof out, "scales0.png");
    path_of(s32, sizeof s32, "plain32.png");   // made by the test above, else here
    if (!exists(s32)) {
        snprintf(more, sizeof more, "--size 32 --iterations 5 -o %s", s32);
        CHECKF(run_common("%s", more) == 0, "%s", out_text);
    }
    snprintf(more, sizeof more, "--scales 32,64 --iterations 5,0 -o %s", out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    nst_image got = {0}, small = {0}, up = {0}, ref = {0}, c32 = {0}, up_c = {0};
    nst_error err;
    if (load(&got, out) && load(&small, s32) && content_at(&ref, 64) && content_at(&c32, 32) &&
        nst_image_resize(&up, &small, got.w, got.h, &err) == 0 &&
        nst_image_resize(&up_c, &c32, got.w, got.h, &err) == 0) {
        // stage 2 starts from stage 1's unclamped values, the PNG holds them clamped, so
        // pixels next to clamped ones may differ: compare the typical difference
        double from_stage1 = 0, from_content = 0;
        size_t n = 3 * (size_t)got.w * got.h, close = 0;
        for (size_t i = 0; i < n; i++) {
            double want = ref.data[i] + up.data[i] - up_c.data[i];
            want = want < 0 ? 0 : want > 255 ? 255 : want;
            double d = fabs(got.data[i] - want);
            from_stage1 += d;
            close += d <= 1.5;
            from_content += fabs(got.data[i] - ref.data[i]);
        }
        from_stage1 /= n;
        from_content /= n;
        CHECKF(close >= 0.95 * n, "only %.1f%% of the values within 1.5 levels of the content plus stage 1's "
               "stylization upsampled", 100.0 * close / n);
        CHECKF(from_stage1 < 0.1 * from_content, "%.2f levels from the content plus stage 1's stylization, %.2f from "
               "the content", from_stage1, from_content);
    }
    nst_image_free(&got); nst_image_free(&small); nst_image_free(&up); nst_image_free(&ref);
    nst_image_free(&c32); nst_image_free(&up_c);
}

static void test_scales_and_iterations_usage(void) {
    struct { const char *args, *mention; } bad[] = {
        {"--scales 64,32 -o x.png", "--scales"},
        {"--scales 32,64 --iterations 1,2,3 -o x.png", "--iterations"},
        {"--size 128 --iterations 5,5 -o x.png", "--scales"},   // below 256: one stage
        {"--scales none --iterations 5,5 -o x.png", "--scales"},
        {"--scales auto --iterations 5,5,5 -o x.png", "--iterations"},
        {"--scales some -o x.png", "--scales"},
        {"--scales 8 -o x.png", "--scales"},
        {"--scales 32,,64 -o x.png", "--scales"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int code = run_common("%s", bad[i].args);
        CHECKF(code == 2 && count_lines(out_text) == 1 && strstr(out_text, bad[i].mention), "[%s] exit %d: %s",
               bad[i].args, code, out_text);
    }
}

// ---- Initialization ----------------------------------------------------------------

static void test_init_style_differs_from_content(void) {
    char a[300], b[300], la[300], lb[300], more[1200];
    path_of(a, sizeof a, "init_content.png");
    path_of(b, sizeof b, "init_style.png");
    path_of(la, sizeof la, "init_content.jsonl");
    path_of(lb, sizeof lb, "init_style.jsonl");
    snprintf(more, sizeof more, "--size 48 --iterations 3 --init content --log %s -o %s", la, a);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 48 --iterations 3 --init style --log %s -o %s", lb, b);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    CHECK(!same_bytes(a, b));
    run_log ca, cb;
    if (read_log(&ca, la) && read_log(&cb, lb)) {
        CHECKF(ca.content[0] == 0, "from the content, the content term starts at %g", ca.content[0]);
        CHECKF(cb.content[0] > 0, "from the style, the content term starts at %g", cb.content[0]);
        // the style picture starts closer to its own Gram statistics
        CHECKF(cb.style[0] < ca.style[0], "style term at the start: %g from the style, %g from the content",
               cb.style[0], ca.style[0]);
    }
}

static void test_init_noise_blend(void) {
    char a[300], b[300], c[300], more[1200];
    path_of(a, sizeof a, "noise.png");
    path_of(b, sizeof b, "blend1.png");
    path_of(c, sizeof c, "blend_half.png");
    snprintf(more, sizeof more, "--size 48 --iterations 3 --init noise --seed 3 -o %s", a);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 48 --iterations 3 --init content --init-noise-blend 1 --seed 3 -o %s", b);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    CHECKF(same_bytes(a, b), "--init-noise-blend 1 is not --init noise");
    // half noise, half content: content term between the two
    char la[300], lc[300];
    path_of(la, sizeof la, "blend0.jsonl");
    path_of(lc, sizeof lc, "blend_half.jsonl");
    snprintf(more, sizeof more, "--size 48 --iterations 0 --init content --init-noise-blend 0.5 --seed 3 --log %s -o %s", lc, c);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 48 --iterations 0 --init noise --seed 3 --log %s -o %s", la, c);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    run_log half, noise;
    if (read_log(&half, lc) && read_log(&noise, la))
        CHECKF(half.content[0] > 0 && half.content[0] < noise.content[0], "content term: half noise %g, noise %g",
               half.content[0], noise.content[0]);
    CHECKF(run_common("%s", "--init-noise-blend 1.5 -o x.png") == 2 && strstr(out_text, "--init-noise-blend"), "%s",
           out_text);
}

// ---- Several styles ----------------------------------------------------------------

static void test_blend_weight_zero_drops_a_style(void) {
    char one[300], two[300], more[2400];
    path_of(one, sizeof one, "one_style.png");
    path_of(two, sizeof two, "blend_1_0.png");
    snprintf(more, sizeof more, "--size 48 --iterations 4 -s %s -o %s", style_a, one);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 48 --iterations 4 -s %s,%s --style-blend-weights 1,0 -o %s", style_a, style_b, two);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    CHECKF(same_bytes(one, two), "weights 1,0 do not give the first style alone");
    // and 0,1 does not give it
    snprintf(more, sizeof more, "--size 48 --iterations 4 -s %s,%s --style-blend-weights 0,1 -o %s", style_a, style_b, two);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    CHECK(!same_bytes(one, two));
}

static void test_blend_and_mask_counts_must_match(void) {
    char more[2400];
    snprintf(more, sizeof more, "-s %s,%s --style-blend-weights 1 -o %s/x.png", style_a, style_b, tmp);
    int code = run_common("%s", more);
    CHECKF(code == 2 && count_lines(out_text) == 1 && strstr(out_text, "--style-blend-weights"), "exit %d: %s", code,
           out_text);
    snprintf(more, sizeof more, "-s %s --style-blend-weights 1,2 -o %s/x.png", style_a, tmp);
    code = run_common("%s", more);
    CHECKF(code == 2 && strstr(out_text, "--style-blend-weights"), "exit %d: %s", code, out_text);
    snprintf(more, sizeof more, "-s %s,%s --style-mask %s -o %s/x.png", style_a, style_b, content, tmp);
    code = run_common("%s", more);
    CHECKF(code == 2 && count_lines(out_text) == 1 && strstr(out_text, "--style-mask"), "exit %d: %s", code, out_text);
    // the moments style loss has no masked form: refused in one line, nothing written
    snprintf(more, sizeof more, "-s %s --style-mask %s --style-loss moments --size 32 --iterations 2 -o %s/x.png",
             style_a, content, tmp);
    code = run_common("%s", more);
    CHECKF(code == 2 && count_lines(out_text) == 1 && strstr(out_text, "--style-loss gram"), "exit %d: %s", code,
           out_text);
    char x[300];
    path_of(x, sizeof x, "x.png");
    CHECK(!exists(x));
}

// ---- Masks -------------------------------------------------------------------------

// A w x h mask: white where the predicate holds.
static void write_mask(const char *path, int w, int h, int kind) {
    nst_image m = {0};
    nst_error err;
    CHECK(nst_image_alloc(&m, w, h, &err) == 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int white = kind == 0 ? x < w / 2 : kind == 1 ? x >= w / 2 : 0;
                m.data[((size_t)c * h + y) * w + x] = white ? 255.0f : 0.0f;
            }
    CHECKF(nst_image_save(&m, path, &err) == 0, "%s", err.msg);
    nst_image_free(&m);
}

static void test_style_masks_two_regions(void) {
    char left[300], right[300], out[300], plain[300], more[4000];
    path_of(left, sizeof left, "left.png");
    path_of(right, sizeof right, "right.png");
    path_of(out, sizeof out, "masked.png");
    path_of(plain, sizeof plain, "unmasked.png");
    write_mask(left, 96, 72, 0);
    write_mask(right, 96, 72, 1);
    snprintf(more, sizeof more, "--size 64 --iterations 5 -s %s,%s --style-mask %s,%s -o %s", style_a, style_b, left,
             right, out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    snprintf(more, sizeof more, "--size 64 --iterations 5 -s %s,%s -o %s", style_a, style_b, plain);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    nst_image img = {0};
    if (load(&img, out)) CHECKF(img.w == 64 && img.h == 48, "%dx%d", img.w, img.h);
    nst_image_free(&img);
    CHECK(!same_bytes(out, plain));
    // the masks are recorded
    char json[400];
    snprintf(json, sizeof json, "%s.json", out);
    json_error_t jerr;
    json_t *root = json_load_file(json, 0, &jerr);
    json_t *m = root ? json_object_get(root, "style-mask") : NULL;
    CHECKF(json_is_array(m) && json_array_size(m) == 2 && !strcmp(json_string_value(json_array_get(m, 1)), right),
           "style-mask in %s", json);
    json_decref(root);
}

static void test_black_content_mask_drops_the_content_term(void) {
    char black[300], out[300], log[300], more[2400];
    path_of(black, sizeof black, "black.png");
    path_of(out, sizeof out, "cmask.png");
    path_of(log, sizeof log, "cmask.jsonl");
    write_mask(black, 40, 30, 2);
    snprintf(more, sizeof more, "--size 48 --iterations 4 --init noise --content-mask %s --log %s -o %s", black, log, out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    run_log l;
    if (read_log(&l, log)) {
        CHECK(l.n == 5);
        for (int k = 0; k < l.n; k++) CHECKF(l.content[k] == 0, "iteration %d: content term %g", k, l.content[k]);
    }
    // without the mask, the same run has a content term
    snprintf(more, sizeof more, "--size 48 --iterations 4 --init noise --log %s -o %s", log, out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    if (read_log(&l, log)) CHECKF(l.n == 5 && l.content[0] > 0, "content term without the mask: %g", l.content[0]);
}

// ---- Memory ------------------------------------------------------------------------

static void test_max_memory(void) {
    char out[300], more[1200];
    path_of(out, sizeof out, "mem.png");
    snprintf(more, sizeof more, "--size 64 --iterations 2 --max-memory 1M -o %s", out);
    int code = run_common("%s", more);
    CHECKF(code == 4 && count_lines(out_text) == 1 && strstr(out_text, "--max-memory"), "exit %d: %s", code, out_text);
    CHECK(!exists(out));
    // not quiet: the estimate is printed before the run, with the limit
    char args[4000];
    snprintf(args, sizeof args, "-m %s -c %s -s %s --threads 2 --size 48 --iterations 0 --max-memory 2G -o %s", model,
             content, style_a, out);
    CHECKF(run(args) == 0 && strstr(out_text, "memory estimate") && strstr(out_text, "2.0 GiB"), "%s", out_text);
    CHECKF(run_common("%s", "--max-memory lots -o x.png") == 2 && strstr(out_text, "--max-memory"), "%s", out_text);
}

// ---- --config and OUTPUT.json ------------------------------------------------------

static json_t *load_json(const char *path) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECKF(root != NULL, "%s: %s", path, jerr.text);
    return root;
}

static void test_config_round_trip(void) {
    char out[300], again[300], json[400], more[4000];
    path_of(out, sizeof out, "orig.png");
    path_of(again, sizeof again, "again.png");
    snprintf(json, sizeof json, "%s.json", out);
    snprintf(more, sizeof more,
             "--size 48 --iterations 4 -s %s,%s --style-blend-weights 3,1 --style-weight 5e3 --tv-weight 0.01 "
             "--init-noise-blend 0.25 --seed 5 --preserve-colors luminance-post --style-layer-weights 1,0.5,0.2 "
             "--optimizer adam --lr 2 -o %s",
             style_a, style_b, out);
    CHECKF(run_common("%s", more) == 0, "%s", out_text);
    json_t *root = load_json(json);
    if (root) {
        CHECK(json_integer_value(json_object_get(root, "threads")) == 2);
        CHECK(json_integer_value(json_object_get(root, "seed")) == 5);
        CHECK(json_integer_value(json_object_get(root, "iterations")) == 4);
        CHECK(json_array_size(json_object_get(root, "style")) == 2);
        CHECK(json_real_value(json_array_get(json_object_get(root, "style-blend-weights"), 0)) == 3.0);
        CHECK(json_real_value(json_object_get(root, "tv-weight")) == 0.01);
        CHECK(!strcmp(json_string_value(json_object_get(root, "nst-version")), NST_VERSION));
        CHECK(!strcmp(json_string_value(json_object_get(root, "preserve-colors")), "luminance-post"));
        CHECK(!strcmp(json_string_value(json_object_get(root, "optimizer")), "adam"));
        CHECK(!strcmp(json_string_value(json_object_get(root, "content-layers")), "relu3_2"));   // as resolved
        CHECK(!strcmp(json_string_value(json_object_get(root, "model")), model));
        CHECK(json_object_get(root, "backend") && json_object_get(root, "precision"));
        json_decref(root);
    }
    // only the record and another output: the same picture
    char args[2000];
    snprintf(args, sizeof args, "--config %s -o %s", json, again);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECKF(same_bytes(out, again), "--config %s did not reproduce the picture", json);
    // what follows --config overrides it, what precedes it is overridden
    snprintf(args, sizeof args, "--iterations 2 --config %s -o %s --seed 9 --quiet", json, again);
    CHECKF(run(args) == 0, "%s", out_text);
    snprintf(json, sizeof json, "%s.json", again);
    root = load_json(json);
    if (root) {
        CHECK(json_integer_value(json_object_get(root, "iterations")) == 4);
        CHECK(json_integer_value(json_object_get(root, "seed")) == 9);
        json_decref(root);
    }
}

static void test_config_with_scales_round_trip(void) {
    char out[300], again[300], json[400], cfg[300], args[4000];
    path_of(out, sizeof out, "cfg_scales.png");
    path_of(again, sizeof again, "cfg_scales_again.png");
    path_of(cfg, sizeof cfg, "scales.json");
    // a hand-written config: lists as arrays and as strings, a flag, a number as a string
    FILE *f = fopen(cfg, "w");
    if (f) {
        fprintf(f, "{\"model\": \"%s\", \"content\": \"%s\", \"style\": [\"%s\"], \"scales\": [32, 48],\n"
                   " \"iterations\": \"3,2\", \"threads\": 2, \"normalize-gradients\": false, \"quiet\": true,\n"
                   " \"style-weight\": 1e4, \"init\": \"style\", \"output\": \"%s\"}\n", model, content, style_a, out);
        fclose(f);
    }
    snprintf(args, sizeof args, "--config %s", cfg);
    CHECKF(run(args) == 0 && out_text[0] == 0, "exit or output: %s", out_text);
    nst_image img = {0};
    if (load(&img, out)) CHECKF(img.w == 48, "width %d", img.w);
    nst_image_free(&img);
    snprintf(json, sizeof json, "%s.json", out);
    snprintf(args, sizeof args, "--config %s -o %s --quiet", json, again);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECKF(same_bytes(out, again), "the record of a --scales run did not reproduce it");
    json_t *root = load_json(json);
    if (root) {
        json_t *it = json_object_get(root, "iterations");
        CHECK(json_array_size(it) == 2 && json_integer_value(json_array_get(it, 1)) == 2);
        CHECK(!strcmp(json_string_value(json_object_get(root, "init")), "style"));
        json_decref(root);
    }
}

// Interrupted in the second stage: OUTPUT.json records where it stopped, and makes
// the same picture again.
static void test_interrupted_run_is_recorded(void) {
    char out[300], log[300], again[300], json[400], args[2000];
    path_of(out, sizeof out, "stopped.png");
    path_of(log, sizeof log, "stopped.jsonl");
    path_of(again, sizeof again, "stopped_again.png");
    snprintf(json, sizeof json, "%s.json", out);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(nst, nst, "-m", model, "-c", content, "-s", style_a, "--threads", "2", "--scales", "32,48",
              "--iterations", "3,100000", "--log", log, "-o", out, (char *)NULL);
        _exit(127);
    }
    int lines = 0;
    for (int i = 0; i < 1200 && lines < 7; i++) {   // into stage 2, at most 120 s
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        FILE *f = fopen(log, "r");
        int ch;
        lines = 0;
        if (f) { while ((ch = fgetc(f)) != EOF) lines += ch == '\n'; fclose(f); }
    }
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 130, "exit status %d", st);
    run_log l;
    json_t *root = read_log(&l, log) ? load_json(json) : NULL;
    if (!root) return;
    int stop = l.iter[l.n - 1];
    json_t *it = json_object_get(root, "iterations"), *sc = json_object_get(root, "scales");
    CHECKF(stop > 3 && json_array_size(it) == 2 && json_integer_value(json_array_get(it, 0)) == 3 &&
           json_integer_value(json_array_get(it, 1)) == stop - 3 && json_array_size(sc) == 2,
           "stopped at %d; recorded iterations %lld,%lld", stop, (long long)json_integer_value(json_array_get(it, 0)),
           (long long)json_integer_value(json_array_get(it, 1)));
    json_decref(root);
    snprintf(args, sizeof args, "--config %s -o %s --quiet", json, again);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECKF(same_bytes(out, again), "the record of the interrupted run did not make the same picture");
}

static void expect_config_error(const char *what, const char *text, int want_code, const char *mention) {
    char cfg[300], out[300], args[4000];
    path_of(cfg, sizeof cfg, "bad.json");
    path_of(out, sizeof out, "never.png");
    unlink(out);
    if (text) {
        FILE *f = fopen(cfg, "w");
        if (f) { fputs(text, f); fclose(f); }
    } else {
        unlink(cfg);
    }
    snprintf(args, sizeof args, "%s --config %s -o %s", common, cfg, out);
    int code = run(args);
    CHECKF(code == want_code, "%s: exit %d, want %d: %s", what, code, want_code, out_text);
    CHECKF(count_lines(out_text) == 1 && strstr(out_text, "bad.json"), "%s: %s", what, out_text);
    CHECKF(!mention || strstr(out_text, mention), "%s: does not name %s: %s", what, mention, out_text);
    CHECK(!exists(out));
}

static void test_config_errors(void) {
    expect_config_error("unknown key", "{\"size\": 48, \"colour\": \"red\"}", 2, "colour");
    expect_config_error("wrong type", "{\"size\": \"big\"}", 2, "size");
    expect_config_error("flag as number", "{\"quiet\": 1}", 2, "quiet");
    expect_config_error("object value", "{\"style-weight\": {}}", 2, "style-weight");
    expect_config_error("out of range", "{\"size\": 4}", 2, "size");
    expect_config_error("nested config", "{\"config\": \"other.json\"}", 2, "config");
    expect_config_error("short name", "{\"s\": \"a.png\"}", 2, "\"s\"");
    expect_config_error("malformed", "{\"size\": 48,", 3, NULL);
    expect_config_error("not an object", "[\"size\", 48]", 3, NULL);
    expect_config_error("repeated key", "{\"size\": 48, \"size\": 64}", 3, NULL);
    expect_config_error("missing file", NULL, 3, NULL);
}

// NST_TEST_ONLY=name runs only the tests whose names contain it.
#undef TEST
#define TEST(fn) do { const char *only_ = getenv("NST_TEST_ONLY"); \
    if (!only_ || strstr(#fn, only_)) { nst_test_begin(#fn); fn(); nst_test_end(); } } while (0)

int main(void) {
    if (nst_test_program_init(&program, "nst_artist")) return 1;
    tmp = program.tmp; nst = program.nst; model = program.model;
    // many short runs: OpenMP threads that spin while they wait cost more than the
    // runs themselves on a busy machine (the results do not depend on it)
    setenv("OMP_WAIT_POLICY", "passive", 0);
    // small copies of the shared pictures: decoding the big ones would dominate
    const char *src[3] = {"tubingen.jpg", "starry_night_crop.png", "seated-nude.jpg"};
    char *dst[3] = {content, style_a, style_b};
    const char *name[3] = {"content.png", "style_a.png", "style_b.png"};
    for (int i = 0; i < 3; i++) {
        char path[1024];
        nst_image full = {0}, small = {0};
        nst_error err;
        snprintf(path, sizeof path, "%s/images/%s", nst_test_shared(), src[i]);
        snprintf(dst[i], 512, "%s/%s", tmp, name[i]);
        if (nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err) || nst_image_fit(&small, &full, 96, &err) ||
            nst_image_save(&small, dst[i], &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        nst_image_free(&full);
        nst_image_free(&small);
    }
    snprintf(common, sizeof common, "-m %s -c %s -s %s --threads 2 --quiet", model, content, style_a);
    TEST(test_preserve_colors_luminance_post);
    TEST(test_preserve_colors_luminance);
    TEST(test_preserve_colors_none_changes_chroma);
    TEST(test_preserve_colors_histogram);
    TEST(test_scales_final_size_and_continuous_log);
    TEST(test_scales_start_from_previous_result);
    TEST(test_scales_with_animation_plot_and_sheet);
    TEST(test_scales_and_iterations_usage);
    TEST(test_init_style_differs_from_content);
    TEST(test_init_noise_blend);
    TEST(test_blend_weight_zero_drops_a_style);
    TEST(test_blend_and_mask_counts_must_match);
    TEST(test_style_masks_two_regions);
    TEST(test_black_content_mask_drops_the_content_term);
    TEST(test_max_memory);
    TEST(test_config_round_trip);
    TEST(test_config_with_scales_round_trip);
    TEST(test_config_errors);
    TEST(test_interrupted_run_is_recorded);
    nst_test_program_done(&program);
    return nst_test_summary();
}
