// plot.h: the loss terms of a run, recorded from the progress callback, drawn
// against iteration and against time on a log scale (--plot FILE.svg|FILE.png).
#ifndef NST_CLI_PLOT_H
#define NST_CLI_PLOT_H
#include "nst.h"

// Curves: the loss, then the run's terms as the progress names them ("content",
// "style", "tv", ...), without AUTO's range penalty.
#define CLI_PLOT_CURVES 8

typedef struct cli_plot_row {
    int iter;
    double time_s;
    double v[CLI_PLOT_CURVES];
} cli_plot_row;

// A growing array of rows, one per progress callback. A zeroed one is empty; the
// first row names the curves.
typedef struct cli_plot {
    cli_plot_row *rows;
    size_t n, cap;
    int n_curves;
    const char *name[CLI_PLOT_CURVES];   // "loss", then the terms' names (static strings)
} cli_plot;

// Appends one row; fails only when out of memory.
int cli_plot_add(cli_plot *pl, const nst_progress *p, nst_error *err);
void cli_plot_free(cli_plot *pl);
// Fails with NST_ERR_USAGE unless path ends in .svg or .png.
int cli_plot_check_path(const char *path, nst_error *err);
// Writes the plot, SVG or PNG by extension, atomically. Two panels: every term
// against iteration, and against seconds since the start. Log-scale y axis;
// values <= 0 sit on the axis floor; a term that is never > 0 is left out.
int cli_plot_write(const cli_plot *pl, const char *path, nst_error *err);

#endif
