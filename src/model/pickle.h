// pickle.h: a restricted reader for the pickles torch.save writes for a state dict
// (protocol 2+). It interprets a small set of opcodes and only these globals:
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the Float, Half and
// BFloat16 storage types; in legacy (pre-1.6) files also torch._utils._rebuild_tensor,
// torch.Size, the torch.{Float,Half,BFloat16}Tensor classes (filled by BUILD) and the
// torch.cuda storage and tensor types of those three. Nothing is ever executed;
// anything else is an error.
#ifndef NST_PICKLE_H
#define NST_PICKLE_H
#include <stddef.h>
#include <stdint.h>
#include "util/status.h"

#define NST_PKL_MAX_DIMS 8

// One state-dict entry: a tensor view into a storage (a zip entry data/<key>).
typedef struct nsti_pkl_tensor {
    char *name;               // state-dict key, owned
    char *storage_key;        // owned; letters, digits and '_' only
    int dtype;                // NST_DT_* of the storage
    int64_t storage_numel;    // elements the pickle says the storage holds
    int64_t offset;           // storage offset, in elements
    int ndim;
    int64_t shape[NST_PKL_MAX_DIMS];
    int64_t stride[NST_PKL_MAX_DIMS];
} nsti_pkl_tensor;

// Parses data.pkl (buf, len) into a list of tensors; *out is owned by the caller
// (nsti_pkl_free). `path` and `entry` name the file and zip entry in messages.
int nsti_pkl_state_dict(const uint8_t *buf, size_t len, const char *path, const char *entry,
                       nsti_pkl_tensor **out, int *n_out, nst_error *err);
void nsti_pkl_free(nsti_pkl_tensor *t, int n);

// A legacy torch.save file is five pickles back to back - magic number, format
// version, sys_info, the state dict, the list of storage keys - then the storages
// in that list's order, each an 8-byte little-endian element count and the data.
typedef struct nsti_pkl_legacy {
    nsti_pkl_tensor *t;        // the state dict
    int n;
    char **keys;              // storage keys in file order
    int n_keys;
    size_t data_start;        // offset of the first storage, just past the key list
    int truncated;            // on failure: buf ended inside a pickle (a longer one may do)
} nsti_pkl_legacy;

// Parses the five pickles at the start of buf (a prefix of the file: offsets in
// messages are file offsets). Checks the magic number, version 1001 and a
// little-endian sys_info. *out is freed with nsti_pkl_legacy_free.
int nsti_pkl_legacy_parse(const uint8_t *buf, size_t len, const char *path, nsti_pkl_legacy *out,
                         nst_error *err);
void nsti_pkl_legacy_free(nsti_pkl_legacy *l);

#endif
