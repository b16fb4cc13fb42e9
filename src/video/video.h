// video.h: the two kinds of video behind nst_video_* (video_io.c dispatches):
// picture sequences (video_sequence.c) and video files through FFmpeg's libraries
// (plugin/ffmpeg_read.c and ffmpeg_write.c, in the video plugin: plugin.h).
#ifndef NST_VIDEO_H
#define NST_VIDEO_H
#include "util/status.h"

// Side limit of a frame (either kind), besides the caller's max_pixels.
#define NSTI_VIDEO_MAX_SIDE 16384

// ---- picture sequences ----
typedef struct nsti_seq_reader nsti_seq_reader;
typedef struct nsti_seq_writer nsti_seq_writer;
// 1 when path holds a '%' other than "%%" (meant as a pattern), else 0.
int nsti_seq_is_pattern(const char *path);
// Checks a pattern: exactly one %d or %0Nd (N <= 20), every other '%' doubled.
int nsti_seq_check_pattern(const char *path, nst_error *err);
// The file name of frame `number` (malloc'd), or NULL when out of memory.
char *nsti_seq_name(const char *pattern, long long number);
int nsti_seq_open(nsti_seq_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                  nst_error *err);
int nsti_seq_read(nsti_seq_reader *r, nst_image *frame, nst_error *err);
void nsti_seq_close(nsti_seq_reader *r);
int nsti_seq_create(nsti_seq_writer **out, const char *path, int w, int h, nst_error *err);
int nsti_seq_write(nsti_seq_writer *v, const nst_image *frame, nst_error *err);
int nsti_seq_finish(nsti_seq_writer *v, int ok, nst_error *err);

// ---- video files (FFmpeg; in the plugin, which libnst calls through its table) ----
typedef struct nsti_ff_reader nsti_ff_reader;
typedef struct nsti_ff_writer nsti_ff_writer;
int nsti_ff_open(nsti_ff_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                 nst_error *err);
int nsti_ff_read(nsti_ff_reader *r, nst_image *frame, nst_error *err);
void nsti_ff_close(nsti_ff_reader *r);
int nsti_ff_create(nsti_ff_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                   nst_error *err);
int nsti_ff_write(nsti_ff_writer *v, const nst_image *frame, nst_error *err);
int nsti_ff_finish(nsti_ff_writer *v, int ok, nst_error *err);
// What the two FFmpeg files share (built with FFmpeg only): FFmpeg's log level set to
// quiet, once for the process; an FFmpeg error code in words, into buf.
void nsti_ff_quiet(void);
const char *nsti_ff_error_text(int e, char *buf, size_t n);

#endif
