// main.c: the `nst` command-line program. The only part of nst that prints.
#include <stdio.h>
#include "options.h"
#include "files.h"
#include "model_cmd.h"
#include "plot.h"
#include "animate.h"
#include "contact.h"
#include "config.h"
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

int cli_exit_code(int status) {
    switch (status) {
    case NST_OK: return 0;
    case NST_ERR_USAGE: return 2;
    case NST_ERR_IO: case NST_ERR_FORMAT: case NST_ERR_MODEL: return 3;
    case NST_ERR_LIMIT: case NST_ERR_NOMEM: return 4;
    case NST_ERR_NUMERIC: return 5;
    case NST_ERR_INTERRUPTED: return 130;
    default: return 1;
    }
}

typedef struct run_ctx {
    const cli_options *o;
    FILE *log;
    int bar;              // draw a progress bar on stderr
    nst_error save_err;
    int save_failed;
    cli_plot *plot;       // --plot: every iteration's losses
    cli_anim *anim;       // --animate: frames
    int last_iter;        // the last iteration the callback saw
} run_ctx;

static int on_progress(const nst_progress *p, void *user) {
    run_ctx *rc = user;
    if (rc->last_iter < 0 && rc->o->params.resume && !rc->o->quiet)
        fprintf(stderr, "nst: resuming from %s at iteration %d\n", rc->o->params.resume, p->iter);
    rc->last_iter = p->iter;
    if ((rc->plot && cli_plot_add(rc->plot, p, &rc->save_err)) ||
        (rc->anim && cli_anim_progress(rc->anim, p, &rc->save_err))) {
        rc->save_failed = 1;
        return 1;
    }
    if (rc->log) {   // one JSON object a line: the loss, then every term by its name
        fprintf(rc->log, "{\"iter\":%d,\"time_s\":%.4f,\"loss\":%.9g", p->iter, p->time_s, p->loss);
        for (int t = 0; t < p->n_terms; t++) fprintf(rc->log, ",\"%s\":%.9g", p->term_name[t], p->term[t]);
        fputs("}\n", rc->log);
        fflush(rc->log);
    }
    if (rc->bar) {
        double rate = p->time_s > 0 ? p->iter / p->time_s : 0;
        double eta = rate > 0 ? (p->iterations - p->iter) / rate : 0;
        int width = 24, filled = p->iterations ? (int)((double)width * p->iter / p->iterations) : width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r[%s] %d/%d loss %.4g (", bar, p->iter, p->iterations, p->loss);
        for (int t = 0, shown = 0; t < p->n_terms; t++)   // the range penalty is not a term people set
            if (strcmp(p->term_name[t], "range")) fprintf(stderr, "%s%s %.3g", shown++ ? " " : "", p->term_name[t], p->term[t]);
        fprintf(stderr, ") %.2f it/s ETA %.0fs ", rate, eta);
        fflush(stderr);
    }
    if (rc->o->save_every > 0 && p->iter > 0 && p->iter % rc->o->save_every == 0 && p->iter < p->iterations) {
        nst_image img = {0};
        char path[4200];
        cli_numbered_path(path, sizeof path, rc->o->output, p->iter);
        if (nst_progress_image(p, &img, &rc->save_err) || nst_image_save(&img, path, &rc->save_err)) {
            rc->save_failed = 1;
            nst_image_free(&img);
            return 1;
        }
        nst_image_free(&img);
    }
    return interrupted != 0;
}

static int fail(const nst_error *err) {
    fprintf(stderr, "nst: %s\n", err->msg);
    return cli_exit_code(err->code);
}


// "123.4 MiB"
static const char *human_bytes(char *buf, size_t n, double bytes) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) { bytes /= 1024; u++; }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

// After an interrupt at iteration `stop` (counted across stages): the options that
// make the picture written, for OUTPUT.json. The optimization is deterministic, so
// the same run stopped there by its iteration count gives the same picture; with
// --scales, the stages after the interrupted one are dropped.
static void record_stop(cli_options *o, int stop) {
    o->scales_auto = 0;   // the stages as they ran, written out
    if (!o->n_scales) {
        o->params.iterations = o->iterations[0] = stop;
        return;
    }
    // the stage that reported iteration `stop`: a later stage's iteration 0 is not
    // reported, so it is the first whose last iteration is at or after it
    int before = 0, k = 0;
    while (k < o->n_scales - 1 && before + o->iterations[k] < stop) before += o->iterations[k++];
    o->iterations[k] = stop - before;
    o->n_scales = o->n_iterations = k + 1;
    o->size = o->scales[k];
}

