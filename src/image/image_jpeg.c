// image_jpeg.c: JPEG decoding and encoding with libjpeg(-turbo).
//
// libjpeg reports errors by calling error_exit, which by default prints and exits;
// ours copies the message and longjmps back. The setjmp lives in a small function
// (decode/encode) whose state is kept in a struct owned by its caller, so nothing
// that changes between setjmp and longjmp is a local of the setjmp frame.
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>   // before jpeglib.h, which uses FILE
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "image/image_codec.h"

// A progressive file with thousands of tiny scans makes libjpeg rework the whole
// coefficient buffer for each one; real encoders use about ten.
#define MAX_PROGRESSIVE_SCANS 1000

#define LIBJPEG_FAILED (-1)   // decode/encode result: the message is in jerr.msg

struct jpeg_err {
    struct jpeg_error_mgr pub;   // first, so libjpeg's cinfo->err points at us too
    jmp_buf jump;
    int truncated;               // the failure was premature end of data
    int sys_errno;               // errno when the error was raised (for write errors)
    char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr cinfo) {
    struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
    e->sys_errno = errno;
    cinfo->err->format_message(cinfo, e->msg);
    longjmp(e->jump, 1);
}

// Warnings and traces. libjpeg treats running out of data as a mere warning and
// pads the picture with gray; a truncated file is an error to us. Other warnings
// (e.g. stray bytes before a marker) are common in files that decode fine.
static void on_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        ((struct jpeg_err *)cinfo->err)->truncated = 1;
        on_error(cinfo);
    }
}

static void no_output(j_common_ptr cinfo) { (void)cinfo; }

static void init_err(struct jpeg_err *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = on_error;
    e->pub.emit_message = on_message;
    e->pub.output_message = no_output;
    e->truncated = 0;
    e->msg[0] = 0;
}

static void on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > MAX_PROGRESSIVE_SCANS) {
        struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans",
                 MAX_PROGRESSIVE_SCANS);
        longjmp(e->jump, 1);
    }
}

struct jpeg_reader {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err jerr;
    struct jpeg_progress_mgr progress;
    unsigned char *row;
    nst_image img;
};

// Converts one decoded row of nc components (1 gray, 3 RGB, 4 CMYK) into row y.
static void store_row(nst_image *img, int y, const unsigned char *row, int nc,
                      int inverted_cmyk) {
    size_t plane = (size_t)img->w * img->h;
    float *r = img->data + (size_t)y * img->w, *g = r + plane, *b = g + plane;
    for (int x = 0; x < img->w; x++) {
        const unsigned char *p = row + (size_t)x * nc;
        if (nc == 1) {
            r[x] = g[x] = b[x] = p[0];
        } else if (nc == 3) {
            r[x] = p[0]; g[x] = p[1]; b[x] = p[2];
        } else {
            // Naive CMYK -> RGB (no color profile): R = (1-C)(1-K) and so on.
            // Photoshop writes inverted CMYK (255 = no ink), marked by an Adobe segment.
            float c = p[0], m = p[1], yy = p[2], k = p[3];
            if (!inverted_cmyk) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
            r[x] = c * k / 255.0f;
            g[x] = m * k / 255.0f;
            b[x] = yy * k / 255.0f;
        }
    }
}

static int decode(struct jpeg_reader *r, FILE *f, const char *path, long long max_pixels,
                  nst_error *err) {
    j_decompress_ptr cinfo = &r->cinfo;
    if (setjmp(r->jerr.jump)) return LIBJPEG_FAILED;
    jpeg_create_decompress(cinfo);
    r->progress.progress_monitor = on_progress;
    cinfo->progress = &r->progress;
    jpeg_stdio_src(cinfo, f);
    jpeg_read_header(cinfo, TRUE);

    // Checked before start_decompress, which allocates the frame buffers.
    int rc = nsti_image_check_size(path, cinfo->image_width, cinfo->image_height,
                                  max_pixels, err);
    if (rc) return rc;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    // libjpeg turns YCCK into CMYK but not CMYK into RGB: store_row does that.
    case JCS_CMYK: case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default: cinfo->out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(cinfo);

    int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    int nc = cinfo->output_components;
    rc = nst_image_alloc(&r->img, w, h, err);
    if (rc) return nsti_fail(err, rc, "%s: out of memory for %dx%d pixels", path, w, h);
    r->row = malloc((size_t)w * nc);
    if (!r->row) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    while (cinfo->output_scanline < cinfo->output_height) {
        int y = (int)cinfo->output_scanline;
        JSAMPROW rows[1] = { r->row };
        jpeg_read_scanlines(cinfo, rows, 1);
        store_row(&r->img, y, r->row, nc, cinfo->saw_Adobe_marker);
    }
    jpeg_finish_decompress(cinfo);   // reads up to EOI, so a cut-off tail is caught too
    return NST_OK;
}

