// fuzz_video: the video reading path, as `nst video` uses it. The input is written to
// a file named *.mp4, opened with nst_video_open under a 256x256-pixel limit (which
// decodes every frame once), then every frame is read and the reader closed. The
// info must respect the limits, every frame must have its size and hold values in
// 0..255, and reading past the last frame must be NST_ERR_USAGE. Without FFmpeg
// (nst_video_available() == 0) every input is refused in one line.
#include "fuzz_common.h"

#define MAX_PIXELS (256LL * 256)

static char video_path[300];

static void remove_video(void) { unlink(video_path); }

// Replaces the .mp4 file's contents with data and returns its path.
static const char *video_file(const uint8_t *data, size_t size) {
    if (!video_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(video_path, sizeof video_path, "%s/nst-fuzz-video-%ld.mp4", dir && *dir ? dir : "/tmp",
                 (long)getpid());
        atexit(remove_video);
    }
    FILE *f = fopen(video_path, "wb");
    if (!f) fuzz_die("cannot create the input file", video_path);
    if ((size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) fuzz_die("write failed", video_path);
    return video_path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = video_file(data, size);
    nst_error err = {0, ""};
    nst_video_reader *r = NULL;
    nst_video_info info = {0, 0, 0, 0, 0};
    int rc = nst_video_open(&r, path, MAX_PIXELS, &info, &err);
    fuzz_check_error(rc, &err, path);
    if (rc != NST_OK) {
        if (r) fuzz_die("failed open left a reader", NULL);
        return 0;
    }
    if (info.w < 1 || info.h < 1 || (long long)info.w * info.h > MAX_PIXELS)
        fuzz_die("opened video breaks the pixel limit", NULL);
    if (info.n_frames < 1 || info.n_frames > NST_VIDEO_MAX_FRAMES) fuzz_die("frame count out of range", NULL);
    if (info.fps_num <= 0 || info.fps_den <= 0) fuzz_die("frame rate not positive", NULL);
    for (int i = 0; i <= info.n_frames; i++) {
        nst_image frame = {0, 0, NULL};
        rc = nst_video_read(r, &frame, &err);
        fuzz_check_error(rc, &err, path);
        if (i == info.n_frames) {
            if (rc != NST_ERR_USAGE || frame.data) fuzz_die("reading past the last frame did not fail", err.msg);
            break;
        }
        // the frames were all decoded once when opened: the second reading must agree
        if (rc != NST_OK) fuzz_die("a frame counted when opened cannot be read", err.msg);
        if (frame.w != info.w || frame.h != info.h || !frame.data) fuzz_die("frame of the wrong size", NULL);
        size_t n = (size_t)frame.w * frame.h * 3;
        for (size_t k = 0; k < n; k++)
            if (!(frame.data[k] >= 0.f && frame.data[k] <= 255.f)) fuzz_die("pixel outside 0..255", NULL);
        nst_image_free(&frame);
    }
    nst_video_close(r);
    return 0;
}
