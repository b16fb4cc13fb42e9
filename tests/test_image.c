// test_image.c: image decoding, encoding, resizing and their failures.
//
// Test pictures in unusual formats (gray, palette, 16-bit, alpha, interlaced,
// progressive, CMYK) are written here with libpng and libjpeg directly, into a
// temporary directory, so the decoder is checked against files it did not write.
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jpeglib.h>
#include <png.h>
#include "testlib.h"
#include "image/image.h"

static char tmpdir[256];

// A path inside the temporary directory (a few rotating buffers).
static const char *tp(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static char *shared_image(const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/images/%s", nst_test_shared(), name);
    return buf;
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = fwrite(data, 1, n, f);
    return fclose(f) == 0 && k == n ? 0 : -1;
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

// Copies the first n bytes of src to dst (a truncated file).
static int write_prefix(const char *src, const char *dst, double fraction) {
    size_t n;
    unsigned char *b = read_bytes(src, &n);
    if (!b) return -1;
    int rc = write_bytes(dst, b, (size_t)(n * fraction));
    free(b);
    return rc;
}

static unsigned rng_state = 12345;
static unsigned rng(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static float px(const nst_image *im, int c, int x, int y) {
    return im->data[((size_t)c * im->h + y) * im->w + x];
}

static void set_px(nst_image *im, int x, int y, float r, float g, float b) {
    size_t plane = (size_t)im->w * im->h, i = (size_t)y * im->w + x;
    im->data[i] = r;
    im->data[i + plane] = g;
    im->data[i + 2 * plane] = b;
}

// Checks pixel (x, y) against r, g, b within tol.
#define CHECK_PX(im, x, y, r, g, b, tol) do { \
    float r_ = px(im, 0, x, y), g_ = px(im, 1, x, y), b_ = px(im, 2, x, y); \
    CHECKF(fabsf(r_ - (r)) <= (tol) && fabsf(g_ - (g)) <= (tol) && fabsf(b_ - (b)) <= (tol), \
           "pixel (%d,%d) = (%g,%g,%g), want (%g,%g,%g) +- %g", x, y, r_, g_, b_, \
           (double)(r), (double)(g), (double)(b), (double)(tol)); } while (0)

// Whether the error names the file and has the expected code.
#define CHECK_ERR(rc, err, want_code, path) do { \
    CHECKF((rc) == (want_code) && (err).code == (want_code), "rc %d code %d, want %d (%s)", \
           rc, (err).code, want_code, (err).msg); \
    CHECKF(strstr((err).msg, path) != NULL, "message lacks the path %s: %s", path, (err).msg); \
    CHECKF(strchr((err).msg, '\n') == NULL, "message is not one line: %s", (err).msg); \
    } while (0)

// ---- writing test files with libpng and libjpeg directly ----------------------

// A tRNS key color (for gray or RGB files) that the next write_png_raw writes.
static const png_color_16 *png_key_color;

// rows: h rows of packed samples as libpng expects for (depth, type).
static int write_png_raw(const char *path, int w, int h, int depth, int type, int interlace,
                         const unsigned char *data, size_t rowbytes,
                         const png_color *pal, int npal, const png_byte *trns, int ntrns) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    if (png_key_color) png_set_tRNS(png, info, NULL, 0, png_key_color);
    png_write_info(png, info);
    png_bytep *rows = malloc(sizeof *rows * h);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)data + (size_t)y * rowbytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    return fclose(f);
}

enum { JPEG_BASELINE, JPEG_PROGRESSIVE };

// Writes interleaved samples in color space in_cs (JCS_GRAYSCALE, JCS_RGB, JCS_CMYK);
// out_cs is the file's color space (JCS_YCCK for a YCCK file). adobe: whether to keep
// the Adobe marker, which a CMYK file needs to be read as inverted (Photoshop) CMYK.
static int write_jpeg_raw(const char *path, int w, int h, J_COLOR_SPACE in_cs, int nc,
                          J_COLOR_SPACE out_cs, int adobe, int mode,
                          const unsigned char *data) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);   // test helper: libjpeg's default exit on error is fine
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = nc;
    c.in_color_space = in_cs;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, out_cs);
    jpeg_set_quality(&c, 95, TRUE);
    c.write_Adobe_marker = adobe;
    if (mode == JPEG_PROGRESSIVE) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)data + (size_t)c.next_scanline * w * nc;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return fclose(f);
}

// An image of four flat quadrants (JPEG keeps flat areas nearly exact).
static const unsigned char quad_rgb[4][3] = {
    {220, 30, 40}, {20, 200, 60}, {40, 50, 210}, {128, 128, 128}};

static int quadrant(int x, int y, int w, int h) { return (y >= h / 2) * 2 + (x >= w / 2); }

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

