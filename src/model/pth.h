// pth.h: reads torch.save()'d state dicts (the zip format since PyTorch 1.6):
// <prefix>/data.pkl holds the pickled dict, <prefix>/data/<key> the raw storages.
#ifndef NST_PTH_H
#define NST_PTH_H
#include <stdint.h>
#include "util/status.h"

typedef struct nst_pth_file nst_pth_file;

// Opens the archive, parses data.pkl with the restricted pickle reader and checks
// that every tensor fits inside its storage entry.
int nst_pth_open(nst_pth_file **out, const char *path, nst_error *err);
void nst_pth_close(nst_pth_file *f);
int nst_pth_count(const nst_pth_file *f);
const char *nst_pth_name(const nst_pth_file *f, int i);
// "F32", "F16" or "BF16", or NULL when there is no such tensor.
const char *nst_pth_dtype(const nst_pth_file *f, const char *name);
// As nst_st_read_f32: *data is malloc'd and owned by the caller.
int nst_pth_read_f32(nst_pth_file *f, const char *name, float **data, int64_t shape[8],
                     int *ndim, nst_error *err);

#endif
