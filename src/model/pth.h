// pth.h: reads torch.save()'d state dicts: the zip format since PyTorch 1.6
// (<prefix>/data.pkl holds the pickled dict, <prefix>/data/<key> the raw storages)
// and the legacy format before it (pickles and raw storages back to back).
#ifndef NST_PTH_H
#define NST_PTH_H
#include <stddef.h>
#include <stdint.h>
#include "util/status.h"

typedef struct nsti_pth_file nsti_pth_file;

enum { NST_PTH_ZIP = 1, NST_PTH_LEGACY = 2 };
// What the first bytes of a file say: NST_PTH_ZIP, NST_PTH_LEGACY or 0. 24 bytes do.
int nsti_pth_sniff(const uint8_t *head, size_t n);

// Opens the file, parses its pickles with the restricted pickle reader and checks
// that every tensor fits inside its storage. A file starting with a pickle is read
// as the legacy format, anything else as a zip archive.
int nsti_pth_open(nsti_pth_file **out, const char *path, nst_error *err);
// "pth (zip)" or "pth (legacy)".
const char *nsti_pth_format(const nsti_pth_file *f);
void nsti_pth_close(nsti_pth_file *f);
int nsti_pth_count(const nsti_pth_file *f);
const char *nsti_pth_name(const nsti_pth_file *f, int i);
// "F32", "F16" or "BF16", or NULL when there is no such tensor.
const char *nsti_pth_dtype(const nsti_pth_file *f, const char *name);
// As nsti_st_read_f32: *data is malloc'd and owned by the caller.
int nsti_pth_read_f32(nsti_pth_file *f, const char *name, float **data, int64_t shape[8],
                     int *ndim, nst_error *err);

#endif