// A PNG of just a signature, an IHDR chunk (8-bit RGB, valid CRC) and IEND.
static int write_png_header_only(const char *path, uint32_t w, uint32_t h) {
    unsigned char b[8 + 25 + 12];
    memcpy(b, "\x89PNG\r\n\x1a\n", 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8; b[25] = 2; b[26] = 0; b[27] = 0; b[28] = 0;
    put_be32(b + 29, crc32_of(b + 12, 17));
    put_be32(b + 33, 0);
    memcpy(b + 37, "IEND", 4);
    put_be32(b + 41, crc32_of(b + 37, 4));
    return write_bytes(path, b, sizeof b);
}

static int make_noise(nst_image *im, int w, int h) {
    if (nst_image_alloc(im, w, h, NULL)) return -1;
    for (size_t i = 0; i < 3 * (size_t)w * h; i++) im->data[i] = (float)(rng() % 256);
    return 0;
}

// ---- loading ------------------------------------------------------------------

static void test_load_shared_jpeg(void) {
    nst_image im = {0};
    nst_error err;
    const char *path = shared_image("tubingen.jpg");
    int rc = nst_image_load(&im, path, NST_DEFAULT_MAX_PIXELS, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    if (rc) return;
    CHECKF(im.w == 1024 && im.h == 768, "size %dx%d", im.w, im.h);
    double sum[3] = {0};
    float lo = 1e9f, hi = -1e9f;
    int integral = 1;
    size_t plane = (size_t)im.w * im.h;
    for (size_t i = 0; i < 3 * plane; i++) {
        float v = im.data[i];
        lo = fminf(lo, v); hi = fmaxf(hi, v);
        sum[i / plane] += v;
        if (v != floorf(v)) integral = 0;
    }
    CHECKF(lo >= 0 && hi <= 255 && hi - lo > 200, "range %g..%g", lo, hi);
    CHECK(integral);
    for (int c = 0; c < 3; c++) {
        double mean = sum[c] / plane;
        CHECKF(mean > 40 && mean < 200, "channel %d mean %g", c, mean);
    }
    // Channels differ: decoded as color, not gray.
    CHECK(sum[0] != sum[1] || sum[1] != sum[2]);
    nst_image_free(&im);
}

static void test_load_shared_png(void) {
    nst_image im = {0};
    nst_error err;
    int rc = nst_image_load(&im, shared_image("starry_night_crop.png"), 0, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    if (rc) return;
    CHECKF(im.w == 196 && im.h == 313, "size %dx%d", im.w, im.h);
    double mean = 0;
    float lo = 1e9f, hi = -1e9f;
    for (size_t i = 0; i < 3 * (size_t)im.w * im.h; i++) {
        lo = fminf(lo, im.data[i]); hi = fmaxf(hi, im.data[i]);
        mean += im.data[i];
    }
    mean /= 3.0 * im.w * im.h;
    CHECKF(lo >= 0 && hi <= 255 && hi - lo > 150, "range %g..%g", lo, hi);
    CHECKF(mean > 20 && mean < 230, "mean %g", mean);
    nst_image_free(&im);
}

static void test_load_gray_png(void) {
    // 8-bit gray: a ramp; 4-bit gray: values 0..15 scale by 17.
    unsigned char g8[16 * 4];
    for (int i = 0; i < 64; i++) g8[i] = (unsigned char)(i * 4);
    const char *p8 = tp("gray8.png"), *p4 = tp("gray4.png");
    CHECK(write_png_raw(p8, 16, 4, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, g8, 16,
                        NULL, 0, NULL, 0) == 0);
    unsigned char g4[8 * 2];   // 16x2 pixels, two per byte
    for (int i = 0; i < 16; i++) g4[i] = (unsigned char)(((2 * i) % 16) << 4 | ((2 * i + 1) % 16));
    CHECK(write_png_raw(p4, 16, 2, 4, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, g4, 8,
                        NULL, 0, NULL, 0) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p8, 0, &err) == NST_OK, "%s", err.msg);
    CHECK(im.w == 16 && im.h == 4);
    int bad = 0;
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < im.w; x++)
            for (int c = 0; c < 3; c++) bad += px(&im, c, x, y) != (float)((y * 16 + x) * 4);
    CHECKF(bad == 0, "%d wrong samples in 8-bit gray", bad);
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, p4, 0, &err) == NST_OK, "%s", err.msg);
    CHECK(im.w == 16 && im.h == 2);
    bad = 0;
    for (int y = 0; y < im.h; y++)
        for (int x = 0; x < im.w; x++)
            for (int c = 0; c < 3; c++) bad += px(&im, c, x, y) != (float)(((y * 16 + x) % 16) * 17);
    CHECKF(bad == 0, "%d wrong samples in 4-bit gray", bad);
    nst_image_free(&im);
}

static void test_load_palette_png(void) {
    const png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {10, 20, 30}, {200, 100, 0}};
    unsigned char idx[8 * 4];
    for (int i = 0; i < 32; i++) idx[i] = (unsigned char)(i % 4);
    const char *p = tp("pal.png"), *pt = tp("pal_trns.png");
    CHECK(write_png_raw(p, 8, 4, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, idx, 8,
                        pal, 4, NULL, 0) == 0);
    // With tRNS: entry 0 fully transparent, entry 1 half, the rest opaque.
    const png_byte trns[2] = {0, 128};
    CHECK(write_png_raw(pt, 8, 4, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, idx, 8,
                        pal, 4, trns, 2) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    for (int i = 0; i < 4 && im.data; i++)
        CHECK_PX(&im, i, 0, pal[i].red, pal[i].green, pal[i].blue, 0);
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, pt, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        float a = 128 / 255.0f, half = 255 * (1 - a);
        CHECK_PX(&im, 0, 0, 255, 255, 255, 0);                      // transparent: white
        CHECK_PX(&im, 1, 0, half, 255 * a + half, half, 0.01f);     // green over white
        CHECK_PX(&im, 2, 0, 10, 20, 30, 0);
        CHECK_PX(&im, 7, 3, 200, 100, 0, 0);
    }
    nst_image_free(&im);
}

static void test_load_16bit_png(void) {
    // RGB 16-bit big-endian: 65535 -> 255, 257*k -> k, 32768 -> 127.502
    unsigned char d[3 * 2 * 2];
    const unsigned v[3] = {65535, 257 * 77, 32768};
    for (int i = 0; i < 3; i++) {
        d[2 * i] = (unsigned char)(v[i] >> 8);
        d[2 * i + 1] = (unsigned char)v[i];
    }
    const char *p = tp("rgb16.png");
    CHECK(write_png_raw(p, 1, 1, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, d, 6,
                        NULL, 0, NULL, 0) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        CHECK(im.w == 1 && im.h == 1);
        CHECK_PX(&im, 0, 0, 255, 77, 32768 / 257.0f, 1e-3f);
        // kept at 16-bit precision, not rounded to 8 bits
        CHECKF(fabsf(px(&im, 2, 0, 0) - 128.0f) > 0.4f, "blue %g", px(&im, 2, 0, 0));
    }
    nst_image_free(&im);
}

