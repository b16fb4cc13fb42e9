// image_save.c: picks the encoder by extension and writes the file atomically.
//
// The picture goes to a temporary file beside the target, is synced to disk and then
// renamed over it, so a crash or a failed write never leaves a half-written output
// and never damages an existing file of the same name.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image/image_codec.h"
#include "util/atomic_file.h"

#define JPEG_QUALITY 95

enum { FMT_PNG, FMT_JPEG };

// Returns FMT_* for path's extension (case-insensitive) or fails with NST_ERR_USAGE.
static int format_of(const char *path, int *fmt, nst_error *err) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (dot && strcasecmp(dot, ".png") == 0) { *fmt = FMT_PNG; return NST_OK; }
    if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)) {
        *fmt = FMT_JPEG;
        return NST_OK;
    }
    if (!dot)
        return nsti_fail(err, NST_ERR_USAGE,
                        "%s: no file extension; use .png, .jpg or .jpeg", path);
    return nsti_fail(err, NST_ERR_USAGE,
                    "%s: unsupported extension \"%s\"; use .png, .jpg or .jpeg", path, dot);
}

int nst_image_save(const nst_image *img, const char *path, nst_error *err) {
    int fmt = FMT_PNG;
    int rc = format_of(path, &fmt, err);
    if (rc) return rc;
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "%s: nothing to save (empty image)", path);

    nst_atomic_file af;
    if ((rc = nst_atomic_open(&af, path, err))) return rc;
    rc = fmt == FMT_PNG ? nsti_png_write(af.f, path, img, err)
                        : nsti_jpeg_write(af.f, path, img, JPEG_QUALITY, err);
    int crc = nst_atomic_close(&af, rc == NST_OK, err);
    return rc ? rc : crc;
}
