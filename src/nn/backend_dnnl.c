// backend_dnnl.c: the oneDNN backend (backend.h): a VGG's forward and backward-to-the-
// image on oneDNN primitives.
//
// Why this shape: on AVX-512 oneDNN's Winograd F(4x4,3x3) convolutions run 2-3x
// faster than direct ones (measured: 64->64 channels at 512x512, 30 ms against 50 ms,
// 2 cores), but only on blocked layouts. So activations and gradients stay in one
// layout through the whole network (blocked nChw16c; in bf16, the one oneDNN picks,
// channels-last on AMX: see choose_layout), ReLU is a post-op of the convolution, pooling
// is oneDNN's (max pooling keeps a workspace for its backward pass), ReLU leaves a
// bit mask for its backward pass (so two buffers carry all activations, then all
// gradients), and only the
// activations that losses read are reordered to plain (C,H,W) copies, and their
// gradients back; the Gram matrices multiply those copies with oneDNN matmuls
// (dnnl_gram.h). bf16 mode stores activations and gradients as bfloat16 and runs bf16
// convolutions and matmuls (AVX512-BF16 / AMX); the plain copies stay bf16 (widened to
// float32 only for the losses that read values: content, moments, masks); the image,
// the losses' values and sums stay float32.
#include "nn/backend_dnnl.h"
#include "nn/backend.h"
#include "nn/relu_mask.h"
#include "nn/dnnl_gram.h"
#include "model/dtype.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// oneDNN's ISA values are sets of feature bits, not an order (AVX2-VNNI, 0x407, is
// numerically above AVX512-AMX, 0x3e7): an ISA includes another when it has all its bits.
int nsti_dnnl_isa_includes(unsigned isa, unsigned want) { return (isa & want) == want; }

#ifdef NST_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

typedef struct tensor {
    dnnl_memory_desc_t md;
    dnnl_memory_t mem;   // created on our buffer (or rebound with set_data_handle)
    void *buf;           // owned, or NULL when borrowed
    void *data;          // where the values are: buf, or the borrowed buffer (NULL: rebound per use)
    size_t bytes;
} tensor;

typedef struct layer {
    dnnl_primitive_t fwd, bwd, pool_fwd, pool_bwd;
    tensor w_fwd, w_bwd, bias;
    tensor out;          // view: blocked conv output (post-ReLU after the forward pass)
    tensor pooled;       // view: blocked input of this conv when a pool precedes it
    tensor ws;           // max-pool workspace: where each window's maximum was
    uint8_t *mask;       // one bit per output: relu(x) > 0, for the backward pass
    int fused_relu;
    int winograd;        // which convolution algorithm was chosen
    // plain (C,H,W) copies for the losses (float32; bf16 in bf16 mode, see
    // activation), reorders to them, and from the losses' float32 gradients
    tensor plain_pre, plain_post;
    dnnl_primitive_t to_plain_pre, to_plain_post, from_plain_pre, from_plain_post;
    // memories over the gradient buffers, rebound with dnnl_memory_set_data_handle
    // (created once: nothing is allocated during the optimization)
    dnnl_memory_t g_out;      // dL/d(output of conv i), L->out's layout
    dnnl_memory_t g_in;       // dL/d(input of conv i), the backward primitive's diff_src
    dnnl_memory_t g_pooled;   // dL/d(pooled), L->pooled's layout
    dnnl_memory_t g_prev;     // dL/d(relu_{i-1} output), the previous layer's layout
    dnnl_memory_t g_plain;    // a loss's (C,H,W) float32 gradient
    dnnl_memory_t g_loss;     // over the gradient that it is added into, L->out's layout
} layer;

struct nsti_dnnl_net {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_data_type_t dt;
    dnnl_format_tag_t layout;   // of activations and gradients between layers
    layer l[NST_MAX_CONVS];
    tensor x;            // the image in the activation type (bf16 mode only)
    dnnl_primitive_t x_reorder;
    tensor x_user;       // the caller's float32 image, rebound per call
    tensor dx_user;      // the caller's float32 gradient, rebound per call
    tensor dx_blocked;   // the image's gradient in the layout oneDNN computes it in
    dnnl_primitive_t dx_reorder;
    // Two buffers of the largest activation's size. The forward pass streams the
    // activations through them (the backward pass needs only the ReLU bit masks, the
    // pooling workspaces and the plain copies that losses read); then the backward pass
    // streams the gradients through the same two.
    tensor buf[2];
    tensor scratch;      // the convolutions' scratchpad, shared (they run one at a time)
    size_t scratch_bytes;
    tensor plain_grad;   // (C,H,W) float32 gradient a loss writes into
    // A streamed network (NSTI_VGG_STREAM) keeps every layer's plain copies in this one
    // buffer, the largest layer's size: each is read only while its layer is visited.
    void *plain_shared;
    size_t plain_shared_bytes;
    // the Gram terms' products on the plain copies (dnnl_gram.h; float32, or bf16 in bf16
    // mode), one per layer a Gram term reads (ok: made; else that layer's go through sgemm)
    nsti_dnnl_gram gram[NST_MAX_CONVS];
    int gram_ok[NST_MAX_CONVS];
    // bf16 mode: the float32 copy of one bf16 activation, made when a loss asks for it
    float *act_f32;
    size_t act_elems;
    int act_conv, act_relu;   // which one it holds (act_conv -1: none since the forward pass)
};

#define WINO_SCRATCH_BUDGET ((size_t)256 << 20)
#define WINO_MIN_POSITIONS 1024

#define TRY(call) do { if ((call) != dnnl_success) goto fail; } while (0)

static dnnl_memory_desc_t md_of(int c, int h, int w, dnnl_data_type_t dt, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {1, c, h, w};
    dnnl_memory_desc_init_by_tag(&md, 4, d, dt, tag);
    return md;
}

// Allocates a tensor of descriptor md and a memory object over it.
static int tensor_alloc(struct nsti_dnnl_net *dn, tensor *t, const dnnl_memory_desc_t *md) {
    t->md = *md;
    t->bytes = dnnl_memory_desc_get_size(md);
    t->data = t->buf = aligned_alloc(64, (t->bytes + 63) / 64 * 64);
    if (!t->buf) return -1;
    memset(t->buf, 0, t->bytes);
    return dnnl_memory_create(&t->mem, md, dn->engine, t->buf) == dnnl_success ? 0 : -1;
}

