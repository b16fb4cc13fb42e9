// contact.c: a labelled strip of the run's pictures.
#include <stdio.h>
#include "contact.h"
#include "draw.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cli_contact_check_path(const char *path, nst_error *err) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot || (strcasecmp(dot, ".png") && strcasecmp(dot, ".jpg") && strcasecmp(dot, ".jpeg")))
        return nst_error_set(err, NST_ERR_USAGE, "--contact-sheet %s: use a .png or .jpg file name", path);
    return NST_OK;
}

int cli_contact_label_scale(int h) {
    int s = h / 256 + 1;
    return s > 4 ? 4 : s;
}

int cli_contact_label_height(int h) { return (CLI_FONT_H + 6) * cli_contact_label_scale(h); }

// Copies src into dst with its top-left corner at x0.
static void blit(nst_image *dst, const nst_image *src, int x0) {
    size_t dplane = (size_t)dst->w * dst->h, splane = (size_t)src->w * src->h;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < src->h && y < dst->h; y++)
            memcpy(dst->data + c * dplane + (size_t)y * dst->w + x0, src->data + c * splane + (size_t)y * src->w,
                   (size_t)src->w * sizeof(float));
}

int cli_contact_sheet(const char *path, const nst_image *content, const nst_image *styles, int n_styles,
                      const nst_image *result, nst_error *err) {
    int rc = cli_contact_check_path(path, err);
    if (rc) return rc;
    if (n_styles < 0 || n_styles > NST_MAX_STYLES)
        return nst_error_set(err, NST_ERR_USAGE, "%s: bad number of style pictures", path);
    int n = n_styles + 2, H = result->h;
    nst_image panels[NST_MAX_STYLES + 2];
    char labels[NST_MAX_STYLES + 2][32];
    memset(panels, 0, sizeof panels);
    int width = 0;
    for (int i = 0; i < n && !rc; i++) {
        const nst_image *src = i == 0 ? content : i == n - 1 ? result : &styles[i - 1];
        if (i == 0) snprintf(labels[i], sizeof labels[i], "content");
        else if (i == n - 1) snprintf(labels[i], sizeof labels[i], "result");
        else snprintf(labels[i], sizeof labels[i], "style %d", i);
        long w = lround((double)src->w * H / src->h);
        if (w < 1) w = 1;
        if (w > 65536) { rc = nst_error_set(err, NST_ERR_LIMIT, "%s: a panel would be too wide", path); break; }
        rc = nst_image_resize(&panels[i], src, (int)w, H, err);
        width += (int)w;
    }
    nst_image sheet = {0};
    int strip = cli_contact_label_height(H), scale = cli_contact_label_scale(H);
    if (!rc) rc = nst_image_alloc(&sheet, width, H + strip, err);
    if (!rc) {
        const cli_rgb white = {255, 255, 255}, ink = {20, 20, 20};
        cli_fill_rect(&sheet, 0, H, width, H + strip, white);
        int x = 0;
        for (int i = 0; i < n; i++) {
            blit(&sheet, &panels[i], x);
            int tw = cli_text_width(labels[i], scale), pw = panels[i].w;
            int tx = x + (tw < pw ? (pw - tw) / 2 : 1);
            cli_draw_text(&sheet, tx, H + 3 * scale, labels[i], scale, ink, x, x + pw);
            x += pw;
        }
        rc = nst_image_save(&sheet, path, err);
    }
    nst_image_free(&sheet);
    for (int i = 0; i < n; i++) nst_image_free(&panels[i]);
    return rc;
}
