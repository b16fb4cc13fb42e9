#include "status.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int nst_fail(nst_error *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        // keep messages on one line whatever the file name holds
        for (char *p = err->msg; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        err->code = code;
    }
    return code;
}

void nst_error_clear(nst_error *err) {
    if (err) { err->code = NST_OK; err->msg[0] = 0; }
}
