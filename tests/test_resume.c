// Checkpoint and resume: the file format on its own (write, read back, the optimizer
// takes the same next step), then the `nst` program killed with SIGKILL or stopped
// with SIGTERM mid-run and resumed, which must end with the same bytes as a run that
// was never stopped; and every kind of damaged or mismatched checkpoint, refused.
#include "testlib.h"
#include "nst.h"
#include "optim/optim.h"
#include "transfer/checkpoint.h"
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static nst_test_program program;
static const char *tmp, *nst, *model, *content, *style;   // program's
static char common[2048];
static char out_text[8192];

// Runs `nst COMMON ARGS`; stdout and stderr go to out_text. Returns the exit code.
static int run(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s %s", nst, common, args);
    return nst_test_shell(cmd, tmp, out_text, sizeof out_text);
}

// Starts `nst COMMON ARGS` in the background, stderr to err_path (NULL: discarded),
// stdout discarded; returns its pid.
static pid_t spawn(const char *args, const char *err_path) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "exec %s %s %s >/dev/null 2>%s", nst, common, args, err_path ? err_path : "/dev/null");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void path_in_tmp(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", tmp, name); }
static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

static unsigned char *read_all(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len > 0 ? (size_t)*len : 1);
    if (b && fread(b, 1, (size_t)*len, f) != (size_t)*len) { free(b); b = NULL; }
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *data, long len) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(data, 1, (size_t)len, f); fclose(f); }
}

static int same_bytes(const char *a, const char *b) {
    long la = -1, lb = -2;
    unsigned char *x = read_all(a, &la), *y = read_all(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, (size_t)la) == 0;
    free(x); free(y);
    return same;
}

