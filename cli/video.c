// video.c: `nst video -c IN -s STYLE -o OUT [options]`. The first frame is stylized as a
// picture is; every later frame starts from the previous stylized frame warped along the
// optical flow between the two content frames, and the temporal term ties it to that
// (and, with --temporal-frames, to earlier ones) where the flow is consistent (Ruder,
// Dosovitskiy and Brox 2016). Finished frames go to OUT.frames/ (video_frames.h) as
// they finish; the output is written from them at the end.
#include <stdio.h>
#include "video.h"
#include "video_frames.h"
#include "signals.h"
#include "options.h"
#include "config.h"
#include "files.h"
#include "model_cmd.h"
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

#define RING_MAX 64   // frames kept: the farthest --temporal-frames distance (63), and the frame itself

// Everything a video run holds; one owner, freed by video_free.
typedef struct video_run {
    cli_options *o;
    char model_buf[4096], content_layers[512], style_layers[512], config_path[4200];
    const char *model_path;
    nst_model *model;
    nst_image style_full[NST_MAX_STYLES], styles[NST_MAX_STYLES], masks[NST_MAX_STYLES], content_mask, init;
    nst_video_reader *reader;
    nst_video_info info;
    int w, h, fps_num, fps_den, ring;
    nst_image content[RING_MAX], stylized[RING_MAX];   // the last `ring` frames, by index % ring
    cli_frames frames;
    nst_video_writer *sequence;            // a picture-sequence output, written frame by frame
    nst_progress last;                     // the current frame's last iteration
    json_t *per_frame;                     // each frame's terms, for OUTPUT.json
} video_run;

static void video_free(video_run *v) {
    for (int s = 0; s < NST_MAX_STYLES; s++) {
        nst_image_free(&v->style_full[s]); nst_image_free(&v->styles[s]); nst_image_free(&v->masks[s]);
    }
    nst_image_free(&v->content_mask); nst_image_free(&v->init);
    for (int k = 0; k < RING_MAX; k++) { nst_image_free(&v->content[k]); nst_image_free(&v->stylized[k]); }
    nst_video_close(v->reader);
    nst_video_finish(v->sequence, 0, NULL);
    nst_model_free(v->model);
    json_decref(v->per_frame);
    free(v->o);
    free(v);
}

// A batch job's "JOBS.jsonl:LINE", before each message (NULL: the command line's run).
static const char *job_label;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nst: %s%s", job_label ? job_label : "", job_label ? ": " : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int fail(const nst_error *err) {
    say("%s", err->msg);
    return cli_exit_code(err->code);
}

static int usage_error(const char *msg) {
    say("video: %s", msg);
    return 2;
}

// What a video run cannot take, and what it needs built in. Returns 0, else the exit code.
static int check_request(video_run *v) {
    cli_options *o = v->o;
    if (o->params.checkpoint || o->params.resume)
        return usage_error("--checkpoint and --resume are for pictures: nst video keeps its finished frames and goes "
                           "on from them when run again");
    if (o->save_every || o->animate_path || o->plot_path || o->contact_path || o->log_path)
        return usage_error("--save-every, --animate, --plot, --contact-sheet and --log are for pictures");
    nst_error err;
    int need_plugin = o->flow == CLI_FLOW_DIS || !nst_video_is_sequence(o->output);
    // FFmpeg and OpenCV sit in the video plugin: when it cannot be loaded, say why
    if (need_plugin && !(nst_flow_available() && nst_video_available()) && nst_video_plugin_check(&err) &&
        err.code != NST_ERR_USAGE)
        return fail(&err);
    if (o->flow == CLI_FLOW_DIS && !nst_flow_available())
        return usage_error("this nst was built without OpenCV, so without optical flow: use --flow none, or install "
                           "libopencv-video-dev and rebuild");
    if (!nst_video_is_sequence(o->output) && !nst_video_available())
        return usage_error("this nst was built without FFmpeg: write a picture sequence (-o frames/%05d.png), or "
                           "install libavformat-dev, libavcodec-dev and libswscale-dev and rebuild");
    if (cli_same_file(o->output, o->content)) return usage_error("the output is the input");
    const char *slash = strrchr(o->output, '/');   // OUTPUT.json and OUTPUT.frames/ are named after it as written
    if (nst_video_is_sequence(o->output) && slash && memchr(o->output, '%', (size_t)(slash - o->output)))
        return usage_error("a picture sequence's folder may not hold '%': only its file names are numbered");
    if (cli_check_output_dir(o->output, &err)) return fail(&err);
    return 0;
}

