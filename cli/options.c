// options.c: the command line of `nst` (run mode) and --config files, read through
// the option table (option_table.c).
#include <stdio.h>
#include "options.h"
#include "option_table.h"
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int cli_check_style_size(const cli_options *o, int s, const nst_image *style_full, nst_error *err) {
    int w, h;
    nst_fit_size(style_full->w, style_full->h, nst_style_size(o->size, o->style_scale), &w, &h);
    // at most the run's own size: the size asked for, even past --max-pixels
    if (o->style_scale <= 1 || (long long)w * h <= o->max_pixels) return NST_OK;
    return nst_error_set(err, NST_ERR_LIMIT, "%s: --style-scale %g at --size %d makes it %dx%d, over --max-pixels %lld",
                         o->styles[s], o->style_scale, o->size, w, h, (long long)o->max_pixels);
}

int cli_resolve_layers(const cli_options *o, const nst_model *m, const char *model_path, char *content, size_t content_len,
                       char *style, size_t style_len, nst_error *err) {
    int rc = nst_resolve_layers(m, &o->params, content, content_len, style, style_len, err);
    if (rc != NST_ERR_MODEL) return rc;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return nst_error_set(err, rc, "%s: %s; choose layers it has with --content-layers and --style-layers", model_path,
                         msg);
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

// A JSON list as the command line spells it: its items joined by commas.
static int join_list(const json_t *value, char *text, size_t n, const char *opt, nst_error *err) {
    size_t i, len = 0;
    json_t *item;
    text[0] = 0;
    if (json_array_size(value) == 0) return nst_error_set(err, NST_ERR_USAGE, "%s: an empty list", opt);
    json_array_foreach(value, i, item) {
        char one[2048];
        if (!scalar_text(item, one, sizeof one))
            return nst_error_set(err, NST_ERR_USAGE, "%s: item %zu: expected a string or a number", opt, i + 1);
        if (strchr(one, ',')) return nst_error_set(err, NST_ERR_USAGE, "%s: item %zu holds a comma", opt, i + 1);
        size_t l = strlen(one);
        if (len + l + 2 > n) return nst_error_set(err, NST_ERR_USAGE, "%s: list too long", opt);
        if (i) text[len++] = ',';
        memcpy(text + len, one, l + 1);
        len += l;
    }
    return 0;
}

// err's message begun with "prefix: " unless it begins with `unless` already. Returns -1.
static int name_in_error(nst_error *err, const char *unless, const char *prefix) {
    if (err && strncmp(err->msg, unless, strlen(unless))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        nst_error_set(err, err->code, "%s: %s", prefix, msg);
    }
    return -1;
}

// One key of a --config file (path) applied to o.
static int apply_config_key(cli_options *o, const char *path, const char *key, const json_t *value, nst_error *err) {
    char opt[1200], text[4096];
    snprintf(opt, sizeof opt, "%s: \"%s\"", path, key);
    if (!strcmp(key, "nst-version")) {   // written to OUTPUT.json for the record; not an option
        if (!json_is_string(value)) return nst_error_set(err, NST_ERR_USAGE, "%s: expected a string", opt);
        return 0;
    }
    if (!strcmp(key, "result")) {   // OUTPUT.json's record of the run's end; not an option
        if (!json_is_object(value)) return nst_error_set(err, NST_ERR_USAGE, "%s: expected an object", opt);
        return 0;
    }
    const cli_option *d = cli_option_find(key);
    if (!d)
        return nst_error_set(err, NST_ERR_USAGE, "%s: unknown key (keys are long option names: \"size\", \"style\", ...)",
                             opt);
    if (d->flags & CLI_NOT_IN_CONFIG) return nst_error_set(err, NST_ERR_USAGE, "%s: not allowed in a config file", opt);
    if (d->kind == CLI_FLAG) {
        if (!json_is_boolean(value)) return nst_error_set(err, NST_ERR_USAGE, "%s: expected true or false", opt);
        return cli_option_apply(o, d, NULL, json_is_true(value), opt, err);
    }
    if (json_is_array(value)) {
        if (join_list(value, text, sizeof text, opt, err)) return -1;
    } else if (!scalar_text(value, text, sizeof text)) {
        return nst_error_set(err, NST_ERR_USAGE, "%s: %s", opt,
                             json_is_string(value) ? "the string is too long or holds a NUL byte"
                             : json_is_number(value) ? "the number is not finite"
                                                     : "expected a string, a number or a list of them");
    }
    const char *v = pool_copy(o, text, strlen(text));
    if (!v) return nst_error_set(err, NST_ERR_USAGE, "%s: the config file holds too much text", path);
    // name the file and key in every message
    if (cli_option_apply(o, d, v, 1, opt, err)) return name_in_error(err, path, opt);
    return 0;
}

json_t *cli_read_json_object(const char *path, nst_error *err) {
    json_error_t jerr;
    FILE *f = fopen(path, "rb");
    if (!f) {
        nst_error_set(err, NST_ERR_IO, "%s: cannot read the config file: %s", path, strerror(errno));
        return NULL;
    }
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        json_decref(root);
        nst_error_set(err, NST_ERR_IO, "%s: cannot read the config file", path);
        return NULL;
    }
    if (!root) {
        nst_error_set(err, NST_ERR_FORMAT, "%s: not valid JSON: %s (line %d, column %d)", path, jerr.text, jerr.line,
                      jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        nst_error_set(err, NST_ERR_FORMAT, "%s: the config file must hold one JSON object", path);
        return NULL;
    }
    return root;
}

// Every key of a JSON object (from `label`, a file or a batch's line) applied to o.
static int apply_object(cli_options *o, const char *label, const json_t *obj, nst_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
        if (apply_config_key(o, label, key, value, err)) return -1;
    return 0;
}

static int apply_config(cli_options *o, const char *path, nst_error *err) {
    json_t *root = cli_read_json_object(path, err);
    if (!root) return -1;
    int rc = apply_object(o, path, root, err);
    json_decref(root);
    return rc;
}

void cli_options_default(cli_options *o) {
    memset(o, 0, sizeof *o);
    nst_params_default(&o->params);
    o->size = 512;
    o->style_scale = 1.0f;
    o->max_pixels = NST_DEFAULT_MAX_PIXELS;
    o->params.max_memory = cli_physical_memory();
}

// The arguments, in order, applied to o. Returns 0, 1 after --help or --version, or -1.
static int apply_arguments(cli_options *o, int argc, char **argv, nst_error *err) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL, *v = NULL;
        char name[64];
        if (eq) {   // --name=value, as GNU programs take it
            snprintf(name, sizeof name, "%.*s", (int)(eq - a) < 63 ? (int)(eq - a) : 63, a);
            a = name;
            v = eq + 1;
        }
        const cli_option *d = cli_option_of_arg(a);
        if (!d) {
            if (a[0] != '-' || !a[1]) nst_error_set(err, NST_ERR_USAGE, "unexpected argument '%s'", a);
            else nst_error_set(err, NST_ERR_USAGE, "unknown option '%s' (see nst --help)", a);
            return -1;
        }
        if (!strcmp(d->name, "help")) { cli_usage(stdout); return 1; }
        if (!strcmp(d->name, "version")) { printf("nst %s\n", nst_version()); return 1; }
        if (eq && d->kind == CLI_FLAG) { nst_error_set(err, NST_ERR_USAGE, "%s takes no value", a); return -1; }
        if (!eq && d->kind != CLI_FLAG) {
            if (i + 1 >= argc) { nst_error_set(err, NST_ERR_USAGE, "%s needs a value", a); return -1; }
            v = argv[++i];
        }
        if (!strcmp(d->name, "config")) {
            if (apply_config(o, v, err)) return -1;
            continue;
        }
        if (cli_option_apply(o, d, v, 1, a, err)) return -1;
    }
    return 0;
}

