// video_frames.h: nst video's working directory, OUT.frames/: each finished frame as a
// PNG (the exact 8-bit picture the next frame starts from) with its loss terms in a JSON
// file beside it, and run.json, the options of the run that wrote them. A run started
// again with the same options goes on after the last finished frame; one with other
// options is refused. Removed once the output is written.
#ifndef NST_CLI_VIDEO_FRAMES_H
#define NST_CLI_VIDEO_FRAMES_H
#include "nst.h"
#include <jansson.h>

typedef struct cli_frames {
    char dir[4200];
    int done;          // frames 1..done were finished by an earlier run
} cli_frames;

// Creates (or reopens) OUTPUT.frames/ for a run whose options are record (JSON text).
int cli_frames_open(cli_frames *f, const char *output, const char *record, nst_error *err);
// "OUTPUT.frames/00012.png" for frame index i (0-based).
void cli_frames_path(const cli_frames *f, int i, const char *ext, char *buf, size_t n);
// Frame i and the loss terms it ended with (the PNG first: the JSON file marks it finished).
int cli_frames_save(const cli_frames *f, int i, const nst_image *img, const nst_progress *last, nst_error *err);
// Frame i's terms as a JSON object (a new reference), or NULL after setting err.
json_t *cli_frames_result(const cli_frames *f, int i, nst_error *err);
// Removes the directory and the files nst put there.
void cli_frames_remove(const cli_frames *f, int n_frames);

#endif