// The model, styles, masks and the input video (read through once: it is checked and
// counted); the frame size: the longest side --size, even for a video file.
static int load_inputs(video_run *v, nst_error *err) {
    cli_options *o = v->o;
    v->model_path = cli_model_path(o, v->model_buf, sizeof v->model_buf);
    if (nst_model_load(&v->model, v->model_path, err)) return -1;
    if (o->model_input && nst_model_set_input(v->model, o->model_input, err)) return -1;
    if (nst_video_open(&v->reader, o->content, o->max_pixels, &v->info, err)) return -1;
    if (!nst_video_is_sequence(o->output) && (o->size & 1) && o->size > 16) {   // even sides: the longest one here
        o->size--;
        if (o->n_scales) o->scales[o->n_scales - 1] = o->size;
    }
    nst_fit_size(v->info.w, v->info.h, o->size, &v->w, &v->h);
    if (!nst_video_is_sequence(o->output)) {   // H.264 and VP9 take even sizes
        v->w = v->w > 1 ? v->w & ~1 : 2;
        v->h = v->h > 1 ? v->h & ~1 : 2;
    }
    v->fps_num = nst_video_is_sequence(o->content) ? o->fps : v->info.fps_num;
    v->fps_den = nst_video_is_sequence(o->content) ? 1 : v->info.fps_den;
    for (int s = 0; s < o->n_styles; s++) {
        if (nst_image_load(&v->style_full[s], o->styles[s], o->max_pixels, err) ||
            cli_check_style_size(o, s, &v->style_full[s], err))
            return -1;
        if (nst_image_fit(&v->styles[s], &v->style_full[s], nst_style_size(o->size, o->style_scale), err)) return -1;
    }
    for (int s = 0; s < o->n_style_masks; s++)
        if (nst_image_load(&v->masks[s], o->style_masks[s], o->max_pixels, err)) return -1;
    if (o->n_style_masks) o->params.style_masks = v->masks;
    if (o->content_mask) {
        if (nst_image_load(&v->content_mask, o->content_mask, o->max_pixels, err)) return -1;
        o->params.content_mask = &v->content_mask;
    }
    if (o->init_path && nst_image_load(&v->init, o->init_path, o->max_pixels, err)) return -1;
    if (o->init_path) o->params.init_image = &v->init;
    v->ring = 1;
    for (int k = 0; k < o->n_temporal_frames; k++)
        if (o->temporal_frames[k] + 1 > v->ring) v->ring = o->temporal_frames[k] + 1;
    cli_config_path(v->config_path, sizeof v->config_path, o->output);
    return cli_resolve_layers(o, v->model, v->model_path, v->content_layers, sizeof v->content_layers, v->style_layers,
                              sizeof v->style_layers, err) ? -1 : 0;
}

// A file's identity, so that two spellings of one file compare equal.
typedef struct file_id {
    dev_t dev;
    ino_t ino;
} file_id;