// A 32-bit little-endian field of a checkpoint (-1 when it cannot be read).
static long header_u32(const char *path, int offset) {
    unsigned char b[4];
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int ok = fseek(f, offset, SEEK_SET) == 0 && fread(b, 1, 4, f) == 4;
    fclose(f);
    return ok ? (long)(b[0] | b[1] << 8 | b[2] << 16 | (unsigned long)b[3] << 24) : -1;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// Sends sig to pid and returns its wait status.
static int stop(pid_t pid, int sig) {
    kill(pid, sig);
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

// Waits (at most 120 s) until the checkpoint exists and its stage field is at least
// `stage`, then kills pid with sig; returns the wait status.
static int kill_after_checkpoint(pid_t pid, const char *ckpt, long stage, int sig) {
    for (int i = 0; i < 12000; i++) {
        if (exists(ckpt) && header_u32(ckpt, 16) >= stage) break;
        sleep_ms(10);
    }
    return stop(pid, sig);
}

// ---- The file format alone ---------------------------------------------------------

static double quadratic(void *ctx, const float *x, float *g) {
    (void)ctx;
    double f = 0;
    for (int i = 0; i < 12; i++) {
        double a = 1.0 + i, c = 0.5 * i - 2;
        f += 0.5 * a * (x[i] - c) * (x[i] - c);
        g[i] = (float)(a * (x[i] - c));
    }
    return f;
}

// An L-BFGS whose ring has wrapped (the newest pair is not the last slot): written,
// read back into a fresh one, both take the next step to the same bits.
static void test_lbfgs_state_round_trip(void) {
    enum { N = 12 };
    nsti_lbfgs a, b;
    nst_error err;
    CHECK(nsti_lbfgs_init(&a, N, 3, 1.0f, &err) == 0 && nsti_lbfgs_init(&b, N, 3, 1.0f, &err) == 0);
    float x[N], g[N], xb[N] = {0}, gb[N] = {0};
    for (int i = 0; i < N; i++) x[i] = (float)(i % 5) - 1.0f;
    double f = quadratic(NULL, x, g);
    for (int k = 0; k < 4; k++) CHECK(nsti_lbfgs_step(&a, x, &f, g, quadratic, NULL) == 0);
    CHECKF(a.count == 3 && a.head != 2, "count %d head %d: the ring has not wrapped", a.count, a.head);
    char path[300];
    path_in_tmp(path, sizeof path, "unit.ckpt");
    // four terms: the fourth goes to the slot after the range penalty's
    nsti_checkpoint ck = {.iter = 4, .w = 2, .h = 2, .optimizer = NST_OPTIMIZER_LBFGS, .fingerprint = 0xabcdef12u,
                         .loss = f, .n_terms = 4, .term = {1, 2, 3, 7}, .range = 0.25, .elapsed_s = 4.5,
                         .x = x, .grad = g, .lbfgs = &a};
    CHECKF(nsti_checkpoint_write(path, &ck, &err) == 0, "%s", err.msg);
    nsti_checkpoint in = {.w = 2, .h = 2, .optimizer = NST_OPTIMIZER_LBFGS, .fingerprint = 0xabcdef12u, .n_terms = 4,
                         .x = xb, .grad = gb, .lbfgs = &b};
    CHECKF(nsti_checkpoint_read(path, &in, &err) == 0, "%s", err.msg);
    CHECK(in.iter == 4 && in.loss == f && in.term[0] == 1 && in.term[1] == 2 && in.term[2] == 3 && in.term[3] == 7 &&
          in.range == 0.25 && in.elapsed_s == 4.5);
    CHECK(memcmp(x, xb, sizeof x) == 0 && memcmp(g, gb, sizeof g) == 0 && b.count == 3 && b.iter == a.iter);
    double fb = in.loss;
    CHECK(nsti_lbfgs_step(&a, x, &f, g, quadratic, NULL) == 0);
    CHECK(nsti_lbfgs_step(&b, xb, &fb, gb, quadratic, NULL) == 0);
    CHECKF(memcmp(x, xb, sizeof x) == 0 && f == fb, "the step after reading differs: f %.17g vs %.17g", f, fb);
    nsti_lbfgs_free(&a);
    nsti_lbfgs_free(&b);
}

static void test_adam_state_round_trip(void) {
    enum { N = 12 };
    nsti_adam a, b;
    nst_error err;
    CHECK(nsti_adam_init(&a, N, 0.1f, &err) == 0 && nsti_adam_init(&b, N, 0.1f, &err) == 0);
    float x[N], g[N], xb[N] = {0}, gb[N] = {0};
    for (int i = 0; i < N; i++) x[i] = (float)i;
    double f = quadratic(NULL, x, g);
    for (int k = 0; k < 3; k++) { nsti_adam_step(&a, x, g); f = quadratic(NULL, x, g); }
    char path[300];
    path_in_tmp(path, sizeof path, "unit_adam.ckpt");
    nsti_checkpoint ck = {.iter = 3, .w = 2, .h = 2, .optimizer = NST_OPTIMIZER_ADAM, .fingerprint = 7, .loss = f,
                         .x = x, .grad = g, .adam = &a};
    CHECKF(nsti_checkpoint_write(path, &ck, &err) == 0, "%s", err.msg);
    nsti_checkpoint in = {.w = 2, .h = 2, .optimizer = NST_OPTIMIZER_ADAM, .fingerprint = 7, .x = xb, .grad = gb,
                         .adam = &b};
    CHECKF(nsti_checkpoint_read(path, &in, &err) == 0, "%s", err.msg);
    CHECK(b.t == 3 && memcmp(a.m, b.m, N * sizeof(float)) == 0 && memcmp(a.v, b.v, N * sizeof(float)) == 0);
    nsti_adam_step(&a, x, g);
    nsti_adam_step(&b, xb, gb);
    CHECK(memcmp(x, xb, sizeof x) == 0);
    // the same file, expected with another fingerprint, size or optimizer: refused
    in.fingerprint = 8;
    CHECK(nsti_checkpoint_read(path, &in, &err) == NST_ERR_USAGE && strstr(err.msg, "other pictures"));
    in.fingerprint = 7; in.w = 3;
    CHECK(nsti_checkpoint_read(path, &in, &err) == NST_ERR_USAGE && strstr(err.msg, "2x2"));
    nsti_adam_free(&a);
    nsti_adam_free(&b);
}

// ---- Killed, stopped, resumed --------------------------------------------------------
// Each resumed run must (1) really start at the checkpoint's iteration (its --log
// begins there), and (2) end in the state of the run that was never stopped: the same
// final checkpoint (the float32 picture, gradient and optimizer memory, not only the
// 8-bit PNG), bar the seconds it records, and the same PNG.

// The two checkpoints hold the same state: every byte but the seconds (88..95) and
// the CRC that covers them.
static int same_state(const char *a, const char *b) {
    long la = -1, lb = -2;
    unsigned char *x = read_all(a, &la), *y = read_all(b, &lb);
    int same = x && y && la == lb && la > 100;
    if (same) {
        memset(x + 88, 0, 8); memset(y + 88, 0, 8);
        same = memcmp(x, y, (size_t)la - 4) == 0;
    }
    free(x); free(y);
    return same;
}

// The iteration on the first line of a --log file (-1 when there is none).
static int first_logged_iter(const char *log) {
    char *text = nst_test_read_file(log);
    int iter = -1;
    if (!text || sscanf(text, "{\"iter\":%d", &iter) != 1) iter = -1;
    free(text);
    return iter;
}

// Waits (at most 120 s) until `log` has `lines` lines.
static void wait_for_log(const char *log, int lines) {
    for (int i = 0; i < 12000; i++) {
        char *text = nst_test_read_file(log);
        int n = 0;
        for (char *c = text; c && *c; c++) n += *c == '\n';
        free(text);
        if (n >= lines) return;
        sleep_ms(10);
    }
}

// Resumes from ckpt with `args` (the run's options) and checks (1) and (2) against the
// uninterrupted run's picture and final checkpoint; `first` is where its log must begin.
static void resume_and_compare(const char *what, const char *args, const char *ckpt, long first,
                               const char *full_png, const char *full_ckpt) {
    char out[300], final_ckpt[300], log[300], all[4096];
    path_in_tmp(out, sizeof out, "resumed.png");
    path_in_tmp(final_ckpt, sizeof final_ckpt, "resumed_final.ckpt");
    path_in_tmp(log, sizeof log, "resumed.jsonl");
    unlink(final_ckpt);
    snprintf(all, sizeof all, "%s -o %s --resume %s --checkpoint %s --log %s", args, out, ckpt, final_ckpt, log);
    CHECKF(run(all) == 0, "%s: %s", what, out_text);
    CHECKF(first_logged_iter(log) == first, "%s: the resumed run began at iteration %d, not %ld", what,
           first_logged_iter(log), first);
    CHECKF(same_state(full_ckpt, final_ckpt), "%s: the final state differs from the uninterrupted run's", what);
    CHECKF(same_bytes(full_png, out), "%s: the picture differs from the uninterrupted run's", what);
}

static const char *lbfgs60 = "--iterations 60";

// The uninterrupted 60-iteration L-BFGS run, with its final checkpoint.
static void full_lbfgs_run(char *png, char *ckpt) {
    char args[2048];
    path_in_tmp(png, 300, "full.png");
    path_in_tmp(ckpt, 300, "full.ckpt");
    if (exists(png) && exists(ckpt)) return;
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s", lbfgs60, png, ckpt);
    CHECKF(run(args) == 0, "%s", out_text);
}

// SIGKILL gives no chance to save anything: the last periodic checkpoint is all there is.
static void test_sigkill_then_resume_gives_same_state(void) {
    char full[300], full_ckpt[300], part[300], ckpt[300], args[2048];
    full_lbfgs_run(full, full_ckpt);
    path_in_tmp(part, sizeof part, "part.png");
    path_in_tmp(ckpt, sizeof ckpt, "kill.ckpt");
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s --checkpoint-every 10", lbfgs60, part, ckpt);
    int st = kill_after_checkpoint(spawn(args, NULL), ckpt, 0, SIGKILL);
    CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the run ended before it was killed (status %d)", st);
    CHECK(!exists(part));
    long at = header_u32(ckpt, 20);
    CHECKF(at >= 10 && at < 60 && at % 10 == 0, "checkpoint at iteration %ld", at);
    resume_and_compare("after SIGKILL", lbfgs60, ckpt, at, full, full_ckpt);
}

// Ctrl-C: exit 130 with a checkpoint of where it stopped, whatever the period.
static void test_sigint_writes_checkpoint(void) {
    char full[300], full_ckpt[300], ckpt[300], log[300], args[2048];
    full_lbfgs_run(full, full_ckpt);
    path_in_tmp(ckpt, sizeof ckpt, "int.ckpt");
    path_in_tmp(log, sizeof log, "int.jsonl");
    snprintf(args, sizeof args, "%s -o %s/int_part.png --checkpoint %s --checkpoint-every 0 --log %s", lbfgs60,
             tmp, ckpt, log);
    pid_t pid = spawn(args, NULL);
    wait_for_log(log, 4);
    int st = stop(pid, SIGINT);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
    long at = header_u32(ckpt, 20);
    CHECKF(at >= 3 && at < 60, "checkpoint at iteration %ld", at);
    resume_and_compare("after SIGINT", lbfgs60, ckpt, at, full, full_ckpt);
}

// SIGTERM, with Adam: exit 143 and a checkpoint of Adam's moments.
static void test_sigterm_writes_checkpoint_adam(void) {
    char full[300], full_ckpt[300], part[300], ckpt[300], log[300], args[2048];
    path_in_tmp(full, sizeof full, "adam_full.png");
    path_in_tmp(full_ckpt, sizeof full_ckpt, "adam_full.ckpt");
    path_in_tmp(part, sizeof part, "adam_part.png");
    path_in_tmp(ckpt, sizeof ckpt, "term.ckpt");
    path_in_tmp(log, sizeof log, "term.jsonl");
    const char *adam = "--optimizer adam --lr 2 --iterations 80";
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s", adam, full, full_ckpt);
    CHECKF(run(args) == 0, "%s", out_text);
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s --checkpoint-every 0 --log %s", adam, part, ckpt, log);
    pid_t pid = spawn(args, NULL);
    wait_for_log(log, 5);
    int st = stop(pid, SIGTERM);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);
    long at = header_u32(ckpt, 20);
    CHECKF(at >= 4 && at < 80, "checkpoint at iteration %ld", at);
    CHECK(header_u32(ckpt, 12) == NST_OPTIMIZER_ADAM && exists(part));
    resume_and_compare("Adam after SIGTERM", adam, ckpt, at, full, full_ckpt);
}

// Coarse to fine: killed in the second stage, resumed there. The log counts across
// stages, so it begins at the first stage's 20 iterations plus the checkpoint's.
static void test_resume_in_a_later_stage(void) {
    char full[300], full_ckpt[300], ckpt[300], args[2048];
    path_in_tmp(full, sizeof full, "stages_full.png");
    path_in_tmp(full_ckpt, sizeof full_ckpt, "stages_full.ckpt");
    path_in_tmp(ckpt, sizeof ckpt, "stages.ckpt");
    const char *stages = "--scales 40,80 --iterations 20,40";
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s", stages, full, full_ckpt);
    CHECKF(run(args) == 0, "%s", out_text);
    snprintf(args, sizeof args, "%s -o %s/stages_part.png --checkpoint %s --checkpoint-every 5", stages, tmp, ckpt);
    int st = kill_after_checkpoint(spawn(args, NULL), ckpt, 1, SIGKILL);
    CHECKF(WIFSIGNALED(st), "the run ended before it was killed (status %d)", st);
    CHECKF(header_u32(ckpt, 16) == 1, "checkpoint of stage %ld", header_u32(ckpt, 16));
    resume_and_compare("in stage 2", stages, ckpt, 20 + header_u32(ckpt, 20), full, full_ckpt);
}

// A finished run's checkpoint carries it further: 20, then 15 more, is 35. Resumed
// with the count it has, into another file, it writes that file (the same state). A
// stale temporary file from a killed writer is reused, not left beside it.
static void test_finished_run_goes_further(void) {
    char full[300], full_ckpt[300], ckpt[300], again[300], stale[320], args[2048];
    path_in_tmp(full, sizeof full, "far_full.png");
    path_in_tmp(full_ckpt, sizeof full_ckpt, "far_full.ckpt");
    path_in_tmp(ckpt, sizeof ckpt, "far.ckpt");
    path_in_tmp(again, sizeof again, "far_again.ckpt");
    snprintf(stale, sizeof stale, "%s.tmp", ckpt);
    snprintf(args, sizeof args, "--iterations 35 -o %s --checkpoint %s", full, full_ckpt);
    CHECKF(run(args) == 0, "%s", out_text);
    write_all(stale, "half a checkpoint", 17);
    snprintf(args, sizeof args, "--iterations 20 -o %s/far_20.png --checkpoint %s", tmp, ckpt);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECK(header_u32(ckpt, 20) == 20);
    CHECKF(!exists(stale), "the stale %s is still there", stale);
    snprintf(args, sizeof args, "--iterations 20 -o %s/far_again.png --resume %s --checkpoint %s", tmp, ckpt, again);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECKF(same_state(ckpt, again), "resumed at its end into another file: %s", exists(again) ? "differs" : "not written");
    resume_and_compare("20 then 15 more", "--iterations 35", ckpt, 20, full, full_ckpt);
}

// Ctrl-C when the checkpoint cannot be written (its directory is gone): the picture
// is written, both facts are said, and the exit is 3.
static void test_interrupt_with_unwritable_checkpoint(void) {
    char dir[300], ckpt[400], out[300], log[300], args[2048];
    path_in_tmp(dir, sizeof dir, "gone");
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", dir);
    path_in_tmp(out, sizeof out, "gone.png");
    path_in_tmp(log, sizeof log, "gone.jsonl");
    CHECK(mkdir(dir, 0700) == 0);
    char errf[400];
    snprintf(errf, sizeof errf, "%s/gone.err", tmp);
    snprintf(args, sizeof args, "%s -o %s --checkpoint %s --checkpoint-every 0 --log %s", lbfgs60, out, ckpt, log);
    pid_t pid = spawn(args, errf);
    wait_for_log(log, 3);
    rmdir(dir);
    int st = stop(pid, SIGINT);
    char *text = nst_test_read_file(errf);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %d: %s", st, text ? text : "");
    CHECKF(text && strstr(text, "interrupted at iteration") && strstr(text, ckpt) && strstr(text, "the picture so far"),
           "%s", text ? text : "(no stderr)");
    CHECK(text && !strstr(text, "a checkpoint to"));
    CHECK(exists(out));
    free(text);
}

// ---- Refused --------------------------------------------------------------------------

// Stores the CRC-32 of all but the last 4 bytes in the last 4: a "valid" file.
static void fix_crc(unsigned char *b, long len) {
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) b[len - 4 + i] = (unsigned char)(crc >> (8 * i));
}
static void put32(unsigned char *b, uint32_t v) { for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i)); }