// What a run needs, and lists that must agree in length.
static int check_required(const cli_options *o, nst_error *err) {
    if (!o->content) return nst_error_set(err, NST_ERR_USAGE, "no content picture: use -c FILE");
    if (!o->n_styles) return nst_error_set(err, NST_ERR_USAGE, "no style picture: use -s FILE");
    if (!o->output) return nst_error_set(err, NST_ERR_USAGE, "no output file: use -o FILE");
    float blend_sum = 0;
    for (int s = 0; s < o->n_blend; s++) blend_sum += o->params.style_blend[s];
    if (o->n_blend && !(blend_sum > 0))
        return nst_error_set(err, NST_ERR_USAGE, "--style-blend-weights: the weights are all 0 (give one above 0)");
    // each style is matched inside its own mask, at its own Gram: unequal weights would be ignored
    // (equal ones are what OUTPUT.json records for a masked run)
    int unequal = 0;
    for (int s = 1; s < o->n_blend; s++) unequal |= o->params.style_blend[s] != o->params.style_blend[0];
    if (unequal && o->n_style_masks)
        return nst_error_set(err, NST_ERR_USAGE, "--style-blend-weights do not apply with --style-mask: each style "
                                                 "is matched inside its own mask");
    if (o->n_blend && o->n_blend != o->n_styles)
        return nst_error_set(err, NST_ERR_USAGE, "--style-blend-weights: %d weights for %d style pictures", o->n_blend,
                             o->n_styles);
    if (o->n_style_masks && o->n_style_masks != o->n_styles)
        return nst_error_set(err, NST_ERR_USAGE, "--style-mask: %d masks for %d style pictures", o->n_style_masks,
                             o->n_styles);
    return 0;
}

