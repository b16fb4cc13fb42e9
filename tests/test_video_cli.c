// `nst video` end to end, with the partial model on small clips made here (a pan across
// the shared Tübingen picture): the output keeps the frames and their rate; the temporal
// error is at least 3x lower than per-frame stylization's (--flow none); a killed run
// goes on from its finished frames and ends with the uninterrupted run's bytes; bad
// input and bad requests are refused in one line with nothing left behind; a batch runs
// video jobs and skips them once finished.
#define _XOPEN_SOURCE 700   // realpath
#include "testlib.h"
#include "nst.h"
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>

#define FRAMES 8
static nst_test_program program;
static char out_text[16384], common[2100], loud[2048], clip_seq[600], clip_mp4[600];

// Runs a shell command (printf-style) in program.tmp, output into out_text; returns its exit code.
#define sh(...) nst_test_shellf(program.tmp, out_text, sizeof out_text, __VA_ARGS__)

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

static int one_line(const char *s) {
    const char *nl = strchr(s, '\n');
    return nl && !strchr(nl + 1, '\n');
}

// A pan across the picture: frame i is a 96x72 window moving right by 2 pixels a frame.
static int make_clip(const char *path) {
    nst_image pic = {0}, small = {0}, frame = {0};
    nst_error err;
    char src[1024];
    snprintf(src, sizeof src, "%s/images/tubingen.jpg", nst_test_shared());
    nst_video_writer *v = NULL;
    int rc = nst_image_load(&pic, src, NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_fit(&small, &pic, 128, &err);
    if (!rc) rc = nst_image_alloc(&frame, 64, 48, &err);
    if (!rc) rc = nst_video_create(&v, path, 64, 48, 24, 1, &err);
    for (int i = 0; i < FRAMES && !rc; i++) {
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 48; y++)
                for (int x = 0; x < 64; x++)
                    frame.data[((size_t)c * 48 + y) * 64 + x] =
                        small.data[((size_t)c * small.h + y + 10) * small.w + x + 10 + 2 * i];
        rc = nst_video_write(v, &frame, &err);
    }
    if (v) rc = nst_video_finish(v, rc == 0, rc ? NULL : &err) || rc;
    if (rc) fprintf(stderr, "%s: %s\n", path, err.msg);
    nst_image_free(&pic); nst_image_free(&small); nst_image_free(&frame);
    return rc;
}

static int count_frames(const char *path, nst_video_info *info) {
    nst_video_reader *r = NULL;
    nst_error err;
    if (nst_video_open(&r, path, NST_DEFAULT_MAX_PIXELS, info, &err)) { CHECKF(0, "%s", err.msg); return -1; }
    nst_video_close(r);
    return info->n_frames;
}

// The mean over frames of the squared difference between stylized frame i and frame i-1
// warped along the content's flow, where the flow is consistent: tools/temporal_error.
static double temporal_error(const char *content, const char *stylized) {
    char tool[600];
    snprintf(tool, sizeof tool, "%s", program.nst);
    char *slash = strrchr(tool, '/');
    snprintf(slash ? slash + 1 : tool, sizeof tool - (size_t)(slash ? slash + 1 - tool : 0), "tools/temporal_error");
    int rc = sh("%s '%s' '%s'", tool, content, stylized);
    const char *line = strstr(out_text, "mean temporal error ");
    double e = -1;
    CHECKF(rc == 0 && line && sscanf(line, "mean temporal error %lf", &e) == 1, "%s: %d %s", tool, rc, out_text);
    return e;
}

static void test_mp4_keeps_frames_rate_and_records_terms(void) {
    if (!nst_video_available() || !nst_flow_available()) { printf("  skipped: built without FFmpeg or OpenCV\n"); return; }
    int rc = sh("%s -c %s -o %s/out.mp4", common, clip_mp4, program.tmp);
    CHECKF(rc == 0, "%d %s", rc, out_text);
    char path[700];
    snprintf(path, sizeof path, "%s/out.mp4", program.tmp);
    nst_video_info info = {0};
    CHECKF(count_frames(path, &info) == FRAMES && info.w == 48 && info.h == 36 && info.fps_num == 24 && info.fps_den == 1,
           "%d frames of %dx%d at %d/%d", info.n_frames, info.w, info.h, info.fps_num, info.fps_den);
    snprintf(path, sizeof path, "%s/out.mp4.frames", program.tmp);
    CHECKF(!exists(path), "%s is left", path);
    snprintf(path, sizeof path, "%s/out.mp4.json", program.tmp);
    json_error_t jerr;
    json_t *rec = json_load_file(path, 0, &jerr);
    json_t *frames = json_object_get(json_object_get(rec, "result"), "per_frame");
    CHECKF(json_array_size(frames) == FRAMES, "%s", path);
    CHECK(json_object_get(json_array_get(frames, 0), "temporal") == NULL);   // the first frame has nothing to keep
    CHECK(json_real_value(json_object_get(json_array_get(frames, 3), "temporal")) > 0);
    CHECK(json_real_value(json_object_get(rec, "temporal-weight")) > 0 && json_object_get(rec, "flow"));
    json_decref(rec);
}

