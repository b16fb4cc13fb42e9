// ffmpeg_read.c: video files read through FFmpeg's libraries (in the video plugin, plugin.h).
//
// Reading. Only the demuxers of FORMATS and the decoders of DECODERS are used
// (FFmpeg knows hundreds; each is attack surface), only through the file protocol.
// A frame's size is checked against max_pixels and NSTI_VIDEO_MAX_SIDE before any
// picture is decoded (the container's header) and by the decoder itself
// (AVCodecContext.max_pixels) for every frame. nsti_ff_open decodes every frame once:
// fewer packets than the header declares (MP4), a read or decode error, or frames
// missing from the declared duration (Matroska) make the file truncated or damaged.
// Reading then starts afresh from a second opening. Frames are converted by swscale
// to RGB24 (BT.601 unless the stream says BT.709) and then to float planes.
//
// The library never prints: FFmpeg's log level is set to quiet once, for the process
// (nsti_ff_quiet, which the writer calls too).
#include "video/video.h"

#ifdef NST_HAVE_FFMPEG
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

// Demuxers (AVInputFormat names) and decoders (AVCodec names) a video file may use.
#define FORMATS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
#define DECODERS "h264,hevc,vp8,vp9,libdav1d,mpeg4,mjpeg,png,rawvideo"
#define FORMATS_IN_WORDS "MP4, MOV, MKV, WebM or AVI"
#define PROBE_BYTES 4096
#define RGB_PADDING 64


static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static void quiet(void) { av_log_set_level(AV_LOG_QUIET); }
void nsti_ff_quiet(void) { pthread_once(&quiet_once, quiet); }


const char *nsti_ff_error_text(int e, char *buf, size_t n) {
    if (av_strerror(e, buf, n) < 0) snprintf(buf, n, "error %d", e);
    return buf;
}

// ---- reading ---------------------------------------------------------------------

struct nsti_ff_reader {
    char *path;
    long long max_pixels;   // <= 0: no limit but NSTI_VIDEO_MAX_SIDE
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    uint8_t *rgb;
    int stream;
    int w, h;                // 0 until known
    int demux_done, flushed;
    long long packets;       // of the video stream, read so far (discarded ones too)
    int64_t end_pts;         // the largest pts + duration of its packets, AV_NOPTS_VALUE when none
    long long count, next;   // frames counted when opened; frames returned
};

static void close_input(nsti_ff_reader *r) {
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    av_packet_free(&r->pkt);
    av_frame_free(&r->frame);
    r->demux_done = r->flushed = 0;
    r->packets = 0;
    r->end_pts = AV_NOPTS_VALUE;
}

void nsti_ff_close(nsti_ff_reader *r) {
    if (!r) return;
    close_input(r);
    sws_freeContext(r->sws);
    av_free(r->rgb);
    free(r->path);
    free(r);
}

static int check_size(const nsti_ff_reader *r, long long w, long long h, nst_error *err) {
    if (w > NSTI_VIDEO_MAX_SIDE || h > NSTI_VIDEO_MAX_SIDE)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: frames of %lldx%lld pixels: more than %d pixels a side",
                         r->path, w, h, NSTI_VIDEO_MAX_SIDE);
    if (r->max_pixels > 0 && w * h > r->max_pixels)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: frames of %lldx%lld pixels exceed the limit of %lld (--max-pixels)",
                         r->path, w, h, r->max_pixels);
    return NST_OK;
}

// Why avformat_open_input failed: the format the first bytes show, if any.
static int explain_open_failure(const nsti_ff_reader *r, int e, nst_error *err) {
    char msg[128];
    nsti_ff_error_text(e, msg, sizeof msg);
    if (e == AVERROR(ENOENT) || e == AVERROR(EACCES) || e == AVERROR(EISDIR) || e == AVERROR(EIO))
        return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", r->path, msg);
    if (e == AVERROR(ENOMEM)) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
    uint8_t *buf = av_mallocz(PROBE_BYTES + AVPROBE_PADDING_SIZE);
    if (!buf) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
    size_t n = 0;
    FILE *f = fopen(r->path, "rb");
    if (f) {
        n = fread(buf, 1, PROBE_BYTES, f);
        fclose(f);
    }
    AVProbeData pd = {"", buf, (int)n, NULL};   // by content: the name's extension would match anything
    int score = AVPROBE_SCORE_RETRY;
    const AVInputFormat *fmt = av_probe_input_format2(&pd, 1, &score);
    int rc;
    if (fmt && av_match_list(fmt->name, FORMATS, ',') > 0)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file (%s)", r->path, msg);
    else if (fmt)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: not a video file nst reads (it looks like %s; use %s)", r->path,
                       fmt->long_name ? fmt->long_name : fmt->name, FORMATS_IN_WORDS);
    else
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: not a video file (no %s container found)", r->path,
                       FORMATS_IN_WORDS);
    av_free(buf);
    return rc;
}

