// Optimizers: Adam against torch.optim.Adam, L-BFGS on problems with known minima.
#include "testlib.h"
#include "optim/optim.h"
#include "model/safetensors.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_adam_matches_torch(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/adam.safetensors", nst_test_fixtures());
    nsti_st_file *f;
    nst_error err;
    if (nsti_st_open(&f, path, &err)) { CHECKF(0, "%s", err.msg); return; }
    float *p0, *grads, *traj;
    int64_t s0[8], s1[8], s2[8];
    int nd;
    CHECK(nsti_st_read_f32(f, "p0", &p0, s0, &nd, &err) == 0);
    CHECK(nsti_st_read_f32(f, "grads", &grads, s1, &nd, &err) == 0);
    CHECK(nsti_st_read_f32(f, "traj", &traj, s2, &nd, &err) == 0);
    nsti_st_close(f);
    if (nst_test_case_failed) return;
    size_t n = (size_t)s0[0];
    nsti_adam a;
    CHECK(nsti_adam_init(&a, n, 0.01f, &err) == 0);
    for (int step = 0; step < (int)s1[0]; step++) {
        CHECK(nsti_adam_step(&a, p0, grads + step * n) == NST_STEP_OK);
        char what[32];
        snprintf(what, sizeof what, "adam step %d", step + 1);
        nst_test_close(what, p0, traj + step * n, (long)n, 1e-6, 1e-7);
    }
    // a gradient whose square overflows float32: the step says so (0 is success, as
    // for L-BFGS)
    float huge[4] = {1e20f, 0, 0, 0}, x4[4] = {0, 0, 0, 0};
    nsti_adam b;
    CHECK(nsti_adam_init(&b, 4, 0.01f, &err) == 0);
    CHECK(nsti_adam_step(&b, x4, huge) == NST_STEP_FAILED);
    nsti_adam_free(&b);
    nsti_adam_free(&a);
    free(p0); free(grads); free(traj);
}

// Rosenbrock in pairs: sum 100 (x1 - x0^2)^2 + (1 - x0)^2, minimum at all ones.
static double rosenbrock(void *ctx, const float *x, float *g) {
    size_t n = *(size_t *)ctx;
    double f = 0;
    for (size_t i = 0; i < n; i += 2) {
        double a = x[i], b = x[i + 1], t = b - a * a;
        f += 100 * t * t + (1 - a) * (1 - a);
        g[i] = (float)(-400 * t * a - 2 * (1 - a));
        g[i + 1] = (float)(200 * t);
    }
    return f;
}

// A badly scaled quadratic: sum_i (i+1) (x_i - i/10)^2.
static double quadratic(void *ctx, const float *x, float *g) {
    size_t n = *(size_t *)ctx;
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - i / 10.0;
        f += (i + 1) * d * d;
        g[i] = (float)(2 * (i + 1) * d);
    }
    return f;
}

static void run_lbfgs(nsti_objective_fn fn, size_t n, float *x, int iters) {
    nsti_lbfgs o;
    nst_error err;
    float *g = malloc(n * sizeof(float));
    CHECK(nsti_lbfgs_init(&o, n, 10, 1.0f, &err) == 0);
    double f = fn(&n, x, g);
    for (int i = 0; i < iters; i++)
        if (nsti_lbfgs_step(&o, x, &f, g, fn, &n)) break;
    nsti_lbfgs_free(&o);
    free(g);
}

static void test_lbfgs_rosenbrock(void) {
    size_t n = 10;
    float x[10];
    for (size_t i = 0; i < n; i++) x[i] = i % 2 ? 1.0f : -1.2f;
    run_lbfgs(rosenbrock, n, x, 500);
    for (size_t i = 0; i < n; i++) CHECKF(fabsf(x[i] - 1.0f) < 1e-3f, "x[%zu] = %g", i, x[i]);
}

static void test_lbfgs_quadratic(void) {
    size_t n = 100;
    float x[100] = {0};
    run_lbfgs(quadratic, n, x, 200);
    for (size_t i = 0; i < n; i++) CHECKF(fabsf(x[i] - i / 10.0f) < 1e-3f, "x[%zu] = %g", i, x[i]);
}

static double nan_objective(void *ctx, const float *x, float *g) {
    (void)ctx;
    g[0] = 1;
    return x[0] < 0.5f ? x[0] : NAN;   // NaN beyond 0.5
}

static void test_lbfgs_reports_nan(void) {
    nsti_lbfgs o;
    nst_error err;
    float x[1] = {0.4f}, g[1];
    CHECK(nsti_lbfgs_init(&o, 1, 5, 1.0f, &err) == 0);
    double f = nan_objective(NULL, x, g);
    int st = 0;
    for (int i = 0; i < 50 && st == 0; i++) st = nsti_lbfgs_step(&o, x, &f, g, nan_objective, NULL);
    CHECK(isfinite(f) && x[0] < 0.5f);   // never moves to a NaN point
    nsti_lbfgs_free(&o);
}

static double bowl(void *ctx, const float *x, float *g) {   // convex: 0.5 (x0^2 + 2 x1^2)
    (void)ctx;
    g[0] = x[0]; g[1] = 2 * x[1];
    return 0.5 * ((double)x[0] * x[0] + 2.0 * x[1] * x[1]);
}
static double cap(void *ctx, const float *x, float *g) {    // concave: -0.5 |x|^2
    (void)ctx;
    g[0] = -x[0]; g[1] = -x[1];
    return -0.5 * ((double)x[0] * x[0] + (double)x[1] * x[1]);
}

// A pair of negative curvature is not stored, and leaves the stored ones as they were
// (a full history once had the oldest pair's s and y overwritten, its rho kept).
static void test_lbfgs_rejected_pair_keeps_history(void) {
    nsti_lbfgs o;
    nst_error err;
    CHECK(nsti_lbfgs_init(&o, 2, 1, 1.0f, &err) == 0);
    float x[2] = {1.0f, 1.0f}, g[2];
    double f = bowl(NULL, x, g);
    CHECK(nsti_lbfgs_step(&o, x, &f, g, bowl, NULL) == 0);
    CHECKF(o.count == 1, "count %d after a convex step", o.count);
    float s0[2] = {o.s[0][0], o.s[0][1]}, y0[2] = {o.y[0][0], o.y[0][1]};
    double rho0 = o.rho[0];
    f = cap(NULL, x, g);   // from here on the function curves down
    CHECK(nsti_lbfgs_step(&o, x, &f, g, cap, NULL) == 0);
    CHECKF(o.count == 1 && o.rho[0] == rho0, "count %d, rho %g (was %g)", o.count, o.rho[0], rho0);
    CHECKF(o.s[0][0] == s0[0] && o.s[0][1] == s0[1] && o.y[0][0] == y0[0] && o.y[0][1] == y0[1],
           "the stored pair changed: s (%g, %g) -> (%g, %g)", s0[0], s0[1], o.s[0][0], o.s[0][1]);
    nsti_lbfgs_free(&o);
}

int main(void) {
    TEST(test_adam_matches_torch);
    TEST(test_lbfgs_rosenbrock);
    TEST(test_lbfgs_quadratic);
    TEST(test_lbfgs_reports_nan);
    TEST(test_lbfgs_rejected_pair_keeps_history);
    return nst_test_summary();
}
