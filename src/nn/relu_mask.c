// relu_mask.c: see relu_mask.h. The plain loops are written one per type, eight
// elements per mask byte; GCC's -O2 does not vectorize them, and on channels-last
// activations (where few bytes are all ones) they took 11% of a bf16 iteration, so
// AVX-512's compare-to-mask and masked moves do the same work, 16 or 32 at a time.
#include "nn/relu_mask.h"
#include <string.h>

// A float's bits, read where floats are (no strict-aliasing assumption).
typedef uint32_t bits32 __attribute__((may_alias));

void nsti_relu_mask_f32_ref(uint8_t *mask, const float *y, size_t n) {
    size_t full = n / 8;
    #pragma omp parallel for schedule(static)
    for (size_t b = 0; b < full; b++) {
        unsigned m = 0;
        for (int k = 0; k < 8; k++) m |= (unsigned)(y[b * 8 + k] > 0) << k;
        mask[b] = (uint8_t)m;
    }
    if (full * 8 < n) {
        unsigned m = 0;
        for (size_t i = full * 8; i < n; i++) m |= (unsigned)(y[i] > 0) << (i - full * 8);
        mask[full] = (uint8_t)m;
    }
}

// bf16 > 0 is its bits > 0 as a signed integer: sign clear and not zero.
void nsti_relu_mask_bf16_ref(uint8_t *mask, const uint16_t *y, size_t n) {
    size_t full = n / 8;
    #pragma omp parallel for schedule(static)
    for (size_t b = 0; b < full; b++) {
        unsigned m = 0;
        for (int k = 0; k < 8; k++) m |= (unsigned)((int16_t)y[b * 8 + k] > 0) << k;
        mask[b] = (uint8_t)m;
    }
    if (full * 8 < n) {
        unsigned m = 0;
        for (size_t i = full * 8; i < n; i++) m |= (unsigned)((int16_t)y[i] > 0) << (i - full * 8);
        mask[full] = (uint8_t)m;
    }
}

// ANDed with all ones or all zeros: a cleared float is +0.0f, a kept one is unchanged.
void nsti_relu_apply_mask_f32_ref(float *g, const uint8_t *mask, size_t n) {
    // cppcheck-suppress invalidPointerCast ; bits32 is may_alias: the float's bits, as IEEE-754 on every target
    bits32 *f = (bits32 *)g;
    size_t full = n / 8;
    #pragma omp parallel for schedule(static)
    for (size_t b = 0; b < full; b++) {
        unsigned m = mask[b];
        for (int k = 0; k < 8; k++) f[b * 8 + k] &= 0u - ((m >> k) & 1u);
    }
    for (size_t i = full * 8; i < n; i++) f[i] &= 0u - ((mask[full] >> (i - full * 8)) & 1u);
}

void nsti_relu_apply_mask_bf16_ref(uint16_t *g, const uint8_t *mask, size_t n) {
    size_t full = n / 8;
    #pragma omp parallel for schedule(static)
    for (size_t b = 0; b < full; b++) {
        unsigned m = mask[b];
        for (int k = 0; k < 8; k++) g[b * 8 + k] &= (uint16_t)(0u - ((m >> k) & 1u));
    }
    for (size_t i = full * 8; i < n; i++) g[i] &= (uint16_t)(0u - ((mask[full] >> (i - full * 8)) & 1u));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SIMD __attribute__((target("avx512f,avx512bw")))

int nsti_relu_mask_simd(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

// Blocks of 16 floats (2 mask bytes) or 32 bf16 (4 bytes); the rest, if any (most
// layers have none), from a byte boundary by the plain loop. The intrinsics sit in
// functions of their own, [b0,b1) blocks each: an OpenMP region is outlined into a
// function that does not inherit the target attribute (clang refuses AVX-512 there).
SIMD static void mask_f32_blocks(uint8_t *mask, const float *y, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
        uint16_t k = _mm512_cmp_ps_mask(_mm512_loadu_ps(y + b * 16), _mm512_setzero_ps(), _CMP_GT_OQ);
        memcpy(mask + b * 2, &k, 2);   // x86 is little-endian: elements 0..7 in the first byte
    }
}

SIMD static void mask_bf16_blocks(uint8_t *mask, const uint16_t *y, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
        uint32_t k = _mm512_cmpgt_epi16_mask(_mm512_loadu_si512(y + b * 32), _mm512_setzero_si512());
        memcpy(mask + b * 4, &k, 4);
    }
}

