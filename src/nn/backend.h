// backend.h: the kernels that run a network, behind one table of functions. One file
// per backend (backend_reference.c, backend_blas.c, backend_dnnl.c), one enum (the
// public nst_backend_choice), one list (backend.c). A new backend is a new file that
// defines an nsti_backend_ops and one line in backend.c's list.
//
// The network (vgg.h) owns the sizes, the layer table and the buffers every backend
// shares; a backend keeps its own state behind nsti_vgg.impl. Losses never touch a
// backend's memory directly: they read activations with `activation` and multiply
// matrices with `gemm`, both from this table.
//
// How a device backend (CUDA) fits: `init` uploads the weights and allocates the
// activations on the device (cuDNN convolutions, ReLU masks as there); `forward` copies
// the picture up and runs the layers; `activation` copies one activation down into a
// host buffer it owns, only for the layers losses read (today's losses run on the
// host); `backward` takes the host gradients that add_loss_grad writes, copies each up
// once, and copies dL/dx down. Moving a loss term itself to the device is then a new
// entry point here (a Gram matrix or a term's value and gradient on a device
// activation), used by the term when the backend has it, the host path otherwise.
#ifndef NST_BACKEND_H
#define NST_BACKEND_H
#include "nn/vgg.h"
#include "nn/gemm.h"

typedef struct nsti_backend_ops {
    nst_backend_choice id;   // NST_BACKEND_REF, _BLAS, _DNNL
    const char *key;         // "reference", "blas", "dnnl": --backend and OUTPUT.json
    int (*available)(void);  // built in and usable on this machine
    int (*has_bf16)(void);   // can run bfloat16 convolutions on this CPU
    // Bytes init would allocate for the first n_conv layers of wts at h x w (about, for
    // oneDNN); forward_only as nsti_vgg_init takes it.
    size_t (*bytes)(const nsti_vgg_weights *wts, int n_conv, int h, int w, const int *loss_at, int bf16,
                    int forward_only);
    // net's sizes, table and loss_at are set; allocates the backend's buffers.
    int (*init)(nsti_vgg *net, int bf16, nst_error *err);
    void (*free)(nsti_vgg *net);
    void (*forward)(nsti_vgg *net, const float *x);
    // Optional: the forward pass with a visitor (vgg.h's nsti_vgg_forward_visit), for a
    // backend that can stream activations; NULL: forward, then the visits.
    int (*forward_visit)(nsti_vgg *net, const float *x, nsti_layer_visit_fn visit, void *ctx);
    // (C,H,W) float32; valid until the next call for another activation
    const float *(*activation)(const nsti_vgg *net, nsti_layer_ref ref);
    void (*backward)(nsti_vgg *net, float *dx, nsti_loss_grad_fn add_loss_grad, void *ctx);
    nsti_sgemm_fn gemm;       // the losses' matrix products (see gemm.h)
    // Optional (NULL, or -1 for a network it has none for: the Gram term then multiplies
    // `activation` with `gemm`): a Gram matrix and the style gradient on the backend's
    // own copy of activation ref, F (C,N). g (C,C) = F F^T / div; grad (C,N) += D F, with
        // D (C,C). The oneDNN backend has them (float32, or bf16 in bf16 networks; dnnl_gram.h)
    // for the layers whose loss_at has NST_LOSS_GRAM.
    int (*gram)(const nsti_vgg *net, nsti_layer_ref ref, float *g, float div);
    int (*gram_grad)(const nsti_vgg *net, nsti_layer_ref ref, float *grad, const float *d);
} nsti_backend_ops;

extern const nsti_backend_ops nsti_backend_reference, nsti_backend_blas, nsti_backend_dnnl;

// The backend for id (AUTO: the fastest available); NULL when id names none.
const nsti_backend_ops *nsti_backend_get(nst_backend_choice id);

#endif
