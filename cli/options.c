#include <stdio.h>
#include "options.h"
#include "util/status.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_usage(FILE *out) {
    fprintf(out,
"usage: nst -c CONTENT -s STYLE[,STYLE...] -o OUTPUT [options]\n"
"       nst --config FILE.json [options]\n"
"       nst model info FILE\n"
"       nst model convert IN OUT.safetensors [--dtype f32|f16]\n"
"\n"
"Neural style transfer (Gatys et al.) with VGG19, on the CPU.\n"
"\n"
"Files:\n"
"  -c, --content FILE          content picture, JPEG or PNG (required)\n"
"  -s, --style FILE[,FILE...]  style picture(s) (required)\n"
"  -o, --output FILE           result, .png or .jpg, written atomically (required); the\n"
"                              effective options go beside it, to OUTPUT.json\n"
"  -m, --model FILE            VGG19 weights, .safetensors, .pth or Keras .h5\n"
"                              (default: $NST_MODEL, else ~/.local/share/nst/vgg19.safetensors)\n"
"  --model-input auto|caffe|torchvision\n"
"                              the model's input convention; auto: from the file's\n"
"                              metadata, known weights or format (default auto)\n"
"  --config FILE               options from a JSON object, as if given here: {\"size\": 512,\n"
"                              \"style\": [\"a.jpg\", \"b.jpg\"], \"quiet\": true, ...}; later\n"
"                              options override it; OUTPUT.json is one (default: none)\n"
"Sizes:\n"
"  --size N                    longest side of the result (default 512)\n"
"  --scales auto|none|N,N,...  coarse to fine: a stage at each longest side, ascending,\n"
"                              each from the last one's stylization upsampled; the last\n"
"                              is the result's size and --size is not used; auto: from\n"
"                              --size 256 up (and 2 iterations), a stage at size/2 with two\n"
"                              thirds of the iterations, then one at size; none: one stage\n"
"                              (default auto)\n"
"  --style-scale X             style pictures are resized to size*X (default 1)\n"
"  --max-pixels N              refuse pictures larger than N pixels (default 50000000)\n"
"  --max-memory SIZE           refuse a run estimated to need more memory, in bytes or\n"
"                              with K, M, G, T: 8G; 0 for no limit (default: the physical memory)\n"
"Losses:\n"
"  --content-weight X          alpha (default 1)\n"
"  --style-weight X            beta (default 10)\n"
"  --tv-weight X               gamma, total variation (default 1)\n"
"  --content-layers L,...      default relu4_2 (relu3_2 on a model that stops at conv3_4)\n"
"  --style-layers L,...        default relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 (those present)\n"
"  --style-layer-weights W,... one per style layer (default 1 each)\n"
"  --style-blend-weights W,... one per style picture, normalised to sum 1 (default equal)\n"
"  --style-mask FILE[,FILE...] one grayscale mask per style picture, white where that\n"
"                              style goes (default: none, every style everywhere)\n"
"  --content-mask FILE         weighs the content loss per pixel: white 1, black 0 (default: none)\n"
"  --normalize-gradients       divide each loss term's gradient by its L1 norm (default: off)\n"
"  --loss-scale auto|raw       auto: each term relative to its target, the picture in pixel\n"
"                              units, so the weights mean the same for any model; raw:\n"
"                              nst 0.2's and PyTorch's unnormalized terms (default auto)\n"
"  --pooling max|avg           (default max)\n"
"  --preserve-colors none|luminance|luminance-post|histogram\n"
"                              keep the content's colours: luminance-only transfer, the\n"
"                              content's chroma put back afterwards, or the styles' colours\n"
"                              matched to the content first (default none)\n"
"Optimization:\n"
"  --optimizer lbfgs|adam      (default lbfgs)\n"
"  --iterations N[,N...]       one count per stage of --scales, or one for them all: split\n"
"                              by --scales auto, run by every stage of a list (default 150)\n"
"  --lr X                      Adam learning rate / L-BFGS step scale (default 1)\n"
"  --lbfgs-history N           (default 20)\n"
"  --init content|noise|style|FILE  starting image (default content)\n"
"  --init-noise-blend X        mix this much noise, 0..1, into the start (default 0)\n"
"  --seed N                    for the noise (default 0)\n"
"  --preset NAME               default | tutorial | gatys; later options override it (default: none)\n"
"  --threads N                 (default: all cores)\n"
"  --backend auto|reference|blas|dnnl  convolution kernels (default auto: the fastest built in)\n"
"  --precision fp32|bf16|auto  convolutions in float32 or bfloat16 (needs AVX512-BF16 or AMX);\n"
"                              auto: bf16 where the CPU has AMX, else fp32 (default auto)\n"
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
"Long runs:\n"
"  --checkpoint FILE           write the whole state of the run (picture, optimizer\n"
"                              memory, iteration) to FILE, atomically, every N\n"
"                              iterations, at the end, and on SIGINT/SIGTERM (default: none)\n"
"  --checkpoint-every N        (default 50; 0: only at the end and on a signal)\n"
"  --resume FILE               go on from a checkpoint: the same pictures, model and\n"
"                              options, only --iterations may grow; with the same\n"
"                              --threads and --backend the result is the uninterrupted\n"
"                              run's, bit for bit (default: none)\n"
"  -q, --quiet                 no progress bar or messages (default: off)\n"
"  -h, --help                  this help\n"
"  --version                   the version\n"
"\n"
"Exit codes: 0 done, 1 other failure, 2 usage error (also a bad key or value in a\n"
"--config file, a --resume checkpoint of another run), 3 missing, unreadable or\n"
"malformed input file (also a --config file that is not a JSON object, a damaged\n"
"checkpoint), missing layer or unwritable output or checkpoint, 4 too large\n"
"(--max-pixels, --max-memory) or out of memory, 5 the loss or gradient became NaN or\n"
"infinite (the last good picture is written), 130/143 interrupted by SIGINT/SIGTERM\n"
"(the current picture, checkpoint, plot, animation, contact sheet and OUTPUT.json are\n"
"written first; 3 if the checkpoint cannot be written).\n"
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


unsigned long long cli_physical_memory(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return 0;
    return (unsigned long long)pages * (unsigned long long)page;
}

int cli_parse_bytes(const char *s, unsigned long long *out) {
    char *end;
    if (!isdigit((unsigned char)s[0]) && s[0] != '.') return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return -1;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (mult > 1 && (*end == 'i' || *end == 'I')) end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    v *= mult;
    if (!(v < 9e18)) return -1;   // below 2^63: it fits a JSON integer too
    *out = (unsigned long long)llround(v);
    return 0;
}

// ---- Values ------------------------------------------------------------------------
// opt is how the value is named in a message: "--size" on the command line,
// "FILE: \"size\"" from a --config file.

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

// A comma-separated list of file names into names (at most max).
static int split_files(char names[][1024], int *count, int max, const char *opt, const char *s, nst_error *err) {
    *count = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*count >= max) return nst_fail(err, NST_ERR_USAGE, "%s: at most %d files", opt, max);
        if (len == 0 || len >= 1024) return nst_fail(err, NST_ERR_USAGE, "%s: bad file list '%s'", opt, s);
        memcpy(names[*count], p, len);
        names[(*count)++][len] = 0;
        p += len + (comma ? 1 : 0);
        if (comma && !*p) return nst_fail(err, NST_ERR_USAGE, "%s: bad file list '%s'", opt, s);
    }
    if (*count == 0) return nst_fail(err, NST_ERR_USAGE, "%s: no file given", opt);
    return 0;
}

