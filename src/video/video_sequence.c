// video_sequence.c: numbered picture sequences ("frames/%05d.png") as videos.
//
// A pattern holds exactly one %d or %0Nd and doubles every other '%'. The file names
// are built here, not by printf on the caller's pattern. Reading starts at the first
// of numbers 0..4 that exists and runs on to the first missing number; every frame
// is decoded once when opened so that a damaged or differently sized one is refused
// then. Writing numbers frames from 1, each saved atomically by nst_image_save.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "video/video.h"

#define MAX_WIDTH 20
#define SEQ_FPS_NUM 25
#define SEQ_FPS_DEN 1

struct nsti_seq_reader {
    char *pattern;
    long long first, count, next;
    long long max_pixels;
    int w, h;
};

struct nsti_seq_writer {
    char *pattern;
    long long next;
    int w, h;
};

int nsti_seq_is_pattern(const char *path) {
    for (const char *p = path; *p; p++) {
        if (*p != '%') continue;
        if (p[1] == '%') { p++; continue; }
        return 1;
    }
    return 0;
}

// Parses the conversion at p ('%' not followed by '%'): its width (0 for %d) and
// length, or -1 when it is not %d or %0Nd.
static int parse_conversion(const char *p, int *width) {
    *width = 0;
    if (p[1] == 'd') return 2;
    if (p[1] != '0') return -1;
    int n = 0, i = 2;
    while (p[i] >= '0' && p[i] <= '9' && i < 5) n = n * 10 + (p[i++] - '0');
    if (i == 2 || p[i] != 'd' || n < 1 || n > MAX_WIDTH) return -1;
    *width = n;
    return i + 1;
}

int nsti_seq_check_pattern(const char *path, nst_error *err) {
    int conversions = 0;
    for (const char *p = path; *p; p++) {
        if (*p != '%') continue;
        if (p[1] == '%') { p++; continue; }
        int width, len = parse_conversion(p, &width);
        if (len < 0)
            return nsti_fail(err, NST_ERR_USAGE,
                             "%s: bad picture sequence pattern: use one %%d or %%0Nd (N up to %d), and %%%% for "
                             "a literal %%", path, MAX_WIDTH);
        conversions++;
        p += len - 1;
    }
    if (conversions != 1)
        return nsti_fail(err, NST_ERR_USAGE,
                         "%s: bad picture sequence pattern: it needs exactly one %%d or %%0Nd, not %d", path,
                         conversions);
    return NST_OK;
}

char *nsti_seq_name(const char *pattern, long long number) {
    size_t len = strlen(pattern);
    char *out = malloc(len + 32);
    if (!out) return NULL;
    char *o = out;
    for (const char *p = pattern; *p; p++) {
        if (*p != '%') { *o++ = *p; continue; }
        if (p[1] == '%') { *o++ = '%'; p++; continue; }
        int width, n = parse_conversion(p, &width);
        if (n < 0) { free(out); return NULL; }   // checked before: not reached
        o += snprintf(o, 32, "%0*lld", width, number);
        p += n - 1;
    }
    *o = 0;
    return out;
}

int nst_video_frame_path(char *buf, size_t size, const char *pattern, long long number, nst_error *err) {
    if (!buf || !pattern) return nsti_fail(err, NST_ERR_USAGE, "nst_video_frame_path: no buffer or pattern");
    int rc = nsti_seq_check_pattern(pattern, err);
    if (rc) return rc;
    char *name = nsti_seq_name(pattern, number);
    if (!name) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", pattern);
    size_t len = strlen(name);
    if (len >= size) {
        free(name);
        return nsti_fail(err, NST_ERR_USAGE, "%s: frame %lld's name is %zu bytes, over the buffer's %zu", pattern,
                         number, len, size);
    }
    memcpy(buf, name, len + 1);
    free(name);
    return NST_OK;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static int load_frame(const nsti_seq_reader *r, long long number, nst_image *frame, nst_error *err) {
    char *name = nsti_seq_name(r->pattern, number);
    if (!name) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", r->pattern);
    int rc = nst_image_load(frame, name, r->max_pixels, err);
    if (rc == NST_OK && frame->w > NSTI_VIDEO_MAX_SIDE) rc = NST_ERR_LIMIT;
    if (rc == NST_OK && frame->h > NSTI_VIDEO_MAX_SIDE) rc = NST_ERR_LIMIT;
    if (rc == NST_ERR_LIMIT && frame->data) {
        nsti_fail(err, rc, "%s: frame of %dx%d pixels: more than %d pixels a side", name, frame->w, frame->h,
                  NSTI_VIDEO_MAX_SIDE);
        nst_image_free(frame);
    }
    if (rc == NST_OK && r->w && (frame->w != r->w || frame->h != r->h)) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: frame is %dx%d, the sequence's first frame %dx%d", name,
                       frame->w, frame->h, r->w, r->h);
        nst_image_free(frame);
    }
    free(name);
    return rc;
}

