// The option table (cli/option_table.c) against what depends on it: the defaults it
// states are the real ones, the man page names every option, the committed bash
// completion is the one the table writes, and each option in OUTPUT.json reads back
// through --config as the value it was.
#include "testlib.h"
#include "option_table.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The options as a run has them before any option: the pool and the memory limit
// (this machine's) aside, every byte is compared.
static void fresh(cli_options *o, int video) {
    cli_options_default_mode(o, video);
    o->params.max_memory = 0;
}

static void test_defaults_are_the_real_ones(void) {
    static cli_options before, after;
    int checked = 0;
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        if (!d->default_value) continue;
        fresh(&before, (d->flags & CLI_VIDEO) != 0);   // nst video's options have nst video's defaults
        fresh(&after, (d->flags & CLI_VIDEO) != 0);
        nst_error err = {0};
        CHECKF(cli_option_apply(&after, d, d->default_value, 1, d->name, &err) == 0, "--%s %s: %s", d->name,
               d->default_value, err.msg);
        // --iterations also keeps the list it was given; a default leaves it empty
        if (!strcmp(d->name, "iterations")) { after.n_iterations = 0; after.iterations[0] = 0; }
        CHECKF(!memcmp(&before, &after, sizeof before), "--%s: the default '%s' is not the default", d->name,
               d->default_value);
        checked++;
    }
    CHECKF(checked >= 20, "only %d defaults checked", checked);
}

static void test_table_is_consistent(void) {
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        CHECKF(cli_option_find(d->name) == d, "--%s is in the table twice", d->name);
        char arg[4] = {'-', d->short_name, 0};
        if (d->short_name) CHECKF(cli_option_of_arg(arg) == d, "-%c names two options", d->short_name);
        CHECKF(d->help != NULL, "--%s has no help", d->name);
        CHECKF((d->kind == CLI_FLAG) == !d->metavar, "--%s: a value in --help iff it takes one", d->name);
        CHECKF(d->kind != CLI_TEXT || d->set, "--%s: text needs a setter of its own", d->name);
        CHECKF(d->kind != CLI_CHOICE || d->words, "--%s: a choice needs words", d->name);
        CHECKF((d->complete != CLI_COMPLETE_WORDS && d->complete != CLI_COMPLETE_WORDS_OR_FILE) || d->words,
               "--%s: completes words it does not have", d->name);
    }
}

// "--style-weight" as roff spells it: "\-\-style\-weight".
static void roff_of(char *dst, size_t n, const char *prefix, const char *name) {
    size_t k = 0;
    char full[64];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    for (const char *c = full; *c && k + 3 < n; c++) {
        if (*c == '-') dst[k++] = '\\';
        dst[k++] = *c;
    }
    dst[k] = 0;
}

static void test_man_page_names_every_option(void) {
    char *man = nst_test_read_file("man/nst.1");
    CHECKF(man != NULL, "cannot read man/nst.1");
    if (!man) return;
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        char want[128];
        roff_of(want, sizeof want, "--", d->name);
        // named as an option: followed by something other than more of a longer name
        const char *at = man;
        int found = 0;
        while (!found && (at = strstr(at, want))) {
            char next = at[strlen(want)];
            found = !(next == '\\' && at[strlen(want) + 1] == '-') && !(next >= 'a' && next <= 'z');
            at++;
        }
        CHECKF(found, "man/nst.1 does not name --%s", d->name);
        if (d->short_name) {
            char s[8];
            snprintf(s, sizeof s, "\\-%c", d->short_name);
            CHECKF(strstr(man, s), "man/nst.1 does not name -%c", d->short_name);
        }
    }
    free(man);
}

static void test_committed_completion_is_generated(void) {
    char *committed = nst_test_read_file("completions/nst");
    CHECKF(committed != NULL, "cannot read completions/nst");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f || !committed) { free(committed); return; }
    cli_completion_bash(f);
    fclose(f);
    CHECKF(!strcmp(committed, text), "completions/nst differs from `nst completion bash`: regenerate it with "
                                     "build/nst completion bash > completions/nst");
    free(committed);
    free(text);
}

// o as OUTPUT.json records it (run: the model and layers), parsed back through --config
// into back: 0, else -1 after a failed check.
static int read_back(const cli_options *o, const cli_run_info *run, cli_options *back) {
    nst_error err = {0};
    char *json = cli_config_json(o, run, &err);
    CHECKF(json != NULL, "%s", err.msg);
    if (!json) return -1;
    char path[] = "/tmp/nst_options_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(f != NULL);
    if (f) { fputs(json, f); fclose(f); }
    free(json);
    char *argv[] = {"nst", "--config", path};
    int rc = cli_parse(back, 3, argv, &err);
    CHECKF(rc == 0, "%s", err.msg);
    remove(path);
    return rc ? -1 : 0;
}

