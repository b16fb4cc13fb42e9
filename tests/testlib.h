// testlib.h: a tiny test harness. Each CHECK that fails marks the current case
// failed; main() ends with nst_test_summary(), which returns the exit status.
#ifndef NST_TESTLIB_H
#define NST_TESTLIB_H
#include <stddef.h>
#include <stdio.h>

extern int nst_test_case_failed;
void nst_test_begin(const char *name);
void nst_test_end(void);
int nst_test_summary(void);
// Directory of ../shared (env NST_SHARED, default "../shared") and of fixtures
// (env NST_FIXTURES, default "build/fixtures").
const char *nst_test_shared(void);
const char *nst_test_fixtures(void);
// Relative error check of n floats: |a-b| <= rtol*max|b| + atol; reports the worst.
int nst_test_close(const char *what, const float *got, const float *want, long n,
                   double rtol, double atol);

// Relative L2 error check: ||got - want|| <= rtol * ||want||, for reduced precision.
int nst_test_close_l2(const char *what, const float *got, const float *want, long n, double rtol);

// Runs a shell command with stdout and stderr captured (through dir/shell.out) into
// out, NUL-terminated; returns its exit code, or -1 when it did not exit normally.
int nst_test_shell(const char *command, const char *dir, char *out, size_t out_len);
// The same with the command formatted printf-style.
int nst_test_shellf(const char *dir, char *out, size_t out_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
// A whole file, NUL-terminated and malloc'd, or NULL.
char *nst_test_read_file(const char *path);
// A whole file's bytes (malloc'd, *len set), or NULL after a failed CHECK naming it.
unsigned char *nst_test_read_bytes(const char *path, size_t *len);
// Loading the weights in path must fail with code (0: any), one line naming path and
// holding needle (NULL: anything), and leave the weights empty.
// VGG19's layer table, written out: what a loaded VGG19 file must give.
int vgg19_cin(int i);
int vgg19_cout(int i);
const char *vgg19_name(int i);
int vgg19_feature(int i);

void nst_test_weights_refused(const char *path, int code, const char *needle);

// What the tests of the `nst` program share: a fresh directory /tmp/<name>_XXXXXX,
// the program ($NST_BUILD/nst, default build/nst), and ../shared's partial model,
// tubingen.jpg and starry_night_crop.png.
typedef struct nst_test_program {
    char tmp[256], nst[512], model[512], content[512], style[512];
} nst_test_program;
// Returns 0, or -1 (after a message) when the directory cannot be made.
int nst_test_program_init(nst_test_program *t, const char *name);
// Removes the directory and all in it.
void nst_test_program_done(const nst_test_program *t);

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    nst_test_case_failed = 1; } } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); \
    nst_test_case_failed = 1; } } while (0)
#define TEST(fn) do { nst_test_begin(#fn); fn(); nst_test_end(); } while (0)

#endif
