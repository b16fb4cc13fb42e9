// config.c: OUTPUT.json, the effective options of a run, readable by --config.
#include <stdio.h>
#include "config.h"
#include "files.h"
#include "option_table.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_config_path(char *buf, size_t n, const char *output) { snprintf(buf, n, "%s.json", output); }

// JSON has no NaN or infinity: null then.
static json_t *number_of(double v) { return isfinite(v) ? json_real(v) : json_null(); }

// The run's end: its last iteration, the loss and every term by name, as the log has them.
static json_t *result_of(const nst_progress *p) {
    json_t *r = json_object();
    int bad = !r || json_object_set_new(r, "iteration", json_integer(p->iter)) ||
              json_object_set_new(r, "loss", number_of(p->loss));
    for (int t = 0; !bad && t < p->n_terms; t++) bad = json_object_set_new(r, p->term_name[t], number_of(p->term[t]));
    if (bad) { json_decref(r); return NULL; }
    return r;
}

char *cli_config_json(const cli_options *o, const cli_run_info *run, nst_error *err) {
    json_t *obj = json_object();
    if (!obj) { nst_error_set(err, NST_ERR_NOMEM, "out of memory"); return NULL; }
    int bad = json_object_set_new(obj, "nst-version", json_string(nst_version()));
    cli_json_ctx ctx = {o, run, NULL};
    // first the preset, whose settings (such as the tutorial's raw Gram matrices) have
    // no option of their own; every key after it overrides what it set
    const cli_option *preset = cli_option_find("preset");
    for (size_t i = 0; !bad && i <= cli_option_count; i++) {
        const cli_option *d = i == 0 ? preset : &cli_option_table[i - 1];
        if (i > 0 && d == preset) continue;
        int omit = 0;
        json_t *value = cli_option_json(d, &ctx, &omit);
        // NULL: a failed allocation, or a string that is not UTF-8
        if (!omit) bad = !value || json_object_set_new(obj, d->name, value);
    }
    if (!bad && run->result) bad = json_object_set(obj, "result", run->result);
    else if (!bad && run->last) bad = json_object_set_new(obj, "result", result_of(run->last));
    char *text = bad ? NULL : json_dumps(obj, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(obj);
    if (!text) {
        if (ctx.bad_string)
            nst_error_set(err, NST_ERR_USAGE, "%s: the name is not UTF-8 and cannot go into a JSON file", ctx.bad_string);
        else nst_error_set(err, NST_ERR_NOMEM, "out of memory writing the configuration");
    }
    return text;
}
int cli_config_write(const char *path, const cli_options *o, const cli_run_info *run, nst_error *err) {
    char *text = cli_config_json(o, run, err);
    if (!text) return err ? err->code : NST_ERR_NOMEM;
    size_t n = strlen(text);
    char *with_newline = malloc(n + 2);
    if (!with_newline) { free(text); return nst_error_set(err, NST_ERR_NOMEM, "out of memory"); }
    memcpy(with_newline, text, n);
    with_newline[n] = '\n';
    with_newline[n + 1] = 0;
    free(text);
    int rc = cli_write_text_atomic(path, with_newline, err);
    free(with_newline);
    return rc;
}
