// fuzz_pth: torch .pth files, the zip container (libzip) or the legacy (pre-1.6)
// stream of pickles and raw storages (an input starting with 0x80), and the
// restricted pickle reader behind both. The input is written to a file and opened with
// nsti_pth_open; every tensor is read with nsti_pth_read_f32 and touched; then the
// same file goes through nsti_weights_load (which sniffs zip or safetensors).
#include "fuzz_common.h"
#include <math.h>
#include "model/pth.h"
#include "model/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    nst_error err = {0, ""};
    nsti_pth_file *f = NULL;
    int rc = nsti_pth_open(&f, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        for (int i = 0; i < nsti_pth_count(f); i++) {
            const char *name = nsti_pth_name(f, i);
            if (!name || !nsti_pth_dtype(f, name)) fuzz_die("listed tensor without name or dtype", name);
            float *d = NULL;
            int64_t shape[8];
            int ndim = -1;
            rc = nsti_pth_read_f32(f, name, &d, shape, &ndim, &err);
            fuzz_check_error(rc, &err, path);
            if (rc != NST_OK) continue;
            if (ndim < 0 || ndim > 8) fuzz_die("bad ndim", name);
            size_t n = 1;
            for (int k = 0; k < ndim; k++) n *= (size_t)shape[k];
            fuzz_touch(d, n);
            free(d);
        }
        nsti_pth_close(f);
    }
    nsti_vgg_weights w;
    rc = nsti_weights_load(&w, path, &err);
    fuzz_check_error(rc, &err, path);
    if (rc == NST_OK) {
        for (int i = 0; i < w.n_conv; i++) {
            size_t nw = (size_t)w.layer[i].cout * (size_t)w.layer[i].cin * 9;
            for (size_t k = 0; k < nw; k++)
                if (!isfinite(w.weight[i][k])) fuzz_die("loaded a non-finite weight", w.layer[i].name);
            fuzz_touch(w.bias[i], (size_t)w.layer[i].cout);
        }
        nsti_weights_free(&w);
    }
    return 0;
}
