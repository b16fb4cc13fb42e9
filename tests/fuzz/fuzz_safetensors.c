// fuzz_safetensors: the safetensors reader. The input is written to a file and
// opened with nsti_st_open; every tensor is read with nsti_st_read_f32 and all its
// elements touched (ASan then sees any buffer shorter than its shape), and the
// same file goes through nsti_weights_load, which must refuse NaN and Inf.
#include "fuzz_common.h"
#include <math.h>
#include "model/safetensors.h"
#include "model/weights.h"

static void check_weights(const nsti_vgg_weights *w) {
    if (w->n_conv < 1 || w->n_conv > NST_MAX_CONVS) fuzz_die("loaded a model with a bad layer count", NULL);
    for (int i = 0; i < w->n_conv; i++) {
        size_t nw = (size_t)w->layer[i].cout * (size_t)w->layer[i].cin * 9, nb = (size_t)w->layer[i].cout;
        if (!w->weight[i] || !w->bias[i]) fuzz_die("loaded layer without weight or bias", w->layer[i].name);
        for (size_t k = 0; k < nw; k++)
            if (!isfinite(w->weight[i][k])) fuzz_die("loaded a non-finite weight", w->layer[i].name);
        for (size_t k = 0; k < nb; k++)
            if (!isfinite(w->bias[i][k])) fuzz_die("loaded a non-finite bias", w->layer[i].name);
    }
    for (int i = w->n_conv; i < NST_MAX_CONVS; i++)
        if (w->weight[i] || w->bias[i]) fuzz_die("weights past n_conv", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    nst_error err = {0, ""};
    nsti_st_file *f = NULL;
    int rc = nsti_st_open(&f, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        (void)nsti_st_metadata(f, "input");
        (void)nsti_st_metadata_count(f);
        for (int i = 0; i < nsti_st_count(f); i++) {
            const char *name = nsti_st_name(f, i);
            if (!name || !nsti_st_dtype(f, name)) fuzz_die("listed tensor without name or dtype", name);
            float *d = NULL;
            int64_t shape[8];
            int ndim = -1;
            rc = nsti_st_read_f32(f, name, &d, shape, &ndim, &err);
            fuzz_check_error(rc, &err, path);
            if (rc != NST_OK) continue;
            if (ndim < 0 || ndim > 8) fuzz_die("bad ndim", name);
            size_t n = 1;
            for (int k = 0; k < ndim; k++) n *= (size_t)shape[k];
            fuzz_touch(d, n);
            free(d);
        }
        nsti_st_close(f);
    }
    nsti_vgg_weights w;
    rc = nsti_weights_load(&w, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        check_weights(&w);
        nsti_weights_free(&w);
    }
    return 0;
}
