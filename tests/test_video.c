// test_video.c: nst_video_* on picture sequences and (when nst was built with
// FFmpeg's libraries) video files: round trips, frame rates, atomic writing, and a
// one-line error naming the file for every bad input.
//
// Every test file is made here, in a fresh temporary directory: by the writer under
// test, by cutting its output, or (audio-only and zero-frame files, and an over-sized
// header) by FFmpeg's muxers directly, so that no ffmpeg program is needed.
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testlib.h"
#include "nst.h"
#ifdef NST_HAVE_FFMPEG
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#endif

static char tmpdir[256];

// A path inside the temporary directory (a few rotating buffers).
static const char *tp(const char *name) {
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

#define CHECK_ERR(rc, err, want_code, path) do { \
    CHECKF((rc) == (want_code) && (err).code == (want_code), "rc %d code %d, want %d (%s)", \
           rc, (err).code, want_code, (err).msg); \
    CHECKF(strstr((err).msg, path) != NULL, "message lacks the path %s: %s", path, (err).msg); \
    CHECKF(strchr((err).msg, '\n') == NULL, "message is not one line: %s", (err).msg); \
    } while (0)
#define CHECK_MSG(err, needle) \
    CHECKF(strstr((err).msg, needle) != NULL, "message lacks \"%s\": %s", needle, (err).msg)

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = fwrite(data, 1, n, f);
    return fclose(f) == 0 && k == n ? 0 : -1;
}


// Copies the first `keep` of src's bytes (a fraction of them) to dst.
static int cut_file(const char *src, const char *dst, double keep) {
    size_t n = 0;
    unsigned char *b = nst_test_read_bytes(src, &n);
    if (!b) return -1;
    int rc = write_bytes(dst, b, (size_t)(n * keep));
    free(b);
    return rc;
}

// Entries of dir whose name holds ".tmp." (temporary files left behind).
static int count_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

// Frame t of a moving picture: smooth waves that shift a few pixels a frame, so that
// consecutive frames differ clearly and a lossy codec keeps them close.
static void make_frame(nst_image *im, int w, int h, int t, int integral) {
    nst_error err;
    if (nst_image_alloc(im, w, h, &err)) { CHECKF(0, "%s", err.msg); return; }
    size_t n = (size_t)w * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v[3] = {128 + 100 * sinf((x + 3.0f * t) / 9.0f), 128 + 90 * cosf((y + 2.0f * t) / 7.0f),
                          128 + 80 * sinf((x + y + 4.0f * t) / 13.0f)};
            for (int c = 0; c < 3; c++) im->data[c * n + (size_t)y * w + x] = integral ? roundf(v[c]) : v[c];
        }
}

static double mean_abs_diff(const nst_image *a, const nst_image *b) {
    if (!a->data || !b->data || a->w != b->w || a->h != b->h) return 1e9;
    size_t n = (size_t)a->w * a->h * 3;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a->data[i] - b->data[i]);
    return s / (double)n;
}

// Writes n frames of make_frame to path: NST_OK or the failing status.
static int write_video(const char *path, int n, int w, int h, int fps_num, int fps_den, nst_error *err) {
    nst_video_writer *v = NULL;
    int rc = nst_video_create(&v, path, w, h, fps_num, fps_den, err);
    if (rc) return rc;
    for (int t = 0; t < n && rc == NST_OK; t++) {
        nst_image im = {0, 0, NULL};
        make_frame(&im, w, h, t, 1);
        rc = nst_video_write(v, &im, err);
        nst_image_free(&im);
    }
    int frc = nst_video_finish(v, rc == NST_OK, rc ? NULL : err);
    return rc ? rc : frc;
}

