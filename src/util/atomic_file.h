// atomic_file.h: writing a file through a temporary one renamed into place, so
// that an existing file is never left half-written.
#ifndef NST_ATOMIC_FILE_H
#define NST_ATOMIC_FILE_H
#include <stdio.h>
#include "util/status.h"

// nst_atomic_file, nst_atomic_open and nst_atomic_close are public (nst.h). The
// temporary file's mode comes from the kernel applying the umask: no umask() call,
// which would race with other threads.

// Like nst_atomic_open, with the fixed temporary name "<path>.tmp", removed first if it is there: for
// large files written again and again (checkpoints), so that a writer killed midway
// leaves one stale file, which its next write replaces, not one per kill.
int nsti_atomic_open_reusing(nst_atomic_file *af, const char *path, nst_error *err);

#endif
