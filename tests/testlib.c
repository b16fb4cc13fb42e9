#include "testlib.h"
#include <stdarg.h>
#include "model/weights.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int nst_test_case_failed;
static int n_passed, n_failed;
static const char *current;

void nst_test_begin(const char *name) { current = name; nst_test_case_failed = 0; }

void nst_test_end(void) {
    if (nst_test_case_failed) { n_failed++; printf("FAIL %s\n", current); }
    else { n_passed++; printf("ok   %s\n", current); }
    fflush(stdout);
}

int nst_test_summary(void) {
    printf("RESULT passed=%d failed=%d\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}

const char *nst_test_shared(void) {
    const char *s = getenv("NST_SHARED");
    return s ? s : "../shared";
}

const char *nst_test_fixtures(void) {
    const char *s = getenv("NST_FIXTURES");
    return s ? s : "build/fixtures";
}

int nst_test_close(const char *what, const float *got, const float *want, long n,
                   double rtol, double atol) {
    double maxref = 0, worst = 0;
    long worst_i = -1;
    for (long i = 0; i < n; i++) maxref = fmax(maxref, fabs(want[i]));
    double tol = rtol * maxref + atol;
    for (long i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= worst)) { worst = d; worst_i = i; }   // NaN counts as worst
    }
    if (n == 0 || !(worst <= tol)) {
        fprintf(stderr, "  %s: max |diff| %.3g at %ld (got %.7g want %.7g), tol %.3g\n",
                what, worst, worst_i, worst_i >= 0 ? got[worst_i] : 0.0,
                worst_i >= 0 ? want[worst_i] : 0.0, tol);
        nst_test_case_failed = 1;
        return 0;
    }
    return 1;
}

int nst_test_close_l2(const char *what, const float *got, const float *want, long n, double rtol) {
    double num = 0, den = 0;
    for (long i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    double rel = sqrt(num) / (sqrt(den) > 0 ? sqrt(den) : 1);
    if (getenv("NST_TEST_VERBOSE")) fprintf(stderr, "  %s: relative L2 error %.3g\n", what, rel);
    if (!(rel <= rtol)) {
        fprintf(stderr, "  %s: relative L2 error %.3g > %.3g\n", what, rel, rtol);
        nst_test_case_failed = 1;
        return 0;
    }
    return 1;
}

int nst_test_shellf(const char *dir, char *out, size_t out_len, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return nst_test_shell(cmd, dir, out, out_len);
}

int nst_test_shell(const char *command, const char *dir, char *out, size_t out_len) {
    char log[1024];
    snprintf(log, sizeof log, "%s/shell.out", dir);
    size_t need = strlen(command) + strlen(log) + 32;
    char *cmd = malloc(need);
    if (!cmd) return -1;
    snprintf(cmd, need, "( %s ) >%s 2>&1", command, log);
    int st = system(cmd);
    free(cmd);
    FILE *f = fopen(log, "r");
    size_t n = f && out_len ? fread(out, 1, out_len - 1, f) : 0;
    if (out_len) out[n] = 0;
    if (f) fclose(f);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *nst_test_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

int nst_test_program_init(nst_test_program *t, const char *name) {
    snprintf(t->tmp, sizeof t->tmp, "/tmp/%s_XXXXXX", name);
    if (!mkdtemp(t->tmp)) { perror("mkdtemp"); return -1; }
    const char *build = getenv("NST_BUILD");
    snprintf(t->nst, sizeof t->nst, "%s/nst", build && *build ? build : "build");
    snprintf(t->model, sizeof t->model, "%s/models/vgg19-conv1_1-conv3_4.caffe.safetensors", nst_test_shared());
    snprintf(t->content, sizeof t->content, "%s/images/tubingen.jpg", nst_test_shared());
    snprintf(t->style, sizeof t->style, "%s/images/starry_night_crop.png", nst_test_shared());
    return 0;
}

void nst_test_program_done(const nst_test_program *t) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", t->tmp);
}

unsigned char *nst_test_read_bytes(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { CHECKF(0, "cannot open %s (run make fixtures)", path); return NULL; }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    if (d && fread(d, 1, (size_t)n, fp) != (size_t)n) { free(d); d = NULL; }
    fclose(fp);
    if (!d) { CHECKF(0, "cannot read %s", path); return NULL; }
    *len = (size_t)n;
    return d;
}

void nst_test_weights_refused(const char *path, int code, const char *needle) {
    nsti_vgg_weights w;
    nst_error err = {0, ""};
    memset(&w, 0x5a, sizeof w);  // garbage in: the loader must reset it
    int rc = nsti_weights_load(&w, path, &err);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    CHECKF(rc != NST_OK, "%s loaded", base);
    if (rc == NST_OK) { nsti_weights_free(&w); return; }
    if (getenv("NST_TEST_VERBOSE")) printf("  [%d] %s\n", rc, err.msg);
    CHECKF(rc == err.code, "%s: return %d but err.code %d", base, rc, err.code);
    CHECKF(!code || rc == code, "%s: code %d, want %d (%s)", base, rc, code, err.msg);
    CHECKF(strstr(err.msg, path) != NULL, "message does not name %s: %s", path, err.msg);
    CHECKF(!needle || strstr(err.msg, needle), "%s: message lacks '%s': %s", base, needle, err.msg);
    CHECKF(!strchr(err.msg, '\n'), "message has a newline: %s", err.msg);
    CHECK(w.n_conv == 0);
    for (int i = 0; i < NST_MAX_CONVS; i++) CHECK(w.weight[i] == NULL && w.bias[i] == NULL);
}

static const struct { int feature, cin, cout; const char *name; } vgg19[16] = {
    {0, 3, 64, "conv1_1"},      {2, 64, 64, "conv1_2"},
    {5, 64, 128, "conv2_1"},    {7, 128, 128, "conv2_2"},
    {10, 128, 256, "conv3_1"},  {12, 256, 256, "conv3_2"},
    {14, 256, 256, "conv3_3"},  {16, 256, 256, "conv3_4"},
    {19, 256, 512, "conv4_1"},  {21, 512, 512, "conv4_2"},
    {23, 512, 512, "conv4_3"},  {25, 512, 512, "conv4_4"},
    {28, 512, 512, "conv5_1"},  {30, 512, 512, "conv5_2"},
    {32, 512, 512, "conv5_3"},  {34, 512, 512, "conv5_4"},
};
int vgg19_cin(int i) { return i >= 0 && i < 16 ? vgg19[i].cin : 0; }
int vgg19_cout(int i) { return i >= 0 && i < 16 ? vgg19[i].cout : 0; }
const char *vgg19_name(int i) { return i >= 0 && i < 16 ? vgg19[i].name : NULL; }
int vgg19_feature(int i) { return i >= 0 && i < 16 ? vgg19[i].feature : -1; }
