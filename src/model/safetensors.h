// safetensors.h: a bounds-checked reader for the safetensors format
// (8-byte little-endian header length, JSON header, raw little-endian data).
#ifndef NST_SAFETENSORS_H
#define NST_SAFETENSORS_H
#include <stdint.h>
#include "util/status.h"

typedef struct nsti_st_file nsti_st_file;

int nsti_st_open(nsti_st_file **out, const char *path, nst_error *err);
void nsti_st_close(nsti_st_file *f);
int nsti_st_count(const nsti_st_file *f);
const char *nsti_st_name(const nsti_st_file *f, int i);
// A __metadata__ string value, or NULL.
const char *nsti_st_metadata(const nsti_st_file *f, const char *key);
// Reads tensor `name` as float32 (F16 and BF16 are widened). *data is malloc'd and
// owned by the caller; shape gets up to 8 dims. Fails with a message naming the file.
int nsti_st_read_f32(nsti_st_file *f, const char *name, float **data, int64_t shape[8],
                    int *ndim, nst_error *err);
// Helpers beyond the core API: the stored dtype of tensor `name` ("F32", "F16",
// "BF16") or NULL when absent, and the number of __metadata__ entries.
const char *nsti_st_dtype(const nsti_st_file *f, const char *name);
int nsti_st_metadata_count(const nsti_st_file *f);

#endif
