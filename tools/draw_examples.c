// draw_examples.c: draws the two example pictures from scratch, so the project
// ships test images of its own: a landscape (content.png, 512x384) and a painterly
// swirl of brush strokes (style.png, 512x512). Deterministic: fixed seeds and a
// PRNG of our own, so the same files come out on every machine.
//
// usage: draw_examples [OUTPUT_DIR]   (default: examples)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "image/image.h"

#define PI 3.14159265358979f

typedef struct { float r, g, b; } rgb;

static rgb mix(rgb a, rgb b, float t) {
    return (rgb){a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

static rgb scale(rgb a, float s) { return (rgb){a.r * s, a.g * s, a.b * s}; }

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static float smoothstep(float e0, float e1, float x) {
    float t = clampf((x - e0) / (e1 - e0), 0, 1);
    return t * t * (3 - 2 * t);
}

// xorshift32: tiny and the same everywhere.
static unsigned rng_state;
static float frand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (rng_state >> 8) * (1.0f / 16777216.0f);
}
static float frange(float lo, float hi) { return lo + (hi - lo) * frand(); }

// Smooth value noise in 0..1: bilinear blend of hashed lattice values.
static float hash2(int x, int y) {
    unsigned h = (unsigned)x * 374761393u + (unsigned)y * 668265263u;
    h = (h ^ (h >> 13)) * 1274126177u;
    return ((h ^ (h >> 16)) & 0xFFFFFF) / 16777215.0f;
}
static float noise(float x, float y) {
    int xi = (int)floorf(x), yi = (int)floorf(y);
    float fx = smoothstep(0, 1, x - xi), fy = smoothstep(0, 1, y - yi);
    float a = hash2(xi, yi), b = hash2(xi + 1, yi), c = hash2(xi, yi + 1), d = hash2(xi + 1, yi + 1);
    return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy;
}

static void put(nst_image *im, int x, int y, rgb c) {
    size_t plane = (size_t)im->w * im->h, i = (size_t)y * im->w + x;
    im->data[i] = clampf(c.r, 0, 255);
    im->data[i + plane] = clampf(c.g, 0, 255);
    im->data[i + 2 * plane] = clampf(c.b, 0, 255);
}

static rgb get(const nst_image *im, int x, int y) {
    size_t plane = (size_t)im->w * im->h, i = (size_t)y * im->w + x;
    return (rgb){im->data[i], im->data[i + plane], im->data[i + 2 * plane]};
}

// ---- content.png: a landscape ------------------------------------------------------

#define CW 512
#define CH 384

static const float sun_x = 385, sun_y = 105, sun_r = 28;

static float far_ridge(float x) {
    return 205 - 38 * (0.6f * sinf(x * 0.013f + 1.0f) + 0.4f * sinf(x * 0.031f + 2.0f)) - 12;
}
static float mid_ridge(float x) {
    return 248 - 22 * sinf(x * 0.008f + 0.3f) - 10 * sinf(x * 0.023f + 1.3f);
}
static float near_ridge(float x) {
    return 292 - 26 * sinf(x * 0.006f + 2.2f) - 6 * sinf(x * 0.02f);
}

typedef struct { float x, base, h; } tree;
static const tree trees[] = {
    {300, 0, 70}, {338, 0, 54}, {425, 0, 80}, {470, 0, 60}, {40, 0, 50}, {78, 0, 62}};
#define NTREES (int)(sizeof trees / sizeof trees[0])

typedef struct { float x, y, r; rgb c; } flower;
#define NFLOWERS 90
static flower flowers[NFLOWERS];

// Lambert shading of a ball: the light comes from the sun's side (upper right).
static float ball_light(float dx, float dy, float r) {
    float nx = dx / r, ny = dy / r, nz = sqrtf(fmaxf(0, 1 - nx * nx - ny * ny));
    float l = 0.55f * nx - 0.5f * ny + 0.67f * nz;
    return 0.45f + 0.7f * fmaxf(0, l);
}

// Alpha of a soft-edged shape from a signed distance (negative inside), 1 px wide.
static float cover(float sd) { return clampf(0.5f - sd, 0, 1); }

static rgb landscape(float x, float y) {
    // Sky: deep blue overhead to warm haze at the horizon, a glow around the sun.
    const rgb zenith = {38, 84, 170}, horizon = {250, 206, 160};
    rgb c = mix(zenith, horizon, powf(clampf(y / 240, 0, 1), 1.4f));
    float ds = hypotf(x - sun_x, y - sun_y);
    c = mix(c, (rgb){255, 226, 160}, 0.55f * expf(-ds * ds / (2 * 70.0f * 70.0f)));
    c = mix(c, (rgb){255, 244, 205}, cover(ds - sun_r));
    // Soft clouds: sums of stretched Gaussians.
    const float clouds[4][4] = {{120, 70, 70, 14}, {175, 62, 50, 11}, {300, 150, 60, 9},
                                {460, 55, 55, 10}};
    float dens = 0;
    for (int i = 0; i < 4; i++) {
        float dx = (x - clouds[i][0]) / clouds[i][2], dy = (y - clouds[i][1]) / clouds[i][3];
        dens += expf(-(dx * dx + dy * dy));
    }
    dens *= 0.8f + 0.4f * noise(x * 0.05f, y * 0.1f);
    c = mix(c, mix((rgb){255, 250, 245}, (rgb){205, 190, 200}, clampf((y - 50) / 110, 0, 1)),
            clampf(dens, 0, 0.85f));

    // Far mountains, hazy blue, fading into the horizon toward their feet.
    float rf = far_ridge(x);
    if (y > rf - 1) {
        rgb m = mix((rgb){98, 112, 168}, horizon, 0.25f + 0.45f * clampf((y - rf) / 70, 0, 1));
        m = scale(m, 0.94f + 0.12f * noise(x * 0.04f, y * 0.04f));
        c = mix(c, m, cover(rf - y));
    }
    // Middle hills: green, lit on the slopes that face the sun.
    float rm = mid_ridge(x);
    if (y > rm - 1) {
        float slope = (mid_ridge(x + 1) - mid_ridge(x - 1)) / 2;
        rgb m = mix((rgb){78, 128, 84}, (rgb){150, 170, 120}, 0.35f);
        m = scale(m, clampf(1.0f + 0.9f * slope, 0.75f, 1.2f) * (1 - 0.15f * clampf((y - rm) / 60, 0, 1)));
        c = mix(c, m, cover(rm - y));
    }
    // Near meadow, yellowish toward the viewer, with a little texture.
    float rn = near_ridge(x);
    if (y > rn - 1) {
        float t = clampf((y - rn) / (CH - rn), 0, 1);
        rgb m = mix((rgb){66, 128, 52}, (rgb){150, 178, 62}, t);
        m = scale(m, 0.88f + 0.22f * noise(x * 0.12f, y * 0.3f));
        // A dirt path from the house's door winding down toward the viewer.
        float house_base = near_ridge(160) + 22;
        if (y > house_base - 2) {
            float u = y - house_base;
            float px = 160 + u * 0.9f + 14 * sinf(u * 0.05f), half = 6 + u * 0.18f;
            float a = cover(fabsf(x - px) - half);
            m = mix(m, scale((rgb){196, 164, 112}, 0.9f + 0.2f * noise(x * 0.3f, y * 0.3f)), a);
        }
        c = mix(c, m, cover(rn - y));
    }
    // The house: cream walls, red roof, a door and two lit windows.
    float base = near_ridge(160) + 22, left = 120, right = 200, top = base - 52;
    if (x > left - 1 && x < right + 1 && y > top - 1 && y < base + 1) {
        float a = fminf(cover(left - x), cover(x - right)) * fminf(cover(top - y), cover(y - base));
        rgb wall = scale((rgb){236, 216, 172}, 0.86f + 0.18f * (x - left) / (right - left));
        int in_door = x > 152 && x < 170 && y > base - 30;
        int in_win = (y > top + 12 && y < top + 28) &&
                     ((x > 128 && x < 146) || (x > 176 && x < 194));
        if (in_door) wall = (rgb){112, 70, 40};
        if (in_win) {
            int bar = fabsf(x - 137) < 1 || fabsf(x - 185) < 1 || fabsf(y - (top + 20)) < 1;
            wall = bar ? (rgb){90, 60, 40} : (rgb){250, 214, 120};
        }
        c = mix(c, wall, a);
    }
    float apex = base - 92;
    if (y > apex - 1 && y < top + 2) {
        // Roof: a triangle overhanging the walls by 10 px.
        float half = (y - apex) / (top - apex) * ((right - left) / 2 + 10);
        float a = cover(fabsf(x - 160) - half) * cover(y - top - 1);
        rgb roof = scale((rgb){168, 52, 40}, 0.8f + 0.35f * clampf((x - 110) / 100, 0, 1));
        roof = scale(roof, 0.92f + 0.16f * noise(x * 0.5f, y * 0.15f));
        c = mix(c, roof, a);
    }
    // Trees: a trunk and three shaded balls of leaves.
    for (int i = 0; i < NTREES; i++) {
        float tx = trees[i].x, tb = near_ridge(tx) + 12 + (i % 2) * 10, th = trees[i].h;
        float trunk_a = cover(fabsf(x - tx) - th * 0.06f) * cover(y - tb) * cover(tb - th * 0.6f - y);
        c = mix(c, scale((rgb){96, 64, 40}, 0.8f + 0.3f * (x > tx)), trunk_a);
        const float balls[3][3] = {{0, -0.72f, 0.32f}, {-0.2f, -0.55f, 0.26f}, {0.22f, -0.52f, 0.25f}};
        for (int b = 0; b < 3; b++) {
            float cx = tx + balls[b][0] * th, cy = tb + balls[b][1] * th, r = balls[b][2] * th;
            float d = hypotf(x - cx, y - cy);
            if (d > r + 1) continue;
            float lit = ball_light(x - cx, y - cy, r);
            rgb leaf = scale((rgb){50, 112, 46}, lit * (0.85f + 0.3f * noise(x * 0.25f, y * 0.25f)));
            c = mix(c, leaf, cover(d - r));
        }
    }
    for (int i = 0; i < NFLOWERS; i++) {
        float d = hypotf(x - flowers[i].x, y - flowers[i].y);
        if (d < flowers[i].r + 1) c = mix(c, flowers[i].c, cover(d - flowers[i].r));
    }
    return c;
}

static int draw_content(nst_image *im, nst_error *err) {
    if (nst_image_alloc(im, CW, CH, err)) return err->code;
    rng_state = 20240601u;
    const rgb colors[3] = {{230, 60, 60}, {250, 220, 70}, {250, 250, 245}};
    for (int i = 0; i < NFLOWERS; i++) {
        float x = frange(0, CW), t = frand();
        float y = near_ridge(x) + 10 + t * t * (CH - near_ridge(x) - 10);
        flowers[i] = (flower){x, y, 0.8f + 2.2f * t, colors[i % 3]};
    }
    // 3x3 samples per pixel smooth the shapes' edges.
    #pragma omp parallel for schedule(dynamic, 8)
    for (int y = 0; y < CH; y++)
        for (int x = 0; x < CW; x++) {
            rgb sum = {0, 0, 0};
            for (int sy = 0; sy < 3; sy++)
                for (int sx = 0; sx < 3; sx++) {
                    rgb s = landscape(x + (sx + 0.5f) / 3, y + (sy + 0.5f) / 3);
                    sum.r += s.r; sum.g += s.g; sum.b += s.b;
                }
            put(im, x, y, scale(sum, 1.0f / 9));
        }
    return NST_OK;
}

// ---- style.png: swirling brush strokes ----------------------------------------------

#define SW 512

static const rgb palette[] = {
    {22, 40, 120}, {38, 92, 196}, {32, 160, 168}, {244, 196, 48},
    {236, 112, 32}, {188, 30, 52}, {246, 236, 204}, {22, 40, 120}};
#define NPAL (int)(sizeof palette / sizeof palette[0] - 1)

// A smooth color field: a wandering parameter t mapped through the palette.
static rgb base_color(float x, float y) {
    float t = 0.5f + 0.5f * sinf(0.011f * x + 1.7f * sinf(0.009f * y)) *
                         cosf(0.013f * y - 0.8f * cosf(0.010f * x));
    t = clampf(t + 0.18f * (noise(x * 0.015f, y * 0.015f) - 0.5f), 0, 0.999f) * NPAL;
    int i = (int)t;
    return mix(palette[i], palette[i + 1], smoothstep(0, 1, t - i));
}

// Flow direction: a wavy background current plus three vortices.
static void flow(float x, float y, float *dx, float *dy) {
    float a = 1.3f * sinf(x * 0.010f + 0.7f) * cosf(y * 0.012f - 0.4f);
    float vx = cosf(a), vy = sinf(a);
    const float vort[3][4] = {{150, 160, 110, 4.0f}, {372, 318, 120, -3.5f}, {330, 70, 80, 3.0f}};
    for (int i = 0; i < 3; i++) {
        float px = x - vort[i][0], py = y - vort[i][1], d = hypotf(px, py) + 1e-3f;
        float w = vort[i][3] * expf(-d * d / (2 * vort[i][2] * vort[i][2]));
        vx += -py / d * w;
        vy += px / d * w;
    }
    float n = hypotf(vx, vy) + 1e-6f;
    *dx = vx / n;
    *dy = vy / n;
}

// Blends a soft disc into im; paint is a little brighter along the stroke's ridge.
static void dab(nst_image *im, float cx, float cy, float r, rgb c, float alpha) {
    int x0 = (int)floorf(cx - r - 1), x1 = (int)ceilf(cx + r + 1);
    int y0 = (int)floorf(cy - r - 1), y1 = (int)ceilf(cy + r + 1);
    for (int y = y0 > 0 ? y0 : 0; y <= y1 && y < im->h; y++)
        for (int x = x0 > 0 ? x0 : 0; x <= x1 && x < im->w; x++) {
            float d = hypotf(x + 0.5f - cx, y + 0.5f - cy);
            float a = alpha * cover(d - r);
            if (a <= 0) continue;
            rgb p = scale(c, 0.92f + 0.16f * (1 - d / (r + 1)));
            put(im, x, y, mix(get(im, x, y), p, a));
        }
}

// One stroke: dabs stepped along the flow, thin at both ends.
static void stroke(nst_image *im, float x, float y, float r, int len, rgb c, float alpha) {
    for (int k = 0; k < len; k++) {
        float taper = sqrtf(sinf(PI * (k + 0.5f) / len));
        dab(im, x, y, r * (0.35f + 0.65f * taper), c, alpha);
        float dx, dy;
        flow(x, y, &dx, &dy);
        x += dx * 0.9f;
        y += dy * 0.9f;
    }
}

static int draw_style(nst_image *im, nst_error *err) {
    if (nst_image_alloc(im, SW, SW, err)) return err->code;
    rng_state = 7777u;
    for (int y = 0; y < SW; y++)
        for (int x = 0; x < SW; x++) put(im, x, y, scale(base_color(x, y), 0.8f));
    // Broad strokes first, then finer ones on top, as a painter would.
    const struct { int n; float rmin, rmax; int lmin, lmax; float jitter; } layers[3] = {
        {2000, 4.0f, 6.5f, 20, 40, 14}, {6000, 2.2f, 3.4f, 16, 34, 20}, {4500, 1.1f, 1.8f, 10, 22, 26}};
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < layers[l].n; i++) {
            float x = frange(-10, SW + 10), y = frange(-10, SW + 10);
            rgb c = base_color(x, y);
            float j = layers[l].jitter, lum = frange(-j, j);
            c = (rgb){c.r + lum + frange(-j, j) * 0.4f, c.g + lum + frange(-j, j) * 0.4f,
                      c.b + lum + frange(-j, j) * 0.4f};
            // Now and then a stroke takes a neighboring palette color, for contrast.
            if (frand() < 0.08f) c = mix(c, palette[(int)frange(0, NPAL)], 0.6f);
            float r = frange(layers[l].rmin, layers[l].rmax);
            int len = layers[l].lmin + (int)frange(0, (float)(layers[l].lmax - layers[l].lmin));
            stroke(im, x, y, r, len, c, 0.9f);
        }
    return NST_OK;
}

static int save(nst_image *im, const char *dir, const char *name) {
    char path[4096];
    nst_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (nst_image_save(im, path, &err)) {
        fprintf(stderr, "draw_examples: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s (%dx%d)\n", path, im->w, im->h);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples";
    nst_image content = {0}, style = {0};
    nst_error err;
    int rc = 0;
    if (draw_content(&content, &err) || draw_style(&style, &err)) {
        fprintf(stderr, "draw_examples: %s\n", err.msg);
        rc = 1;
    } else {
        rc = save(&content, dir, "content.png") || save(&style, dir, "style.png");
    }
    nst_image_free(&content);
    nst_image_free(&style);
    return rc;
}
