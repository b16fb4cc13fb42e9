// fuzz_checkpoint: the checkpoint reader (--resume). Each input is read as a
// checkpoint of a 4x3 run with L-BFGS (history 4) and with Adam, once as it is and
// once with its last 4 bytes replaced by the right CRC-32, so that the fuzzer gets
// past the checksum to the header checks and the arrays. A checkpoint that is
// accepted must hold what the run can use: finite values, no more pairs than the
// history, positive curvature.
#include "fuzz_common.h"
#include <math.h>
#include <zlib.h>
#include "optim/optim.h"
#include "transfer/checkpoint.h"

enum { W = 4, H = 3, N = 3 * W * H, HISTORY = 4 };
#define FINGERPRINT 0x4e535431u

static void check_finite(const float *v, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) fuzz_die("accepted a non-finite value", what);
}

static void read_as(const char *path, int optimizer) {
    static float x[N], grad[N];
    nsti_adam adam;
    nsti_lbfgs lbfgs;
    nst_error err = {0, ""};
    if (nsti_adam_init(&adam, N, 0.1f, &err) || nsti_lbfgs_init(&lbfgs, N, HISTORY, 1.0f, &err))
        fuzz_die("cannot allocate the optimizers", err.msg);
    nsti_checkpoint ck = {.w = W, .h = H, .optimizer = optimizer, .fingerprint = FINGERPRINT, .n_terms = 3,
                         .x = x, .grad = grad, .adam = optimizer == NST_OPTIMIZER_ADAM ? &adam : NULL,
                         .lbfgs = optimizer == NST_OPTIMIZER_ADAM ? NULL : &lbfgs};
    int rc = nsti_checkpoint_read(path, &ck, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        check_finite(x, N, "x");
        check_finite(grad, N, "gradient");
        if (!isfinite(ck.loss) || !(ck.elapsed_s >= 0) || ck.iter < 0) fuzz_die("accepted bad header values", NULL);
        if (optimizer == NST_OPTIMIZER_ADAM) {
            check_finite(adam.m, N, "m");
            check_finite(adam.v, N, "v");
            if (adam.t < 0) fuzz_die("negative Adam step count", NULL);
        } else {
            if (lbfgs.count < 0 || lbfgs.count > HISTORY || lbfgs.head != lbfgs.count - 1)
                fuzz_die("accepted a bad pair count", NULL);
            for (int j = 0; j < lbfgs.count; j++) {
                if (!(lbfgs.rho[j] > 0) || !isfinite(lbfgs.rho[j])) fuzz_die("accepted a bad rho", NULL);
                check_finite(lbfgs.s[j], N, "s");
                check_finite(lbfgs.y[j], N, "y");
            }
        }
    }
    int stage = -1;
    rc = nsti_checkpoint_stage(path, &stage, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK && (stage < 0 || stage >= 1024)) fuzz_die("stage out of range", NULL);
    nsti_adam_free(&adam);
    nsti_lbfgs_free(&lbfgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    read_as(path, NST_OPTIMIZER_LBFGS);
    read_as(path, NST_OPTIMIZER_ADAM);
    if (size >= 8) {   // the same bytes with a valid checksum
        uint8_t *fixed = malloc(size);
        if (!fixed) return 0;
        memcpy(fixed, data, size);
        uLong crc = crc32(crc32(0L, Z_NULL, 0), fixed, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        path = fuzz_file(fixed, size);
        free(fixed);
        read_as(path, NST_OPTIMIZER_LBFGS);
        read_as(path, NST_OPTIMIZER_ADAM);
    }
    return 0;
}
