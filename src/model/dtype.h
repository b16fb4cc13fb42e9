// dtype.h: the tensor element types the model readers accept, and the
// conversions between IEEE half / bfloat16 and float32.
#ifndef NST_DTYPE_H
#define NST_DTYPE_H
#include <stddef.h>
#include <stdint.h>

enum { NST_DT_F32 = 0, NST_DT_F16 = 1, NST_DT_BF16 = 2 };

// "F32", "F16", "BF16"; -1 / NULL for anything else.
int nsti_dtype_from_name(const char *name);
const char *nsti_dtype_name(int dtype);
int nsti_dtype_size(int dtype);

// Exact widening; infinities and NaNs stay infinities and NaNs, subnormals are kept.
float nsti_half_to_float(uint16_t h);
float nsti_bf16_to_float(uint16_t b);
// Narrowing with round-to-nearest-even; overflow gives +-inf, NaN stays NaN.
uint16_t nsti_float_to_half(float f);
uint16_t nsti_float_to_bf16(float f);

// Converts n little-endian elements of `dtype` at src to float32.
void nsti_dtype_to_f32(int dtype, const uint8_t *src, float *dst, size_t n);

#endif
