// flow.h: the C interface of the one C++ file, plugin/flow_dis.cpp, which runs OpenCV's
// DIS optical flow (in the video plugin, built only with OpenCV: plugin.h). The public
// functions (nst_flow_*, declared in nst.h) are in flow.c, which calls it through the
// plugin's table.
#ifndef NST_VIDEO_FLOW_H
#define NST_VIDEO_FLOW_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// The smallest width and height nst_flow_compute takes.
#define NSTI_FLOW_MIN_SIDE 16

// The flow from a to b, two w x h 8-bit grayscale pictures (row-major, w*h bytes):
// a(p) ~ b(p + (dx(p), dy(p))), written into dx and dy (w*h floats each). Runs DIS
// (preset MEDIUM, refined down to full resolution) on one OpenCV thread, so that the
// result depends only on the pictures. Returns NST_OK, or an NST_ERR_* code with a
// one-line message in msg (msg_len bytes, NUL-terminated); no C++ exception leaves it.
int nsti_flow_dis(const unsigned char *a, const unsigned char *b, int w, int h, float *dx, float *dy,
                  char *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