// Resuming from `bytes` fails with `code`, one line naming the checkpoint and
// saying `mention`; the checkpoint and an existing output are left as they were.
static void expect_refused(const char *what, const void *bytes, long len, const char *extra, int code,
                           const char *mention) {
    char bad[300], out[300], args[2048];
    path_in_tmp(bad, sizeof bad, "bad.ckpt");
    path_in_tmp(out, sizeof out, "kept.png");
    if (bytes) write_all(bad, bytes, len);
    else unlink(bad);
    write_all(out, "precious", 8);
    snprintf(args, sizeof args, "--iterations 35 -o %s --resume %s --checkpoint %s %s", out, bad, bad, extra);
    int got = run(args);
    int lines = 0;
    for (const char *c = out_text; *c; c++) lines += *c == '\n';
    CHECKF(got == code, "%s: exit %d, want %d: %s", what, got, code, out_text);
    CHECKF(lines == 1 && strstr(out_text, bad) && strstr(out_text, mention), "%s: %s", what, out_text);
    long n = 0;
    unsigned char *now = read_all(out, &n);
    CHECKF(now && n == 8 && !memcmp(now, "precious", 8), "%s: the existing output was touched", what);
    free(now);
    if (bytes) {
        now = read_all(bad, &n);
        CHECKF(now && n == len && !memcmp(now, bytes, (size_t)len), "%s: the checkpoint was modified", what);
        free(now);
    }
}

