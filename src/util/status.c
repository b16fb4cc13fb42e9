#include "status.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int set_error(nst_error *err, int code, const char *fmt, va_list ap) {
    if (err) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        // keep messages on one line whatever the file name holds
        for (char *p = err->msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        err->code = code;
    }
    return code;
}

int (nsti_fail)(nst_error *err, int code, const char *fmt, ...) {   // (name): not the analyzer's macro
    va_list ap;
    va_start(ap, fmt);
    set_error(err, code, fmt, ap);
    va_end(ap);
    return code;
}

// The same for programs, through the public header.
int (nst_error_set)(nst_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void nsti_error_clear(nst_error *err) {
    if (err) { err->code = NST_OK; err->msg[0] = 0; }
}
