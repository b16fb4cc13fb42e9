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
        return nst_fail(err, NST_ERR_USAGE,
                        "%s: no file extension; use .png, .jpg or .jpeg", path);
    return nst_fail(err, NST_ERR_USAGE,
                    "%s: unsupported extension \"%s\"; use .png, .jpg or .jpeg", path, dot);
}

// The mode a plainly created file would get: that of the file being replaced, or
// 0666 less the umask (mkstemp alone would give 0600).
static mode_t output_mode(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    mode_t mask = umask(022);   // umask can only be read by setting it
    umask(mask);
    return 0666 & ~mask;
}

int nst_image_save(const nst_image *img, const char *path, nst_error *err) {
    int fmt = FMT_PNG;
    int rc = format_of(path, &fmt, err);
    if (rc) return rc;
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return nst_fail(err, NST_ERR_USAGE, "%s: nothing to save (empty image)", path);

    static const char suffix[] = ".tmp.XXXXXX";
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof suffix);
    if (!tmp) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof suffix);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot create file: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        goto fail;
    }
    fchmod(fd, output_mode(path));   // best effort: a failure only leaves 0600

    rc = fmt == FMT_PNG ? nst_png_write(f, path, img, err)
                        : nst_jpeg_write(f, path, img, JPEG_QUALITY, err);
    if (rc == NST_OK && (fflush(f) != 0 || fsync(fd) != 0))
        rc = nst_fail(err, NST_ERR_IO, "%s: write error: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == NST_OK)
        rc = nst_fail(err, NST_ERR_IO, "%s: write error: %s", path, strerror(errno));
    if (rc) goto fail;
    if (rename(tmp, path) != 0) {
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot rename temporary file into place: %s",
                      path, strerror(errno));
        goto fail;
    }
    free(tmp);
    return NST_OK;

fail:
    unlink(tmp);
    free(tmp);
    return rc;
}
