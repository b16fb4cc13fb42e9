// checkpoint.h: the whole state of an optimization in one file, so that a run
// stopped (even by SIGKILL) can go on exactly where its last checkpoint was.
//
// The file, all little-endian:
//   header (128 bytes): "NSTCKPT\0", version, optimizer, stage, iteration, w, h,
//     fingerprint, L-BFGS history and pairs stored, optimizer steps, the loss and
//     its terms (at 64, 72, 80, then 104, 112, 120: the loss's terms in order), seconds
//     so far (88), the range penalty (96), zero padding
//   x (3*w*h f32), the gradient at x (3*w*h f32)
//   Adam: m, v (3*w*h f32 each); L-BFGS: per pair, oldest first: rho (f64), s, y
//   CRC-32 (zlib's) of everything before it
// It is written through a temporary file renamed into place.
#ifndef NST_CHECKPOINT_H
#define NST_CHECKPOINT_H
#include <stdint.h>
#include <stdio.h>
#include "optim/optim.h"

#define NST_CHECKPOINT_VERSION 1
#define NST_CHECKPOINT_HEADER 128
#define NST_CHECKPOINT_TERMS 6      // slots for loss terms in the header

typedef struct nsti_checkpoint {
    int stage;              // index of the --scales stage (0 without stages)
    int iter;               // iterations done in this stage
    int w, h;
    int optimizer;          // NST_OPTIMIZER_*
    uint32_t fingerprint;   // of the pictures, model and settings the loss depends on
    double loss;                       // at x
    int n_terms;                       // the loss terms' values at x, in the objective's order
    double term[NST_CHECKPOINT_TERMS];
    double range;                      // AUTO's range penalty at x (0 in older files)
    double elapsed_s;       // optimization time so far
    float *x, *grad;        // (3,h,w) each, borrowed
    nsti_adam *adam;         // the optimizer's state (one of the two), borrowed
    nsti_lbfgs *lbfgs;
} nsti_checkpoint;

// Writes ck to path atomically.
int nsti_checkpoint_write(const char *path, const nsti_checkpoint *ck, nst_error *err);

// Reads a checkpoint into the buffers of ck. What ck holds on entry is what the run
// expects (stage, w, h, optimizer, fingerprint, the L-BFGS history); anything else
// is refused with a message naming `name`. ck's buffers may be partly overwritten
// on failure.
int nsti_checkpoint_read_file(FILE *f, const char *name, nsti_checkpoint *ck, nst_error *err);
int nsti_checkpoint_read(const char *path, nsti_checkpoint *ck, nst_error *err);

// The stage a checkpoint was written in (after checking its checksum).
int nsti_checkpoint_stage(const char *path, int *stage, nst_error *err);

#endif
