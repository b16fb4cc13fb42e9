// The documentation agrees with the program: `nst --help` gives every option a
// default, the man page renders without warnings and documents every option and
// exit code, and the bash completion knows every option and the value lists.
#include "testlib.h"
#include "nst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256], nst[512];
static char out_text[65536], help[16384];

static int shell(const char *command) {
    return nst_test_shell(command, tmp, out_text, sizeof out_text);
}

static char *read_all(const char *path) { return nst_test_read_file(path); }

// The long options of the entries of `nst --help` (lines that start "  -"), in
// order (at most 64).
static char options[64][40];
static int n_options;

static void collect_options(void) {
    n_options = 0;
    for (const char *p = help; (p = strstr(p, "--")) && n_options < 64; p += 2) {
        if (p > help && p[-1] != ' ' && p[-1] != '\n') continue;
        const char *bol = p;
        while (bol > help && bol[-1] != '\n') bol--;
        if (strncmp(bol, "  -", 3)) continue;
        size_t len = 2;
        while ((p[len] >= 'a' && p[len] <= 'z') || p[len] == '-') len++;
        if (len <= 2 || len >= sizeof options[0]) continue;
        char name[40];
        memcpy(name, p, len);
        name[len] = 0;
        int seen = 0;
        for (int i = 0; i < n_options; i++) seen |= !strcmp(options[i], name);
        if (!seen) memcpy(options[n_options++], name, len + 1);
    }
}

static void test_help_gives_every_option_a_default(void) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --help", nst);
    CHECK(shell(cmd) == 0);
    size_t len = strlen(out_text);
    if (len >= sizeof help) len = sizeof help - 1;
    memcpy(help, out_text, len);
    help[len] = 0;
    collect_options();
    CHECKF(n_options >= 30, "only %d options in --help", n_options);
    static const char *must[] = {"--plot", "--animate", "--animate-every", "--contact-sheet", "--backend", "--precision",
                                 "--log", "--save-every", "--quiet", "--version", "--help"};
    for (size_t i = 0; i < sizeof must / sizeof *must; i++) {
        int found = 0;
        for (int k = 0; k < n_options; k++) found |= !strcmp(options[k], must[i]);
        CHECKF(found, "--help does not list %s", must[i]);
    }
    // each option's entry (its line and the indented lines that continue it)
    // states a default or that it is required; --help and --version excepted
    const char *line = help;
    while (*line) {
        const char *eol = strchr(line, '\n');
        if (!eol) eol = line + strlen(line);
        if (!strncmp(line, "  -", 3) && !strstr(line, "--help") && !strstr(line, "--version")) {
            const char *end = eol;
            while (*end == '\n' && !strncmp(end + 1, "                ", 16)) {
                const char *next = strchr(end + 1, '\n');
                end = next ? next : end + 1 + strlen(end + 1);
            }
            char entry[1024];
            snprintf(entry, sizeof entry, "%.*s", (int)(end - line), line);
            CHECKF(strstr(entry, "default") || strstr(entry, "required"), "no default in: %s", entry);
        }
        line = *eol ? eol + 1 : eol;
    }
    // the exit codes
    static const char *codes[] = {"0 done", "1 other", "2 usage", "3 missing", "4 too large", "5 the loss", "130", "143"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        CHECKF(strstr(help, codes[i]), "--help does not explain exit code '%s'", codes[i]);
}

// The roff spelling of an option: every '-' as "\-".
static void roff_dashes(char *dst, size_t n, const char *opt) {
    size_t k = 0;
    for (; *opt && k + 3 < n; opt++) {
        if (*opt == '-') dst[k++] = '\\';
        dst[k++] = *opt;
    }
    dst[k] = 0;
}

