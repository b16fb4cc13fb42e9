// draw.h: simple drawing on nst_image pictures (planar float RGB, 0..255) for
// the plots and contact sheets of the CLI: pixels, rectangles, lines and text in
// a built-in 5x8 bitmap font.
#ifndef NST_CLI_DRAW_H
#define NST_CLI_DRAW_H
#include "nst.h"

typedef struct cli_rgb { float r, g, b; } cli_rgb;

#define CLI_FONT_W 5
#define CLI_FONT_H 8
#define CLI_FONT_ADVANCE 6   // glyph width plus one column of space

// Sets one pixel; outside the picture does nothing.
void cli_put(nst_image *img, int x, int y, cli_rgb c);
void cli_fill_rect(nst_image *img, int x0, int y0, int x1, int y1, cli_rgb c);   // [x0,x1) x [y0,y1)
// A line from (x0,y0) to (x1,y1), `thick` pixels wide (a square brush).
void cli_draw_line(nst_image *img, double x0, double y0, double x1, double y1, int thick, cli_rgb c);

// 1 when the font has a glyph for c (others are drawn as '?').
int cli_font_has(int c);
// Whether pixel (x, y) of c's glyph is set (x < CLI_FONT_W, y < CLI_FONT_H).
int cli_font_pixel(int c, int x, int y);
// Width in pixels of s drawn at this scale.
int cli_text_width(const char *s, int scale);
// Draws s with its top-left corner at (x, y), each font pixel scale x scale,
// only in the columns clip_x0 <= x < clip_x1.
void cli_draw_text(nst_image *img, int x, int y, const char *s, int scale, cli_rgb color,
                   int clip_x0, int clip_x1);

#endif
