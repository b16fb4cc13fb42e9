// image_codec.h: internal glue between the format-independent entry points
// (image_load.c, image_save.c) and the JPEG and PNG codecs.
#ifndef NST_IMAGE_CODEC_H
#define NST_IMAGE_CODEC_H
#include <math.h>
#include <stdio.h>
#include "image/image.h"

// Fails with NST_ERR_FORMAT on a zero dimension and NST_ERR_LIMIT when w*h exceeds
// max_pixels (max_pixels <= 0: no limit) or would not fit in memory sizes.
int nsti_image_check_size(const char *path, long long w, long long h,
                         long long max_pixels, nst_error *err);

// Decoders: f is positioned at the start of the file, whose magic bytes were checked.
// On failure *img is left empty and err names path.
int nsti_jpeg_read(FILE *f, const char *path, long long max_pixels, nst_image *img,
                  nst_error *err);
int nsti_png_read(FILE *f, const char *path, long long max_pixels, nst_image *img,
                 nst_error *err);

// Encoders: write the whole image to f (the caller flushes, syncs and closes it).
int nsti_jpeg_write(FILE *f, const char *path, const nst_image *img, int quality,
                   nst_error *err);
int nsti_png_write(FILE *f, const char *path, const nst_image *img, nst_error *err);

// One float sample as a byte: rounded, clamped to 0..255, NaN -> 0.
static inline unsigned char nsti_image_to_byte(float v) {
    if (!(v > 0.0f)) return 0;          // also catches NaN
    if (v >= 255.0f) return 255;
    return (unsigned char)roundf(v);   // roundf: exact, unlike v + 0.5f
}

// Interleaves row y of img's planar channels into rgb (3*w bytes).
static inline void nsti_image_row_to_rgb(const nst_image *img, int y, unsigned char *rgb) {
    size_t plane = (size_t)img->w * img->h;
    const float *r = img->data + (size_t)y * img->w;
    for (int x = 0; x < img->w; x++) {
        rgb[3 * x + 0] = nsti_image_to_byte(r[x]);
        rgb[3 * x + 1] = nsti_image_to_byte(r[x + plane]);
        rgb[3 * x + 2] = nsti_image_to_byte(r[x + 2 * plane]);
    }
}

#endif
