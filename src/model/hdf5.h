// hdf5.h: reads VGG19's conv weights from Keras HDF5 files through libhdf5: Keras'
// own release files (layer/layer_W_1:0) and tf.keras save_weights files
// (layer/layer/kernel:0), at the root or under /model_weights (model.save()).
// Tensors are presented under torchvision's names, features.N.weight (transposed
// from Keras' HWIO to OIHW) and features.N.bias, so weights.c checks them as any other.
// Without libhdf5 (no NST_HAVE_HDF5) nsti_h5_open says support is not built in.
#ifndef NST_HDF5_H
#define NST_HDF5_H
#include <stdint.h>
#include "util/status.h"

typedef struct nsti_h5_file nsti_h5_file;

// 1 when the file starts with HDF5's signature at offset 0, 512, 1024 or 2048
// (a user block may precede the superblock); 0 otherwise or when unreadable.
int nsti_h5_sniff(const char *path);
// Opens the file read-only and checks every conv dataset (links, storage, dtype,
// shape) before anything is read. Refuses external links, soft links, external
// storage, virtual datasets and filters other than shuffle and fletcher32.
int nsti_h5_open(nsti_h5_file **out, const char *path, nst_error *err);
void nsti_h5_close(nsti_h5_file *f);
int nsti_h5_count(const nsti_h5_file *f);
const char *nsti_h5_name(const nsti_h5_file *f, int i);
// "F32", "F16" or "F64" (the stored type), or NULL when there is no such tensor.
const char *nsti_h5_dtype(const nsti_h5_file *f, const char *name);
// As nsti_st_read_f32: *data is malloc'd float32, shape (Cout, Cin, 3, 3) or (Cout).
int nsti_h5_read_f32(nsti_h5_file *f, const char *name, float **data, int64_t shape[8],
                    int *ndim, nst_error *err);

#endif
