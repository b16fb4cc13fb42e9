// fuzz_image: the picture loading path, as the CLI uses it. The input is written
// to a file, decoded with nst_image_load (JPEG or PNG, by content) under a
// 4,000,000-pixel limit, then resized with nst_image_fit to 64 pixels. A decoded
// picture must respect the limit and hold finite values in 0..255.
#include "fuzz_common.h"
#include <math.h>

#define MAX_PIXELS 4000000LL

static void check_pixels(const nst_image *im, const char *what) {
    size_t n = (size_t)im->w * (size_t)im->h * 3;
    for (size_t i = 0; i < n; i++)
        if (!(im->data[i] >= -1e-3f && im->data[i] <= 255.001f)) fuzz_die("pixel outside 0..255", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(data, size);
    nst_error err = {0, ""};
    nst_image img = {0, 0, NULL};
    int rc = nst_image_load(&img, path, MAX_PIXELS, &err);
    fuzz_check_error(rc, &err, path);
    if (rc != NST_OK) {
        if (img.data) fuzz_die("failed load left pixels", NULL);
        return 0;
    }
    if (img.w < 1 || img.h < 1 || (long long)img.w * img.h > MAX_PIXELS || !img.data)
        fuzz_die("loaded picture breaks the pixel limit", NULL);
    check_pixels(&img, "decoded");
    nst_image small = {0, 0, NULL};
    rc = nst_image_fit(&small, &img, 64, &err);
    fuzz_check_error(rc, &err, NULL);
    if (rc == NST_OK) {
        if (small.w < 1 || small.h < 1 || small.w > 64 || small.h > 64 || (small.w != 64 && small.h != 64))
            fuzz_die("nst_image_fit gave the wrong size", NULL);
        check_pixels(&small, "resized");
    }
    nst_image_free(&small);
    nst_image_free(&img);
    return 0;
}
