// image.c: allocation of nst_image and the shared size checks.
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include "image/image_codec.h"

// True when n pixels of 3 float planes would not have a representable byte size.
static int too_many_pixels(long long n) {
    return (unsigned long long)n > SIZE_MAX / (3 * sizeof(float));
}

int nsti_image_check_size(const char *path, long long w, long long h,
                         long long max_pixels, nst_error *err) {
    if (w <= 0 || h <= 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: image has zero width or height (%lldx%lld)",
                        path, w, h);
    // Both fit in int here (the codecs cap them at 2^31-1), so w*h cannot overflow.
    if (w > INT_MAX || h > INT_MAX)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: %lldx%lld pixels is too large", path, w, h);
    long long n = w * h;
    if (max_pixels > 0 && n > max_pixels)
        return nsti_fail(err, NST_ERR_LIMIT,
                        "%s: %lldx%lld pixels exceeds the limit of %lld (--max-pixels)",
                        path, w, h, max_pixels);
    if (too_many_pixels(n))
        return nsti_fail(err, NST_ERR_LIMIT, "%s: %lldx%lld pixels is too large", path, w, h);
    return NST_OK;
}

int nst_image_alloc(nst_image *img, int w, int h, nst_error *err) {
    img->w = img->h = 0;
    img->data = NULL;
    if (w <= 0 || h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "invalid image size %dx%d", w, h);
    if (too_many_pixels((long long)w * h))
        return nsti_fail(err, NST_ERR_LIMIT, "image size %dx%d is too large", w, h);
    // calloc so that a fresh image is black rather than undefined
    float *data = calloc((size_t)w * h * 3, sizeof(float));
    if (!data)
        return nsti_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    img->data = data;
    return NST_OK;
}

void nst_image_free(nst_image *img) {
    if (!img) return;
    free(img->data);
    img->data = NULL;
    img->w = img->h = 0;
}
