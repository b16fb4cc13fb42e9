// plot.c: the loss terms against iteration and against time, log-scale y, drawn
// once as SVG text and once as pixels, from the same layout.
#include <stdio.h>
#include "plot.h"
#include "draw.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// One colour per curve, in order: the loss black, then the terms.
static const char *const term_colors[CLI_PLOT_CURVES] = {"#000000", "#1f77b4", "#d62728", "#2ca02c",
                                                          "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};
static const cli_rgb term_rgb[CLI_PLOT_CURVES] = {{0, 0, 0},     {31, 119, 180}, {214, 39, 40}, {44, 160, 44},
                                                  {148, 103, 189}, {255, 127, 14}, {140, 86, 75}, {23, 190, 207}};

int cli_plot_add(cli_plot *pl, const nst_progress *p, nst_error *err) {
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? 2 * pl->cap : 256;
        cli_plot_row *rows = realloc(pl->rows, cap * sizeof *rows);
        if (!rows) return nst_error_set(err, NST_ERR_NOMEM, "out of memory for the plot's data");
        pl->rows = rows;
        pl->cap = cap;
    }
    if (pl->n == 0) {   // the curves: the loss, then the terms the first row has
        pl->name[0] = "loss";
        pl->n_curves = 1;
        for (int t = 0; t < p->n_terms && pl->n_curves < CLI_PLOT_CURVES; t++)
            if (strcmp(p->term_name[t], "range")) pl->name[pl->n_curves++] = p->term_name[t];
    }
    cli_plot_row *r = &pl->rows[pl->n++];
    r->iter = p->iter;
    r->time_s = p->time_s;
    r->v[0] = p->loss;
    for (int k = 1; k < pl->n_curves; k++) r->v[k] = nst_progress_term(p, pl->name[k]);
    return NST_OK;
}

void cli_plot_free(cli_plot *pl) {
    free(pl->rows);
    memset(pl, 0, sizeof *pl);
}

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    return dot ? dot : "";
}

int cli_plot_check_path(const char *path, nst_error *err) {
    const char *ext = extension(path);
    if (strcasecmp(ext, ".svg") && strcasecmp(ext, ".png"))
        return nst_error_set(err, NST_ERR_USAGE, "--plot %s: use a .svg or .png file name", path);
    return NST_OK;
}

// ---- layout -------------------------------------------------------------------------

#define PLOT_W 960
#define PLOT_H 440
#define AREA_TOP 72
#define AREA_BOTTOM 380
#define PANEL_W 480
#define AREA_LEFT 72     // from the panel's left edge
#define AREA_RIGHT 460

typedef struct layout {
    int shown[CLI_PLOT_CURVES];    // the curve has a value > 0 somewhere
    int dec_lo, dec_hi, dec_step;  // y axis: decades 10^dec_lo .. 10^dec_hi
    double xmax[2];                // panel 0: iteration, panel 1: seconds
    double xstep[2];
} layout;

