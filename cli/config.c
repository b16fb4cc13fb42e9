// config.c: OUTPUT.json, the effective options of a run, readable by --config.
#include <stdio.h>
#include "config.h"
#include "files.h"
#include "util/status.h"
#include <jansson.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void cli_config_path(char *buf, size_t n, const char *output) { snprintf(buf, n, "%s.json", output); }

// A float as the shortest decimal that reads back as the same float.
static json_t *real_of(float v) {
    char buf[64];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return json_real(strtod(buf, NULL));
}

// A comma-separated list of numbers ("1,0.75,0.2") as a JSON array of reals.
static json_t *reals_of_list(const char *list) {
    json_t *a = json_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); a && tok; tok = strtok_r(NULL, ",", &save))
        json_array_append_new(a, real_of(strtof(tok, NULL)));
    return a;
}

// Adds key: value; a NULL value (a failed allocation, or a string that is not
// UTF-8) marks the object as failed.
static void put(json_t *obj, const char *key, json_t *value, int *bad) {
    if (!value || json_object_set_new(obj, key, value)) *bad = 1;
}

static json_t *string_of(const char *s, int *bad, const char **bad_string) {
    json_t *v = json_string(s);
    if (!v && !*bad_string) *bad_string = s;
    if (!v) *bad = 1;
    return v;
}