// Flow and the temporal term against per-frame stylization: the flicker, measured.
static void test_temporal_error_three_times_lower(void) {
    if (!nst_flow_available()) { printf("  skipped: built without OpenCV\n"); return; }
    int rc = sh("mkdir -p %s/dis %s/none && %s -c %s -o '%s/dis/%%05d.png' && %s -c %s -o '%s/none/%%05d.png' --flow none",
                program.tmp, program.tmp, common, clip_seq, program.tmp, common, clip_seq, program.tmp);
    CHECKF(rc == 0, "%d %s", rc, out_text);
    char a[700], b[700];
    snprintf(a, sizeof a, "%s/dis/%%05d.png", program.tmp);
    snprintf(b, sizeof b, "%s/none/%%05d.png", program.tmp);
    double with_flow = temporal_error(clip_seq, a), per_frame = temporal_error(clip_seq, b);
    printf("  temporal error: flow %.2f, per frame %.2f (%.1fx)\n", with_flow, per_frame, per_frame / with_flow);
    CHECKF(with_flow >= 0 && per_frame > 3 * with_flow, "flow %.2f, per frame %.2f", with_flow, per_frame);
    // long-term consistency: tied to frames 1, 2 and 4 back as well
    rc = sh("mkdir -p %s/long && %s -c %s -o '%s/long/%%05d.png' --temporal-frames 1,2,4", program.tmp, common, clip_seq,
            program.tmp);
    CHECKF(rc == 0, "%d %s", rc, out_text);
    snprintf(a, sizeof a, "%s/long/%%05d.png", program.tmp);
    double long_term = temporal_error(clip_seq, a);
    printf("  temporal error with --temporal-frames 1,2,4: %.2f\n", long_term);
    CHECKF(long_term >= 0 && per_frame > 3 * long_term, "long-term %.2f, per frame %.2f", long_term, per_frame);
    snprintf(a, sizeof a, "%s/long/%%05d.png.json", program.tmp);
    json_error_t jerr;
    json_t *rec = json_load_file(a, 0, &jerr);
    CHECKF(json_array_size(json_object_get(rec, "temporal-frames")) == 3, "%s", a);
    json_decref(rec);
}

// Killed after a few frames, then the same command: it goes on and gives the same bytes.
static void test_killed_run_goes_on_to_the_same_bytes(void) {
    if (!nst_flow_available()) { printf("  skipped: built without OpenCV\n"); return; }
    char marker[700];
    int rc = sh("mkdir -p %s/cut", program.tmp);
    CHECK(rc == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec %s -c %s -o '%s/cut/%%05d.png' --size 64 --iterations 150 >/dev/null 2>&1",
                 common, clip_seq, program.tmp);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    snprintf(marker, sizeof marker, "%s/cut/%%05d.png.frames/00003.json", program.tmp);
    struct timespec tenth = {0, 100000000};
    for (int t = 0; t < 600 && !exists(marker); t++) nanosleep(&tenth, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECKF(exists(marker), "no third frame within a minute");
    char last[700];
    snprintf(last, sizeof last, "%s/cut/%05d.png", program.tmp, FRAMES);
    CHECKF(!exists(last), "the first run had finished before it was killed");
    char first[700];   // a sequence's frames are written as they finish
    snprintf(first, sizeof first, "%s/cut/%05d.png", program.tmp, 3);
    CHECKF(exists(first), "%s not written as it finished", first);
    rc = sh("%s -c %s -o '%s/cut/%%05d.png' --size 64 --iterations 150", loud, clip_seq, program.tmp);
    CHECKF(rc == 0 && strstr(out_text, "kept from an earlier run"), "%d %s", rc, out_text);
    rc = sh("mkdir -p %s/whole && %s -c %s -o '%s/whole/%%05d.png' --size 64 --iterations 150", program.tmp, common,
            clip_seq, program.tmp);
    CHECKF(rc == 0, "%d %s", rc, out_text);
    for (int i = 1; i <= FRAMES; i++) {
        rc = sh("cmp %s/cut/%05d.png %s/whole/%05d.png", program.tmp, i, program.tmp, i);
        CHECKF(rc == 0, "frame %d differs: %s", i, out_text);
    }
    // a run with other options is refused while the frames directory is there
    rc = sh("mkdir -p %s/other && mkdir %s/other/%%05d.png.frames && %s -c %s -o '%s/other/%%05d.png'", program.tmp,
            program.tmp, common, clip_seq, program.tmp);
    CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, ".frames"), "%d %s", rc, out_text);
}

