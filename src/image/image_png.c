// image_png.c: PNG decoding and encoding with libpng.
//
// libpng's error callback must not return; ours copies the message and longjmps
// to a jmp_buf of our own. As in image_jpeg.c, setjmp sits in a small function
// whose state lives in a struct owned by its caller.
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "image/image_codec.h"

#define LIBPNG_FAILED (-1)   // decode/encode result: the message is in ctx.msg

struct png_ctx {             // shared with libpng's callbacks
    png_structp png;
    png_infop info;
    FILE *f;
    jmp_buf jump;
    int truncated;           // the file ended early
    int io_errno;            // nonzero: reading or writing the file failed
    char msg[256];
    unsigned char *buf;      // decoded rows (one, or all for interlaced files)
    png_bytep *rows;
    nst_image img;
};

static void on_error(png_structp png, png_const_charp msg) {
    struct png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    longjmp(c->jump, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

// Our own reader, so that a short read can be told apart from a corrupt file.
static void read_data(png_structp png, png_bytep data, size_t n) {
    struct png_ctx *c = png_get_io_ptr(png);
    if (fread(data, 1, n, c->f) != n) {
        if (ferror(c->f)) c->io_errno = errno ? errno : EIO;
        else c->truncated = 1;
        png_error(png, "short read");
    }
}

static void write_data(png_structp png, png_bytep data, size_t n) {
    struct png_ctx *c = png_get_io_ptr(png);
    if (fwrite(data, 1, n, c->f) != n) {
        c->io_errno = errno ? errno : EIO;
        png_error(png, "short write");
    }
}

static void flush_data(png_structp png) { (void)png; }   // the caller flushes and syncs

static png_uint_32 be32(const unsigned char *p) {
    return (png_uint_32)p[0] << 24 | (png_uint_32)p[1] << 16 | (png_uint_32)p[2] << 8 | p[3];
}

// Reads the size from the IHDR chunk that must follow the signature, so that an
// oversized picture fails before libpng reads (or waits for) anything else.
static int check_header(FILE *f, const char *path, long long max_pixels, nst_error *err) {
    unsigned char h[24];   // signature, chunk length, "IHDR", width, height
    size_t n = fread(h, 1, sizeof h, f);
    if (ferror(f)) return nsti_fail(err, NST_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (n < sizeof h) return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated PNG data", path);
    if (memcmp(h + 12, "IHDR", 4) != 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: invalid PNG data: no IHDR chunk", path);
    int rc = nsti_image_check_size(path, be32(h + 16), be32(h + 20), max_pixels, err);
    rewind(f);
    return rc;
}

// Stores one decoded row (nc = 3 RGB or 4 RGBA samples of 1 or 2 big-endian bytes).
// Alpha is composited over white, as a viewer would show the picture on paper.
static void store_row(nst_image *img, int y, const unsigned char *row, int nc, int bytes) {
    size_t plane = (size_t)img->w * img->h;
    float *out = img->data + (size_t)y * img->w;
    float maxv = bytes == 2 ? 65535.0f : 255.0f;
    for (int x = 0; x < img->w; x++) {
        float v[4] = {0, 0, 0, 0};
        for (int c = 0; c < nc; c++) {
            const unsigned char *p = row + ((size_t)x * nc + c) * bytes;
            v[c] = bytes == 2 ? (float)(p[0] << 8 | p[1]) : p[0];
        }
        float a = nc == 4 ? v[3] / maxv : 1.0f;
        for (int c = 0; c < 3; c++) {
            float s = v[c] * (255.0f / maxv);
            out[x + c * plane] = nc == 4 ? s * a + 255.0f * (1.0f - a) : s;
        }
    }
}

// libpng's own allocations: chunk buffers and row buffers, never the picture (ours).
// A 1 KB file claiming a 2 GB tEXt chunk made libpng allocate 2 GB (found by fuzz_image;
// png_set_chunk_malloc_max did not stop it in Debian's 1.6.39), so anything beyond
// 64 MiB is refused here: libpng then fails with "out of memory".
#define PNG_ALLOC_MAX ((png_alloc_size_t)64 << 20)
static png_voidp bounded_malloc(png_structp png, png_alloc_size_t size) {
    (void)png;
    return size <= PNG_ALLOC_MAX ? malloc(size) : NULL;
}
static void bounded_free(png_structp png, png_voidp ptr) {
    (void)png;
    free(ptr);
}

static int decode(struct png_ctx *c, const char *path, long long max_pixels, nst_error *err) {
    if (setjmp(c->jump)) return LIBPNG_FAILED;
    c->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, c, on_error, on_warning, NULL,
                                      bounded_malloc, bounded_free);
    if (!c->png) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    c->info = png_create_info_struct(c->png);
    if (!c->info) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    png_set_read_fn(c->png, c, read_data);
    // libpng's default 1,000,000-pixel cap per side would reject valid long strips;
    // max_pixels is the limit that matters.
    png_set_user_limits(c->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_malloc_max(c->png, (png_alloc_size_t)8 << 20);   // ancillary chunks
    png_read_info(c->png, c->info);

    png_uint_32 w, h;
    int depth, type, interlace;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &type, &interlace, NULL, NULL);
    int rc = nsti_image_check_size(path, w, h, max_pixels, err);
    if (rc) return rc;
    // Everything becomes RGB or RGBA of 8 or 16 bits; 16 bits are kept for precision.
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    if (png_get_valid(c->png, c->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(c->png);
    if (!(type & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(c->png);
    int passes = png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    int nc = png_get_channels(c->png, c->info);
    int bytes = png_get_bit_depth(c->png, c->info) / 8;
    size_t rowbytes = png_get_rowbytes(c->png, c->info);

    rc = nst_image_alloc(&c->img, (int)w, (int)h, err);
    if (rc) return nsti_fail(err, rc, "%s: out of memory for %ux%u pixels", path, w, h);
    if (passes == 1) {
        // Not interlaced: one row at a time, so only one row of bytes is held.
        c->buf = malloc(rowbytes);
        if (!c->buf) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        for (int y = 0; y < (int)h; y++) {
            png_read_row(c->png, c->buf, NULL);
            store_row(&c->img, y, c->buf, nc, bytes);
        }
    } else {
        // Interlaced: each pass touches every row, so the whole image is decoded first.
        c->buf = malloc(rowbytes * h);
        c->rows = malloc(sizeof *c->rows * h);
        if (!c->buf || !c->rows) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        for (size_t y = 0; y < h; y++) c->rows[y] = c->buf + y * rowbytes;
        png_read_image(c->png, c->rows);
        for (int y = 0; y < (int)h; y++) store_row(&c->img, y, c->rows[y], nc, bytes);
    }
    png_read_end(c->png, NULL);   // checks the remaining chunks' CRCs up to IEND
    return NST_OK;
}

int nsti_png_read(FILE *f, const char *path, long long max_pixels, nst_image *img,
                 nst_error *err) {
    int rc = check_header(f, path, max_pixels, err);
    if (rc) return rc;
    struct png_ctx c;
    memset(&c, 0, sizeof c);
    c.f = f;
    rc = decode(&c, path, max_pixels, err);
    if (rc == LIBPNG_FAILED) {
        if (c.io_errno)
            rc = nsti_fail(err, NST_ERR_IO, "%s: read error: %s", path, strerror(c.io_errno));
        else if (c.truncated)
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: truncated PNG data", path);
        else if (strstr(c.msg, "memory"))
            rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory decoding PNG", path);
        else
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: invalid PNG data: %s", path, c.msg);
    }
    png_destroy_read_struct(&c.png, &c.info, NULL);
    free(c.buf);
    free(c.rows);
    if (rc) nst_image_free(&c.img);
    else *img = c.img;
    return rc;
}

static int encode(struct png_ctx *c, const char *path, const nst_image *img, nst_error *err) {
    if (setjmp(c->jump)) return LIBPNG_FAILED;
    c->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    if (!c->png) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    c->info = png_create_info_struct(c->png);
    if (!c->info) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    png_set_write_fn(c->png, c, write_data, flush_data);
    png_set_IHDR(c->png, c->info, (png_uint_32)img->w, (png_uint_32)img->h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    c->buf = malloc((size_t)img->w * 3);
    if (!c->buf) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    for (int y = 0; y < img->h; y++) {
        nsti_image_row_to_rgb(img, y, c->buf);
        png_write_row(c->png, c->buf);
    }
    png_write_end(c->png, NULL);
    return NST_OK;
}

int nsti_png_write(FILE *f, const char *path, const nst_image *img, nst_error *err) {
    struct png_ctx c;
    memset(&c, 0, sizeof c);
    c.f = f;
    int rc = encode(&c, path, img, err);
    if (rc == LIBPNG_FAILED) {
        if (c.io_errno)
            rc = nsti_fail(err, NST_ERR_IO, "%s: write error: %s", path, strerror(c.io_errno));
        else if (strstr(c.msg, "memory"))
            rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory encoding PNG", path);
        else
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: cannot encode PNG: %s", path, c.msg);
    }
    png_destroy_write_struct(&c.png, &c.info);
    free(c.buf);
    return rc;
}