// A memory object over someone else's buffer (set later with dnnl_memory_set_data_handle).
static int tensor_view(struct nsti_dnnl_net *dn, tensor *t, const dnnl_memory_desc_t *md, void *ptr) {
    t->md = *md;
    t->bytes = dnnl_memory_desc_get_size(md);
    t->buf = NULL;
    t->data = ptr;
    return dnnl_memory_create(&t->mem, md, dn->engine, ptr ? ptr : DNNL_MEMORY_NONE) == dnnl_success ? 0 : -1;
}

static void tensor_free(tensor *t) {
    if (t->mem) dnnl_memory_destroy(t->mem);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

// A reorder from src's layout to dst's; with accumulate, it adds into dst instead.
static int reorder_prim_acc(struct nsti_dnnl_net *dn, dnnl_primitive_t *p, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *dst, int accumulate) {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    if (accumulate && (dnnl_primitive_attr_create(&attr) != dnnl_success || dnnl_post_ops_create(&ops) != dnnl_success ||
                       dnnl_post_ops_append_sum(ops, 1.0f) != dnnl_success ||
                       dnnl_primitive_attr_set_post_ops(attr, ops) != dnnl_success)) {
        if (ops) dnnl_post_ops_destroy(ops);
        if (attr) dnnl_primitive_attr_destroy(attr);
        return -1;
    }
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, src, dn->engine, dst, dn->engine, attr);
    if (s == dnnl_success) {
        s = dnnl_primitive_create(p, pd);
        dnnl_primitive_desc_destroy(pd);
    }
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return s == dnnl_success ? 0 : -1;
}

static int reorder_prim(struct nsti_dnnl_net *dn, dnnl_primitive_t *p, const dnnl_memory_desc_t *src,
                        const dnnl_memory_desc_t *dst) {
    return reorder_prim_acc(dn, p, src, dst, 0);
}

static int run_reorder(struct nsti_dnnl_net *dn, dnnl_primitive_t p, dnnl_memory_t src, dnnl_memory_t dst) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
    return dnnl_primitive_execute(p, dn->stream, 2, args) == dnnl_success ? 0 : -1;
}

// Converts user weights (Cout,Cin,3,3) float32 into the layout a primitive wants.
static int load_weights(struct nsti_dnnl_net *dn, tensor *t, const dnnl_memory_desc_t *want,
                        const float *w, int cin, int cout) {
    if (tensor_alloc(dn, t, want)) return -1;
    dnnl_memory_desc_t user_md;
    dnnl_dims_t d = {cout, cin, 3, 3};
    dnnl_memory_desc_init_by_tag(&user_md, 4, d, dnnl_f32, dnnl_oihw);
    dnnl_memory_t user;
    if (dnnl_memory_create(&user, &user_md, dn->engine, (void *)w) != dnnl_success) return -1;
    dnnl_primitive_t r;
    int rc = reorder_prim(dn, &r, &user_md, want);
    if (!rc) { rc = run_reorder(dn, r, user, t->mem); dnnl_primitive_destroy(r); }
    dnnl_memory_destroy(user);
    return rc;
}

// Creates the forward and backward-data convolutions of layer i, trying Winograd
// first (float32 only: oneDNN has no bf16 Winograd), then direct.
static int make_conv(struct nsti_dnnl_net *dn, nsti_vgg *net, int i, const dnnl_memory_desc_t *src_md,
                     const dnnl_memory_desc_t *dst_md, const dnnl_memory_desc_t *dsrc_md) {
    layer *L = &dn->l[i];
    int cin = net->weights->layer[i].cin, cout = net->weights->layer[i].cout;
    dnnl_dims_t wd = {cout, cin, 3, 3}, bd = {cout}, strides = {1, 1}, pad = {1, 1};
    dnnl_memory_desc_t wmd, bmd;
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dn->dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x);
    dnnl_alg_kind_t algs[2] = {dnnl_convolution_winograd, dnnl_convolution_direct};
    // Winograd keeps 4x larger weights (twice: forward and backward), so it is used only
    // where the layer is large enough to repay them: at least 32x32 positions (below,
    // direct kernels cost a few ms an iteration and save 56 MB per 512-channel layer).
    int first = (dn->dt == dnnl_f32 && cin >= 16 && (long)net->h[i] * net->w[i] >= WINO_MIN_POSITIONS) ? 0 : 1;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_attr_t battr = NULL;
    TRY(dnnl_primitive_attr_create(&attr));
    TRY(dnnl_primitive_attr_create(&battr));
    // our own scratchpad, one for all layers, so its size is known and bounded
    TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    TRY(dnnl_primitive_attr_set_scratchpad_mode(battr, dnnl_scratchpad_mode_user));
    if (L->fused_relu) {
        TRY(dnnl_post_ops_create(&ops));
        TRY(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
        TRY(dnnl_primitive_attr_set_post_ops(attr, ops));
    }
    for (int a = first; a < 2; a++) {
        dnnl_convolution_desc_t fd, bd_desc;
        dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
        if (dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, algs[a], src_md, &wmd, &bmd, dst_md,
                                               strides, pad, pad) != dnnl_success) continue;
        if (dnnl_primitive_desc_create(&fpd, &fd, attr, dn->engine, NULL) != dnnl_success) continue;
        if (!net->forward_only &&
            (dnnl_convolution_backward_data_desc_init(&bd_desc, algs[a], dsrc_md, &wmd, dst_md, strides, pad, pad) != dnnl_success ||
             dnnl_primitive_desc_create(&bpd, &bd_desc, battr, dn->engine, fpd) != dnnl_success)) {
            dnnl_primitive_desc_destroy(fpd);
            continue;
        }
        size_t fs = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(fpd, dnnl_query_scratchpad_md, 0));
        size_t bs = bpd ? dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(bpd, dnnl_query_scratchpad_md, 0)) : 0;
        // Winograd's scratchpad grows with channels x pixels (measured 2.4 GB for
        // 128 channels at 1024x1024): past the budget, the direct kernel instead.
        if (algs[a] == dnnl_convolution_winograd && (fs > WINO_SCRATCH_BUDGET || bs > WINO_SCRATCH_BUDGET)) {
            dnnl_primitive_desc_destroy(fpd);
            if (bpd) dnnl_primitive_desc_destroy(bpd);
            continue;
        }
        if (fs > dn->scratch_bytes) dn->scratch_bytes = fs;
        if (bs > dn->scratch_bytes) dn->scratch_bytes = bs;
        L->winograd = algs[a] == dnnl_convolution_winograd;
        const nsti_vgg_weights *wts = net->weights;
        // a forward-only network (style targets) needs no backward primitives or weights
        int ok = dnnl_primitive_create(&L->fwd, fpd) == dnnl_success &&
                 !load_weights(dn, &L->w_fwd, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0), wts->weight[i], cin, cout) &&
                 !tensor_alloc(dn, &L->bias, &bmd);
        if (ok && bpd) {
            // Winograd's backward pass takes the forward weights' layout (it flips them in
            // its own transform): one copy serves both (40 MB less for VGG19 at 512 px)
            const dnnl_memory_desc_t *fw = dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0);
            const dnnl_memory_desc_t *bw = dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0);
            ok = dnnl_primitive_create(&L->bwd, bpd) == dnnl_success &&
                 !(dnnl_memory_desc_equal(fw, bw) ? tensor_view(dn, &L->w_bwd, bw, L->w_fwd.buf)
                                                  : load_weights(dn, &L->w_bwd, bw, wts->weight[i], cin, cout)) &&
                 dnnl_memory_create(&L->g_in, dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_src_md, 0),
                                    dn->engine, DNNL_MEMORY_NONE) == dnnl_success;
        }
        if (ok) memcpy(L->bias.buf, wts->bias[i], sizeof(float) * cout);
        if (!ok) {   // leave the layer clean for another try
            if (L->fwd) dnnl_primitive_destroy(L->fwd);
            if (L->bwd) dnnl_primitive_destroy(L->bwd);
            L->fwd = L->bwd = NULL;
            tensor_free(&L->w_fwd); tensor_free(&L->w_bwd); tensor_free(&L->bias);
        }
        dnnl_primitive_desc_destroy(fpd);
        if (bpd) dnnl_primitive_desc_destroy(bpd);
        if (ops) dnnl_post_ops_destroy(ops);
        dnnl_primitive_attr_destroy(attr);
        dnnl_primitive_attr_destroy(battr);
        return ok ? 0 : -1;
    }