static int compare_ids(const void *a, const void *b) {
    const file_id *x = a, *y = b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void add_id(file_id *ids, int *n, const char *path) {
    struct stat st;
    if (path && stat(path, &st) == 0) ids[(*n)++] = (file_id){st.st_dev, st.st_ino};
}

static int is_input(const file_id *ids, int n_ids, const char *path) {
    struct stat st;
    if (stat(path, &st)) return 0;
    file_id id = {st.st_dev, st.st_ino};
    return bsearch(&id, ids, (size_t)n_ids, sizeof *ids, compare_ids) != NULL;
}

// No file the run writes (OUTPUT.json, the video file or each frame of a sequence) may
// be one of its inputs (the model, styles, masks, start picture, and the content's file
// or every frame); and a video file's format is tried now, not after the last frame.
// Returns 0, else the exit code.
static int check_outputs(video_run *v) {
    cli_options *o = v->o;
    nst_error err;
    int n = v->info.n_frames, n_ids = 0, seq_in = nst_video_is_sequence(o->content);
    long long content_files = seq_in ? (long long)n + 5 : 1;   // a sequence is read from the first of 0..4 that exists
    file_id *ids = malloc(sizeof *ids * ((size_t)content_files + 3 + 2 * NST_MAX_STYLES));
    if (!ids) {
        say("video: out of memory");
        return cli_exit_code(NST_ERR_NOMEM);
    }
    char path[4300];
    add_id(ids, &n_ids, v->model_path);
    for (int s = 0; s < o->n_styles; s++) add_id(ids, &n_ids, o->styles[s]);
    for (int s = 0; s < o->n_style_masks; s++) add_id(ids, &n_ids, o->style_masks[s]);
    add_id(ids, &n_ids, o->content_mask);
    add_id(ids, &n_ids, o->init_path);
    int code = 0;
    for (long long k = 0; k < content_files && !code; k++) {
        if (!seq_in) add_id(ids, &n_ids, o->content);
        else if (nst_video_frame_path(path, sizeof path, o->content, k, &err)) code = fail(&err);
        else add_id(ids, &n_ids, path);
    }
    qsort(ids, (size_t)n_ids, sizeof *ids, compare_ids);
    if (!code && cli_check_output_dir(v->config_path, &err)) code = fail(&err);
    if (!code && is_input(ids, n_ids, v->config_path)) {
        say("video: %s: the record of the options would overwrite an input", v->config_path);
        code = 2;
    }
    if (!code && !nst_video_is_sequence(o->output) && is_input(ids, n_ids, o->output)) {
        say("video: %s: the output is one of the inputs; refusing to overwrite it", o->output);
        code = 2;
    }
    for (long long k = 1; k <= n && !code && nst_video_is_sequence(o->output); k++) {
        if (nst_video_frame_path(path, sizeof path, o->output, k, &err)) code = fail(&err);
        else if (is_input(ids, n_ids, path)) {
            say("video: %s: frame %lld of the output is one of the inputs; refusing to overwrite it", path, k);
            code = 2;
        }
    }
    free(ids);
    if (code || nst_video_is_sequence(o->output)) return code;
    nst_video_writer *probe = NULL;   // an unknown extension or a missing encoder: say so before any frame
    if (nst_video_create(&probe, o->output, v->w, v->h, v->fps_num, v->fps_den, &err)) return fail(&err);
    nst_video_finish(probe, 0, NULL);
    return 0;
}

static int on_progress(const nst_progress *p, void *user) {
    video_run *v = user;
    v->last = *p;
    return interrupted != 0;
}

// The targets of frame i: for each distance j of --temporal-frames with i - j >= 0, the
// stylized frame i - j warped to frame i, and its consistency mask; a longer distance
// keeps only what the shorter ones do not cover (Ruder et al.'s long-term masks).
static int temporal_targets(video_run *v, int i, nst_image *targets, nst_image *masks, int *n, nst_error *err) {
    const nst_image *cur = &v->content[i % v->ring];
    *n = 0;
    for (int k = 0; k < v->o->n_temporal_frames && v->o->temporal_frames[k] <= i; k++) {
        int j = i - v->o->temporal_frames[k];
        nst_flow back = {0}, fwd = {0};
        int rc = nst_flow_compute(&back, cur, &v->content[j % v->ring], err);
        if (!rc) rc = nst_flow_compute(&fwd, &v->content[j % v->ring], cur, err);
        if (!rc) rc = nst_flow_warp(&targets[*n], &v->stylized[j % v->ring], &back, err);
        if (!rc) rc = nst_flow_consistency(&masks[*n], &back, &fwd, err);
        nst_flow_free(&back);
        nst_flow_free(&fwd);
        if (rc) return rc;
        size_t n_values = (size_t)3 * v->w * v->h;
        for (int e = 0; e < *n; e++)   // minus what nearer frames already hold
            for (size_t q = 0; q < n_values; q++) masks[*n].data[q] = fmaxf(masks[*n].data[q] - masks[e].data[q], 0.0f);
        (*n)++;
    }
    return NST_OK;
}

// Stylizes frame i into out: the first (and every frame with --flow none) as a picture
// is, the others from the warped previous frame with the temporal term.
static int stylize_frame(video_run *v, int i, nst_image *out, nst_error *err) {
    cli_options *o = v->o;
    nst_params p = o->params;
    p.progress = on_progress;
    p.progress_user = v;
    p.temporal_weight = 0;
    p.n_temporal = 0;
    const nst_image *cur = &v->content[i % v->ring];
    if (i == 0 || o->flow == CLI_FLOW_NONE) {
        if (o->n_scales)
            return nst_transfer_scales(v->model, cur, v->style_full, o->n_styles, o->scales, o->iterations,
                                       o->n_scales, o->style_scale, &p, out, err);
        return nst_transfer(v->model, cur, v->styles, o->n_styles, &p, out, err);
    }
    nst_image targets[NST_MAX_TEMPORAL] = {{0}}, masks[NST_MAX_TEMPORAL] = {{0}}, start = {0};
    int n = 0, rc = temporal_targets(v, i, targets, masks, &n, err);
    if (!rc) {
        int total = 0;
        for (int k = 0; k < (o->n_scales ? o->n_scales : 1); k++) total += o->n_scales ? o->iterations[k] : p.iterations;
        p.iterations = o->frame_iterations ? o->frame_iterations : (total + 1) / 2;
        p.init = NST_INIT_IMAGE;
        p.init_image = &targets[0];
        // the luminance mode optimizes Y alone (the content's chroma comes back after): start from Y
        if (p.preserve_colors == NST_COLORS_LUMINANCE && !(rc = nst_color_luminance(&start, &targets[0], NULL, err)))
            p.init_image = &start;
        p.init_noise_blend = 0;
        p.temporal_weight = o->params.temporal_weight;
        p.n_temporal = p.temporal_weight > 0 ? n : 0;
        p.temporal_targets = targets;
        p.temporal_masks = masks;
        if (!rc) rc = nst_transfer(v->model, cur, v->styles, o->n_styles, &p, out, err);
    }
    nst_image_free(&start);
    for (int k = 0; k < NST_MAX_TEMPORAL; k++) { nst_image_free(&targets[k]); nst_image_free(&masks[k]); }
    return rc;
}

// The picture as saved (0..255 integers): what the next frame starts from, in this run
// and in one that goes on from the saved frames, so that both give the same bits.
static void quantize(nst_image *img) {
    for (size_t k = 0; k < (size_t)3 * img->w * img->h; k++) img->data[k] = fminf(fmaxf(rintf(img->data[k]), 0), 255);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Every frame in order: kept from an earlier run, or stylized now. Returns 0, else the exit code.
static int run_frames(video_run *v) {
    nst_error err = {0};
    int n = v->info.n_frames, fresh = 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        nst_image frame = {0}, *cur = &v->content[i % v->ring], *out = &v->stylized[i % v->ring];
        nst_image_free(cur);
        nst_image_free(out);
        int rc = nst_video_read(v->reader, &frame, &err);
        if (!rc) rc = nst_image_resize(cur, &frame, v->w, v->h, &err);
        nst_image_free(&frame);
        if (rc) return fail(&err);
        char path[4300];
        cli_frames_path(&v->frames, i, "png", path, sizeof path);
        if (i < v->frames.done) {
            if (nst_image_load(out, path, v->o->max_pixels, &err)) return fail(&err);
            if (out->w != v->w || out->h != v->h) {
                say("%s: %dx%d, not the run's %dx%d; remove %s to start afresh", path, out->w, out->h, v->w, v->h,
                    v->frames.dir);
                return 3;
            }
        } else {
            memset(&v->last, 0, sizeof v->last);
            rc = stylize_frame(v, i, out, &err);
            if (rc == NST_ERR_INTERRUPTED) {
                say("interrupted in frame %d of %d; frames 1..%d are in %s: the same command goes on from there", i + 1,
                    n, i, v->frames.dir);
                return interrupted == SIGTERM ? 143 : 130;
            }
            if (rc) return fail(&err);
            quantize(out);
            if (cli_frames_save(&v->frames, i, out, &v->last, &err)) return fail(&err);
            fresh++;
        }
        if (v->sequence && nst_video_write(v->sequence, out, &err)) return fail(&err);   // as it finishes
        json_t *r = cli_frames_result(&v->frames, i, &err);
        if (!r) return fail(&err);
        json_array_append_new(v->per_frame, r);
        if (!v->o->quiet) {
            double spent = now_s() - t0, per = fresh ? spent / fresh : 0;
            say("frame %d of %d %s; %.1f s/frame, ETA %.0f s", i + 1, n,
                i < v->frames.done ? "kept from an earlier run" : "done", per, per * (n - 1 - i));
        }
    }
    return 0;
}

// The output from the finished frames, then OUTPUT.json; the frames directory goes.
static int write_output(video_run *v) {
    nst_error err;
    nst_video_writer *wr = v->sequence;   // a sequence has its frames already
    int n = v->info.n_frames, rc = 0;
    v->sequence = NULL;
    if (!wr) rc = nst_video_create(&wr, v->o->output, v->w, v->h, v->fps_num, v->fps_den, &err);
    for (int i = 0; i < n && !rc && !nst_video_is_sequence(v->o->output); i++) {
        nst_image img = {0};
        char path[4300];
        cli_frames_path(&v->frames, i, "png", path, sizeof path);
        rc = nst_image_load(&img, path, v->o->max_pixels, &err);
        if (!rc) rc = nst_video_write(wr, &img, &err);
        nst_image_free(&img);
    }
    if (rc) { nst_video_finish(wr, 0, NULL); return fail(&err); }
    if (nst_video_finish(wr, 1, &err)) return fail(&err);
    json_t *result = json_pack("{s:i, s:O}", "frames", n, "per_frame", v->per_frame);
    cli_run_info info = {v->model_path, v->content_layers, v->style_layers, nst_model_input_convention(v->model),
                         NULL, result};
    rc = cli_config_write(v->config_path, v->o, &info, &err);
    json_decref(result);
    if (rc) return fail(&err);
    cli_frames_remove(&v->frames, n);
    if (!v->o->quiet) say("wrote %s (%d frames) and %s", v->o->output, n, v->config_path);
    char next[4300];   // a longer sequence written there before: its later frames are not this run's
    struct stat st;
    if (!v->o->quiet && nst_video_is_sequence(v->o->output) &&
        !nst_video_frame_path(next, sizeof next, v->o->output, n + 1, &err) && stat(next, &st) == 0)
        say("note: %s and any after it were there before this run; they are not part of its %d frames", next, n);
    return 0;
}

// A parsed run: checks, inputs, frames, output. Returns the exit code.
static int video_run_parsed(video_run *v) {
    nst_error err = {0};
    int code = check_request(v);
    if (code) return code;
    if (load_inputs(v, &err)) return fail(&err);
    if ((code = check_outputs(v))) return code;
    // the options as OUTPUT.json records them: the frames directory belongs to them
    cli_run_info info = {v->model_path, v->content_layers, v->style_layers, nst_model_input_convention(v->model),
                         NULL, NULL};
    char *record = cli_config_json(v->o, &info, &err);
    if (!record) return fail(&err);
    int rc = cli_frames_open(&v->frames, v->o->output, record, &err);
    free(record);
    if (rc) return fail(&err);
    if (!v->o->quiet)
        say("video %s: %d frames of %dx%d at %d/%d fps, stylized at %dx%d, flow %s, temporal weight %g%s",
            v->o->content, v->info.n_frames, v->info.w, v->info.h, v->fps_num, v->fps_den, v->w, v->h,
            v->o->flow == CLI_FLOW_DIS ? "dis" : "none", v->o->params.temporal_weight,
            v->frames.done ? "; going on from the frames finished before" : "");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;   // the run polls the flag; no library call should see EINTR
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!(v->per_frame = json_array())) return usage_error("out of memory");
    if (nst_video_is_sequence(v->o->output) &&
        nst_video_create(&v->sequence, v->o->output, v->w, v->h, v->fps_num, v->fps_den, &err))
        return fail(&err);
    if ((code = run_frames(v))) return code;
    return write_output(v);
}

int cli_video_run_options(cli_options *o, const char *label) {
    cli_signals_to_one_thread();   // before the first OpenMP region starts its threads
    video_run *v = calloc(1, sizeof *v);
    if (!v) {
        free(o);
        say("out of memory");
        return cli_exit_code(NST_ERR_NOMEM);
    }
    v->o = o;
    job_label = label;
    int code = video_run_parsed(v);
    job_label = NULL;
    video_free(v);
    return code;
}

int cli_video_command(int argc, char **argv) {
    nst_error err = {0};
    cli_options *o = malloc(sizeof *o);
    if (!o) {
        say("out of memory");
        return cli_exit_code(NST_ERR_NOMEM);
    }
    int parsed = cli_parse_video(o, argc, argv, &err);
    if (parsed) {
        if (parsed < 0) say("video: %s", err.msg);
        free(o);
        return parsed > 0 ? 0 : err.code == NST_ERR_USAGE ? 2 : cli_exit_code(err.code);
    }
    return cli_video_run_options(o, NULL);
}
