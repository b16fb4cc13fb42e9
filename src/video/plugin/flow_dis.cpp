// flow_dis.cpp: the only C++ in nst. Runs OpenCV's DIS optical flow (Kroeger et al.,
// "Fast Optical Flow using Dense Inverse Search", ECCV 2016) behind a C function,
// nsti_flow_dis (flow.h). Every C++ exception is caught here and turned into an
// error code and a one-line message: none may reach the C code that calls it.
//
// Determinism: OpenCV runs DIS's stripes in parallel; cv::setNumThreads(1) keeps it to
// the calling thread, so that the same two pictures always give the same bytes (a
// video run killed and restarted must redo a frame identically). The setting is
// OpenCV's and process-wide (nst uses OpenCV for nothing else). It is left at 1 rather
// than saved and restored, which would race between threads computing flows at once,
// and set only when it is not 1 already, under a lock: with TBB, OpenCV's
// setNumThreads tears down and rebuilds its task arena, which two threads must not do
// together. Each call builds its own DIS object: no state carries from one call to the
// next.
#include "video/flow.h"
#include "nst.h"

#include <opencv2/core.hpp>
#include <opencv2/video/tracking.hpp>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>

namespace {

__attribute__((format(printf, 3, 4)))
void set_msg(char *msg, size_t msg_len, const char *fmt, ...) {
    if (!msg || msg_len == 0) return;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, msg_len, fmt, ap);
    va_end(ap);
    // one line, without trailing blanks
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = std::strlen(msg);
    while (n > 0 && msg[n - 1] == ' ') msg[--n] = 0;
}

}  // namespace

extern "C" int nsti_flow_dis(const unsigned char *a, const unsigned char *b, int w, int h, float *dx, float *dy,
                             char *msg, size_t msg_len) {
    if (msg && msg_len) msg[0] = 0;
    try {
        {
            static std::mutex lock;
            std::lock_guard<std::mutex> hold(lock);
            if (cv::getNumThreads() != 1) cv::setNumThreads(1);
        }
        // the pictures are only read: OpenCV's Mat header takes a non-const pointer
        const cv::Mat i0(h, w, CV_8UC1, const_cast<unsigned char *>(a));
        const cv::Mat i1(h, w, CV_8UC1, const_cast<unsigned char *>(b));
        cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_MEDIUM);
        // MEDIUM stops the patch search at half resolution (finest scale 1) and
        // upsamples; scale 0 searches and refines at full resolution: sharper motion
        // boundaries for the consistency mask and a more exact warp, at about four
        // times the time (512x288, one thread: 89 ms instead of 21, the mean error of a
        // smooth rotation and zoom 0.05 px instead of 0.12), still little beside a
        // frame's stylization. The rest is MEDIUM's (patch 8, stride 3, 25 gradient
        // descent and 5 variational refinement iterations).
        dis->setFinestScale(0);
        cv::Mat flow;
        dis->calc(i0, i1, flow);
        if (flow.type() != CV_32FC2 || flow.rows != h || flow.cols != w) {
            set_msg(msg, msg_len, "OpenCV DIS optical flow: unexpected result");
            return NST_ERR_FORMAT;
        }
        for (int y = 0; y < h; y++) {
            const float *row = flow.ptr<float>(y);
            float *ox = dx + (size_t)y * w, *oy = dy + (size_t)y * w;
            for (int x = 0; x < w; x++) {
                ox[x] = row[2 * x];
                oy[x] = row[2 * x + 1];
            }
        }
        return NST_OK;
    } catch (const cv::Exception &e) {
        if (e.code == cv::Error::StsNoMem) {
            set_msg(msg, msg_len, "OpenCV DIS optical flow: out of memory");
            return NST_ERR_NOMEM;
        }
        set_msg(msg, msg_len, "OpenCV DIS optical flow failed: %s (in %s)", e.err.c_str(), e.func.c_str());
        return NST_ERR_USAGE;
    } catch (const std::bad_alloc &) {
        set_msg(msg, msg_len, "OpenCV DIS optical flow: out of memory");
        return NST_ERR_NOMEM;
    } catch (const std::exception &e) {
        set_msg(msg, msg_len, "OpenCV DIS optical flow failed: %s", e.what());
        return NST_ERR_USAGE;
    } catch (...) {
        set_msg(msg, msg_len, "OpenCV DIS optical flow failed: an unknown C++ exception");
        return NST_ERR_USAGE;
    }
}
