// pth_legacy.h: the pre-1.6 torch.save format (a bare stream of pickles and raw
// storages, see model/pickle.h), read with plain stdio for model/pth.c.
#ifndef NST_PTH_LEGACY_H
#define NST_PTH_LEGACY_H
#include <stdint.h>
#include <stdio.h>
#include "model/pickle.h"

// Parses the pickles at the start of fp and walks the storages after them, checking
// every count and length against the file size (nothing is read or allocated for
// the data itself). On success *t / *n are the state dict and (*at)[i] is the file
// offset of tensor i's first element; both malloc'd, owned by the caller.
int nsti_pth_legacy_index(FILE *fp, const char *path, nsti_pkl_tensor **t, int *n, uint64_t **at,
                         nst_error *err);

#endif
