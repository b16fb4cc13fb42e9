// The library as others get it: libnst.so with its SONAME and exports, a staged
// `make install`, nst.pc, the embedding example built through pkg-config against
// the installed library (shared and static) and run, and the example program in
// nst.h's top comment compiled (by the Makefile) and run.
#include "testlib.h"
#include "nst.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256], root[1024], build[1100], model[2200], content[2200], style[2200];
static char out_text[65536];
static const char *san_flags = "";

// Runs a shell command, capturing stdout and stderr into out_text.
static int shell(const char *command) {
    return nst_test_shell(command, tmp, out_text, sizeof out_text);
}

static int is_file(const char *path) { struct stat st; return lstat(path, &st) == 0 && S_ISREG(st.st_mode); }

// The target of the symbolic link path ("" when it is none).
static const char *link_target(const char *path) {
    static char buf[1024];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

static char *read_all(const char *path) { return nst_test_read_file(path); }

// The names of the functions declared in include/nst.h, one per line in buf.
static int declared_functions(char *buf, size_t n) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "sed -n '/^typedef/d; s/^[a-z].*[ *]\\(nst_[a-z0-9_]*\\)(.*/\\1/p' %s/include/nst.h | sort -u", root);
    if (shell(cmd)) return -1;
    size_t len = strlen(out_text);
    if (len >= n) len = n - 1;
    memcpy(buf, out_text, len);
    buf[len] = 0;
    int lines = 0;
    for (const char *p = buf; *p; p++) lines += *p == '\n';
    return lines;
}

// The SONAME: libnst.so.MAJOR, or libnst.so.0.MINOR before 1.0 (each minor version
// may change the ABI then).
static void soname_of(char *buf, size_t n) {
    int major = 0, minor = 0;
    sscanf(NST_VERSION, "%d.%d", &major, &minor);
    if (major == 0) snprintf(buf, n, "libnst.so.0.%d", minor);
    else snprintf(buf, n, "libnst.so.%d", major);
}

static void test_shared_library(void) {
    char path[1400], cmd[4096], soname[64], want[80];
    soname_of(soname, sizeof soname);
    snprintf(path, sizeof path, "%s/libnst.so.%s", build, NST_VERSION);
    CHECKF(is_file(path), "no %s", path);
    snprintf(path, sizeof path, "%s/%s", build, soname);
    CHECKF(!strcmp(link_target(path), "libnst.so." NST_VERSION), "%s -> '%s'", path, link_target(path));
    snprintf(path, sizeof path, "%s/libnst.so", build);
    CHECKF(!strcmp(link_target(path), soname), "%s -> '%s'", path, link_target(path));
    snprintf(cmd, sizeof cmd, "readelf -d %s/libnst.so.%s | grep SONAME", build, NST_VERSION);
    snprintf(want, sizeof want, "[%s]", soname);
    CHECKF(shell(cmd) == 0 && strstr(out_text, want), "SONAME: %s", out_text);
    // it exports exactly the functions nst.h declares: none of the internals
    char declared[8192];
    int n = declared_functions(declared, sizeof declared);
    CHECKF(n >= 20, "%d functions found in nst.h", n);
    snprintf(cmd, sizeof cmd, "nm -D --defined-only %s/libnst.so.%s | awk '$2 == \"T\" {print $3}' | sort -u", build, NST_VERSION);
    CHECK(shell(cmd) == 0);
    CHECKF(!strcmp(out_text, declared), "exported:\n%s\ndeclared:\n%s", out_text, declared);
}

// libnst.a links into other programs whole: its global symbols are the public nst_
// ones nst.h declares and internal ones under their own prefix, nsti_, so none can
// clash with an embedding program's names (or pass for public API).
static void test_static_library_prefixes(void) {
    char cmd[4096], declared[8192];
    declared[0] = '\n';   // each name between newlines
    declared_functions(declared + 1, sizeof declared - 1);
    snprintf(cmd, sizeof cmd, "nm -g --defined-only %s/libnst.a | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' | "
             "grep -v -e '^nsti_' -e '^__' | sort -u", build);   // __: the compiler's own (ASan's ODR markers)
    CHECK(shell(cmd) == 0);
    char *save = NULL, *copy = strdup(out_text);
    int n = 0;
    for (char *sym = copy ? strtok_r(copy, "\n", &save) : NULL; sym; sym = strtok_r(NULL, "\n", &save), n++) {
        char line[256];
        snprintf(line, sizeof line, "\n%s\n", sym);
        CHECKF(!strncmp(sym, "nst_", 4) && strstr(declared, line), "libnst.a defines %s: not nst.h's, not nsti_", sym);
    }
    CHECKF(n >= 20, "%d public symbols in libnst.a", n);
    free(copy);
}

