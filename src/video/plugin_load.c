// plugin_load.c: finds and loads nst's video plugin (plugin.h) on first use.
#define _GNU_SOURCE   // dladdr
#include "video/plugin.h"
#include <string.h>

#if defined(NST_VIDEO_STATIC)   // the plugin's code is linked in (fuzzing builds)

int nsti_video_plugin_load(const nsti_video_plugin **out, nst_error *err) {
    (void)err;
    *out = nsti_video_plugin_entry();
    return NST_OK;
}

#elif defined(NST_HAVE_FFMPEG) || defined(NST_HAVE_OPENCV)

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NST_VIDEO_PLUGIN_DIR
#define NST_VIDEO_PLUGIN_DIR "/usr/local/lib/nst"
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const nsti_video_plugin *loaded;   // once set, never changes: the plugin stays loaded

static int is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

// The folder of path (a file), into dir; 0 when path has none.
static int folder_of(char *dir, size_t n, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) >= n) return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = 0;
    return 1;
}

// The first existing plugin file among the places plugin.h lists, into path; 0 if none.
static int find_plugin(char *path, size_t n) {
    char here[PATH_MAX], dir[PATH_MAX];
    Dl_info info;
    struct link_map *lib = NULL;
    // libnst.so's own folder. When libnst is linked into the program, the link map's name
    // is empty (glibc's dli_fname is then argv[0], which may be a bare name that
    // realpath would look up in the current directory): /proc/self/exe below instead.
    if (dladdr1((void *)nsti_video_plugin_load, &info, (void **)&lib, RTLD_DL_LINKMAP) && lib && lib->l_name &&
        lib->l_name[0] == '/' && realpath(lib->l_name, here) && folder_of(dir, sizeof dir, here)) {
        static const char *const under_lib[] = {"", "/nst"};
        for (size_t i = 0; i < sizeof under_lib / sizeof *under_lib; i++)
            if ((size_t)snprintf(path, n, "%s%s/" NSTI_VIDEO_PLUGIN_FILE, dir, under_lib[i]) < n && is_file(path))
                return 1;
    }
    ssize_t len = readlink("/proc/self/exe", here, sizeof here - 1);
    if (len > 0) {
        here[len] = 0;
        if (folder_of(dir, sizeof dir, here)) {
            static const char *const under_exe[] = {"", "/../lib/nst", "/.."};
            for (size_t i = 0; i < sizeof under_exe / sizeof *under_exe; i++)
                if ((size_t)snprintf(path, n, "%s%s/" NSTI_VIDEO_PLUGIN_FILE, dir, under_exe[i]) < n && is_file(path))
                    return 1;
        }
    }
    return (size_t)snprintf(path, n, "%s/" NSTI_VIDEO_PLUGIN_FILE, NST_VIDEO_PLUGIN_DIR) < n && is_file(path);
}

static int open_plugin(const nsti_video_plugin **out, nst_error *err) {
    char path[PATH_MAX];
    const char *env = getenv("NST_VIDEO_PLUGIN");
    if (env && *env) {
        // the file checked is the file loaded: a bare name would be searched for by dlopen
        if (!realpath(env, path) || !is_file(path))
            return nsti_fail(err, NST_ERR_IO, "%s (NST_VIDEO_PLUGIN): no such file", env);
    } else if (!find_plugin(path, sizeof path)) {
        return nsti_fail(err, NST_ERR_IO,
                         "nst's video plugin " NSTI_VIDEO_PLUGIN_FILE " (FFmpeg and OpenCV) is not next to the program "
                         "or libnst, nor in " NST_VIDEO_PLUGIN_DIR ": reinstall nst, or set NST_VIDEO_PLUGIN to its path");
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return nsti_fail(err, NST_ERR_IO, "%s: cannot load nst's video plugin: %s", path, why ? why : "unknown error");
    }
    const nsti_video_plugin *(*entry)(void);
    *(void **)&entry = dlsym(h, NSTI_VIDEO_PLUGIN_ENTRY);
    const nsti_video_plugin *vp = entry ? entry() : NULL;
    if (!vp || vp->abi != NSTI_VIDEO_PLUGIN_ABI || !vp->version || strcmp(vp->version, NST_VERSION)) {
        int rc = nsti_fail(err, NST_ERR_IO, "%s: not nst %s's video plugin (%s)", path, NST_VERSION,
                           !vp ? "no " NSTI_VIDEO_PLUGIN_ENTRY : vp->version ? vp->version : "no version");
        dlclose(h);
        return rc;
    }
    *out = vp;
    return NST_OK;
}

int nsti_video_plugin_load(const nsti_video_plugin **out, nst_error *err) {
    int rc = NST_OK;
    pthread_mutex_lock(&lock);
    if (!loaded) rc = open_plugin(&loaded, err);
    *out = loaded;
    pthread_mutex_unlock(&lock);
    return rc;
}

#else   // neither FFmpeg nor OpenCV: no plugin

int nsti_video_plugin_load(const nsti_video_plugin **out, nst_error *err) {
    *out = NULL;
    return nsti_fail(err, NST_ERR_USAGE, "nst was built without FFmpeg and OpenCV: no video plugin");
}

#endif