int nsti_jpeg_read(FILE *f, const char *path, long long max_pixels, nst_image *img,
                  nst_error *err) {
    struct jpeg_reader r;
    memset(&r, 0, sizeof r);
    init_err(&r.jerr);
    r.cinfo.err = &r.jerr.pub;
    int rc = decode(&r, f, path, max_pixels, err);
    if (rc == LIBJPEG_FAILED) {
        if (ferror(f))
            rc = nsti_fail(err, NST_ERR_IO, "%s: read error", path);
        else if (r.jerr.truncated)
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: truncated JPEG data", path);
        else if (r.jerr.pub.msg_code == JERR_OUT_OF_MEMORY)
            rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory decoding JPEG", path);
        else
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: invalid JPEG data: %s", path, r.jerr.msg);
    }
    jpeg_destroy_decompress(&r.cinfo);   // safe after any failure, even in create
    free(r.row);
    if (rc) nst_image_free(&r.img);
    else *img = r.img;
    return rc;
}

struct jpeg_writer {
    struct jpeg_compress_struct cinfo;
    struct jpeg_err jerr;
    unsigned char *row;
};

static int encode(struct jpeg_writer *wr, FILE *f, const char *path, const nst_image *img,
                  int quality, nst_error *err) {
    j_compress_ptr cinfo = &wr->cinfo;
    if (setjmp(wr->jerr.jump)) return LIBJPEG_FAILED;
    jpeg_create_compress(cinfo);
    jpeg_stdio_dest(cinfo, f);
    cinfo->image_width = (JDIMENSION)img->w;
    cinfo->image_height = (JDIMENSION)img->h;
    cinfo->input_components = 3;
    cinfo->in_color_space = JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    // Full-resolution chroma (4:4:4): stylized pictures are full of fine colored
    // strokes that the default 4:2:0 subsampling would smear.
    cinfo->comp_info[0].h_samp_factor = cinfo->comp_info[0].v_samp_factor = 1;
    cinfo->optimize_coding = TRUE;
    jpeg_start_compress(cinfo, TRUE);
    wr->row = malloc((size_t)img->w * 3);
    if (!wr->row) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    while (cinfo->next_scanline < cinfo->image_height) {
        nsti_image_row_to_rgb(img, (int)cinfo->next_scanline, wr->row);
        JSAMPROW rows[1] = { wr->row };
        jpeg_write_scanlines(cinfo, rows, 1);
    }
    jpeg_finish_compress(cinfo);
    return NST_OK;
}

int nsti_jpeg_write(FILE *f, const char *path, const nst_image *img, int quality,
                   nst_error *err) {
    struct jpeg_writer wr;
    memset(&wr, 0, sizeof wr);
    init_err(&wr.jerr);
    wr.cinfo.err = &wr.jerr.pub;
    int rc = encode(&wr, f, path, img, quality, err);
    if (rc == LIBJPEG_FAILED) {
        if (wr.jerr.pub.msg_code == JERR_FILE_WRITE)
            rc = nsti_fail(err, NST_ERR_IO, "%s: write error: %s", path,
                          strerror(wr.jerr.sys_errno));
        else if (wr.jerr.pub.msg_code == JERR_OUT_OF_MEMORY)
            rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory encoding JPEG", path);
        else if (wr.jerr.pub.msg_code == JERR_IMAGE_TOO_BIG)
            rc = nsti_fail(err, NST_ERR_LIMIT, "%s: %dx%d pixels is too large for JPEG "
                          "(at most %ld per side)", path, img->w, img->h, (long)JPEG_MAX_DIMENSION);
        else
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: cannot encode JPEG: %s", path, wr.jerr.msg);
    }
    jpeg_destroy_compress(&wr.cinfo);
    free(wr.row);
    return rc;
}
