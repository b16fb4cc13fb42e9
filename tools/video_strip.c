// video_strip.c: a strip of frames for the README: one row per clip given (content,
// then each stylization), the same frames in every row, with a small gap between them.
//
// usage: video_strip OUT.png FRAMES_TO_SHOW [--width W] CLIP [CLIP...]
//        (FRAMES_TO_SHOW: how many frames, evenly spread from the first to the last;
//        W: each frame's width, default the first clip's)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nst.h"

#define GAP 4
#define MAX_CLIPS 8
#define MAX_SHOWN 12

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: video_strip OUT.png FRAMES_TO_SHOW [--width W] CLIP [CLIP...]\n");
        return 2;
    }
    int first = 3, width = 0;
    if (!strcmp(argv[3], "--width") && argc > 5) { width = atoi(argv[4]); first = 5; }
    int shown = atoi(argv[2]), rows = argc - first;
    if (shown < 1 || shown > MAX_SHOWN || rows < 1 || rows > MAX_CLIPS || (first == 5 && width < 16)) { fprintf(stderr, "video_strip: 1..12 frames, 1..8 clips\n"); return 2; }
    nst_error err = {0};
    nst_image sheet = {0}, frame = {0}, fitted = {0};
    int rc = 0, cw = 0, ch = 0;
    for (int r = 0; r < rows && !rc; r++) {
        nst_video_reader *v = NULL;
        nst_video_info info;
        if ((rc = nst_video_open(&v, argv[first + r], NST_DEFAULT_MAX_PIXELS, &info, &err))) break;
        if (r == 0) {   // every row at the first clip's frame size (or --width wide)
            cw = width > 0 ? width : info.w;
            ch = width > 0 ? (int)((long long)info.h * width / info.w) : info.h;
            rc = nst_image_alloc(&sheet, shown * cw + (shown - 1) * GAP, rows * ch + (rows - 1) * GAP, &err);
            if (!rc) for (size_t k = 0; k < (size_t)3 * sheet.w * sheet.h; k++) sheet.data[k] = 255;
        }
        for (int i = 0, col = 0; i < info.n_frames && !rc && col < shown; i++) {
            nst_image_free(&frame);
            if ((rc = nst_video_read(v, &frame, &err))) break;
            int want = shown == 1 ? 0 : (int)((long long)col * (info.n_frames - 1) / (shown - 1));
            if (i != want) continue;
            nst_image_free(&fitted);
            if ((rc = nst_image_resize(&fitted, &frame, cw, ch, &err))) break;
            int x0 = col * (cw + GAP), y0 = r * (ch + GAP);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < ch; y++)
                    memcpy(sheet.data + ((size_t)c * sheet.h + y0 + y) * sheet.w + x0,
                           fitted.data + ((size_t)c * ch + y) * cw, sizeof(float) * cw);
            col++;
        }
        nst_video_close(v);
    }
    if (!rc) rc = nst_image_save(&sheet, argv[1], &err);
    if (rc) fprintf(stderr, "video_strip: %s\n", err.msg);
    nst_image_free(&sheet); nst_image_free(&frame); nst_image_free(&fitted);
    return rc ? 1 : 0;
}
