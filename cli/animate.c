// animate.c: frames of the optimization, quantised and kept small, written as a
// looping GIF through giflib.
#include <stdio.h>
#include "animate.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef NST_HAVE_GIFLIB
#include <gif_lib.h>
#endif

// The palette: 6 levels of red, 7 of green (the eye's most sensitive), 6 of blue.
#define LR 6
#define LG 7
#define LB 6

int cli_anim_available(void) {
#ifdef NST_HAVE_GIFLIB
    return 1;
#else
    return 0;
#endif
}

int cli_anim_check_path(const char *path, nst_error *err) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot || strcasecmp(dot, ".gif"))
        return nst_error_set(err, NST_ERR_USAGE, "--animate %s: use a .gif file name", path);
    if (!cli_anim_available())
        return nst_error_set(err, NST_ERR_USAGE, "--animate: this nst was built without giflib (install libgif-dev and rebuild)");
    return NST_OK;
}

int cli_anim_init(cli_anim *a, int every, int max_frames, int max_side, nst_error *err) {
    memset(a, 0, sizeof *a);
    a->every = every > 0 ? every : 1;
    a->max_frames = max_frames > 1 ? max_frames : 2;
    a->max_side = max_side > 0 ? max_side : 1;
    a->frames = calloc((size_t)a->max_frames, sizeof *a->frames);
    a->iters = calloc((size_t)a->max_frames, sizeof *a->iters);
    if (!a->frames || !a->iters) {
        cli_anim_free(a);
        return nst_error_set(err, NST_ERR_NOMEM, "out of memory for the animation");
    }
    return NST_OK;
}

void cli_anim_free(cli_anim *a) {
    if (a->frames)
        for (int i = 0; i < a->n; i++) free(a->frames[i]);
    free(a->frames);
    free(a->iters);
    memset(a, 0, sizeof *a);
}

// 4x4 Bayer matrix: thresholds 0..15 spread evenly over every 4x4 block.
static const unsigned char bayer[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};

static int level(float v, int levels, float threshold) {
    float step = 255.0f / (levels - 1);
    if (!(v >= 0)) v = 0;          // NaN too
    if (v > 255) v = 255;
    int q = (int)floorf(v / step + threshold);
    return q < 0 ? 0 : q >= levels ? levels - 1 : q;
}

static void quantise(unsigned char *dst, const nst_image *img) {
    size_t plane = (size_t)img->w * img->h;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++) {
            size_t i = (size_t)y * img->w + x;
            float t = (bayer[y & 3][x & 3] + 0.5f) / 16.0f;   // in (0, 1): rounds up that often
            int r = level(img->data[i], LR, t), g = level(img->data[i + plane], LG, t);
            int b = level(img->data[i + 2 * plane], LB, t);
            dst[i] = (unsigned char)((r * LG + g) * LB + b);
        }
}

// Keeps frames 0, 2, 4, ... and doubles the interval: the kept frames are still
// those at multiples of the (new) interval.
static void thin(cli_anim *a) {
    int k = 0;
    for (int i = 0; i < a->n; i++) {
        if (i % 2 == 0) { a->frames[k] = a->frames[i]; a->iters[k] = a->iters[i]; k++; }
        else free(a->frames[i]);
    }
    for (int i = k; i < a->n; i++) a->frames[i] = NULL;
    a->n = k;
    a->every *= 2;
}

void cli_anim_fix_size(cli_anim *a, int w, int h) {
    int longest = w > h ? w : h;
    if (longest > a->max_side) nst_fit_size(w, h, a->max_side, &w, &h);   // as nst_image_fit rounds
    a->w = w > 0 ? w : 1;
    a->h = h > 0 ? h : 1;
    a->fixed = 1;
}

int cli_anim_add(cli_anim *a, const nst_image *img, int iter, nst_error *err) {
    int longest = img->w > img->h ? img->w : img->h;
    int side = longest < a->max_side ? longest : a->max_side;
    nst_image small = {0};
    int rc = a->fixed ? nst_image_resize(&small, img, a->w, a->h, err) : nst_image_fit(&small, img, side, err);
    if (rc) return rc;
    if (a->n && (small.w != a->w || small.h != a->h)) {
        nst_image_free(&small);
        return nst_error_set(err, NST_ERR_USAGE, "animation frames of different sizes");
    }
    unsigned char *f = malloc((size_t)small.w * small.h);
    if (!f) {
        nst_image_free(&small);
        return nst_error_set(err, NST_ERR_NOMEM, "out of memory for an animation frame");
    }
    quantise(f, &small);
    if (a->n == a->max_frames) thin(a);
    a->w = small.w;
    a->h = small.h;
    a->frames[a->n] = f;
    a->iters[a->n++] = iter;
    nst_image_free(&small);
    return NST_OK;
}

