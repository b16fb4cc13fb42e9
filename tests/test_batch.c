// `nst batch JOBS.jsonl`: failed jobs named by line and counted in the exit status,
// finished jobs skipped, one job picked by --job-index or a scheduler's variable,
// --workers and GNU parallel (killed with SIGKILL partway, then run again) giving the
// serial run's bytes. Tiny runs of the partial model, one thread each.
#include "testlib.h"
#include "nst.h"
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATHLEN 1024

static nst_test_program program;
static char nst[PATHLEN], model[PATHLEN], images[PATHLEN];   // absolute: the jobs run elsewhere
static char out_text[32768];

// The pictures of the four good jobs of a batch, and their sizes.
static const char *const pictures[] = {"tubingen", "brad_pitt", "hoovertowernight", "shipwreck"};

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// Runs a shell command (printf-style) in program.tmp, output into out_text; returns its exit code.
#define sh(...) nst_test_shellf(program.tmp, out_text, sizeof out_text, __VA_ARGS__)

// A job line: picture `pic` to OUTPUT pic.png, 48 px, `iterations`, one thread, a
// checkpoint every 2 iterations, then `extra` keys (",\"k\":v" or "").
static void job_line(char *buf, size_t n, const char *pic, int iterations, const char *extra) {
    snprintf(buf, n,
             "{\"content\":\"%s/%s.jpg\",\"style\":\"%s/starry_night_crop.png\",\"model\":\"%s\",\"output\":\"%s.png\","
             "\"size\":48,\"iterations\":%d,\"threads\":1,\"checkpoint-every\":2%s}",
             images, pic, images, model, pic, iterations, extra);
}

// A fresh directory tmp/name holding jobs.jsonl with these lines.
static void make_batch(char *dir, size_t n, const char *name, const char *const *lines, int n_lines) {
    snprintf(dir, n, "%s/%s", program.tmp, name);
    mkdir(dir, 0755);
    char path[PATHLEN + 32];
    snprintf(path, sizeof path, "%s/jobs.jsonl", dir);
    FILE *f = fopen(path, "w");
    CHECKF(f != NULL, "cannot write %s", path);
    if (!f) return;
    for (int k = 0; k < n_lines; k++) fprintf(f, "%s\n", lines[k]);
    fclose(f);
}

// The four good jobs, 30 iterations each.
static void make_good_batch(char *dir, size_t n, const char *name) {
    char lines[4][4096];
    const char *l[4];
    for (int k = 0; k < 4; k++) {
        job_line(lines[k], sizeof lines[k], pictures[k], 30, "");
        l[k] = lines[k];
    }
    make_batch(dir, n, name, l, 4);
}

// 1 when dir/file and the reference's are the same bytes.
static int same_file(const char *dir, const char *ref_dir, const char *file) {
    char a[PATHLEN + 64], b[PATHLEN + 64];
    snprintf(a, sizeof a, "%s/%s", dir, file);
    snprintf(b, sizeof b, "%s/%s", ref_dir, file);
    char *x = nst_test_read_file(a), *y = nst_test_read_file(b);
    struct stat sa, sb;
    int same = x && y && !stat(a, &sa) && !stat(b, &sb) && sa.st_size == sb.st_size &&
               !memcmp(x, y, (size_t)sa.st_size);
    free(x);
    free(y);
    return same;
}

// Every output (PNG and OUTPUT.json) of the good batch in dir is the reference's.
static void check_same_outputs(const char *dir, const char *ref_dir, const char *how) {
    for (int k = 0; k < 4; k++) {
        char png[64], json[80];
        snprintf(png, sizeof png, "%s.png", pictures[k]);
        snprintf(json, sizeof json, "%s.png.json", pictures[k]);
        CHECKF(same_file(dir, ref_dir, png), "%s: %s differs from the serial run's", how, png);
        CHECKF(same_file(dir, ref_dir, json), "%s: %s differs from the serial run's", how, json);
    }
}

static char serial_dir[PATHLEN], reference_dir[PATHLEN];