fail:
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (battr) dnnl_primitive_attr_destroy(battr);
    return -1;
}

static int make_pool(struct nsti_dnnl_net *dn, nsti_vgg *net, int i) {
    layer *L = &dn->l[i];
    int c = net->weights->layer[i - 1].cout;
    dnnl_memory_desc_t src = md_of(c, net->h[i - 1], net->w[i - 1], dn->dt, dn->layout);
    dnnl_memory_desc_t dst = md_of(c, net->h[i], net->w[i], dn->dt, dn->layout);
    dnnl_dims_t two = {2, 2}, zero = {0, 0};
    dnnl_alg_kind_t alg = net->avg_pool ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max;
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    int ok = dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &src, &dst, two, two, zero, zero, zero) == dnnl_success &&
             dnnl_primitive_desc_create(&fpd, &fd, NULL, dn->engine, NULL) == dnnl_success &&
             dnnl_pooling_v2_backward_desc_init(&bd, alg, &src, &dst, two, two, zero, zero, zero) == dnnl_success &&
             dnnl_primitive_desc_create(&bpd, &bd, NULL, dn->engine, fpd) == dnnl_success &&
             dnnl_primitive_create(&L->pool_fwd, fpd) == dnnl_success &&
             dnnl_primitive_create(&L->pool_bwd, bpd) == dnnl_success &&
             !tensor_view(dn, &L->pooled, &dst, NULL);
    if (ok && !net->avg_pool) ok = !tensor_alloc(dn, &L->ws, dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0));
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    return ok ? 0 : -1;
}

static size_t elems(const nsti_vgg *net, int i) { return (size_t)net->weights->layer[i].cout * net->h[i] * net->w[i]; }

// Plain (C,H,W) copies of what losses read, in the activations' type (bf16 stays bf16:
// half the bytes, and the Gram matrices multiply it as it is), with the reorder to them,
// and the one that adds a loss's float32 (C,H,W) gradient into the blocked one.
// In a streamed network the copy lives in dn->plain_shared at byte offset `at`.
static int make_plain(struct nsti_dnnl_net *dn, const tensor *blocked, tensor *plain, dnnl_primitive_t *to,
                      dnnl_primitive_t *from, int c, int h, int w, size_t at) {
    dnnl_memory_desc_t pmd = md_of(c, h, w, dn->dt, dnnl_nchw), gmd = md_of(c, h, w, dnnl_f32, dnnl_nchw);
    if (dn->plain_shared ? tensor_view(dn, plain, &pmd, (char *)dn->plain_shared + at) : tensor_alloc(dn, plain, &pmd))
        return -1;
    // a forward-only network takes no gradients
    return reorder_prim(dn, to, &blocked->md, &pmd) || (from && reorder_prim_acc(dn, from, &gmd, &blocked->md, 1));
}

