// status.h: internal error reporting. Every failing call fills an nst_error
// (declared in nst.h) with a status code and a one-line message.
#ifndef NST_STATUS_H
#define NST_STATUS_H
#include "nst.h"

// Sets err (if not NULL) and returns code, so callers can `return nsti_fail(...)`.
int nsti_fail(nst_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nsti_error_clear(nst_error *err);

#if defined(NST_ANALYZE) && defined(__clang_analyzer__)   // make analyze only
// The static analyzer reads one file at a time: show it that the call returns code,
// so that `if (nsti_fail(...))` paths are not taken as successes.
#define nsti_fail(err, code, ...) (nsti_fail((err), (code), __VA_ARGS__), (code))
#endif

#endif
