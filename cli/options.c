#include <stdio.h>
#include "options.h"
#include "util/status.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_usage(FILE *out) {
    fprintf(out,
"usage: nst -c CONTENT -s STYLE[,STYLE...] -o OUTPUT [options]\n"
"       nst model info FILE\n"
"       nst model convert IN OUT.safetensors [--dtype f32|f16]\n"
"\n"
"Neural style transfer (Gatys et al.) with VGG19, on the CPU.\n"
"\n"
"Files:\n"
"  -c, --content FILE          content picture, JPEG or PNG (required)\n"
"  -s, --style FILE[,FILE...]  style picture(s) (required)\n"
"  -o, --output FILE           result, .png or .jpg, written atomically (required)\n"
"  -m, --model FILE            VGG19 weights, .safetensors or .pth\n"
"                              (default: $NST_MODEL, else ~/.local/share/nst/vgg19.safetensors)\n"
"Sizes:\n"
"  --size N                    longest side of the result (default 512)\n"
"  --style-scale X             style pictures are resized to size*X (default 1)\n"
"  --max-pixels N              refuse pictures larger than N pixels (default 50000000)\n"
"Losses:\n"
"  --content-weight X          alpha (default 1)\n"
"  --style-weight X            beta (default 1e4)\n"
"  --tv-weight X               gamma, total variation (default 1e-3)\n"
"  --content-layers L,...      default relu4_2 (relu3_2 on a model that stops at conv3_4)\n"
"  --style-layers L,...        default relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 (those present)\n"
"  --style-layer-weights W,... one per style layer (default 1 each)\n"
"  --style-blend-weights W,... one per style picture, normalised to sum 1 (default equal)\n"
"  --pooling max|avg           (default max)\n"
"Optimization:\n"
"  --optimizer lbfgs|adam      (default lbfgs)\n"
"  --iterations N              (default 300)\n"
"  --lr X                      Adam learning rate / L-BFGS step scale (default 1)\n"
"  --lbfgs-history N           (default 20)\n"
"  --init content|noise|FILE   starting image (default content)\n"
"  --seed N                    for --init noise (default 0)\n"
"  --preset NAME               default | tutorial | gatys; later options override it (default: none)\n"
"  --threads N                 (default: all cores)\n"
"  --backend auto|reference|blas|dnnl  convolution kernels (default auto: the fastest built in)\n"
"  --precision fp32|bf16|auto  bf16 convolutions where the CPU has AVX512-BF16/AMX (default fp32)\n"
"Output:\n"
"  --log FILE                  one JSON object per iteration (default: none)\n"
"  --save-every N              also write OUTPUT-iterNNNN.ext every N iterations (default 0: off)\n"
"  --plot FILE.svg|FILE.png    the loss terms against iteration and time, log scale,\n"
"                              written at the end or on interrupt (default: none)\n"
"  --animate FILE.gif          the optimization as an animated GIF, at most 100 frames\n"
"                              of at most 256 px (default: none)\n"
"  --animate-every N           a frame every N iterations (default iterations/50, at least 1)\n"
"  --contact-sheet FILE        content, style(s) and result side by side, labelled,\n"
"                              .png or .jpg (default: none)\n"
"  -q, --quiet                 no progress bar or messages (default: off)\n"
"  -h, --help                  this help\n"
"  --version                   the version\n"
"\n"
"Exit codes: 0 done, 1 other failure, 2 usage error, 3 missing, unreadable or malformed\n"
"input file, missing layer or unwritable output, 4 too large (--max-pixels) or out of\n"
"memory, 5 the loss became NaN or infinite (the last good picture is written), 130/143\n"
"interrupted by SIGINT/SIGTERM (the current picture, plot, animation and contact sheet\n"
"are written first).\n"
"See nst(1) for more.\n");
}

const char *cli_default_model_path(char *buf, size_t n) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(buf, n, "%s/nst/vgg19.safetensors", xdg);
    else snprintf(buf, n, "%s/.local/share/nst/vgg19.safetensors", home && *home ? home : ".");
    return buf;
}

