// ffmpeg_write.c: video files written through FFmpeg's libraries (in the video plugin, plugin.h).
//
// .mp4, .mov, .mkv: H.264 (libx264, crf 18; FFmpeg's mpeg4 encoder where
// libx264 is missing); .webm: VP9 (libvpx-vp9, crf 30). One encoder thread, libx264
// without its macroblock tree (which reads memory it has not set, so that its choices
// depended on what the heap held before) and a bitexact muxer, so that the same frames
// give the same file from one run to the next. Frame i has pts i in time base
// fps_den/fps_num.
// The muxer writes through an AVIOContext into nst_atomic_open's temporary file,
// which nsti_ff_finish renames into place.
#include "video/video.h"

#ifdef NST_HAVE_FFMPEG
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include "util/atomic_file.h"

#define RGB_PADDING 64   // swscale may read past a row's end (as in the reader)

struct nsti_ff_writer {
    char *path;
    nst_atomic_file af;
    AVFormatContext *fmt;
    AVIOContext *io;
    AVCodecContext *enc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    uint8_t *rgb;
    int w, h;
    long long n;
    int failed;
};

static int write_cb(void *opaque, uint8_t *buf, int size) {
    FILE *f = opaque;
    return size > 0 && fwrite(buf, 1, (size_t)size, f) != (size_t)size ? AVERROR(EIO) : size;
}

static int64_t seek_cb(void *opaque, int64_t offset, int whence) {
    FILE *f = opaque;
    if (whence & AVSEEK_SIZE) {
        struct stat st;
        if (fflush(f) != 0 || fstat(fileno(f), &st) != 0) return AVERROR(EIO);
        return st.st_size;
    }
    whence &= ~AVSEEK_FORCE;
    if (fseeko(f, (off_t)offset, whence) != 0) return AVERROR(errno);
    return ftello(f);
}

static void free_writer(nsti_ff_writer *v) {
    avcodec_free_context(&v->enc);
    avformat_free_context(v->fmt);
    if (v->io) av_freep(&v->io->buffer);
    avio_context_free(&v->io);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    sws_freeContext(v->sws);
    av_free(v->rgb);
    if (v->af.f) nst_atomic_close(&v->af, 0, NULL);
    free(v->path);
    free(v);
}

// Sends frame (NULL: flush) to the encoder and muxes what comes out.
static int encode(nsti_ff_writer *v, AVFrame *frame, nst_error *err) {
    char msg[128];
    int e = avcodec_send_frame(v->enc, frame);
    if (e < 0) return nsti_fail(err, NST_ERR_IO, "%s: cannot encode frame %lld (%s)", v->path, v->n + 1,
                                nsti_ff_error_text(e, msg, sizeof msg));
    for (;;) {
        e = avcodec_receive_packet(v->enc, v->pkt);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return NST_OK;
        if (e < 0) return nsti_fail(err, NST_ERR_IO, "%s: cannot encode frame %lld (%s)", v->path, v->n + 1,
                                    nsti_ff_error_text(e, msg, sizeof msg));
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        e = av_interleaved_write_frame(v->fmt, v->pkt);
        av_packet_unref(v->pkt);
        if (e < 0) return nsti_fail(err, NST_ERR_IO, "%s: write error (%s)", v->path, nsti_ff_error_text(e, msg, sizeof msg));
    }
}

