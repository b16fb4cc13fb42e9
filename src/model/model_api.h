// model_api.h: what the public nst_model handle holds.
#ifndef NST_MODEL_API_H
#define NST_MODEL_API_H
#include "model/weights.h"

struct nst_model {
    nsti_vgg_weights weights;
};

#endif