// A step of 1, 2 or 5 times a power of ten that cuts 0..span into about 6 parts.
static double nice_step(double span) {
    double raw = span / 6, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void make_layout(layout *L, const cli_plot *pl) {
    double lo = INFINITY, hi = -INFINITY;
    memset(L, 0, sizeof *L);
    for (size_t i = 0; i < pl->n; i++) {
        for (int t = 0; t < pl->n_curves; t++) {
            double v = pl->rows[i].v[t];
            if (isfinite(v) && v > 0) {
                L->shown[t] = 1;
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
        }
        if (pl->rows[i].iter > L->xmax[0]) L->xmax[0] = pl->rows[i].iter;
        if (isfinite(pl->rows[i].time_s) && pl->rows[i].time_s > L->xmax[1]) L->xmax[1] = pl->rows[i].time_s;
    }
    if (lo > hi) { lo = 1; hi = 10; }
    L->dec_lo = (int)floor(log10(lo));
    L->dec_hi = (int)ceil(log10(hi));
    if (L->dec_hi <= L->dec_lo) L->dec_hi = L->dec_lo + 1;
    L->dec_step = (L->dec_hi - L->dec_lo + 9) / 10;
    if (L->dec_step < 1) L->dec_step = 1;
    for (int k = 0; k < 2; k++) {
        if (!(L->xmax[k] > 0)) L->xmax[k] = 1;
        L->xstep[k] = nice_step(L->xmax[k]);
        if (k == 0 && L->xstep[k] < 1) L->xstep[k] = 1;
    }
}

static double map_x(const layout *L, int panel, double x) {
    return panel * PANEL_W + AREA_LEFT + (AREA_RIGHT - AREA_LEFT) * (x / L->xmax[panel]);
}

// Values <= 0 cannot be shown on a log axis: they sit on its floor.
static double map_y(const layout *L, double v) {
    double d = v > 0 ? log10(v) : L->dec_lo;
    if (d < L->dec_lo) d = L->dec_lo;
    return AREA_BOTTOM - (AREA_BOTTOM - AREA_TOP) * (d - L->dec_lo) / (L->dec_hi - L->dec_lo);
}

static void decade_label(char *buf, size_t n, int k) {
    if (k >= -3 && k <= 4) snprintf(buf, n, "%g", pow(10, k));
    else snprintf(buf, n, "1e%d", k);
}

// ---- the two back ends ----------------------------------------------------------------

typedef struct canvas {
    FILE *svg;          // SVG text goes here, or
    nst_image *img;     // pixels go here
} canvas;

static const cli_rgb black = {0, 0, 0}, grid_rgb = {221, 221, 221}, white = {255, 255, 255};

static void c_line(canvas *c, double x0, double y0, double x1, double y1, const char *stroke, cli_rgb rgb, int width) {
    if (c->svg)
        fprintf(c->svg, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%d\"/>\n",
                x0, y0, x1, y1, stroke, width);
    else
        cli_draw_line(c->img, x0, y0, x1, y1, width, rgb);
}

// Text with its baseline at y; anchor 0 start, 1 middle, 2 end; size 1 or 2.
static void c_text(canvas *c, double x, double y, int anchor, int size, const char *s) {
    if (c->svg) {
        static const char *const anchors[3] = {"start", "middle", "end"};
        fprintf(c->svg, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\"%s>", x, y, anchors[anchor],
                size > 1 ? " font-size=\"16\"" : "");
        for (; *s; s++) {   // only ASCII labels of our own, escaped all the same
            if (*s == '<') fputs("&lt;", c->svg);
            else if (*s == '>') fputs("&gt;", c->svg);
            else if (*s == '&') fputs("&amp;", c->svg);
            else fputc(*s, c->svg);
        }
        fputs("</text>\n", c->svg);
    } else {
        int w = cli_text_width(s, size);
        int left = (int)lround(x) - (anchor == 1 ? w / 2 : anchor == 2 ? w : 0);
        cli_draw_text(c->img, left, (int)lround(y) - 7 * size, s, size, black, 0, c->img->w);
    }
}

static void draw_panel(canvas *c, const layout *L, const cli_plot *pl, int panel) {
    static const char *const ids[2] = {"iteration", "time"};
    static const char *const titles[2] = {"against iteration", "against time"};
    static const char *const xlabels[2] = {"iteration", "time (s)"};
    double ax0 = panel * PANEL_W + AREA_LEFT, ax1 = panel * PANEL_W + AREA_RIGHT;
    char buf[64];
    if (c->svg) fprintf(c->svg, "<g id=\"panel-%s\">\n", ids[panel]);
    c_text(c, (ax0 + ax1) / 2, AREA_TOP - 10, 1, 1, titles[panel]);
    // grid and ticks: decades on y, 1-2-5 steps on x
    for (int k = L->dec_lo; k <= L->dec_hi; k += L->dec_step) {
        double y = map_y(L, pow(10, k));
        c_line(c, ax0, y, ax1, y, "#dddddd", grid_rgb, 1);
        c_line(c, ax0 - 5, y, ax0, y, "#000000", black, 1);
        decade_label(buf, sizeof buf, k);
        c_text(c, ax0 - 8, y + 4, 2, 1, buf);
    }
    for (int i = 0;; i++) {
        double v = i * L->xstep[panel];
        if (v > L->xmax[panel] * (1 + 1e-9)) break;
        double x = map_x(L, panel, v);
        c_line(c, x, AREA_TOP, x, AREA_BOTTOM, "#dddddd", grid_rgb, 1);
        c_line(c, x, AREA_BOTTOM, x, AREA_BOTTOM + 5, "#000000", black, 1);
        snprintf(buf, sizeof buf, "%g", v);
        c_text(c, x, AREA_BOTTOM + 18, 1, 1, buf);
    }
    c_text(c, (ax0 + ax1) / 2, AREA_BOTTOM + 38, 1, 1, xlabels[panel]);
    if (c->svg)
        fprintf(c->svg, "<text transform=\"translate(%.2f %d) rotate(-90)\" text-anchor=\"middle\">"
                "weighted loss term (log scale)</text>\n", ax0 - 50, (AREA_TOP + AREA_BOTTOM) / 2);
    // the curves, one per term, a point per logged iteration; the total last and
    // thinner, on top of the term that usually dominates it
    for (int k = 1; k <= pl->n_curves; k++) {
        int t = k % pl->n_curves, thick = t == 0 ? 1 : 3;   // the terms, then the loss
        if (!L->shown[t]) continue;
        if (c->svg)
            fprintf(c->svg, "<polyline class=\"term\" data-term=\"%s\" fill=\"none\" stroke=\"%s\" "
                    "stroke-width=\"%s\" stroke-linejoin=\"round\" points=\"", pl->name[t], term_colors[t],
                    t == 0 ? "1.2" : "2.5");
        double px = 0, py = 0;
        int have = 0;
        for (size_t i = 0; i < pl->n; i++) {
            const cli_plot_row *r = &pl->rows[i];
            double xv = panel ? r->time_s : r->iter;
            if (!isfinite(r->v[t]) || !isfinite(xv)) continue;
            double x = map_x(L, panel, xv), y = map_y(L, r->v[t]);
            if (c->svg) fprintf(c->svg, "%s%.2f,%.2f", have ? " " : "", x, y);
            else if (have) cli_draw_line(c->img, px, py, x, y, thick, term_rgb[t]);
            else cli_draw_line(c->img, x, y, x, y, thick, term_rgb[t]);
            px = x; py = y; have = 1;
        }
        if (c->svg) fputs("\"/>\n", c->svg);
    }
    // the frame last, over the grid
    c_line(c, ax0, AREA_TOP, ax1, AREA_TOP, "#000000", black, 1);
    c_line(c, ax0, AREA_BOTTOM, ax1, AREA_BOTTOM, "#000000", black, 1);
    c_line(c, ax0, AREA_TOP, ax0, AREA_BOTTOM, "#000000", black, 1);
    c_line(c, ax1, AREA_TOP, ax1, AREA_BOTTOM, "#000000", black, 1);
    if (c->svg) fputs("</g>\n", c->svg);
}

static void draw_all(canvas *c, const cli_plot *pl) {
    layout L;
    make_layout(&L, pl);
    char buf[128];
    const cli_plot_row *last = pl->n ? &pl->rows[pl->n - 1] : NULL;
    if (last)
        snprintf(buf, sizeof buf, "nst: loss terms, log scale (%zu points, iteration %d, %.1f s)",
                 pl->n, last->iter, last->time_s);
    else
        snprintf(buf, sizeof buf, "nst: loss terms, log scale (no data)");
    c_text(c, PLOT_W / 2.0, 22, 1, c->svg ? 2 : 1, buf);
    // legend: a swatch and a name per term
    if (c->svg) fputs("<g id=\"legend\">\n", c->svg);
    double x = PLOT_W / 2.0 - 190;
    for (int t = 0; t < pl->n_curves; t++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", pl->name[t], L.shown[t] ? "" : " (0, not shown)");
        c_line(c, x, 40, x + 22, 40, term_colors[t], term_rgb[t], 3);
        c_text(c, x + 28, 44, 0, 1, name);
        x += L.shown[t] ? 95 : 150;
    }
    if (c->svg) fputs("</g>\n", c->svg);
    draw_panel(c, &L, pl, 0);
    draw_panel(c, &L, pl, 1);
}

int cli_plot_write(const cli_plot *pl, const char *path, nst_error *err) {
    int rc = cli_plot_check_path(path, err);
    if (rc) return rc;
    if (!strcasecmp(extension(path), ".png")) {
        nst_image img = {0};
        if ((rc = nst_image_alloc(&img, PLOT_W, PLOT_H, err))) return rc;
        cli_fill_rect(&img, 0, 0, PLOT_W, PLOT_H, white);
        canvas c = {NULL, &img};
        draw_all(&c, pl);
        rc = nst_image_save(&img, path, err);
        nst_image_free(&img);
        return rc;
    }
    nst_atomic_file af;
    if ((rc = nst_atomic_open(&af, path, err))) return rc;
    canvas c = {af.f, NULL};
    fprintf(af.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n"
            "<title>nst loss terms</title>\n"
            "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H, PLOT_W, PLOT_H);
    draw_all(&c, pl);
    fputs("</svg>\n", af.f);
    int ok = !ferror(af.f);
    rc = nst_atomic_close(&af, ok, err);
    if (!ok && rc == NST_OK) rc = nst_error_set(err, NST_ERR_IO, "%s: cannot write", path);
    return rc;
}
