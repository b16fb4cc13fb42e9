// option_table.c: the options of `nst`, their setters and their OUTPUT.json writers.
// The table is in --help order; OUTPUT.json follows it too, but for --preset, which
// goes first there (see config.c).
#include <stdio.h>
#include "option_table.h"
#include "option_values.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(member) offsetof(cli_options, member)
#define PARAM(member) offsetof(cli_options, params.member)

// CLI_CHOICE writes an int through a pointer to the field: the enums must be ints.
_Static_assert(sizeof(nst_optimizer) == sizeof(int) && sizeof(nst_backend_choice) == sizeof(int) &&
                   sizeof(nst_precision) == sizeof(int) && sizeof(nst_loss_scale) == sizeof(int) &&
                   sizeof(nst_preserve_colors) == sizeof(int),
               "choice fields are ints");

// The layer names the completion offers for --content-layers and --style-layers.
#define VGG19_LAYERS                                                                                              \
    "relu1_1|relu1_2|relu2_1|relu2_2|relu3_1|relu3_2|relu3_3|relu3_4|relu4_1|relu4_2|relu4_3|relu4_4|relu5_1|"    \
    "relu5_2|relu5_3|relu5_4|conv1_1|conv1_2|conv2_1|conv2_2|conv3_1|conv3_2|conv3_3|conv3_4|conv4_1|conv4_2|"    \
    "conv4_3|conv4_4|conv5_1|conv5_2|conv5_3|conv5_4"

// ---- Setters of the options that are more than one value into one field -----------

static int set_temporal_frames(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                               nst_error *err) {
    (void)on;
    if (cli_split_ints(o->temporal_frames, &o->n_temporal_frames, NST_MAX_TEMPORAL, opt, v, d->imin, d->imax, err))
        return -1;
    for (int k = 1; k < o->n_temporal_frames; k++)
        if (o->temporal_frames[k] <= o->temporal_frames[k - 1])
            return nst_error_set(err, NST_ERR_USAGE, "%s: the distances must ascend, got '%s'", opt, v);
    return 0;
}

static int set_style(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)d, (void)on;
    return cli_split_files(o->styles, &o->n_styles, NST_MAX_STYLES, opt, v, err);
}

static int set_style_mask(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)d, (void)on;
    return cli_split_files(o->style_masks, &o->n_style_masks, NST_MAX_STYLES, opt, v, err);
}

static int set_scales(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)on;
    if (!strcmp(v, "auto") || !strcmp(v, "none")) {   // nst_schedule's stages, or one
        o->params.stages = v[0] == 'a' ? NST_STAGES_AUTO : NST_STAGES_ONE;
        o->n_scales = 0;
        return 0;
    }
    if (cli_split_ints(o->scales, &o->n_scales, CLI_MAX_SCALES, opt, v, d->imin, d->imax, err)) return -1;
    for (int k = 1; k < o->n_scales; k++)
        if (o->scales[k] <= o->scales[k - 1])
            return nst_error_set(err, NST_ERR_USAGE, "%s: the sizes must ascend, got '%s'", opt, v);
    return 0;
}

static int set_iterations(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)on;
    if (cli_split_ints(o->iterations, &o->n_iterations, CLI_MAX_SCALES, opt, v, d->imin, d->imax, err)) return -1;
    o->params.iterations = o->iterations[0];
    return 0;
}

static int set_max_memory(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)d, (void)on;
    if (cli_parse_bytes(v, &o->params.max_memory))
        return nst_error_set(err, NST_ERR_USAGE, "%s: expected a size in bytes, like 8G or 512M, got '%s'", opt, v);
    o->max_memory_given = 1;
    return 0;
}

static int set_content_layers(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                              nst_error *err) {
    (void)d, (void)on;
    return cli_copy_list(o->params.content_layers, sizeof o->params.content_layers, opt, v, err);
}

