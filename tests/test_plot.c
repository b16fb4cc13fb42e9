// The pictures of a run: --plot (SVG and PNG), --animate (GIF) and
// --contact-sheet, end to end with the partial model at tiny sizes. Each test
// checks what the file shows, not only that it exists.
#include "testlib.h"
#include "nst.h"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef NST_HAVE_GIFLIB
#include <gif_lib.h>
#endif

static nst_test_program program;
static const char *tmp, *nst, *model, *content, *style;   // program's
static char style2[512];
static char out_text[16384];

static int run(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", nst, args);
    return nst_test_shell(cmd, tmp, out_text, sizeof out_text);
}

// Runs a shell command, capturing stdout and stderr into out_text.
static int shell(const char *command) {
    return nst_test_shell(command, tmp, out_text, sizeof out_text);
}

static int exists(const char *path) { struct stat st; return stat(path, &st) == 0; }

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

// The checker of the SVG plot: valid XML; per panel, one polyline per term shown,
// with a point per log line; x linear in the iteration (or time) and y linear in
// log10 of the logged value, to within the file's rounding.
static const char *svg_checker =
    "import json, math, sys\n"
    "import xml.etree.ElementTree as ET\n"
    "svg, log, absent = sys.argv[1], sys.argv[2], sys.argv[3].split(',') if sys.argv[3] else []\n"
    "rows = [json.loads(l) for l in open(log)]\n"
    "root = ET.parse(svg).getroot()\n"
    "ns = {'s': 'http://www.w3.org/2000/svg'}\n"
    "assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag\n"
    "texts = ' '.join(t.text or '' for t in root.iter('{http://www.w3.org/2000/svg}text'))\n"
    "for word in ('iteration', 'time (s)', 'loss', 'content', 'style', 'tv', 'log scale'):\n"
    "    assert word in texts, 'no label ' + word\n"
    "def fit(us, vs, du):\n"
    "    # v = a + b*u through the two most distant points; every point within the\n"
    "    # rounding of the SVG (0.005) and of the log (du in u)\n"
    "    i, j = us.index(min(us)), us.index(max(us))\n"
    "    if us[j] == us[i]: return\n"
    "    b = (vs[j] - vs[i]) / (us[j] - us[i]); a = vs[i] - b * us[i]\n"
    "    worst = max(abs(a + b * u - v) for u, v in zip(us, vs))\n"
    "    assert worst < 0.02 + 2 * abs(b) * du, 'not linear: off by %g' % worst\n"
    "    return b\n"
    "for panel, key in (('iteration', 'iter'), ('time', 'time_s')):\n"
    "    g = root.find(\".//s:g[@id='panel-%s']\" % panel, ns)\n"
    "    assert g is not None, 'no panel ' + panel\n"
    "    for term in ('loss', 'content', 'style', 'tv'):\n"
    "        lines = g.findall(\".//s:polyline[@data-term='%s']\" % term, ns)\n"
    "        if term in absent:\n"
    "            assert not lines, '%s drawn though always 0' % term\n"
    "            continue\n"
    "        assert len(lines) == 1, '%s/%s: %d polylines' % (panel, term, len(lines))\n"
    "        pts = [tuple(map(float, p.split(','))) for p in lines[0].get('points').split()]\n"
    "        assert len(pts) == len(rows), '%s/%s: %d points for %d log lines' % (panel, term, len(pts), len(rows))\n"
    "        bx = fit([r[key] for r in rows], [p[0] for p in pts], 0.5e-4)\n"
    "        assert bx is None or bx > 0, 'x decreases'\n"
    "        pos = [(math.log10(r[term]), p[1]) for r, p in zip(rows, pts) if r[term] > 0]\n"
    "        by = fit([u for u, v in pos], [v for u, v in pos], 1e-8)\n"
    "        assert by is None or by < 0, 'a larger loss is not higher up'\n"
    "        floor = max(p[1] for p in pts)\n"
    "        for r, p in zip(rows, pts):\n"
    "            if r[term] <= 0: assert p[1] == floor, 'a zero is not on the floor'\n"
    "print('SVG OK', len(rows))\n";