static void test_damaged_checkpoints_refused(void) {
    char good[300], args[1024];
    path_in_tmp(good, sizeof good, "good.ckpt");
    snprintf(args, sizeof args, "--iterations 20 -o %s/good.png --checkpoint %s", tmp, good);
    CHECKF(run(args) == 0, "%s", out_text);
    long len = 0;
    unsigned char *ok = read_all(good, &len);
    CHECK(ok && len > 1000);
    if (!ok || len <= 1000) return;
    unsigned char *b = malloc((size_t)len + 64);
    // sanity: the genuine file resumes
    expect_refused("genuine (control)", ok, len, "--iterations 10", 2, "past this run's 10");

    memcpy(b, ok, len); b[len / 2] ^= 0x20;
    expect_refused("one bit flipped", b, len, "", 3, "damaged or cut short (checksum mismatch)");
    expect_refused("cut in half", ok, len / 2, "", 3, "damaged or cut short (checksum mismatch)");
    expect_refused("last byte missing", ok, len - 1, "", 3, "damaged or cut short (checksum mismatch)");
    expect_refused("10 bytes", ok, 10, "", 3, "too short");
    expect_refused("empty", ok, 0, "", 3, "too short");
    expect_refused("missing", NULL, 0, "", 3, "cannot open");
    char png[1200];
    memset(png, 'x', sizeof png);
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    expect_refused("a PNG", png, sizeof png, "", 3, "not an nst checkpoint");

    // valid checksums around lying headers
    memcpy(b, ok, len); put32(b + 8, 2); fix_crc(b, len);
    expect_refused("version 2", b, len, "", 3, "version 2");
    memcpy(b, ok, len); put32(b + 24, 81); fix_crc(b, len);
    expect_refused("another width", b, len, "", 2, "81x");
    memcpy(b, ok, len); put32(b + 40, 1000); fix_crc(b, len);
    expect_refused("more pairs than the history", b, len, "", 3, "out of range");
    memcpy(b, ok, len); put32(b + 40, header_u32(good, 40) - 1); fix_crc(b, len);
    expect_refused("a pair fewer than the file holds", b, len, "", 3, "its header says");
    memcpy(b, ok, len - 4); memset(b + len - 4, 0, 64); fix_crc(b, len + 60);
    expect_refused("bytes appended", b, len + 60, "", 3, "its header says");
    memcpy(b, ok, len); memcpy(b + 128 + 4 * 100, "\x00\x00\xc0\x7f", 4); fix_crc(b, len);
    expect_refused("a NaN in the picture", b, len, "", 3, "NaN");
    memcpy(b, ok, len); put32(b + 16, 3); fix_crc(b, len);
    expect_refused("a stage of a --scales run", b, len, "", 2, "stage 4");

    // genuine, but from another run
    expect_refused("another style weight", ok, len, "--style-weight 2e4", 2, "other pictures, model or settings");
    // another style picture of the very same size (the style mirrored): only its
    // pixels tell it apart
    char other[700];
    nst_image sp = {0}, mirrored = {0};
    nst_error err;
    snprintf(other, sizeof other, "%s/mirrored_style.png", tmp);
    CHECKF(nst_image_load(&sp, style, NST_DEFAULT_MAX_PIXELS, &err) == 0 &&
           nst_image_alloc(&mirrored, sp.w, sp.h, &err) == 0, "%s", err.msg);
    if (mirrored.data) {
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < sp.h; y++)
                for (int x = 0; x < sp.w; x++)
                    mirrored.data[((size_t)c * sp.h + y) * sp.w + x] = sp.data[((size_t)c * sp.h + y) * sp.w + sp.w - 1 - x];
        CHECKF(nst_image_save(&mirrored, other, &err) == 0, "%s", err.msg);
    }
    nst_image_free(&sp);
    nst_image_free(&mirrored);
    char other_arg[800];
    snprintf(other_arg, sizeof other_arg, "-s %s", other);
    expect_refused("another style picture, same size", ok, len, other_arg, 2, "other pictures, model or settings");
    expect_refused("another optimizer", ok, len, "--optimizer adam", 2, "made with L-BFGS");
    expect_refused("another history", ok, len, "--lbfgs-history 5", 2, "history 20");
    expect_refused("another size", ok, len, "--size 64", 2, "80x");
    free(b);
    free(ok);
}

