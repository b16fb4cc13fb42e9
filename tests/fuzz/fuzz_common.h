// fuzz_common.h: what the libFuzzer harnesses share.
//
// The loaders take paths, so each input is written to one file per process and
// the harness passes that file's path: a memfd (/proc/self/fd/N, nothing touches
// the disk) where the kernel has them, else (or with FUZZ_REGULAR_FILE defined) a
// file in $TMPDIR removed at exit.
// Each harness also checks the library's promises beyond "no crash": a failing
// call returns the code it stores in the nst_error, and its message is one
// non-empty line that names the file. A broken promise aborts, so libFuzzer
// reports it like a crash, with the input saved.
#ifndef NST_FUZZ_COMMON_H
#define NST_FUZZ_COMMON_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   // memfd_create; include this header first
#endif
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "nst.h"

static char fuzz_path_buf[256];
static int fuzz_fd = -1;

static inline void fuzz_remove_file(void) { unlink(fuzz_path_buf); }

static inline void fuzz_die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz harness: %s: %s\n", what, detail ? detail : "");
    abort();
}

static inline void fuzz_open_file(void) {
#if defined(MFD_CLOEXEC) && !defined(FUZZ_REGULAR_FILE)   // libhdf5 needs a real path: fuzz_hdf5 sets it
    fuzz_fd = memfd_create("nst-fuzz", MFD_CLOEXEC);
    if (fuzz_fd >= 0) {
        snprintf(fuzz_path_buf, sizeof fuzz_path_buf, "/proc/self/fd/%d", fuzz_fd);
        if (write(fuzz_fd, "x", 1) == 1 && access(fuzz_path_buf, R_OK) == 0) return;
        close(fuzz_fd);   // no /proc: fall back to a file
        fuzz_fd = -1;
    }
#endif
    const char *dir = getenv("TMPDIR");
    snprintf(fuzz_path_buf, sizeof fuzz_path_buf, "%s/nst-fuzz-%ld", dir && *dir ? dir : "/tmp",
             (long)getpid());
    fuzz_fd = open(fuzz_path_buf, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fuzz_fd < 0) fuzz_die("cannot create the input file", fuzz_path_buf);
    atexit(fuzz_remove_file);
}

// Replaces the file's contents with data and returns its path.
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
    if (fuzz_fd < 0) fuzz_open_file();
    if (ftruncate(fuzz_fd, 0) != 0) fuzz_die("ftruncate failed", fuzz_path_buf);
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fuzz_fd, data + done, size - done, (off_t)done);
        if (w <= 0) fuzz_die("write failed", fuzz_path_buf);
        done += (size_t)w;
    }
    return fuzz_path_buf;
}

// The error contract of every nst call that failed with status rc.
static inline void fuzz_check_error(int rc, const nst_error *err, const char *must_name) {
    if (rc == NST_OK) return;
    if (err->code != rc) fuzz_die("returned status differs from err.code", err->msg);
    if (rc < NST_ERR_USAGE || rc > NST_ERR_INTERRUPTED) fuzz_die("unknown status code", err->msg);
    if (!err->msg[0]) fuzz_die("empty error message", NULL);
    if (!memchr(err->msg, 0, sizeof err->msg)) fuzz_die("unterminated error message", NULL);
    if (strchr(err->msg, '\n') || strchr(err->msg, '\r')) fuzz_die("error message is not one line", err->msg);
    if (must_name && !strstr(err->msg, must_name)) fuzz_die("error message does not name the file", err->msg);
}

// Reads every element, so that ASan sees a buffer shorter than its shape says.
static inline float fuzz_touch(const float *d, size_t n) {
    volatile float sink = 0;
    for (size_t i = 0; i < n; i++) sink += d[i];
    return sink;
}

#endif