// A comma-separated list of integers lo..hi into v (at most max).
static int split_ints(int *v, int *count, int max, const char *opt, const char *s, long lo, long hi, nst_error *err) {
    char buf[512];
    if (strlen(s) >= sizeof buf) return nst_fail(err, NST_ERR_USAGE, "%s: list too long", opt);
    strcpy(buf, s);
    size_t len = strlen(buf);
    if (len == 0 || buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
        return nst_fail(err, NST_ERR_USAGE, "%s: expected a comma-separated list of integers, got '%s'", opt, s);
    *count = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long x;
        if (*count >= max) return nst_fail(err, NST_ERR_USAGE, "%s: at most %d values", opt, max);
        if (parse_int(opt, tok, lo, hi, &x, err)) return -1;
        v[(*count)++] = (int)x;
    }
    return 0;
}

static int parse_blend(cli_options *o, const char *opt, const char *s, nst_error *err) {
    char buf[512];
    if (strlen(s) >= sizeof buf) return nst_fail(err, NST_ERR_USAGE, "%s: list too long", opt);
    strcpy(buf, s);
    size_t len = strlen(buf);
    if (len == 0 || buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
        return nst_fail(err, NST_ERR_USAGE, "%s: expected a comma-separated list of numbers, got '%s'", opt, s);
    memset(o->params.style_blend, 0, sizeof o->params.style_blend);
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k >= NST_MAX_STYLES) return nst_fail(err, NST_ERR_USAGE, "%s: too many weights", opt);
        if (parse_float(opt, tok, 0, 1e9, &o->params.style_blend[k++], err)) return -1;
    }
    o->n_blend = k;
    return 0;
}

