// transfer.h: the optimization itself, below the public nst_transfer (which adds
// colour preservation) and nst_transfer_scales (coarse to fine).
#ifndef NST_TRANSFER_H
#define NST_TRANSFER_H
#include "nst.h"

// Where a run stands among the stages of nst_transfer_scales ({0, 0} alone).
typedef struct nsti_stage {
    int index;         // stage number, from 0: checkpoints record it
    int iter_offset;   // iterations of the stages before: checkpoint_every counts on
} nsti_stage;

// Runs the optimization on content and styles as given; ignores p->preserve_colors.
// The statuses a run ends with and still gives its picture: done, stopped (by the
// callback or a NaN: the last good picture) or a checkpoint that could not be written
// (NST_ERR_IO: the picture so far). The one owner of that rule: nst_transfer_kept and
// the run itself ask it.
int nsti_status_keeps_picture(int status);
int nsti_transfer_core(const nst_model *m, const nst_image *content, const nst_image *styles,
                      int n_styles, const nst_params *p, const nsti_stage *stage, nst_image *out, nst_error *err);

#endif
