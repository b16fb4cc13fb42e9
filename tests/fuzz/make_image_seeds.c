// make_image_seeds OUTDIR: writes small PNG and JPEG pictures in every variant
// the loader handles (gray 1..16 bits, palette with transparency, RGB(A) 8 and
// 16 bits, interlaced; baseline, 4:4:4, gray, progressive, CMYK, YCCK, restart
// markers, arithmetic coding), as seeds for the fuzz_image harness. The pictures
// are tiny (at most 19x13) so that the fuzzer mutates little files.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include <jpeglib.h>

static const char *outdir;
static int failures;

static unsigned char sample(int x, int y, int c) { return (unsigned char)((x * 37 + y * 11 + c * 85) ^ (x * y)); }

static FILE *open_out(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); failures++; }
    return f;
}

static void png_variant(const char *name, int w, int h, int type, int depth, int interlace, int trns) {
    FILE *f = open_out(name);
    if (!f) return;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) { fprintf(stderr, "%s: libpng failed\n", name); failures++; fclose(f); return; }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        for (int i = 0; i < 16; i++) pal[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 9), (png_byte)(i * 5)};
        png_set_PLTE(png, info, pal, 1 << (depth < 4 ? depth : 4));
        if (trns) {
            png_byte alpha[4] = {0, 64, 128, 200};
            png_set_tRNS(png, info, alpha, 4, NULL);
        }
    } else if (trns) {
        png_color_16 key = {0, 3, 3, 3, 3};
        png_set_tRNS(png, info, NULL, 0, &key);
    }
    png_write_info(png, info);
    int channels = type == PNG_COLOR_TYPE_RGB ? 3 : type == PNG_COLOR_TYPE_RGBA ? 4
                 : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t rowbytes = ((size_t)w * channels * depth + 7) / 8;
    unsigned char *row = calloc(rowbytes, 1);
    png_bytep *rows = malloc(sizeof *rows * h);
    unsigned char *all = calloc(rowbytes * h, 1);
    for (int y = 0; y < h; y++) {
        rows[y] = all + rowbytes * y;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++) {
                unsigned v = sample(x, y, c);
                if (depth == 16) { rows[y][(x * channels + c) * 2] = (unsigned char)v; rows[y][(x * channels + c) * 2 + 1] = (unsigned char)(v * 3); }
                else if (depth == 8) rows[y][x * channels + c] = (unsigned char)v;
                else {   // 1, 2, 4 bits: gray or palette, one channel
                    int per = 8 / depth, shift = 8 - depth * (x % per + 1);
                    rows[y][x / per] |= (unsigned char)((v & ((1 << depth) - 1)) << shift);
                }
            }
    }
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row); free(rows); free(all);
    fclose(f);
}

typedef struct { J_COLOR_SPACE in, jpeg; int nc, progressive, h_samp, restart, arith, quality; } jpeg_opts;

static void jpeg_variant(const char *name, int w, int h, jpeg_opts o) {
    FILE *f = open_out(name);
    if (!f) return;
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr jerr;
    ci.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&ci);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = o.nc;
    ci.in_color_space = o.in;
    jpeg_set_defaults(&ci);
    jpeg_set_colorspace(&ci, o.jpeg);
    jpeg_set_quality(&ci, o.quality, TRUE);
    if (o.h_samp) ci.comp_info[0].h_samp_factor = ci.comp_info[0].v_samp_factor = o.h_samp;
    if (o.progressive) jpeg_simple_progression(&ci);
    if (o.restart) ci.restart_interval = (unsigned)o.restart;
    if (o.arith) ci.arith_code = TRUE;
    jpeg_start_compress(&ci, TRUE);
    unsigned char *row = malloc((size_t)w * o.nc);
    while (ci.next_scanline < ci.image_height) {
        int y = (int)ci.next_scanline;
        for (int x = 0; x < w; x++)
            for (int c = 0; c < o.nc; c++) row[x * o.nc + c] = sample(x, y, c);
        JSAMPROW r[1] = {row};
        jpeg_write_scanlines(&ci, r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(row);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_image_seeds OUTDIR\n"); return 2; }
    outdir = argv[1];
    png_variant("gray1.png", 19, 13, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, 0);
    png_variant("gray4.png", 9, 7, PNG_COLOR_TYPE_GRAY, 4, PNG_INTERLACE_NONE, 0);
    png_variant("gray8_trns.png", 9, 7, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 1);
    png_variant("gray16.png", 7, 5, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, 0);
    png_variant("graya8.png", 7, 5, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, 0);
    png_variant("palette2.png", 11, 6, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE, 0);
    png_variant("palette4_trns.png", 11, 6, PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_NONE, 1);
    png_variant("rgb8.png", 13, 9, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0);
    png_variant("rgb8_trns.png", 5, 4, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 1);
    png_variant("rgb16.png", 6, 5, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, 0);
    png_variant("rgba8.png", 8, 6, PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, 0);
    png_variant("rgba16_adam7.png", 9, 9, PNG_COLOR_TYPE_RGBA, 16, PNG_INTERLACE_ADAM7, 0);
    png_variant("rgb8_adam7.png", 17, 11, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, 0);
    png_variant("one_pixel.png", 1, 1, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0);
    jpeg_variant("baseline420.jpg", 19, 13, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 0, 0, 0, 0, 75});
    jpeg_variant("baseline444.jpg", 16, 8, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 0, 1, 0, 0, 95});
    jpeg_variant("gray.jpg", 13, 9, (jpeg_opts){JCS_GRAYSCALE, JCS_GRAYSCALE, 1, 0, 0, 0, 0, 80});
    jpeg_variant("progressive.jpg", 19, 13, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 1, 0, 0, 0, 75});
    jpeg_variant("progressive_gray.jpg", 9, 9, (jpeg_opts){JCS_GRAYSCALE, JCS_GRAYSCALE, 1, 1, 0, 0, 0, 75});
    jpeg_variant("cmyk.jpg", 8, 8, (jpeg_opts){JCS_CMYK, JCS_CMYK, 4, 0, 0, 0, 0, 90});
    jpeg_variant("ycck.jpg", 8, 8, (jpeg_opts){JCS_CMYK, JCS_YCCK, 4, 0, 0, 0, 0, 90});
    jpeg_variant("restart.jpg", 24, 16, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 0, 0, 1, 0, 75});
    jpeg_variant("arith.jpg", 16, 16, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 0, 0, 0, 1, 75});
    jpeg_variant("arith_progressive.jpg", 16, 9, (jpeg_opts){JCS_RGB, JCS_YCbCr, 3, 1, 0, 0, 1, 75});
    jpeg_variant("rgb_colorspace.jpg", 8, 8, (jpeg_opts){JCS_RGB, JCS_RGB, 3, 0, 0, 0, 0, 90});
    return failures ? 1 : 0;
}