static const AVCodec *find_decoder(enum AVCodecID id) {
    const AVCodec *c = id == AV_CODEC_ID_AV1 ? avcodec_find_decoder_by_name("libdav1d") : avcodec_find_decoder(id);
    return c && av_match_list(c->name, DECODERS, ',') > 0 ? c : NULL;
}

// Opens the container and the decoder of its first video stream (r->fmt, r->dec).
static int open_input(nsti_ff_reader *r, nst_error *err) {
    char msg[128];
    r->end_pts = AV_NOPTS_VALUE;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "format_whitelist", FORMATS, 0);
    av_dict_set(&opts, "codec_whitelist", DECODERS, 0);
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    int e = avformat_open_input(&r->fmt, r->path, NULL, &opts);
    av_dict_free(&opts);
    if (e < 0) return explain_open_failure(r, e, err);

    r->stream = -1;
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
        const AVStream *st = r->fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            r->stream = (int)i;
            break;
        }
    }
    if (r->stream < 0) {   // audio alone; else an MP4 cut in its index (at the end) shows a stream of unknown data
        int audio = 0;
        for (unsigned i = 0; i < r->fmt->nb_streams; i++)
            audio |= r->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
        return nsti_fail(err, NST_ERR_FORMAT, audio ? "%s: has no video stream (audio only)"
                                                    : "%s: has no video stream: cut short or damaged", r->path);
    }
    AVStream *st = r->fmt->streams[r->stream];
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        if ((int)i != r->stream) r->fmt->streams[i]->discard = AVDISCARD_ALL;
    const AVCodec *codec = find_decoder(st->codecpar->codec_id);
    if (!codec)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: video codec %s is not supported (H.264, HEVC, VP8, VP9, AV1, "
                         "MPEG-4, MJPEG, PNG or raw)", r->path, avcodec_get_name(st->codecpar->codec_id));
    int rc = check_size(r, st->codecpar->width, st->codecpar->height, err);
    if (rc) return rc;
    if (st->nb_frames > NST_VIDEO_MAX_FRAMES)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: %lld frames: more than %d", r->path, (long long)st->nb_frames,
                         NST_VIDEO_MAX_FRAMES);

    long long limit = (long long)NSTI_VIDEO_MAX_SIDE * NSTI_VIDEO_MAX_SIDE;
    if (r->max_pixels > 0 && r->max_pixels < limit) limit = r->max_pixels;
    // Parameters the header lacks come from the first packets, decoded under the limits.
    AVDictionary **sopts = av_calloc(r->fmt->nb_streams, sizeof *sopts);
    if (!sopts) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
        av_dict_set_int(&sopts[i], "max_pixels", limit, 0);
        av_dict_set(&sopts[i], "threads", "1", 0);
    }
    e = avformat_find_stream_info(r->fmt, sopts);
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) av_dict_free(&sopts[i]);
    av_free(sopts);
    if (e < 0) return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file (%s)", r->path,
                                nsti_ff_error_text(e, msg, sizeof msg));
    if ((rc = check_size(r, st->codecpar->width, st->codecpar->height, err))) return rc;

    r->dec = avcodec_alloc_context3(codec);
    r->pkt = av_packet_alloc();
    r->frame = av_frame_alloc();
    if (!r->dec || !r->pkt || !r->frame) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
    if ((e = avcodec_parameters_to_context(r->dec, st->codecpar)) < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: video stream unusable (%s)", r->path, nsti_ff_error_text(e, msg, sizeof msg));
    r->dec->thread_count = 1;
    r->dec->max_pixels = limit;
    r->dec->pkt_timebase = st->time_base;
    if ((e = av_opt_set(r->dec, "codec_whitelist", DECODERS, 0)) < 0 || (e = avcodec_open2(r->dec, codec, NULL)) < 0)
        return nsti_fail(err, e == AVERROR(ENOMEM) ? NST_ERR_NOMEM : NST_ERR_FORMAT,
                         "%s: cannot decode its %s video (%s)", r->path, avcodec_get_name(st->codecpar->codec_id),
                         nsti_ff_error_text(e, msg, sizeof msg));
    return NST_OK;
}

// Why decoding failed at error e: the size limits, else damage.
static int decode_failure(const nsti_ff_reader *r, int e, nst_error *err) {
    char msg[128];
    if (e == AVERROR(ENOMEM)) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
    int rc = check_size(r, r->dec->width, r->dec->height, err);
    if (rc) return rc;
    return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file: frame %lld cannot be decoded (%s)",
                     r->path, r->next + 1, nsti_ff_error_text(e, msg, sizeof msg));
}

