// optim.h: optimizers on a flat float vector through a value-and-gradient callback.
// State is allocated once by *_init; steps never allocate.
#ifndef NST_OPTIM_H
#define NST_OPTIM_H
#include <stddef.h>
#include "util/status.h"

// Returns the loss at x and writes dloss/dx into grad (n floats).
typedef double (*nsti_objective_fn)(void *ctx, const float *x, float *grad);

// Adam as torch.optim.Adam (no weight decay, no amsgrad), in float32.
typedef struct nsti_adam {
    size_t n;
    float lr, beta1, beta2, eps;
    long t;          // steps taken
    float *m, *v;    // (n) first and second moments, owned
} nsti_adam;

// What an optimizer step returns: 0 is success, as everywhere in nst.
enum { NST_STEP_OK = 0, NST_STEP_CONVERGED = 1, NST_STEP_FAILED = -1 };

int nsti_adam_init(nsti_adam *a, size_t n, float lr, nst_error *err);
// One update of x from its gradient. Returns NST_STEP_OK, or NST_STEP_FAILED when
// the moments overflowed (a gradient beyond ~1.8e19 squares to Inf in float32: torch's
// Adam then stops moving those values without a word).
int nsti_adam_step(nsti_adam *a, float *x, const float *grad);
void nsti_adam_free(nsti_adam *a);

// L-BFGS with a backtracking (Armijo) line search. Keeps the last `history`
// (s, y) pairs; pairs with too little curvature are skipped.
typedef struct nsti_lbfgs {
    size_t n;
    int history;     // m
    int count;       // pairs stored, <= m
    int head;        // index of the newest pair
    long iter;       // iterations done
    float lr;        // initial step length scale (1 = the quasi-Newton step)
    double first_move;   // the first step's largest change of one value (set after init)
    float **s, **y;  // history pairs, each (n), owned
    double *rho, *alpha;
    float *d, *x0, *g0;   // direction, previous x and gradient (n)
    int evals;       // function evaluations in the last step
} nsti_lbfgs;

int nsti_lbfgs_init(nsti_lbfgs *o, size_t n, int history, float lr, nst_error *err);
// One iteration from (x, *f, g) where *f and g are the loss and gradient at x.
// Updates them in place. Returns NST_STEP_OK on progress, NST_STEP_CONVERGED when no
// decrease can be found, NST_STEP_FAILED when the objective returned NaN/Inf
// everywhere it was tried (x, *f, g then hold the last good point).
int nsti_lbfgs_step(nsti_lbfgs *o, float *x, double *f, float *g, nsti_objective_fn fn, void *ctx);
void nsti_lbfgs_free(nsti_lbfgs *o);

#endif
