// temporal_error.c: how much a stylized video flickers. For each frame i > 0: the mean
// squared difference (0..255 units, over the three channels) between stylized frame i
// and stylized frame i-1 warped to it along the optical flow of the CONTENT frames,
// over the pixels whose flow is consistent (nst_flow_consistency). The content frames
// are resized to the stylized frames' size first.
//
// usage: temporal_error CONTENT STYLIZED   (videos or picture sequences)
// prints one line per frame, then "mean temporal error X over N frames (kept K%)"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "nst.h"

typedef struct clip { nst_video_reader *r; nst_video_info info; } clip;

static int open_clip(clip *c, const char *path, nst_error *err) {
    return nst_video_open(&c->r, path, NST_DEFAULT_MAX_PIXELS, &c->info, err);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: temporal_error CONTENT STYLIZED\n");
        return 2;
    }
    nst_error err = {0};
    clip content = {0}, styl = {0};
    nst_image prev_c = {0}, prev_s = {0}, cur_c = {0}, cur_s = {0}, raw = {0}, warped = {0}, mask = {0};
    nst_flow back = {0}, fwd = {0};
    int rc = open_clip(&content, argv[1], &err);
    if (!rc) rc = open_clip(&styl, argv[2], &err);
    if (!rc && content.info.n_frames != styl.info.n_frames)
        rc = nst_error_set(&err, NST_ERR_USAGE, "%s has %d frames, %s %d", argv[1], content.info.n_frames, argv[2],
                           styl.info.n_frames);
    double total = 0, kept_total = 0;
    int n = rc ? 0 : styl.info.n_frames;
    for (int i = 0; i < n && !rc; i++) {
        nst_image_free(&cur_c);
        nst_image_free(&cur_s);
        if ((rc = nst_video_read(content.r, &raw, &err)) ||
            (rc = nst_image_resize(&cur_c, &raw, styl.info.w, styl.info.h, &err)) ||
            (rc = nst_video_read(styl.r, &cur_s, &err)))
            break;
        nst_image_free(&raw);
        if (i > 0) {
            nst_flow_free(&back); nst_flow_free(&fwd); nst_image_free(&warped); nst_image_free(&mask);
            if ((rc = nst_flow_compute(&back, &cur_c, &prev_c, &err)) || (rc = nst_flow_compute(&fwd, &prev_c, &cur_c, &err)) ||
                (rc = nst_flow_warp(&warped, &prev_s, &back, &err)) || (rc = nst_flow_consistency(&mask, &back, &fwd, &err)))
                break;
            size_t npix = (size_t)cur_s.w * cur_s.h;
            double sum = 0, kept = 0;
            for (size_t k = 0; k < npix; k++) {
                double m = mask.data[k] / 255.0;
                for (int c = 0; c < 3; c++) {
                    double d = cur_s.data[c * npix + k] - warped.data[c * npix + k];
                    sum += m * d * d / 3.0;
                }
                kept += m;
            }
            double e = kept > 0 ? sum / kept : 0;
            printf("frame %d: temporal error %.2f (kept %.1f%%)\n", i + 1, e, 100.0 * kept / (double)npix);
            total += e;
            kept_total += kept / (double)npix;
        }
        nst_image_free(&prev_c); nst_image_free(&prev_s);
        prev_c = cur_c; prev_s = cur_s;
        cur_c = (nst_image){0}; cur_s = (nst_image){0};
    }
    if (!rc && n > 1)
        printf("mean temporal error %.3f over %d frames (kept %.1f%%)\n", total / (n - 1), n - 1, 100.0 * kept_total / (n - 1));
    if (rc) fprintf(stderr, "temporal_error: %s\n", err.msg);
    nst_image_free(&prev_c); nst_image_free(&prev_s); nst_image_free(&cur_c); nst_image_free(&cur_s);
    nst_image_free(&raw); nst_image_free(&warped); nst_image_free(&mask);
    nst_flow_free(&back); nst_flow_free(&fwd);
    nst_video_close(content.r);
    nst_video_close(styl.r);
    return rc ? 1 : 0;
}