static void test_man_page(void) {
    char *man = read_all("man/nst.1");
    CHECK(man != NULL);
    if (!man) return;
    if (!n_options) CHECKF(0, "no options collected from --help");
    for (int i = 0; i < n_options; i++) {
        char roff[96];
        roff_dashes(roff, sizeof roff, options[i]);
        CHECKF(strstr(man, roff), "the man page does not document %s", options[i]);
    }
    static const char *sections[] = {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH MODEL",
                                     ".SH EXIT STATUS", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        CHECKF(strstr(man, sections[i]), "the man page lacks %s", sections[i]);
    const char *exits = strstr(man, ".SH EXIT STATUS");
    static const char *codes[] = {".B 0\n", ".B 1\n", ".B 2\n", ".B 3\n", ".B 4\n", ".B 5\n", "130", "143"};
    for (size_t i = 0; exits && i < sizeof codes / sizeof *codes; i++)
        CHECKF(strstr(exits, codes[i]), "exit code %s is not documented", codes[i]);
    CHECKF(strstr(man, "nst " NST_VERSION), "the man page's version is not %s", NST_VERSION);
    free(man);
    // it renders without a warning
    int rc = shell("command -v groff");
    CHECKF(rc == 0, "groff is not installed (Debian: groff-base)");
    if (rc) return;
    rc = shell("groff -man -Tutf8 -ww -z man/nst.1");
    CHECKF(rc == 0 && out_text[0] == 0, "groff: %s", out_text);
    rc = shell("groff -man -Tutf8 -ww man/nst.1 | grep -c 'contact-sheet'");
    CHECKF(rc == 0 && atoi(out_text) >= 1, "rendered page lacks --contact-sheet: %s", out_text);
}

// Runs the completion function on the words given, printing the candidates.
static int complete(const char *words) {
    char cmd[4096], cwd[1024];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    snprintf(cmd, sizeof cmd,
             "cd %s && bash --norc --noprofile -c 'source \"$0\"; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
             "_nst; printf \"%%s\\n\" \"${COMPREPLY[@]}\"' %s/completions/nst",
             tmp, words, cwd);
    return shell(cmd);
}

static void test_bash_completion(void) {
    CHECKF(shell("bash -n completions/nst") == 0, "%s", out_text);
    CHECKF(shell("grep -q 'complete -F _nst nst' completions/nst") == 0, "not registered with complete -F");
    CHECKF(complete("nst --optim") == 0 && !strcmp(out_text, "--optimizer\n"), "--optim -> %s", out_text);
    struct { const char *words, *want; } cases[] = {
        {"nst --optimizer \"\"", "lbfgs\nadam\n"},
        {"nst --pooling \"\"", "max\navg\n"},
        {"nst --preset \"\"", "default\ntutorial\ngatys\n"},
        {"nst --backend \"\"", "auto\nreference\nblas\ndnnl\n"},
        {"nst --precision \"\"", "fp32\nbf16\nauto\n"},
        {"nst --init no", "noise\n"},
        {"nst --contact", "--contact-sheet\n"},
        {"nst -c pic", "picture.jpg\n"},
        {"nst -s picture.jpg,pic", "picture.jpg,picture.jpg\n"},
        {"nst --style-layers relu1_1,relu5", "relu1_1,relu5_1\nrelu1_1,relu5_2\nrelu1_1,relu5_3\nrelu1_1,relu5_4\n"},
        {"nst model \"\"", "info\nconvert\n"},
        {"nst model convert a.pth b.safetensors --dtype \"\"", "f32\nf16\n"},
        {"nst ba", "batch\n"},
        {"nst batch jobs.jsonl --job", "--job-index\n"},
    };
    char path[400];
    snprintf(path, sizeof path, "%s/picture.jpg", tmp);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECKF(complete(cases[i].words) == 0 && !strcmp(out_text, cases[i].want), "[%s] -> %s", cases[i].words,
               out_text);
    // every option of --help is offered after "-"
    CHECK(complete("nst -") == 0);
    for (int i = 0; i < n_options; i++) {
        char want[sizeof options + 2];
        snprintf(want, sizeof want, "%s\n", options[i]);
        CHECKF(strstr(out_text, want), "completion does not offer %s", options[i]);
    }
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/nst_docs_XXXXXX");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    const char *build = getenv("NST_BUILD");
    snprintf(nst, sizeof nst, "%s/nst", build ? build : "build");
    TEST(test_help_gives_every_option_a_default);
    TEST(test_man_page);
    TEST(test_bash_completion);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    return nst_test_summary();
}
