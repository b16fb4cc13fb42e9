// image_load.c: opens a picture and hands it to the decoder its magic bytes name.
#include <errno.h>
#include <string.h>
#include "image/image_codec.h"

int nst_image_load(nst_image *img, const char *path, long long max_pixels, nst_error *err) {
    img->w = img->h = 0;
    img->data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    // The content decides the format: a PNG saved as .jpg is still a PNG.
    unsigned char magic[8];
    size_t n = fread(magic, 1, sizeof magic, f);
    int rc;
    if (ferror(f)) {   // e.g. a directory: fopen succeeds, reading fails
        rc = nsti_fail(err, NST_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    } else if (n == 0) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: empty file", path);
    } else if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
        rewind(f);
        rc = nsti_jpeg_read(f, path, max_pixels, img, err);
    } else if (n == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
        rewind(f);
        rc = nsti_png_read(f, path, max_pixels, img, err);
    } else {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: not a JPEG or PNG file", path);
    }
    fclose(f);
    return rc;
}