int nsti_ff_create(nsti_ff_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                   nst_error *err) {
    *out = NULL;
    nsti_ff_quiet();
    char msg[128];
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    const char *muxer = NULL;
    int vp9 = 0;
    if (dot && !strcasecmp(dot, ".mp4")) muxer = "mp4";
    else if (dot && !strcasecmp(dot, ".mov")) muxer = "mov";
    else if (dot && !strcasecmp(dot, ".mkv")) muxer = "matroska";
    else if (dot && !strcasecmp(dot, ".webm")) { muxer = "webm"; vp9 = 1; }
    if (!muxer)
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s; use .mp4, .mov, .mkv or .webm, or a picture sequence such "
                         "as frames/%%05d.png", path, dot ? "unsupported extension" : "no file extension");
    if (w % 2 || h % 2)
        return nsti_fail(err, NST_ERR_USAGE, "%s: %s needs an even width and height, not %dx%d", path,
                         vp9 ? "VP9" : "H.264", w, h);
    const AVCodec *codec = vp9 ? avcodec_find_encoder_by_name("libvpx-vp9") : avcodec_find_encoder_by_name("libx264");
    if (!codec && !vp9) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (!codec)
        return nsti_fail(err, NST_ERR_USAGE, "%s: this FFmpeg has no %s encoder", path,
                         vp9 ? "VP9 (libvpx-vp9)" : "H.264 (libx264) or MPEG-4");
    if (codec->id == AV_CODEC_ID_MPEG4 && fps_num > 65535)
        return nsti_fail(err, NST_ERR_USAGE, "%s: frame rate %d/%d too fine for MPEG-4", path, fps_num, fps_den);

    nsti_ff_writer *v = calloc(1, sizeof *v);
    if (v) v->path = strdup(path);
    if (!v || !v->path) {
        free(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    v->w = w;
    v->h = h;
    int e = avformat_alloc_output_context2(&v->fmt, NULL, muxer, NULL);
    v->enc = avcodec_alloc_context3(codec);
    v->frame = av_frame_alloc();
    v->pkt = av_packet_alloc();
    v->rgb = av_mallocz((size_t)w * h * 3 + RGB_PADDING);   // swscale may read a little past the end
    v->sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC | SWS_ACCURATE_RND, NULL,
                            NULL, NULL);
    if (e < 0 || !v->fmt || !v->enc || !v->frame || !v->pkt || !v->rgb || !v->sws) {
        free_writer(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = nst_atomic_open(&v->af, path, err);
    if (rc) {
        free_writer(v);
        return rc;
    }
    unsigned char *buf = av_malloc(1 << 16);
    if (!buf || !(v->io = avio_alloc_context(buf, 1 << 16, 1, v->af.f, NULL, write_cb, seek_cb))) {
        av_free(buf);
        free_writer(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    v->fmt->pb = v->io;
    // bitexact: no random Matroska UIDs, no version tags: the same frames, the same bytes
    v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_BITEXACT;

    AVCodecContext *c = v->enc;
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){fps_den, fps_num};
    c->framerate = (AVRational){fps_num, fps_den};
    c->sample_aspect_ratio = (AVRational){1, 1};
    c->thread_count = 1;
    c->color_range = AVCOL_RANGE_MPEG;   // what swscale's RGB24 -> YUV420P gives: BT.601, limited range
    c->colorspace = AVCOL_SPC_SMPTE170M;
    c->color_primaries = AVCOL_PRI_SMPTE170M;
    c->color_trc = AVCOL_TRC_SMPTE170M;
    if (v->fmt->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    if (vp9) {
        c->bit_rate = 0;
        av_dict_set(&opts, "crf", "30", 0);
        av_dict_set(&opts, "deadline", "good", 0);
        av_dict_set(&opts, "cpu-used", "5", 0);
        av_dict_set(&opts, "row-mt", "0", 0);
    } else if (codec->id == AV_CODEC_ID_H264) {
        av_dict_set(&opts, "crf", "18", 0);
        av_dict_set(&opts, "preset", "fast", 0);
        // Without the macroblock tree: with it, libx264 0.164 reads memory it has not set (the
        // same frames gave a different file in 4 of 5 runs of `nst video`, never with it off).
        av_dict_set(&opts, "mbtree", "0", 0);
    } else {   // mpeg4
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = FF_QP2LAMBDA * 3;
        c->gop_size = 12;
    }
    e = avcodec_open2(c, codec, &opts);
    av_dict_free(&opts);
    if (e < 0) {
        free_writer(v);
        return nsti_fail(err, NST_ERR_USAGE, "%s: cannot open the %s encoder (%s)", path, codec->name,
                         nsti_ff_error_text(e, msg, sizeof msg));
    }
    if (!(v->st = avformat_new_stream(v->fmt, NULL)) || avcodec_parameters_from_context(v->st->codecpar, c) < 0) {
        free_writer(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    v->st->time_base = c->time_base;
    v->st->avg_frame_rate = c->framerate;
    v->st->r_frame_rate = c->framerate;
    if ((e = avformat_write_header(v->fmt, NULL)) < 0) {
        free_writer(v);
        return nsti_fail(err, NST_ERR_IO, "%s: cannot write the %s header (%s)", path, muxer,
                         nsti_ff_error_text(e, msg, sizeof msg));
    }
    v->frame->format = AV_PIX_FMT_YUV420P;
    v->frame->width = w;
    v->frame->height = h;
    if (av_frame_get_buffer(v->frame, 0) < 0) {
        free_writer(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    *out = v;
    return NST_OK;
}

int nsti_ff_write(nsti_ff_writer *v, const nst_image *frame, nst_error *err) {
    if (v->failed) return nsti_fail(err, NST_ERR_USAGE, "%s: an earlier write failed", v->path);
    if (!frame || !frame->data || frame->w != v->w || frame->h != v->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: frame is %dx%d, the video's frames %dx%d", v->path,
                         frame ? frame->w : 0, frame ? frame->h : 0, v->w, v->h);
    if (v->n >= NST_VIDEO_MAX_FRAMES)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d frames", v->path, NST_VIDEO_MAX_FRAMES);
    size_t n = (size_t)v->w * v->h;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            float x = frame->data[c * n + i];
            v->rgb[3 * i + c] = x >= 255.f ? 255 : x > 0.f ? (uint8_t)lrintf(x) : 0;   // NaN: 0
        }
    int e = av_frame_make_writable(v->frame);
    if (e < 0) {
        v->failed = 1;
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", v->path);
    }
    const uint8_t *src[4] = {v->rgb, NULL, NULL, NULL};
    int stride[4] = {v->w * 3, 0, 0, 0};
    sws_scale(v->sws, src, stride, 0, v->h, v->frame->data, v->frame->linesize);
    v->frame->pts = v->n;
    int rc = encode(v, v->frame, err);
    if (rc) {
        v->failed = 1;
        return rc;
    }
    v->n++;
    return NST_OK;
}

int nsti_ff_finish(nsti_ff_writer *v, int ok, nst_error *err) {
    char msg[128];
    int rc = NST_OK;
    if (ok && v->failed) rc = nsti_fail(err, NST_ERR_USAGE, "%s: not written: an earlier write failed", v->path);
    else if (ok && v->n == 0) rc = nsti_fail(err, NST_ERR_USAGE, "%s: not written: no frames", v->path);
    if (ok && rc == NST_OK) rc = encode(v, NULL, err);
    if (ok && rc == NST_OK) {
        int e = av_write_trailer(v->fmt);
        avio_flush(v->io);
        if (e >= 0 && v->io->error < 0) e = v->io->error;
        if (e < 0) rc = nsti_fail(err, NST_ERR_IO, "%s: write error (%s)", v->path, nsti_ff_error_text(e, msg, sizeof msg));
    }
    if (v->af.f) {
        int crc = nst_atomic_close(&v->af, ok && rc == NST_OK, rc ? NULL : err);
        if (rc == NST_OK) rc = crc;
    }
    free_writer(v);
    return rc;
}

#endif
