// embed.c: a program that uses the installed nst library (README.md beside it says how to build it).
//
//   embed MODEL CONTENT STYLE OUT [SIZE [ITERATIONS [STOP_AT [SNAPSHOT_EVERY]]]]
//
// Paints CONTENT in the style of STYLE at SIZE pixels (default 128) with Adam for
// ITERATIONS steps (default 20) and writes OUT. Its progress callback shows the
// three things an embedding program can do while nst runs:
//   - show progress its own way: one line per iteration on stdout;
//   - stop the run: at iteration STOP_AT (default: never) it returns nonzero, and
//     nst_transfer hands back the picture as it is then;
//   - take intermediate pictures: every SNAPSHOT_EVERY iterations (default 0: never)
//     it saves the current picture as OUT-stepNNN.png.
// Exit status: 0 done, 3 stopped early (the picture so far is written), 1 error.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nst.h>

typedef struct watch {
    int stop_at;          // stop after this iteration (-1: never)
    int snapshot_every;   // 0: no snapshots
    const char *out;      // OUT, for the snapshots' names
    int snapshots;        // snapshots written
    nst_error err;        // a failed snapshot
    int failed;
} watch;

static int on_progress(const nst_progress *p, void *user) {
    watch *w = user;
    printf("embed: iteration %d/%d  loss %.4g  (", p->iter, p->iterations, p->loss);
    for (int t = 0; t < p->n_terms; t++) printf("%s%s %.3g", t ? ", " : "", p->term_name[t], p->term[t]);
    printf(")  %.2f s\n", p->time_s);
    fflush(stdout);
    if (w->snapshot_every > 0 && p->iter > 0 && p->iter % w->snapshot_every == 0) {
        char path[4096];
        const char *dot = strrchr(w->out, '.');
        int stem = dot ? (int)(dot - w->out) : (int)strlen(w->out);
        snprintf(path, sizeof path, "%.*s-step%03d.png", stem, w->out, p->iter);
        nst_image now = {0};
        if (nst_progress_image(p, &now, &w->err) || nst_image_save(&now, path, &w->err)) {
            nst_image_free(&now);
            w->failed = 1;
            return 1;   // stop: something is wrong
        }
        nst_image_free(&now);
        printf("embed: saved %s\n", path);
        w->snapshots++;
    }
    return w->stop_at >= 0 && p->iter >= w->stop_at;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 9) {
        fprintf(stderr, "usage: embed MODEL CONTENT STYLE OUT [SIZE [ITERATIONS [STOP_AT [SNAPSHOT_EVERY]]]]\n");
        return 1;
    }
    int size = argc > 5 ? atoi(argv[5]) : 128;
    watch w = {argc > 7 ? atoi(argv[7]) : -1, argc > 8 ? atoi(argv[8]) : 0, argv[4], 0, {0}, 0};
    printf("embed: nst %s\n", nst_version());

    nst_error err = {0};
    nst_model *model = NULL;
    nst_image content_full = {0}, style_full = {0}, content = {0}, style = {0}, out = {0};
    nst_params p;
    nst_params_default(&p);
    p.optimizer = NST_OPTIMIZER_ADAM;
    p.lr = 2.0f;
    p.iterations = argc > 6 ? atoi(argv[6]) : 20;
    p.progress = on_progress;
    p.progress_user = &w;

    int status = 1;
    int rc = nst_model_load(&model, argv[1], &err);
    if (!rc) rc = nst_image_load(&content_full, argv[2], NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_load(&style_full, argv[3], NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_fit(&content, &content_full, size, &err);
    if (!rc) rc = nst_image_fit(&style, &style_full, size, &err);
    if (!rc) {
        char cl[256], sl[256];
        if (nst_resolve_layers(model, &p, cl, sizeof cl, sl, sizeof sl, &err) == NST_OK)
            printf("embed: %dx%d, content layers %s, style layers %s\n", content.w, content.h, cl, sl);
        rc = nst_transfer(model, &content, &style, 1, &p, &out, &err);
    }
    if (w.failed) {
        fprintf(stderr, "embed: %s\n", w.err.msg);
    } else if (rc == NST_OK || rc == NST_ERR_INTERRUPTED) {
        // interrupted by our callback: out holds the picture as it was when we stopped
        nst_error serr;
        if (nst_image_save(&out, argv[4], &serr)) {
            fprintf(stderr, "embed: %s\n", serr.msg);
        } else {
            if (rc == NST_ERR_INTERRUPTED) printf("embed: stopped early at iteration %d\n", w.stop_at);
            printf("embed: wrote %s (%d snapshots)\n", argv[4], w.snapshots);
            status = rc == NST_OK ? 0 : 3;
        }
    } else {
        fprintf(stderr, "embed: %s\n", err.msg);
    }
    nst_image_free(&out);
    nst_image_free(&style);
    nst_image_free(&content);
    nst_image_free(&style_full);
    nst_image_free(&content_full);
    nst_model_free(model);
    return status;
}