// Every option OUTPUT.json holds reads back through --config as what it was.
static void test_output_json_reads_back(void) {
    static cli_options o, back;
    char *argv[] = {"nst", "-c", "c.png", "-s", "a.png,b.png", "-o", "out.png", "--style-weight", "25.5",
                    "--scales", "64,128", "--iterations", "3,4", "--preserve-colors", "luminance-post",
                    "--optimizer", "adam", "--pooling", "avg", "--seed", "12345678901", "--init", "noise",
                    "--max-memory", "2G", "--loss-scale", "raw",
                    "--normalize-gradients", "--style-mask", "m1.png,m2.png", "--content-mask", "cm.png",
                    "--max-pixels", "4000000000", "--threads", "2", "--model-input", "torchvision"};
    int argc = (int)(sizeof argv / sizeof *argv);
    nst_error err = {0};
    CHECKF(cli_parse(&o, argc, argv, &err) == 0, "%s", err.msg);
    cli_run_info run = {"model.safetensors", "relu4_2", "relu1_1,relu2_1", "torchvision", NULL, NULL};
    if (read_back(&o, &run, &back)) return;
    CHECK(!strcmp(back.content, "c.png") && back.n_styles == 2 && !strcmp(back.styles[1], "b.png"));
    CHECK(back.params.style_weight == 25.5f && back.params.optimizer == NST_OPTIMIZER_ADAM);
    CHECK(back.params.preserve_colors == NST_COLORS_LUMINANCE_POST && back.params.avg_pool == 1);
    CHECK(back.params.seed == 12345678901ULL && back.params.init == NST_INIT_NOISE);
    CHECK(back.n_scales == 2 && back.scales[1] == 128 && back.iterations[0] == 3 && back.iterations[1] == 4);
    CHECK(back.params.max_memory == 2ULL << 30 && back.max_memory_given);
    CHECK(back.params.loss_scale == NST_LOSS_SCALE_RAW && back.params.normalize_gradients);
    CHECK(back.n_style_masks == 2 && !strcmp(back.content_mask, "cm.png") && back.max_pixels == 4000000000LL);
    CHECK(back.params.threads == 2 && back.model_input && !strcmp(back.model_input, "torchvision"));
    CHECK(!strcmp(back.params.style_layers, "relu1_1,relu2_1") && !strcmp(back.params.content_layers, "relu4_2"));
    CHECK(!strcmp(back.model, "model.safetensors"));
}

// Blend weights (which --style-mask refuses) read back too.
static void test_blend_weights_read_back(void) {
    static cli_options o, back;
    nst_error err = {0};
    char *argv[] = {"nst", "-c", "c.png", "-s", "a.png,b.png", "-o", "out.png", "--style-blend-weights", "3,1"};
    CHECKF(cli_parse(&o, 9, argv, &err) == 0, "%s", err.msg);
    cli_run_info run = {"model.safetensors", "relu4_2", "relu1_1", "caffe", NULL, NULL};
    if (read_back(&o, &run, &back)) return;
    CHECK(back.n_blend == 2 && back.params.style_blend[0] == 3 && back.params.style_blend[1] == 1);
}

// --name=value is --name value; a flag takes no value, and a value may hold '='.
static void test_equals_form(void) {
    static cli_options o;
    nst_error err = {0};
    char *argv[] = {"nst", "--content=c.png", "-s", "a.png", "--output=dir/x=1.png", "--size=96", "--style-weight=2.5",
                    "--quiet"};
    CHECKF(cli_parse(&o, 8, argv, &err) == 0, "%s", err.msg);
    CHECK(!strcmp(o.content, "c.png") && !strcmp(o.output, "dir/x=1.png") && o.size == 96);
    CHECK(o.params.style_weight == 2.5f && o.quiet);
    char *flag[] = {"nst", "-c", "c.png", "-s", "a.png", "-o", "x.png", "--quiet=yes"};
    CHECK(cli_parse(&o, 8, flag, &err) < 0 && strstr(err.msg, "--quiet takes no value"));
    char *unknown[] = {"nst", "--sise=96"};
    CHECK(cli_parse(&o, 2, unknown, &err) < 0 && strstr(err.msg, "unknown option '--sise'"));
    char *bad[] = {"nst", "-c", "c.png", "-s", "a.png", "-o", "x.png", "--size="};
    CHECK(cli_parse(&o, 8, bad, &err) < 0 && strstr(err.msg, "--size"));
}

// OUTPUT.json's "scales": "auto" stays auto where the default stages came to one (below
// 256 px), so that the record run at 512 px gets two stages again; --scales none is "none".
static void test_scales_auto_recorded_below_256(void) {
    static cli_options o;
    nst_error err = {0};
    cli_run_info run = {"model.safetensors", "relu4_2", "relu1_1", "caffe", NULL, NULL};
    const char *want[2] = {"\"scales\": \"auto\"", "\"scales\": \"none\""};
    for (int k = 0; k < 2; k++) {
        char *argv[] = {"nst", "-c", "c.png", "-s", "a.png", "-o", "x.png", "--size", "128", "--scales", "none"};
        CHECKF(cli_parse(&o, k ? 11 : 9, argv, &err) == 0, "%s", err.msg);
        char *json = cli_config_json(&o, &run, &err);
        CHECKF(json && strstr(json, want[k]), "want %s in %s", want[k], json ? json : err.msg);
        free(json);
    }
}

int main(void) {
    TEST(test_defaults_are_the_real_ones);
    TEST(test_table_is_consistent);
    TEST(test_man_page_names_every_option);
    TEST(test_committed_completion_is_generated);
    TEST(test_output_json_reads_back);
    TEST(test_blend_weights_read_back);
    TEST(test_equals_form);
    TEST(test_scales_auto_recorded_below_256);
    return nst_test_summary();
}
