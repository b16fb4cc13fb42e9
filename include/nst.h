/* nst.h - neural style transfer (Gatys et al., arXiv 1508.06576) in C.
 *
 * A pre-trained VGG19 with frozen weights extracts features; the generated image
 * is changed pixel by pixel to lower a weighted sum of a content loss (activations
 * of a deep layer) and a style loss (Gram matrices of several layers).
 *
 * CONVENTIONS
 *   All public names start with nst_. The library never prints and never exits.
 *   Every call that can fail returns an nst_status and fills the nst_error it was
 *   given (which may be NULL) with the code and a one-line message naming the
 *   file and the problem. Whoever allocates a buffer frees it: the library frees
 *   only what it allocated, through the matching nst_*_free call. No global
 *   option state: every setting travels in nst_params.
 *
 * EXAMPLE
 *   nst_error err;
 *   nst_model *model;
 *   nst_image content = {0}, style = {0}, out = {0};
 *   nst_params p;
 *   if (nst_model_load(&model, "vgg19.safetensors", &err) ||
 *       nst_image_load(&content, "photo.jpg", NST_DEFAULT_MAX_PIXELS, &err) ||
 *       nst_image_load(&style, "painting.jpg", NST_DEFAULT_MAX_PIXELS, &err)) {
 *       fprintf(stderr, "%s\n", err.msg); return 1;
 *   }
 *   nst_params_default(&p);
 *   p.iterations = 300;
 *   if (nst_transfer(model, &content, &style, 1, &p, &out, &err) == NST_OK)
 *       nst_image_save(&out, "out.png", &err);
 *   nst_image_free(&out); nst_image_free(&style); nst_image_free(&content);
 *   nst_model_free(model);
 *
 *   nst_transfer does not resize: resize content and style with nst_image_resize
 *   (or nst_image_fit) first.
 */
#ifndef NST_H
#define NST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NST_VERSION "0.1.0"
#define NST_DEFAULT_MAX_PIXELS 50000000LL   /* 50 megapixels */

typedef enum nst_status {
    NST_OK = 0,
    NST_ERR_USAGE = 1,       /* an invalid option or argument */
    NST_ERR_IO = 2,          /* a file could not be opened, read or written */
    NST_ERR_FORMAT = 3,      /* a file's contents are malformed */
    NST_ERR_LIMIT = 4,       /* a size limit (pixels, memory) would be exceeded */
    NST_ERR_NOMEM = 5,       /* an allocation failed */
    NST_ERR_MODEL = 6,       /* the model lacks something that was asked for */
    NST_ERR_NUMERIC = 7,     /* a NaN or Inf appeared in the loss or gradient */
    NST_ERR_INTERRUPTED = 8  /* stopped by the progress callback */
} nst_status;

/* The reason for a failed call. code is an nst_status; msg is one line. */
typedef struct nst_error {
    int code;
    char msg[512];
} nst_error;

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *nst_version(void);

/* ---- Images -------------------------------------------------------------
 * Planar float RGB: data is (3, h, w), channel-major, values 0..255.
 * A zeroed nst_image is empty; nst_image_free is safe on it and idempotent. */
typedef struct nst_image {
    int w, h;
    float *data;
} nst_image;

/* Decodes JPEG (baseline, progressive, grayscale, CMYK) or PNG (gray, palette,
 * 16-bit, alpha composited over white), chosen by content. Fails before
 * allocating pixels when w*h > max_pixels. */
int nst_image_load(nst_image *img, const char *path, long long max_pixels, nst_error *err);
/* Encodes by extension (.png, .jpg, .jpeg), clamped to 0..255 and rounded, through
 * a temporary file renamed into place: an existing file is never half-written. */
int nst_image_save(const nst_image *img, const char *path, nst_error *err);
/* Resamples src to w x h into dst (allocated here). Downscaling is antialiased.
 * The same size copies exactly. */
int nst_image_resize(nst_image *dst, const nst_image *src, int w, int h, nst_error *err);
/* Resizes so that the longest side is `longest` (aspect kept, exact copy when
 * already that size). */
int nst_image_fit(nst_image *dst, const nst_image *src, int longest, nst_error *err);
int nst_image_alloc(nst_image *img, int w, int h, nst_error *err);
void nst_image_free(nst_image *img);

/* ---- Models --------------------------------------------------------------
 * VGG19's 16 conv layers (or the first K of them) from a safetensors file
 * (F32, F16, BF16) or torchvision's own .pth (a zip holding a pickle, read by a
 * restricted reader that executes nothing). */
typedef struct nst_model nst_model;