static int set_style_layers(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                            nst_error *err) {
    (void)d, (void)on;
    nst_params *p = &o->params;
    char old_layers[sizeof p->style_layers];
    memcpy(old_layers, p->style_layers, sizeof old_layers);
    if (cli_copy_list(p->style_layers, sizeof p->style_layers, opt, v, err)) return -1;
    return cli_remap_layer_weights(p, old_layers, opt, err);
}

static int set_style_layer_weights(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                                   nst_error *err) {
    (void)d, (void)on;
    return cli_copy_list(o->params.style_layer_weights, sizeof o->params.style_layer_weights, opt, v, err);
}

static int set_blend(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)on;
    int n = 0;
    if (cli_split_floats(o->params.style_blend, &n, NST_MAX_STYLES, opt, v, d->fmin, d->fmax, err)) return -1;
    o->n_blend = n;
    return 0;
}

static int set_preset(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)on;
    static const char *const names[] = {"default", "tutorial", "gatys"};
    int k;
    if (cli_pick(d, v, opt, &k, err)) return -1;
    if (nst_params_preset(&o->params, names[k], err)) return -1;
    if (k == 1) o->size = 400;   // the tutorial's picture size
    if (k == 0) o->size = 512;   // and back
    o->preset = names[k];
    o->n_iterations = 0;   // the preset's count, unless --iterations follows
    o->n_scales = 0;       // and its stages, unless --scales follows
    return 0;
}

static int set_model_input(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                           nst_error *err) {
    (void)on;
    static const char *const names[] = {NULL, "caffe", "torchvision"};   // auto: the library decides
    int k;
    if (cli_pick(d, v, opt, &k, err)) return -1;
    o->model_input = names[k];
    return 0;
}

static int set_init(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    (void)d, (void)on;
    nst_params *p = &o->params;
    o->init_path = NULL;
    if (!strcmp(v, "content")) p->init = NST_INIT_CONTENT;
    else if (!strcmp(v, "noise")) p->init = NST_INIT_NOISE;
    else if (!strcmp(v, "style")) p->init = NST_INIT_STYLE;
    else if (!*v) return nst_error_set(err, NST_ERR_USAGE, "%s: expected content, noise, style or a file", opt);
    else { p->init = NST_INIT_IMAGE; o->init_path = v; }
    return 0;
}

// ---- OUTPUT.json writers of the options that are not one field as given ------------

static json_t *not_written(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)c;
    *omit = 1;
    return NULL;
}

static json_t *string_of(cli_json_ctx *c, const char *s) {
    json_t *v = json_string(s);
    if (!v && !c->bad_string) c->bad_string = s;
    return v;
}

// A list of names ("a.png", "b.png") as a JSON array of strings.
static json_t *strings_of(cli_json_ctx *c, const char (*names)[1024], int n) {
    json_t *a = json_array();
    for (int s = 0; a && s < n; s++)
        if (json_array_append_new(a, string_of(c, names[s]))) { json_decref(a); return NULL; }
    return a;
}

