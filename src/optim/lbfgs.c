#include "optim/optim.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int nsti_lbfgs_init(nsti_lbfgs *o, size_t n, int history, float lr, nst_error *err) {
    memset(o, 0, sizeof *o);
    if (history < 1) return nsti_fail(err, NST_ERR_USAGE, "L-BFGS history must be at least 1");
    o->n = n; o->history = history; o->lr = lr; o->head = -1;
    o->first_move = 1e-3;
    o->s = calloc(history, sizeof(float *));
    o->y = calloc(history, sizeof(float *));
    o->rho = calloc(history, sizeof(double));
    o->alpha = calloc(history, sizeof(double));
    o->d = malloc(n * sizeof(float));
    o->x0 = malloc(n * sizeof(float));
    o->g0 = malloc(n * sizeof(float));
    int ok = o->s && o->y && o->rho && o->alpha && o->d && o->x0 && o->g0;
    for (int i = 0; ok && i < history; i++) {
        o->s[i] = malloc(n * sizeof(float));
        o->y[i] = malloc(n * sizeof(float));
        ok = o->s[i] && o->y[i];
    }
    if (!ok) {
        nsti_lbfgs_free(o);
        return nsti_fail(err, NST_ERR_NOMEM, "out of memory for the L-BFGS state (%d x %zu values)", history, n);
    }
    return NST_OK;
}

void nsti_lbfgs_free(nsti_lbfgs *o) {
    for (int i = 0; o->s && i < o->history; i++) free(o->s[i]);
    for (int i = 0; o->y && i < o->history; i++) free(o->y[i]);
    free(o->s); free(o->y); free(o->rho); free(o->alpha);
    free(o->d); free(o->x0); free(o->g0);
    memset(o, 0, sizeof *o);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

// d = -H g by the two-loop recursion.
static void direction(nsti_lbfgs *o, const float *g) {
    size_t n = o->n;
    float *d = o->d;
    for (size_t i = 0; i < n; i++) d[i] = -g[i];
    for (int k = 0; k < o->count; k++) {   // newest to oldest
        int j = (o->head - k + o->history) % o->history;
        double a = o->rho[j] * dot(o->s[j], d, n);
        o->alpha[j] = a;
        float af = (float)a;
        for (size_t i = 0; i < n; i++) d[i] -= af * o->y[j][i];
    }
    if (o->count > 0) {   // initial Hessian scale: s'y / y'y of the newest pair
        int j = o->head;
        float gamma = (float)(1.0 / (o->rho[j] * dot(o->y[j], o->y[j], n)));
        for (size_t i = 0; i < n; i++) d[i] *= gamma;
    }
    for (int k = o->count - 1; k >= 0; k--) {   // oldest to newest
        int j = (o->head - k + o->history) % o->history;
        float b = (float)(o->alpha[j] - o->rho[j] * dot(o->y[j], d, n));
        for (size_t i = 0; i < n; i++) d[i] += b * o->s[j][i];
    }
}

int nsti_lbfgs_step(nsti_lbfgs *o, float *x, double *f, float *g, nsti_objective_fn fn, void *ctx) {
    size_t n = o->n;
    o->evals = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        direction(o, g);
        double gd = dot(g, o->d, n);
        if (!(gd < 0)) {   // not a descent direction: drop the history, go down the gradient
            o->count = 0; o->head = -1;
            direction(o, g);
            gd = dot(g, o->d, n);
            if (!(gd < 0)) return NST_STEP_CONVERGED;   // zero gradient
        }
        double t = o->lr;
        if (o->count == 0) {   // no curvature yet: a first step of modest length
            double gnorm1 = 0;
            for (size_t i = 0; i < n; i++) gnorm1 += fabs(g[i]);
            t = fmin(1.0, 1.0 / gnorm1) * o->lr;
            // at least first_move for the value that moves most: a step too small to
            // change the loss beyond its rounding gives the history a pair of noise
            double gmax = 0;
            for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(o->d[i]));
            if (gmax > 0) t = fmax(t, o->first_move / gmax);
        }
        memcpy(o->x0, x, n * sizeof(float));
        memcpy(o->g0, g, n * sizeof(float));
        double f0 = *f;
        int bad = 0;
        for (int ls = 0; ls < 30; ls++) {
            float tf = (float)t;
            for (size_t i = 0; i < n; i++) x[i] = o->x0[i] + tf * o->d[i];
            double fx = fn(ctx, x, g);
            o->evals++;
            if (!isfinite(fx)) { bad = 1; t *= 0.1; continue; }
            if (fx <= f0 + 1e-4 * t * gd) {   // Armijo: enough decrease
                *f = fx;
                // the pair s = x - x0, y = g - g0, built in the buffers of d and g0 (not
                // needed again this step), goes into the history when its curvature is
                // positive; a rejected one leaves the stored pairs as they were
                float *s = o->d, *yv = o->g0;
                for (size_t i = 0; i < n; i++) { s[i] = x[i] - o->x0[i]; yv[i] = g[i] - yv[i]; }
                double sy = dot(s, yv, n), yy = dot(yv, yv, n);
                if (sy > 1e-10 * yy && sy > 0) {
                    int j = (o->head + 1) % o->history;   // the oldest slot once full
                    o->d = o->s[j]; o->s[j] = s;          // swap buffers, no copy
                    o->g0 = o->y[j]; o->y[j] = yv;
                    o->rho[j] = 1.0 / sy;
                    o->head = j;
                    if (o->count < o->history) o->count++;
                }
                o->iter++;
                return NST_STEP_OK;
            }
            // shrink by quadratic interpolation, kept within [0.1, 0.5] of the step
            double tq = -gd * t * t / (2.0 * (fx - f0 - gd * t));
            t = fmin(fmax(tq, 0.1 * t), 0.5 * t);
        }
        // no decrease along this direction: restore, drop the history and retry once
        memcpy(x, o->x0, n * sizeof(float));
        memcpy(g, o->g0, n * sizeof(float));
        *f = f0;
        if (o->count == 0) return bad ? NST_STEP_FAILED : NST_STEP_CONVERGED;
        o->count = 0; o->head = -1;
    }
    return NST_STEP_CONVERGED;
}