static void test_load_alpha_png(void) {
    // RGBA 8-bit: opaque, transparent, half.
    const unsigned char rgba[3 * 4] = {200, 100, 0, 255, 200, 100, 0, 0, 200, 100, 0, 128};
    // Gray+alpha 8-bit.
    const unsigned char ga[2 * 2] = {60, 255, 60, 64};
    // RGBA 16-bit: one half-transparent pixel.
    const unsigned char rgba16[8] = {0, 0, 0xFF, 0xFF, 0, 0, 0x80, 0x00};
    const char *p = tp("rgba.png"), *pg = tp("ga.png"), *p16 = tp("rgba16.png");
    CHECK(write_png_raw(p, 3, 1, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, rgba, 12,
                        NULL, 0, NULL, 0) == 0);
    CHECK(write_png_raw(pg, 2, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, ga, 4,
                        NULL, 0, NULL, 0) == 0);
    CHECK(write_png_raw(p16, 1, 1, 16, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, rgba16, 8,
                        NULL, 0, NULL, 0) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        float a = 128 / 255.0f;
        CHECK_PX(&im, 0, 0, 200, 100, 0, 0);
        CHECK_PX(&im, 1, 0, 255, 255, 255, 0);
        CHECK_PX(&im, 2, 0, 200 * a + 255 * (1 - a), 100 * a + 255 * (1 - a), 255 * (1 - a),
                 0.01f);
    }
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, pg, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        float a = 64 / 255.0f, g = 60 * a + 255 * (1 - a);
        CHECK_PX(&im, 0, 0, 60, 60, 60, 0);
        CHECK_PX(&im, 1, 0, g, g, g, 0.01f);
    }
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, p16, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        float a = 0x8000 / 65535.0f;
        CHECK_PX(&im, 0, 0, 255 * (1 - a), 255, 255 * (1 - a), 0.01f);
    }
    nst_image_free(&im);

    // RGB and gray with a tRNS key color: pixels of exactly that color are transparent.
    const unsigned char rgb[6] = {10, 20, 30, 10, 20, 31}, gray[2] = {77, 78};
    const png_color_16 rgb_key = {0, 10, 20, 30, 0}, gray_key = {0, 0, 0, 0, 77};
    const char *pk = tp("rgb_key.png"), *pgk = tp("gray_key.png");
    png_key_color = &rgb_key;
    CHECK(write_png_raw(pk, 2, 1, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, rgb, 6,
                        NULL, 0, NULL, 0) == 0);
    png_key_color = &gray_key;
    CHECK(write_png_raw(pgk, 2, 1, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, gray, 2,
                        NULL, 0, NULL, 0) == 0);
    png_key_color = NULL;
    CHECKF(nst_image_load(&im, pk, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        CHECK_PX(&im, 0, 0, 255, 255, 255, 0);
        CHECK_PX(&im, 1, 0, 10, 20, 31, 0);
    }
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, pgk, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) {
        CHECK_PX(&im, 0, 0, 255, 255, 255, 0);
        CHECK_PX(&im, 1, 0, 78, 78, 78, 0);
    }
    nst_image_free(&im);
}

static void test_load_interlaced_png(void) {
    enum { W = 13, H = 11 };
    unsigned char d[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) d[i] = (unsigned char)(rng() % 256);
    const char *p = tp("adam7.png");
    CHECK(write_png_raw(p, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, d, W * 3,
                        NULL, 0, NULL, 0) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    int bad = 0;
    for (int y = 0; y < H && im.data; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) bad += px(&im, c, x, y) != d[(y * W + x) * 3 + c];
    CHECKF(im.data && bad == 0, "%d wrong samples", bad);
    nst_image_free(&im);
}

// Writes a W x H quadrant picture as a JPEG of the given color space and mode.
static int write_quad_jpeg(const char *path, int w, int h, J_COLOR_SPACE in_cs, int nc,
                           J_COLOR_SPACE out_cs, int adobe, int inverted, int mode) {
    unsigned char *d = malloc((size_t)w * h * nc);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const unsigned char *q = quad_rgb[quadrant(x, y, w, h)];
            unsigned char *o = d + ((size_t)y * w + x) * nc;
            if (nc == 1) {
                o[0] = q[0];
            } else if (nc == 3) {
                memcpy(o, q, 3);
            } else {
                // CMYK ink with K taking the common part: R = (1-C)(1-K)...
                int k = 255 - (q[0] > q[1] ? (q[0] > q[2] ? q[0] : q[2]) : (q[1] > q[2] ? q[1] : q[2]));
                for (int c = 0; c < 3; c++) {
                    int ink = k == 255 ? 0 : 255 - (int)lround(q[c] * 255.0 / (255 - k));
                    o[c] = (unsigned char)(inverted ? 255 - ink : ink);
                }
                o[3] = (unsigned char)(inverted ? 255 - k : k);
            }
        }
    int rc = write_jpeg_raw(path, w, h, in_cs, nc, out_cs, adobe, mode, d);
    free(d);
    return rc;
}