// A list of numbers as a JSON array: integers, else reals (of floats).
static json_t *array_of(const int *ints, const float *reals, int n) {
    json_t *a = json_array();
    for (int k = 0; a && k < n; k++)
        if (json_array_append_new(a, ints ? json_integer(ints[k]) : reals ? cli_json_real(reals[k]) : NULL)) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *put_style(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    return strings_of(c, c->o->styles, c->o->n_styles);
}

static json_t *put_style_mask(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d;
    *omit = !c->o->n_style_masks;
    return *omit ? NULL : strings_of(c, c->o->style_masks, c->o->n_style_masks);
}

static json_t *put_model(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    return string_of(c, c->run->model_path);
}

static json_t *put_model_input(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d;
    *omit = !c->run->model_input;
    return *omit ? NULL : json_string(c->run->model_input);
}

// The stages: "auto" for the default ones (they follow size and count again, also where
// they came to one stage, below 256 px), the list as run, or "none" for --scales none.
static json_t *put_scales(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    const cli_options *o = c->o;
    if (o->n_scales && !o->scales_auto) return array_of(o->scales, NULL, o->n_scales);
    return json_string(o->n_scales || o->params.stages != NST_STAGES_ONE ? "auto" : "none");
}

// With --scales auto, the total; with a list, one count per stage.
static json_t *put_iterations(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    const cli_options *o = c->o;
    if (!o->n_scales) return json_integer(o->params.iterations);
    if (!o->scales_auto) return array_of(o->iterations, NULL, o->n_scales);
    long long total = 0;
    for (int k = 0; k < o->n_scales; k++) total += o->iterations[k];
    return json_integer(total);
}

static json_t *put_max_memory(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d;
    *omit = !c->o->max_memory_given;   // the physical memory is this machine's, not the run's
    return *omit ? NULL : json_integer((json_int_t)c->o->params.max_memory);
}

static json_t *put_content_layers(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    return json_string(c->run->content_layers);   // as resolved for the model
}

static json_t *put_style_layers(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    return json_string(c->run->style_layers);
}

static json_t *put_style_layer_weights(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    json_t *a = json_array();
    const char *given = c->o->params.style_layer_weights;
    if (given[0]) {   // as given, each the float it reads as
        char buf[sizeof c->o->params.style_layer_weights];
        snprintf(buf, sizeof buf, "%s", given);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); a && tok; tok = strtok_r(NULL, ",", &save))
            if (json_array_append_new(a, cli_json_real(strtof(tok, NULL)))) { json_decref(a); a = NULL; }
    } else {   // 1 for each resolved style layer
        int n = 1;
        for (const char *t = c->run->style_layers; *t; t++) n += *t == ',';
        for (int k = 0; a && k < n; k++)
            if (json_array_append_new(a, json_real(1.0))) { json_decref(a); a = NULL; }
    }
    return a;
}

static json_t *put_blend(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    float w[NST_MAX_STYLES];
    for (int s = 0; s < c->o->n_styles; s++) w[s] = c->o->n_blend ? c->o->params.style_blend[s] : 1;
    return array_of(NULL, w, c->o->n_styles);
}

static json_t *put_preset(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d;
    *omit = !c->o->preset;
    return *omit ? NULL : json_string(c->o->preset);
}

static json_t *put_init(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    const nst_params *p = &c->o->params;
    if (p->init == NST_INIT_IMAGE && c->o->init_path) return string_of(c, c->o->init_path);
    return json_string(p->init == NST_INIT_NOISE ? "noise" : p->init == NST_INIT_STYLE ? "style" : "content");
}

static json_t *put_temporal_frames(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    json_t *list = json_array();
    const cli_options *o = c->o;
    for (int k = 0; list && k < o->n_temporal_frames; k++)
        if (json_array_append_new(list, json_integer(o->temporal_frames[k]))) { json_decref(list); return NULL; }
    return list;
}

static json_t *put_threads(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    int threads = c->o->params.threads;
    return json_integer(threads > 0 ? threads : omp_get_max_threads());
}

// The kernels and precision as they ran, not "auto": the same bytes need the same kernels.
static json_t *put_backend(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    const char *name = nst_backend_name(&c->o->params);
    return json_string(!strncmp(name, "onednn", 6) ? "dnnl" : !strcmp(name, "reference") ? "reference" : "blas");
}

static json_t *put_precision(const cli_option *d, cli_json_ctx *c, int *omit) {
    (void)d, (void)omit;
    return json_string(strstr(nst_backend_name(&c->o->params), "bf16") ? "bf16" : "fp32");
}

// ---- The table ------------------------------------------------------------------