// The stages and the iterations of each: a --scales list as given, else the library's
// schedule (its stage count from the size and the total, also when a list gives each
// stage's).
static int resolve_stages(cli_options *o, nst_error *err) {
    if (o->n_iterations <= 1) { o->iterations[0] = o->params.iterations; o->n_iterations = 1; }   // also a preset's
    o->scales_auto = 0;
    if (!o->n_scales) {   // --scales auto (the default) or none
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
    if (!o->n_scales) {
        if (o->n_iterations > 1)
            return nst_error_set(err, NST_ERR_USAGE, "--iterations: a list of %d counts needs --scales with as many sizes",
                                 o->n_iterations);
        return 0;
    }
    if (o->n_iterations != 1 && o->n_iterations != o->n_scales)
        return nst_error_set(err, NST_ERR_USAGE, "--iterations: %d counts for %d scales (give one, or one per scale)",
                             o->n_iterations, o->n_scales);
    if (o->n_iterations == 1)
        for (int k = 1; k < o->n_scales; k++) o->iterations[k] = o->iterations[0];
    o->n_iterations = o->n_scales;
    long long total = 0;
    for (int k = 0; k < o->n_scales; k++) total += o->iterations[k];
    if (total > 100000000) return nst_error_set(err, NST_ERR_USAGE, "--iterations: %lld in all is too many", total);
    o->size = o->scales[o->n_scales - 1];
    return 0;
}

void cli_options_default_mode(cli_options *o, int video) {
    cli_options_default(o);
    if (!video) return;
    o->video = 1;
    o->params.temporal_weight = strtof(CLI_VIDEO_TEMPORAL_WEIGHT, NULL);
    o->temporal_frames[0] = 1;
    o->n_temporal_frames = 1;
    o->fps = 25;
}

static int parse_mode(cli_options *o, int video, int argc, char **argv, nst_error *err) {
    cli_options_default_mode(o, video);
    int r = apply_arguments(o, argc, argv, err);
    if (r) return r;
    if (check_required(o, err) || resolve_stages(o, err)) return -1;
    return 0;
}

int cli_parse(cli_options *o, int argc, char **argv, nst_error *err) { return parse_mode(o, 0, argc, argv, err); }
int cli_parse_video(cli_options *o, int argc, char **argv, nst_error *err) { return parse_mode(o, 1, argc, argv, err); }

int cli_parse_json_mode(cli_options *o, int video, const char *label, const json_t *obj, nst_error *err) {
    cli_options_default_mode(o, video);
    if (apply_object(o, label, obj, err)) return -1;
    if (check_required(o, err) || resolve_stages(o, err)) return name_in_error(err, label, label);
    return 0;
}
int cli_parse_json(cli_options *o, const char *label, const json_t *obj, nst_error *err) {
    return cli_parse_json_mode(o, 0, label, obj, err);
}