static void check_quads(const char *what, const nst_image *im, int gray, float tol) {
    for (int q = 0; q < 4; q++) {
        int x = (q & 1) ? im->w * 3 / 4 : im->w / 4, y = (q & 2) ? im->h * 3 / 4 : im->h / 4;
        const unsigned char *c = quad_rgb[q];
        float r = c[0], g = gray ? c[0] : c[1], b = gray ? c[0] : c[2];
        float pr = px(im, 0, x, y), pg = px(im, 1, x, y), pb = px(im, 2, x, y);
        CHECKF(fabsf(pr - r) <= tol && fabsf(pg - g) <= tol && fabsf(pb - b) <= tol,
               "%s quadrant %d: (%g,%g,%g), want (%g,%g,%g)", what, q, pr, pg, pb, r, g, b);
    }
}

static void test_load_gray_jpeg(void) {
    const char *p = tp("gray.jpg");
    CHECK(write_quad_jpeg(p, 48, 32, JCS_GRAYSCALE, 1, JCS_GRAYSCALE, 0, 0, JPEG_BASELINE) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    if (!im.data) return;
    CHECK(im.w == 48 && im.h == 32);
    check_quads("gray", &im, 1, 3);
    size_t plane = (size_t)im.w * im.h;
    int bad = 0;
    for (size_t i = 0; i < plane; i++)
        bad += im.data[i] != im.data[i + plane] || im.data[i] != im.data[i + 2 * plane];
    CHECKF(bad == 0, "%d pixels with R, G, B unequal", bad);
    nst_image_free(&im);
}

static void test_load_progressive_jpeg(void) {
    const char *p = tp("prog.jpg");
    CHECK(write_quad_jpeg(p, 64, 48, JCS_RGB, 3, JCS_YCbCr, 0, 0, JPEG_PROGRESSIVE) == 0);
    size_t n;
    unsigned char *b = read_bytes(p, &n);
    // a progressive file has an SOF2 marker
    int sof2 = 0;
    for (size_t i = 0; b && i + 1 < n; i++) sof2 |= b[i] == 0xFF && b[i + 1] == 0xC2;
    free(b);
    CHECK(sof2);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    if (!im.data) return;
    CHECK(im.w == 64 && im.h == 48);
    check_quads("progressive", &im, 0, 6);
    nst_image_free(&im);
}

static void test_load_cmyk_jpeg(void) {
    // Adobe (Photoshop) inverted CMYK, plain CMYK without the Adobe marker, and YCCK.
    const char *pa = tp("cmyk_adobe.jpg"), *pp = tp("cmyk_plain.jpg"), *py = tp("ycck.jpg");
    CHECK(write_quad_jpeg(pa, 32, 32, JCS_CMYK, 4, JCS_CMYK, 1, 1, JPEG_BASELINE) == 0);
    CHECK(write_quad_jpeg(pp, 32, 32, JCS_CMYK, 4, JCS_CMYK, 0, 0, JPEG_BASELINE) == 0);
    CHECK(write_quad_jpeg(py, 32, 32, JCS_CMYK, 4, JCS_YCCK, 1, 1, JPEG_PROGRESSIVE) == 0);
    const char *paths[3] = {pa, pp, py};
    for (int i = 0; i < 3; i++) {
        nst_image im = {0};
        nst_error err;
        CHECKF(nst_image_load(&im, paths[i], 0, &err) == NST_OK, "%s", err.msg);
        if (!im.data) continue;
        CHECK(im.w == 32 && im.h == 32);
        check_quads(paths[i], &im, 0, 6);
        nst_image_free(&im);
    }
}

static void test_load_by_content(void) {
    // A PNG named .jpg is still read as PNG; a JPEG named .png as JPEG.
    const char *p = tp("really_png.jpg"), *j = tp("really_jpeg.png");
    unsigned char g[4] = {1, 2, 3, 4};
    CHECK(write_png_raw(p, 2, 2, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, g, 2,
                        NULL, 0, NULL, 0) == 0);
    CHECK(write_quad_jpeg(j, 16, 16, JCS_RGB, 3, JCS_YCbCr, 0, 0, JPEG_BASELINE) == 0);
    nst_image im = {0};
    nst_error err;
    CHECKF(nst_image_load(&im, p, 0, &err) == NST_OK, "%s", err.msg);
    if (im.data) CHECK_PX(&im, 1, 1, 4, 4, 4, 0);
    nst_image_free(&im);
    CHECKF(nst_image_load(&im, j, 0, &err) == NST_OK, "%s", err.msg);
    CHECK(im.w == 16 && im.h == 16);
    nst_image_free(&im);
}

// ---- saving ---------------------------------------------------------------------

static void test_png_roundtrip_exact(void) {
    nst_image im = {0}, back = {0};
    nst_error err;
    CHECK(make_noise(&im, 37, 23) == 0);
    // rounding and clamping: -5 -> 0, 300 -> 255, NaN -> 0, 12.4 -> 12, 12.6 -> 13
    const float in[5] = {-5.0f, 300.0f, NAN, 12.4f, 12.6f}, want[5] = {0, 255, 0, 12, 13};
    for (int i = 0; i < 5; i++) im.data[i] = in[i];
    const char *p = tp("roundtrip.PNG");   // extension matched case-insensitively
    CHECKF(nst_image_save(&im, p, &err) == NST_OK, "%s", err.msg);
    CHECKF(nst_image_load(&back, p, 0, &err) == NST_OK, "%s", err.msg);
    if (back.data) {
        CHECK(back.w == 37 && back.h == 23);
        for (int i = 0; i < 5; i++) {
            CHECKF(back.data[i] == want[i], "sample %d: %g -> %g, want %g", i, in[i],
                   back.data[i], want[i]);
            im.data[i] = want[i];
        }
        int bad = 0;
        for (size_t i = 0; i < 3 * (size_t)im.w * im.h; i++) bad += back.data[i] != im.data[i];
        CHECKF(bad == 0, "%d samples differ", bad);
    }
    // A fresh file gets ordinary permissions (0666 less the umask), not mkstemp's 0600.
    struct stat st;
    mode_t mask = umask(022);
    umask(mask);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
    nst_image_free(&im);
    nst_image_free(&back);
}

static void test_jpeg_roundtrip_close(void) {
    nst_image im = {0}, back = {0};
    nst_error err;
    CHECK(nst_image_alloc(&im, 64, 48, &err) == NST_OK);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            set_px(&im, x, y, x * 4.0f, y * 5.0f, 128 + 60 * sinf(x * 0.2f + y * 0.1f));
    const char *paths[2] = {tp("roundtrip.jpg"), tp("roundtrip.JPEG")};
    for (int k = 0; k < 2; k++) {
        CHECKF(nst_image_save(&im, paths[k], &err) == NST_OK, "%s", err.msg);
        size_t n;
        unsigned char *b = read_bytes(paths[k], &n);
        CHECK(b && n > 3 && b[0] == 0xFF && b[1] == 0xD8);   // really a JPEG
        free(b);
        CHECKF(nst_image_load(&back, paths[k], 0, &err) == NST_OK, "%s", err.msg);
        if (!back.data) continue;
        CHECK(back.w == 64 && back.h == 48);
        double sum = 0, worst = 0;
        for (size_t i = 0; i < 3 * 64 * 48; i++) {
            double d = fabs(back.data[i] - roundf(im.data[i]));
            sum += d;
            worst = fmax(worst, d);
        }
        CHECKF(sum / (3 * 64 * 48) < 1.5 && worst < 12, "mean |diff| %g, max %g",
               sum / (3 * 64 * 48), worst);
        nst_image_free(&back);
    }
    nst_image_free(&im);
}

// Counts entries of tmpdir whose name contains ".tmp.".
static int count_temp_files(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

static void test_save_unwritable_dir(void) {
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 8, 8) == 0);
    const char *missing = tp("no_such_dir/out.png");
    int rc = nst_image_save(&im, missing, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, missing);
    // A regular file where a directory should be.
    const char *file = tp("plain_file");
    CHECK(write_bytes(file, "x", 1) == 0);
    const char *under_file = tp("plain_file/out.jpg");
    rc = nst_image_save(&im, under_file, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, under_file);
    // A read-only directory (meaningless as root, who may write anyway).
    if (geteuid() != 0) {
        const char *ro = tp("readonly");
        CHECK(mkdir(ro, 0555) == 0);
        const char *in_ro = tp("readonly/out.png");
        rc = nst_image_save(&im, in_ro, &err);
        CHECK_ERR(rc, err, NST_ERR_IO, in_ro);
        chmod(ro, 0755);
    }
    nst_image_free(&im);
}