// Decodes the next frame into r->frame: NST_OK, -1 at the end, or an nst_status.
static int next_frame(nsti_ff_reader *r, nst_error *err) {
    char msg[128];
    for (;;) {
        av_frame_unref(r->frame);
        int e = avcodec_receive_frame(r->dec, r->frame);
        if (e == 0) {
            if (r->frame->decode_error_flags || (r->frame->flags & AV_FRAME_FLAG_CORRUPT))
                return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file: frame %lld is corrupt",
                                 r->path, r->next + 1);
            int rc = check_size(r, r->frame->width, r->frame->height, err);
            if (rc) return rc;
            if (r->frame->width <= 0 || r->frame->height <= 0)
                return nsti_fail(err, NST_ERR_FORMAT, "%s: damaged video file: frame %lld has no size", r->path,
                                 r->next + 1);
            if (!r->w) {
                r->w = r->frame->width;
                r->h = r->frame->height;
            } else if (r->frame->width != r->w || r->frame->height != r->h) {
                return nsti_fail(err, NST_ERR_FORMAT, "%s: frame %lld is %dx%d, the first frame %dx%d", r->path,
                                 r->next + 1, r->frame->width, r->frame->height, r->w, r->h);
            }
            return NST_OK;
        }
        if (e == AVERROR_EOF) return -1;
        if (e != AVERROR(EAGAIN)) return decode_failure(r, e, err);
        if (r->demux_done) {   // drained by the decoder's flush
            if (r->flushed) return -1;
            r->flushed = 1;
            if ((e = avcodec_send_packet(r->dec, NULL)) < 0 && e != AVERROR_EOF) return decode_failure(r, e, err);
            continue;
        }
        e = av_read_frame(r->fmt, r->pkt);
        if (e == AVERROR_EOF) {
            r->demux_done = 1;
            if (r->fmt->pb && r->fmt->pb->error < 0)
                return nsti_fail(err, NST_ERR_IO, "%s: read error: %s", r->path,
                                 nsti_ff_error_text(r->fmt->pb->error, msg, sizeof msg));
            continue;
        }
        if (e < 0) {
            if (e == AVERROR(ENOMEM)) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->path);
            return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file (%s after %lld frames)",
                             r->path, nsti_ff_error_text(e, msg, sizeof msg), r->next);
        }
        if (r->pkt->stream_index != r->stream) {
            av_packet_unref(r->pkt);
            continue;
        }
        r->packets++;
        if (r->pkt->flags & AV_PKT_FLAG_CORRUPT) {
            av_packet_unref(r->pkt);
            return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file: packet %lld is corrupt",
                             r->path, r->packets);
        }
        if (r->pkt->pts != AV_NOPTS_VALUE && r->pkt->duration >= 0 && r->pkt->pts <= INT64_MAX - r->pkt->duration &&
            (r->end_pts == AV_NOPTS_VALUE || r->pkt->pts + r->pkt->duration > r->end_pts))
            r->end_pts = r->pkt->pts + r->pkt->duration;
        e = avcodec_send_packet(r->dec, r->pkt);
        av_packet_unref(r->pkt);
        if (e < 0 && e != AVERROR(EAGAIN)) return decode_failure(r, e, err);
    }
}

// After the counting pass: fewer packets than the header declares, or packets ending
// well before the declared duration, mean the file was cut.
static int check_complete(const nsti_ff_reader *r, AVRational fps, nst_error *err) {
    const AVStream *st = r->fmt->streams[r->stream];
    if (st->nb_frames > 0 && r->packets < st->nb_frames)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file: %lld of the %lld frames its "
                         "header declares are there", r->path, r->packets, (long long)st->nb_frames);
    if (st->nb_frames > 0 || r->end_pts == AV_NOPTS_VALUE) return NST_OK;
    double declared = -1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        declared = (double)st->duration * av_q2d(st->time_base);
    else if (r->fmt->duration != AV_NOPTS_VALUE && r->fmt->duration > 0 && r->fmt->nb_streams == 1)
        declared = (double)r->fmt->duration / AV_TIME_BASE;
    if (declared <= 0) return NST_OK;
    double start = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time * av_q2d(st->time_base) : 0;
    double got = (double)r->end_pts * av_q2d(st->time_base) - start;
    double frame = 1.0 / av_q2d(fps);
    if (got < declared - 2 * frame - 0.01 * declared)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged video file: frames for %.2f of the %.2f s "
                         "its header declares are there", r->path, got > 0 ? got : 0, declared);
    return NST_OK;
}

