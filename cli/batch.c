// batch.c: `nst batch JOBS.jsonl [--workers N] [--job-index I] [--quiet]`. Each
// non-blank line of JOBS.jsonl is one job, a JSON object with the keys of --config
// files (and "command"). Every job runs in a child process of its own (forked before
// any OpenMP thread starts here), at most N at once, so that one job's crash cannot
// take the others down. A job that finished before is skipped; one that was cut short
// resumes from its checkpoint. Schedulers run one job each through --job-index, or
// their own variables.
#include <stdio.h>
#include "batch.h"
#include "config.h"
#include "model_cmd.h"
#include "options.h"
#include "run.h"
#include "video.h"
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH_CANNOT_START 125   // the exit status when no job could be run
#define BATCH_MAX_FAILED 100     // the exit status counts failed jobs up to this
#define JOB_SKIPPED 120          // a child's exit status: the job had finished before

// A job as the child running it sees it.
typedef struct batch_job {
    const char *label;   // "JOBS.jsonl:LINE": before each of its messages
    int threads;         // for a job that gives no "threads"
    int quiet;
} batch_job;

// Runs one job of a kind (obj without its "command"); returns the exit code, or JOB_SKIPPED.
typedef int (*batch_command)(const batch_job *job, json_t *obj);

static int run_picture(const batch_job *job, json_t *obj);
static int run_video(const batch_job *job, json_t *obj);

// The kinds of job, by the value of their "command" key (default "run").
static const struct {
    const char *name;
    batch_command run;
} commands[] = {
    {"run", run_picture},   // one picture, as `nst --config`
    {"video", run_video},   // a video, as `nst video --config`
};

// ---- One picture ----------------------------------------------------------------------

static const char *string_key(const json_t *obj, const char *key) { return json_string_value(json_object_get(obj, key)); }

// What the job's run would write to OUTPUT.json about its model: the model file, the
// layers it resolves to and the input convention. Returns 0, or -1 (no such model).
static int job_run_info(const cli_options *o, char *model_buf, size_t n, char *content, char *style, size_t len,
                        char *input, size_t input_len, cli_run_info *info) {
    nst_model *m = NULL;
    nst_error err;
    info->model_path = cli_model_path(o, model_buf, n);
    int rc = nst_model_load(&m, info->model_path, &err) ||
             (o->model_input && nst_model_set_input(m, o->model_input, &err)) ||
             nst_resolve_layers(m, &o->params, content, len, style, len, &err);
    if (!rc) snprintf(input, input_len, "%s", nst_model_input_convention(m));
    nst_model_free(m);
    info->content_layers = content;
    info->style_layers = style;
    info->model_input = input;
    info->last = NULL;
    info->result = NULL;
    return rc ? -1 : 0;
}

// A video job's output: it opens (whole, checked) with as many frames as its record says.
static int video_complete(const char *output, const json_t *root) {
    nst_video_reader *r = NULL;
    nst_video_info info;
    json_t *frames = json_object_get(json_object_get(root, "result"), "frames");
    if (!json_is_integer(frames) || nst_video_open(&r, output, 0, &info, NULL)) return 0;
    nst_video_close(r);
    return info.n_frames == json_integer_value(frames);
}

// 1 when the job finished before: its output and OUTPUT.json are there, OUTPUT.json
// holds "result" and records this job. That is, both written out as OUTPUT.json, each
// with its model, layers and input convention (the job's as its model resolves them),
// are the same text; the threads count only when the job gives them. A run cut short
// records the iterations it ran, so it does not match.
static int finished(cli_options *o, const json_t *obj) {
    int video = o->video;
    char record[4200], model_buf[4096], content[512], style[512], input[64];
    struct stat st;
    nst_error err;
    cli_config_path(record, sizeof record, o->output);
    if (!video && (stat(o->output, &st) || !S_ISREG(st.st_mode))) return 0;
    json_t *root = cli_read_json_object(record, &err);
    if (!root) return 0;
    if (video && !video_complete(o->output, root)) { json_decref(root); return 0; }
    cli_run_info was = {string_key(root, "model"), string_key(root, "content-layers"),
                        string_key(root, "style-layers"), string_key(root, "model-input"), NULL, NULL};
    cli_run_info now;
    cli_options *rec = malloc(sizeof *rec);
    char *a = NULL, *b = NULL;
    if (rec && json_is_object(json_object_get(root, "result")) && was.model_path && was.content_layers &&
        was.style_layers && !cli_parse_json_mode(rec, video, record, root, &err) &&
        !job_run_info(o, model_buf, sizeof model_buf, content, style, sizeof content, input, sizeof input, &now)) {
        int threads = o->params.threads;
        if (!json_object_get(obj, "threads")) o->params.threads = rec->params.threads;
        a = cli_config_json(o, &now, &err);
        b = cli_config_json(rec, &was, &err);
        o->params.threads = threads;
    }
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    free(rec);
    json_decref(root);
    return same;
}

