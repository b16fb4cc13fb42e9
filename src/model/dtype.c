#include "model/dtype.h"
#include <string.h>

int nsti_dtype_from_name(const char *name) {
    if (!name) return -1;
    if (strcmp(name, "F32") == 0) return NST_DT_F32;
    if (strcmp(name, "F16") == 0) return NST_DT_F16;
    if (strcmp(name, "BF16") == 0) return NST_DT_BF16;
    return -1;
}

const char *nsti_dtype_name(int dtype) {
    switch (dtype) {
    case NST_DT_F32: return "F32";
    case NST_DT_F16: return "F16";
    case NST_DT_BF16: return "BF16";
    default: return NULL;
    }
}

int nsti_dtype_size(int dtype) {
    return dtype == NST_DT_F32 ? 4 : (dtype == NST_DT_F16 || dtype == NST_DT_BF16) ? 2 : 0;
}

static float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float nsti_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f)            // inf or NaN: all-ones exponent, payload kept
        return bits_to_float(sign | 0x7f800000u | (man << 13));
    if (exp != 0)               // normal: rebias 15 -> 127
        return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
    // zero or subnormal: man * 2^-24, exact in float32 (a normal number there)
    float mag = (float)man * 0x1p-24f;
    return sign ? -mag : mag;
}

float nsti_bf16_to_float(uint16_t b) {
    return bits_to_float((uint32_t)b << 16);
}

// Rounds m >> shift to nearest, ties to even.
static uint32_t shift_rne(uint32_t m, int shift) {
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

uint16_t nsti_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u)       // NaN: keep it quiet, keep the top payload bits
        return sign | 0x7e00u | (uint16_t)((ax >> 13) & 0x3ffu);
    if (ax >= 0x477ff000u)      // >= 65520, the tie above 65504, rounds to inf
        return sign | 0x7c00u;
    uint32_t e = ax >> 23, m = ax & 0x7fffffu;
    if (e >= 113) {             // >= 2^-14: a normal half; a carry may bump the exponent
        uint32_t h = ((e - 112) << 10) | (m >> 13);
        uint32_t rem = m & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
        return sign | (uint16_t)h;
    }
    if (e == 0) return sign;    // float subnormals are far below half's range
    // half subnormal: the value in units of 2^-24 is (m | 2^23) >> (126 - e)
    int shift = 126 - (int)e;
    if (shift > 24) return sign;
    return sign | (uint16_t)shift_rne(m | 0x800000u, shift);
}

uint16_t nsti_float_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);   // NaN stays a (quiet) NaN
    // round to nearest, ties to even, on the 16 bits dropped (overflow carries into inf)
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

void nsti_dtype_to_f32(int dtype, const uint8_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (dtype == NST_DT_F32) {
            const uint8_t *p = src + 4 * i;
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24;
            dst[i] = bits_to_float(u);
        } else {
            const uint8_t *p = src + 2 * i;
            uint16_t u = (uint16_t)(p[0] | p[1] << 8);
            dst[i] = dtype == NST_DT_F16 ? nsti_half_to_float(u) : nsti_bf16_to_float(u);
        }
    }
}