// ---- Options -----------------------------------------------------------------------

typedef struct opt_def {
    const char *name;   // long name without the dashes: also the --config key
    char short_name;    // 0: none
    int flag;           // 1: takes no value
} opt_def;

static const opt_def opts[] = {
    {"content", 'c', 0}, {"style", 's', 0}, {"output", 'o', 0}, {"model", 'm', 0}, {"config", 0, 0},
    {"size", 0, 0}, {"scales", 0, 0}, {"style-scale", 0, 0}, {"max-pixels", 0, 0}, {"max-memory", 0, 0},
    {"content-weight", 0, 0}, {"style-weight", 0, 0}, {"tv-weight", 0, 0}, {"content-layers", 0, 0},
    {"style-layers", 0, 0}, {"style-layer-weights", 0, 0}, {"style-blend-weights", 0, 0},
    {"style-mask", 0, 0}, {"content-mask", 0, 0}, {"normalize-gradients", 0, 1}, {"pooling", 0, 0},
    {"preserve-colors", 0, 0}, {"optimizer", 0, 0}, {"iterations", 0, 0}, {"lr", 0, 0},
    {"lbfgs-history", 0, 0}, {"init", 0, 0}, {"init-noise-blend", 0, 0}, {"seed", 0, 0},
    {"preset", 0, 0}, {"threads", 0, 0}, {"backend", 0, 0}, {"precision", 0, 0}, {"log", 0, 0},
    {"save-every", 0, 0}, {"plot", 0, 0}, {"animate", 0, 0}, {"animate-every", 0, 0},
    {"contact-sheet", 0, 0}, {"checkpoint", 0, 0}, {"checkpoint-every", 0, 0}, {"resume", 0, 0},
    {"loss-scale", 0, 0}, {"model-input", 0, 0},
    {"quiet", 'q', 1}, {"help", 'h', 1}, {"version", 0, 1},
};

static const opt_def *find_long(const char *name) {
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        if (!strcmp(opts[i].name, name)) return &opts[i];
    return NULL;
}

static const opt_def *find_arg(const char *a) {
    if (a[0] == '-' && a[1] == '-') return find_long(a + 2);
    if (a[0] == '-' && a[1] && !a[2])
        for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
            if (opts[i].short_name == a[1]) return &opts[i];
    return NULL;
}

// One of several words: its index in words (NULL-terminated), else a usage error.
static int pick(const char *opt, const char *v, const char *const *words, const char *expected, int *out, nst_error *err) {
    for (int i = 0; words[i]; i++)
        if (!strcmp(v, words[i])) { *out = i; return 0; }
    return nst_fail(err, NST_ERR_USAGE, "%s: expected %s, got '%s'", opt, expected, v);
}