static void check_svg(const char *svg, const char *log, const char *absent) {
    char script[300], cmd[2048];
    snprintf(script, sizeof script, "%s/check_svg.py", tmp);
    write_text(script, svg_checker);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s '%s'", script, svg, log, absent);
    int rc = shell(cmd);
    CHECKF(rc == 0 && strstr(out_text, "SVG OK"), "%s: %s", svg, out_text);
}

static void test_plot_svg(void) {
    char args[4096], svg[300], log[300];
    snprintf(svg, sizeof svg, "%s/loss.svg", tmp);
    snprintf(log, sizeof log, "%s/loss.jsonl", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/plot.png --size 48 --iterations 8 --optimizer adam --lr 2 "
             "--log %s --plot %s --quiet --threads 1", content, style, model, tmp, log, svg);
    CHECKF(run(args) == 0, "%s", out_text);
    CHECKF(count_lines(log) == 9, "%d log lines", count_lines(log));
    check_svg(svg, log, "");
}

static void test_plot_leaves_out_a_zero_term(void) {
    char args[4096], svg[300], log[300];
    snprintf(svg, sizeof svg, "%s/notv.svg", tmp);
    snprintf(log, sizeof log, "%s/notv.jsonl", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/notv.png --size 48 --iterations 3 --tv-weight 0 "
             "--log %s --plot %s --quiet --threads 1", content, style, model, tmp, log, svg);
    CHECKF(run(args) == 0, "%s", out_text);
    check_svg(svg, log, "tv");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -c 'tv (0, not shown)' %s", svg);
    CHECKF(shell(cmd) == 0, "the legend does not say tv is left out");
}

static int near(const nst_image *img, int x, int y, float r, float g, float b) {
    size_t plane = (size_t)img->w * img->h, i = (size_t)y * img->w + x;
    return fabsf(img->data[i] - r) < 1 && fabsf(img->data[i + plane] - g) < 1 && fabsf(img->data[i + 2 * plane] - b) < 1;
}