static void test_staged_install(void) {
    char cmd[8192], stage[512], p[1200];
    snprintf(stage, sizeof stage, "%s/stage", tmp);
    snprintf(cmd, sizeof cmd, "make -s -C %s install BUILD=%s PREFIX=/usr/local DESTDIR=%s", root, build, stage);
    int rc = shell(cmd);
    CHECKF(rc == 0, "make install: %s", out_text);
    if (rc) return;
    static const char *files[] = {"bin/nst", "lib/libnst.a", "lib/libnst.so." NST_VERSION, "include/nst.h",
                                  "lib/pkgconfig/nst.pc", "share/man/man1/nst.1",
                                  "share/bash-completion/completions/nst"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/usr/local/%s", stage, files[i]);
        CHECKF(is_file(p), "not installed: %s", files[i]);
    }
#if defined(NST_HAVE_FFMPEG) || defined(NST_HAVE_OPENCV)
    snprintf(p, sizeof p, "%s/usr/local/lib/nst/libnst-video.so", stage);
    CHECKF(is_file(p), "the video plugin is not installed: %s", p);
#endif
    char soname[64];
    soname_of(soname, sizeof soname);
    snprintf(p, sizeof p, "%s/usr/local/lib/%s", stage, soname);
    CHECKF(!strcmp(link_target(p), "libnst.so." NST_VERSION), "%s -> '%s'", soname, link_target(p));
    snprintf(p, sizeof p, "%s/usr/local/lib/libnst.so", stage);
    CHECKF(!strcmp(link_target(p), soname), "libnst.so -> '%s'", link_target(p));
    // nst.pc names the real prefix, not the staging directory
    snprintf(p, sizeof p, "%s/usr/local/lib/pkgconfig/nst.pc", stage);
    char *pc = read_all(p);
    CHECK(pc != NULL);
    if (pc) {
        CHECKF(strstr(pc, "prefix=/usr/local\n") && !strstr(pc, stage), "%s", pc);
        CHECKF(strstr(pc, "Version: " NST_VERSION "\n"), "%s", pc);
        CHECKF(strstr(pc, "Libs: -L${libdir} -lnst\n") && strstr(pc, "Cflags: -I${includedir}\n"), "%s", pc);
        const char *req = strstr(pc, "Requires.private:");
        CHECKF(req && strstr(req, "libpng") && strstr(req, "libjpeg") && strstr(req, "libzip") && strstr(req, "jansson"),
               "%s", pc);
        const char *priv = strstr(pc, "Libs.private:");
        CHECKF(priv && strstr(priv, "-fopenmp") && strstr(priv, "-lm"), "%s", pc);
        free(pc);
    }
    // the installed program runs and says its version
    snprintf(cmd, sizeof cmd, "%s/usr/local/bin/nst --version", stage);
    CHECKF(shell(cmd) == 0 && strstr(out_text, NST_VERSION), "%s", out_text);
    // and uninstall takes it all away again
    snprintf(cmd, sizeof cmd, "make -s -C %s uninstall BUILD=%s PREFIX=/usr/local DESTDIR=%s && "
             "test -z \"$(find %s -type f -o -type l)\"", root, build, stage, stage);
    CHECKF(shell(cmd) == 0, "uninstall left files: %s", out_text);
}

static void load_check(const char *path, int w, int h);

// The nst program linked against libnst.so (make's nst-shared, linked again here): it
// links only if the CLI uses nothing but what nst.h declares, and it runs.
static void test_cli_against_shared_library(void) {
    char cmd[12000], out[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/nst-shared && make -s -C %s BUILD=%s SAN='%s' %s/nst-shared", build, root, build,
             san_flags, build);
    int rc = shell(cmd);
    CHECKF(rc == 0, "linking the CLI against libnst.so: %s", out_text);
    if (rc) return;
    char soname[64], want[100];
    soname_of(soname, sizeof soname);
    snprintf(want, sizeof want, "Shared library: [%s]", soname);
    snprintf(cmd, sizeof cmd, "readelf -d %s/nst-shared", build);
    CHECKF(shell(cmd) == 0 && strstr(out_text, want), "not linked to %s: %s", soname, out_text);
    // the library's functions come from the shared library, not from a copy inside
    snprintf(cmd, sizeof cmd, "nm -D %s/nst-shared | grep -c ' U nst_transfer$'", build);
    CHECKF(shell(cmd) == 0 && atoi(out_text) == 1, "nst_transfer is not taken from libnst.so: %s", out_text);
    snprintf(cmd, sizeof cmd, "LD_LIBRARY_PATH=%s %s/nst-shared --version", build, build);
    CHECKF(shell(cmd) == 0 && strstr(out_text, "nst " NST_VERSION), "%s", out_text);
    snprintf(out, sizeof out, "%s/shared.png", tmp);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 LD_LIBRARY_PATH=%s %s/nst-shared -c %s -s %s -m %s -o %s --size 32 "
             "--iterations 2 -q", build, build, content, style, model, out);
    rc = shell(cmd);
    CHECKF(rc == 0, "exit %d: %s", rc, out_text);
    load_check(out, 32, 24);
}

