// video_io.c: nst_video_* (nst.h), dispatching to picture sequences or to FFmpeg
// (through the video plugin, plugin.h, loaded by the first video file).
#include <stdlib.h>
#include "video/plugin.h"

struct nst_video_reader {
    nsti_seq_reader *seq;
    nsti_ff_reader *ff;
    const nsti_video_plugin *vp;   // ff's
};

struct nst_video_writer {
    nsti_seq_writer *seq;
    nsti_ff_writer *ff;
    const nsti_video_plugin *vp;   // ff's
};

// *vp: the plugin with FFmpeg in it; else the reason (path: the video file).
static int with_ffmpeg(const nsti_video_plugin **vp, const char *path, nst_error *err) {
#ifdef NST_HAVE_FFMPEG
    int rc = nsti_video_plugin_load(vp, err);
    if (rc || (*vp)->ff_open) return rc;
#endif
    *vp = NULL;
    return nsti_fail(err, NST_ERR_USAGE, "%s: built without FFmpeg: only picture sequences such as frames/%%05d.png",
                     path);
}

int nst_video_available(void) {
#ifdef NST_HAVE_FFMPEG
    const nsti_video_plugin *vp;
    return nsti_video_plugin_load(&vp, NULL) == NST_OK && vp->ff_open;
#else
    return 0;
#endif
}

int nst_video_plugin_check(nst_error *err) {
    const nsti_video_plugin *vp;
    return nsti_video_plugin_load(&vp, err);
}

int nst_video_is_sequence(const char *path) { return path && nsti_seq_is_pattern(path); }

int nst_video_open(nst_video_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                   nst_error *err) {
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "nst_video_open: no place for the reader");
    *out = NULL;
    if (!path || !*path) return nsti_fail(err, NST_ERR_USAGE, "nst_video_open: no file name");
    nst_video_info local = {0, 0, 0, 0, 0};
    if (!info) info = &local;
    *info = local;
    nst_video_reader *r = calloc(1, sizeof *r);
    if (!r) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    int rc;
    if (nst_video_is_sequence(path)) rc = nsti_seq_open(&r->seq, path, max_pixels, info, err);
    else if (!(rc = with_ffmpeg(&r->vp, path, err))) rc = r->vp->ff_open(&r->ff, path, max_pixels, info, err);
    if (rc) {
        free(r);
        *info = local;
        return rc;
    }
    *out = r;
    return NST_OK;
}

int nst_video_read(nst_video_reader *r, nst_image *frame, nst_error *err) {
    if (!frame) return nsti_fail(err, NST_ERR_USAGE, "nst_video_read: no frame to fill");
    frame->w = frame->h = 0;
    frame->data = NULL;
    if (!r) return nsti_fail(err, NST_ERR_USAGE, "nst_video_read: no reader");
    return r->seq ? nsti_seq_read(r->seq, frame, err) : r->vp->ff_read(r->ff, frame, err);
}

void nst_video_close(nst_video_reader *r) {
    if (!r) return;
    if (r->seq) nsti_seq_close(r->seq);
    if (r->ff) r->vp->ff_close(r->ff);
    free(r);
}

int nst_video_create(nst_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                     nst_error *err) {
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "nst_video_create: no place for the writer");
    *out = NULL;
    if (!path || !*path) return nsti_fail(err, NST_ERR_USAGE, "nst_video_create: no file name");
    if (w <= 0 || h <= 0 || w > NSTI_VIDEO_MAX_SIDE || h > NSTI_VIDEO_MAX_SIDE)
        return nsti_fail(err, NST_ERR_USAGE, "%s: invalid frame size %dx%d (1 to %d pixels a side)", path, w,
                         h, NSTI_VIDEO_MAX_SIDE);
    if (fps_num <= 0 || fps_den <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "%s: invalid frame rate %d/%d", path, fps_num, fps_den);
    nst_video_writer *v = calloc(1, sizeof *v);
    if (!v) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    int rc;
    if (nst_video_is_sequence(path)) rc = nsti_seq_create(&v->seq, path, w, h, err);
    else if (!(rc = with_ffmpeg(&v->vp, path, err))) rc = v->vp->ff_create(&v->ff, path, w, h, fps_num, fps_den, err);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    return NST_OK;
}

int nst_video_write(nst_video_writer *v, const nst_image *frame, nst_error *err) {
    if (!v) return nsti_fail(err, NST_ERR_USAGE, "nst_video_write: no writer");
    return v->seq ? nsti_seq_write(v->seq, frame, err) : v->vp->ff_write(v->ff, frame, err);
}

int nst_video_finish(nst_video_writer *v, int ok, nst_error *err) {
    if (!v) return NST_OK;
    int rc = v->seq ? nsti_seq_finish(v->seq, ok, err) : v->vp->ff_finish(v->ff, ok, err);
    free(v);
    return rc;
}