// Four jobs, one with a bad key and one with a missing file: exit 2, each failure named
// by its line (a blank line counts), the others written, no checkpoint left behind.
static void test_serial_with_failures(void) {
    char good0[4096], good1[4096], bad_key[4096], missing[4096];
    job_line(good0, sizeof good0, "tubingen", 12, "");
    job_line(bad_key, sizeof bad_key, "tubingen", 12, ",\"no-such-key\":1");
    job_line(missing, sizeof missing, "no_such_picture", 12, "");
    job_line(good1, sizeof good1, "brad_pitt", 12, "");
    const char *lines[] = {good0, "", bad_key, missing, "   ", good1};
    make_batch(serial_dir, sizeof serial_dir, "serial", lines, 6);
    int rc = sh("cd %s && %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 2, "exit status %d, not 2: %s", rc, out_text);
    CHECKF(strstr(out_text, "nst: jobs.jsonl:3: \"no-such-key\": unknown key"), "bad key not named: %s", out_text);
    CHECKF(strstr(out_text, "nst: jobs.jsonl:4: ") && strstr(out_text, "no_such_picture.jpg"),
           "missing file not named by line 4: %s", out_text);
    CHECKF(strstr(out_text, "nst batch: 4 jobs: 2 done, 0 skipped (finished before), 2 failed"), "summary: %s",
           out_text);
    char path[PATHLEN + 64];
    static const char *const written[] = {"tubingen.png", "tubingen.png.json", "brad_pitt.png", "brad_pitt.png.json"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", serial_dir, written[k]);
        CHECKF(exists(path), "%s was not written", path);
    }
    snprintf(path, sizeof path, "%s/tubingen.png.ckpt", serial_dir);
    CHECKF(!exists(path), "the automatic checkpoint %s was left behind", path);
    snprintf(path, sizeof path, "%s/no_such_picture.png.json", serial_dir);
    CHECKF(!exists(path), "a failed job wrote %s", path);
}

// Run again: the finished jobs are skipped (said unless --quiet), their files untouched;
// the failed ones fail again.
static void test_rerun_skips_finished(void) {
    char before[PATHLEN + 64];
    snprintf(before, sizeof before, "%s/tubingen.png", serial_dir);
    struct stat st0, st1;
    CHECK(stat(before, &st0) == 0);
    int rc = sh("cd %s && %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 2 && strstr(out_text, "4 jobs: 0 done, 2 skipped (finished before), 2 failed"), "rerun: %d %s", rc,
           out_text);
    CHECKF(strstr(out_text, "nst: jobs.jsonl:1: tubingen.png is finished; skipped"), "no skip message: %s", out_text);
    CHECK(stat(before, &st1) == 0 && st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
          st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
    rc = sh("cd %s && %s batch jobs.jsonl --quiet", serial_dir, nst);
    CHECKF(rc == 2 && !strstr(out_text, "skipped\n") && strstr(out_text, "2 skipped"), "--quiet: %d %s", rc, out_text);
}

// What counts as finished: the same job, recorded whole. A record of a run cut short
// (OUTPUT.json after SIGINT says the iterations it ran), a job that changed, or a
// missing output is run again.
static void test_what_counts_as_finished(void) {
    char dir[PATHLEN], line[4096], path[PATHLEN + 64];
    job_line(line, sizeof line, "tubingen", 12, "");
    const char *lines[] = {line};
    make_batch(dir, sizeof dir, "finished", lines, 1);
    CHECKF(sh("cp %s/tubingen.png %s/tubingen.png.json %s/", serial_dir, serial_dir, dir) == 0, "%s", out_text);
    int rc = sh("cd %s && %s batch jobs.jsonl", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "0 done, 1 skipped"), "a copy of a finished job: %d %s", rc, out_text);
    // the record of a run stopped at iteration 5
    CHECKF(sh("cd %s && sed -i 's/\"iterations\": 12/\"iterations\": 5/' tubingen.png.json", dir) == 0, "%s", out_text);
    rc = sh("cd %s && %s batch jobs.jsonl", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "1 done, 0 skipped"), "a record cut short counted as finished: %d %s", rc,
           out_text);
    CHECKF(same_file(dir, serial_dir, "tubingen.png") && same_file(dir, serial_dir, "tubingen.png.json"),
           "the job run again differs from the first run");
    // the same job with another style weight
    job_line(line, sizeof line, "tubingen", 12, ",\"style-weight\":20");
    make_batch(dir, sizeof dir, "finished", lines, 1);
    rc = sh("cd %s && %s batch jobs.jsonl -q", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "1 done, 0 skipped"), "a changed job counted as finished: %d %s", rc, out_text);
    // no threads given: the batch's count does not matter
    job_line(line, sizeof line, "tubingen", 12, ",\"style-weight\":20");
    char *threads = strstr(line, ",\"threads\":1");
    if (threads) memmove(threads, threads + 12, strlen(threads + 12) + 1);
    make_batch(dir, sizeof dir, "finished", lines, 1);
    rc = sh("cd %s && %s batch jobs.jsonl --workers 2", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "0 done, 1 skipped"), "threads left to the batch: %d %s", rc, out_text);
    // the output gone
    snprintf(path, sizeof path, "%s/tubingen.png", dir);
    unlink(path);
    rc = sh("cd %s && %s batch jobs.jsonl -q --workers=2", dir, nst);   // --workers=2 as --workers 2
    CHECKF(rc == 0 && strstr(out_text, "1 done, 0 skipped") && exists(path), "output removed: %d %s", rc, out_text);
}

