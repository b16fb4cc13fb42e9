// model_api.c: the public nst_model handle around the loaded weights.
#include "model/model_api.h"
#include <stdlib.h>

int nst_model_load(nst_model **out, const char *path, nst_error *err) {
    *out = NULL;
    nst_model *m = calloc(1, sizeof *m);
    if (!m) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    int rc = nsti_weights_load(&m->weights, path, err);
    if (rc) { free(m); return rc; }
    *out = m;
    return NST_OK;
}

void nst_model_free(nst_model *m) {
    if (!m) return;
    nsti_weights_free(&m->weights);
    free(m);
}

int nst_model_conv_count(const nst_model *m) { return m->weights.n_conv; }
const char *nst_model_input_convention(const nst_model *m) { return m->weights.norm.name; }
const char *nst_model_dtype(const nst_model *m) { return m->weights.dtype; }
const char *nst_model_input_reason(const nst_model *m) { return m->weights.norm_reason; }
int nst_model_set_input(nst_model *m, const char *convention, nst_error *err) {
    return nsti_weights_set_input(&m->weights, convention, err);
}

int nst_model_save(const nst_model *m, const char *path, const char *dtype, nst_error *err) {
    return nsti_weights_save(&m->weights, path, dtype, err);
}

const char *nst_model_arch(const nst_model *m) { return nsti_layout_arch(m->weights.layer, m->weights.n_conv); }

static const nsti_conv_layer *layer_at(const nst_model *m, int i) {
    return i >= 0 && i < m->weights.n_conv ? &m->weights.layer[i] : NULL;
}
const char *nst_model_conv_name(const nst_model *m, int i) { return layer_at(m, i) ? layer_at(m, i)->name : NULL; }
int nst_model_conv_channels(const nst_model *m, int i, int *in) {
    const nsti_conv_layer *l = layer_at(m, i);
    if (in) *in = l ? l->cin : 0;
    return l ? l->cout : 0;
}
int nst_model_conv_pooled(const nst_model *m, int i) { return layer_at(m, i) ? layer_at(m, i)->pool_before : 0; }
