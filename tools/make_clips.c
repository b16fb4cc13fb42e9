// make_clips.c: the two test videos of nst video's measurements, made from one picture
// (the project's own examples/content.png): a slow pan with a zoom across it, and the
// picture standing still while a textured disc moves over it (so that occlusions
// occur). Deterministic.
//
// usage: make_clips PICTURE PAN_OUT OBJECT_OUT [FRAMES [WIDTH HEIGHT]]
//        (outputs: .mp4/.webm or a picture sequence such as pan/%05d.png)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "nst.h"

// img at (x, y), bilinear, clamped at the border; channel c.
static float sample(const nst_image *img, int c, float x, float y) {
    x = fminf(fmaxf(x, 0), (float)img->w - 1.001f);
    y = fminf(fmaxf(y, 0), (float)img->h - 1.001f);
    int x0 = (int)x, y0 = (int)y;
    float fx = x - x0, fy = y - y0;
    const float *p = img->data + (size_t)c * img->w * img->h + (size_t)y0 * img->w + x0;
    return (1 - fy) * ((1 - fx) * p[0] + fx * p[1]) + fy * ((1 - fx) * p[img->w] + fx * p[img->w + 1]);
}

// Frame t of n (0..1 along the clip) of the pan: a window of 70% .. 62% of the picture
// moving from its left to its right side.
static void pan_frame(nst_image *out, const nst_image *pic, float t) {
    float zoom = 0.70f - 0.08f * t, ww = pic->w * zoom, wh = pic->h * zoom;
    float x0 = (pic->w - ww) * (0.1f + 0.8f * t), y0 = (pic->h - wh) * (0.5f - 0.2f * t);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < out->h; y++)
            for (int x = 0; x < out->w; x++)
                out->data[((size_t)c * out->h + y) * out->w + x] =
                    sample(pic, c, x0 + (x + 0.5f) * ww / out->w - 0.5f, y0 + (y + 0.5f) * wh / out->h - 0.5f);
}

// The picture still (its middle 80%), and a disc of stripes crossing it left to right.
static void object_frame(nst_image *out, const nst_image *pic, float t) {
    float ww = pic->w * 0.8f, wh = pic->h * 0.8f, x0 = pic->w * 0.1f, y0 = pic->h * 0.1f;
    float r = out->h * 0.2f, cx = out->w * (0.15f + 0.7f * t), cy = out->h * (0.5f + 0.15f * sinf(6.2832f * t));
    for (int y = 0; y < out->h; y++)
        for (int x = 0; x < out->w; x++) {
            float dx = x - cx, dy = y - cy;
            int inside = dx * dx + dy * dy < r * r;
            float stripe = 0.5f + 0.5f * sinf((dx + dy) * 0.6f);   // moves with the disc
            for (int c = 0; c < 3; c++) {
                float bg = sample(pic, c, x0 + (x + 0.5f) * ww / out->w - 0.5f, y0 + (y + 0.5f) * wh / out->h - 0.5f);
                float fg = c == 0 ? 230 * stripe + 20 : c == 1 ? 60 + 120 * stripe : 200 - 150 * stripe;
                out->data[((size_t)c * out->h + y) * out->w + x] = inside ? fg : bg;
            }
        }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: make_clips PICTURE PAN_OUT OBJECT_OUT [FRAMES [WIDTH HEIGHT]]\n");
        return 2;
    }
    int n = argc > 4 ? atoi(argv[4]) : 24, w = argc > 6 ? atoi(argv[5]) : 320, h = argc > 6 ? atoi(argv[6]) : 240;
    if (n < 2 || w < 16 || h < 16) { fprintf(stderr, "make_clips: bad frame count or size\n"); return 2; }
    nst_error err;
    nst_image pic = {0}, frame = {0};
    if (nst_image_load(&pic, argv[1], NST_DEFAULT_MAX_PIXELS, &err) || nst_image_alloc(&frame, w, h, &err)) {
        fprintf(stderr, "make_clips: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    for (int kind = 0; kind < 2 && !rc; kind++) {
        nst_video_writer *v = NULL;
        rc = nst_video_create(&v, argv[2 + kind], w, h, 24, 1, &err);
        for (int i = 0; i < n && !rc; i++) {
            float t = (float)i / (float)(n - 1);
            if (kind == 0) pan_frame(&frame, &pic, t);
            else object_frame(&frame, &pic, t);
            rc = nst_video_write(v, &frame, &err);
        }
        if (rc) nst_video_finish(v, 0, NULL);
        else rc = nst_video_finish(v, 1, &err);
    }
    if (rc) fprintf(stderr, "make_clips: %s\n", err.msg);
    nst_image_free(&pic);
    nst_image_free(&frame);
    return rc ? 1 : 0;
}
