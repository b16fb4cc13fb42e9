// draw.c: pixels, rectangles and lines on planar float RGB pictures.
#include "draw.h"
#include <math.h>
#include <stdlib.h>

void cli_put(nst_image *img, int x, int y, cli_rgb c) {
    if (x < 0 || y < 0 || x >= img->w || y >= img->h) return;
    size_t plane = (size_t)img->w * img->h, i = (size_t)y * img->w + x;
    img->data[i] = c.r;
    img->data[i + plane] = c.g;
    img->data[i + 2 * plane] = c.b;
}

void cli_fill_rect(nst_image *img, int x0, int y0, int x1, int y1, cli_rgb c) {
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) cli_put(img, x, y, c);
}

// Bresenham's line on rounded end points, stamping a thick x thick square.
void cli_draw_line(nst_image *img, double fx0, double fy0, double fx1, double fy1, int thick, cli_rgb c) {
    if (!isfinite(fx0) || !isfinite(fy0) || !isfinite(fx1) || !isfinite(fy1)) return;
    long lim = 4L * (img->w + img->h) + 16;   // keep wild coordinates from looping long
    if (fabs(fx0) > lim || fabs(fy0) > lim || fabs(fx1) > lim || fabs(fy1) > lim) return;
    int x0 = (int)lround(fx0), y0 = (int)lround(fy0), x1 = (int)lround(fx1), y1 = (int)lround(fy1);
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    int off = (thick - 1) / 2;
    for (;;) {
        for (int a = 0; a < thick; a++)
            for (int b = 0; b < thick; b++) cli_put(img, x0 - off + a, y0 - off + b, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}