static void test_save_bad_extension(void) {
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 8, 8) == 0);
    const char *p = tp("out.bmp");
    int rc = nst_image_save(&im, p, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, p);
    CHECKF(strstr(err.msg, ".bmp") != NULL, "%s", err.msg);
    CHECK(access(p, F_OK) != 0);
    const char *noext = tp("out_png");
    rc = nst_image_save(&im, noext, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, noext);
    // a dot in a directory name is not an extension
    const char *dirdot = tp("dir.png/out");
    rc = nst_image_save(&im, dirdot, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, dirdot);
    nst_image_free(&im);
}

// A save that fails while writing (the file size limit is hit) must leave the
// existing file as it was and remove its temporary file.
static void test_save_failure_is_atomic(void) {
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 300, 300) == 0);   // noise compresses badly: ~270 KB
    const char *paths[2] = {tp("keep.png"), tp("keep.jpg")};
    static const char old[] = "previous contents";
    struct rlimit saved, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);   // get EFBIG instead of a signal
    for (int k = 0; k < 2; k++) {
        CHECK(write_bytes(paths[k], old, sizeof old) == 0);
        small = saved;
        small.rlim_cur = 16384;
        CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
        int rc = nst_image_save(&im, paths[k], &err);
        setrlimit(RLIMIT_FSIZE, &saved);
        CHECK_ERR(rc, err, NST_ERR_IO, paths[k]);
        size_t n = 0;
        unsigned char *b = read_bytes(paths[k], &n);
        CHECKF(b && n == sizeof old && memcmp(b, old, n) == 0, "%s was changed", paths[k]);
        free(b);
        CHECKF(count_temp_files() == 0, "temporary files left in %s", tmpdir);
        // Without the limit the same save replaces the file.
        CHECKF(nst_image_save(&im, paths[k], &err) == NST_OK, "%s", err.msg);
        b = read_bytes(paths[k], &n);
        CHECK(b && n > 16384);
        free(b);
        CHECK(count_temp_files() == 0);
    }
    signal(SIGXFSZ, prev);
    nst_image_free(&im);
    // An encoder error (JPEG allows at most 65500 pixels a side) cleans up the same way.
    CHECK(make_noise(&im, 70000, 1) == 0);
    const char *wide = tp("wide.jpg");
    int rc = nst_image_save(&im, wide, &err);
    CHECK_ERR(rc, err, NST_ERR_LIMIT, wide);
    CHECK(access(wide, F_OK) != 0);
    CHECK(count_temp_files() == 0);
    nst_image_free(&im);
}

// ---- resizing -------------------------------------------------------------------

static void test_resize_identity(void) {
    nst_image im = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&im, 31, 17, &err) == NST_OK);
    for (size_t i = 0; i < 3 * 31 * 17; i++) im.data[i] = (float)(rng() % 100000) / 391.0f;
    CHECKF(nst_image_resize(&out, &im, 31, 17, &err) == NST_OK, "%s", err.msg);
    CHECK(out.w == 31 && out.h == 17 && out.data != im.data);
    CHECK(out.data && memcmp(out.data, im.data, sizeof(float) * 3 * 31 * 17) == 0);
    nst_image_free(&out);
    nst_image_free(&im);
}