// Reads path back: n frames of make_frame at w x h and fps_num/fps_den, each within
// max_err (mean absolute difference) of its original and closer to it than to the
// frames beside it (the order is kept).
static void check_read_back(const char *path, int n, int w, int h, int fps_num, int fps_den, double max_err) {
    nst_error err = {0, ""};
    nst_video_reader *r = NULL;
    nst_video_info info = {0, 0, 0, 0, 0};
    int rc = nst_video_open(&r, path, 0, &info, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    if (rc) return;
    CHECKF(info.w == w && info.h == h, "%s: %dx%d, want %dx%d", path, info.w, info.h, w, h);
    CHECKF(info.n_frames == n, "%s: %d frames, want %d", path, info.n_frames, n);
    CHECKF((long long)info.fps_num * fps_den == (long long)fps_num * info.fps_den, "%s: %d/%d fps, want %d/%d",
           path, info.fps_num, info.fps_den, fps_num, fps_den);
    double worst = 0;
    for (int t = 0; t < info.n_frames; t++) {
        nst_image got = {0, 0, NULL}, want = {0, 0, NULL}, prev = {0, 0, NULL}, next = {0, 0, NULL};
        rc = nst_video_read(r, &got, &err);
        CHECKF(rc == NST_OK, "frame %d: %s", t, err.msg);
        if (rc) break;
        make_frame(&want, w, h, t, 1);
        make_frame(&prev, w, h, t - 1, 1);
        make_frame(&next, w, h, t + 1, 1);
        double e = mean_abs_diff(&got, &want);
        if (e > worst) worst = e;
        CHECKF(e < mean_abs_diff(&got, &prev) && e < mean_abs_diff(&got, &next),
               "%s: frame %d is closer to a neighbour than to itself", path, t);
        if (max_err == 0) CHECKF(e == 0, "%s: frame %d differs (mean %.3f)", path, t, e);
        nst_image_free(&got);
        nst_image_free(&want);
        nst_image_free(&prev);
        nst_image_free(&next);
    }
    CHECKF(worst <= max_err, "%s: mean abs error %.2f > %.2f", path, worst, max_err);
    if (max_err > 0) printf("     %s: worst mean abs error %.2f levels\n", strrchr(path, '/') + 1, worst);
    nst_image extra = {0, 0, NULL};
    rc = nst_video_read(r, &extra, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, path);
    CHECK(extra.data == NULL);
    nst_video_close(r);
}

// Opening path must fail with code, one line naming `name` and holding needle.
static void check_refused_naming(const char *path, const char *name, long long max_pixels, int code,
                                 const char *needle) {
    nst_error err = {0, ""};
    nst_video_reader *r = (nst_video_reader *)&err;   // must be cleared
    nst_video_info info = {7, 7, 7, 7, 7};
    int rc = nst_video_open(&r, path, max_pixels, &info, &err);
    CHECK_ERR(rc, err, code, name);
    if (needle) CHECK_MSG(err, needle);
    if (getenv("NST_TEST_VERBOSE")) printf("     refused: %s\n", err.msg);
    CHECK(r == NULL);
    CHECK(info.n_frames == 0 && info.w == 0);
    nst_video_close(rc == NST_OK ? r : NULL);
}

// The same, naming path itself.
static void check_refused(const char *path, long long max_pixels, int code, const char *needle) {
    check_refused_naming(path, path, max_pixels, code, needle);
}

// ---- picture sequences -----------------------------------------------------------

static void test_sequence_round_trip(void) {
    nst_error err = {0, ""};
    mkdir(tp("seq"), 0777);
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s", tp("seq/f%05d.png"));
    CHECK(nst_video_is_sequence(pattern));
    CHECK(write_video(pattern, 5, 7, 5, 30, 1, &err) == NST_OK);   // odd sizes are fine for pictures
    CHECK(exists(tp("seq/f00001.png")) && exists(tp("seq/f00005.png")));
    CHECK(!exists(tp("seq/f00000.png")) && !exists(tp("seq/f00006.png")));
    CHECK(count_temp_files(tp("seq")) == 0);
    check_read_back(pattern, 5, 7, 5, 25, 1, 0);   // exact; a sequence's rate is 25/1

    // %% is a literal %, %d is unpadded; reading starts at 0 when there is one
    mkdir(tp("seq2"), 0777);
    CHECK(write_video(tp("seq2/a%%b_%d.png"), 3, 4, 4, 25, 1, &err) == NST_OK);
    CHECK(exists(tp("seq2/a%b_1.png")) && exists(tp("seq2/a%b_3.png")));
    nst_image im = {0, 0, NULL};
    make_frame(&im, 4, 4, 9, 1);
    CHECK(nst_image_save(&im, tp("seq2/a%b_0.png"), &err) == NST_OK);
    CHECK(nst_image_save(&im, tp("seq2/a%b_5.png"), &err) == NST_OK);   // after a gap: not read
    nst_video_reader *r = NULL;
    nst_video_info info;
    CHECKF(nst_video_open(&r, tp("seq2/a%%b_%d.png"), 0, &info, &err) == NST_OK, "%s", err.msg);
    CHECKF(info.n_frames == 4, "%d frames", info.n_frames);
    nst_image got = {0, 0, NULL};
    CHECK(r && nst_video_read(r, &got, &err) == NST_OK && mean_abs_diff(&got, &im) == 0);   // frame 0 first
    nst_image_free(&got);
    nst_video_close(r);
    nst_image_free(&im);

    // the first of 1..4
    CHECK(rename(tp("seq/f00001.png"), tp("seq/f00001.bak")) == 0);
    CHECK(rename(tp("seq/f00002.png"), tp("seq/f00002.bak")) == 0);
    CHECKF(nst_video_open(&r, pattern, 0, &info, &err) == NST_OK, "%s", err.msg);
    CHECKF(info.n_frames == 3, "%d frames", info.n_frames);
    nst_video_close(r);
    CHECK(rename(tp("seq/f00001.bak"), tp("seq/f00001.png")) == 0);
    CHECK(rename(tp("seq/f00002.bak"), tp("seq/f00002.png")) == 0);
}

static void test_sequence_errors(void) {
    nst_error err = {0, ""};
    nst_video_writer *v = NULL;
    CHECK(!nst_video_is_sequence("a.mp4") && !nst_video_is_sequence("a%%.png"));
    CHECK(nst_video_is_sequence("f%d.png") && nst_video_is_sequence("f%08d.png"));
    CHECK(nst_video_is_sequence("f%d%d.png"));   // meant as one: refused with a reason below
    const char *bad[] = {"f%d_%d.png", "f%s.png", "f%5d.png", "f%-3d.png", "f%ld.png", "100%.png", "f%0d.png",
                         "f%021d.png", "f%d%.png"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *p = tp(bad[i]);
        check_refused(p, 0, NST_ERR_USAGE, "pattern");
        int rc = nst_video_create(&v, p, 4, 4, 25, 1, &err);
        CHECK_ERR(rc, err, NST_ERR_USAGE, p);
        CHECK(v == NULL);
    }
    check_refused(tp("none/%03d.png"), 0, NST_ERR_IO, "no frames");

    // differently sized and damaged frames are refused when opened, naming the frame
    mkdir(tp("mixed"), 0777);
    nst_image a = {0, 0, NULL}, b = {0, 0, NULL};
    make_frame(&a, 6, 4, 0, 1);
    make_frame(&b, 6, 5, 1, 1);
    CHECK(nst_image_save(&a, tp("mixed/1.png"), &err) == NST_OK);
    CHECK(nst_image_save(&a, tp("mixed/2.png"), &err) == NST_OK);
    CHECK(nst_image_save(&b, tp("mixed/3.png"), &err) == NST_OK);
    check_refused_naming(tp("mixed/%d.png"), tp("mixed/3.png"), 0, NST_ERR_FORMAT, NULL);
    CHECK(write_bytes(tp("mixed/3.png"), "\x89PNG\r\n\x1a\n", 8) == 0);
    check_refused_naming(tp("mixed/%d.png"), tp("mixed/3.png"), 0, NST_ERR_FORMAT, NULL);
    CHECK(nst_image_save(&a, tp("mixed/3.png"), &err) == NST_OK);
    check_refused_naming(tp("mixed/%d.png"), tp("mixed/1.png"), 20, NST_ERR_LIMIT, NULL);   // 6x4 > 20 pixels
    nst_video_reader *r = NULL;
    CHECKF(nst_video_open(&r, tp("mixed/%d.png"), 24, NULL, &err) == NST_OK, "%s", err.msg);
    nst_video_close(r);
    nst_image_free(&a);
    nst_image_free(&b);

    // the writer: picture extensions only, an existing directory, frames of its size
    int rc = nst_video_create(&v, tp("seq/%d.bmp"), 4, 4, 25, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, tp("seq/%d.bmp"));
    rc = nst_video_create(&v, tp("missing/%d.png"), 4, 4, 25, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, tp("missing/%d.png"));
    CHECK(v == NULL);
    mkdir(tp("seq3"), 0777);
    CHECKF(nst_video_create(&v, tp("seq3/%d.jpg"), 4, 4, 25, 1, &err) == NST_OK, "%s", err.msg);
    make_frame(&a, 5, 4, 0, 1);
    rc = nst_video_write(v, &a, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, tp("seq3/%d.jpg"));
    CHECK(!exists(tp("seq3/1.jpg")));
    nst_image_free(&a);
    CHECK(nst_video_finish(v, 1, &err) == NST_OK);
    CHECK(nst_video_finish(NULL, 1, &err) == NST_OK);
}

// ---- video files -----------------------------------------------------------------

#ifdef NST_HAVE_FFMPEG
// A Matroska file written by FFmpeg's muxer alone: half a second of PCM silence and,
// when w > 0, a video stream of w x h (MPEG-4) without frames.
static int write_raw(const char *path, int w, int h) {
    AVFormatContext *oc = NULL;
    if (avformat_alloc_output_context2(&oc, NULL, "matroska", path) < 0) return -1;
    AVStream *st = avformat_new_stream(oc, NULL);
    AVStream *vs = w ? avformat_new_stream(oc, NULL) : NULL;
    int ok = st != NULL && (!w || vs);
    if (ok) {
        st->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
        st->codecpar->codec_id = AV_CODEC_ID_PCM_S16LE;
        st->codecpar->sample_rate = 8000;
        av_channel_layout_default(&st->codecpar->ch_layout, 1);
        st->time_base = (AVRational){1, 8000};
    }
    if (ok && vs) {
        vs->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
        vs->codecpar->codec_id = AV_CODEC_ID_MPEG4;
        vs->codecpar->width = w;
        vs->codecpar->height = h;
        vs->time_base = (AVRational){1, 25};
    }
    ok = ok && avio_open(&oc->pb, path, AVIO_FLAG_WRITE) >= 0;
    ok = ok && avformat_write_header(oc, NULL) >= 0;
    for (int i = 0; ok && i < 10; i++) {
        AVPacket *pkt = av_packet_alloc();
        ok = pkt && av_new_packet(pkt, 800) >= 0;
        if (ok) {
            memset(pkt->data, 0, 800);
            pkt->pts = pkt->dts = i * 400;
            pkt->duration = 400;
            pkt->stream_index = 0;
            ok = av_write_frame(oc, pkt) >= 0;
        }
        av_packet_free(&pkt);
    }
    ok = ok && av_write_trailer(oc) >= 0;
    if (oc->pb) avio_closep(&oc->pb);
    avformat_free_context(oc);
    return ok ? 0 : -1;
}
#endif

#define SKIP_WITHOUT_FFMPEG() do { if (!nst_video_available()) { \
    printf("     (skipped: nst was built without FFmpeg)\n"); return; } } while (0)