// The i-th item of a comma-separated list into out ("" when there is none).
static void list_item(char *out, size_t n, const char *list, int i) {
    out[0] = 0;
    for (int k = 0; k <= i; k++) {
        size_t len = strcspn(list, ",");
        if (k == i) { snprintf(out, n, "%.*s", (int)len, list); return; }
        if (!list[len]) return;
        list += len + 1;
    }
}

// New style layers while per-layer weights are set (by a preset, or given before):
// each layer keeps the weight it had in the old list, and a new one gets 1, so that
// `--preset tutorial --style-layers relu1_1,relu2_1,relu3_1` keeps 1, 0.75, 0.2.
static int remap_layer_weights(nst_params *p, const char *old_layers, const char *opt, nst_error *err) {
    // weights given before any layer list belong to the list that follows, as given
    if (!p->style_layer_weights[0] || !old_layers[0]) return 0;
    char out[sizeof p->style_layer_weights] = "", layer[64], old[64], weight[64];
    size_t len = 0;
    for (int i = 0;; i++) {
        list_item(layer, sizeof layer, p->style_layers, i);
        if (!layer[0]) break;
        const char *wv = "1";
        for (int j = 0;; j++) {
            list_item(old, sizeof old, old_layers, j);
            if (!old[0]) break;
            if (!strcmp(old, layer)) {
                list_item(weight, sizeof weight, p->style_layer_weights, j);
                if (weight[0]) wv = weight;
                break;
            }
        }
        int m = snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "", wv);
        if (m < 0 || (size_t)m >= sizeof out - len) return nst_fail(err, NST_ERR_USAGE, "%s: list too long", opt);
        len += (size_t)m;
    }
    memcpy(p->style_layer_weights, out, sizeof out);
    return 0;
}

