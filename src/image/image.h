// image.h: decoding, encoding and resizing pictures.
#ifndef NST_IMAGE_H
#define NST_IMAGE_H
#include "util/status.h"

// nst_image (planar float RGB, (3, h, w), values 0..255) is declared in nst.h.

// Decodes JPEG (baseline, progressive, grayscale, CMYK) or PNG (gray, palette, 16-bit,
// alpha composited over white) by content, not by extension. Width*height is checked
// against max_pixels from the header, before the pixels are allocated.
int nst_image_load(nst_image *img, const char *path, long long max_pixels, nst_error *err);
// Encodes by the extension of path (.png, .jpg/.jpeg), values clamped to 0..255 and
// rounded; writes a temporary file in the same directory and renames it into place.
int nst_image_save(const nst_image *img, const char *path, nst_error *err);
// Resamples to w x h. Downscaling is antialiased (the filter widens with the scale).
int nst_image_resize(nst_image *dst, const nst_image *src, int w, int h, nst_error *err);
int nst_image_alloc(nst_image *img, int w, int h, nst_error *err);
void nst_image_free(nst_image *img);

#endif
