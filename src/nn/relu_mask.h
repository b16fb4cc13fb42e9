// relu_mask.h: ReLU's backward pass from a bit mask, one bit per activation, set
// where the forward output is > 0 (bit k of byte b is element 8b+k). The oneDNN
// backend keeps these masks instead of every ReLU output: 1/32 of float32's memory.
// Each has a plain loop (_ref, the oracle) and an AVX-512 version picked at run time
// by the plain name. Threads split whole mask bytes, so no two write the same one.
#ifndef NST_RELU_MASK_H
#define NST_RELU_MASK_H
#include <stddef.h>
#include <stdint.h>

// mask is ((n+7)/8) bytes; y is (n) float32, or (n) bf16 values as their bits.
void nsti_relu_mask_f32(uint8_t *mask, const float *y, size_t n);
void nsti_relu_mask_bf16(uint8_t *mask, const uint16_t *y, size_t n);
// g is (n): zeroed where the mask bit is clear, in place.
void nsti_relu_apply_mask_f32(float *g, const uint8_t *mask, size_t n);
void nsti_relu_apply_mask_bf16(uint16_t *g, const uint8_t *mask, size_t n);

void nsti_relu_mask_f32_ref(uint8_t *mask, const float *y, size_t n);
void nsti_relu_mask_bf16_ref(uint8_t *mask, const uint16_t *y, size_t n);
void nsti_relu_apply_mask_f32_ref(float *g, const uint8_t *mask, size_t n);
void nsti_relu_apply_mask_bf16_ref(uint16_t *g, const uint8_t *mask, size_t n);
// 1 when the AVX-512 versions run on this CPU.
int nsti_relu_mask_simd(void);

#endif
