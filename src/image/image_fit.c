#include "nst.h"
#include "util/status.h"
#include <math.h>

void nst_fit_size(int src_w, int src_h, int longest, int *fit_w, int *fit_h) {
    int w, h;
    // round to nearest, keep at least one pixel on the short side
    if (src_w >= src_h) {
        w = longest;
        h = src_w > 0 ? (int)(((long long)src_h * longest * 2 + src_w) / (2LL * src_w)) : 1;
    } else {
        h = longest;
        w = (int)(((long long)src_w * longest * 2 + src_h) / (2LL * src_h));
    }
    *fit_w = w < 1 ? 1 : w;
    *fit_h = h < 1 ? 1 : h;
}

int nst_image_fit(nst_image *dst, const nst_image *src, int longest, nst_error *err) {
    if (longest < 1) return nsti_fail(err, NST_ERR_USAGE, "size must be at least 1, got %d", longest);
    int w, h;
    nst_fit_size(src->w, src->h, longest, &w, &h);
    return nst_image_resize(dst, src, w, h, err);
}

int nst_style_size(int size, float style_scale) {
    int style_size = (int)lroundf(size * style_scale);
    return style_size < 16 ? 16 : style_size;
}
