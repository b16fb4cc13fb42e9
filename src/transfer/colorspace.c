#include "transfer/colorspace.h"

void nsti_rgb_to_model(float *x, const float *rgb, size_t npix, const nsti_input_norm *norm) {
    for (int c = 0; c < 3; c++) {
        const float *src = rgb + (size_t)(norm->bgr ? 2 - c : c) * npix;
        float *dst = x + (size_t)c * npix;
        float scale = norm->scale, mean = norm->mean[c], std = norm->std[c];
        for (size_t i = 0; i < npix; i++) dst[i] = (src[i] * scale - mean) / std;
    }
}

void nsti_model_to_rgb(float *rgb, const float *x, size_t npix, const nsti_input_norm *norm) {
    for (int c = 0; c < 3; c++) {
        const float *src = x + (size_t)c * npix;
        float *dst = rgb + (size_t)(norm->bgr ? 2 - c : c) * npix;
        float scale = norm->scale, mean = norm->mean[c], std = norm->std[c];
        for (size_t i = 0; i < npix; i++) dst[i] = (src[i] * std + mean) / scale;
    }
}