static void test_round_trip_mp4(void) {
    SKIP_WITHOUT_FFMPEG();
    nst_error err = {0, ""};
    int rc = write_video(tp("a.mp4"), 12, 64, 48, 24, 1, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    CHECK(count_temp_files(tmpdir) == 0);
    check_read_back(tp("a.mp4"), 12, 64, 48, 24, 1, 6);
    // NTSC's rate kept exactly, in the other H.264 containers
    CHECKF(write_video(tp("b.mov"), 7, 32, 16, 30000, 1001, &err) == NST_OK, "%s", err.msg);
    check_read_back(tp("b.mov"), 7, 32, 16, 30000, 1001, 6);
    CHECKF(write_video(tp("c.MKV"), 5, 32, 16, 25, 2, &err) == NST_OK, "%s", err.msg);
    check_read_back(tp("c.MKV"), 5, 32, 16, 25, 2, 6);
}

// Fills and frees heap blocks with bytes from seed, so that memory malloc hands out next
// holds something else in each call.
static void scribble_heap(unsigned seed) {
    enum { N = 48 };
    unsigned char *block[N];
    for (int k = 0; k < N; k++) {
        size_t n = 4096u << (k % 9);   // 4 KB .. 1 MB
        if ((block[k] = malloc(n)))
            for (size_t i = 0; i < n; i++) block[k][i] = (unsigned char)((seed = seed * 1664525u + 1013904223u) >> 24);
    }
    for (int k = 0; k < N; k += 2) free(block[k]);   // every other one: the heap is left in pieces
    for (int k = 1; k < N; k += 2) free(block[k]);
}

// The same frames give the same bytes from run to run and within one process, whatever
// the heap held before (one encoder thread, libx264 without its macroblock tree, a
// bitexact muxer). With the macroblock tree on, libx264 0.164 read memory it had not
// set: the two H.264 files differed.
static void test_deterministic(void) {
    SKIP_WITHOUT_FFMPEG();
    nst_error err = {0, ""};
    const char *names[][2] = {{"d1.mp4", "d2.mp4"}, {"d1.mkv", "d2.mkv"}, {"d1.webm", "d2.webm"}};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 2; j++) {
            scribble_heap(1234u + 77u * (unsigned)j);
            CHECKF(write_video(tp(names[i][j]), 16, 96, 72, 24, 1, &err) == NST_OK, "%s", err.msg);
        }
        size_t n1 = 0, n2 = 0;
        unsigned char *a = nst_test_read_bytes(tp(names[i][0]), &n1), *b = nst_test_read_bytes(tp(names[i][1]), &n2);
        CHECKF(a && b && n1 == n2 && n1 > 0 && !memcmp(a, b, n1), "%s and %s differ", names[i][0], names[i][1]);
        free(a);
        free(b);
    }
}