int nst_model_load(nst_model **out, const char *path, nst_error *err);
void nst_model_free(nst_model *m);
/* Conv layers present: conv1_1 .. the n-th. */
int nst_model_conv_count(const nst_model *m);
/* "caffe" (BGR, 0..255, mean subtracted) or "torchvision" (RGB 0..1, mean/std). */
const char *nst_model_input_convention(const nst_model *m);
/* Dtype of the file's tensors: "F32", "F16" or "BF16". */
const char *nst_model_dtype(const nst_model *m);
/* Writes a compact conv-only safetensors file, dtype "F32" or "F16". */
int nst_model_save(const nst_model *m, const char *path, const char *dtype, nst_error *err);
/* Name of conv layer i (0..15): "conv1_1" .. "conv5_4"; NULL when out of range. */
const char *nst_conv_name(int i);
/* Channels out of conv layer i. */
int nst_conv_channels(int i);

/* ---- Style transfer -------------------------------------------------------- */
typedef enum { NST_OPTIMIZER_LBFGS = 0, NST_OPTIMIZER_ADAM = 1 } nst_optimizer;
typedef enum { NST_INIT_CONTENT = 0, NST_INIT_NOISE = 1, NST_INIT_IMAGE = 2 } nst_init;
typedef enum { NST_BACKEND_AUTO = 0, NST_BACKEND_REF = 1, NST_BACKEND_BLAS = 2, NST_BACKEND_DNNL = 3 } nst_backend_choice;
typedef enum { NST_PRECISION_FP32 = 0, NST_PRECISION_BF16 = 1, NST_PRECISION_AUTO = 2 } nst_precision;

/* What the progress callback sees after each iteration (iteration 0 is the
 * initial image). Loss terms are weighted; loss is their sum. */
typedef struct nst_progress {
    int iter, iterations;
    double time_s;                 /* seconds since the optimization started */
    double loss, content, style, tv;
    const void *internal;          /* for nst_progress_image */
} nst_progress;
/* Return nonzero to stop the run: nst_transfer then returns NST_ERR_INTERRUPTED
 * with the current image in *out. */
typedef int (*nst_progress_fn)(const nst_progress *p, void *user);
/* The current image (RGB 0..255), during a progress callback. */
int nst_progress_image(const nst_progress *p, nst_image *out, nst_error *err);

#define NST_MAX_LAYERS 16
#define NST_MAX_STYLES 16

typedef struct nst_params {
    int iterations;                 /* default 500 */
    nst_optimizer optimizer;        /* default L-BFGS */
    float lr;                       /* Adam learning rate, L-BFGS step scale (default 1) */
    int lbfgs_history;              /* default 20 */
    float content_weight, style_weight, tv_weight;
    /* Comma-separated layer lists; empty means the defaults, falling back to the
     * deepest layers the model has. */
    char content_layers[256], style_layers[256], style_layer_weights[256];
    float style_blend[NST_MAX_STYLES]; /* per style image; all 0 means equal */
    int avg_pool;                   /* 1: average pooling instead of max */
    nst_init init;
    const nst_image *init_image;    /* for NST_INIT_IMAGE, resized to the content */
    unsigned long long seed;
    int threads;                    /* 0: all cores */
    /* The tutorial's normalisation: raw Gram matrices, each style term further
     * divided by C*H*W. */
    int raw_gram;
    nst_backend_choice backend;
    nst_precision precision;        /* bf16 convolutions where the CPU has them; default fp32 */
    nst_progress_fn progress;
    void *progress_user;
} nst_params;

void nst_params_default(nst_params *p);
/* "default", "tutorial" or "gatys": sets the fields a preset names. */
int nst_params_preset(nst_params *p, const char *name, nst_error *err);
/* The layers a run would use with this model, as comma-separated lists. */
int nst_resolve_layers(const nst_model *m, const nst_params *p, char *content, size_t content_len,
                       char *style, size_t style_len, nst_error *err);
/* Bytes a run at this content size would allocate (network, optimizer, targets). */
size_t nst_estimate_bytes(const nst_model *m, const nst_params *p, int w, int h);

/* Runs the optimization. content and styles are used at the size given (resize
 * them first). *out receives the result (RGB, unclamped values are clamped on
 * save). On NST_ERR_INTERRUPTED and NST_ERR_NUMERIC, *out holds the last good image. */
int nst_transfer(const nst_model *m, const nst_image *content, const nst_image *styles,
                 int n_styles, const nst_params *p, nst_image *out, nst_error *err);

#ifdef __cplusplus
}
#endif
#endif
