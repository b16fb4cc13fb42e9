// fuzz_config: --config FILE.json, the command line's options as a JSON object
// (cli_parse in cli/options.c, with jansson underneath). The input is written to a
// file and parsed as `nst --config FILE`; a refusal must name the file in a one-line
// message, and an accepted config must give content, style and output.
#include "fuzz_common.h"
#include "options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    if (!freopen("/dev/null", "w", stdout)) return 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    char *argv[] = {"nst", "--config", (char *)path, NULL};
    static cli_options o;   // large (paths, the config's string pool): not on the stack
    nst_error err = {0, ""};
    int rc = cli_parse(&o, 3, argv, &err);
    if (rc < 0) {
        // messages about the config name it; "no content picture: use -c FILE" and
        // the like are about what is missing from it
        fuzz_check_error(err.code, &err, NULL);
        if (err.code != NST_ERR_USAGE && !strstr(err.msg, path)) fuzz_die("config error does not name the file", err.msg);
    } else if (rc == 0) {
        if (!o.content || !o.output || o.n_styles < 1 || o.n_styles > NST_MAX_STYLES)
            fuzz_die("accepted a config without content, style or output", NULL);
        if (o.size < 16 || o.max_pixels < 1 || o.n_iterations < 1 || o.n_iterations > CLI_MAX_SCALES)
            fuzz_die("accepted an out-of-range number", NULL);
        if (o.pool_used > sizeof o.pool) fuzz_die("string pool overrun", NULL);
    } else if (rc != 1) {
        fuzz_die("cli_parse returned an unknown value", NULL);
    }
    return 0;
}
