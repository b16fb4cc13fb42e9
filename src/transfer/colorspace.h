// colorspace.h: between pictures (planar RGB, 0..255) and a model's input space.
#ifndef NST_COLORSPACE_H
#define NST_COLORSPACE_H
#include <stddef.h>
#include "model/weights.h"

// x is (3,npix) in model input space, rgb is (3,npix) 0..255.
void nsti_rgb_to_model(float *x, const float *rgb, size_t npix, const nsti_input_norm *norm);
void nsti_model_to_rgb(float *rgb, const float *x, size_t npix, const nsti_input_norm *norm);

#endif