static char prefix[512];

// Copies examples/embed to tmp and builds `target` there against the install in prefix.
static int build_embed(const char *target) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s/embed && cp -r %s/examples/embed %s/embed && cd %s/embed && "
             "PKG_CONFIG_PATH=%s/lib/pkgconfig make -B -s %s CFLAGS='-O1 -g -Wall -Wextra -Werror %s' LDFLAGS='%s'",
             tmp, root, tmp, tmp, prefix, target, san_flags, san_flags);
    return shell(cmd);
}

static void load_check(const char *path, int w, int h) {
    nst_image img = {0};
    nst_error err;
    CHECKF(nst_image_load(&img, path, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECKF(img.w == w && img.h == h, "%s is %dx%d, want %dx%d", path, img.w, img.h, w, h);
    nst_image_free(&img);
}

static int count_of(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_embed_shared(void) {
    char cmd[12000], out[600];
    snprintf(prefix, sizeof prefix, "%s/prefix", tmp);
    snprintf(cmd, sizeof cmd, "make -s -C %s install BUILD=%s PREFIX=%s", root, build, prefix);
    int rc = shell(cmd);
    CHECKF(rc == 0, "make install: %s", out_text);
    if (rc) return;
    rc = build_embed("embed");
    CHECKF(rc == 0, "building examples/embed: %s", out_text);
    if (rc) return;
    snprintf(cmd, sizeof cmd, "readelf -d %s/embed/embed", tmp);
    char soname[64], want[100];
    soname_of(soname, sizeof soname);
    snprintf(want, sizeof want, "Shared library: [%s]", soname);
    CHECKF(shell(cmd) == 0 && strstr(out_text, want), "not linked to %s: %s", soname, out_text);
    // 10 iterations asked, stopped by the callback after iteration 3, a snapshot at 2
    snprintf(out, sizeof out, "%s/embed/out.png", tmp);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 LD_LIBRARY_PATH=%s/lib %s/embed/embed %s %s %s %s 48 10 3 2", prefix, tmp, model, content,
             style, out);
    rc = shell(cmd);
    CHECKF(rc == 3, "exit %d: %s", rc, out_text);
    CHECKF(strstr(out_text, "embed: nst " NST_VERSION), "%s", out_text);
    CHECKF(strstr(out_text, "iteration 3/10") && !strstr(out_text, "iteration 4/10"), "%s", out_text);
    CHECKF(count_of(out_text, "embed: iteration ") == 4, "%s", out_text);
    CHECKF(strstr(out_text, "stopped early at iteration 3"), "%s", out_text);
    load_check(out, 48, 36);
    // the snapshot is the picture at iteration 2: not the result of iteration 3
    char snap[700];
    snprintf(snap, sizeof snap, "%s/embed/out-step002.png", tmp);
    load_check(snap, 48, 36);
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", snap, out);
    CHECKF(shell(cmd) != 0, "the snapshot at iteration 2 is the final picture");
#if defined(NST_HAVE_FFMPEG) && defined(NST_HAVE_OPENCV)
    // the installed program finds the installed video plugin (bin/../lib/nst): it gets
    // as far as the missing input frames (its flow and video file need both halves)
    snprintf(cmd, sizeof cmd, "%s/bin/nst video -c %s/no-frames/%%05d.png -s %s -m %s -o %s/v.mp4", prefix, tmp, style,
             model, tmp);
    rc = shell(cmd);
    CHECKF(rc != 0 && !strstr(out_text, "plugin") && strstr(out_text, "no-frames"), "%d %s", rc, out_text);
#endif
}

static void test_embed_static(void) {
    if (!prefix[0]) { CHECKF(0, "no install from test_embed_shared"); return; }
    int rc = build_embed("embed-static");
    CHECKF(rc == 0, "building examples/embed statically: %s", out_text);
    if (rc) return;
    char cmd[12000], out[600];
    snprintf(cmd, sizeof cmd, "readelf -d %s/embed/embed-static", tmp);
    CHECKF(shell(cmd) == 0 && !strstr(out_text, "libnst"), "needs libnst at run time: %s", out_text);
    snprintf(out, sizeof out, "%s/embed/static.png", tmp);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/embed/embed-static %s %s %s %s 40 3", tmp, model, content, style, out);
    rc = shell(cmd);
    CHECKF(rc == 0, "exit %d: %s", rc, out_text);
    CHECKF(count_of(out_text, "embed: iteration ") == 4 && strstr(out_text, "(0 snapshots)"), "%s", out_text);
    load_check(out, 40, 30);
}

static void test_header_example(void) {
    char cmd[12000], out[600];
    snprintf(out, sizeof out, "%s/header_example.png", tmp);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/examples/header_example %s %s %s %s 48 3", build, model, content, style, out);
    int rc = shell(cmd);
    CHECKF(rc == 0, "exit %d: %s", rc, out_text);
    CHECKF(count_of(out_text, "iteration ") == 4 && strstr(out_text, "iteration 3/3: loss"), "%s", out_text);
    load_check(out, 48, 36);
    // errors come back as one line naming the file
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/examples/header_example %s %s/missing.jpg %s %s 48 3", build, model, tmp, style, out);
    rc = shell(cmd);
    CHECKF(rc == 1 && strstr(out_text, "missing.jpg") && count_of(out_text, "\n") == 1, "exit %d: %s", rc, out_text);
    // and the built program is the one in the header today
    char path[1200];
    snprintf(path, sizeof path, "%s/examples/header_example.c", build);
    char *ex = read_all(path), *h = NULL;
    snprintf(path, sizeof path, "%s/include/nst.h", root);
    h = read_all(path);
    CHECK(ex && h);
    if (ex && h) {
        CHECK(strstr(h, "EXAMPLE BEGIN") && strstr(h, "EXAMPLE END"));
        CHECKF(strstr(ex, "int main(int argc, char **argv)") && strstr(ex, "nst_transfer(") && !strstr(ex, " * "),
               "%s", ex);
    }
    free(ex);
    free(h);
}

// Every function nst.h declares is described in the comment block at its top.
static void test_header_documents_every_function(void) {
    char declared[8192], path[1200];
    int n = declared_functions(declared, sizeof declared);
    CHECK(n > 0);
    snprintf(path, sizeof path, "%s/include/nst.h", root);
    char *h = read_all(path);
    CHECK(h != NULL);
    if (!h || n <= 0) { free(h); return; }
    char *end = strstr(h, "*/");
    if (end) *end = 0;   // the top block only
    for (char *save = NULL, *name = strtok_r(declared, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
        char want[128];
        snprintf(want, sizeof want, "%s(", name);
        CHECKF(strstr(h, want) != NULL, "%s is not documented in nst.h's top block", name);
    }
    free(h);
}

static void test_version(void) {
    CHECKF(!strcmp(nst_version(), NST_VERSION), "nst_version() %s, NST_VERSION %s", nst_version(), NST_VERSION);
    int major, minor, patch;
    char end;
    CHECKF(sscanf(NST_VERSION, "%d.%d.%d%c", &major, &minor, &patch, &end) == 3, "'%s' is not MAJOR.MINOR.PATCH",
           NST_VERSION);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/nst --version", build);
    CHECKF(shell(cmd) == 0 && strstr(out_text, NST_VERSION), "%s", out_text);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/nst_install_XXXXXX");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    if (!getcwd(root, sizeof root)) { perror("getcwd"); return 1; }
    const char *b = getenv("NST_BUILD");
    b = b ? b : "build";
    if (b[0] == '/') snprintf(build, sizeof build, "%s", b);
    else snprintf(build, sizeof build, "%s/%s", root, b);
    if (getenv("NST_SAN_FLAGS")) san_flags = getenv("NST_SAN_FLAGS");
    const char *shared = nst_test_shared();
    char shared_abs[2100];
    if (shared[0] == '/') snprintf(shared_abs, sizeof shared_abs, "%s", shared);
    else snprintf(shared_abs, sizeof shared_abs, "%s/%s", root, shared);
    snprintf(model, sizeof model, "%s/models/vgg19-conv1_1-conv3_4.caffe.safetensors", shared_abs);
    snprintf(content, sizeof content, "%s/images/tubingen.jpg", shared_abs);
    snprintf(style, sizeof style, "%s/images/starry_night_crop.png", shared_abs);
    TEST(test_version);
    TEST(test_shared_library);
    TEST(test_cli_against_shared_library);
    TEST(test_static_library_prefixes);
    TEST(test_staged_install);
    TEST(test_embed_shared);
    TEST(test_embed_static);
    TEST(test_header_example);
    TEST(test_header_documents_every_function);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmp);
    return nst_test_summary();
}