int cli_anim_progress(cli_anim *a, const nst_progress *p, nst_error *err) {
    if (p->iter % a->every) return NST_OK;
    if (a->n == a->max_frames) {   // full: thin now, and skip this one unless it fits the new interval
        thin(a);
        if (p->iter % a->every) return NST_OK;
    }
    nst_image img = {0};
    int rc = nst_progress_image(p, &img, err);
    if (!rc) rc = cli_anim_add(a, &img, p->iter, err);
    nst_image_free(&img);
    return rc;
}

#ifdef NST_HAVE_GIFLIB
static int gif_out(GifFileType *gif, const GifByteType *buf, int n) {
    return (int)fwrite(buf, 1, (size_t)n, (FILE *)gif->UserData);
}

static int put_frame(GifFileType *gif, const cli_anim *a, int i) {
    GraphicsControlBlock gcb = {DISPOSE_DO_NOT, false, i == a->n - 1 ? 200 : 10, NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_ERROR ||
        EGifPutImageDesc(gif, 0, 0, a->w, a->h, false, NULL) == GIF_ERROR)
        return GIF_ERROR;
    for (int y = 0; y < a->h; y++)
        if (EGifPutLine(gif, a->frames[i] + (size_t)y * a->w, a->w) == GIF_ERROR) return GIF_ERROR;
    return GIF_OK;
}
#endif

int cli_anim_write(const cli_anim *a, const char *path, nst_error *err) {
    int rc = cli_anim_check_path(path, err);
    if (rc) return rc;
    if (a->n == 0) return nst_error_set(err, NST_ERR_USAGE, "%s: no frames to write", path);
#ifdef NST_HAVE_GIFLIB
    GifColorType colors[256];
    memset(colors, 0, sizeof colors);
    for (int r = 0; r < LR; r++)
        for (int g = 0; g < LG; g++)
            for (int b = 0; b < LB; b++) {
                GifColorType *c = &colors[(r * LG + g) * LB + b];
                c->Red = (GifByteType)lroundf(r * 255.0f / (LR - 1));
                c->Green = (GifByteType)lroundf(g * 255.0f / (LG - 1));
                c->Blue = (GifByteType)lroundf(b * 255.0f / (LB - 1));
            }
    ColorMapObject *cmap = GifMakeMapObject(256, colors);
    if (!cmap) return nst_error_set(err, NST_ERR_NOMEM, "%s: out of memory", path);
    nst_atomic_file af;
    if ((rc = nst_atomic_open(&af, path, err))) { GifFreeMapObject(cmap); return rc; }
    int gerr = 0, ok = 0;
    GifFileType *gif = EGifOpen(af.f, gif_out, &gerr);
    if (gif) {
        EGifSetGifVersion(gif, true);
        static const GifByteType loop[3] = {1, 0, 0};   // loop forever
        ok = EGifPutScreenDesc(gif, a->w, a->h, 8, 0, cmap) != GIF_ERROR &&
             EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) != GIF_ERROR &&
             EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0") != GIF_ERROR &&
             EGifPutExtensionBlock(gif, 3, loop) != GIF_ERROR &&
             EGifPutExtensionTrailer(gif) != GIF_ERROR;
        for (int i = 0; ok && i < a->n; i++) ok = put_frame(gif, a, i) != GIF_ERROR;
        if (!ok) gerr = gif->Error;
        int cerr = 0;
        if (EGifCloseFile(gif, &cerr) == GIF_ERROR && ok) { ok = 0; gerr = cerr; }
    }
    GifFreeMapObject(cmap);
    ok = ok && !ferror(af.f);
    rc = nst_atomic_close(&af, ok, err);
    if (!ok && rc == NST_OK)
        rc = nst_error_set(err, NST_ERR_IO, "%s: cannot write the animation: %s", path,
                      gerr ? GifErrorString(gerr) : "write error");
    return rc;
#else
    return nst_error_set(err, NST_ERR_USAGE, "%s: this nst was built without giflib", path);
#endif
}
