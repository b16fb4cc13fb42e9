// fuzz_pickle: the restricted pickle reader alone, fed the raw input as data.pkl
// (no zip around it, so every execution reaches the pickle VM). A state dict it
// accepts must keep its promises: at most 8 dimensions, each tensor inside its
// storage, storage keys of letters, digits and '_' only.
#include "fuzz_common.h"
#include "model/pickle.h"

static const char *PATH = "fuzz.pth";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nst_error err = {0, ""};
    nsti_pkl_tensor *t = NULL;
    int n = -1;
    int rc = nsti_pkl_state_dict(data, size, PATH, "archive/data.pkl", &t, &n, &err);
    fuzz_check_error(rc, &err, PATH);
    if (rc != NST_OK) {
        if (t || n != 0) fuzz_die("failed parse left a result", NULL);
        return 0;
    }
    if (n < 0 || (n > 0 && !t)) fuzz_die("bad tensor count", NULL);
    for (int i = 0; i < n; i++) {
        const nsti_pkl_tensor *x = &t[i];
        if (!x->name || !x->storage_key) fuzz_die("tensor without name or storage key", NULL);
        if (!x->storage_key[0] || strspn(x->storage_key, "0123456789abcdefghijklmnopqrstuvwxyz"
                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(x->storage_key))
            fuzz_die("storage key outside [A-Za-z0-9_]", x->storage_key);
        if (x->ndim < 0 || x->ndim > NST_PKL_MAX_DIMS) fuzz_die("bad ndim", x->name);
        if (x->dtype < 0 || x->dtype > 2) fuzz_die("bad dtype", x->name);
        if (x->offset < 0 || x->storage_numel < 0) fuzz_die("negative offset or storage size", x->name);
        __int128 numel = 1;
        for (int d = 0; d < x->ndim; d++) {
            if (x->shape[d] < 0) fuzz_die("negative dimension", x->name);
            numel *= x->shape[d];
            if (numel > ((__int128)1 << 100)) numel = (__int128)1 << 100;
        }
        if (numel > 0 && (__int128)x->offset + numel > x->storage_numel)
            fuzz_die("tensor reaches past its storage", x->name);
    }
    nsti_pkl_free(t, n);
    return 0;
}