// The job's options (video 1: as `nst video --config` reads them), with the batch's
// threads unless it gives its own; NULL with *code set when it does not parse (the
// exit code) or finished before (JOB_SKIPPED).
static cli_options *job_options(const batch_job *job, json_t *obj, int video, int *code) {
    nst_error err = {0};
    cli_options *o = malloc(sizeof *o);
    if (!o) {
        fprintf(stderr, "nst: %s: out of memory\n", job->label);
        *code = cli_exit_code(NST_ERR_NOMEM);
        return NULL;
    }
    if (cli_parse_json_mode(o, video, job->label, obj, &err)) {
        fprintf(stderr, "nst: %s\n", err.msg);
        free(o);
        *code = err.code == NST_ERR_USAGE ? 2 : cli_exit_code(err.code);
        return NULL;
    }
    if (!json_object_get(obj, "threads")) o->params.threads = job->threads;
    if (job->quiet) o->quiet = 1;
    if (finished(o, obj)) {
        if (!job->quiet) fprintf(stderr, "nst: %s: %s is finished; skipped\n", job->label, o->output);
        free(o);
        *code = JOB_SKIPPED;
        return NULL;
    }
    return o;
}

// A picture: skipped when finished, else run with a checkpoint (OUTPUT.ckpt unless the
// job names one), resumed from it when it is there.
static int run_picture(const batch_job *job, json_t *obj) {
    int code;
    cli_options *o = job_options(job, obj, 0, &code);
    if (!o) return code;
    char checkpoint[4200], record[4200];
    int own_checkpoint = !o->params.checkpoint;
    snprintf(checkpoint, sizeof checkpoint, "%s.ckpt", o->output);
    if (own_checkpoint) o->params.checkpoint = checkpoint;
    cli_config_path(record, sizeof record, o->output);
    if (!o->params.resume && access(o->params.checkpoint, F_OK) == 0) o->params.resume = o->params.checkpoint;
    cli_run_how how = {job->label, 1, 1, 0};
    code = cli_run_options(o, &how);
    if (code == 0 && own_checkpoint) unlink(checkpoint);
    // a failed run's record (the last good picture after a NaN) is no finished job's
    if (code && code != 130 && code != 143 && how.wrote_record) unlink(record);
    return code;
}

// A video: skipped when finished, else run; it goes on by itself from the frames an
// earlier run finished (OUTPUT.frames/).
static int run_video(const batch_job *job, json_t *obj) {
    int code;
    cli_options *o = job_options(job, obj, 1, &code);
    return o ? cli_video_run_options(o, job->label) : code;
}

// ---- A job, in its child ----------------------------------------------------------------

// The job on one line: its command looked up, then run. Returns the child's exit status.
static int run_job(const batch_job *job, const char *text) {
    json_error_t jerr;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj || !json_is_object(obj)) {
        if (obj) fprintf(stderr, "nst: %s: a job must be one JSON object\n", job->label);
        else fprintf(stderr, "nst: %s: not valid JSON: %s (column %d)\n", job->label, jerr.text, jerr.column);
        json_decref(obj);
        return 2;
    }
    const json_t *command = json_object_get(obj, "command");
    const char *name = command ? json_string_value(command) : "run";
    batch_command run = NULL;
    for (size_t k = 0; name && k < sizeof commands / sizeof *commands; k++)
        if (!strcmp(name, commands[k].name)) run = commands[k].run;
    if (!run) {
        fprintf(stderr, "nst: %s: \"command\": %s%s%s (known: run, video)\n", job->label, name ? "unknown command \"" : "",
                name ? name : "expected a string", name ? "\"" : "");
        json_decref(obj);
        return 2;
    }
    json_object_del(obj, "command");
    int code = run(job, obj);
    json_decref(obj);
    return code;
}

// ---- The batch ----------------------------------------------------------------------------

typedef struct batch_line {
    char *text;    // the job
    char *label;   // "JOBS.jsonl:LINE"
} batch_line;

typedef struct batch {
    const char *path;   // JOBS.jsonl
    batch_line *jobs;   // its non-blank lines
    int n;
    int workers;
    int quiet;
} batch;