// One job: --job-index, else $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX; each
// names the job's line. An index past the last, a bad index, no jobs file, a bad
// --workers: 125.
static void test_job_index(void) {
    int rc = sh("cd %s && %s batch jobs.jsonl --job-index 0", serial_dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "jobs.jsonl:1: tubingen.png is finished; skipped") &&
               strstr(out_text, "nst batch: 1 job: 0 done, 1 skipped (finished before), 0 failed"),
           "--job-index 0: %d %s", rc, out_text);
    rc = sh("cd %s && %s batch jobs.jsonl --job-index 1", serial_dir, nst);
    CHECKF(rc == 1 && strstr(out_text, "jobs.jsonl:3: \"no-such-key\"") && !strstr(out_text, "jobs.jsonl:1:"),
           "--job-index 1: %d %s", rc, out_text);
    rc = sh("cd %s && SLURM_ARRAY_TASK_ID=2 %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 1 && strstr(out_text, "jobs.jsonl:4: ") && strstr(out_text, "1 job: 0 done, 0 skipped"),
           "SLURM_ARRAY_TASK_ID=2: %d %s", rc, out_text);
    rc = sh("cd %s && JOB_COMPLETION_INDEX=3 %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "jobs.jsonl:6: brad_pitt.png is finished; skipped"),
           "JOB_COMPLETION_INDEX=3: %d %s", rc, out_text);
    rc = sh("cd %s && SLURM_ARRAY_TASK_ID=1 %s batch jobs.jsonl --job-index 3", serial_dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "jobs.jsonl:6:"), "--job-index before the variable: %d %s", rc, out_text);
    rc = sh("cd %s && %s batch jobs.jsonl --job-index 4", serial_dir, nst);
    CHECKF(rc == 125 && strstr(out_text, "jobs.jsonl") && strstr(out_text, "4 jobs"), "index past the last: %d %s", rc,
           out_text);
    rc = sh("cd %s && JOB_COMPLETION_INDEX=7 %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 125 && strstr(out_text, "JOB_COMPLETION_INDEX 7") && strstr(out_text, "4 jobs"),
           "JOB_COMPLETION_INDEX past the last: %d %s", rc, out_text);
    static const char *const refused[] = {"--job-index -1", "--job-index 1x", "--job-index ''", "--workers 0",
                                          "--workers two", "--no-such-option", "--job-index"};
    for (size_t k = 0; k < sizeof refused / sizeof *refused; k++) {
        rc = sh("cd %s && %s batch jobs.jsonl %s", serial_dir, nst, refused[k]);
        CHECKF(rc == 125, "%s: exit %d, not 125: %s", refused[k], rc, out_text);
    }
    rc = sh("cd %s && SLURM_ARRAY_TASK_ID=-2 %s batch jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 125 && strstr(out_text, "SLURM_ARRAY_TASK_ID"), "bad SLURM_ARRAY_TASK_ID: %d %s", rc, out_text);
    rc = sh("cd %s && %s batch no-such-jobs.jsonl", serial_dir, nst);
    CHECKF(rc == 125 && strstr(out_text, "no-such-jobs.jsonl"), "no jobs file: %d %s", rc, out_text);
}