// The activations' layout. float32: blocked nChw16c, the only one with Winograd
// kernels (the fastest here). bf16: the layout oneDNN picks for a 64->64 convolution
// when left free (format_tag_any), if it is one the whole network can use. On AMX
// that is channels-last, where its AMX kernels run (the issue that asked for this
// measured them 6x faster than the AVX512-BF16 kernels oneDNN runs on blocked
// layouts); without AMX it is blocked (there,
// channels-last falls to reference kernels: 10 iterations took 75 s instead of 14).
// net->dnnl_layout forces one, for tests. Returns 0 when oneDNN fails.
static dnnl_format_tag_t choose_layout(struct nsti_dnnl_net *dn, const nsti_vgg *net) {
    if (net->dnnl_layout == NST_DNNL_LAYOUT_BLOCKED) return dnnl_nChw16c;
    if (net->dnnl_layout == NST_DNNL_LAYOUT_CHANNELS_LAST) return dnnl_nhwc;
    if (dn->dt == dnnl_f32) return dnnl_nChw16c;
    int h = net->h[0], w = net->w[0];
    dnnl_memory_desc_t any = md_of(64, h, w, dn->dt, dnnl_format_tag_any), wmd, bmd;
    dnnl_dims_t wd = {64, 64, 3, 3}, bd = {64}, strides = {1, 1}, pad = {1, 1};
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dn->dt, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x);
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd;
    if (dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct, &any, &wmd, &bmd, &any,
                                           strides, pad, pad) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &cd, NULL, dn->engine, NULL) != dnnl_success)
        return (dnnl_format_tag_t)0;
    dnnl_memory_desc_t chosen = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_desc_t nhwc = md_of(64, h, w, dn->dt, dnnl_nhwc);
    return dnnl_memory_desc_equal(&chosen, &nhwc) ? dnnl_nhwc : dnnl_nChw16c;
}

static void onednn_free(nsti_vgg *net);

static int onednn_init(nsti_vgg *net, int bf16, nst_error *err) {
    struct nsti_dnnl_net *dn = calloc(1, sizeof *dn);
    if (!dn) return nsti_fail(err, NST_ERR_NOMEM, "out of memory for the oneDNN network");
    net->impl = dn;
    net->bf16 = bf16;
    dn->dt = bf16 ? dnnl_bf16 : dnnl_f32;
    int H = net->h[0], W = net->w[0];
    size_t largest = 0;
    if (dnnl_engine_create(&dn->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&dn->stream, dn->engine, dnnl_stream_default_flags) != dnnl_success)
        goto fail;
    dn->layout = choose_layout(dn, net);
    if (!dn->layout) goto fail;
    if (net->forward_only == NSTI_VGG_STREAM) {
        size_t most = 0, esz = dn->dt == dnnl_f32 ? 4 : 2;
        for (int i = 0; i < net->n_conv; i++) {
            size_t copies = (net->loss_at[i] & NST_LOSS_PRE ? 1 : 0) + (net->loss_at[i] & NST_LOSS_POST ? 1 : 0);
            if (copies * elems(net, i) * esz > most) most = copies * elems(net, i) * esz;
        }
        if (most && !(dn->plain_shared = aligned_alloc(64, (most + 63) / 64 * 64))) goto fail;
        dn->plain_shared_bytes = most;
    }
    dnnl_memory_desc_t x_f32 = md_of(3, H, W, dnnl_f32, dnnl_nchw);
    if (tensor_view(dn, &dn->x_user, &x_f32, NULL) || tensor_view(dn, &dn->dx_user, &x_f32, NULL)) goto fail;
    for (int i = 0; i < net->n_conv; i++) {
        layer *L = &dn->l[i];
        int cin = net->weights->layer[i].cin, cout = net->weights->layer[i].cout, h = net->h[i], w = net->w[i];
        if (net->weights->layer[i].pool_before && make_pool(dn, net, i)) goto fail;
        // bf16's first layer: a plain 3-channel source has only oneDNN's reference kernel
        // on AMX (measured 7.5 s at 384x512), so let oneDNN pick the image's layout
        dnnl_memory_desc_t src = i == 0 ? (bf16 ? md_of(3, H, W, dn->dt, dnnl_format_tag_any) : x_f32)
                                        : md_of(cin, h, w, dn->dt, dn->layout);
        dnnl_memory_desc_t dst = md_of(cout, h, w, dn->dt, dn->layout);
        // The image's gradient is float32 (the optimizer's) where oneDNN allows it.
        // oneDNN's only kernel for a plain 3-channel diff_src is its
        // reference one (measured 4.5 s at 512x512), so let it pick a blocked layout
        // and reorder to (3,H,W) float32 afterwards.
        dnnl_memory_desc_t dsrc = i == 0 ? md_of(3, H, W, dnnl_f32, dnnl_format_tag_any) : src;
        dnnl_memory_desc_t dsrc_dt = md_of(3, H, W, dn->dt, dnnl_format_tag_any);
        L->fused_relu = !(net->loss_at[i] & NST_LOSS_PRE);
        if (make_conv(dn, net, i, &src, &dst, &dsrc) && (i != 0 || make_conv(dn, net, i, &src, &dst, &dsrc_dt))) goto fail;
        if (i == 0 && bf16) {   // the image goes into the layout the first convolution chose
            const_dnnl_primitive_desc_t fpd;
            if (dnnl_primitive_get_primitive_desc(L->fwd, &fpd) != dnnl_success) goto fail;
            const dnnl_memory_desc_t *x_md = dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0);
            if (tensor_alloc(dn, &dn->x, x_md) || reorder_prim(dn, &dn->x_reorder, &x_f32, x_md)) goto fail;
        }
        if (i == 0 && !net->forward_only) {
            const dnnl_memory_desc_t *chosen;
            dnnl_memory_get_memory_desc(L->g_in, &chosen);
            if (tensor_alloc(dn, &dn->dx_blocked, chosen) || reorder_prim(dn, &dn->dx_reorder, chosen, &x_f32)) goto fail;
        }
        if (tensor_view(dn, &L->out, &dst, NULL)) goto fail;
        // the ReLU masks and the losses' gradient reorders are for the backward pass only
        if (!net->forward_only && !(L->mask = calloc((elems(net, i) + 7) / 8, 1))) goto fail;
        int pre = net->loss_at[i] & NST_LOSS_PRE, post = net->loss_at[i] & NST_LOSS_POST;
        size_t pre_bytes = pre ? elems(net, i) * (dn->dt == dnnl_f32 ? 4 : 2) : 0;   // post after pre when shared
        if (post && make_plain(dn, &L->out, &L->plain_post, &L->to_plain_post,
                               net->forward_only ? NULL : &L->from_plain_post, cout, h, w, pre_bytes)) goto fail;
        if (pre && make_plain(dn, &L->out, &L->plain_pre, &L->to_plain_pre,
                              net->forward_only ? NULL : &L->from_plain_pre, cout, h, w, 0)) goto fail;
        if (dnnl_memory_create(&L->g_out, &dst, dn->engine, DNNL_MEMORY_NONE) != dnnl_success ||
            dnnl_memory_create(&L->g_loss, &dst, dn->engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail;
        dnnl_memory_desc_t plain = md_of(cout, h, w, dnnl_f32, dnnl_nchw);
        if (dnnl_memory_create(&L->g_plain, &plain, dn->engine, DNNL_MEMORY_NONE) != dnnl_success) goto fail;
        if (net->weights->layer[i].pool_before &&
            (dnnl_memory_create(&L->g_pooled, &L->pooled.md, dn->engine, DNNL_MEMORY_NONE) != dnnl_success ||
             dnnl_memory_create(&L->g_prev, &dn->l[i - 1].out.md, dn->engine, DNNL_MEMORY_NONE) != dnnl_success)) goto fail;
        size_t out_bytes = dnnl_memory_desc_get_size(&dst), in_bytes = dnnl_memory_desc_get_size(&src);
        if (out_bytes > largest) largest = out_bytes;
        if (in_bytes > largest) largest = in_bytes;
        if (L->pooled.mem && L->pooled.bytes > largest) largest = L->pooled.bytes;
    }
    {
        // gradient buffers are raw bytes; memories over them are rebound per use
        dnnl_memory_desc_t flat;
        dnnl_dims_t d = {(dnnl_dim_t)(largest / 2)};
        dnnl_memory_desc_init_by_tag(&flat, 1, d, dnnl_bf16, dnnl_x);   // 2-byte units: any size fits
        for (int k = 0; k < 2; k++) if (tensor_alloc(dn, &dn->buf[k], &flat)) goto fail;
        dnnl_dims_t sd = {(dnnl_dim_t)(dn->scratch_bytes > 0 ? dn->scratch_bytes : 1)};
        dnnl_memory_desc_t smd;
        dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_u8, dnnl_x);
        if (tensor_alloc(dn, &dn->scratch, &smd)) goto fail;
        int cmax = 0;
        size_t pmax = 0;
        for (int i = 0; i < net->n_conv; i++)
            if (net->loss_at[i]) {
                size_t n = (size_t)net->weights->layer[i].cout * net->h[i] * net->w[i];
                if (n > pmax) pmax = n;
                cmax = 1;
            }
        if (cmax && dn->dt != dnnl_f32) {   // float32 mode borrows a ping-pong buffer instead
            dnnl_dims_t pd = {(dnnl_dim_t)pmax};
            dnnl_memory_desc_t pmd;
            dnnl_memory_desc_init_by_tag(&pmd, 1, pd, dnnl_f32, dnnl_x);
            if ((!net->forward_only && tensor_alloc(dn, &dn->plain_grad, &pmd)) ||
                !(dn->act_f32 = malloc((pmax ? pmax : 1) * sizeof(float))))
                goto fail;
            dn->act_elems = pmax;
            dn->act_conv = -1;
        }
        for (int i = 0; i < net->n_conv; i++)   // no matmul: that layer's Grams go through sgemm
            if (net->loss_at[i] & NST_LOSS_GRAM)
                dn->gram_ok[i] = !nsti_dnnl_gram_init(&dn->gram[i], dn->engine, net->weights->layer[i].cout,
                                                      (size_t)net->h[i] * net->w[i], dn->dt == dnnl_bf16,
                                                      !net->forward_only);
    }
    net->bytes = 0;
    for (int i = 0; i < net->n_conv; i++) {
        layer *L = &dn->l[i];
        tensor *ts[] = {&L->w_fwd, &L->w_bwd, &L->bias, &L->ws, &L->plain_pre, &L->plain_post};
        for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) net->bytes += ts[k]->buf ? ts[k]->bytes : 0;
        net->bytes += L->mask ? (elems(net, i) + 7) / 8 : 0;
    }
    net->bytes += dn->plain_shared_bytes;
    net->bytes += dn->scratch.bytes + dn->buf[0].bytes * 2 + dn->plain_grad.bytes + dn->x.bytes + dn->dx_blocked.bytes;
    net->bytes += dn->act_elems * sizeof(float);
    for (int i = 0; i < net->n_conv; i++)
        net->bytes += dn->gram_ok[i] && dn->gram[i].d_bf16 ? (size_t)dn->gram[i].c * dn->gram[i].c * sizeof(uint16_t) : 0;
    return NST_OK;