SIMD static void apply_f32_blocks(float *g, const uint8_t *mask, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
        uint16_t k;
        memcpy(&k, mask + b * 2, 2);
        if (k != 0xffffu) _mm512_storeu_ps(g + b * 16, _mm512_maskz_mov_ps(k, _mm512_loadu_ps(g + b * 16)));
    }
}

SIMD static void apply_bf16_blocks(uint16_t *g, const uint8_t *mask, size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
        uint32_t k;
        memcpy(&k, mask + b * 4, 4);
        if (k != 0xffffffffu)
            _mm512_storeu_si512(g + b * 32, _mm512_maskz_mov_epi16(k, _mm512_loadu_si512(g + b * 32)));
    }
}

// Threads take chunks of CHUNK blocks (64 KiB of floats) by index.
#define CHUNK 1024
#define FOR_CHUNKS(blocks, call)                                             \
    do {                                                                     \
        size_t chunks_ = ((blocks) + CHUNK - 1) / CHUNK;                     \
        _Pragma("omp parallel for schedule(static)")                         \
        for (size_t c_ = 0; c_ < chunks_; c_++) {                            \
            size_t b0 = c_ * CHUNK, b1 = b0 + CHUNK < (blocks) ? b0 + CHUNK : (blocks); \
            call;                                                            \
        }                                                                    \
    } while (0)

static void mask_f32_avx512(uint8_t *mask, const float *y, size_t n) {
    size_t blocks = n / 16;
    FOR_CHUNKS(blocks, mask_f32_blocks(mask, y, b0, b1));
    if (n > blocks * 16) nsti_relu_mask_f32_ref(mask + blocks * 2, y + blocks * 16, n - blocks * 16);
}

static void mask_bf16_avx512(uint8_t *mask, const uint16_t *y, size_t n) {
    size_t blocks = n / 32;
    FOR_CHUNKS(blocks, mask_bf16_blocks(mask, y, b0, b1));
    if (n > blocks * 32) nsti_relu_mask_bf16_ref(mask + blocks * 4, y + blocks * 32, n - blocks * 32);
}

static void apply_f32_avx512(float *g, const uint8_t *mask, size_t n) {
    size_t blocks = n / 16;
    FOR_CHUNKS(blocks, apply_f32_blocks(g, mask, b0, b1));
    if (n > blocks * 16) nsti_relu_apply_mask_f32_ref(g + blocks * 16, mask + blocks * 2, n - blocks * 16);
}

static void apply_bf16_avx512(uint16_t *g, const uint8_t *mask, size_t n) {
    size_t blocks = n / 32;
    FOR_CHUNKS(blocks, apply_bf16_blocks(g, mask, b0, b1));
    if (n > blocks * 32) nsti_relu_apply_mask_bf16_ref(g + blocks * 32, mask + blocks * 4, n - blocks * 32);
}

void nsti_relu_mask_f32(uint8_t *mask, const float *y, size_t n) {
    if (nsti_relu_mask_simd()) mask_f32_avx512(mask, y, n); else nsti_relu_mask_f32_ref(mask, y, n);
}
void nsti_relu_mask_bf16(uint8_t *mask, const uint16_t *y, size_t n) {
    if (nsti_relu_mask_simd()) mask_bf16_avx512(mask, y, n); else nsti_relu_mask_bf16_ref(mask, y, n);
}
void nsti_relu_apply_mask_f32(float *g, const uint8_t *mask, size_t n) {
    if (nsti_relu_mask_simd()) apply_f32_avx512(g, mask, n); else nsti_relu_apply_mask_f32_ref(g, mask, n);
}
void nsti_relu_apply_mask_bf16(uint16_t *g, const uint8_t *mask, size_t n) {
    if (nsti_relu_mask_simd()) apply_bf16_avx512(g, mask, n); else nsti_relu_apply_mask_bf16_ref(g, mask, n);
}

#else   // no AVX-512 path on this compiler or architecture

int nsti_relu_mask_simd(void) { return 0; }
void nsti_relu_mask_f32(uint8_t *mask, const float *y, size_t n) { nsti_relu_mask_f32_ref(mask, y, n); }
void nsti_relu_mask_bf16(uint8_t *mask, const uint16_t *y, size_t n) { nsti_relu_mask_bf16_ref(mask, y, n); }
void nsti_relu_apply_mask_f32(float *g, const uint8_t *mask, size_t n) { nsti_relu_apply_mask_f32_ref(g, mask, n); }
void nsti_relu_apply_mask_bf16(uint16_t *g, const uint8_t *mask, size_t n) { nsti_relu_apply_mask_bf16_ref(g, mask, n); }

#endif