static const int loss_scales[] = {NST_LOSS_SCALE_AUTO, NST_LOSS_SCALE_RAW};
static const int style_losses[] = {NST_STYLE_LOSS_GRAM, NST_STYLE_LOSS_MOMENTS};
static const int colors[] = {NST_COLORS_NONE, NST_COLORS_LUMINANCE, NST_COLORS_LUMINANCE_POST, NST_COLORS_HISTOGRAM};
static const int optimizers[] = {NST_OPTIMIZER_LBFGS, NST_OPTIMIZER_ADAM};
static const int backends[] = {NST_BACKEND_AUTO, NST_BACKEND_REF, NST_BACKEND_BLAS, NST_BACKEND_DNNL};
static const int precisions[] = {NST_PRECISION_FP32, NST_PRECISION_BF16, NST_PRECISION_AUTO};

const cli_option cli_option_table[] = {
    {.name = "content", .short_name = 'c', .kind = CLI_FILE, .metavar = "FILE", .group = "Files",
     .help = "content picture, JPEG or PNG", .required = 1, .field = FIELD(content), .complete = CLI_COMPLETE_FILE},
    {.name = "style", .short_name = 's', .kind = CLI_TEXT, .metavar = "FILE[,FILE...]", .help = "style picture(s)",
     .required = 1, .set = set_style, .put = put_style, .complete = CLI_COMPLETE_FILE_LIST},
    {.name = "output", .short_name = 'o', .kind = CLI_FILE, .metavar = "FILE",
     .help = "result, .png or .jpg, written atomically; the effective options go beside it, to OUTPUT.json",
     .required = 1, .field = FIELD(output), .complete = CLI_COMPLETE_FILE},
    {.name = "model", .short_name = 'm', .kind = CLI_FILE, .metavar = "FILE",
     .help = "VGG19 weights, .safetensors, .pth or Keras .h5",
     .default_note = "$NST_MODEL, else ~/.local/share/nst/vgg19.safetensors", .field = FIELD(model),
     .put = put_model, .complete = CLI_COMPLETE_FILE},
    {.name = "model-input", .kind = CLI_CHOICE, .metavar = "auto|caffe|torchvision", .words = "auto|caffe|torchvision",
     .help = "the model's input convention; auto: from the file's metadata, known weights or format",
     .default_value = "auto", .set = set_model_input, .put = put_model_input, .complete = CLI_COMPLETE_WORDS},
    {.name = "config", .kind = CLI_FILE, .metavar = "FILE",
     .help = "options from a JSON object, as if given here: {\"size\": 512, \"style\": [\"a.jpg\", \"b.jpg\"], "
             "\"quiet\": true, ...}; later options override it; OUTPUT.json is one",
     .default_note = "none", .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN | CLI_NOT_IN_CONFIG},

    {.name = "size", .kind = CLI_INT, .metavar = "N", .group = "Sizes", .help = "longest side of the result",
     .default_value = "512", .imin = 16, .imax = 65536, .field = FIELD(size)},
    {.name = "scales", .kind = CLI_TEXT, .metavar = "auto|none|N,N,...", .words = "auto|none",
     .help = "coarse to fine: a stage at each longest side, ascending, each from the last one's stylization "
             "upsampled; the last is the result's size and --size is not used; auto: from --size 256 up (and 2 "
             "iterations), a stage at size/2 with two thirds of the iterations, then one at size; none: one stage",
     .default_value = "auto", .imin = 16, .imax = 65536, .set = set_scales, .put = put_scales,
     .complete = CLI_COMPLETE_WORDS},
    {.name = "style-scale", .kind = CLI_FLOAT, .metavar = "X", .help = "style pictures are resized to size*X",
     .default_value = "1", .fmin = 0.01, .fmax = 100, .field = FIELD(style_scale)},
    {.name = "max-pixels", .kind = CLI_INT64, .metavar = "N", .help = "refuse pictures larger than N pixels",
     .default_value = "50000000", .imin = 1, .imax = 4000000000LL, .field = FIELD(max_pixels)},
    {.name = "max-memory", .kind = CLI_BYTES, .metavar = "SIZE",
     .help = "refuse a run estimated to need more memory, in bytes or with K, M, G, T: 8G; 0 for no limit",
     .default_note = "the physical memory", .set = set_max_memory, .put = put_max_memory},

    {.name = "content-weight", .kind = CLI_FLOAT, .metavar = "X", .group = "Losses", .help = "alpha",
     .default_value = "1", .fmin = 0, .fmax = 1e30, .field = PARAM(content_weight)},
    {.name = "style-weight", .kind = CLI_FLOAT, .metavar = "X", .help = "beta", .default_value = "10", .fmin = 0,
     .fmax = 1e30, .field = PARAM(style_weight)},
    {.name = "tv-weight", .kind = CLI_FLOAT, .metavar = "X", .help = "gamma, total variation", .default_value = "1",
     .fmin = 0, .fmax = 1e30, .field = PARAM(tv_weight)},
    {.name = "content-layers", .kind = CLI_TEXT, .metavar = "L,...", .help = "the layers of the content loss",
     .default_note = "relu4_2 (relu3_2 on a model that stops at conv3_4)", .words = VGG19_LAYERS,
     .set = set_content_layers, .put = put_content_layers, .complete = CLI_COMPLETE_WORD_LIST},
    {.name = "style-layers", .kind = CLI_TEXT, .metavar = "L,...", .help = "the layers of the style loss",
     .default_note = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 (those present)", .words = VGG19_LAYERS,
     .set = set_style_layers, .put = put_style_layers, .complete = CLI_COMPLETE_WORD_LIST},
    {.name = "style-layer-weights", .kind = CLI_TEXT, .metavar = "W,...", .help = "one per style layer",
     .default_note = "1 each", .set = set_style_layer_weights, .put = put_style_layer_weights},
    {.name = "style-blend-weights", .kind = CLI_TEXT, .metavar = "W,...",
     .help = "one per style picture, normalised to sum 1", .default_note = "equal", .fmin = 0, .fmax = 1e9,
     .set = set_blend, .put = put_blend},
    {.name = "style-mask", .kind = CLI_TEXT, .metavar = "FILE[,FILE...]",
     .help = "one grayscale mask per style picture, white where that style goes",
     .default_note = "none, every style everywhere", .set = set_style_mask, .put = put_style_mask,
     .complete = CLI_COMPLETE_FILE_LIST},
    {.name = "content-mask", .kind = CLI_FILE, .metavar = "FILE",
     .help = "weighs the content loss per pixel: white 1, black 0", .default_note = "none",
     .field = FIELD(content_mask), .complete = CLI_COMPLETE_FILE},
    {.name = "normalize-gradients", .kind = CLI_FLAG,
     .help = "divide each loss term's gradient by its L1 norm", .default_note = "off",
     .field = PARAM(normalize_gradients)},
    {.name = "loss-scale", .kind = CLI_CHOICE, .metavar = "auto|raw", .words = "auto|raw", .values = loss_scales,
     .help = "auto: each term relative to its target, the picture in pixel units, so the weights mean the same "
             "for any model; raw: nst 0.2's and PyTorch's unnormalized terms",
     .default_value = "auto", .field = PARAM(loss_scale), .complete = CLI_COMPLETE_WORDS},
    {.name = "style-loss", .kind = CLI_CHOICE, .metavar = "gram|moments", .words = "gram|moments",
     .values = style_losses,
     .help = "gram: match Gram matrices (Gatys et al.); moments: match each channel's mean and standard deviation "
             "(Li et al. 2017), cheaper and looser; style masks need gram",
     .default_value = "gram", .field = PARAM(style_loss), .complete = CLI_COMPLETE_WORDS},
    {.name = "pooling", .kind = CLI_CHOICE, .metavar = "max|avg", .words = "max|avg", .help = "",
     .default_value = "max", .field = PARAM(avg_pool), .complete = CLI_COMPLETE_WORDS},
    {.name = "preserve-colors", .kind = CLI_CHOICE, .metavar = "none|luminance|luminance-post|histogram",
     .words = "none|luminance|luminance-post|histogram", .values = colors,
     .help = "keep the content's colours: luminance-only transfer, the content's chroma put back afterwards, or "
             "the styles' colours matched to the content first",
     .default_value = "none", .field = PARAM(preserve_colors), .complete = CLI_COMPLETE_WORDS},

    {.name = "optimizer", .kind = CLI_CHOICE, .metavar = "lbfgs|adam", .group = "Optimization",
     .words = "lbfgs|adam", .values = optimizers, .help = "", .default_value = "lbfgs", .field = PARAM(optimizer),
     .complete = CLI_COMPLETE_WORDS},
    {.name = "iterations", .kind = CLI_TEXT, .metavar = "N[,N...]",
     .help = "one count per stage of --scales, or one for them all: split by --scales auto, run by every stage "
             "of a list",
     .default_value = "150", .imin = 0, .imax = 100000000, .set = set_iterations, .put = put_iterations},
    {.name = "lr", .kind = CLI_FLOAT, .metavar = "X", .help = "Adam learning rate / L-BFGS step scale",
     .default_value = "1", .fmin = 1e-12, .fmax = 1e6, .field = PARAM(lr)},
    {.name = "lbfgs-history", .kind = CLI_INT, .metavar = "N", .help = "", .default_value = "20", .imin = 1,
     .imax = 1000, .field = PARAM(lbfgs_history)},
    {.name = "init", .kind = CLI_TEXT, .metavar = "content|noise|style|FILE", .words = "content|noise|style",
     .help = "starting image", .default_value = "content", .set = set_init, .put = put_init,
     .complete = CLI_COMPLETE_WORDS_OR_FILE},
    {.name = "init-noise-blend", .kind = CLI_FLOAT, .metavar = "X", .help = "mix this much noise, 0..1, into the start",
     .default_value = "0", .fmin = 0, .fmax = 1, .field = PARAM(init_noise_blend)},
    {.name = "seed", .kind = CLI_INT64, .metavar = "N", .help = "for the noise", .default_value = "0", .imin = 0,
     .imax = 0x7fffffffffffffffLL, .field = PARAM(seed)},
    {.name = "preset", .kind = CLI_CHOICE, .metavar = "NAME", .words = "default|tutorial|gatys",
     .help = "default | tutorial | gatys; later options override it", .default_note = "none", .set = set_preset,
     .put = put_preset, .complete = CLI_COMPLETE_WORDS},
    {.name = "threads", .kind = CLI_INT, .metavar = "N", .help = "", .default_note = "all cores", .imin = 0,
     .imax = 1024, .field = PARAM(threads), .put = put_threads},
    {.name = "backend", .kind = CLI_CHOICE, .metavar = "auto|reference|blas|dnnl",
     .words = "auto|reference|blas|dnnl", .values = backends, .help = "convolution kernels",
     .default_value = "auto", .default_note = "the fastest built in", .field = PARAM(backend), .put = put_backend,
     .complete = CLI_COMPLETE_WORDS},
    {.name = "precision", .kind = CLI_CHOICE, .metavar = "fp32|bf16|auto", .words = "fp32|bf16|auto",
     .values = precisions,
     .help = "convolutions in float32 or bfloat16 (needs AVX512-BF16 or AMX); auto: bf16 where the CPU has AMX, "
             "else fp32",
     .default_value = "auto", .field = PARAM(precision), .put = put_precision, .complete = CLI_COMPLETE_WORDS},

    {.name = "log", .kind = CLI_FILE, .metavar = "FILE", .group = "Output",
     .help = "one JSON object per iteration", .default_note = "none", .field = FIELD(log_path),
     .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},
    {.name = "save-every", .kind = CLI_INT, .metavar = "N", .help = "also write OUTPUT-iterNNNN.ext every N iterations",
     .default_value = "0", .default_note = "off", .imin = 0, .imax = 100000000, .field = FIELD(save_every),
     .flags = CLI_NOT_WRITTEN},
    {.name = "plot", .kind = CLI_FILE, .metavar = "FILE.svg|FILE.png",
     .help = "the loss terms against iteration and time, log scale, written at the end or on interrupt",
     .default_note = "none", .field = FIELD(plot_path), .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},
    {.name = "animate", .kind = CLI_FILE, .metavar = "FILE.gif",
     .help = "the optimization as an animated GIF, at most 100 frames of at most 256 px", .default_note = "none",
     .field = FIELD(animate_path), .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},
    {.name = "animate-every", .kind = CLI_INT, .metavar = "N", .help = "a frame every N iterations",
     .default_note = "iterations/50, at least 1", .imin = 1, .imax = 100000000, .field = FIELD(animate_every),
     .flags = CLI_NOT_WRITTEN},
    {.name = "contact-sheet", .kind = CLI_FILE, .metavar = "FILE",
     .help = "content, style(s) and result side by side, labelled, .png or .jpg", .default_note = "none",
     .field = FIELD(contact_path), .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},

    {.name = "temporal-weight", .kind = CLI_FLOAT, .metavar = "X", .group = "Video (nst video only)",
     .help = "ties each frame to the previous stylized frame warped along the optical flow, where the flow is "
             "consistent (Ruder et al. 2016); 0: frames only start from it",
     .default_value = CLI_VIDEO_TEMPORAL_WEIGHT, .fmin = 0, .fmax = 1e30, .field = PARAM(temporal_weight),
     .flags = CLI_VIDEO},
    {.name = "flow", .kind = CLI_CHOICE, .metavar = "dis|none", .words = "dis|none",
     .help = "optical flow between frames: OpenCV's DIS; none: every frame stylized on its own",
     .default_value = "dis", .field = FIELD(flow), .complete = CLI_COMPLETE_WORDS, .flags = CLI_VIDEO},
    {.name = "frame-iterations", .kind = CLI_INT, .metavar = "N",
     .help = "iterations of each frame after the first (which runs --iterations); 0: half of --iterations",
     .default_value = "0", .imin = 0, .imax = 100000000, .field = FIELD(frame_iterations), .flags = CLI_VIDEO},
    {.name = "temporal-frames", .kind = CLI_TEXT, .metavar = "J,...",
     .help = "the earlier frames each frame is tied to, as distances: 1 the previous; 1,2,4 adds long-term "
             "consistency", .default_value = "1", .imin = 1, .imax = 63, .set = set_temporal_frames,
     .put = put_temporal_frames, .flags = CLI_VIDEO},
    {.name = "fps", .kind = CLI_INT, .metavar = "N",
     .help = "frame rate of a picture-sequence input (a video file keeps its own)", .default_value = "25",
     .imin = 1, .imax = 1000, .field = FIELD(fps), .flags = CLI_VIDEO},
    {.name = "checkpoint", .kind = CLI_FILE, .metavar = "FILE", .group = "Long runs",
     .help = "write the whole state of the run (picture, optimizer memory, iteration) to FILE, atomically, every "
             "N iterations, at the end, and on SIGINT/SIGTERM",
     .default_note = "none", .field = PARAM(checkpoint), .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},
    {.name = "checkpoint-every", .kind = CLI_INT, .metavar = "N", .help = "0: only at the end and on a signal",
     .default_value = "50", .imin = 0, .imax = 100000000,
     .field = PARAM(checkpoint_every), .flags = CLI_NOT_WRITTEN},
    {.name = "resume", .kind = CLI_FILE, .metavar = "FILE",
     .help = "go on from a checkpoint: the same pictures, model and options, only --iterations may grow; with the "
             "same --threads and --backend the result is the uninterrupted run's, bit for bit",
     .default_note = "none", .field = PARAM(resume), .complete = CLI_COMPLETE_FILE, .flags = CLI_NOT_WRITTEN},
    {.name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .help = "no progress bar or messages",
     .default_note = "off", .field = FIELD(quiet), .flags = CLI_NOT_WRITTEN},
    {.name = "help", .short_name = 'h', .kind = CLI_FLAG, .help = "this help",
     .flags = CLI_NOT_WRITTEN | CLI_NOT_IN_CONFIG},
    {.name = "version", .kind = CLI_FLAG, .help = "the version", .flags = CLI_NOT_WRITTEN | CLI_NOT_IN_CONFIG},
};
const size_t cli_option_count = sizeof cli_option_table / sizeof *cli_option_table;