fail:
    onednn_free(net);
    return nsti_fail(err, NST_ERR_NOMEM, "oneDNN could not set up the network for a %dx%d image%s", W, H,
                    bf16 ? " in bf16" : "");
}

static void onednn_free(nsti_vgg *net) {
    struct nsti_dnnl_net *dn = net->impl;
    if (!dn) return;
    for (int i = 0; i < NST_MAX_CONVS; i++) {
        layer *L = &dn->l[i];
        dnnl_primitive_t ps[] = {L->fwd, L->bwd, L->pool_fwd, L->pool_bwd, L->to_plain_pre, L->to_plain_post,
                                 L->from_plain_pre, L->from_plain_post};
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) if (ps[k]) dnnl_primitive_destroy(ps[k]);
        dnnl_memory_t ms[] = {L->g_out, L->g_in, L->g_pooled, L->g_prev, L->g_plain, L->g_loss};
        for (size_t k = 0; k < sizeof ms / sizeof *ms; k++) if (ms[k]) dnnl_memory_destroy(ms[k]);
        tensor *ts[] = {&L->w_fwd, &L->w_bwd, &L->bias, &L->out, &L->pooled, &L->ws, &L->plain_pre, &L->plain_post};
        for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) tensor_free(ts[k]);
        free(L->mask);
        if (dn->gram_ok[i]) nsti_dnnl_gram_free(&dn->gram[i]);
    }
    free(dn->act_f32);
    free(dn->plain_shared);
    if (dn->x_reorder) dnnl_primitive_destroy(dn->x_reorder);
    if (dn->dx_reorder) dnnl_primitive_destroy(dn->dx_reorder);
    tensor_free(&dn->dx_blocked);
    tensor_free(&dn->x); tensor_free(&dn->x_user); tensor_free(&dn->dx_user);
    tensor_free(&dn->buf[0]); tensor_free(&dn->buf[1]); tensor_free(&dn->scratch); tensor_free(&dn->plain_grad);
    if (dn->stream) dnnl_stream_destroy(dn->stream);
    if (dn->engine) dnnl_engine_destroy(dn->engine);
    free(dn);
    net->impl = NULL;
}