const char *cli_model_path(const cli_options *o, char *buf, size_t n) {
    if (o->model) return o->model;
    const char *env = getenv("NST_MODEL");
    if (env && *env) return env;
    return cli_default_model_path(buf, n);
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out, nst_error *err) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return nst_fail(err, NST_ERR_USAGE, "%s: expected an integer from %ld to %ld, got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

static int parse_float(const char *opt, const char *s, double lo, double hi, float *out, nst_error *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi))
        return nst_fail(err, NST_ERR_USAGE, "%s: expected a number from %g to %g, got '%s'", opt, lo, hi, s);
    *out = (float)v;
    return 0;
}

static int copy_list(char *dst, size_t n, const char *opt, const char *s, nst_error *err) {
    if (strlen(s) >= n) return nst_fail(err, NST_ERR_USAGE, "%s: list too long", opt);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int split_styles(cli_options *o, const char *s, nst_error *err) {
    o->n_styles = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (o->n_styles >= NST_MAX_STYLES) return nst_fail(err, NST_ERR_USAGE, "at most %d style pictures", NST_MAX_STYLES);
        if (len == 0 || len >= sizeof o->styles[0]) return nst_fail(err, NST_ERR_USAGE, "--style: bad file list '%s'", s);
        memcpy(o->styles[o->n_styles], p, len);
        o->styles[o->n_styles++][len] = 0;
        p += len + (comma ? 1 : 0);
    }
    if (o->n_styles == 0) return nst_fail(err, NST_ERR_USAGE, "--style: no file given");
    return 0;
}

static int parse_blend(cli_options *o, const char *s, nst_error *err) {
    char buf[512];
    if (strlen(s) >= sizeof buf) return nst_fail(err, NST_ERR_USAGE, "--style-blend-weights: list too long");
    strcpy(buf, s);
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k >= NST_MAX_STYLES) return nst_fail(err, NST_ERR_USAGE, "--style-blend-weights: too many weights");
        if (parse_float("--style-blend-weights", tok, 0, 1e9, &o->params.style_blend[k++], err)) return -1;
    }
    return 0;
}

