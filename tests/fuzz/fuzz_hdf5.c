// fuzz_hdf5: the Keras HDF5 reader (src/model/hdf5.c, through libhdf5). The input is
// written to a file and opened with nsti_h5_open; every tensor is read with
// nsti_h5_read_f32 and all its elements touched, and the same file goes through
// nsti_weights_load, which must refuse NaN and Inf. libhdf5 itself is not
// instrumented: libFuzzer sees only hdf5.c's coverage, ASan sees libhdf5's
// allocations and the memory functions it calls.
// libhdf5 resolves the file's real path, which a memfd has not: use a regular file.
#define FUZZ_REGULAR_FILE
#include "fuzz_common.h"
#include <math.h>
#include "model/hdf5.h"
#include "model/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    nst_error err = {0, ""};
    nsti_h5_file *f = NULL;
    int rc = nsti_h5_open(&f, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        for (int i = 0; i < nsti_h5_count(f); i++) {
            const char *name = nsti_h5_name(f, i);
            if (!name || !nsti_h5_dtype(f, name)) fuzz_die("listed tensor without name or dtype", name);
            float *d = NULL;
            int64_t shape[8];
            int ndim = -1;
            rc = nsti_h5_read_f32(f, name, &d, shape, &ndim, &err);
            fuzz_check_error(rc, &err, path);
            if (rc != NST_OK) continue;
            if (ndim != 1 && ndim != 4) fuzz_die("bad ndim", name);
            size_t n = 1;
            for (int k = 0; k < ndim; k++) n *= (size_t)shape[k];
            fuzz_touch(d, n);
            free(d);
        }
        nsti_h5_close(f);
    }
    nsti_vgg_weights w;
    rc = nsti_weights_load(&w, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        for (int i = 0; i < w.n_conv; i++) {
            size_t nw = (size_t)w.layer[i].cout * (size_t)w.layer[i].cin * 9, nb = (size_t)w.layer[i].cout;
            for (size_t k = 0; k < nw; k++)
                if (!isfinite(w.weight[i][k])) fuzz_die("loaded a non-finite weight", w.layer[i].name);
            for (size_t k = 0; k < nb; k++)
                if (!isfinite(w.bias[i][k])) fuzz_die("loaded a non-finite bias", w.layer[i].name);
        }
        nsti_weights_free(&w);
    }
    return 0;
}
