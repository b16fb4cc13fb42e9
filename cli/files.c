#define _XOPEN_SOURCE 700   // realpath
#include <stdio.h>
#include "files.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb)) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_check_output_dir(const char *path, nst_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(dir, ".");
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return nst_error_set(err, NST_ERR_IO, "%s: output directory %s does not exist", path, dir);
    if (access(dir, W_OK))
        return nst_error_set(err, NST_ERR_IO, "%s: output directory %s is not writable: %s", path, dir, strerror(errno));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return nst_error_set(err, NST_ERR_USAGE, "%s: output is a directory", path);
    return NST_OK;
}

void cli_numbered_path(char *buf, size_t n, const char *path, int iter) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash)) dot = path + strlen(path);
    snprintf(buf, n, "%.*s-iter%04d%s", (int)(dot - path), path, iter, dot);
}

// The folder part of path ("." when it has none) into buf, and where its name starts.
static const char *split_dir(char *buf, size_t n, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(buf, n, ".");
    else snprintf(buf, n, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash ? slash + 1 : path;
}

static long long numbered_iter(const char *path, const char *output) {
    char dir_a[4096], dir_b[4096];
    const char *name = split_dir(dir_a, sizeof dir_a, path), *out_name = split_dir(dir_b, sizeof dir_b, output);
    const char *dot = strrchr(out_name, '.');
    size_t stem = dot ? (size_t)(dot - out_name) : strlen(out_name);
    const char *ext = out_name + stem;
    if (strncmp(name, out_name, stem) || strncmp(name + stem, "-iter", 5)) return -1;
    const char *digits = name + stem + 5, *end = digits;
    long long iter = 0;
    while (*end >= '0' && *end <= '9' && end - digits < 12) iter = iter * 10 + (*end++ - '0');
    if (end - digits < 4 || (end - digits > 4 && *digits == '0') || strcmp(end, ext)) return -1;
    return cli_same_file(dir_a, dir_b) ? iter : -1;
}

long long cli_numbered_iter(const char *path, const char *output) {
    long long iter = numbered_iter(path, output);
    char real[PATH_MAX];   // a symbolic link: its target's name too
    if (iter < 0 && realpath(path, real)) iter = numbered_iter(real, output);
    return iter;
}

int cli_write_text_atomic(const char *path, const char *text, nst_error *err) {
    nst_atomic_file af;
    int rc = nst_atomic_open(&af, path, err);
    if (rc) return rc;
    int ok = fputs(text, af.f) >= 0;
    rc = nst_atomic_close(&af, ok, err);
    return ok ? rc : nst_error_set(err, NST_ERR_IO, "%s: cannot write", path);
}