int nsti_ff_open(nsti_ff_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                 nst_error *err) {
    *out = NULL;
    nsti_ff_quiet();
    struct stat sb;
    if (stat(path, &sb) != 0) return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return nsti_fail(err, NST_ERR_IO, "%s: cannot open: not a regular file", path);
    if (sb.st_size == 0) return nsti_fail(err, NST_ERR_FORMAT, "%s: is empty", path);
    nsti_ff_reader *r = calloc(1, sizeof *r);
    if (r) r->path = strdup(path);
    if (!r || !r->path) {
        free(r);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    r->max_pixels = max_pixels;
    int rc = open_input(r, err);
    // every frame once: counts them and finds damage now rather than midway
    while (rc == NST_OK) {
        rc = next_frame(r, err);
        if (rc == -1) { rc = NST_OK; break; }
        if (rc == NST_OK && ++r->next > NST_VIDEO_MAX_FRAMES)
            rc = nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d frames", path, NST_VIDEO_MAX_FRAMES);
    }
    AVRational fps = {25, 1};
    if (rc == NST_OK) {
        const AVStream *st = r->fmt->streams[r->stream];
        if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) fps = st->avg_frame_rate;
        else if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0) fps = st->r_frame_rate;
        if (r->next == 0) rc = nsti_fail(err, NST_ERR_FORMAT, "%s: has no frames", path);
    }
    if (rc == NST_OK) rc = check_complete(r, fps, err);
    r->count = r->next;
    r->next = 0;
    close_input(r);
    // then from the start, for nsti_ff_read
    if (rc == NST_OK) {
        int w = r->w, h = r->h;
        rc = open_input(r, err);
        r->w = w;
        r->h = h;
    }
    if (rc == NST_OK && !(r->rgb = av_malloc((size_t)r->w * r->h * 3 + RGB_PADDING)))
        rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (rc) {
        nsti_ff_close(r);
        return rc;
    }
    if (info) {
        info->w = r->w;
        info->h = r->h;
        info->n_frames = (int)r->count;
        info->fps_num = fps.num;
        info->fps_den = fps.den;
    }
    *out = r;
    return NST_OK;
}

// r->frame into *frame: swscale to RGB24, then float planes.
static int convert_frame(nsti_ff_reader *r, nst_image *frame, nst_error *err) {
    const AVFrame *f = r->frame;
    if (!sws_isSupportedInput(f->format))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: frame %lld has an unsupported pixel format (%s)", r->path,
                         r->next + 1, av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "none");
    r->sws = sws_getCachedContext(r->sws, r->w, r->h, f->format, r->w, r->h, AV_PIX_FMT_RGB24,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP, NULL, NULL,
                                  NULL);
    if (!r->sws) return nsti_fail(err, NST_ERR_NOMEM, "%s: cannot convert frame %lld to RGB", r->path, r->next + 1);
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (d && !(d->flags & AV_PIX_FMT_FLAG_RGB)) {
        int *inv, *tab, src_range, dst_range, bri, con, sat;
        if (sws_getColorspaceDetails(r->sws, &inv, &src_range, &tab, &dst_range, &bri, &con, &sat) >= 0) {
            int cs = f->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709 : SWS_CS_DEFAULT;
            if (f->color_range == AVCOL_RANGE_JPEG) src_range = 1;
            sws_setColorspaceDetails(r->sws, sws_getCoefficients(cs), src_range, tab, dst_range, bri, con, sat);
        }
    }
    uint8_t *dst[4] = {r->rgb, NULL, NULL, NULL};
    int stride[4] = {r->w * 3, 0, 0, 0};
    if (sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, r->h, dst, stride) != r->h)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: cannot convert frame %lld to RGB", r->path, r->next + 1);
    int rc = nst_image_alloc(frame, r->w, r->h, err);
    if (rc) return rc;
    size_t n = (size_t)r->w * r->h;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) frame->data[c * n + i] = r->rgb[3 * i + c];
    return NST_OK;
}

int nsti_ff_read(nsti_ff_reader *r, nst_image *frame, nst_error *err) {
    if (r->next >= r->count)
        return nsti_fail(err, NST_ERR_USAGE, "%s: read past the last frame (the video has %lld)", r->path, r->count);
    if (!r->fmt) return nsti_fail(err, NST_ERR_USAGE, "%s: reading stopped at an earlier error", r->path);
    int rc = next_frame(r, err);
    if (rc == -1)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: changed while read: frame %lld is gone", r->path, r->next + 1);
    if (rc == NST_OK) rc = convert_frame(r, frame, err);
    if (rc) {
        close_input(r);   // no reading on from a broken state
        return rc;
    }
    r->next++;
    return NST_OK;
}

#endif
