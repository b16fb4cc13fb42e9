// atomic_file.h: writing a file through a temporary one renamed into place, so
// that an existing file is never left half-written.
#ifndef NST_ATOMIC_FILE_H
#define NST_ATOMIC_FILE_H
#include <stdio.h>
#include "util/status.h"

typedef struct nst_atomic_file {
    FILE *f;          // write here
    char *tmp_path;   // owned
    const char *path; // borrowed: the final name
} nst_atomic_file;

// Creates "<path>.tmp.<random>" beside path, exclusively, with the mode of the
// file it will replace, else 0666 less the umask (applied by the kernel: no
// umask() call, which would race with other threads).
int nst_atomic_open(nst_atomic_file *af, const char *path, nst_error *err);
// The same with the fixed temporary name "<path>.tmp", removed first if it is there: for
// large files written again and again (checkpoints), so that a writer killed midway
// leaves one stale file, which its next write replaces, not one per kill.
int nst_atomic_open_reusing(nst_atomic_file *af, const char *path, nst_error *err);
// Flushes, syncs and renames into place; on failure removes the temporary file.
// ok = 0 abandons the file (removes it) and returns NST_OK.
int nst_atomic_close(nst_atomic_file *af, int ok, nst_error *err);

#endif
