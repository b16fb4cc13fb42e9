// option_values.c: the values of options as text (see option_values.h).
#include <stdio.h>
#include "option_values.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out, nst_error *err) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return nst_error_set(err, NST_ERR_USAGE, "%s: expected an integer from %lld to %lld, got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

int cli_parse_float(const char *opt, const char *s, double lo, double hi, float *out, nst_error *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi))
        return nst_error_set(err, NST_ERR_USAGE, "%s: expected a number from %g to %g, got '%s'", opt, lo, hi, s);
    *out = (float)v;
    return 0;
}

int cli_pick(const cli_option *d, const char *v, const char *opt, int *k, nst_error *err) {
    char word[64], expected[256] = "";
    int n = 0;
    while (*cli_option_word(d, n, word, sizeof word)) {
        if (!strcmp(v, word)) { *k = n; return 0; }
        n++;
    }
    // "a, b or c"
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof expected; i++)
        len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                                cli_option_word(d, i, word, sizeof word));
    return nst_error_set(err, NST_ERR_USAGE, "%s: expected %s, got '%s'", opt, expected, v);
}

int cli_copy_list(char *dst, size_t n, const char *opt, const char *s, nst_error *err) {
    if (strlen(s) >= n) return nst_error_set(err, NST_ERR_USAGE, "%s: list too long", opt);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

int cli_split_files(char names[][1024], int *count, int max, const char *opt, const char *s, nst_error *err) {
    *count = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*count >= max) return nst_error_set(err, NST_ERR_USAGE, "%s: at most %d files", opt, max);
        if (len == 0 || len >= 1024) return nst_error_set(err, NST_ERR_USAGE, "%s: bad file list '%s'", opt, s);
        memcpy(names[*count], p, len);
        names[(*count)++][len] = 0;
        p += len + (comma ? 1 : 0);
        if (comma && !*p) return nst_error_set(err, NST_ERR_USAGE, "%s: bad file list '%s'", opt, s);
    }
    if (*count == 0) return nst_error_set(err, NST_ERR_USAGE, "%s: no file given", opt);
    return 0;
}

// s into buf (512 bytes) when it is a list of non-empty items.
static int list_copy(char buf[512], const char *opt, const char *s, const char *items, nst_error *err) {
    size_t len = strlen(s);
    if (len >= 512) return nst_error_set(err, NST_ERR_USAGE, "%s: list too long", opt);
    memcpy(buf, s, len + 1);
    if (len == 0 || buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
        return nst_error_set(err, NST_ERR_USAGE, "%s: expected a comma-separated list of %s, got '%s'", opt, items, s);
    return 0;
}

int cli_split_ints(int *v, int *count, int max, const char *opt, const char *s, long long lo, long long hi,
                   nst_error *err) {
    char buf[512];
    if (list_copy(buf, opt, s, "integers", err)) return -1;
    *count = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long long x;
        if (*count >= max) return nst_error_set(err, NST_ERR_USAGE, "%s: at most %d values", opt, max);
        if (cli_parse_int(opt, tok, lo, hi, &x, err)) return -1;
        v[(*count)++] = (int)x;
    }
    return 0;
}

int cli_split_floats(float *v, int *count, int max, const char *opt, const char *s, double lo, double hi,
                     nst_error *err) {
    char buf[512];
    if (list_copy(buf, opt, s, "numbers", err)) return -1;
    memset(v, 0, (size_t)max * sizeof *v);
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k >= max) return nst_error_set(err, NST_ERR_USAGE, "%s: too many weights", opt);
        if (cli_parse_float(opt, tok, lo, hi, &v[k++], err)) return -1;
    }
    *count = k;
    return 0;
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

// So that `--preset tutorial --style-layers relu1_1,relu2_1,relu3_1` keeps 1, 0.75, 0.2.
int cli_remap_layer_weights(nst_params *p, const char *old_layers, const char *opt, nst_error *err) {
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
        if (m < 0 || (size_t)m >= sizeof out - len) return nst_error_set(err, NST_ERR_USAGE, "%s: list too long", opt);
        len += (size_t)m;
    }
    memcpy(p->style_layer_weights, out, sizeof out);
    return 0;
}

json_t *cli_json_real(float v) {
    char buf[64];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return json_real(strtod(buf, NULL));
}