int cli_parse(cli_options *o, int argc, char **argv, nst_error *err) {
    memset(o, 0, sizeof *o);
    nst_params_default(&o->params);
    o->size = 512;
    o->style_scale = 1.0f;
    o->max_pixels = NST_DEFAULT_MAX_PIXELS;
    nst_params *p = &o->params;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { cli_usage(stdout); return 1; }
        if (!strcmp(a, "--version")) { printf("nst %s\n", nst_version()); return 1; }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->quiet = 1; continue; }
        if (a[0] != '-') { nst_fail(err, NST_ERR_USAGE, "unexpected argument '%s'", a); return -1; }
        if (i + 1 >= argc) { nst_fail(err, NST_ERR_USAGE, "%s needs a value", a); return -1; }
        const char *v = argv[++i];
        long iv;
        int bad = 0;
        if (!strcmp(a, "-c") || !strcmp(a, "--content")) o->content = v;
        else if (!strcmp(a, "-s") || !strcmp(a, "--style")) bad = split_styles(o, v, err);
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) o->output = v;
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--log")) o->log_path = v;
        else if (!strcmp(a, "--plot")) o->plot_path = v;
        else if (!strcmp(a, "--animate")) o->animate_path = v;
        else if (!strcmp(a, "--contact-sheet")) o->contact_path = v;
        else if (!strcmp(a, "--animate-every")) { bad = parse_int(a, v, 1, 100000000, &iv, err); o->animate_every = (int)iv; }
        else if (!strcmp(a, "--size")) { bad = parse_int(a, v, 16, 65536, &iv, err); o->size = (int)iv; }
        else if (!strcmp(a, "--style-scale")) bad = parse_float(a, v, 0.01, 100, &o->style_scale, err);
        else if (!strcmp(a, "--max-pixels")) { bad = parse_int(a, v, 1, 4000000000L, &iv, err); o->max_pixels = iv; }
        else if (!strcmp(a, "--save-every")) { bad = parse_int(a, v, 0, 100000000, &iv, err); o->save_every = (int)iv; }
        else if (!strcmp(a, "--iterations")) { bad = parse_int(a, v, 0, 100000000, &iv, err); p->iterations = (int)iv; }
        else if (!strcmp(a, "--lbfgs-history")) { bad = parse_int(a, v, 1, 1000, &iv, err); p->lbfgs_history = (int)iv; }
        else if (!strcmp(a, "--threads")) { bad = parse_int(a, v, 0, 1024, &iv, err); p->threads = (int)iv; }
        else if (!strcmp(a, "--seed")) { bad = parse_int(a, v, 0, 0x7fffffffffffffffL, &iv, err); p->seed = (unsigned long long)iv; }
        else if (!strcmp(a, "--lr")) bad = parse_float(a, v, 1e-12, 1e6, &p->lr, err);
        else if (!strcmp(a, "--content-weight")) bad = parse_float(a, v, 0, 1e30, &p->content_weight, err);
        else if (!strcmp(a, "--style-weight")) bad = parse_float(a, v, 0, 1e30, &p->style_weight, err);
        else if (!strcmp(a, "--tv-weight")) bad = parse_float(a, v, 0, 1e30, &p->tv_weight, err);
        else if (!strcmp(a, "--content-layers")) bad = copy_list(p->content_layers, sizeof p->content_layers, a, v, err);
        else if (!strcmp(a, "--style-layers")) bad = copy_list(p->style_layers, sizeof p->style_layers, a, v, err);
        else if (!strcmp(a, "--style-layer-weights")) bad = copy_list(p->style_layer_weights, sizeof p->style_layer_weights, a, v, err);
        else if (!strcmp(a, "--style-blend-weights")) bad = parse_blend(o, v, err);
        else if (!strcmp(a, "--preset")) {
            bad = nst_params_preset(p, v, err);
            if (!bad && !strcmp(v, "tutorial")) o->size = 400;   // the tutorial's picture size
        }
        else if (!strcmp(a, "--pooling")) {
            if (!strcmp(v, "max")) p->avg_pool = 0;
            else if (!strcmp(v, "avg")) p->avg_pool = 1;
            else bad = nst_fail(err, NST_ERR_USAGE, "--pooling: expected max or avg, got '%s'", v);
        } else if (!strcmp(a, "--optimizer")) {
            if (!strcmp(v, "lbfgs")) p->optimizer = NST_OPTIMIZER_LBFGS;
            else if (!strcmp(v, "adam")) p->optimizer = NST_OPTIMIZER_ADAM;
            else bad = nst_fail(err, NST_ERR_USAGE, "--optimizer: expected lbfgs or adam, got '%s'", v);
        } else if (!strcmp(a, "--backend")) {
            if (!strcmp(v, "auto")) p->backend = NST_BACKEND_AUTO;
            else if (!strcmp(v, "reference")) p->backend = NST_BACKEND_REF;
            else if (!strcmp(v, "blas")) p->backend = NST_BACKEND_BLAS;
            else if (!strcmp(v, "dnnl")) p->backend = NST_BACKEND_DNNL;
            else bad = nst_fail(err, NST_ERR_USAGE, "--backend: expected auto, reference, blas or dnnl, got '%s'", v);
        } else if (!strcmp(a, "--precision")) {
            if (!strcmp(v, "fp32")) p->precision = NST_PRECISION_FP32;
            else if (!strcmp(v, "bf16")) p->precision = NST_PRECISION_BF16;
            else if (!strcmp(v, "auto")) p->precision = NST_PRECISION_AUTO;
            else bad = nst_fail(err, NST_ERR_USAGE, "--precision: expected fp32, bf16 or auto, got '%s'", v);
        } else if (!strcmp(a, "--init")) {
            if (!strcmp(v, "content")) p->init = NST_INIT_CONTENT;
            else if (!strcmp(v, "noise")) p->init = NST_INIT_NOISE;
            else { p->init = NST_INIT_IMAGE; o->init_path = v; }
        } else {
            bad = nst_fail(err, NST_ERR_USAGE, "unknown option '%s' (see nst --help)", a);
        }
        if (bad) return -1;
    }
    if (!o->content) { nst_fail(err, NST_ERR_USAGE, "no content picture: use -c FILE"); return -1; }
    if (!o->n_styles) { nst_fail(err, NST_ERR_USAGE, "no style picture: use -s FILE"); return -1; }
    if (!o->output) { nst_fail(err, NST_ERR_USAGE, "no output file: use -o FILE"); return -1; }
    return 0;
}
