// config.h: the effective configuration of a run, written beside its output
// (OUTPUT.json) as a JSON object that --config reads back.
#ifndef NST_CLI_CONFIG_H
#define NST_CLI_CONFIG_H
#include "options.h"

typedef struct cli_run_info {
    const char *model_path;      // the model file used
    const char *content_layers;  // as resolved for the model
    const char *style_layers;
    const char *model_input;     // the input convention the model ran with
    const nst_progress *last;    // the last iteration's loss and terms (NULL: none ran)
    struct json_t *result;       // instead of last's: nst video's per-frame results (borrowed), or NULL
} cli_run_info;

// "OUTPUT.json" for an output path.
void cli_config_path(char *buf, size_t n, const char *output);
// The JSON text (malloc'ed; NULL on failure with err set) of every option that
// decides the picture: files as given, sizes, weights, layers as resolved, the
// optimizer, the start, seed, threads, backend and precision as they ran, and the
// version of nst; then "result": the last iteration, its loss and each of its terms by
// name (a record: --config skips it). The side outputs (--log, --plot, --animate, --contact-sheet,
// --save-every) and --quiet are left out.
char *cli_config_json(const cli_options *o, const cli_run_info *run, nst_error *err);
// Writes it to path, atomically.
int cli_config_write(const char *path, const cli_options *o, const cli_run_info *run, nst_error *err);

#endif