char *cli_config_json(const cli_options *o, const cli_run_info *run, nst_error *err) {
    const nst_params *p = &o->params;
    json_t *obj = json_object();
    if (!obj) { nst_fail(err, NST_ERR_NOMEM, "out of memory"); return NULL; }
    int bad = 0;
    const char *bad_string = NULL;
    put(obj, "nst-version", json_string(nst_version()), &bad);
    // first the preset, whose settings (such as the tutorial's raw Gram matrices) have
    // no option of their own; every key after it overrides what it set
    if (o->preset) put(obj, "preset", json_string(o->preset), &bad);
    put(obj, "content", string_of(o->content, &bad, &bad_string), &bad);
    json_t *styles = json_array();
    for (int s = 0; styles && s < o->n_styles; s++)
        if (json_array_append_new(styles, string_of(o->styles[s], &bad, &bad_string))) bad = 1;
    put(obj, "style", styles, &bad);
    put(obj, "output", string_of(o->output, &bad, &bad_string), &bad);
    put(obj, "model", string_of(run->model_path, &bad, &bad_string), &bad);
    put(obj, "size", json_integer(o->size), &bad);
    if (o->n_scales && o->scales_auto) {   // the default stages: they follow size and count again
        long long total = 0;
        for (int k = 0; k < o->n_scales; k++) total += o->iterations[k];
        put(obj, "scales", json_string("auto"), &bad);
        put(obj, "iterations", json_integer(total), &bad);
    } else if (o->n_scales) {
        json_t *a = json_array();
        for (int k = 0; a && k < o->n_scales; k++) json_array_append_new(a, json_integer(o->scales[k]));
        put(obj, "scales", a, &bad);
        a = json_array();
        for (int k = 0; a && k < o->n_scales; k++) json_array_append_new(a, json_integer(o->iterations[k]));
        put(obj, "iterations", a, &bad);
    } else {   // one stage: said, so that a rerun does not get the default stages
        put(obj, "scales", json_string("none"), &bad);
        put(obj, "iterations", json_integer(p->iterations), &bad);
    }
    put(obj, "style-scale", real_of(o->style_scale), &bad);
    put(obj, "max-pixels", json_integer(o->max_pixels), &bad);
    if (o->max_memory_given) put(obj, "max-memory", json_integer((json_int_t)p->max_memory), &bad);
    put(obj, "content-weight", real_of(p->content_weight), &bad);
    put(obj, "style-weight", real_of(p->style_weight), &bad);
    put(obj, "tv-weight", real_of(p->tv_weight), &bad);
    put(obj, "content-layers", json_string(run->content_layers), &bad);
    put(obj, "style-layers", json_string(run->style_layers), &bad);
    if (p->style_layer_weights[0]) {
        put(obj, "style-layer-weights", reals_of_list(p->style_layer_weights), &bad);
    } else {   // 1 for each resolved style layer
        json_t *a = json_array();
        int n = 1;
        for (const char *c = run->style_layers; *c; c++) n += *c == ',';
        for (int k = 0; a && k < n; k++) json_array_append_new(a, json_real(1.0));
        put(obj, "style-layer-weights", a, &bad);
    }
    json_t *blend = json_array();
    for (int s = 0; blend && s < o->n_styles; s++)
        json_array_append_new(blend, o->n_blend ? real_of(p->style_blend[s]) : json_real(1.0));
    put(obj, "style-blend-weights", blend, &bad);
    if (o->n_style_masks) {
        json_t *a = json_array();
        for (int s = 0; a && s < o->n_style_masks; s++)
            if (json_array_append_new(a, string_of(o->style_masks[s], &bad, &bad_string))) bad = 1;
        put(obj, "style-mask", a, &bad);
    }
    if (o->content_mask) put(obj, "content-mask", string_of(o->content_mask, &bad, &bad_string), &bad);
    put(obj, "normalize-gradients", json_boolean(p->normalize_gradients), &bad);
    put(obj, "loss-scale", json_string(p->loss_scale == NST_LOSS_SCALE_RAW ? "raw" : "auto"), &bad);
    if (run->model_input) put(obj, "model-input", json_string(run->model_input), &bad);
    put(obj, "pooling", json_string(p->avg_pool ? "avg" : "max"), &bad);
    static const char *const colors[] = {"none", "luminance", "luminance-post", "histogram"};
    put(obj, "preserve-colors", json_string((unsigned)p->preserve_colors < 4 ? colors[p->preserve_colors] : "none"), &bad);
    put(obj, "optimizer", json_string(p->optimizer == NST_OPTIMIZER_ADAM ? "adam" : "lbfgs"), &bad);
    put(obj, "lr", real_of(p->lr), &bad);
    put(obj, "lbfgs-history", json_integer(p->lbfgs_history), &bad);
    const char *init = p->init == NST_INIT_NOISE ? "noise" : p->init == NST_INIT_STYLE ? "style" : "content";
    if (p->init == NST_INIT_IMAGE && o->init_path) put(obj, "init", string_of(o->init_path, &bad, &bad_string), &bad);
    else put(obj, "init", json_string(init), &bad);
    put(obj, "init-noise-blend", real_of(p->init_noise_blend), &bad);
    put(obj, "seed", json_integer((json_int_t)p->seed), &bad);
    put(obj, "threads", json_integer(p->threads > 0 ? p->threads : omp_get_max_threads()), &bad);
    // the kernels as they ran, not "auto": the same bytes need the same kernels
    const char *name = nst_backend_name(p);
    const char *backend = !strncmp(name, "onednn", 6) ? "dnnl" : !strcmp(name, "reference") ? "reference" : "blas";
    put(obj, "backend", json_string(backend), &bad);
    put(obj, "precision", json_string(strstr(name, "bf16") ? "bf16" : "fp32"), &bad);
    char *text = bad ? NULL : json_dumps(obj, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(obj);
    if (!text) {
        if (bad_string) nst_fail(err, NST_ERR_USAGE, "%s: the name is not UTF-8 and cannot go into a JSON file", bad_string);
        else nst_fail(err, NST_ERR_NOMEM, "out of memory writing the configuration");
    }
    return text;
}

int cli_config_write(const char *path, const cli_options *o, const cli_run_info *run, nst_error *err) {
    char *text = cli_config_json(o, run, err);
    if (!text) return err ? err->code : NST_ERR_NOMEM;
    size_t n = strlen(text);
    char *with_newline = malloc(n + 2);
    if (!with_newline) { free(text); return nst_fail(err, NST_ERR_NOMEM, "out of memory"); }
    memcpy(with_newline, text, n);
    with_newline[n] = '\n';
    with_newline[n + 1] = 0;
    free(text);
    int rc = cli_write_text_atomic(path, with_newline, err);
    free(with_newline);
    return rc;
}