static void test_round_trip_webm(void) {
    SKIP_WITHOUT_FFMPEG();
    nst_error err = {0, ""};
    int rc = write_video(tp("a.webm"), 12, 64, 48, 24, 1, &err);
    CHECKF(rc == NST_OK, "%s", err.msg);
    check_read_back(tp("a.webm"), 12, 64, 48, 24, 1, 6);
    // one frame is a video too
    CHECKF(write_video(tp("one.webm"), 1, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    check_read_back(tp("one.webm"), 1, 16, 16, 24, 1, 6);
}

// Written through a temporary file: an existing file stays whole until finish(ok=1),
// and finish(ok=0) leaves nothing behind.
static void test_writer_atomic(void) {
    SKIP_WITHOUT_FFMPEG();
    nst_error err = {0, ""};
    const char *keep = tp("keep.mp4");
    CHECK(write_bytes(keep, "precious", 8) == 0);
    nst_video_writer *v = NULL;
    CHECKF(nst_video_create(&v, keep, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    nst_image im = {0, 0, NULL};
    make_frame(&im, 16, 16, 0, 1);
    for (int i = 0; v && i < 3; i++) CHECKF(nst_video_write(v, &im, &err) == NST_OK, "%s", err.msg);
    size_t n = 0;
    unsigned char *b = nst_test_read_bytes(keep, &n);
    CHECK(b && n == 8 && !memcmp(b, "precious", 8));
    free(b);
    CHECK(count_temp_files(tmpdir) == 1);
    CHECK(nst_video_finish(v, 0, &err) == NST_OK);
    b = nst_test_read_bytes(keep, &n);
    CHECK(b && n == 8 && !memcmp(b, "precious", 8));
    free(b);
    CHECK(count_temp_files(tmpdir) == 0);

    const char *fresh = tp("fresh.webm");
    CHECKF(nst_video_create(&v, fresh, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    CHECK(v && nst_video_write(v, &im, &err) == NST_OK);
    CHECK(nst_video_finish(v, 0, &err) == NST_OK);
    CHECK(!exists(fresh) && count_temp_files(tmpdir) == 0);

    // ok = 1 replaces it
    CHECKF(write_video(keep, 4, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    check_read_back(keep, 4, 16, 16, 24, 1, 6);

    // no frames: nothing written, nothing replaced
    CHECKF(nst_video_create(&v, keep, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    int rc = nst_video_finish(v, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, keep);
    check_read_back(keep, 4, 16, 16, 24, 1, 6);
    CHECK(count_temp_files(tmpdir) == 0);

    // a frame of the wrong size is refused; nothing of it reaches the file
    CHECKF(nst_video_create(&v, fresh, 16, 16, 24, 1, &err) == NST_OK, "%s", err.msg);
    nst_image odd = {0, 0, NULL};
    make_frame(&odd, 16, 14, 0, 1);
    rc = nst_video_write(v, &odd, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, fresh);
    nst_image_free(&odd);
    CHECK(nst_video_finish(v, 0, &err) == NST_OK);
    CHECK(!exists(fresh));
    nst_image_free(&im);

    // an output in a missing directory
    rc = nst_video_create(&v, tp("missing/x.mp4"), 16, 16, 24, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_IO, tp("missing/x.mp4"));
    CHECK(v == NULL);
}

static void test_writer_refusals(void) {
    nst_error err = {0, ""};
    nst_video_writer *v = NULL;
    if (!nst_video_available()) {
        int rc = nst_video_create(&v, tp("x.mp4"), 16, 16, 24, 1, &err);
        CHECK_ERR(rc, err, NST_ERR_USAGE, tp("x.mp4"));
        CHECK_MSG(err, "built without FFmpeg");
        check_refused(tp("x.mp4"), 0, NST_ERR_USAGE, "built without FFmpeg");
        return;
    }
    const char *odd[] = {"odd.mp4", "odd.webm", "odd.mov", "odd.mkv"};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            const char *p = tp(odd[i]);
            int rc = nst_video_create(&v, p, k ? 64 : 63, k ? 47 : 48, 24, 1, &err);
            CHECK_ERR(rc, err, NST_ERR_USAGE, p);
            CHECK_MSG(err, "even");
            CHECK(v == NULL && !exists(p));
        }
    const char *ext[] = {"x.avi", "x.gif", "x", "x.mp4.txt"};
    for (int i = 0; i < 4; i++) {
        const char *p = tp(ext[i]);
        int rc = nst_video_create(&v, p, 16, 16, 24, 1, &err);
        CHECK_ERR(rc, err, NST_ERR_USAGE, p);
        CHECK(v == NULL && !exists(p));
    }
    int rc = nst_video_create(&v, tp("x.mp4"), 16, 16, 0, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, tp("x.mp4"));
    rc = nst_video_create(&v, tp("x.mp4"), 0, 16, 24, 1, &err);
    CHECK_ERR(rc, err, NST_ERR_USAGE, tp("x.mp4"));
    CHECK(count_temp_files(tmpdir) == 0);
}

static void test_bad_inputs(void) {
    SKIP_WITHOUT_FFMPEG();
    nst_error err = {0, ""};
    check_refused(tp("missing.mp4"), 0, NST_ERR_IO, "No such file");
    check_refused(tmpdir, 0, NST_ERR_IO, "not a regular file");
    CHECK(write_bytes(tp("empty.mp4"), "", 0) == 0);
    check_refused(tp("empty.mp4"), 0, NST_ERR_FORMAT, "empty");
    CHECK(write_bytes(tp("text.mp4"), "this is not a video, just words\n", 32) == 0);
    check_refused(tp("text.mp4"), 0, NST_ERR_FORMAT, "not a video");
    nst_image im = {0, 0, NULL};
    make_frame(&im, 16, 16, 0, 1);
    CHECK(nst_image_save(&im, tp("picture.png"), &err) == NST_OK);
    nst_image_free(&im);
    CHECK(rename(tp("picture.png"), tp("picture.mp4")) == 0);
    check_refused(tp("picture.mp4"), 0, NST_ERR_FORMAT, "not a video");

    // cut in half (an MP4's index is at its end; a WebM's clusters run out)
    CHECKF(write_video(tp("whole.mp4"), 24, 64, 48, 24, 1, &err) == NST_OK, "%s", err.msg);
    CHECKF(write_video(tp("whole.webm"), 24, 64, 48, 24, 1, &err) == NST_OK, "%s", err.msg);
    CHECKF(write_video(tp("whole.mkv"), 24, 64, 48, 24, 1, &err) == NST_OK, "%s", err.msg);
    const char *whole[] = {"whole.mp4", "whole.webm", "whole.mkv"};
    const char *cut[] = {"cut.mp4", "cut.webm", "cut.mkv"};
    for (int i = 0; i < 3; i++) {
        CHECK(cut_file(tp(whole[i]), tp(cut[i]), 0.5) == 0);
        check_refused(tp(cut[i]), 0, NST_ERR_FORMAT, "truncated");
    }
    // bytes damaged in the middle
    size_t n = 0;
    unsigned char *b = nst_test_read_bytes(tp("whole.mkv"), &n);
    if (b) {
        for (size_t i = n / 3; i < n / 3 + 400 && i < n; i++) b[i] ^= 0x5a;
        CHECK(write_bytes(tp("damaged.mkv"), b, n) == 0);
        free(b);
        check_refused(tp("damaged.mkv"), 0, NST_ERR_FORMAT, "damaged");
    }

    // frames over the limit, refused before decoding: the caller's and the side limit
    check_refused(tp("whole.mp4"), 64 * 48 - 1, NST_ERR_LIMIT, "64x48");
    nst_video_reader *r = NULL;
    CHECKF(nst_video_open(&r, tp("whole.mp4"), 64 * 48, NULL, &err) == NST_OK, "%s", err.msg);
    nst_video_close(r);
#ifdef NST_HAVE_FFMPEG
    CHECK(write_raw(tp("huge.mkv"), 20000, 16) == 0);
    check_refused(tp("huge.mkv"), 0, NST_ERR_LIMIT, "20000x16");
    CHECK(write_raw(tp("huge2.mkv"), 8000, 8000) == 0);
    check_refused(tp("huge2.mkv"), 1000000, NST_ERR_LIMIT, "8000x8000");
    CHECK(write_raw(tp("noframes.mkv"), 64, 48) == 0);
    check_refused(tp("noframes.mkv"), 0, NST_ERR_FORMAT, "has no frames");
    CHECK(write_raw(tp("audio.mkv"), 0, 0) == 0);
    check_refused(tp("audio.mkv"), 0, NST_ERR_FORMAT, "has no video stream (audio only)");
    // an MP4 cut inside its index (the last bytes): opened with all 24 frames (the last
    // few bytes FFmpeg can do without), else refused in one line, and never as a file that
    // merely lacks a video stream (some cuts leave a stream of unknown "data")
    size_t whole_len = 0;
    unsigned char *bytes = nst_test_read_bytes(tp("whole.mp4"), &whole_len);
    int named_cut = 0;
    for (size_t cut = 10; bytes && cut < 1500 && cut < whole_len; cut += 10) {
        nst_video_reader *cr = NULL;
        CHECK(write_bytes(tp("cut_index.mp4"), bytes, whole_len - cut) == 0);
        nst_video_info ci = {0};
        int rc = nst_video_open(&cr, tp("cut_index.mp4"), 0, &ci, &err);
        nst_video_close(cr);
        CHECKF(rc == NST_OK ? ci.n_frames == 24 : strstr(err.msg, "cut_index.mp4") && !strchr(err.msg, '\n'),
               "cut %zu: %d %s (%d frames)", cut, rc, rc ? err.msg : "", ci.n_frames);
        CHECKF(rc == NST_OK || !strstr(err.msg, "has no video stream") || strstr(err.msg, "cut short"), "cut %zu: %s",
               cut, err.msg);
        named_cut |= rc != NST_OK && strstr(err.msg, "has no video stream: cut short") != NULL;
    }
    free(bytes);
    CHECKF(named_cut, "%s", "no cut of whole.mp4 said \"has no video stream: cut short\"");
#endif

    // an MP4 with its index first (ffmpeg's +faststart) cut: fewer frames than declared
    char out[4096], cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' && command -v ffmpeg >/dev/null || exit 77; ffmpeg -nostdin -v error "
             "-f lavfi -i testsrc=size=64x48:rate=24 -frames:v 48 -c:v libx264 -movflags +faststart -y fs.mp4",
             tmpdir);
    int sh = nst_test_shell(cmd, tmpdir, out, sizeof out);
    if (sh == 77) {
        printf("     (no ffmpeg program: the fast-start MP4 is not tried)\n");
    } else {
        CHECKF(sh == 0, "ffmpeg failed: %s", out);
        nst_video_info info;
        CHECKF(nst_video_open(&r, tp("fs.mp4"), 0, &info, &err) == NST_OK, "%s", err.msg);
        CHECK(info.n_frames == 48 && info.fps_num == 24 && info.fps_den == 1);
        nst_video_close(r);
        CHECK(cut_file(tp("fs.mp4"), tp("fs_cut.mp4"), 0.6) == 0);
        check_refused(tp("fs_cut.mp4"), 0, NST_ERR_FORMAT, "truncated");
    }
}

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char p[1024];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) remove_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_video_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST(test_sequence_round_trip);
    TEST(test_sequence_errors);
    TEST(test_round_trip_mp4);
    TEST(test_round_trip_webm);
    TEST(test_deterministic);
    TEST(test_writer_atomic);
    TEST(test_writer_refusals);
    TEST(test_bad_inputs);
    if (getenv("NST_TEST_KEEP")) printf("     (files kept in %s)\n", tmpdir);
    else remove_tree(tmpdir);
    return nst_test_summary();
}