static void relu_inplace(struct nsti_dnnl_net *dn, void *x, size_t n) {
    if (dn->dt == dnnl_f32) {
        float *d = x;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) d[i] = d[i] > 0 ? d[i] : 0;
    } else {
        uint16_t *d = x;
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) if (d[i] & 0x8000u) d[i] = 0;
    }
}

// ReLU's backward pass keeps one bit per activation (relu_mask.h).
static void make_mask(struct nsti_dnnl_net *dn, uint8_t *mask, const void *y, size_t n) {
    if (dn->dt == dnnl_f32) nsti_relu_mask_f32(mask, y, n);
    else nsti_relu_mask_bf16(mask, y, n);
}

static void relu_backward(struct nsti_dnnl_net *dn, void *g, const uint8_t *mask, size_t n) {
    if (dn->dt == dnnl_f32) nsti_relu_apply_mask_f32(g, mask, n);
    else nsti_relu_apply_mask_bf16(g, mask, n);
}

static void exec(struct nsti_dnnl_net *dn, dnnl_primitive_t p, int n, dnnl_exec_arg_t *args) {
    // Every primitive was created and checked at init, for these shapes: a failure
    // here would be a oneDNN bug; the loss then shows NaN and the run stops cleanly.
    if (dnnl_primitive_execute(p, dn->stream, n, args) != dnnl_success) {
        for (int k = 0; k < n; k++) {
            void *h = NULL;
            if (args[k].arg == DNNL_ARG_DST || args[k].arg == DNNL_ARG_DIFF_SRC) {
                dnnl_memory_get_data_handle(args[k].memory, &h);
                const dnnl_memory_desc_t *md;
                dnnl_memory_get_memory_desc(args[k].memory, &md);
                if (h && md->data_type == dnnl_f32) ((float *)h)[0] = __builtin_nanf("");
            }
        }
    }
}

// The forward pass; with visit, each layer a loss reads is handed to it as soon as its
// plain copies are made (a streamed network's share one buffer). A visit's non-zero
// return stops the pass and is returned.
static int onednn_forward_visit(nsti_vgg *net, const float *x, nsti_layer_visit_fn visit, void *ctx) {
    struct nsti_dnnl_net *dn = net->impl;
    dnnl_memory_set_data_handle(dn->x_user.mem, (void *)x);
    dnnl_memory_t in = dn->x_user.mem;
    if (dn->dt != dnnl_f32) {
        run_reorder(dn, dn->x_reorder, dn->x_user.mem, dn->x.mem);
        in = dn->x.mem;
        dn->act_conv = -1;   // the float32 copy is of the last picture's activations
    }
    int cur = 1;   // the buffer holding the current activation (none yet)
    for (int i = 0; i < net->n_conv; i++) {
        layer *L = &dn->l[i];
        if (net->weights->layer[i].pool_before) {
            dnnl_memory_set_data_handle(L->pooled.mem, dn->buf[1 - cur].buf);
            dnnl_exec_arg_t pa[3] = {{DNNL_ARG_SRC, dn->l[i - 1].out.mem}, {DNNL_ARG_DST, L->pooled.mem},
                                     {DNNL_ARG_WORKSPACE, L->ws.mem}};
            exec(dn, L->pool_fwd, net->avg_pool ? 2 : 3, pa);
            in = L->pooled.mem;
            cur = 1 - cur;
        }
        dnnl_memory_set_data_handle(L->out.mem, dn->buf[1 - cur].buf);
        dnnl_exec_arg_t ca[5] = {{DNNL_ARG_SRC, in}, {DNNL_ARG_WEIGHTS, L->w_fwd.mem}, {DNNL_ARG_BIAS, L->bias.mem},
                                 {DNNL_ARG_DST, L->out.mem}, {DNNL_ARG_SCRATCHPAD, dn->scratch.mem}};
        exec(dn, L->fwd, 5, ca);
        cur = 1 - cur;
        if (L->to_plain_pre) run_reorder(dn, L->to_plain_pre, L->out.mem, L->plain_pre.mem);
        dnnl_stream_wait(dn->stream);
        if (!L->fused_relu) relu_inplace(dn, dn->buf[cur].buf, elems(net, i));
        if (L->mask) make_mask(dn, L->mask, dn->buf[cur].buf, elems(net, i));
        if (L->to_plain_post) run_reorder(dn, L->to_plain_post, L->out.mem, L->plain_post.mem);
        in = L->out.mem;
        if (visit && net->loss_at[i]) {
            dnnl_stream_wait(dn->stream);
            int rc = visit(ctx, net, i);
            if (rc) return rc;
        }
    }
    dnnl_stream_wait(dn->stream);
    return 0;
}

static void onednn_forward(nsti_vgg *net, const float *x) { onednn_forward_visit(net, x, NULL, NULL); }

// float32: the plain copy itself. bf16: the plain copy widened into act_f32 (exact), on
// the first request after a forward pass, so layers that only Gram terms read are never
// widened; valid until a request for another activation.
static const float *onednn_activation(const nsti_vgg *net, nsti_layer_ref ref) {
    struct nsti_dnnl_net *dn = net->impl;   // act_f32 is a cache: the network is unchanged
    const layer *L = &dn->l[ref.conv];
    const tensor *plain = ref.relu ? &L->plain_post : &L->plain_pre;
    if (dn->dt == dnnl_f32) return plain->data;
    if (dn->act_conv != ref.conv || dn->act_relu != ref.relu) {
        const uint16_t *b = plain->data;
        size_t n = elems(net, ref.conv);
        #pragma omp parallel for schedule(static)
        for (size_t k = 0; k < n; k++) dn->act_f32[k] = nsti_bf16_to_float(b[k]);
        dn->act_conv = ref.conv;
        dn->act_relu = ref.relu;
    }
    return dn->act_f32;
}

// The plain copy of ref the Gram matmuls read (float32 or bf16), or NULL without them.
static const void *gram_source(const nsti_vgg *net, nsti_layer_ref ref) {
    const struct nsti_dnnl_net *dn = net->impl;
    const layer *L = &dn->l[ref.conv];
    return dn->gram_ok[ref.conv] ? (ref.relu ? L->plain_post.data : L->plain_pre.data) : NULL;
}

