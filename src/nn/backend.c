// backend.c: the list of backends. AUTO takes the first available one: the fastest.
#include "nn/backend.h"
#include <stddef.h>

static const nsti_backend_ops *const backends[] = {
    &nsti_backend_dnnl,        // oneDNN: JIT kernels for this CPU, Winograd, bf16
    &nsti_backend_blas,        // im2col + OpenBLAS (or plain loops)
    &nsti_backend_reference,   // plain loops: the oracle
};

const nsti_backend_ops *nsti_backend_get(nst_backend_choice id) {
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
        if ((id == NST_BACKEND_AUTO && backends[i]->available()) || backends[i]->id == id) return backends[i];
    return NULL;
}