// Lines that are not jobs of a known command fail as jobs, each named by its line.
static void test_bad_lines(void) {
    char dir[PATHLEN];
    const char *lines[] = {"[1, 2]", "{\"content\": ", "{\"command\": \"movie\"}", "{\"command\": 3}"};
    make_batch(dir, sizeof dir, "bad_lines", lines, 4);
    int rc = sh("cd %s && %s batch jobs.jsonl --workers 3", dir, nst);
    CHECKF(rc == 4 && strstr(out_text, "jobs.jsonl:1: a job must be one JSON object") &&
               strstr(out_text, "jobs.jsonl:2: not valid JSON") &&
               strstr(out_text, "jobs.jsonl:3: \"command\": unknown command \"movie\"") &&
               strstr(out_text, "jobs.jsonl:4: \"command\": expected a string") &&
               strstr(out_text, "4 jobs: 0 done, 0 skipped (finished before), 4 failed"),
           "%d %s", rc, out_text);
}

// The reference: the four good jobs one after another. Then --workers 2: the same bytes.
static void test_workers_same_bytes(void) {
    make_good_batch(reference_dir, sizeof reference_dir, "reference");
    int rc = sh("cd %s && %s batch jobs.jsonl -q", reference_dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "4 jobs: 4 done"), "serial: %d %s", rc, out_text);
    char dir[PATHLEN];
    make_good_batch(dir, sizeof dir, "workers");
    rc = sh("cd %s && %s batch jobs.jsonl --workers 2 -q", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "4 jobs: 4 done"), "--workers 2: %d %s", rc, out_text);
    check_same_outputs(dir, reference_dir, "--workers 2");
}

// A checkpoint of another run where the job's own would be: said, and started afresh.
static void test_foreign_checkpoint_starts_afresh(void) {
    char dir[PATHLEN];
    make_good_batch(dir, sizeof dir, "foreign");
    int rc = sh("cd %s && %s -c %s/tubingen.jpg -s %s/starry_night_crop.png -m %s -o other.png --size 48 "
                "--iterations 4 --style-weight 50 --threads 1 --checkpoint tubingen.png.ckpt -q",
                dir, nst, images, images, model);
    CHECKF(rc == 0, "%s", out_text);
    rc = sh("cd %s && %s batch jobs.jsonl --job-index 0", dir, nst);
    CHECKF(rc == 0 && strstr(out_text, "nst: jobs.jsonl:1: tubingen.png.ckpt: ") && strstr(out_text, "starting afresh"),
           "%d %s", rc, out_text);
    CHECKF(same_file(dir, reference_dir, "tubingen.png"), "started afresh, the result differs from the serial run's");
}

// The session id of a process (field 6 of /proc/PID/stat), or -1.
static long session_of(long pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');   // after the command's name, which may hold spaces
    long ppid, pgrp, sid;
    char state;
    if (!p || sscanf(p + 1, " %c %ld %ld %ld", &state, &ppid, &pgrp, &sid) != 4) return -1;
    return sid;
}

// SIGKILL to every process of session sid (GNU parallel puts each job in a process
// group of its own, so the group of parallel is not all of them). Returns how many.
static int kill_session(long sid) {
    int killed = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && session_of(atol(e->d_name)) == sid)
            killed += kill((pid_t)atol(e->d_name), SIGKILL) == 0;
    closedir(d);
    return killed;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// GNU parallel runs the jobs two at a time, one `nst batch --job-index` each; killed