static int onednn_gram(const nsti_vgg *net, nsti_layer_ref ref, float *g, float div) {
    struct nsti_dnnl_net *dn = net->impl;
    const void *f = gram_source(net, ref);
    return f ? nsti_dnnl_gram_run(&dn->gram[ref.conv], dn->stream, g, f, div) : -1;
}

static int onednn_gram_grad(const nsti_vgg *net, nsti_layer_ref ref, float *grad, const float *d) {
    struct nsti_dnnl_net *dn = net->impl;
    const void *f = gram_source(net, ref);
    return f ? nsti_dnnl_gram_grad_run(&dn->gram[ref.conv], dn->stream, grad, f, d) : -1;
}

// Lets the losses on one activation add their gradient into the blocked g.
// pg is (C,H,W) float32 scratch: in float32 mode the free ping-pong buffer (same size).
static void add_losses(nsti_vgg *net, int i, int relu, void *g, float *pg, nsti_loss_grad_fn fn, void *ctx) {
    struct nsti_dnnl_net *dn = net->impl;
    layer *L = &dn->l[i];
    size_t n = elems(net, i);
    memset(pg, 0, n * sizeof(float));
    fn(ctx, (nsti_layer_ref){i, relu}, pg);
    dnnl_memory_set_data_handle(L->g_plain, pg);
    dnnl_memory_set_data_handle(L->g_loss, g);
    run_reorder(dn, relu ? L->from_plain_post : L->from_plain_pre, L->g_plain, L->g_loss);   // g += pg
    dnnl_stream_wait(dn->stream);
}

static void onednn_backward(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx) {
    struct nsti_dnnl_net *dn = net->impl;
    int top = net->n_conv - 1, cur = 0;
    size_t esz = dn->dt == dnnl_f32 ? 4 : 2;
    memset(dn->buf[cur].buf, 0, elems(net, top) * esz);
    for (int i = top; i >= 0; i--) {
        layer *L = &dn->l[i];
        void *g = dn->buf[cur].buf;
        float *pg = dn->dt == dnnl_f32 ? dn->buf[1 - cur].buf : dn->plain_grad.buf;
        if (net->loss_at[i] & NST_LOSS_POST) add_losses(net, i, 1, g, pg, add_loss_grad, ctx);
        relu_backward(dn, g, L->mask, elems(net, i));
        if (net->loss_at[i] & NST_LOSS_PRE) add_losses(net, i, 0, g, pg, add_loss_grad, ctx);
        // dL/d(input of conv i): into the other buffer, or the image's gradient
        dnnl_memory_set_data_handle(L->g_out, g);
        dnnl_memory_set_data_handle(L->g_in, i == 0 ? dn->dx_blocked.buf : dn->buf[1 - cur].buf);
        dnnl_exec_arg_t ba[4] = {{DNNL_ARG_DIFF_DST, L->g_out}, {DNNL_ARG_WEIGHTS, L->w_bwd.mem}, {DNNL_ARG_DIFF_SRC, L->g_in},
                                 {DNNL_ARG_SCRATCHPAD, dn->scratch.mem}};
        exec(dn, L->bwd, 4, ba);
        dnnl_stream_wait(dn->stream);
        if (i == 0) {
            dnnl_memory_set_data_handle(dn->dx_user.mem, dx);
            run_reorder(dn, dn->dx_reorder, L->g_in, dn->dx_user.mem);
            dnnl_stream_wait(dn->stream);
            break;
        }
        cur = 1 - cur;
        if (net->weights->layer[i].pool_before) {
            // buf[cur] is dL/d(pooled): spread it to relu_{i-1}'s output in the other buffer
            dnnl_memory_set_data_handle(L->g_pooled, dn->buf[cur].buf);
            dnnl_memory_set_data_handle(L->g_prev, dn->buf[1 - cur].buf);
            dnnl_exec_arg_t pa[3] = {{DNNL_ARG_DIFF_DST, L->g_pooled}, {DNNL_ARG_DIFF_SRC, L->g_prev},
                                     {DNNL_ARG_WORKSPACE, L->ws.mem}};
            exec(dn, L->pool_bwd, net->avg_pool ? 2 : 3, pa);
            dnnl_stream_wait(dn->stream);
            cur = 1 - cur;
        }
    }
}

// The scratchpad oneDNN's Winograd kernels ask for, forward (and backward, with_bwd) on a
// float32 cin->cout convolution at h x w in the float32 layout, as make_conv would make
// it; SIZE_MAX when oneDNN has no Winograd kernel for it. Asked, not modelled: its
// kernels pick their own tiling (64->64 at 512x384 asks 7 MB, 64->128 at 256x192 88 MB).
static size_t winograd_scratch(dnnl_engine_t engine, int cin, int cout, int h, int w, int with_bwd) {
    dnnl_memory_desc_t src = md_of(cin, h, w, dnnl_f32, dnnl_nChw16c), dst = md_of(cout, h, w, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_t wmd, bmd;
    dnnl_dims_t wd = {cout, cin, 3, 3}, bd = {cout}, strides = {1, 1}, pad = {1, 1};
    dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_convolution_desc_t fd, bdd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    size_t most = SIZE_MAX;
    if (dnnl_primitive_attr_create(&attr) == dnnl_success &&
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success &&
        dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_winograd, &src, &wmd, &bmd,
                                           &dst, strides, pad, pad) == dnnl_success &&
        dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL) == dnnl_success &&
        (!with_bwd ||
         (dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_winograd, &src, &wmd, &dst, strides, pad,
                                                   pad) == dnnl_success &&
          dnnl_primitive_desc_create(&bpd, &bdd, attr, engine, fpd) == dnnl_success))) {
        most = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(fpd, dnnl_query_scratchpad_md, 0));
        size_t b = bpd ? dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(bpd, dnnl_query_scratchpad_md, 0)) : 0;
        if (b > most) most = b;
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return most;
}