static void test_resize_constant(void) {
    nst_image im = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&im, 100, 80, &err) == NST_OK);
    for (int y = 0; y < 80; y++)
        for (int x = 0; x < 100; x++) set_px(&im, x, y, 123.4f, 0.0f, 255.0f);
    const int sizes[4][2] = {{33, 17}, {7, 80}, {100, 3}, {1, 1}};
    for (int s = 0; s < 4; s++) {
        CHECKF(nst_image_resize(&out, &im, sizes[s][0], sizes[s][1], &err) == NST_OK, "%s",
               err.msg);
        CHECK(out.w == sizes[s][0] && out.h == sizes[s][1]);
        float worst = 0;
        for (int y = 0; y < out.h; y++)
            for (int x = 0; x < out.w; x++) {
                worst = fmaxf(worst, fabsf(px(&out, 0, x, y) - 123.4f));
                worst = fmaxf(worst, fabsf(px(&out, 1, x, y)));
                worst = fmaxf(worst, fabsf(px(&out, 2, x, y) - 255.0f));
            }
        CHECKF(worst < 1e-3f, "%dx%d: off by %g", out.w, out.h, worst);
        nst_image_free(&out);
    }
    nst_image_free(&im);
}

// Downscales a pattern of period `cell`*2 pixels by `factor`; an antialiased resize
// averages it to mid-gray. check: the interior (away from the clamped border).
static void check_checker_downscale(int n, int cell, int offset, int factor) {
    nst_image im = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&im, n, n, &err) == NST_OK);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            float v = (((x + offset) / cell + (y + offset) / cell) % 2) ? 255.0f : 0.0f;
            set_px(&im, x, y, v, v, v);
        }
    int m = n / factor;
    CHECKF(nst_image_resize(&out, &im, m, m, &err) == NST_OK, "%s", err.msg);
    if (out.data) {
        float worst = 0, worst_all = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < m; y++)
                for (int x = 0; x < m; x++) {
                    float d = fabsf(px(&out, c, x, y) - 127.5f);
                    worst_all = fmaxf(worst_all, d);
                    if (x > 0 && y > 0 && x < m - 1 && y < m - 1) worst = fmaxf(worst, d);
                }
        CHECKF(worst < 1.0f && worst_all < 20.0f,
               "cell %d offset %d %dx: interior off mid-gray by %g, border by %g", cell, offset,
               factor, worst, worst_all);
    }
    nst_image_free(&out);
    nst_image_free(&im);
}

static void test_resize_antialias(void) {
    check_checker_downscale(64, 1, 0, 4);   // 1-pixel checkerboard, 4x
    // 2-pixel cells offset by one: samples taken without antialiasing land inside
    // a single cell and come out black or white.
    check_checker_downscale(64, 2, 1, 4);
    check_checker_downscale(60, 1, 0, 5);   // odd factor: a point sample hits one pixel
}

static void test_resize_upscale(void) {
    nst_image im = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_alloc(&im, 10, 7, &err) == NST_OK);
    for (size_t i = 0; i < 3 * 70; i++) im.data[i] = (float)(rng() % 256);
    CHECKF(nst_image_resize(&out, &im, 23, 19, &err) == NST_OK, "%s", err.msg);
    CHECK(out.w == 23 && out.h == 19);
    float lo = 1e9f, hi = -1e9f;
    for (size_t i = 0; out.data && i < 3 * 23 * 19; i++) {
        lo = fminf(lo, out.data[i]);
        hi = fmaxf(hi, out.data[i]);
    }
    CHECKF(lo >= 0 && hi <= 255, "bilinear overshoots: %g..%g", lo, hi);
    nst_image_free(&out);
    nst_image_free(&im);
    // Bilinear with pixel centers aligned: [0, 255] doubled is [0, 63.75, 191.25, 255].
    CHECK(nst_image_alloc(&im, 2, 1, &err) == NST_OK);
    set_px(&im, 1, 0, 255, 255, 255);
    CHECKF(nst_image_resize(&out, &im, 4, 1, &err) == NST_OK, "%s", err.msg);
    const float want[4] = {0, 63.75f, 191.25f, 255};
    if (out.data) nst_test_close("2x upscale", out.data, want, 4, 0, 1e-4);
    nst_image_free(&out);
    nst_image_free(&im);
}

static void test_resize_errors(void) {
    nst_image im = {0}, out = {0};
    nst_error err;
    CHECK(nst_image_resize(&out, &im, 4, 4, &err) == NST_ERR_USAGE);   // empty source
    CHECK(nst_image_alloc(&im, 4, 4, &err) == NST_OK);
    CHECK(nst_image_resize(&out, &im, 0, 4, &err) == NST_ERR_USAGE);
    CHECK(nst_image_resize(&out, &im, 4, -1, &err) == NST_ERR_USAGE);
    CHECK(out.data == NULL);
    // resizing in place (dst == src) is allowed
    CHECKF(nst_image_resize(&im, &im, 2, 3, &err) == NST_OK, "%s", err.msg);
    CHECK(im.w == 2 && im.h == 3 && im.data);
    nst_image_free(&im);
}

static void test_alloc_free(void) {
    nst_image im = {0};
    nst_error err;
    nst_image_free(&im);   // zeroed: fine
    CHECK(nst_image_alloc(&im, 3, 2, &err) == NST_OK && im.w == 3 && im.h == 2 && im.data);
    int zero = 1;
    for (int i = 0; i < 18 && im.data; i++) zero &= im.data[i] == 0;
    CHECK(zero);
    nst_image_free(&im);
    CHECK(im.data == NULL && im.w == 0 && im.h == 0);
    nst_image_free(&im);   // twice: fine
    CHECK(nst_image_alloc(&im, 0, 5, &err) == NST_ERR_USAGE && im.data == NULL);
    CHECK(nst_image_alloc(&im, 2000000000, 2000000000, &err) != NST_OK && im.data == NULL);
}

