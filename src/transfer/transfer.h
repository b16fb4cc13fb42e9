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
int nsti_transfer_core(const nst_model *m, const nst_image *content, const nst_image *styles,
                      int n_styles, const nst_params *p, const nsti_stage *stage, nst_image *out, nst_error *err);

#endif