// with SIGKILL once a job is done and another is mid-run (its checkpoint there, its
// output not), then run again: every output is the serial run's, and the cut job resumed.
static void test_gnu_parallel_killed_and_resumed(void) {
    int have = sh("command -v parallel");
    CHECKF(have == 0, "GNU parallel is not installed: install it (Debian: apt-get install parallel; "
                      "scripts/install-deps.sh lists it)");
    if (have) return;
    char dir[PATHLEN], cmd[4 * PATHLEN];
    make_good_batch(dir, sizeof dir, "parallel");
    snprintf(cmd, sizeof cmd, "cd %s && exec parallel --will-cite -j2 %s batch jobs.jsonl --job-index {} ::: 0 1 2 3 "
             ">parallel.out 2>&1", dir, nst);
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    int cut = -1;   // a job mid-run when killed
    for (int tries = 0; tries < 3000 && cut < 0; tries++) {   // at most 60 s
        int any_done = 0, mid = -1;
        for (int k = 0; k < 4; k++) {
            char png[PATHLEN + 64], ckpt[PATHLEN + 64];
            snprintf(png, sizeof png, "%s/%s.png", dir, pictures[k]);
            snprintf(ckpt, sizeof ckpt, "%s/%s.png.ckpt", dir, pictures[k]);
            if (exists(png)) any_done = 1;
            else if (exists(ckpt)) mid = k;
        }
        if (any_done && mid >= 0) {
            kill_session(pid);
            cut = mid;
        } else {
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) break;   // it ended before
            sleep_ms(20);
        }
    }
    for (int round = 0; round < 10 && kill_session(pid) > 0; round++) sleep_ms(50);   // all, children too
    waitpid(pid, NULL, 0);
    CHECKF(cut >= 0, "never saw one job done and another mid-run");
    if (cut < 0) return;
    char ckpt[PATHLEN + 64];
    snprintf(ckpt, sizeof ckpt, "%s/%s.png.ckpt", dir, pictures[cut]);
    CHECKF(exists(ckpt), "%s: no checkpoint left by the killed job", ckpt);
    int rc = sh("cd %s && parallel --will-cite -j2 %s batch jobs.jsonl --job-index {} ::: 0 1 2 3", dir, nst);
    char want[128];
    snprintf(want, sizeof want, "nst: jobs.jsonl:%d: resuming from %s.png.ckpt at iteration ", cut + 1, pictures[cut]);
    CHECKF(rc == 0 && strstr(out_text, want) && strstr(out_text, "skipped (finished before)"),
           "run again: %d, want '%s' and a skipped job: %s", rc, want, out_text);
    check_same_outputs(dir, reference_dir, "GNU parallel, killed and run again");
    CHECKF(!exists(ckpt), "%s left behind after the job finished", ckpt);
}

// path made absolute: the jobs run in other directories.
static int absolute(char *dst, size_t n, const char *path) {
    char cwd[PATHLEN];
    if (path[0] == '/') return snprintf(dst, n, "%s", path) < (int)n ? 0 : -1;
    return getcwd(cwd, sizeof cwd) && snprintf(dst, n, "%s/%s", cwd, path) < (int)n ? 0 : -1;
}

int main(void) {
    if (nst_test_program_init(&program, "nst_batch")) return 1;
    char shared_images[PATHLEN];
    snprintf(shared_images, sizeof shared_images, "%s/images", nst_test_shared());
    if (absolute(nst, sizeof nst, program.nst) || absolute(model, sizeof model, program.model) ||
        absolute(images, sizeof images, shared_images)) {
        fprintf(stderr, "paths too long\n");
        return 1;
    }
    TEST(test_serial_with_failures);
    TEST(test_rerun_skips_finished);
    TEST(test_what_counts_as_finished);
    TEST(test_job_index);
    TEST(test_bad_lines);
    TEST(test_workers_same_bytes);
    TEST(test_foreign_checkpoint_starts_afresh);
    TEST(test_gnu_parallel_killed_and_resumed);
    nst_test_program_done(&program);
    return nst_test_summary();
}