// ---- bad inputs -------------------------------------------------------------------

static void test_bad_missing_file(void) {
    nst_image im = {0};
    nst_error err;
    const char *p = tp("does_not_exist.jpg");
    int rc = nst_image_load(&im, p, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, p);
    CHECKF(strstr(err.msg, "No such file or directory") != NULL, "%s", err.msg);
    CHECK(im.data == NULL && im.w == 0);
    // a directory is not a picture either
    rc = nst_image_load(&im, tmpdir, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, tmpdir);
}

static void test_bad_empty_file(void) {
    nst_image im = {0};
    nst_error err;
    const char *p = tp("empty.png");
    CHECK(write_bytes(p, "", 0) == 0);
    int rc = nst_image_load(&im, p, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, p);
    CHECKF(strstr(err.msg, "empty") != NULL, "%s", err.msg);
}

static void test_bad_text_file(void) {
    nst_image im = {0};
    nst_error err;
    const char *p = tp("notes.jpg");
    CHECK(write_bytes(p, "hello, this is text\n", 20) == 0);
    int rc = nst_image_load(&im, p, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, p);
    CHECKF(strstr(err.msg, "not a JPEG or PNG") != NULL, "%s", err.msg);
    const char *tiny = tp("tiny.png");   // 2 bytes: shorter than any magic
    CHECK(write_bytes(tiny, "\x89P", 2) == 0);
    rc = nst_image_load(&im, tiny, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, tiny);
}

static void test_bad_truncated_jpeg(void) {
    const char *full = tp("full.jpg"), *prog = tp("full_prog.jpg");
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 64, 64) == 0);
    CHECK(nst_image_save(&im, full, &err) == NST_OK);
    nst_image_free(&im);
    CHECK(write_quad_jpeg(prog, 64, 64, JCS_RGB, 3, JCS_YCbCr, 0, 0, JPEG_PROGRESSIVE) == 0);
    const char *cuts[3][2] = {{full, tp("cut.jpg")}, {prog, tp("cut_prog.jpg")},
                              {shared_image("tubingen.jpg"), tp("cut_tubingen.jpg")}};
    const double fractions[2] = {0.5, 0.02};   // mid-data, and inside the header
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            CHECK(write_prefix(cuts[i][0], cuts[i][1], fractions[k]) == 0);
            int rc = nst_image_load(&im, cuts[i][1], 0, &err);
            CHECK_ERR(rc, err, NST_ERR_FORMAT, cuts[i][1]);
            CHECKF(strstr(err.msg, "truncated JPEG") != NULL, "%s", err.msg);
            CHECK(im.data == NULL);
        }
}

static void test_bad_truncated_png(void) {
    const char *full = tp("full.png");
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 64, 64) == 0);
    CHECK(nst_image_save(&im, full, &err) == NST_OK);
    nst_image_free(&im);
    const char *cuts[2][2] = {{full, tp("cut.png")},
                              {shared_image("starry_night_crop.png"), tp("cut_starry.png")}};
    const double fractions[3] = {0.5, 0.999, 0.1};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 3; k++) {
            CHECK(write_prefix(cuts[i][0], cuts[i][1], fractions[k]) == 0);
            int rc = nst_image_load(&im, cuts[i][1], 0, &err);
            CHECK_ERR(rc, err, NST_ERR_FORMAT, cuts[i][1]);
            CHECKF(strstr(err.msg, "truncated PNG") != NULL, "%s", err.msg);
            CHECK(im.data == NULL);
        }
    // Cut inside the IHDR chunk.
    const char *hdr = tp("cut_header.png");
    size_t n;
    unsigned char *b = read_bytes(full, &n);
    CHECK(b && write_bytes(hdr, b, 20) == 0);
    free(b);
    int rc = nst_image_load(&im, hdr, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, hdr);
}

static void test_bad_corrupt_png(void) {
    // One flipped byte in the image data fails the chunk's CRC.
    const char *full = tp("whole.png"), *bad = tp("flipped.png");
    nst_image im = {0};
    nst_error err;
    CHECK(make_noise(&im, 32, 32) == 0);
    CHECK(nst_image_save(&im, full, &err) == NST_OK);
    nst_image_free(&im);
    size_t n;
    unsigned char *b = read_bytes(full, &n);
    CHECK(b && n > 200);
    if (!b) return;
    b[n / 2] ^= 0x55;
    CHECK(write_bytes(bad, b, n) == 0);
    free(b);
    int rc = nst_image_load(&im, bad, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, bad);
    CHECK(im.data == NULL);
}

static void test_bad_zero_dimension(void) {
    nst_image im = {0};
    nst_error err;
    const char *pw = tp("zero_w.png"), *ph = tp("zero_h.png");
    CHECK(write_png_header_only(pw, 0, 10) == 0);
    CHECK(write_png_header_only(ph, 10, 0) == 0);
    int rc = nst_image_load(&im, pw, 0, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, pw);
    CHECKF(strstr(err.msg, "zero") != NULL, "%s", err.msg);
    rc = nst_image_load(&im, ph, NST_DEFAULT_MAX_PIXELS, &err);
    CHECK_ERR(rc, err, NST_ERR_FORMAT, ph);
    CHECK(im.data == NULL);
}

