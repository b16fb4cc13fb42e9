// animate.h: the optimization as an animated GIF (--animate FILE.gif). Frames are
// taken in the progress callback every N iterations, shrunk to at most 256 px on
// the longest side and quantised to a fixed 6x7x6 colour cube with ordered
// dithering; beyond 100 frames every other frame is dropped and N doubles, so a
// run of any length gives a bounded file. Written at the end with giflib.
#ifndef NST_CLI_ANIMATE_H
#define NST_CLI_ANIMATE_H
#include "nst.h"

#define CLI_ANIM_MAX_FRAMES 100
#define CLI_ANIM_MAX_SIDE 256

typedef struct cli_anim {
    int every;              // a frame every `every` iterations (doubles when thinned)
    int max_frames, max_side;
    int w, h;               // frame size, set by the first frame (or cli_anim_fix_size)
    int fixed;              // 1: every frame is resized to w x h
    int n;                  // frames held
    unsigned char **frames; // n frames of w*h palette indices
    int *iters;             // the iteration of each frame
} cli_anim;

// 1 when nst was built with giflib.
int cli_anim_available(void);
// Fails with NST_ERR_USAGE unless path ends in .gif.
int cli_anim_check_path(const char *path, nst_error *err);
int cli_anim_init(cli_anim *a, int every, int max_frames, int max_side, nst_error *err);
// Sets the frame size to that of a w x h picture shrunk to at most max_side, and
// resizes every frame to it: for runs whose picture grows (--scales).
void cli_anim_fix_size(cli_anim *a, int w, int h);
// In the progress callback: takes a frame when p->iter is a multiple of every.
int cli_anim_progress(cli_anim *a, const nst_progress *p, nst_error *err);
// Adds a frame of img for iteration iter (thinning first when full).
int cli_anim_add(cli_anim *a, const nst_image *img, int iter, nst_error *err);
// Writes the GIF atomically: 0.1 s per frame, the last held 2 s, looping.
int cli_anim_write(const cli_anim *a, const char *path, nst_error *err);
void cli_anim_free(cli_anim *a);

#endif