// ---- Library: a checkpoint that cannot be written stops the run, picture kept ----------

typedef struct remover { const char *dir, *file; int at; } remover;

static int remove_dir_at(const nst_progress *p, void *user) {
    remover *r = user;
    if (p->iter == r->at) { unlink(r->file); rmdir(r->dir); }
    return 0;
}

static void test_failed_checkpoint_write_keeps_picture(void) {
    char dir[300], file[400];
    path_in_tmp(dir, sizeof dir, "vanishing");
    snprintf(file, sizeof file, "%s/run.ckpt", dir);
    CHECK(mkdir(dir, 0700) == 0);
    nst_error err;
    nst_model *m = NULL;
    nst_image c = {0}, s = {0}, cf = {0}, sf = {0}, out = {0};
    int rc = nst_model_load(&m, model, &err);
    if (!rc) rc = nst_image_load(&cf, content, NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_load(&sf, style, NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_fit(&c, &cf, 32, &err);
    if (!rc) rc = nst_image_fit(&s, &sf, 32, &err);
    CHECKF(rc == 0, "%s", err.msg);
    if (rc) return;
    nst_params p;
    nst_params_default(&p);
    p.iterations = 10;
    p.checkpoint = file;
    p.checkpoint_every = 2;
    remover r = {dir, file, 3};
    p.progress = remove_dir_at;
    p.progress_user = &r;
    rc = nst_transfer(m, &c, &s, 1, &p, &out, &err);
    CHECKF(rc == NST_ERR_IO && err.code == NST_ERR_IO && strstr(err.msg, file), "rc %d: %s", rc, err.msg);
    CHECKF(out.data && out.w == c.w && out.h == c.h, "no picture after the failed checkpoint");
    nst_image_free(&out); nst_image_free(&c); nst_image_free(&s); nst_image_free(&cf); nst_image_free(&sf);
    nst_model_free(m);
}

int main(void) {
    if (nst_test_program_init(&program, "nst_resume")) return 1;
    tmp = program.tmp; nst = program.nst; model = program.model; content = program.content; style = program.style;
    // the same threads every time: the sums' order, and so the bits, depend on them
    snprintf(common, sizeof common, "-m %s -c %s -s %s --size 80 --threads 2 --quiet", model, content, style);
    TEST(test_lbfgs_state_round_trip);
    TEST(test_adam_state_round_trip);
    TEST(test_sigkill_then_resume_gives_same_state);
    TEST(test_sigint_writes_checkpoint);
    TEST(test_sigterm_writes_checkpoint_adam);
    TEST(test_resume_in_a_later_stage);
    TEST(test_finished_run_goes_further);
    TEST(test_interrupt_with_unwritable_checkpoint);
    TEST(test_damaged_checkpoints_refused);
    TEST(test_failed_checkpoint_write_keeps_picture);
    nst_test_program_done(&program);
    return nst_test_summary();
}