static void test_bad_too_many_pixels(void) {
    nst_image im = {0};
    nst_error err;
    // A header claiming 100000x100000 (10^10 pixels, 120 GB as floats) with no data:
    // the limit must be noticed from the header alone, before anything is allocated.
    const char *p = tp("huge.png");
    CHECK(write_png_header_only(p, 100000, 100000) == 0);
    clock_t t0 = clock();
    int rc = nst_image_load(&im, p, NST_DEFAULT_MAX_PIXELS, &err);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK_ERR(rc, err, NST_ERR_LIMIT, p);
    CHECKF(strstr(err.msg, "100000x100000") && strstr(err.msg, "50000000"), "%s", err.msg);
    CHECKF(secs < 0.5, "took %g s", secs);
    CHECK(im.data == NULL);
    // Sizes that overflow 32-bit arithmetic fail even without a pixel limit.
    const char *q = tp("overflow.png");
    CHECK(write_png_header_only(q, 0x7FFFFFFF, 0x7FFFFFFF) == 0);
    rc = nst_image_load(&im, q, 0, &err);
    CHECKF(rc == NST_ERR_LIMIT || rc == NST_ERR_FORMAT, "rc %d: %s", rc, err.msg);
    CHECKF(strstr(err.msg, q) != NULL, "%s", err.msg);
    CHECK(im.data == NULL);
    // JPEG too: tubingen is 1024x768 = 786432 pixels.
    const char *t = shared_image("tubingen.jpg");
    rc = nst_image_load(&im, t, 786431, &err);
    CHECK_ERR(rc, err, NST_ERR_LIMIT, t);
    rc = nst_image_load(&im, t, 786432, &err);
    CHECKF(rc == NST_OK, "at the limit: %s", err.msg);
    nst_image_free(&im);
    // and a real PNG at and over the limit
    const char *s = shared_image("starry_night_crop.png");
    rc = nst_image_load(&im, s, 196 * 313 - 1, &err);
    CHECK_ERR(rc, err, NST_ERR_LIMIT, s);
    rc = nst_image_load(&im, s, 196 * 313, &err);
    CHECKF(rc == NST_OK, "at the limit: %s", err.msg);
    nst_image_free(&im);
}

// The library must print nothing, even for files that make libjpeg warn.
static void test_quiet(void) {
    // A JPEG with junk bytes inserted before a marker decodes, with a libjpeg warning.
    const char *clean = tp("clean.jpg"), *junk = tp("junk.jpg");
    CHECK(write_quad_jpeg(clean, 32, 32, JCS_RGB, 3, JCS_YCbCr, 0, 0, JPEG_BASELINE) == 0);
    size_t n;
    unsigned char *b = read_bytes(clean, &n);
    CHECK(b && n > 100);
    if (!b) return;
    unsigned char *j = malloc(n + 3);
    size_t sos = 0;   // insert the junk before the SOS marker
    for (size_t i = 2; i + 1 < n; i++)
        if (b[i] == 0xFF && b[i + 1] == 0xDA) { sos = i; break; }
    CHECK(sos > 0);
    memcpy(j, b, sos);
    memcpy(j + sos, "\x01\x02\x03", 3);
    memcpy(j + sos + 3, b + sos, n - sos);
    CHECK(write_bytes(junk, j, n + 3) == 0);
    free(b);
    free(j);

    fflush(stderr);
    fflush(stdout);
    const char *log = tp("stderr.log");
    int saved_err = dup(2), saved_out = dup(1);
    FILE *logf = fopen(log, "w");
    dup2(fileno(logf), 2);
    dup2(fileno(logf), 1);
    nst_image im = {0};
    nst_error err;
    int rc_junk = nst_image_load(&im, junk, 0, &err);
    nst_image_free(&im);
    int rc_cut = nst_image_load(&im, tp("cut.jpg"), 0, &err);
    int rc_png = nst_image_load(&im, tp("flipped.png"), 0, &err);
    fflush(stderr);
    fflush(stdout);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    fclose(logf);
    CHECKF(rc_junk == NST_OK, "junk before SOS: %s", err.msg);
    CHECK(rc_cut != NST_OK && rc_png != NST_OK);
    size_t logn = 0;
    unsigned char *printed = read_bytes(log, &logn);
    CHECKF(logn == 0, "the library printed %zu bytes: %.*s", logn, (int)logn, printed);
    free(printed);
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        const char *p = tp(e->d_name);
        if (remove(p) != 0) fprintf(stderr, "cannot remove %s: %s\n", p, strerror(errno));
    }
    if (d) closedir(d);
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nst_test_image.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST(test_load_shared_jpeg);
    TEST(test_load_shared_png);
    TEST(test_load_gray_png);
    TEST(test_load_palette_png);
    TEST(test_load_16bit_png);
    TEST(test_load_alpha_png);
    TEST(test_load_interlaced_png);
    TEST(test_load_gray_jpeg);
    TEST(test_load_progressive_jpeg);
    TEST(test_load_cmyk_jpeg);
    TEST(test_load_by_content);
    TEST(test_png_roundtrip_exact);
    TEST(test_jpeg_roundtrip_close);
    TEST(test_save_unwritable_dir);
    TEST(test_save_bad_extension);
    TEST(test_save_failure_is_atomic);
    TEST(test_resize_identity);
    TEST(test_resize_constant);
    TEST(test_resize_antialias);
    TEST(test_resize_upscale);
    TEST(test_resize_errors);
    TEST(test_alloc_free);
    TEST(test_bad_missing_file);
    TEST(test_bad_empty_file);
    TEST(test_bad_text_file);
    TEST(test_bad_truncated_jpeg);
    TEST(test_bad_truncated_png);
    TEST(test_bad_corrupt_png);
    TEST(test_bad_zero_dimension);
    TEST(test_bad_too_many_pixels);
    TEST(test_quiet);
    remove_tmpdir();
    return nst_test_summary();
}
