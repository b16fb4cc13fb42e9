// contact.h: content, style(s) and result side by side (--contact-sheet FILE).
#ifndef NST_CLI_CONTACT_H
#define NST_CLI_CONTACT_H
#include "nst.h"

// Label text size for a sheet whose pictures are h pixels high: 1 below 256 px.
int cli_contact_label_scale(int h);
// Height of the strip of labels under the pictures.
int cli_contact_label_height(int h);
// Every picture is scaled to result's height (aspect kept; the result as is) and
// put left to right: content, style 1..n, result, with no gap, so the sheet is as
// wide as the panels together. Under each, a white strip labelled "content",
// "style 1", ..., "result" in the built-in font. Saved by extension (.png, .jpg).
int cli_contact_sheet(const char *path, const nst_image *content, const nst_image *styles, int n_styles,
                      const nst_image *result, nst_error *err);
// Fails with NST_ERR_USAGE unless path ends in .png, .jpg or .jpeg.
int cli_contact_check_path(const char *path, nst_error *err);

#endif