void nsti_seq_close(nsti_seq_reader *r) {
    if (!r) return;
    free(r->pattern);
    free(r);
}

int nsti_seq_open(nsti_seq_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                  nst_error *err) {
    *out = NULL;
    int rc = nsti_seq_check_pattern(path, err);
    if (rc) return rc;
    nsti_seq_reader *r = calloc(1, sizeof *r);
    if (r) r->pattern = strdup(path);
    if (!r || !r->pattern) {
        nsti_seq_close(r);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    r->max_pixels = max_pixels;
    r->first = -1;
    for (long long i = 0; i <= 4 && r->first < 0; i++) {
        char *name = nsti_seq_name(path, i);
        if (!name) {
            nsti_seq_close(r);
            return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        }
        if (exists(name)) r->first = i;
        free(name);
    }
    if (r->first < 0) {
        nsti_seq_close(r);
        return nsti_fail(err, NST_ERR_IO, "%s: picture sequence has no frames (none numbered 0 to 4 exists)",
                         path);
    }
    for (long long i = r->first;; i++) {
        char *name = nsti_seq_name(path, i);
        if (!name) {
            nsti_seq_close(r);
            return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        }
        int there = exists(name);
        free(name);
        if (!there) break;
        if (r->count >= NST_VIDEO_MAX_FRAMES) {
            nsti_seq_close(r);
            return nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d frames", path, NST_VIDEO_MAX_FRAMES);
        }
        nst_image frame = {0, 0, NULL};
        if ((rc = load_frame(r, i, &frame, err))) {
            nsti_seq_close(r);
            return rc;
        }
        r->w = frame.w;
        r->h = frame.h;
        nst_image_free(&frame);
        r->count++;
    }
    r->next = 0;
    if (info) {
        info->w = r->w;
        info->h = r->h;
        info->n_frames = (int)r->count;
        info->fps_num = SEQ_FPS_NUM;
        info->fps_den = SEQ_FPS_DEN;
    }
    *out = r;
    return NST_OK;
}

int nsti_seq_read(nsti_seq_reader *r, nst_image *frame, nst_error *err) {
    if (r->next >= r->count)
        return nsti_fail(err, NST_ERR_USAGE, "%s: read past the last frame (the sequence has %lld)", r->pattern,
                         r->count);
    int rc = load_frame(r, r->first + r->next, frame, err);
    if (rc == NST_OK) r->next++;
    return rc;
}

// Checks the extension nst_image_save will need and that the directory exists.
static int check_target(const char *pattern, const char *name, nst_error *err) {
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot || (strcasecmp(dot, ".png") && strcasecmp(dot, ".jpg") && strcasecmp(dot, ".jpeg")))
        return nsti_fail(err, NST_ERR_USAGE, "%s: a picture sequence's frames must be .png, .jpg or .jpeg",
                         pattern);
    if (!slash || slash == name) return NST_OK;
    size_t n = (size_t)(slash - name);
    char *dir = malloc(n + 1);
    if (!dir) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", pattern);
    memcpy(dir, name, n);
    dir[n] = 0;
    struct stat st;
    int rc = NST_OK;
    if (stat(dir, &st) != 0)
        rc = nsti_fail(err, NST_ERR_IO, "%s: cannot write frames into %s: %s", pattern, dir, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        rc = nsti_fail(err, NST_ERR_IO, "%s: cannot write frames into %s: not a directory", pattern, dir);
    free(dir);
    return rc;
}

int nsti_seq_create(nsti_seq_writer **out, const char *path, int w, int h, nst_error *err) {
    *out = NULL;
    int rc = nsti_seq_check_pattern(path, err);
    if (rc) return rc;
    char *first = nsti_seq_name(path, 1);
    if (!first) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    rc = check_target(path, first, err);
    free(first);
    if (rc) return rc;
    nsti_seq_writer *v = calloc(1, sizeof *v);
    if (v) v->pattern = strdup(path);
    if (!v || !v->pattern) {
        free(v);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    v->next = 1;
    v->w = w;
    v->h = h;
    *out = v;
    return NST_OK;
}

int nsti_seq_write(nsti_seq_writer *v, const nst_image *frame, nst_error *err) {
    if (!frame || !frame->data || frame->w != v->w || frame->h != v->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: frame is %dx%d, the sequence's frames %dx%d", v->pattern,
                         frame ? frame->w : 0, frame ? frame->h : 0, v->w, v->h);
    if (v->next > NST_VIDEO_MAX_FRAMES)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: more than %d frames", v->pattern, NST_VIDEO_MAX_FRAMES);
    char *name = nsti_seq_name(v->pattern, v->next);
    if (!name) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", v->pattern);
    int rc = nst_image_save(frame, name, err);
    free(name);
    if (rc == NST_OK) v->next++;
    return rc;
}

int nsti_seq_finish(nsti_seq_writer *v, int ok, nst_error *err) {
    (void)ok;   // every frame is already in place, each written atomically
    (void)err;
    free(v->pattern);
    free(v);
    return NST_OK;
}
