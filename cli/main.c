// main.c: the `nst` command-line program. The only part of nst that prints.
#include <stdio.h>
#include "options.h"
#include "files.h"
#include "model_cmd.h"
#include "plot.h"
#include "animate.h"
#include "contact.h"
#include "config.h"
#include "option_table.h"
#include "video.h"
#include "signals.h"
#include "run.h"
#include "batch.h"
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

// A batch job's "JOBS.jsonl:LINE" (cli_run_how), after "nst: " in every message of its run.
static const char *msg_label;

// "nst: ", the label, the message: one line on stderr, written at once (jobs run side by side).
static void say(const char *fmt, ...) {
    char msg[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "nst: %s%s%s\n", msg_label ? msg_label : "", msg_label ? ": " : "", msg);
}

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
    nst_progress last;    // what it saw then: the loss and its terms, for OUTPUT.json
} run_ctx;

static int on_progress(const nst_progress *p, void *user) {
    run_ctx *rc = user;
    if (rc->last_iter < 0 && rc->o->params.resume && !rc->o->quiet)
        say("resuming from %s at iteration %d", rc->o->params.resume, p->iter);
    rc->last_iter = p->iter;
    rc->last = *p;
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
    say("%s", err->msg);
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

// The files a run reads and writes, and what it holds while it runs; one owner,
// freed by run_free on every path.
typedef struct run_state {
    cli_options *o;                           // heap: large (paths, the --config pool)
    cli_run_how *how;                         // NULL: the command line's run
    const char *inputs[5 + 2 * NST_MAX_STYLES];   // no output may replace one of them
    int n_inputs;
    char config_path[4200];                   // OUTPUT.json
    char model_buf[4096];
    const char *model_path;
    nst_model *model;
    nst_image content_full, content, init_full, content_mask;
    nst_image style_full[NST_MAX_STYLES], styles[NST_MAX_STYLES], masks[NST_MAX_STYLES];
    nst_image out;
    int w, h;                                 // the result's size
    char content_layers[512], style_layers[512];
    FILE *log;
    cli_plot plot;
    cli_anim anim;
} run_state;

static void run_free(run_state *r) {
    if (r->log) fclose(r->log);
    cli_plot_free(&r->plot);
    cli_anim_free(&r->anim);
    nst_image_free(&r->out);
    for (int s = 0; s < NST_MAX_STYLES; s++) {
        nst_image_free(&r->styles[s]);
        nst_image_free(&r->style_full[s]);
        nst_image_free(&r->masks[s]);
    }
    nst_image_free(&r->content); nst_image_free(&r->content_full); nst_image_free(&r->init_full);
    nst_image_free(&r->content_mask);
    nst_model_free(r->model);
    free(r->o);
    free(r);
}

// The output, OUTPUT.json and the log: none may replace an input (nor the log the output).
// Returns 0, else the exit code.
static int check_outputs(run_state *r) {
    const cli_options *o = r->o;
    nst_error err;
    if (o->params.resume) r->inputs[r->n_inputs++] = o->params.resume;   // first: --checkpoint may replace it
    r->inputs[r->n_inputs++] = o->content;
    for (int s = 0; s < o->n_styles; s++) r->inputs[r->n_inputs++] = o->styles[s];
    for (int s = 0; s < o->n_style_masks; s++) r->inputs[r->n_inputs++] = o->style_masks[s];
    if (o->init_path) r->inputs[r->n_inputs++] = o->init_path;
    if (o->content_mask) r->inputs[r->n_inputs++] = o->content_mask;
    r->inputs[r->n_inputs++] = r->model_path;
    for (int s = 0; s < o->n_styles; s++)
        if (cli_same_file(o->output, o->styles[s])) {
            say("%s: the output is one of the style inputs; refusing to overwrite it", o->output);
            return 2;
        }
    for (int k = 0; k < r->n_inputs; k++)
        if (cli_same_file(o->output, r->inputs[k])) {
            say("%s: the output is one of the inputs; refusing to overwrite it", o->output);
            return 2;
        }
    if (cli_check_output_dir(o->output, &err)) return fail(&err);
    cli_config_path(r->config_path, sizeof r->config_path, o->output);
    if (cli_check_output_dir(r->config_path, &err)) return fail(&err);   // OUTPUT.json a folder: say so now
    for (int k = 0; k < r->n_inputs; k++)
        if (cli_same_file(r->config_path, r->inputs[k])) {
            say("%s: the record of the options would overwrite an input", r->config_path);
            return 2;
        }
    if (o->log_path) {
        int clash = !strcmp(o->log_path, o->output) || cli_same_file(o->log_path, o->output) ||
                    !strcmp(o->log_path, r->config_path);
        for (int k = 0; k < r->n_inputs; k++) clash |= cli_same_file(o->log_path, r->inputs[k]);
        if (clash) {
            say("%s: the log would overwrite an input or the output", o->log_path);
            return 2;
        }
    }
    return 0;
}

// --plot, --animate, --contact-sheet, --checkpoint: the right kind of file, not an
// input (a checkpoint may replace the one it resumes from), not another output, in a
// writable directory. Returns 0, else the exit code.
static int check_side_outputs(const run_state *r) {
    const cli_options *o = r->o;
    nst_error err;
    const char *extra[4] = {o->plot_path, o->animate_path, o->contact_path, o->params.checkpoint};
    const char *extra_opt[4] = {"--plot", "--animate", "--contact-sheet", "--checkpoint"};
    if ((o->plot_path && cli_plot_check_path(o->plot_path, &err)) ||
        (o->animate_path && cli_anim_check_path(o->animate_path, &err)) ||
        (o->contact_path && cli_contact_check_path(o->contact_path, &err))) {
        say("%s", err.msg);
        return 2;
    }
    // --save-every's pictures, OUTPUT-iterNNNN.EXT: none may be an input or another output
    const char *named[sizeof r->inputs / sizeof *r->inputs + 6];   // the inputs, 4 side outputs, record, log
    int n_named = 0;
    for (int k = 0; k < r->n_inputs; k++) named[n_named++] = r->inputs[k];
    for (int e = 0; e < 4; e++) if (extra[e]) named[n_named++] = extra[e];
    named[n_named++] = r->config_path;
    if (o->log_path) named[n_named++] = o->log_path;
    long long total = o->params.iterations;   // pictures are saved before the last iteration
    if (o->n_scales) {
        total = 0;
        for (int k = 0; k < o->n_scales; k++) total += o->iterations[k];
    }
    for (int k = 0; k < n_named && o->save_every > 0; k++) {
        long long iter = cli_numbered_iter(named[k], o->output);
        if (iter > 0 && iter < total && iter % o->save_every == 0) {
            say("%s: the --save-every picture of iteration %lld would overwrite it", named[k], iter);
            return 2;
        }
    }
    for (int e = 0; e < 4; e++) {
        if (!extra[e]) continue;
        int clash = !strcmp(extra[e], o->output) || cli_same_file(extra[e], o->output) ||
                    !strcmp(extra[e], r->config_path) || (o->log_path && !strcmp(extra[e], o->log_path));
        int first_input = e == 3 && o->params.resume ? 1 : 0;
        for (int k = first_input; k < r->n_inputs; k++) clash |= cli_same_file(extra[e], r->inputs[k]);
        for (int f = 0; f < e; f++) clash |= extra[f] && !strcmp(extra[e], extra[f]);
        if (clash) {
            say("%s: the %s file would overwrite an input or another output", extra[e], extra_opt[e]);
            return 2;
        }
        if (cli_check_output_dir(extra[e], &err)) return fail(&err);
    }
    return 0;
}

// The model and the pictures; the content and styles fitted to the size unless
// --scales, where nst_transfer_scales resizes them for each stage.
static int load_inputs(run_state *r, nst_error *err) {
    cli_options *o = r->o;
    if (nst_model_load(&r->model, r->model_path, err)) return -1;
    if (o->model_input && nst_model_set_input(r->model, o->model_input, err)) return -1;
    if (nst_image_load(&r->content_full, o->content, o->max_pixels, err)) return -1;
    for (int s = 0; s < o->n_styles; s++)
        if (nst_image_load(&r->style_full[s], o->styles[s], o->max_pixels, err) ||
            cli_check_style_size(o, s, &r->style_full[s], err))
            return -1;
    nst_fit_size(r->content_full.w, r->content_full.h, o->size, &r->w, &r->h);
    if (!o->n_scales) {
        if (nst_image_fit(&r->content, &r->content_full, o->size, err)) return -1;
        for (int s = 0; s < o->n_styles; s++)
            if (nst_image_fit(&r->styles[s], &r->style_full[s], nst_style_size(o->size, o->style_scale), err)) return -1;
    }
    if (o->init_path) {
        if (nst_image_load(&r->init_full, o->init_path, o->max_pixels, err)) return -1;
        o->params.init_image = &r->init_full;
    }
    if (o->n_style_masks) {
        for (int s = 0; s < o->n_style_masks; s++)
            if (nst_image_load(&r->masks[s], o->style_masks[s], o->max_pixels, err)) return -1;
        o->params.style_masks = r->masks;
    }
    if (o->content_mask) {
        if (nst_image_load(&r->content_mask, o->content_mask, o->max_pixels, err)) return -1;
        o->params.content_mask = &r->content_mask;
    }
    return cli_resolve_layers(o, r->model, r->model_path, r->content_layers, sizeof r->content_layers, r->style_layers,
                              sizeof r->style_layers, err) ? -1 : 0;
}

// The run's size, stages, model, layers and memory estimate, on stderr.
static void describe_run(const run_state *r) {
    const cli_options *o = r->o;
    char est[32], lim[32], stages[200] = "";
    if (o->n_scales) {
        int len = snprintf(stages, sizeof stages, " in %d stages (", o->n_scales);
        for (int k = 0; k < o->n_scales && len < (int)sizeof stages; k++)
            len += snprintf(stages + len, sizeof stages - len, "%s%d px", k ? ", " : "", o->scales[k]);
        if (len < (int)sizeof stages) snprintf(stages + len, sizeof stages - len, ")");
    }
    say("%dx%d%s, model %s (%d conv layers, %s input), content layers %s, style layers %s", r->w, r->h, stages,
        r->model_path, nst_model_conv_count(r->model), nst_model_input_convention(r->model), r->content_layers,
        r->style_layers);
    // the styles at the size the (last) run gives them
    int sw[NST_MAX_STYLES], sh[NST_MAX_STYLES];
    for (int s = 0; s < o->n_styles; s++)
        nst_fit_size(r->style_full[s].w, r->style_full[s].h, nst_style_size(o->size, o->style_scale), &sw[s], &sh[s]);
    double bytes = (double)nst_estimate_bytes(r->model, &o->params, r->w, r->h, sw, sh, o->n_styles);
    if (o->params.max_memory)
        say("memory estimate %s at %dx%d, limit %s (--max-memory)", human_bytes(est, sizeof est, bytes), r->w, r->h,
            human_bytes(lim, sizeof lim, (double)o->params.max_memory));
    else
        say("memory estimate %s at %dx%d, no limit", human_bytes(est, sizeof est, bytes), r->w, r->h);
}

// The log and the animation's frames, before the run. Returns 0, else the exit code.
static int open_side_outputs(run_state *r) {
    const cli_options *o = r->o;
    nst_error err;
    if (o->log_path && !(r->log = fopen(o->log_path, "w"))) {
        say("%s: cannot write the log: %s", o->log_path, strerror(errno));
        return 3;
    }
    if (o->animate_path) {
        int total_iterations = o->params.iterations;
        if (o->n_scales) {
            total_iterations = 0;
            for (int k = 0; k < o->n_scales; k++) total_iterations += o->iterations[k];
        }
        int every = o->animate_every > 0 ? o->animate_every : total_iterations / 50;
        if (cli_anim_init(&r->anim, every > 0 ? every : 1, CLI_ANIM_MAX_FRAMES, CLI_ANIM_MAX_SIDE, &err))
            return fail(&err);
        if (o->n_scales) cli_anim_fix_size(&r->anim, r->w, r->h);   // the stages' frames grow: show them at the end's size
    }
    return 0;
}

// The picture kept (the result, or the one so far), OUTPUT.json beside it, and the
// plot, animation and contact sheet. Returns 0, else the exit code.
static int write_results(run_state *r, int st, const run_ctx *ctx) {
    int last_iter = ctx->last_iter;
    cli_options *o = r->o;
    nst_error err;
    if (nst_image_save(&r->out, o->output, &err)) return fail(&err);
    // what made it, beside it
    cli_run_info info = {r->model_path, r->content_layers, r->style_layers, nst_model_input_convention(r->model),
                         last_iter >= 0 ? &ctx->last : NULL, NULL};
    if ((st == NST_ERR_INTERRUPTED || st == NST_ERR_IO) && last_iter >= 0) record_stop(o, last_iter);
    if (cli_config_write(r->config_path, o, &info, &err)) return fail(&err);
    if (r->how) r->how->wrote_record = 1;
    // the pictures of the run, also after an interrupt or a NaN
    if (o->plot_path && cli_plot_write(&r->plot, o->plot_path, &err)) return fail(&err);
    if (o->animate_path) {
        // end on the result, unless the last frame taken is already it
        if ((r->anim.n == 0 || r->anim.iters[r->anim.n - 1] != last_iter) &&
            cli_anim_add(&r->anim, &r->out, last_iter, &err))
            return fail(&err);
        if (cli_anim_write(&r->anim, o->animate_path, &err)) return fail(&err);
    }
    if (o->contact_path) {
        // the content at the result's size (with --scales it was not resized here)
        if ((!r->content.data && nst_image_resize(&r->content, &r->content_full, r->out.w, r->out.h, &err)) ||
            cli_contact_sheet(o->contact_path, &r->content, r->style_full, o->n_styles, &r->out, &err))
            return fail(&err);
    }
    return 0;
}

static int optimize(run_state *r, nst_error *err) {
    cli_options *o = r->o;
    return o->n_scales ? nst_transfer_scales(r->model, &r->content_full, r->style_full, o->n_styles, o->scales,
                                             o->iterations, o->n_scales, o->style_scale, &o->params, &r->out, err)
                       : nst_transfer(r->model, &r->content, r->styles, o->n_styles, &o->params, &r->out, err);
}

// With how->afresh_if_refused, a run whose --resume checkpoint was refused (a message
// naming it: another run's, or damaged) says so and starts afresh. Returns the status.
static int optimize_or_afresh(run_state *r, run_ctx *ctx, nst_error *err) {
    nst_params *p = &r->o->params;
    int st = optimize(r, err);
    size_t n = p->resume ? strlen(p->resume) : 0;
    if ((st == NST_ERR_USAGE || st == NST_ERR_FORMAT) && r->how && r->how->afresh_if_refused && p->resume &&
        !strncmp(err->msg, p->resume, n) && err->msg[n] == ':') {
        say("%s; starting afresh", err->msg);
        p->resume = NULL;
        ctx->last_iter = -1;
        nst_image_free(&r->out);
        st = optimize(r, err);
    }
    return st;
}

// The optimization, with progress and signals, then what it leaves. Returns the exit code.
static int transfer(run_state *r) {
    cli_options *o = r->o;
    nst_error err = {0};
    run_ctx ctx = {o, r->log, !o->quiet && isatty(2) && !(r->how && r->how->no_bar), {0}, 0,
                   o->plot_path ? &r->plot : NULL, o->animate_path ? &r->anim : NULL, -1, {0}};
    o->params.progress = on_progress;
    o->params.progress_user = &ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;   // the run polls the flag; no library call should see EINTR
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int st = optimize_or_afresh(r, &ctx, &err);
    if (ctx.bar) fputc('\n', stderr);
    if (ctx.save_failed) return fail(&ctx.save_err);
    if (!nst_transfer_kept(st, &r->out)) return fail(&err);
    int code = write_results(r, st, &ctx);
    if (code) return code;
    int ckpt_written = st == NST_ERR_INTERRUPTED && o->params.checkpoint;
    if (st == NST_ERR_INTERRUPTED || (st == NST_ERR_IO && interrupted)) {
        say("interrupted at iteration %d; wrote the current image to %s%s%s and its options to %s", ctx.last_iter,
            o->output, ckpt_written ? ", a checkpoint to " : "", ckpt_written ? o->params.checkpoint : "",
            r->config_path);
        code = interrupted == SIGTERM ? 143 : 130;
    }
    if (st == NST_ERR_IO) {   // a checkpoint could not be written: that is the error, whatever else
        say("%s (the picture so far is in %s)", err.msg, o->output);
        code = 3;
    } else if (st == NST_ERR_NUMERIC) {
        code = fail(&err);
    } else if (st == NST_OK && !o->quiet) {
        say("wrote %s and %s", o->output, r->config_path);
    }
    return code;
}

// A whole run of parsed options: checks, inputs, the optimization. Returns the exit code.
static int run_options(run_state *r) {
    nst_error err = {0};
    r->model_path = cli_model_path(r->o, r->model_buf, sizeof r->model_buf);
    int code = check_outputs(r);
    if (!code) code = check_side_outputs(r);
    if (code) return code;
    if (access(r->model_path, F_OK) && !r->o->model && !getenv("NST_MODEL")) {
        say("%s: no model there; run `make weights`, or give one with --model FILE or $NST_MODEL", r->model_path);
        return 3;
    }
    if (load_inputs(r, &err)) return fail(&err);
    if (!r->o->quiet) describe_run(r);
    if ((code = open_side_outputs(r))) return code;
    return transfer(r);
}

int cli_run_options(cli_options *o, cli_run_how *how) {
    cli_signals_to_one_thread();   // before the first OpenMP region starts its threads
    run_state *r = calloc(1, sizeof *r);
    if (!r) {
        free(o);
        say("out of memory");
        return cli_exit_code(NST_ERR_NOMEM);
    }
    r->o = o;
    r->how = how;
    msg_label = how ? how->label : NULL;
    int code = run_options(r);
    run_free(r);
    msg_label = NULL;
    return code;
}

// `nst [options]`: the command line parsed, then run. Returns the exit code.
static int run(int argc, char **argv) {
    cli_options *o = malloc(sizeof *o);
    if (!o) {
        say("out of memory");
        return cli_exit_code(NST_ERR_NOMEM);
    }
    nst_error err = {0};
    int parsed = cli_parse(o, argc, argv, &err);
    if (parsed) {
        free(o);
        if (parsed > 0) return 0;
        say("%s", err.msg);
        return err.code == NST_ERR_USAGE ? 2 : cli_exit_code(err.code);
    }
    return cli_run_options(o, NULL);
}

int main(int argc, char **argv) {
    nst_blas_single_threaded();   // this program owns the process: nst's threads split the products
    if (argc >= 2 && !strcmp(argv[1], "model")) return cli_model_command(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "video")) return cli_video_command(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "batch")) return cli_batch_command(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "completion")) {
        if (argc == 3 && !strcmp(argv[2], "bash")) { cli_completion_bash(stdout); return 0; }
        say("usage: nst completion bash");
        return 2;
    }
    if (argc < 2) { cli_usage(stderr); return 2; }
    return run(argc, argv);
}
