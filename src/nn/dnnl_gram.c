// dnnl_gram.c: see dnnl_gram.h.
#include "nn/dnnl_gram.h"
#include "model/dtype.h"
#include <stdlib.h>
#include <string.h>

#ifdef NST_HAVE_DNNL

// A matmul dst (M,N) f32 = src (M,K) * wei (K,N), inputs of type dt in the given layouts
// (ab: row-major; ba: the transpose of a row-major buffer), with dst += when sum.
static int make_matmul(dnnl_primitive_t *p, dnnl_engine_t engine, dnnl_data_type_t dt, dnnl_dim_t m, dnnl_dim_t k,
                       dnnl_dim_t n, dnnl_format_tag_t wei_tag, int sum) {
    dnnl_memory_desc_t src, wei, dst;
    dnnl_dims_t ds = {m, k}, dw = {k, n}, dd = {m, n};
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    int ok = dnnl_memory_desc_init_by_tag(&src, 2, ds, dt, dnnl_ab) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&wei, 2, dw, dt, wei_tag) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_ab) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &src, &wei, NULL, &dst) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success;
    if (ok && sum)
        ok = dnnl_post_ops_create(&ops) == dnnl_success && dnnl_post_ops_append_sum(ops, 1.0f) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, ops) == dnnl_success;
    ok = ok && dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) == dnnl_success;
    const char *impl = NULL;
    // the reference matmul would take seconds where the float32 path takes milliseconds
    ok = ok && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
         strncmp(impl, "ref", 3) != 0 && dnnl_primitive_create(p, pd) == dnnl_success;
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return ok ? 0 : -1;
}

static int memory_2d(dnnl_memory_t *mem, dnnl_engine_t engine, dnnl_dim_t rows, dnnl_dim_t cols,
                     dnnl_data_type_t dt, dnnl_format_tag_t tag, void *ptr) {
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {rows, cols};
    return dnnl_memory_desc_init_by_tag(&md, 2, d, dt, tag) == dnnl_success &&
                   dnnl_memory_create(mem, &md, engine, ptr) == dnnl_success
               ? 0
               : -1;
}

int nsti_dnnl_gram_init(nsti_dnnl_gram *m, dnnl_engine_t engine, int c, size_t n, int bf16, int with_grad) {
    memset(m, 0, sizeof *m);
    m->c = c;
    m->n = n;
    dnnl_dim_t C = c, N = (dnnl_dim_t)n;
    dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    if ((bf16 && with_grad && !(m->d_bf16 = malloc(sizeof(uint16_t) * (size_t)c * c))) ||
        make_matmul(&m->gram, engine, dt, C, N, C, dnnl_ba, 0) ||
        (with_grad && make_matmul(&m->grad, engine, dt, C, C, N, dnnl_ab, 1)) ||
        memory_2d(&m->f, engine, C, N, dt, dnnl_ab, DNNL_MEMORY_NONE) ||
        memory_2d(&m->f_t, engine, N, C, dt, dnnl_ba, DNNL_MEMORY_NONE) ||
        memory_2d(&m->g, engine, C, C, dnnl_f32, dnnl_ab, DNNL_MEMORY_NONE) ||
        memory_2d(&m->d, engine, C, C, dt, dnnl_ab, bf16 ? m->d_bf16 : DNNL_MEMORY_NONE) ||
        memory_2d(&m->dst, engine, C, N, dnnl_f32, dnnl_ab, DNNL_MEMORY_NONE)) {
        nsti_dnnl_gram_free(m);
        return -1;
    }
    return 0;
}

void nsti_dnnl_gram_free(nsti_dnnl_gram *m) {
    if (m->gram) dnnl_primitive_destroy(m->gram);
    if (m->grad) dnnl_primitive_destroy(m->grad);
    dnnl_memory_t mems[] = {m->f, m->f_t, m->g, m->d, m->dst};
    for (size_t k = 0; k < sizeof mems / sizeof *mems; k++)
        if (mems[k]) dnnl_memory_destroy(mems[k]);
    free(m->d_bf16);
    memset(m, 0, sizeof *m);
}

int nsti_dnnl_gram_run(nsti_dnnl_gram *m, dnnl_stream_t stream, float *g, const void *f, float div) {
    // oneDNN reads through these handles only: F is never written
    if (dnnl_memory_set_data_handle(m->f, (void *)f) != dnnl_success ||
        dnnl_memory_set_data_handle(m->f_t, (void *)f) != dnnl_success ||
        dnnl_memory_set_data_handle(m->g, g) != dnnl_success)
        return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, m->f}, {DNNL_ARG_WEIGHTS, m->f_t}, {DNNL_ARG_DST, m->g}};
    if (dnnl_primitive_execute(m->gram, stream, 3, args) != dnnl_success || dnnl_stream_wait(stream) != dnnl_success)
        return -1;
    size_t cc = (size_t)m->c * m->c;
    float inv = 1.0f / div;   // as nsti_gram's alpha: the same scaling
    for (size_t k = 0; k < cc; k++) g[k] *= inv;
    return 0;
}

int nsti_dnnl_gram_grad_run(nsti_dnnl_gram *m, dnnl_stream_t stream, float *grad, const void *f,
                           const float *d) {
    if (!m->grad) return -1;   // made without it (a forward-only network)
    size_t cc = (size_t)m->c * m->c;
    if (m->d_bf16)   // bf16
        for (size_t k = 0; k < cc; k++) m->d_bf16[k] = nsti_float_to_bf16(d[k]);
    else if (dnnl_memory_set_data_handle(m->d, (void *)d) != dnnl_success)   // read only
        return -1;
    if (dnnl_memory_set_data_handle(m->f, (void *)f) != dnnl_success ||
        dnnl_memory_set_data_handle(m->dst, grad) != dnnl_success)
        return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, m->d}, {DNNL_ARG_WEIGHTS, m->f}, {DNNL_ARG_DST, m->dst}};
    return dnnl_primitive_execute(m->grad, stream, 3, args) == dnnl_success &&
                   dnnl_stream_wait(stream) == dnnl_success
               ? 0
               : -1;
}

#endif
