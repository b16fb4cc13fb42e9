#include "nst.h"
#include "util/status.h"

int nst_image_fit(nst_image *dst, const nst_image *src, int longest, nst_error *err) {
    if (longest < 1) return nst_fail(err, NST_ERR_USAGE, "size must be at least 1, got %d", longest);
    int w, h;
    // round to nearest, keep at least one pixel on the short side
    if (src->w >= src->h) {
        w = longest;
        h = (int)(((long long)src->h * longest * 2 + src->w) / (2LL * src->w));
    } else {
        h = longest;
        w = (int)(((long long)src->w * longest * 2 + src->h) / (2LL * src->h));
    }
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    return nst_image_resize(dst, src, w, h, err);
}
