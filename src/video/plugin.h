// plugin.h: nst's video plugin, libnst-video.so: the code that needs FFmpeg's libraries
// (video files, plugin/ffmpeg_*.c) and OpenCV (DIS optical flow, plugin/flow_dis.cpp),
// loaded with dlopen on first use. Linking them into libnst and the nst program loaded
// about 150 shared libraries into every run, video or not: 28 MiB more resident memory
// and 0.06 s more start-up (measured on an AMD EPYC: `nst --version` 45 MiB and 0.10-0.15 s, 17 MiB
// and 0.03-0.07 s without). The plugin carries its own copies of the few libnst pieces it calls
// (status.c, image.c, atomic_file.c) and exports one symbol, NSTI_VIDEO_PLUGIN_ENTRY.
//
// Where it is looked for, first found wins: the file $NST_VIDEO_PLUGIN; next to
// libnst.so and in its nst/ folder (a program linked with libnst.so); next to the
// program, in ../lib/nst/ from it and in its parent folder (the build tree's tests);
// in NST_VIDEO_PLUGIN_DIR, the install's $(LIBDIR)/nst (the Makefile recompiles
// plugin_load.c when LIBDIR changes). A fuzzing build (NST_VIDEO_STATIC) links the plugin's
// code in instead.
#ifndef NST_VIDEO_PLUGIN_H
#define NST_VIDEO_PLUGIN_H
#include "video/video.h"

#define NSTI_VIDEO_PLUGIN_FILE "libnst-video.so"
#define NSTI_VIDEO_PLUGIN_ENTRY "nsti_video_plugin_entry"
// Raised whenever the table below or the functions' contracts change.
#define NSTI_VIDEO_PLUGIN_ABI 1

typedef struct nsti_video_plugin {
    int abi;                 // NSTI_VIDEO_PLUGIN_ABI of the plugin's build
    const char *version;     // NST_VERSION of the plugin's build: only the same is taken
    // FFmpeg (all NULL when the plugin was built without it)
    int (*ff_open)(nsti_ff_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                   nst_error *err);
    int (*ff_read)(nsti_ff_reader *r, nst_image *frame, nst_error *err);
    void (*ff_close)(nsti_ff_reader *r);
    int (*ff_create)(nsti_ff_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                     nst_error *err);
    int (*ff_write)(nsti_ff_writer *v, const nst_image *frame, nst_error *err);
    int (*ff_finish)(nsti_ff_writer *v, int ok, nst_error *err);
    // OpenCV's DIS (NULL without it): flow.h's nsti_flow_dis
    int (*flow_dis)(const unsigned char *a, const unsigned char *b, int w, int h, float *dx, float *dy, char *msg,
                    size_t msg_len);
} nsti_video_plugin;

// In the plugin: its table.
const nsti_video_plugin *nsti_video_plugin_entry(void);

// In libnst: *out, the plugin, loaded on the first call (thread-safe; a failure is
// tried again on the next call). Else NULL and the reason: nst built without FFmpeg
// and OpenCV, no plugin found, or one that cannot be loaded or is of another version.
int nsti_video_plugin_load(const nsti_video_plugin **out, nst_error *err);

#endif
