// video_frames.c: nst video's working directory (video_frames.h).
#include <stdio.h>
#include "video_frames.h"
#include "files.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_frames_path(const cli_frames *f, int i, const char *ext, char *buf, size_t n) {
    snprintf(buf, n, "%s/%05d.%s", f->dir, i + 1, ext);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int cli_frames_open(cli_frames *f, const char *output, const char *record, nst_error *err) {
    char path[4300];
    snprintf(f->dir, sizeof f->dir, "%s.frames", output);
    f->done = 0;
    snprintf(path, sizeof path, "%s/run.json", f->dir);
    if (mkdir(f->dir, 0777) == 0) return cli_write_text_atomic(path, record, err);
    if (errno != EEXIST) return nst_error_set(err, NST_ERR_IO, "%s: cannot create the frames directory: %s", f->dir, strerror(errno));
    char *had = NULL;
    FILE *in = fopen(path, "rb");
    if (in) {
        size_t cap = strlen(record) + 2, len = 0;
        if ((had = malloc(cap))) {
            len = fread(had, 1, cap - 1, in);
            had[len] = 0;
        }
        fclose(in);
    }
    if (!had) return nst_error_set(err, NST_ERR_USAGE, "%s: exists, but not as nst video's frames (no run.json): "
                                                       "move it away", f->dir);
    int same = !strcmp(had, record);
    free(had);
    if (!same)
        return nst_error_set(err, NST_ERR_USAGE, "%s: holds the frames of a run with other options; remove it to "
                                                 "start afresh, or run with the options of %s/run.json", f->dir, f->dir);
    for (;; f->done++) {   // finished: the PNG and, written after it, its JSON
        char png[4300], json[4300];
        cli_frames_path(f, f->done, "png", png, sizeof png);
        cli_frames_path(f, f->done, "json", json, sizeof json);
        if (!exists(png) || !exists(json)) break;
    }
    return NST_OK;
}

int cli_frames_save(const cli_frames *f, int i, const nst_image *img, const nst_progress *last, nst_error *err) {
    char path[4300];
    cli_frames_path(f, i, "png", path, sizeof path);
    if (nst_image_save(img, path, err)) return err->code;
    char text[1024];
    int len = snprintf(text, sizeof text, "{\"frame\": %d, \"iteration\": %d, \"loss\": %.9g", i + 1, last->iter,
                       last->loss);
    for (int t = 0; t < last->n_terms && len < (int)sizeof text; t++)
        len += snprintf(text + len, sizeof text - len, ", \"%s\": %.9g", last->term_name[t], last->term[t]);
    if (len + 3 >= (int)sizeof text) return nst_error_set(err, NST_ERR_USAGE, "%s: too many loss terms", path);
    snprintf(text + len, sizeof text - len, "}\n");
    cli_frames_path(f, i, "json", path, sizeof path);
    return cli_write_text_atomic(path, text, err);
}

json_t *cli_frames_result(const cli_frames *f, int i, nst_error *err) {
    char path[4300];
    json_error_t jerr;
    cli_frames_path(f, i, "json", path, sizeof path);
    json_t *v = json_load_file(path, 0, &jerr);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        nst_error_set(err, NST_ERR_FORMAT, "%s: damaged (%s); remove the frames directory to start afresh", path,
                      jerr.text);
        return NULL;
    }
    return v;
}

void cli_frames_remove(const cli_frames *f, int n_frames) {
    char path[4300];
    for (int i = 0; i < n_frames; i++) {
        cli_frames_path(f, i, "png", path, sizeof path);
        unlink(path);
        cli_frames_path(f, i, "json", path, sizeof path);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/run.json", f->dir);
    unlink(path);
    rmdir(f->dir);
}
