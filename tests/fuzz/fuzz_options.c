// fuzz_options: the command line of `nst` (cli_parse in cli/options.c). The input
// is split on NUL and newline bytes into arguments after argv[0] = "nst".
// Accepted options must keep the parser's promises (content, style and output
// given, numbers in range); a refusal must fill err with a one-line message.
#include "fuzz_common.h"
#include "options.h"

#define MAX_ARGS 128

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    if (!freopen("/dev/null", "w", stdout)) return 0;   // --help and --version print there
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "nst";
    char *s = buf;
    for (size_t i = 0; i <= size && argc < MAX_ARGS + 1; i++)
        if (i == size || buf[i] == '\n' || buf[i] == 0) {
            buf[i] = 0;
            argv[argc++] = s;
            s = buf + i + 1;
        }
    argv[argc] = NULL;
    // --config FILE would read any path the input names (even /dev/stdin): point it
    // at a file that does not exist; fuzz_config fuzzes config files themselves.
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config")) argv[++i] = "/nonexistent/nst-fuzz-config.json";
    static cli_options o;   // large (the style paths): not on the stack
    nst_error err = {0, ""};
    int rc = cli_parse(&o, argc, argv, &err);
    if (rc < 0) fuzz_check_error(err.code, &err, NULL);
    else if (rc == 0) {
        if (!o.content || !o.output || o.n_styles < 1 || o.n_styles > NST_MAX_STYLES)
            fuzz_die("accepted options without content, style or output", NULL);
        for (int k = 0; k < o.n_styles; k++)
            if (!o.styles[k][0] || !memchr(o.styles[k], 0, sizeof o.styles[k])) fuzz_die("bad style path", NULL);
        if (o.size < 16 || o.max_pixels < 1) fuzz_die("accepted an out-of-range number", NULL);
        char mbuf[4096];
        (void)cli_model_path(&o, mbuf, sizeof mbuf);
    } else if (rc != 1) {
        fuzz_die("cli_parse returned an unknown value", NULL);
    }
    free(buf);
    return 0;
}