// ---- Looking up, applying, writing --------------------------------------------------

const cli_option *cli_option_find(const char *name) {
    for (size_t i = 0; i < cli_option_count; i++)
        if (!strcmp(cli_option_table[i].name, name)) return &cli_option_table[i];
    return NULL;
}

const cli_option *cli_option_of_arg(const char *a) {
    if (a[0] == '-' && a[1] == '-') return cli_option_find(a + 2);
    if (a[0] == '-' && a[1] && !a[2])
        for (size_t i = 0; i < cli_option_count; i++)
            if (cli_option_table[i].short_name == a[1]) return &cli_option_table[i];
    return NULL;
}

const char *cli_option_word(const cli_option *d, int k, char *buf, size_t n) {
    buf[0] = 0;
    const char *w = d->words;
    for (int i = 0; w && *w; i++) {
        size_t len = strcspn(w, "|");
        if (i == k) { snprintf(buf, n, "%.*s", (int)len, w); break; }
        w += len + (w[len] ? 1 : 0);
    }
    return buf;
}

int cli_option_apply(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err) {
    if ((d->flags & CLI_VIDEO) && !o->video) return nst_error_set(err, NST_ERR_USAGE, "%s: an option of nst video", opt);
    if (d->set) return d->set(o, d, v, on, opt, err);
    void *field = (char *)o + d->field;
    long long iv;
    int k;
    switch (d->kind) {
    case CLI_FLAG: *(int *)field = on; return 0;
    case CLI_INT:
        if (cli_parse_int(opt, v, d->imin, d->imax, &iv, err)) return -1;
        *(int *)field = (int)iv;
        return 0;
    case CLI_INT64:
        if (cli_parse_int(opt, v, d->imin, d->imax, &iv, err)) return -1;
        *(long long *)field = iv;
        return 0;
    case CLI_FLOAT: return cli_parse_float(opt, v, d->fmin, d->fmax, (float *)field, err);
    case CLI_CHOICE:
        if (cli_pick(d, v, opt, &k, err)) return -1;
        *(int *)field = d->values ? d->values[k] : k;
        return 0;
    case CLI_FILE: *(const char **)field = v; return 0;
    default: return nst_error_set(err, NST_ERR_USAGE, "%s: not handled", opt);   // not reached: a TEXT has a setter
    }
}

json_t *cli_option_json(const cli_option *d, cli_json_ctx *c, int *omit) {
    *omit = 0;
    if ((d->flags & CLI_NOT_WRITTEN) || ((d->flags & CLI_VIDEO) && !c->o->video)) return not_written(d, c, omit);
    if (d->put) return d->put(d, c, omit);
    const void *field = (const char *)c->o + d->field;
    char word[64];
    switch (d->kind) {
    case CLI_FLAG: return json_boolean(*(const int *)field);
    case CLI_INT: return json_integer(*(const int *)field);
    case CLI_INT64: return json_integer((json_int_t)*(const long long *)field);
    case CLI_FLOAT: return cli_json_real(*(const float *)field);
    case CLI_CHOICE:
        for (int k = 0; *cli_option_word(d, k, word, sizeof word); k++)
            if ((d->values ? d->values[k] : k) == *(const int *)field) return json_string(word);
        return json_string(cli_option_word(d, 0, word, sizeof word));   // not a value it can have: the first
    case CLI_FILE:
        *omit = !*(const char *const *)field;
        return *omit ? NULL : string_of(c, *(const char *const *)field);
    default: return NULL;
    }
}
