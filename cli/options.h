// options.h: the command line of `nst` (run mode).
#ifndef NST_CLI_OPTIONS_H
#define NST_CLI_OPTIONS_H
#include "nst.h"

typedef struct cli_options {
    const char *content;
    char styles[NST_MAX_STYLES][1024];
    int n_styles;
    const char *output;
    const char *model;
    const char *log_path;
    const char *init_path;       // --init FILE
    int size;
    float style_scale;
    long long max_pixels;
    int save_every;
    int quiet;
    const char *plot_path;       // --plot FILE.svg|FILE.png
    const char *animate_path;    // --animate FILE.gif
    int animate_every;           // --animate-every N; 0: iterations/50, at least 1
    const char *contact_path;    // --contact-sheet FILE
    nst_params params;
} cli_options;

// Parses argv into o (defaults first). Returns 0 to run, 1 when --help or
// --version was printed, -1 on a usage error (message in err).
int cli_parse(cli_options *o, int argc, char **argv, nst_error *err);
void cli_usage(FILE *out);
// The model path: --model, else $NST_MODEL, else the per-user default.
const char *cli_model_path(const cli_options *o, char *buf, size_t n);
const char *cli_default_model_path(char *buf, size_t n);

#endif
