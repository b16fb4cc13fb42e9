// entry.c: the video plugin's one exported symbol, its table of functions (plugin.h).
#include "nst.h"
#include "video/flow.h"
#include "video/plugin.h"

const nsti_video_plugin *nsti_video_plugin_entry(void) {
    static const nsti_video_plugin table = {
        .abi = NSTI_VIDEO_PLUGIN_ABI,
        .version = NST_VERSION,
#ifdef NST_HAVE_FFMPEG
        .ff_open = nsti_ff_open,
        .ff_read = nsti_ff_read,
        .ff_close = nsti_ff_close,
        .ff_create = nsti_ff_create,
        .ff_write = nsti_ff_write,
        .ff_finish = nsti_ff_finish,
#endif
#ifdef NST_HAVE_OPENCV
        .flow_dis = nsti_flow_dis,
#endif
    };
    return &table;
}