static int run(int argc, char **argv) {
    cli_options o;
    nst_error err = {0};
    int r = cli_parse(&o, argc, argv, &err);
    if (r > 0) return 0;
    if (r < 0) { fprintf(stderr, "nst: %s\n", err.msg); return err.code == NST_ERR_USAGE ? 2 : cli_exit_code(err.code); }

    // the inputs: no output may replace one of them
    const char *inputs[4 + 2 * NST_MAX_STYLES];
    int n_inputs = 0;
    if (o.params.resume) inputs[n_inputs++] = o.params.resume;   // first: --checkpoint may replace it
    inputs[n_inputs++] = o.content;
    for (int s = 0; s < o.n_styles; s++) inputs[n_inputs++] = o.styles[s];
    for (int s = 0; s < o.n_style_masks; s++) inputs[n_inputs++] = o.style_masks[s];
    if (o.init_path) inputs[n_inputs++] = o.init_path;
    if (o.content_mask) inputs[n_inputs++] = o.content_mask;
    for (int s = 0; s < o.n_styles; s++)
        if (cli_same_file(o.output, o.styles[s])) {
            fprintf(stderr, "nst: %s: the output is one of the style inputs; refusing to overwrite it\n", o.output);
            return 2;
        }
    for (int k = 0; k < n_inputs; k++)
        if (cli_same_file(o.output, inputs[k])) {
            fprintf(stderr, "nst: %s: the output is one of the inputs; refusing to overwrite it\n", o.output);
            return 2;
        }
    if (cli_check_output_dir(o.output, &err)) return fail(&err);
    char config_path[4200];
    cli_config_path(config_path, sizeof config_path, o.output);
    for (int k = 0; k < n_inputs; k++)
        if (cli_same_file(config_path, inputs[k])) {
            fprintf(stderr, "nst: %s: the record of the options would overwrite an input\n", config_path);
            return 2;
        }
    if (o.log_path) {
        int clash = !strcmp(o.log_path, o.output) || cli_same_file(o.log_path, o.output) ||
                    !strcmp(o.log_path, config_path);
        for (int k = 0; k < n_inputs; k++) clash |= cli_same_file(o.log_path, inputs[k]);
        if (clash) {
            fprintf(stderr, "nst: %s: the log would overwrite an input or the output\n", o.log_path);
            return 2;
        }
    }

    // --plot, --animate, --contact-sheet, --checkpoint: the right kind of file, not an
    // input (a checkpoint may replace the one it resumes from), not another output,
    // in a writable directory
    const char *extra[4] = {o.plot_path, o.animate_path, o.contact_path, o.params.checkpoint};
    const char *extra_opt[4] = {"--plot", "--animate", "--contact-sheet", "--checkpoint"};
    if ((o.plot_path && cli_plot_check_path(o.plot_path, &err)) ||
        (o.animate_path && cli_anim_check_path(o.animate_path, &err)) ||
        (o.contact_path && cli_contact_check_path(o.contact_path, &err))) {
        fprintf(stderr, "nst: %s\n", err.msg);
        return 2;
    }
    for (int e = 0; e < 4; e++) {
        if (!extra[e]) continue;
        int clash = !strcmp(extra[e], o.output) || cli_same_file(extra[e], o.output) ||
                    !strcmp(extra[e], config_path) || (o.log_path && !strcmp(extra[e], o.log_path));
        int first_input = e == 3 && o.params.resume ? 1 : 0;
        for (int k = first_input; k < n_inputs; k++) clash |= cli_same_file(extra[e], inputs[k]);
        for (int f = 0; f < e; f++) clash |= extra[f] && !strcmp(extra[e], extra[f]);
        if (clash) {
            fprintf(stderr, "nst: %s: the %s file would overwrite an input or another output\n", extra[e], extra_opt[e]);
            return 2;
        }
        if (cli_check_output_dir(extra[e], &err)) return fail(&err);
    }

    char model_buf[4096];
    const char *model_path = cli_model_path(&o, model_buf, sizeof model_buf);
    nst_model *model = NULL;
    nst_image content_full = {0}, content = {0}, init_full = {0}, content_mask = {0};
    nst_image style_full[NST_MAX_STYLES] = {{0}}, styles[NST_MAX_STYLES] = {{0}};
    nst_image masks[NST_MAX_STYLES] = {{0}};
    nst_image out = {0};
    FILE *log = NULL;
    int code = 0;
    cli_plot plot = {0};
    cli_anim anim = {0};

    if (access(model_path, F_OK) && !o.model && !getenv("NST_MODEL")) {
        fprintf(stderr, "nst: %s: no model there; run `make weights`, or give one with --model FILE or $NST_MODEL\n", model_path);
        return 3;
    }
    if (nst_model_load(&model, model_path, &err)) { code = fail(&err); goto done; }
    if (o.model_input && nst_model_set_input(model, o.model_input, &err)) { code = fail(&err); goto done; }
    if (nst_image_load(&content_full, o.content, o.max_pixels, &err)) { code = fail(&err); goto done; }
    for (int s = 0; s < o.n_styles; s++)
        if (nst_image_load(&style_full[s], o.styles[s], o.max_pixels, &err)) { code = fail(&err); goto done; }
    // with --scales, nst_transfer_scales resizes for each stage itself
    int w, h;
    nst_fit_size(content_full.w, content_full.h, o.size, &w, &h);
    if (!o.n_scales) {
        if (nst_image_fit(&content, &content_full, o.size, &err)) { code = fail(&err); goto done; }
        int style_size = (int)lroundf(o.size * o.style_scale);
        if (style_size < 16) style_size = 16;
        for (int s = 0; s < o.n_styles; s++)
            if (nst_image_fit(&styles[s], &style_full[s], style_size, &err)) { code = fail(&err); goto done; }
    }
    if (o.init_path) {
        if (nst_image_load(&init_full, o.init_path, o.max_pixels, &err)) { code = fail(&err); goto done; }
        o.params.init_image = &init_full;
    }
    if (o.n_style_masks) {
        for (int s = 0; s < o.n_style_masks; s++)
            if (nst_image_load(&masks[s], o.style_masks[s], o.max_pixels, &err)) { code = fail(&err); goto done; }
        o.params.style_masks = masks;
    }
    if (o.content_mask) {
        if (nst_image_load(&content_mask, o.content_mask, o.max_pixels, &err)) { code = fail(&err); goto done; }
        o.params.content_mask = &content_mask;
    }

    char cl[512], sl[512];
    if (nst_resolve_layers(model, &o.params, cl, sizeof cl, sl, sizeof sl, &err)) { code = fail(&err); goto done; }
    int total_iterations = o.params.iterations;
    if (o.n_scales) {
        total_iterations = 0;
        for (int k = 0; k < o.n_scales; k++) total_iterations += o.iterations[k];
    }
    if (!o.quiet) {
        char est[32], lim[32], stages[200] = "";
        if (o.n_scales) {
            int len = snprintf(stages, sizeof stages, " in %d stages (", o.n_scales);
            for (int k = 0; k < o.n_scales && len < (int)sizeof stages; k++)
                len += snprintf(stages + len, sizeof stages - len, "%s%d px", k ? ", " : "", o.scales[k]);
            if (len < (int)sizeof stages) snprintf(stages + len, sizeof stages - len, ")");
        }
        fprintf(stderr, "nst: %dx%d%s, model %s (%d conv layers, %s input), content layers %s, style layers %s\n",
                w, h, stages, model_path, nst_model_conv_count(model), nst_model_input_convention(model), cl, sl);
        // the styles at the size the (last) run gives them
        int sw[NST_MAX_STYLES], sh[NST_MAX_STYLES], style_size = (int)lroundf(o.size * o.style_scale);
        for (int s = 0; s < o.n_styles; s++)
            nst_fit_size(style_full[s].w, style_full[s].h, style_size < 16 ? 16 : style_size, &sw[s], &sh[s]);
        double bytes = (double)nst_estimate_bytes(model, &o.params, w, h, sw, sh, o.n_styles);
        if (o.params.max_memory)
            fprintf(stderr, "nst: memory estimate %s at %dx%d, limit %s (--max-memory)\n",
                    human_bytes(est, sizeof est, bytes), w, h, human_bytes(lim, sizeof lim, (double)o.params.max_memory));
        else
            fprintf(stderr, "nst: memory estimate %s at %dx%d, no limit\n", human_bytes(est, sizeof est, bytes), w, h);
    }

    if (o.log_path && !(log = fopen(o.log_path, "w"))) {
        fprintf(stderr, "nst: %s: cannot write the log\n", o.log_path);
        code = 3;
        goto done;
    }
    if (o.animate_path) {
        int every = o.animate_every > 0 ? o.animate_every : total_iterations / 50;
        if (cli_anim_init(&anim, every > 0 ? every : 1, CLI_ANIM_MAX_FRAMES, CLI_ANIM_MAX_SIDE, &err)) {
            code = fail(&err);
            goto done;
        }
        if (o.n_scales) cli_anim_fix_size(&anim, w, h);   // the stages' frames grow: show them at the end's size
    }
    run_ctx ctx = {&o, log, !o.quiet && isatty(2), {0}, 0, o.plot_path ? &plot : NULL,
                   o.animate_path ? &anim : NULL, -1};
    o.params.progress = on_progress;
    o.params.progress_user = &ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int st = o.n_scales
        ? nst_transfer_scales(model, &content_full, style_full, o.n_styles, o.scales, o.iterations, o.n_scales,
                              o.style_scale, &o.params, &out, &err)
        : nst_transfer(model, &content, styles, o.n_styles, &o.params, &out, &err);
    if (ctx.bar) fputc('\n', stderr);
    if (ctx.save_failed) { code = fail(&ctx.save_err); goto done; }
    // a checkpoint that could not be written stops the run with the picture so far
    int kept = st == NST_OK || st == NST_ERR_INTERRUPTED || st == NST_ERR_NUMERIC || (st == NST_ERR_IO && out.data);
    if (!kept) { code = fail(&err); goto done; }
    if (out.data) {
        nst_error serr;
        if (nst_image_save(&out, o.output, &serr)) { code = fail(&serr); goto done; }
        // what made it, beside it
        cli_run_info info = {model_path, cl, sl, nst_model_input_convention(model)};
        if ((st == NST_ERR_INTERRUPTED || st == NST_ERR_IO) && ctx.last_iter >= 0) record_stop(&o, ctx.last_iter);
        if (cli_config_write(config_path, &o, &info, &serr)) { code = fail(&serr); goto done; }
        // the pictures of the run, also after an interrupt or a NaN
        if (o.plot_path && cli_plot_write(&plot, o.plot_path, &serr)) { code = fail(&serr); goto done; }
        if (o.animate_path) {
            // end on the result, unless the last frame taken is already it
            if ((anim.n == 0 || anim.iters[anim.n - 1] != ctx.last_iter) &&
                cli_anim_add(&anim, &out, ctx.last_iter, &serr)) { code = fail(&serr); goto done; }
            if (cli_anim_write(&anim, o.animate_path, &serr)) { code = fail(&serr); goto done; }
        }
        if (o.contact_path) {
            // the content at the result's size (with --scales it was not resized here)
            if ((!content.data && nst_image_resize(&content, &content_full, out.w, out.h, &serr)) ||
                cli_contact_sheet(o.contact_path, &content, style_full, o.n_styles, &out, &serr)) {
                code = fail(&serr);
                goto done;
            }
        }
    }
    int ckpt_written = st == NST_ERR_INTERRUPTED && o.params.checkpoint;
    if (st == NST_ERR_INTERRUPTED || (st == NST_ERR_IO && interrupted)) {
        fprintf(stderr, "nst: interrupted at iteration %d; wrote the current image to %s%s%s and its options to %s\n",
                ctx.last_iter, o.output, ckpt_written ? ", a checkpoint to " : "",
                ckpt_written ? o.params.checkpoint : "", config_path);
        code = interrupted == SIGTERM ? 143 : 130;
    }
    if (st == NST_ERR_IO) {   // a checkpoint could not be written: that is the error, whatever else
        fprintf(stderr, "nst: %s (the picture so far is in %s)\n", err.msg, o.output);
        code = 3;
    } else if (st == NST_ERR_NUMERIC) {
        code = fail(&err);
    } else if (st == NST_OK && !o.quiet) {
        fprintf(stderr, "nst: wrote %s and %s\n", o.output, config_path);
    }
done:
    if (log) fclose(log);
    cli_plot_free(&plot);
    cli_anim_free(&anim);
    nst_image_free(&out);
    for (int s = 0; s < NST_MAX_STYLES; s++) {
        nst_image_free(&styles[s]);
        nst_image_free(&style_full[s]);
        nst_image_free(&masks[s]);
    }
    nst_image_free(&content); nst_image_free(&content_full); nst_image_free(&init_full);
    nst_image_free(&content_mask);
    nst_model_free(model);
    return code;
}

int main(int argc, char **argv) {
    nst_blas_single_threaded();   // this program owns the process: nst's threads split the products
    if (argc >= 2 && !strcmp(argv[1], "model")) return cli_model_command(argc - 1, argv + 1);
    if (argc < 2) { cli_usage(stderr); return 2; }
    return run(argc, argv);
}