// Applies option d with value v (NULL for a flag, whose state is on). opt names it in
// messages.
static int apply(cli_options *o, const opt_def *d, const char *v, int on, const char *opt, nst_error *err) {
    nst_params *p = &o->params;
    const char *n = d->name;
    long iv;
    int k;
    if (!strcmp(n, "quiet")) { o->quiet = on; return 0; }
    if (!strcmp(n, "normalize-gradients")) { p->normalize_gradients = on; return 0; }
    if (!strcmp(n, "content")) { o->content = v; return 0; }
    if (!strcmp(n, "style")) return split_files(o->styles, &o->n_styles, NST_MAX_STYLES, opt, v, err);
    if (!strcmp(n, "style-mask")) return split_files(o->style_masks, &o->n_style_masks, NST_MAX_STYLES, opt, v, err);
    if (!strcmp(n, "content-mask")) { o->content_mask = v; return 0; }
    if (!strcmp(n, "output")) { o->output = v; return 0; }
    if (!strcmp(n, "model")) { o->model = v; return 0; }
    if (!strcmp(n, "log")) { o->log_path = v; return 0; }
    if (!strcmp(n, "plot")) { o->plot_path = v; return 0; }
    if (!strcmp(n, "animate")) { o->animate_path = v; return 0; }
    if (!strcmp(n, "contact-sheet")) { o->contact_path = v; return 0; }
    if (!strcmp(n, "checkpoint")) { p->checkpoint = v; return 0; }
    if (!strcmp(n, "resume")) { p->resume = v; return 0; }
    if (!strcmp(n, "checkpoint-every")) {
        if (parse_int(opt, v, 0, 100000000, &iv, err)) return -1;
        p->checkpoint_every = (int)iv;
        return 0;
    }
    if (!strcmp(n, "animate-every")) {
        if (parse_int(opt, v, 1, 100000000, &iv, err)) return -1;
        o->animate_every = (int)iv;
        return 0;
    }
    if (!strcmp(n, "size")) {
        if (parse_int(opt, v, 16, 65536, &iv, err)) return -1;
        o->size = (int)iv;
        return 0;
    }
    if (!strcmp(n, "scales")) {
        if (!strcmp(v, "auto") || !strcmp(v, "none")) {   // nst_schedule's stages, or one
            p->stages = v[0] == 'a' ? NST_STAGES_AUTO : NST_STAGES_ONE;
            o->n_scales = 0;
            return 0;
        }
        if (split_ints(o->scales, &o->n_scales, CLI_MAX_SCALES, opt, v, 16, 65536, err)) return -1;
        for (k = 1; k < o->n_scales; k++)
            if (o->scales[k] <= o->scales[k - 1])
                return nst_fail(err, NST_ERR_USAGE, "%s: the sizes must ascend, got '%s'", opt, v);
        return 0;
    }
    if (!strcmp(n, "style-scale")) return parse_float(opt, v, 0.01, 100, &o->style_scale, err);
    if (!strcmp(n, "max-pixels")) {
        if (parse_int(opt, v, 1, 4000000000L, &iv, err)) return -1;
        o->max_pixels = iv;
        return 0;
    }
    if (!strcmp(n, "max-memory")) {
        if (cli_parse_bytes(v, &p->max_memory))
            return nst_fail(err, NST_ERR_USAGE, "%s: expected a size in bytes, like 8G or 512M, got '%s'", opt, v);
        o->max_memory_given = 1;
        return 0;
    }
    if (!strcmp(n, "save-every")) {
        if (parse_int(opt, v, 0, 100000000, &iv, err)) return -1;
        o->save_every = (int)iv;
        return 0;
    }
    if (!strcmp(n, "iterations")) {
        if (split_ints(o->iterations, &o->n_iterations, CLI_MAX_SCALES, opt, v, 0, 100000000, err)) return -1;
        p->iterations = o->iterations[0];
        return 0;
    }
    if (!strcmp(n, "lbfgs-history")) {
        if (parse_int(opt, v, 1, 1000, &iv, err)) return -1;
        p->lbfgs_history = (int)iv;
        return 0;
    }
    if (!strcmp(n, "threads")) {
        if (parse_int(opt, v, 0, 1024, &iv, err)) return -1;
        p->threads = (int)iv;
        return 0;
    }
    if (!strcmp(n, "seed")) {
        if (parse_int(opt, v, 0, 0x7fffffffffffffffL, &iv, err)) return -1;
        p->seed = (unsigned long long)iv;
        return 0;
    }
    if (!strcmp(n, "lr")) return parse_float(opt, v, 1e-12, 1e6, &p->lr, err);
    if (!strcmp(n, "content-weight")) return parse_float(opt, v, 0, 1e30, &p->content_weight, err);
    if (!strcmp(n, "style-weight")) return parse_float(opt, v, 0, 1e30, &p->style_weight, err);
    if (!strcmp(n, "tv-weight")) return parse_float(opt, v, 0, 1e30, &p->tv_weight, err);
    if (!strcmp(n, "init-noise-blend")) return parse_float(opt, v, 0, 1, &p->init_noise_blend, err);
    if (!strcmp(n, "content-layers")) return copy_list(p->content_layers, sizeof p->content_layers, opt, v, err);
    if (!strcmp(n, "style-layers")) {
        char old_layers[sizeof p->style_layers];
        memcpy(old_layers, p->style_layers, sizeof old_layers);
        if (copy_list(p->style_layers, sizeof p->style_layers, opt, v, err)) return -1;
        return remap_layer_weights(p, old_layers, opt, err);
    }
    if (!strcmp(n, "style-layer-weights"))
        return copy_list(p->style_layer_weights, sizeof p->style_layer_weights, opt, v, err);
    if (!strcmp(n, "style-blend-weights")) return parse_blend(o, opt, v, err);
    if (!strcmp(n, "preset")) {
        static const char *const names[] = {"default", "tutorial", "gatys", NULL};
        if (pick(opt, v, names, "default, tutorial or gatys", &k, err)) return -1;
        if (nst_params_preset(p, names[k], err)) return -1;
        if (k == 1) o->size = 400;   // the tutorial's picture size
        if (k == 0) o->size = 512;   // and back
        o->preset = names[k];
        o->n_iterations = 0;   // the preset's count, unless --iterations follows
        o->n_scales = 0;       // and its stages, unless --scales follows
        return 0;
    }
    if (!strcmp(n, "loss-scale")) {
        static const char *const w[] = {"auto", "raw", NULL};
        if (pick(opt, v, w, "auto or raw", &k, err)) return -1;
        p->loss_scale = k ? NST_LOSS_SCALE_RAW : NST_LOSS_SCALE_AUTO;
        return 0;
    }
    if (!strcmp(n, "model-input")) {
        static const char *const w[] = {"auto", "caffe", "torchvision", NULL};
        if (pick(opt, v, w, "auto, caffe or torchvision", &k, err)) return -1;
        o->model_input = k ? w[k] : NULL;
        return 0;
    }
    if (!strcmp(n, "pooling")) {
        static const char *const w[] = {"max", "avg", NULL};
        if (pick(opt, v, w, "max or avg", &k, err)) return -1;
        p->avg_pool = k;
        return 0;
    }
    if (!strcmp(n, "optimizer")) {
        static const char *const w[] = {"lbfgs", "adam", NULL};
        if (pick(opt, v, w, "lbfgs or adam", &k, err)) return -1;
        p->optimizer = k ? NST_OPTIMIZER_ADAM : NST_OPTIMIZER_LBFGS;
        return 0;
    }
    if (!strcmp(n, "backend")) {
        static const char *const w[] = {"auto", "reference", "blas", "dnnl", NULL};
        static const nst_backend_choice b[] = {NST_BACKEND_AUTO, NST_BACKEND_REF, NST_BACKEND_BLAS, NST_BACKEND_DNNL};
        if (pick(opt, v, w, "auto, reference, blas or dnnl", &k, err)) return -1;
        p->backend = b[k];
        return 0;
    }
    if (!strcmp(n, "precision")) {
        static const char *const w[] = {"fp32", "bf16", "auto", NULL};
        static const nst_precision pr[] = {NST_PRECISION_FP32, NST_PRECISION_BF16, NST_PRECISION_AUTO};
        if (pick(opt, v, w, "fp32, bf16 or auto", &k, err)) return -1;
        p->precision = pr[k];
        return 0;
    }
    if (!strcmp(n, "preserve-colors")) {
        static const char *const w[] = {"none", "luminance", "luminance-post", "histogram", NULL};
        static const nst_preserve_colors c[] = {NST_COLORS_NONE, NST_COLORS_LUMINANCE, NST_COLORS_LUMINANCE_POST,
                                                NST_COLORS_HISTOGRAM};
        if (pick(opt, v, w, "none, luminance, luminance-post or histogram", &k, err)) return -1;
        p->preserve_colors = c[k];
        return 0;
    }
    if (!strcmp(n, "init")) {
        o->init_path = NULL;
        if (!strcmp(v, "content")) p->init = NST_INIT_CONTENT;
        else if (!strcmp(v, "noise")) p->init = NST_INIT_NOISE;
        else if (!strcmp(v, "style")) p->init = NST_INIT_STYLE;
        else if (!*v) return nst_fail(err, NST_ERR_USAGE, "%s: expected content, noise, style or a file", opt);
        else { p->init = NST_INIT_IMAGE; o->init_path = v; }
        return 0;
    }
    return nst_fail(err, NST_ERR_USAGE, "%s: not handled", opt);   // not reached: every opts[] entry is above
}

