// files.h: checks on the command line's files before a long run starts.
#ifndef NST_CLI_FILES_H
#define NST_CLI_FILES_H
#include "nst.h"

// 1 when a and b name the same existing file.
int cli_same_file(const char *a, const char *b);
// Fails unless the directory of path exists and is writable.
int cli_check_output_dir(const char *path, nst_error *err);
// "dir/out.png" + 40 -> "dir/out-iter0040.png".
void cli_numbered_path(char *buf, size_t n, const char *path, int iter);
// The iteration whose cli_numbered_path of output names path or, for a symbolic link,
// its target (the same name, in the same folder however either is spelled), else -1.
long long cli_numbered_iter(const char *path, const char *output);
// Writes text to path through a temporary file renamed into place.
int cli_write_text_atomic(const char *path, const char *text, nst_error *err);

#endif