static void batch_free(batch *b) {
    for (int k = 0; k < b->n; k++) {
        free(b->jobs[k].text);
        free(b->jobs[k].label);
    }
    free(b->jobs);
}

// Reads the jobs. Returns 0, or -1 after a message.
static int read_jobs(batch *b) {
    FILE *f = fopen(b->path, "r");
    if (!f) {
        fprintf(stderr, "nst: %s: cannot read the jobs file: %s\n", b->path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, room = 0, label_len = strlen(b->path) + 16;
    ssize_t len;
    int line = 0, bad = 0;
    while (!bad && (len = getline(&buf, &cap, f)) >= 0) {
        line++;
        if (strspn(buf, " \t\r\n") == (size_t)len) continue;   // blank
        if (b->n == (int)room) {
            batch_line *more = realloc(b->jobs, (room = room ? 2 * room : 64) * sizeof *more);
            if (!more) { bad = 1; break; }
            b->jobs = more;
        }
        batch_line *j = &b->jobs[b->n++];
        j->text = strdup(buf);
        j->label = malloc(label_len);
        if (j->label) snprintf(j->label, label_len, "%s:%d", b->path, line);
        bad = !j->text || !j->label;
    }
    bad = bad || ferror(f);
    free(buf);
    fclose(f);
    if (bad) fprintf(stderr, "nst: %s: cannot read the jobs file\n", b->path);
    return bad ? -1 : 0;
}

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

// Forks the child that runs job k. Returns its pid, or -1. The child frees what the
// parent holds (the batch, and `held`) before it exits, so that a leak checker sees
// only the job's own.
static pid_t start_job(batch *b, int k, void *held[2]) {
    fflush(NULL);   // nothing buffered here is written twice
    pid_t pid = fork();
    if (pid != 0) return pid;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores / b->workers > 1 ? (int)(cores / b->workers) : 1;
    batch_job job = {b->jobs[k].label, threads, b->quiet};
    int code = run_job(&job, b->jobs[k].text);
    free(held[0]);
    free(held[1]);
    batch_free(b);
    exit(code);
}

// Runs jobs first..first+n-1, at most b->workers at once; prints the summary. Returns
// the exit status.
static int run_jobs(batch *b, int first, int n) {
    pid_t *pid = calloc((size_t)b->workers, sizeof *pid);
    int *job = calloc((size_t)b->workers, sizeof *job);
    if (!pid || !job) {
        free(pid);
        free(job);
        fprintf(stderr, "nst: out of memory\n");
        return BATCH_CANNOT_START;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;   // no SA_RESTART: waitpid returns, and the signal goes on to the jobs
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int next = first, active = 0, done = 0, skipped = 0, failed = 0, forwarded = 0;
    while (active || (next < first + n && !stop_signal)) {
        while (active < b->workers && next < first + n && !stop_signal) {
            int slot = 0;
            while (pid[slot]) slot++;
            pid[slot] = start_job(b, next, (void *[2]){pid, job});
            job[slot] = next++;
            if (pid[slot] < 0) {
                fprintf(stderr, "nst: %s: cannot start the job: %s\n", b->jobs[job[slot]].label, strerror(errno));
                pid[slot] = 0;
                failed++;
            } else {
                active++;
            }
        }
        if (!active) break;
        int st;
        pid_t got = waitpid(-1, &st, 0);
        if (got < 0) {
            if (errno != EINTR) break;
            if (stop_signal && !forwarded) {   // pass SIGINT/SIGTERM on: each job writes its checkpoint
                for (int s = 0; s < b->workers; s++)
                    if (pid[s]) kill(pid[s], stop_signal);
                forwarded = 1;
            }
            continue;
        }
        int slot = 0;
        while (slot < b->workers && pid[slot] != got) slot++;
        if (slot == b->workers) continue;
        pid[slot] = 0;
        active--;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) done++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == JOB_SKIPPED) skipped++;
        else {
            failed++;
            if (WIFSIGNALED(st))
                fprintf(stderr, "nst: %s: the job was killed by signal %d (%s)\n", b->jobs[job[slot]].label,
                        WTERMSIG(st), strsignal(WTERMSIG(st)));
        }
    }
    free(pid);
    free(job);
    int not_run = first + n - next;
    fprintf(stderr, "nst batch: %d job%s: %d done, %d skipped (finished before), %d failed", n, n == 1 ? "" : "s",
            done, skipped, failed);
    if (not_run) fprintf(stderr, ", %d not started", not_run);
    fputc('\n', stderr);
    if (stop_signal) return stop_signal == SIGTERM ? 143 : 130;
    return failed > BATCH_MAX_FAILED ? BATCH_MAX_FAILED : failed;
}

static void batch_usage(FILE *out) {
    fputs("usage: nst batch JOBS.jsonl [--workers N] [--job-index I] [--quiet]\n"
          "\n"
          "Runs the jobs of JOBS.jsonl: each non-blank line is one JSON object with the keys\n"
          "of --config files, such as {\"content\": \"a.jpg\", \"style\": \"b.jpg\", \"output\":\n"
          "\"out/a.png\", \"size\": 256}, and \"command\": \"run\" (the default). Paths are\n"
          "relative to the current directory. Jobs are numbered from 0, over non-blank lines.\n"
          "A job whose output and OUTPUT.json record it finished is skipped; one cut short\n"
          "goes on from its checkpoint (OUTPUT.ckpt unless it names one; removed when done).\n"
          "\n"
          "  --workers N      run N jobs at once, each in its own process, each with\n"
          "                   cores/N threads unless it gives \"threads\" (default 1)\n"
          "  --job-index I    run only job I (default: $SLURM_ARRAY_TASK_ID, else\n"
          "                   $JOB_COMPLETION_INDEX, else every job)\n"
          "  -q, --quiet      only failures and the summary\n"
          "  -h, --help       this help\n"
          "\n"
          "Exit status: the number of failed jobs (at most 100; a line that is not a job is a\n"
          "failed job), 0 when none failed; 125 when the batch cannot start (no jobs file, a\n"
          "bad option or index); 130/143 when interrupted by SIGINT/SIGTERM.\n", out);
}

// A job index: a non-negative integer. Returns 0, or -1 after a message naming `what`.
static int parse_index(const char *what, const char *s, long *out) {
    char *end;
    errno = 0;
    long v = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : -1;
    if (v < 0 || errno || *end || v > 1000000000L) {
        fprintf(stderr, "nst: %s: expected a job index, a non-negative integer, got '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_batch_command(int argc, char **argv) {
    batch b = {0};
    b.workers = 1;
    const char *index_text = NULL, *index_from = "--job-index";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { batch_usage(stdout); return 0; }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { b.quiet = 1; continue; }
        const char *v = NULL;   // --workers=N as --workers N
        if (!strncmp(a, "--workers=", 10) || !strncmp(a, "--job-index=", 12)) v = strchr(a, '=') + 1;
        if (v || !strcmp(a, "--workers") || !strcmp(a, "--job-index")) {
            if (!v && i + 1 >= argc) {
                fprintf(stderr, "nst: batch: %s needs a value\n", a);
                return BATCH_CANNOT_START;
            }
            if (!v) v = argv[++i];
            if (a[2] == 'j') { index_text = v; continue; }
            char *end;
            long w = strtol(v, &end, 10);
            if (!*v || *end || w < 1 || w > 1024) {
                fprintf(stderr, "nst: batch: --workers: expected a number from 1 to 1024, got '%s'\n", v);
                return BATCH_CANNOT_START;
            }
            b.workers = (int)w;
            continue;
        }
        if (a[0] == '-' || b.path) {
            fprintf(stderr, "nst: batch: %s '%s' (see nst batch --help)\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return BATCH_CANNOT_START;
        }
        b.path = a;
    }
    if (!b.path) {
        batch_usage(stderr);
        return BATCH_CANNOT_START;
    }
    static const char *const scheduler_vars[] = {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"};
    for (size_t k = 0; !index_text && k < sizeof scheduler_vars / sizeof *scheduler_vars; k++) {
        const char *v = getenv(scheduler_vars[k]);
        if (v && *v) { index_text = v; index_from = scheduler_vars[k]; }
    }
    long index = -1;
    if (index_text && parse_index(index_from, index_text, &index)) return BATCH_CANNOT_START;
    if (read_jobs(&b)) {
        batch_free(&b);
        return BATCH_CANNOT_START;
    }
    int code;
    if (index >= b.n) {
        fprintf(stderr, "nst: %s: %s %ld, but the file holds %d job%s (indices from 0)\n", b.path, index_from, index,
                b.n, b.n == 1 ? "" : "s");
        code = BATCH_CANNOT_START;
    } else {
        code = index >= 0 ? run_jobs(&b, (int)index, 1) : run_jobs(&b, 0, b.n);
    }
    batch_free(&b);
    return code;
}