static void test_bad_input_and_requests_refused(void) {
    char empty[700], cut[700];
    snprintf(empty, sizeof empty, "%s/empty.mp4", program.tmp);
    FILE *f = fopen(empty, "wb");
    if (f) fclose(f);
    int rc = sh("%s -c %s -o %s/x.mp4", common, empty, program.tmp);
    CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, "empty.mp4"), "%d %s", rc, out_text);
    if (nst_video_available()) {   // the clip cut in half
        snprintf(cut, sizeof cut, "%s/cut.mp4", program.tmp);
        CHECK(sh("head -c $(( $(stat -c %%s %s) / 2 )) %s > %s", clip_mp4, clip_mp4, cut) == 0);
        rc = sh("%s -c %s -o %s/y.mp4", common, cut, program.tmp);
        CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, "cut.mp4"), "%d %s", rc, out_text);
        CHECK(!exists("y.mp4"));
    }
    char path[700];
    snprintf(path, sizeof path, "%s/x.mp4", program.tmp);
    CHECK(!exists(path));
    rc = sh("%s -c %s -o %s/z.mp4 --checkpoint %s/z.ckpt", common, clip_seq, program.tmp, program.tmp);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "--checkpoint"), "%d %s", rc, out_text);
    rc = sh("%s -c %s -s %s -o %s/p.png --temporal-weight 5", program.nst, program.content, program.style, program.tmp);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "an option of nst video"), "%d %s", rc, out_text);
    rc = sh("%s -c %s -o %s/odd.mp4 --temporal-frames 2,1", common, clip_seq, program.tmp);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "ascend"), "%d %s", rc, out_text);
}

// No frame of a sequence output may land on an input (the content's own frames, a style
// picture among them), and a video file's format is tried before the first frame: each
// is refused at once in one line, with every input as it was and nothing left behind.
static void test_output_never_overwrites_an_input(void) {
    const char *t = program.tmp;
    CHECK(sh("cd %s && rm -rf own && cp -r clip own && cat own/*.png | md5sum > own.md5", t) == 0);
    int rc = sh("%s -c %s/own/%%05d.png -o %s/own/%%05d.png", common, t, t);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "frame 1 of the output is one of the inputs"), "%d %s", rc,
           out_text);
    rc = sh("%s -c %s -s %s/own/00002.png -o %s/own/%%05d.png", common, clip_seq, t, t);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "own/00002.png: frame 2"), "%d %s", rc, out_text);
    CHECKF(sh("cd %s && cat own/*.png | md5sum | cmp - own.md5", t) == 0, "%s", "the frames changed");
    // a '%' in a sequence's folder: OUTPUT.json and the frames folder are named after the pattern
    rc = sh("%s -c %s -o '%s/p%%%%/f%%d.png'", common, clip_seq, t);
    CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "folder may not hold '%'"), "%d %s", rc, out_text);
    if (nst_video_available()) {
        time_t t0 = time(NULL);
        rc = sh("%s -c %s -o %s/late.avi", common, clip_seq, t);
        CHECKF(rc == 2 && one_line(out_text) && strstr(out_text, "late.avi: unsupported extension"), "%d %s", rc,
               out_text);
        CHECKF(time(NULL) - t0 < 10, "refused after %ld s: after the frames", (long)(time(NULL) - t0));
        CHECK(sh("cd %s && ls -d late.avi* 2>/dev/null | wc -l | grep -qx 0", t) == 0);
    }
}