static size_t onednn_bytes(const nsti_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16,
                           int forward_only) {
    dnnl_engine_t engine = NULL;
    if (!bf16 && dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
    int hs[NST_MAX_CONVS] = {0}, ws[NST_MAX_CONVS] = {0};
    for (int i = 0; i < n_conv; i++) {
        if (wts->layer[i].pool_before) { h /= 2; w /= 2; }
        hs[i] = h; ws[i] = w;
    }
    size_t esz = bf16 ? 2 : 4, largest = 0, bytes = 0, plain_max = 0, scratch = 0, streamed = 0;
    for (int i = 0; i < n_conv; i++) {
        size_t px = (size_t)hs[i] * ws[i], out = (size_t)wts->layer[i].cout * px;
        size_t in = (size_t)(i == 0 ? 16 : wts->layer[i].cin) * px;   // the image is padded to 16 channels
        if (out * esz > largest) largest = out * esz;
        if (in * esz > largest) largest = in * esz;
        bytes += (forward_only ? 0 : out / 8) + (wts->layer[i].pool_before ? in / 4 : 0);   // ReLU bits, pooling workspace
        int losses = loss_at ? loss_at[i] : NST_LOSS_POST;
        size_t copies = ((losses & NST_LOSS_PRE ? 1 : 0) + (losses & NST_LOSS_POST ? 1 : 0)) * out * esz;
        if (forward_only == NSTI_VGG_STREAM) streamed = copies > streamed ? copies : streamed;   // one shared buffer
        else bytes += copies;   // plain copies
        if (losses && out > plain_max) plain_max = out;
        // weights for the forward and the backward pass: one copy for both with Winograd
        // (the same layout), two otherwise
        size_t wbytes = (size_t)wts->layer[i].cin * wts->layer[i].cout * 9 * esz;
        // Winograd as make_conv chooses it: float32, 16 channels in or more, enough
        // positions, and a scratchpad within the budget
        size_t wino_scratch = engine && wts->layer[i].cin >= 16 && (long)px >= WINO_MIN_POSITIONS
                                  ? winograd_scratch(engine, wts->layer[i].cin, wts->layer[i].cout, hs[i], ws[i],
                                                     !forward_only)
                                  : SIZE_MAX;
        int wino = wino_scratch <= WINO_SCRATCH_BUDGET;
        bytes += wbytes * (wino || forward_only ? 1 : 2);
        if (wino && wino_scratch > scratch) scratch = wino_scratch;
    }
    if (engine) dnnl_engine_destroy(engine);
    if (n_conv < 1) return 0;
    bytes += 2 * largest + scratch + streamed + (forward_only ? 0 : (size_t)16 * hs[0] * ws[0] * 4);
    if (bf16) bytes += plain_max * 4 * (forward_only ? 1 : 2);   // one activation widened, a loss's float32 gradient
    return bytes;
}

const char *nsti_dnnl_layout_name(const nsti_vgg *net) {
    const struct nsti_dnnl_net *dn = net->ops == &nsti_backend_dnnl ? net->impl : NULL;
    return dn ? (dn->layout == dnnl_nhwc ? "nhwc" : "nChw16c") : "";
}

int nsti_dnnl_reference_kernels(const nsti_vgg *net, char *first, size_t n) {
    int count = 0;
    if (n) first[0] = 0;
    const struct nsti_dnnl_net *dn = net->ops == &nsti_backend_dnnl ? net->impl : NULL;
    for (int i = 0; dn && i < net->n_conv; i++) {
        const layer *L = &dn->l[i];
        const dnnl_primitive_t ps[] = {L->fwd, L->bwd, L->pool_fwd, L->pool_bwd};
        static const char *const what[] = {"forward", "backward", "pooling", "pooling backward"};
        for (int k = 0; k < 4; k++) {
            const_dnnl_primitive_desc_t pd;
            const char *impl = NULL;
            if (!ps[k] || dnnl_primitive_get_primitive_desc(ps[k], &pd) != dnnl_success ||
                dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl ||
                strncmp(impl, "ref", 3) != 0)
                continue;
            if (!count++ && n) snprintf(first, n, "%s %s: %s", net->weights->layer[i].name, what[k], impl);
        }
    }
    return count;
}

static int have_onednn(void) { return 1; }
static int cpu_has_bf16(void) {
    return nsti_dnnl_isa_includes((unsigned)dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core_bf16);
}
int nsti_dnnl_cpu_has_amx(void) {
    return nsti_dnnl_isa_includes((unsigned)dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core_amx);
}

const nsti_backend_ops nsti_backend_dnnl = {
    .id = NST_BACKEND_DNNL, .key = "dnnl", .available = have_onednn, .has_bf16 = cpu_has_bf16,
    .bytes = onednn_bytes, .init = onednn_init, .free = onednn_free, .forward = onednn_forward,
    .forward_visit = onednn_forward_visit,
    .activation = onednn_activation, .backward = onednn_backward, .gemm = nsti_sgemm_onednn,
    .gram = onednn_gram, .gram_grad = onednn_gram_grad,
};

#else   // built without oneDNN: listed, never available

static int have_onednn(void) { return 0; }
static int init(nsti_vgg *net, int bf16, nst_error *err) {
    (void)net; (void)bf16;
    return nsti_fail(err, NST_ERR_USAGE, "this nst was built without oneDNN (libdnnl-dev)");
}
static void free_net(nsti_vgg *net) { (void)net; }
static size_t bytes(const nsti_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16,
                    int forward_only) {
    (void)wts; (void)n_conv; (void)h; (void)w; (void)loss_at; (void)bf16; (void)forward_only;
    return 0;
}
int nsti_dnnl_reference_kernels(const nsti_vgg *net, char *first, size_t n) {
    (void)net;
    if (n) first[0] = 0;
    return 0;
}
const char *nsti_dnnl_layout_name(const nsti_vgg *net) { (void)net; return ""; }
int nsti_dnnl_cpu_has_amx(void) { return 0; }

// Only init is ever called (and fails): available() says no first.
const nsti_backend_ops nsti_backend_dnnl = {
    .id = NST_BACKEND_DNNL, .key = "dnnl", .available = have_onednn, .has_bf16 = have_onednn,
    .bytes = bytes, .init = init, .free = free_net, .gemm = nsti_sgemm,
};

#endif
