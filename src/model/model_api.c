// model_api.c: the public nst_model handle around the loaded weights.
#include "model/model_api.h"
#include <stdlib.h>

int nst_model_load(nst_model **out, const char *path, nst_error *err) {
    *out = NULL;
    nst_model *m = calloc(1, sizeof *m);
    if (!m) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    int rc = nst_weights_load(&m->weights, path, err);
    if (rc) { free(m); return rc; }
    *out = m;
    return NST_OK;
}

void nst_model_free(nst_model *m) {
    if (!m) return;
    nst_weights_free(&m->weights);
    free(m);
}

int nst_model_conv_count(const nst_model *m) { return m->weights.n_conv; }
const char *nst_model_input_convention(const nst_model *m) { return m->weights.norm.name; }
const char *nst_model_dtype(const nst_model *m) { return m->weights.dtype; }
const char *nst_model_input_reason(const nst_model *m) { return m->weights.norm_reason; }
int nst_model_set_input(nst_model *m, const char *convention, nst_error *err) {
    return nst_weights_set_input(&m->weights, convention, err);
}

int nst_model_save(const nst_model *m, const char *path, const char *dtype, nst_error *err) {
    return nst_weights_save(&m->weights, path, dtype, err);
}

const char *nst_conv_name(int i) { return i >= 0 && i < NST_VGG_CONVS ? nst_vgg_conv_name(i) : NULL; }
int nst_conv_channels(int i) { return i >= 0 && i < NST_VGG_CONVS ? nst_vgg_cout(i) : 0; }