// ---- --config FILE -----------------------------------------------------------------

// A copy of s in o's pool (NULL when it is full).
static const char *pool_copy(cli_options *o, const char *s, size_t len) {
    if (len + 1 > sizeof o->pool - o->pool_used) return NULL;
    char *d = o->pool + o->pool_used;
    memcpy(d, s, len);
    d[len] = 0;
    o->pool_used += len + 1;
    return d;
}

// A JSON number as the command line would spell it.
static int number_text(const json_t *v, char *buf, size_t n) {
    if (json_is_integer(v)) return snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < (int)n;
    double d = json_real_value(v);
    return isfinite(d) && snprintf(buf, n, "%.17g", d) < (int)n;
}

// The text of a scalar JSON value (string or number) into buf.
static int scalar_text(const json_t *v, char *buf, size_t n) {
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        if (len >= n || memchr(json_string_value(v), 0, len)) return 0;
        memcpy(buf, json_string_value(v), len + 1);
        return 1;
    }
    if (json_is_number(v)) return number_text(v, buf, n);
    return 0;
}

static int apply_config(cli_options *o, const char *path, nst_error *err) {
    json_error_t jerr;
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot read the config file: %s", path, strerror(errno));
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) { json_decref(root); return nst_fail(err, NST_ERR_IO, "%s: cannot read the config file", path); }
    if (!root)
        return nst_fail(err, NST_ERR_FORMAT, "%s: not valid JSON: %s (line %d, column %d)", path, jerr.text, jerr.line,
                        jerr.column);
    if (!json_is_object(root)) {
        json_decref(root);
        return nst_fail(err, NST_ERR_FORMAT, "%s: the config file must hold one JSON object", path);
    }
    int rc = 0;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        char opt[1200], text[4096];
        snprintf(opt, sizeof opt, "%s: \"%s\"", path, key);
        if (!strcmp(key, "nst-version")) {   // written to OUTPUT.json for the record; not an option
            if (!json_is_string(value)) { rc = nst_fail(err, NST_ERR_USAGE, "%s: expected a string", opt); break; }
            continue;
        }
        const opt_def *d = find_long(key);
        if (!d) { rc = nst_fail(err, NST_ERR_USAGE, "%s: unknown key (keys are long option names: \"size\", \"style\", ...)", opt); break; }
        if (!strcmp(key, "config") || !strcmp(key, "help") || !strcmp(key, "version")) {
            rc = nst_fail(err, NST_ERR_USAGE, "%s: not allowed in a config file", opt);
            break;
        }
        if (d->flag) {
            if (!json_is_boolean(value)) { rc = nst_fail(err, NST_ERR_USAGE, "%s: expected true or false", opt); break; }
            if ((rc = apply(o, d, NULL, json_is_true(value), opt, err))) break;
            continue;
        }
        if (json_is_array(value)) {
            // a list: its items joined by commas, as on the command line
            size_t i, len = 0;
            json_t *item;
            text[0] = 0;
            if (json_array_size(value) == 0) { rc = nst_fail(err, NST_ERR_USAGE, "%s: an empty list", opt); break; }
            json_array_foreach(value, i, item) {
                char one[2048];
                if (!scalar_text(item, one, sizeof one)) {
                    rc = nst_fail(err, NST_ERR_USAGE, "%s: item %zu: expected a string or a number", opt, i + 1);
                    break;
                }
                if (strchr(one, ',')) {
                    rc = nst_fail(err, NST_ERR_USAGE, "%s: item %zu holds a comma", opt, i + 1);
                    break;
                }
                size_t l = strlen(one);
                if (len + l + 2 > sizeof text) { rc = nst_fail(err, NST_ERR_USAGE, "%s: list too long", opt); break; }
                if (i) text[len++] = ',';
                memcpy(text + len, one, l + 1);
                len += l;
            }
            if (rc) break;
        } else if (!scalar_text(value, text, sizeof text)) {
            rc = nst_fail(err, NST_ERR_USAGE, "%s: %s", opt,
                          json_is_string(value) ? "the string is too long or holds a NUL byte"
                          : json_is_number(value) ? "the number is not finite"
                                                  : "expected a string, a number or a list of them");
            break;
        }
        const char *v = pool_copy(o, text, strlen(text));
        if (!v) { rc = nst_fail(err, NST_ERR_USAGE, "%s: the config file holds too much text", path); break; }
        if ((rc = apply(o, d, v, 1, opt, err))) {
            // name the file and key in every message
            if (err && strncmp(err->msg, path, strlen(path))) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                nst_fail(err, err->code, "%s: %s", opt, msg);
            }
            break;
        }
    }
    json_decref(root);
    return rc ? -1 : 0;
}