static void test_plot_png(void) {
    char args[4096], png[300];
    snprintf(png, sizeof png, "%s/loss.png", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/plotpng.png --size 48 --iterations 6 --optimizer adam --lr 2 "
             "--plot %s --quiet --threads 1", content, style, model, tmp, png);
    CHECKF(run(args) == 0, "%s", out_text);
    nst_image img = {0};
    nst_error err;
    CHECKF(nst_image_load(&img, png, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    if (!img.data) return;
    CHECKF(img.w == 960 && img.h == 440, "plot is %dx%d", img.w, img.h);
    // each term's colour appears inside both panels' plotting areas
    static const float colors[4][3] = {{0, 0, 0}, {31, 119, 180}, {214, 39, 40}, {44, 160, 44}};
    static const char *names[4] = {"loss", "content", "style", "tv"};
    for (int t = 0; t < 4; t++)
        for (int panel = 0; panel < 2; panel++) {
            int count = 0;
            for (int y = 74; y < 379; y++)
                for (int x = panel * 480 + 74; x < panel * 480 + 459; x++)
                    count += near(&img, x, y, colors[t][0], colors[t][1], colors[t][2]);
            CHECKF(count >= 20, "%s: %d pixels of its colour in panel %d", names[t], count, panel);
        }
    nst_image_free(&img);
}

#ifdef NST_HAVE_GIFLIB
// The frame's colours through the palette, as a planar float picture.
static void gif_frame(const GifFileType *gif, int k, nst_image *img) {
    const SavedImage *si = &gif->SavedImages[k];
    const ColorMapObject *cm = si->ImageDesc.ColorMap ? si->ImageDesc.ColorMap : gif->SColorMap;
    nst_error err;
    if (nst_image_alloc(img, si->ImageDesc.Width, si->ImageDesc.Height, &err)) return;
    size_t plane = (size_t)img->w * img->h;
    for (size_t i = 0; i < plane; i++) {
        GifColorType c = cm->Colors[si->RasterBits[i]];
        img->data[i] = c.Red;
        img->data[i + plane] = c.Green;
        img->data[i + 2 * plane] = c.Blue;
    }
}

// Mean |a - b| over 4x4 blocks (the dither's period), so that the ordered
// dithering's noise averages out and only a different picture shows.
static double block_diff(const nst_image *a, const nst_image *b) {
    if (a->w != b->w || a->h != b->h || !a->data || !b->data) return 1e9;
    size_t plane = (size_t)a->w * a->h;
    double s = 0;
    int blocks = 0;
    for (int c = 0; c < 3; c++)
        for (int by = 0; by + 4 <= a->h; by += 4)
            for (int bx = 0; bx + 4 <= a->w; bx += 4) {
                double sa = 0, sb = 0;
                for (int y = by; y < by + 4; y++)
                    for (int x = bx; x < bx + 4; x++) {
                        float v = b->data[c * plane + (size_t)y * a->w + x];
                        sa += a->data[c * plane + (size_t)y * a->w + x];
                        sb += v < 0 ? 0 : v > 255 ? 255 : v;
                    }
                s += fabs(sa - sb) / 16;
                blocks++;
            }
    return blocks ? s / blocks : 1e9;
}

static int frame_delay(const GifFileType *gif, int k) {
    GraphicsControlBlock gcb;
    if (DGifSavedExtensionToGCB((GifFileType *)gif, k, &gcb) == GIF_ERROR) return -1;
    return gcb.DelayTime;
}

static GifFileType *open_gif(const char *path) {
    int e = 0;
    GifFileType *gif = DGifOpenFileName(path, &e);
    if (!gif) { fprintf(stderr, "  %s: %s\n", path, GifErrorString(e)); return NULL; }
    if (DGifSlurp(gif) == GIF_ERROR) {
        fprintf(stderr, "  %s: %s\n", path, GifErrorString(gif->Error));
        DGifCloseFile(gif, &e);
        return NULL;
    }
    return gif;
}
#endif

static void test_animate_frames(void) {
#ifdef NST_HAVE_GIFLIB
    char args[4096], gif_path[300], out[300];
    snprintf(gif_path, sizeof gif_path, "%s/run.gif", tmp);
    snprintf(out, sizeof out, "%s/anim.png", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s --size 48 --iterations 6 --optimizer adam --lr 4 "
             "--animate %s --animate-every 2 --quiet --threads 1", content, style, model, out, gif_path);
    CHECKF(run(args) == 0, "%s", out_text);
    GifFileType *gif = open_gif(gif_path);
    CHECK(gif != NULL);
    if (!gif) return;
    // iterations 0, 2, 4, 6: four frames of the run's size (under 256 px)
    CHECKF(gif->ImageCount == 4, "%d frames", gif->ImageCount);
    CHECKF(gif->SWidth == 48 && gif->SHeight == 36, "screen %dx%d", gif->SWidth, gif->SHeight);
    int loops = 0;
    for (int i = 0; i < gif->SavedImages[0].ExtensionBlockCount; i++) {
        const ExtensionBlock *eb = &gif->SavedImages[0].ExtensionBlocks[i];
        loops |= eb->Function == APPLICATION_EXT_FUNC_CODE && eb->ByteCount == 11 && !memcmp(eb->Bytes, "NETSCAPE2.0", 11);
    }
    CHECKF(loops, "no looping extension");
    CHECKF(frame_delay(gif, 0) == 10 && frame_delay(gif, gif->ImageCount - 1) == 200, "delays %d, %d",
           frame_delay(gif, 0), frame_delay(gif, gif->ImageCount - 1));
    // the first frame is the starting (content) picture, the last the result,
    // up to the dithering's noise; and the two differ by much more than that
    nst_image first = {0}, last = {0}, result = {0}, full = {0}, start = {0};
    nst_error err;
    gif_frame(gif, 0, &first);
    gif_frame(gif, gif->ImageCount - 1, &last);
    CHECKF(nst_image_load(&result, out, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECKF(nst_image_load(&full, content, NST_DEFAULT_MAX_PIXELS, &err) == 0 && nst_image_fit(&start, &full, 48, &err) == 0,
           "%s", err.msg);
    double d_last = block_diff(&last, &result), d_first = block_diff(&first, &start);
    double d_apart = block_diff(&first, &result);
    if (getenv("NST_TEST_VERBOSE")) fprintf(stderr, "  block diffs: last %.2f first %.2f apart %.2f\n", d_last, d_first, d_apart);
    CHECKF(d_last < 6, "last frame vs result: mean |diff| %.2f", d_last);
    CHECKF(d_first < 6, "first frame vs content: mean |diff| %.2f", d_first);
    CHECKF(d_apart > d_last + 5, "first frame vs result %.2f: the animation does not change", d_apart);
    nst_image_free(&first); nst_image_free(&last); nst_image_free(&result);
    nst_image_free(&full); nst_image_free(&start);
    int e;
    DGifCloseFile(gif, &e);
#else
    CHECKF(0, "built without giflib (install libgif-dev): --animate is not available");
#endif
}

// The documented rule: a frame at each multiple of N; with 100 held, every other
// one is dropped and N doubles; the result comes last unless it is already there.
static int expected_frames(int iterations, int every) {
    int iters[100], n = 0;
    for (int it = 0; it <= iterations; it++) {
        if (it % every) continue;
        if (n == 100) {
            int k = 0;
            for (int i = 0; i < n; i += 2) iters[k++] = iters[i];
            n = k;
            every *= 2;
            if (it % every) continue;
        }
        iters[n++] = it;
    }
    if (n == 0 || iters[n - 1] != iterations) {
        if (n == 100) { int k = 0; for (int i = 0; i < n; i += 2) iters[k++] = iters[i]; n = k; }
        iters[n++] = iterations;
    }
    return n;
}

static void test_animate_is_bounded(void) {
#ifdef NST_HAVE_GIFLIB
    char args[4096], gif_path[300];
    int e;
    // many iterations: at most 100 frames
    snprintf(gif_path, sizeof gif_path, "%s/long.gif", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/long.png --size 16 --iterations 121 --optimizer adam "
             "--animate %s --animate-every 1 --quiet --threads 1", content, style, model, tmp, gif_path);
    CHECKF(run(args) == 0, "%s", out_text);
    GifFileType *gif = open_gif(gif_path);
    CHECK(gif != NULL);
    if (gif) {
        int want = expected_frames(121, 1);
        CHECKF(gif->ImageCount == want && want <= 100 && want > 50, "%d frames, want %d", gif->ImageCount, want);
        DGifCloseFile(gif, &e);
    }
    // a large picture: frames at most 256 px; the default interval, iterations/50 -> 1
    snprintf(gif_path, sizeof gif_path, "%s/big.gif", tmp);
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/big.png --size 260 --style-scale 0.1 --iterations 2 --optimizer adam "
             "--animate %s --quiet --threads 1", content, style, model, tmp, gif_path);
    CHECKF(run(args) == 0, "%s", out_text);
    gif = open_gif(gif_path);
    CHECK(gif != NULL);
    if (gif) {
        CHECKF(gif->SWidth == 256 && gif->SHeight == 192, "screen %dx%d", gif->SWidth, gif->SHeight);
        CHECKF(gif->ImageCount == 3, "%d frames", gif->ImageCount);
        for (int k = 0; k < gif->ImageCount; k++)
            CHECK(gif->SavedImages[k].ImageDesc.Width <= 256 && gif->SavedImages[k].ImageDesc.Height <= 256);
        DGifCloseFile(gif, &e);
    }
#else
    CHECKF(0, "built without giflib (install libgif-dev): --animate is not available");
#endif
}

static void test_contact_sheet(void) {
    char args[4096], sheet_path[300], out[300];
    snprintf(sheet_path, sizeof sheet_path, "%s/sheet.png", tmp);
    snprintf(out, sizeof out, "%s/sheet_result.png", tmp);
    snprintf(args, sizeof args, "-c %s -s %s,%s -m %s -o %s --size 64 --iterations 3 --optimizer adam --lr 4 "
             "--contact-sheet %s --quiet --threads 1", content, style, style2, model, out, sheet_path);
    CHECKF(run(args) == 0, "%s", out_text);
    nst_image sheet = {0}, result = {0}, s1 = {0}, s2 = {0}, cfull = {0}, cfit = {0};
    nst_error err;
    CHECKF(nst_image_load(&sheet, sheet_path, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECKF(nst_image_load(&result, out, NST_DEFAULT_MAX_PIXELS, &err) == 0, "%s", err.msg);
    CHECK(nst_image_load(&s1, style, NST_DEFAULT_MAX_PIXELS, &err) == 0);
    CHECK(nst_image_load(&s2, style2, NST_DEFAULT_MAX_PIXELS, &err) == 0);
    CHECK(nst_image_load(&cfull, content, NST_DEFAULT_MAX_PIXELS, &err) == 0 && nst_image_fit(&cfit, &cfull, 64, &err) == 0);
    if (!sheet.data || !result.data || !s1.data || !s2.data || !cfit.data) goto done;
    int H = result.h;   // 48: tubingen is 4:3
    int w1 = (int)lround((double)s1.w * H / s1.h), w2 = (int)lround((double)s2.w * H / s2.h);
    int panel_x[4] = {0, result.w, result.w + w1, result.w + w1 + w2};
    int width = result.w + w1 + w2 + result.w;
    CHECKF(result.w == 64 && H == 48, "result %dx%d", result.w, H);
    CHECKF(sheet.w == width, "sheet is %d wide, panels %d + %d + %d + %d", sheet.w, result.w, w1, w2, result.w);
    CHECKF(sheet.h > H && sheet.h <= H + 40, "sheet is %d high for %d px panels", sheet.h, H);
    if (sheet.w != width || sheet.h <= H) goto done;
    size_t sp = (size_t)sheet.w * sheet.h, rp = (size_t)result.w * result.h;
    // the result panel is the output, pixel for pixel; the content panel the content at the run's size
    double worst_r = 0, worst_c = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < result.w; x++) {
                double v = sheet.data[c * sp + (size_t)y * sheet.w + panel_x[3] + x];
                worst_r = fmax(worst_r, fabs(v - result.data[c * rp + (size_t)y * result.w + x]));
                double cv = fmin(255, fmax(0, cfit.data[c * rp + (size_t)y * cfit.w + x]));
                worst_c = fmax(worst_c, fabs(sheet.data[c * sp + (size_t)y * sheet.w + x] - cv));
            }
    CHECKF(worst_r == 0, "result panel differs from the output by up to %g", worst_r);
    CHECKF(worst_c <= 0.51, "content panel differs from the content by up to %g", worst_c);
    // under each panel: a white strip with dark label pixels, centred, all of them
    // inside the panel; "style 1" and "style 2" differ only in their last glyph
    int dark[4] = {0}, first_col[4], last_col[4];
    for (int p = 0; p < 4; p++) { first_col[p] = 1 << 30; last_col[p] = -1; }
    for (int y = H; y < sheet.h; y++)
        for (int x = 0; x < sheet.w; x++) {
            int p = x >= panel_x[3] ? 3 : x >= panel_x[2] ? 2 : x >= panel_x[1] ? 1 : 0;
            float r = sheet.data[(size_t)y * sheet.w + x];
            if (r < 100) {
                dark[p]++;
                if (x < first_col[p]) first_col[p] = x;
                if (x > last_col[p]) last_col[p] = x;
            } else {
                CHECKF(r > 250, "label strip pixel (%d,%d) is %g, neither white nor ink", x, y, r);
            }
        }
    static const int label_len[4] = {7, 7, 7, 6};   // content, style 1, style 2, result
    for (int p = 0; p < 4; p++) {
        int pw = (p == 3 ? sheet.w : panel_x[p + 1]) - panel_x[p];
        int text_w = last_col[p] - first_col[p] + 1;
        CHECKF(dark[p] >= 40, "panel %d: %d label pixels", p, dark[p]);
        if (label_len[p] * 6 - 1 <= pw)
            CHECKF(text_w >= (label_len[p] - 1) * 6 - 1 && text_w <= label_len[p] * 6 - 1,
                   "panel %d: label %d px wide for %d glyphs", p, text_w, label_len[p]);
    }
    CHECKF(dark[1] != dark[2] || first_col[1] - panel_x[1] == first_col[2] - panel_x[2],
           "style labels look alike in an unexpected way");
done:
    nst_image_free(&sheet); nst_image_free(&result); nst_image_free(&s1); nst_image_free(&s2);
    nst_image_free(&cfull); nst_image_free(&cfit);
}

// SIGINT mid-run: the plot, animation and contact sheet are still written, and
// the plot has every iteration the log has.
static void test_written_on_interrupt(void) {
    char out[300], log[300], svg[300], gif[300], sheet[300];
    snprintf(out, sizeof out, "%s/int.png", tmp);
    snprintf(log, sizeof log, "%s/int.jsonl", tmp);
    snprintf(svg, sizeof svg, "%s/int.svg", tmp);
    snprintf(gif, sizeof gif, "%s/int.gif", tmp);
    snprintf(sheet, sizeof sheet, "%s/int_sheet.png", tmp);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(nst, nst, "-c", content, "-s", style, "-m", model, "-o", out, "--size", "32", "--iterations", "100000",
              "--log", log, "--plot", svg, "--contact-sheet", sheet, "--threads", "1",
#ifdef NST_HAVE_GIFLIB
              "--animate", gif,
#endif
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600 && count_lines(log) < 4; i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 130, "exit status %d", st);
    CHECK(exists(out));
    CHECKF(exists(sheet), "no contact sheet after an interrupt");
#ifdef NST_HAVE_GIFLIB
    CHECKF(exists(gif), "no animation after an interrupt");
#endif
    CHECKF(exists(svg), "no plot after an interrupt");
    if (exists(svg)) check_svg(svg, log, "");
}

static void expect_refused(const char *what, const char *extra, int want_code, const char *mention, const char *not_written) {
    char args[4096];
    snprintf(args, sizeof args, "-c %s -s %s -m %s -o %s/refused.png --size 32 --iterations 1 --quiet --threads 1 %s",
             content, style, model, tmp, extra);
    int code = run(args);
    CHECKF(code == want_code, "%s: exit %d, want %d: %s", what, code, want_code, out_text);
    CHECKF(strstr(out_text, mention) != NULL, "%s: message does not name %s: %s", what, mention, out_text);
    char path[400];
    snprintf(path, sizeof path, "%s/refused.png", tmp);
    CHECKF(!exists(path), "%s: the output was written", what);
    if (not_written) CHECKF(!exists(not_written), "%s: %s was written", what, not_written);
}

static void test_bad_paths_are_refused(void) {
    char extra[1200], p[400];
    snprintf(p, sizeof p, "%s/plot.txt", tmp);
    snprintf(extra, sizeof extra, "--plot %s", p);
    expect_refused("plot as .txt", extra, 2, "plot.txt", p);
    snprintf(extra, sizeof extra, "--animate %s/anim_x.png", tmp);
    expect_refused("animation as .png", extra, 2, "anim_x.png", NULL);
    snprintf(extra, sizeof extra, "--contact-sheet %s/sheet.gif", tmp);
    expect_refused("contact sheet as .gif", extra, 2, "sheet.gif", NULL);
    snprintf(extra, sizeof extra, "--plot /nonexistent-dir/p.svg");
    expect_refused("plot in a missing directory", extra, 3, "/nonexistent-dir", NULL);
    snprintf(extra, sizeof extra, "--contact-sheet %s", style);
    expect_refused("contact sheet over the style", extra, 2, "starry_night_crop.png", NULL);
    snprintf(extra, sizeof extra, "--plot %s/same.svg --animate %s/same.svg", tmp, tmp);
    expect_refused("two outputs on one file", extra, 2, "same.svg", NULL);
    expect_refused("bad --animate-every", "--animate-every 0", 2, "--animate-every", NULL);
}

int main(void) {
    if (nst_test_program_init(&program, "nst_plot")) return 1;
    tmp = program.tmp; nst = program.nst; model = program.model; content = program.content; style = program.style;
    snprintf(style2, sizeof style2, "%s/images/picasso_selfport1907.jpg", nst_test_shared());
    TEST(test_plot_svg);
    TEST(test_plot_leaves_out_a_zero_term);
    TEST(test_plot_png);
    TEST(test_animate_frames);
    TEST(test_animate_is_bounded);
    TEST(test_contact_sheet);
    TEST(test_written_on_interrupt);
    TEST(test_bad_paths_are_refused);
    nst_test_program_done(&program);
    return nst_test_summary();
}
