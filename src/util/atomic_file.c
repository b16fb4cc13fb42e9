#include "util/atomic_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int open_temporary(nst_atomic_file *af, const char *path, int reuse, nst_error *err) {
    memset(af, 0, sizeof *af);
    af->path = path;
    size_t len = strlen(path);
    af->tmp_path = malloc(len + 32);
    if (!af->tmp_path) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (st.st_mode & 07777) : 0666;
    int fd = -1;
    if (reuse) {
        // a stale one (a killed writer's) goes first: whatever it is, a file, a link,
        // a hard link to something else, nothing is written through it
        snprintf(af->tmp_path, len + 32, "%s.tmp", path);
        if (unlink(af->tmp_path) != 0 && errno != ENOENT) {
            int e = errno;
            free(af->tmp_path);
            af->tmp_path = NULL;
            return nsti_fail(err, NST_ERR_IO, "%s.tmp: cannot replace the stale temporary file: %s", path, strerror(e));
        }
        fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    } else {
        // a name no other writer picks: address, time and a counter, retried on collision
        static unsigned long counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long seed = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 20) ^ (unsigned long long)(size_t)af;
        for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL + __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
            snprintf(af->tmp_path, len + 32, "%s.tmp.%06llx", path, (seed >> 40) & 0xffffff);
            fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
            if (fd < 0 && errno != EEXIST) break;
        }
    }
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        return nsti_fail(err, NST_ERR_IO, "%s: cannot create file: %s", path, strerror(e));
    }
    af->f = fdopen(fd, "wb");
    if (!af->f) {
        int e = errno;
        close(fd);
        unlink(af->tmp_path);
        free(af->tmp_path);
        af->tmp_path = NULL;
        return nsti_fail(err, NST_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return NST_OK;
}

int nst_atomic_open(nst_atomic_file *af, const char *path, nst_error *err) {
    return open_temporary(af, path, 0, err);
}

int nsti_atomic_open_reusing(nst_atomic_file *af, const char *path, nst_error *err) {
    return open_temporary(af, path, 1, err);
}

int nst_atomic_close(nst_atomic_file *af, int ok, nst_error *err) {
    int rc = NST_OK;
    if (!af->f) return NST_OK;
    if (ok && (fflush(af->f) != 0 || fsync(fileno(af->f)) != 0))
        rc = nsti_fail(err, NST_ERR_IO, "%s: write error: %s", af->path, strerror(errno));
    if (fclose(af->f) != 0 && ok && rc == NST_OK)
        rc = nsti_fail(err, NST_ERR_IO, "%s: write error: %s", af->path, strerror(errno));
    af->f = NULL;
    if (ok && rc == NST_OK && rename(af->tmp_path, af->path) != 0)
        rc = nsti_fail(err, NST_ERR_IO, "%s: cannot rename the temporary file into place: %s", af->path, strerror(errno));
    if (!ok || rc != NST_OK) unlink(af->tmp_path);
    free(af->tmp_path);
    af->tmp_path = NULL;
    return rc;
}
