// color.c: colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors in
// Neural Style Transfer"): luminance and chroma in YCbCr, and linear colour transfer.
//
// YCbCr is JPEG's (ITU-R BT.601, full range): Y = Kr R + Kg G + Kb B with Kr = 0.299,
// Kb = 0.114, Kg = 1 - Kr - Kb; Cb = 128 + (B - Y) / (2 (1 - Kb)), Cr = 128 + (R - Y) /
// (2 (1 - Kr)). The inverse is computed from the same constants, so a round trip is
// exact up to rounding. Nothing here clamps: values outside 0..255 stay as they are
// (nst_image_save clamps). Each function allocates *out afresh, as nst_image_resize does:
// whatever out held before is not freed. out may be one of the inputs; its caller then
// keeps the old pixel pointer to free it.
#include "nst.h"
#include "image/image.h"
#include "util/status.h"
#include <math.h>
#include <stddef.h>
#include <string.h>

#define KR 0.299
#define KB 0.114
#define KG (1.0 - KR - KB)

static double luma(double r, double g, double b) { return KR * r + KG * g + KB * b; }

static int check_image(const nst_image *img, const char *what, nst_error *err) {
    if (!img || !img->data || img->w <= 0 || img->h <= 0)
        return nsti_fail(err, NST_ERR_USAGE, "%s: an empty picture", what);
    return NST_OK;
}

int nst_color_keep_chroma(nst_image *out, const nst_image *result, const nst_image *content, nst_error *err) {
    int rc;
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "nst_color_keep_chroma: no output picture");
    if ((rc = check_image(result, "nst_color_keep_chroma: result", err)) ||
        (rc = check_image(content, "nst_color_keep_chroma: content", err)))
        return rc;
    if (result->w != content->w || result->h != content->h)
        return nsti_fail(err, NST_ERR_USAGE, "nst_color_keep_chroma: result is %dx%d but content is %dx%d",
                        result->w, result->h, content->w, content->h);
    nst_image o = {0};
    if ((rc = nst_image_alloc(&o, result->w, result->h, err))) return rc;
    size_t n = (size_t)result->w * result->h;
    const float *rr = result->data, *rg = rr + n, *rb = rg + n;
    const float *cr = content->data, *cg = cr + n, *cb = cg + n;
    float *or_ = o.data, *og = or_ + n, *ob = og + n;
    for (size_t i = 0; i < n; i++) {
        double y = luma(rr[i], rg[i], rb[i]);
        double yc = luma(cr[i], cg[i], cb[i]);
        // the content's chroma, as offsets from its luminance: R - Y and B - Y
        double dr = cr[i] - yc, db = cb[i] - yc;
        double r = y + dr, b = y + db;
        double g = (y - KR * r - KB * b) / KG;
        or_[i] = (float)r; og[i] = (float)g; ob[i] = (float)b;
    }
    *out = o;
    return NST_OK;
}

// Mean and (population) standard deviation of the luminance of img.
static void luma_stats(const nst_image *img, double *mean, double *std) {
    size_t n = (size_t)img->w * img->h;
    const float *r = img->data, *g = r + n, *b = g + n;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += luma(r[i], g[i], b[i]);
    double m = s / (double)n, v = 0;
    for (size_t i = 0; i < n; i++) {
        double d = luma(r[i], g[i], b[i]) - m;
        v += d * d;
    }
    *mean = m;
    *std = sqrt(v / (double)n);
}

int nst_color_luminance(nst_image *out, const nst_image *img, const nst_image *ref, nst_error *err) {
    int rc;
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "nst_color_luminance: no output picture");
    if ((rc = check_image(img, "nst_color_luminance: picture", err))) return rc;
    if (ref && (rc = check_image(ref, "nst_color_luminance: reference", err))) return rc;
    double scale = 1, shift = 0;
    if (ref) {
        double m, s, mr, sr;
        luma_stats(img, &m, &s);
        luma_stats(ref, &mr, &sr);
        // y' = (y - m) * sr / s + mr; a flat picture is only shifted
        scale = s > 0 ? sr / s : 1;
        shift = mr - m * scale;
    }
    nst_image o = {0};
    if ((rc = nst_image_alloc(&o, img->w, img->h, err))) return rc;
    size_t n = (size_t)img->w * img->h;
    const float *r = img->data, *g = r + n, *b = g + n;
    for (size_t i = 0; i < n; i++) {
        float y = (float)(luma(r[i], g[i], b[i]) * scale + shift);
        o.data[i] = o.data[n + i] = o.data[2 * n + i] = y;
    }
    *out = o;
    return NST_OK;
}

// ---- Linear colour transfer ------------------------------------------------------

