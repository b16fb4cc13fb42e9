// pickle.h: a restricted reader for the pickles torch.save writes for a state dict
// (protocol 2+). It interprets a small set of opcodes and only these globals:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the Float, Half and
// BFloat16 storage types. Nothing is ever executed; anything else is an error.
#ifndef NST_PICKLE_H
#define NST_PICKLE_H
#include <stddef.h>
#include <stdint.h>
#include "util/status.h"

#define NST_PKL_MAX_DIMS 8

// One state-dict entry: a tensor view into a storage (a zip entry data/<key>).
typedef struct nst_pkl_tensor {
    char *name;               // state-dict key, owned
    char *storage_key;        // owned; letters, digits and '_' only
    int dtype;                // NST_DT_* of the storage
    int64_t storage_numel;    // elements the pickle says the storage holds
    int64_t offset;           // storage offset, in elements
    int ndim;
    int64_t shape[NST_PKL_MAX_DIMS];
    int64_t stride[NST_PKL_MAX_DIMS];
} nst_pkl_tensor;

// Parses data.pkl (buf, len) into a list of tensors; *out is owned by the caller
// (nst_pkl_free). `path` and `entry` name the file and zip entry in messages.
int nst_pkl_state_dict(const uint8_t *buf, size_t len, const char *path, const char *entry,
                       nst_pkl_tensor **out, int *n_out, nst_error *err);
void nst_pkl_free(nst_pkl_tensor *t, int n);

#endif
