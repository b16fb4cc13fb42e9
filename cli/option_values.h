// option_values.h: the values of options as text: numbers in bounds, lists, words.
// opt names the option in messages: "--size" on the command line, "FILE: \"size\""
// from a --config file. Each returns 0, or -1 with a usage error in err.
#ifndef NST_CLI_OPTION_VALUES_H
#define NST_CLI_OPTION_VALUES_H
#include <jansson.h>
#include "option_table.h"

int cli_parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out, nst_error *err);
int cli_parse_float(const char *opt, const char *s, double lo, double hi, float *out, nst_error *err);
// One of d->words: its index into *k.
int cli_pick(const cli_option *d, const char *v, const char *opt, int *k, nst_error *err);
// s into dst (n bytes), refused when longer.
int cli_copy_list(char *dst, size_t n, const char *opt, const char *s, nst_error *err);
// A comma-separated list of file names into names (at most max).
int cli_split_files(char names[][1024], int *count, int max, const char *opt, const char *s, nst_error *err);
// A comma-separated list of integers lo..hi into v (at most max).
int cli_split_ints(int *v, int *count, int max, const char *opt, const char *s, long long lo, long long hi,
                   nst_error *err);
// A comma-separated list of numbers lo..hi into v (at most max; the rest of v set to 0).
int cli_split_floats(float *v, int *count, int max, const char *opt, const char *s, double lo, double hi,
                     nst_error *err);
// New style layers while per-layer weights are set: each layer keeps the weight it
// had in the old list, and a new one gets 1.
int cli_remap_layer_weights(nst_params *p, const char *old_layers, const char *opt, nst_error *err);
// A float as the shortest decimal that reads back as the same float, as a JSON real.
json_t *cli_json_real(float v);

#endif