int cli_parse(cli_options *o, int argc, char **argv, nst_error *err) {
    memset(o, 0, sizeof *o);
    nst_params_default(&o->params);
    o->size = 512;
    o->style_scale = 1.0f;
    o->max_pixels = NST_DEFAULT_MAX_PIXELS;
    o->params.max_memory = cli_physical_memory();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const opt_def *d = find_arg(a);
        if (!d) {
            if (a[0] != '-' || !a[1]) nst_fail(err, NST_ERR_USAGE, "unexpected argument '%s'", a);
            else nst_fail(err, NST_ERR_USAGE, "unknown option '%s' (see nst --help)", a);
            return -1;
        }
        if (!strcmp(d->name, "help")) { cli_usage(stdout); return 1; }
        if (!strcmp(d->name, "version")) { printf("nst %s\n", nst_version()); return 1; }
        const char *v = NULL;
        if (!d->flag) {
            if (i + 1 >= argc) { nst_fail(err, NST_ERR_USAGE, "%s needs a value", a); return -1; }
            v = argv[++i];
        }
        if (!strcmp(d->name, "config")) {
            if (apply_config(o, v, err)) return -1;
            continue;
        }
        if (apply(o, d, v, 1, a, err)) return -1;
    }
    if (!o->content) { nst_fail(err, NST_ERR_USAGE, "no content picture: use -c FILE"); return -1; }
    if (!o->n_styles) { nst_fail(err, NST_ERR_USAGE, "no style picture: use -s FILE"); return -1; }
    if (!o->output) { nst_fail(err, NST_ERR_USAGE, "no output file: use -o FILE"); return -1; }
    if (o->n_blend && o->n_blend != o->n_styles) {
        nst_fail(err, NST_ERR_USAGE, "--style-blend-weights: %d weights for %d style pictures", o->n_blend, o->n_styles);
        return -1;
    }
    if (o->n_style_masks && o->n_style_masks != o->n_styles) {
        nst_fail(err, NST_ERR_USAGE, "--style-mask: %d masks for %d style pictures", o->n_style_masks, o->n_styles);
        return -1;
    }
    if (o->n_iterations <= 1) { o->iterations[0] = o->params.iterations; o->n_iterations = 1; }   // also a preset's
    o->scales_auto = 0;
    if (!o->n_scales) {   // --scales auto (the default) or none: the library's schedule
        // (the stage count from the size and the total, also when a list gives each stage's)
        nst_params q = o->params;
        long long total = 0;
        for (int k = 0; k < o->n_iterations; k++) total += o->iterations[k];
        q.iterations = total > 100000000 ? 100000000 : (int)total;
        int sc[2], it[2], n = nst_schedule(&q, o->size, sc, it);
        if (n > 1) {
            // one count split by the schedule: OUTPUT.json can say "auto" and the count
            o->scales_auto = o->n_iterations == 1;
            if (o->n_iterations == 1) { memcpy(o->iterations, it, sizeof it); o->n_iterations = n; }
            memcpy(o->scales, sc, sizeof sc);
            o->n_scales = n;
        }
    }
    if (o->n_scales) {
        if (o->n_iterations != 1 && o->n_iterations != o->n_scales) {
            nst_fail(err, NST_ERR_USAGE, "--iterations: %d counts for %d scales (give one, or one per scale)",
                     o->n_iterations, o->n_scales);
            return -1;
        }
        if (o->n_iterations == 1)
            for (int k = 1; k < o->n_scales; k++) o->iterations[k] = o->iterations[0];
        o->n_iterations = o->n_scales;
        long long total = 0;
        for (int k = 0; k < o->n_scales; k++) total += o->iterations[k];
        if (total > 100000000) { nst_fail(err, NST_ERR_USAGE, "--iterations: %lld in all is too many", total); return -1; }
        o->size = o->scales[o->n_scales - 1];
    } else if (o->n_iterations > 1) {
        nst_fail(err, NST_ERR_USAGE, "--iterations: a list of %d counts needs --scales with as many sizes", o->n_iterations);
        return -1;
    }
    return 0;
}
