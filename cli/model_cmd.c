#include <stdio.h>
#include "model_cmd.h"
#include "files.h"
#include "nst.h"
#include <string.h>

static int model_info(const char *path) {
    nst_model *m;
    nst_error err;
    if (nst_model_load(&m, path, &err)) {
        fprintf(stderr, "nst: %s\n", err.msg);
        return cli_exit_code(err.code);
    }
    int n = nst_model_conv_count(m);
    printf("file: %s\n", path);
    printf("architecture: %s features, %d conv layers (%s..%s)\n", nst_model_arch(m), n, nst_model_conv_name(m, 0),
           nst_model_conv_name(m, n - 1));
    printf("dtype: %s\n", nst_model_dtype(m));
    printf("input: %s (%s)\n", nst_model_input_convention(m),
           strcmp(nst_model_input_convention(m), "caffe") ? "RGB, 0..1, minus mean 0.485,0.456,0.406, over std 0.229,0.224,0.225"
                                                         : "BGR, 0..255, minus mean 103.939,116.779,123.68");
    printf("input decided by: %s\n", nst_model_input_reason(m));
    printf("layers:\n");
    for (int i = 0; i < n; i++) {
        int cin, cout = nst_model_conv_channels(m, i, &cin);
        printf("  %-8s weight [%d, %d, 3, 3]  bias [%d]%s\n", nst_model_conv_name(m, i), cout, cin, cout,
               nst_model_conv_pooled(m, i) ? "  (after a 2x2 pooling)" : "");
    }
    nst_model_free(m);
    return 0;
}

static int model_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *dtype = "F32";
    for (int i = 0; i < argc; i++) {
        const char *d = !strncmp(argv[i], "--dtype=", 8) ? argv[i] + 8 : NULL;   // --dtype=f16 as --dtype f16
        if (d || !strcmp(argv[i], "--dtype")) {
            if (!d && i + 1 >= argc) { fprintf(stderr, "nst: --dtype needs a value\n"); return 2; }
            if (!d) d = argv[++i];
            if (!strcmp(d, "f32")) dtype = "F32";
            else if (!strcmp(d, "f16")) dtype = "F16";
            else { fprintf(stderr, "nst: --dtype: expected f32 or f16, got '%s'\n", d); return 2; }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nst: model convert: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else { fprintf(stderr, "nst: model convert: unexpected argument '%s'\n", argv[i]); return 2; }
    }
    if (!in || !out) { fprintf(stderr, "usage: nst model convert IN OUT.safetensors [--dtype f32|f16]\n"); return 2; }
    if (cli_same_file(in, out)) { fprintf(stderr, "nst: %s: the output is the input; refusing to overwrite it\n", out); return 2; }
    nst_model *m;
    nst_error err;
    if (cli_check_output_dir(out, &err) || nst_model_load(&m, in, &err)) {
        fprintf(stderr, "nst: %s\n", err.msg);
        return cli_exit_code(err.code);
    }
    int rc = nst_model_save(m, out, dtype, &err);
    nst_model_free(m);
    if (rc) { fprintf(stderr, "nst: %s\n", err.msg); return cli_exit_code(err.code); }
    return 0;
}

static const char usage[] = "usage: nst model info FILE\n       nst model convert IN OUT.safetensors [--dtype f32|f16]\n";

int cli_model_command(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { fputs(usage, stdout); return 0; }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(usage, stdout); return 0; }
    if (argc == 3 && !strcmp(argv[1], "info")) return model_info(argv[2]);
    if (argc >= 2 && !strcmp(argv[1], "convert")) return model_convert(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "info")) fprintf(stderr, "nst: model info: expected one FILE, got %d arguments\n", argc - 2);
    else if (argc >= 2) fprintf(stderr, "nst: model: unknown command '%s'\n", argv[1]);
    fputs(usage, stderr);
    return 2;
}