// FFmpeg and OpenCV come from the video plugin (src/video/plugin.h): a build with them
// has one, and it loads; the nst program does not link them; a picture run never loads
// the plugin; a missing or foreign plugin is refused in one line that names it.
static void test_video_plugin(void) {
#if defined(NST_HAVE_FFMPEG) || defined(NST_HAVE_OPENCV)
    nst_error err = {0, ""};
    CHECKF(nst_video_plugin_check(&err) == NST_OK, "%s", err.msg);
#ifdef NST_HAVE_FFMPEG
    CHECK(nst_video_available());
#endif
#ifdef NST_HAVE_OPENCV
    CHECK(nst_flow_available());
#endif
    int rc = sh("ldd %s | grep -E 'libav|libopencv'", program.nst);
    CHECKF(rc != 0, "the nst program links FFmpeg or OpenCV: %s", out_text);
    // a picture run with no plugin to be found
    rc = sh("NST_VIDEO_PLUGIN=%s/none.so %s -c %s -s %s -m %s -o %s/pic.png --size 32 --iterations 2 --quiet",
            program.tmp, program.nst, program.content, program.style, program.model, program.tmp);
    CHECKF(rc == 0, "%d %s", rc, out_text);
    rc = sh("NST_VIDEO_PLUGIN=%s/none.so %s -c %s -o %s/n.mp4", program.tmp, common, clip_seq, program.tmp);
    CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, "none.so") && strstr(out_text, "no such file"), "%d %s",
           rc, out_text);
    // a file that is no plugin, and a shared library that is not nst's plugin
    rc = sh("echo text > %s/text.so && NST_VIDEO_PLUGIN=%s/text.so %s -c %s -o %s/n.mp4", program.tmp, program.tmp,
            common, clip_seq, program.tmp);
    CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, "text.so: cannot load"), "%d %s", rc, out_text);
    rc = sh("NST_VIDEO_PLUGIN=$(ldd %s | awk '/libz.so/ {print $3}') %s -c %s -o %s/n.mp4", program.nst, common,
            clip_seq, program.tmp);
    CHECKF(rc != 0 && one_line(out_text) && strstr(out_text, "not nst " NST_VERSION "'s video plugin"), "%d %s", rc,
           out_text);
    char left[700];
    snprintf(left, sizeof left, "%s/n.mp4", program.tmp);
    CHECK(!exists(left));
    // nst run by its bare name (from PATH) in a folder that holds a file named nst and a
    // bogus plugin: the plugin is looked for next to the real program, not there
    char real[PATH_MAX], model[PATH_MAX], style[PATH_MAX];
    if (realpath(program.nst, real) && realpath(program.model, model) && realpath(program.style, style)) {
        char *slash = strrchr(real, '/');
        if (slash) *slash = 0;
        rc = sh("mkdir -p %s/cwd && cd %s/cwd && echo x > nst && echo x > libnst-video.so && "
                "PATH=%s:$PATH nst video -m %s -s %s --size 48 -c %s/no-frames-here/%%05d.png -o %s/n.mp4",
                program.tmp, program.tmp, real, model, style, program.tmp, program.tmp);
        CHECKF(rc != 0 && !strstr(out_text, "plugin") && strstr(out_text, "no-frames-here"), "%d %s", rc, out_text);
    }
#else
    printf("  skipped: built without FFmpeg and OpenCV (no video plugin)\n");
#endif
}

static void test_batch_runs_and_skips_video_jobs(void) {
    if (!nst_flow_available()) { printf("  skipped: built without OpenCV\n"); return; }
    char jobs[700];
    snprintf(jobs, sizeof jobs, "%s/jobs.jsonl", program.tmp);
    FILE *f = fopen(jobs, "w");
    if (!f) { CHECK(0); return; }
    fprintf(f, "{\"command\": \"video\", \"content\": \"%s\", \"style\": \"%s\", \"output\": \"%s/b/%%05d.png\", "
               "\"model\": \"%s\", \"size\": 48, \"iterations\": 6, \"threads\": 2}\n",
            clip_seq, program.style, program.tmp, program.model);
    fclose(f);
    int rc = sh("mkdir -p %s/b && %s batch %s", program.tmp, program.nst, jobs);
    CHECKF(rc == 0 && strstr(out_text, "1 done"), "%d %s", rc, out_text);
    char frame[700];
    snprintf(frame, sizeof frame, "%s/b/%05d.png", program.tmp, FRAMES);
    CHECK(exists(frame));
    rc = sh("%s batch %s", program.nst, jobs);
    CHECKF(rc == 0 && strstr(out_text, "1 skipped"), "%d %s", rc, out_text);
}

int main(void) {
    if (nst_test_program_init(&program, "nst_video_cli")) return 1;
    setenv("OMP_WAIT_POLICY", "passive", 0);
    snprintf(clip_seq, sizeof clip_seq, "%s/clip/%%05d.png", program.tmp);
    snprintf(clip_mp4, sizeof clip_mp4, "%s/clip.mp4", program.tmp);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/clip", program.tmp);
    mkdir(dir, 0777);
    if (make_clip(clip_seq) || (nst_video_available() && make_clip(clip_mp4))) return 1;
    snprintf(loud, sizeof loud, "%s video -m %s -s %s --size 48 --iterations 20 --threads 2", program.nst, program.model,
             program.style);
    snprintf(common, sizeof common, "%s --quiet", loud);
    TEST(test_mp4_keeps_frames_rate_and_records_terms);
    TEST(test_temporal_error_three_times_lower);
    TEST(test_killed_run_goes_on_to_the_same_bytes);
    TEST(test_bad_input_and_requests_refused);
    TEST(test_output_never_overwrites_an_input);
    TEST(test_batch_runs_and_skips_video_jobs);
    TEST(test_video_plugin);
    nst_test_program_done(&program);
    return nst_test_summary();
}