// Eigen-decomposition of the symmetric 3x3 matrix a by cyclic Jacobi rotations:
// a = V diag(d) V^T, the eigenvectors in the columns of v.
static void jacobi3(const double a_in[3][3], double d[3], double v[3][3]) {
    double a[3][3];
    memcpy(a, a_in, sizeof a);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) v[i][j] = i == j;
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        double diag = fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]);
        if (off == 0 || off <= 1e-300 || off < 1e-17 * diag) break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0) continue;
                // the rotation that zeroes a[p][q] (Golub and Van Loan, 8.5.2)
                double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                if (!isfinite(theta)) t = 0;   // a[p][q] negligible against the diagonal
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; k++) {   // a = J^T a J
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {   // v = v J
                    double vkp = v[k][p], vkq = v[k][q];
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < 3; i++) d[i] = a[i][i];
}

// r = V diag(f(d)) V^T with f(x) = x^power, eigenvalues first raised to at least floor.
static void sym_power(const double a[3][3], double power, double floor_, double r[3][3]) {
    double d[3], v[3][3];
    jacobi3(a, d, v);
    for (int k = 0; k < 3; k++) d[k] = pow(d[k] > floor_ ? d[k] : floor_, power);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += v[i][k] * d[k] * v[j][k];
            r[i][j] = s;
        }
}

// Mean and covariance (population) of the pixels of img, in double precision.
static void color_stats(const nst_image *img, double mean[3], double cov[3][3]) {
    size_t n = (size_t)img->w * img->h;
    const float *ch[3] = {img->data, img->data + n, img->data + 2 * n};
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += ch[c][i];
        mean[c] = s / (double)n;
    }
    double acc[6] = {0};
    for (size_t i = 0; i < n; i++) {
        double x0 = ch[0][i] - mean[0], x1 = ch[1][i] - mean[1], x2 = ch[2][i] - mean[2];
        acc[0] += x0 * x0; acc[1] += x0 * x1; acc[2] += x0 * x2;
        acc[3] += x1 * x1; acc[4] += x1 * x2; acc[5] += x2 * x2;
    }
    for (int k = 0; k < 6; k++) acc[k] /= (double)n;
    cov[0][0] = acc[0]; cov[0][1] = cov[1][0] = acc[1]; cov[0][2] = cov[2][0] = acc[2];
    cov[1][1] = acc[3]; cov[1][2] = cov[2][1] = acc[4]; cov[2][2] = acc[5];
}

int nst_color_match(nst_image *out, const nst_image *img, const nst_image *ref, nst_error *err) {
    int rc;
    if (!out) return nsti_fail(err, NST_ERR_USAGE, "nst_color_match: no output picture");
    if ((rc = check_image(img, "nst_color_match: picture", err)) ||
        (rc = check_image(ref, "nst_color_match: reference", err)))
        return rc;
    double mi[3], ci[3][3], mr[3], cr[3][3];
    color_stats(img, mi, ci);
    color_stats(ref, mr, cr);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (!isfinite(ci[i][j]) || !isfinite(cr[i][j]))
                return nsti_fail(err, NST_ERR_NUMERIC, "nst_color_match: a picture holds NaN or infinite values");
    // A = cov_ref^(1/2) cov_img^(-1/2), so that A cov_img A^T = cov_ref. Eigenvalues
    // below 1e-6 of the trace (and below 1e-6 in absolute terms, for a flat picture)
    // are raised to that floor: directions in which img hardly varies are not
    // stretched without bound.
    double ti = ci[0][0] + ci[1][1] + ci[2][2], tr = cr[0][0] + cr[1][1] + cr[2][2];
    double fi = fmax(1e-6 * ti, 1e-6), fr = fmax(1e-12 * tr, 0);
    double si[3][3], sr[3][3], a[3][3];
    sym_power(ci, -0.5, fi, si);
    sym_power(cr, 0.5, fr, sr);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += sr[i][k] * si[k][j];
            a[i][j] = s;
        }
    nst_image o = {0};
    if ((rc = nst_image_alloc(&o, img->w, img->h, err))) return rc;
    size_t n = (size_t)img->w * img->h;
    const float *ch[3] = {img->data, img->data + n, img->data + 2 * n};
    for (size_t i = 0; i < n; i++) {
        double x[3] = {ch[0][i] - mi[0], ch[1][i] - mi[1], ch[2][i] - mi[2]};
        for (int c = 0; c < 3; c++)
            o.data[(size_t)c * n + i] = (float)(a[c][0] * x[0] + a[c][1] * x[1] + a[c][2] * x[2] + mr[c]);
    }
    *out = o;
    return NST_OK;
}
