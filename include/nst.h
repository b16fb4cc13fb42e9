/* nst.h - neural style transfer (Gatys et al., arXiv 1508.06576) in C.
 *
 * A pre-trained VGG19 with frozen weights extracts features; the generated image
 * is changed pixel by pixel to lower a weighted sum of a content loss (activations
 * of a deep layer) and a style loss (Gram matrices of several layers).
 *
 * BUILDING AGAINST IT
 *   After `make install PREFIX=...`:
 *     cc app.c $(pkg-config --cflags --libs nst)              (libnst.so.0.6)
 *     cc app.c $(pkg-config --cflags --libs --static nst)     (with libnst.a)
 *   examples/embed/ is a complete program built that way.
 *
 * CONVENTIONS
 *   All public names start with nst_. The library never prints and never exits.
 *   Every call that can fail returns an nst_status (NST_OK is 0) and fills the
 *   nst_error it was given (which may be NULL) with the code and a one-line
 *   message naming the file and the problem. Whoever allocates a buffer frees
 *   it: the library frees only what it allocated, through the matching
 *   nst_*_free call. No global option state: every setting travels in
 *   nst_params. Pictures (nst_image) are planar float RGB, 0..255.
 *
 * FUNCTIONS
 *   Version, errors, files
 *     nst_version()              the library's version, "MAJOR.MINOR.PATCH" (the
 *                                same as NST_VERSION for a matching header).
 *     nst_error_set(err, code, fmt, ...)
 *                                fills err as the library does (one line), for
 *                                programs that report their own errors the same way.
 *     nst_atomic_open(&af, path, err), nst_atomic_close(&af, ok, err)
 *                                write a file through a temporary one renamed into
 *                                place, as nst_image_save does.
 *   Pictures
 *     nst_image_load(img, path, max_pixels, err)
 *                                decodes a JPEG or PNG (by content) into img;
 *                                refuses more than max_pixels before decoding.
 *     nst_image_save(img, path, err)
 *                                writes .png or .jpg/.jpeg (by extension),
 *                                atomically, clamped to 0..255.
 *     nst_image_resize(dst, src, w, h, err)
 *                                resamples into dst (allocated), antialiased.
 *     nst_image_fit(dst, src, longest, err)
 *                                resizes so the longest side is `longest`.
 *     nst_fit_size(w, h, longest, &fit_w, &fit_h)
 *                                the size nst_image_fit gives, without resizing.
 *     nst_style_size(size, style_scale)
 *                                the longest side of the style pictures of a run
 *                                whose result has longest side size.
 *     nst_image_alloc(img, w, h, err)   allocates a w x h picture (zeroed).
 *     nst_image_free(img)        frees; safe on a zeroed or freed picture.
 *   Models
 *     nst_model_load(&model, path, err)
 *                                reads VGG19 conv weights (.safetensors or .pth).
 *     nst_model_free(model)      frees; NULL is fine.
 *     nst_model_conv_count(model)        conv layers present (16 for all of VGG19, 13 of VGG16).
 *     nst_model_input_convention(model)  "caffe" or "torchvision".
 *     nst_model_input_reason(model)      how that was decided, in words.
 *     nst_model_set_input(model, "caffe"|"torchvision", err)  overrides it.
 *     nst_model_dtype(model)     "F32", "F16" or "BF16": the file's tensors.
 *     nst_model_save(model, path, dtype, err)
 *                                writes a compact conv-only safetensors file.
 *     nst_model_arch(model)      "vgg19", "vgg16", ... or "vgg" (a part of one).
 *     nst_model_conv_name(model, i)      "conv1_1", ... for i < conv_count, else NULL.
 *     nst_model_conv_channels(model, i, &in)  channels out of (and into) conv layer i.
 *     nst_model_conv_pooled(model, i)    1 when a pooling precedes conv layer i.
 *   Style transfer
 *     nst_params_default(&p)     the defaults: L-BFGS, 200 iterations, content
 *                                weight 1, style 10, tv 1 in the AUTO loss scale
 *                                (relative terms, the picture in pixels), from
 *                                the content.
 *     nst_params_preset(&p, name, err)   "default", "tutorial" or "gatys".
 *     nst_resolve_layers(model, &p, content, n, style, n, err)
 *                                the layers a run would use with this model.
 *     nst_backend_name(&p)       the kernels a run with p would use, in words.
 *     nst_blas_single_threaded() OpenBLAS at one thread a call, process-wide (a
 *                                program's choice: the library never sets it).
 *     nst_schedule(&p, size, scales, iterations)
 *                                the default stages for a result of longest side
 *                                size: half size with two thirds of p.iterations,
 *                                then size (p.stages AUTO, size >= 256), else one.
 *     nst_estimate_bytes(model, &p, w, h, style_w, style_h, n_styles)
 *                                memory a run would allocate at its peak, for
 *                                a w x h content and styles of the sizes given.
 *     nst_transfer(model, &content, styles, n_styles, &p, &out, err)
 *                                runs the optimization; out gets the result. It
 *                                does not resize: fit the pictures first.
 *     nst_transfer_scales(model, &content, styles, n_styles, scales, iterations,
 *                         n_scales, style_scale, &p, &out, err)
 *                                coarse to fine: a run at each longest side in
 *                                scales (ascending), each from the content plus
 *                                the previous stage's stylization (result minus
 *                                content) upsampled; takes the pictures at any size.
 *     nst_progress_image(progress, &img, err)
 *                                inside a progress callback: the current picture.
 *     nst_progress_term(progress, "style")
 *                                a loss term's weighted value by name ("content",
 *                                "style", "tv", "range"); 0 when the run has none.
 *     nst_transfer_kept(status, &out)
 *                                whether out holds a picture to keep after a
 *                                transfer returned status (the result or the
 *                                picture so far).
 *   Colour (what p.preserve_colors uses; YCbCr is JPEG's full-range BT.601)
 *     nst_color_keep_chroma(&out, &result, &content, err)
 *                                result's luminance Y with content's chroma Cb, Cr
 *                                (the same size).
 *     nst_color_luminance(&out, &img, ref, err)
 *                                img's Y in all three channels; with ref (or NULL)
 *                                its mean and deviation matched to ref's Y.
 *     nst_color_match(&out, &img, &ref, err)
 *                                img's colours mapped linearly so that their mean
 *                                and covariance are ref's.
 *                                Each allocates out afresh and clamps nothing.
 *   Video (frames are nst_images; files through FFmpeg, sequences such as frames/%05d.png)
 *     nst_video_available()      1 when nst was built with FFmpeg (video files)
 *                                and its video plugin loads.
 *     nst_video_plugin_check(err) NST_OK when the video plugin loads, else why not.
 *     nst_video_is_sequence(path) 1 when path is a picture-sequence pattern.
 *     nst_video_frame_path(buf, size, pattern, number, err)   frame number's file name.
 *     nst_video_open(&r, path, max_pixels, &info, err)
 *                                opens and reads through once: checked and counted.
 *     nst_video_read(r, &frame, err)    the next frame (allocated).
 *     nst_video_close(r)         closes; NULL is fine.
 *     nst_video_create(&v, path, w, h, fps_num, fps_den, err)
 *                                a video (H.264, VP9 by extension) or a sequence.
 *     nst_video_write(v, &frame, err)   appends a frame.
 *     nst_video_finish(v, ok, err)      renames the file into place (ok) or removes it.
 *   Optical flow (for video; a flow is (2,h,w): dx then dy, a(p) ~ b(p + flow(p)))
 *     nst_flow_available()       1 when nst was built with OpenCV (its DIS flow).
 *     nst_flow_compute(&flow, &a, &b, err)
 *                                the flow from a to b (the same size), deterministic.
 *     nst_flow_warp(&out, &img, &flow, err)
 *                                out(p) = img(p + flow(p)), bilinear, edge clamped.
 *     nst_flow_consistency(&mask, &backward, &forward, err)
 *                                Ruder et al.'s mask: 0 at occlusions and motion
 *                                boundaries, 255 elsewhere.
 *     nst_flow_free(&flow)       frees; safe on a zeroed or freed flow.
 *
 * PROGRESS, STOPPING, INTERMEDIATE PICTURES
 *   Set p.progress (and p.progress_user) to a function. nst_transfer calls it
 *   after every iteration (iteration 0 is the starting picture) with the
 *   iteration, the seconds since the start and the weighted loss terms. In it:
 *     - show progress as the program likes (the library itself never prints);
 *     - take the current picture with nst_progress_image (free it after);
 *     - return nonzero to stop: nst_transfer then returns NST_ERR_INTERRUPTED
 *       with the current picture in out.
 *   In nst_transfer_scales the iteration and time_s run on across the stages and
 *   p->iterations is the sum of them all.
 *
 * CHECKPOINTS
 *   p.checkpoint = "run.ckpt" writes the whole state of the optimization there
 *   (atomically, CRC-32 checked) every p.checkpoint_every iterations, at the end and
 *   when the callback stops the run. p.resume = "run.ckpt" goes on from one: with the
 *   same pictures, model and settings the result is the uninterrupted run's, bit for
 *   bit. A checkpoint of another run is refused with NST_ERR_USAGE, a damaged one
 *   with NST_ERR_FORMAT; both name the file.
 *
 * THREADS
 *   Sessions may run in several threads at once, sharing one nst_model (which is
 *   read only). p.threads applies to the calling thread: OpenMP keeps it per thread.
 *
 * EXAMPLE
 *   The program below is compiled and run by the tests (tests/test_install.c),
 *   as found between the two marker lines.
 *
 * EXAMPLE BEGIN
 *   // example MODEL CONTENT STYLE OUT [SIZE [ITERATIONS]]
 *   #include <stdio.h>
 *   #include <stdlib.h>
 *   #include <nst.h>
 *
 *   static int show(const nst_progress *p, void *user) {
 *       (void)user;
 *       printf("iteration %d/%d: loss %g (style %g)\n", p->iter, p->iterations, p->loss,
 *              nst_progress_term(p, "style"));
 *       return 0;   // nonzero would stop the run here
 *   }
 *
 *   int main(int argc, char **argv) {
 *       if (argc < 5) {
 *           fprintf(stderr, "usage: example MODEL CONTENT STYLE OUT [SIZE [ITERATIONS]]\n");
 *           return 2;
 *       }
 *       int size = argc > 5 ? atoi(argv[5]) : 256;
 *       nst_error err;
 *       nst_model *model = NULL;
 *       nst_image content = {0}, style = {0}, c = {0}, s = {0}, out = {0};
 *       nst_params p;
 *       nst_params_default(&p);
 *       p.iterations = argc > 6 ? atoi(argv[6]) : 50;
 *       p.progress = show;
 *       int rc = nst_model_load(&model, argv[1], &err);
 *       if (!rc) rc = nst_image_load(&content, argv[2], NST_DEFAULT_MAX_PIXELS, &err);
 *       if (!rc) rc = nst_image_load(&style, argv[3], NST_DEFAULT_MAX_PIXELS, &err);
 *       if (!rc) rc = nst_image_fit(&c, &content, size, &err);   // nst_transfer does not resize
 *       if (!rc) rc = nst_image_fit(&s, &style, size, &err);
 *       if (!rc) rc = nst_transfer(model, &c, &s, 1, &p, &out, &err);
 *       if (!rc) rc = nst_image_save(&out, argv[4], &err);
 *       if (rc) fprintf(stderr, "example: %s\n", err.msg);   // one line: the file and the problem
 *       nst_image_free(&out); nst_image_free(&s); nst_image_free(&c);
 *       nst_image_free(&style); nst_image_free(&content);
 *       nst_model_free(model);
 *       return rc ? 1 : 0;
 *   }
 * EXAMPLE END
 */
#ifndef NST_H
#define NST_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NST_VERSION "0.6.0"
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

/* Fills err (when not NULL) with code and the message fmt formats, on one line (line
 * breaks become spaces), and returns code: `return nst_error_set(err, ...)`. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int nst_error_set(nst_error *err, int code, const char *fmt, ...);
#if defined(NST_ANALYZE) && defined(__clang_analyzer__)
/* For nst's own `make analyze` (which defines NST_ANALYZE): the static analyzer reads one
 * file at a time, and this shows it that the call returns code. */
#define nst_error_set(err, code, ...) (nst_error_set((err), (code), __VA_ARGS__), (code))
#endif

/* A file written through a temporary one renamed into place, so that an existing file
 * is never left half-written. nst_atomic_open creates "<path>.tmp.<random>" beside
 * path, exclusively, with the mode of the file it will replace (else 0666 less the
 * umask); write to af->f. nst_atomic_close flushes, syncs and renames it into place,
 * removing the temporary file on failure; ok = 0 abandons it (removes it) and returns
 * NST_OK. */
typedef struct nst_atomic_file {
    FILE *f;          /* write here */
    char *tmp_path;   /* owned until nst_atomic_close */
    const char *path; /* borrowed: the final name */
} nst_atomic_file;
int nst_atomic_open(nst_atomic_file *af, const char *path, nst_error *err);
int nst_atomic_close(nst_atomic_file *af, int ok, nst_error *err);

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
/* The longest side of the style pictures of a run whose result has longest side
 * `size`: size * style_scale, rounded, and at least 16 (the smallest size a run
 * takes). nst_transfer_scales uses it for each stage. */
int nst_style_size(int size, float style_scale);
/* The size nst_image_fit gives a w x h picture: longest side `longest`, the other
 * rounded to nearest, at least 1. */
void nst_fit_size(int w, int h, int longest, int *fit_w, int *fit_h);
int nst_image_alloc(nst_image *img, int w, int h, nst_error *err);
void nst_image_free(nst_image *img);

/* ---- Models --------------------------------------------------------------
 * A VGG's conv layers (VGG19's 16, VGG16's 13, or the first K of either) from a
 * safetensors file (F32, F16, BF16), torchvision's own .pth (a zip holding a pickle,
 * read by a restricted reader that executes nothing) or Keras HDF5. The network is
 * what the file holds: its layer table (channels, where the poolings are) comes from
 * the tensors' names (torchvision's features.N) and shapes. */
typedef struct nst_model nst_model;

int nst_model_load(nst_model **out, const char *path, nst_error *err);
void nst_model_free(nst_model *m);
/* Conv layers present: conv1_1 .. the n-th. */
int nst_model_conv_count(const nst_model *m);
/* "caffe" (BGR, 0..255, mean subtracted) or "torchvision" (RGB 0..1, mean/std). It is
 * decided at load time from, in order: the file's metadata (safetensors __metadata__
 * "input"); known weights (conv1_1 of the Caffe-trained VGG19, in any format); the
 * format (Keras HDF5 files take Caffe input; other files without metadata are taken
 * as torchvision's). */
const char *nst_model_input_convention(const nst_model *m);
/* How the convention was decided, in words (for `nst model info`). */
const char *nst_model_input_reason(const nst_model *m);
/* Overrides the convention: "caffe" or "torchvision" (--model-input). It changes the
 * model: call it before sessions in other threads share the model. */
int nst_model_set_input(nst_model *m, const char *convention, nst_error *err);
/* Dtype of the file's tensors: "F32", "F16" or "BF16". */
const char *nst_model_dtype(const nst_model *m);
/* Writes a compact conv-only safetensors file, dtype "F32" or "F16". */
int nst_model_save(const nst_model *m, const char *path, const char *dtype, nst_error *err);
/* The network, as the file holds it: "vgg19", "vgg16", "vgg13" or "vgg11" when it is
 * all of one of those, else "vgg" (a part of one, e.g. VGG19's first 8 layers). */
const char *nst_model_arch(const nst_model *m);
/* Name of conv layer i (0 .. conv_count-1): "conv1_1", ...; NULL when out of range.
 * Layers are named by block (a block ends at a pooling) and place in the block. */
const char *nst_model_conv_name(const nst_model *m, int i);
/* Channels out of conv layer i, and into it (*in, when in is not NULL); 0 out of range. */
int nst_model_conv_channels(const nst_model *m, int i, int *in);
/* 1 when a 2x2 pooling precedes conv layer i. */
int nst_model_conv_pooled(const nst_model *m, int i);

/* ---- Style transfer -------------------------------------------------------- */
typedef enum { NST_OPTIMIZER_LBFGS = 0, NST_OPTIMIZER_ADAM = 1 } nst_optimizer;
typedef enum { NST_INIT_CONTENT = 0, NST_INIT_NOISE = 1, NST_INIT_IMAGE = 2, NST_INIT_STYLE = 3 } nst_init;
/* Colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors"):
 * LUMINANCE transfers style on luminance only (the optimization sees Y replicated to
 * three channels, the style's Y matched to the content's mean and deviation) and
 * puts the content's chroma (YCbCr) back; LUMINANCE_POST runs the normal transfer
 * and then takes the content's chroma; HISTOGRAM first matches each style picture's
 * colour mean and covariance to the content's. */
typedef enum {
    NST_COLORS_NONE = 0, NST_COLORS_LUMINANCE = 1, NST_COLORS_LUMINANCE_POST = 2, NST_COLORS_HISTOGRAM = 3
} nst_preserve_colors;
typedef enum { NST_BACKEND_AUTO = 0, NST_BACKEND_REF = 1, NST_BACKEND_BLAS = 2, NST_BACKEND_DNNL = 3 } nst_backend_choice;
typedef enum { NST_PRECISION_FP32 = 0, NST_PRECISION_BF16 = 1, NST_PRECISION_AUTO = 2 } nst_precision;
/* How the loss terms are scaled.
 * AUTO (the default) makes the loss independent of the network's activation scale and
 * input convention: the content term is alpha times the mean over content layers of
 * ||F - P||^2 / ||P||^2, the style term beta times the layer-weighted mean over style
 * layers of ||G - A||^2 / ||A||^2, and the optimizer works on the picture in pixel
 * units (0..255 minus the model's mean, Caffe's input space), with total variation
 * measured on the picture in 0..1 units. A network whose activations are k times
 * another's then gives the same picture, and lr and tv_weight mean the same for a
 * Caffe and a torchvision model.
 * RAW is the contract of nst 0.2 and the PyTorch tutorial: alpha * sum of
 * mean((F - P)^2) + beta * sum of w_l * mean((G - A)^2) + gamma * TV, all in the
 * model's input space. */
typedef enum { NST_LOSS_SCALE_AUTO = 0, NST_LOSS_SCALE_RAW = 1 } nst_loss_scale;
/* The style term: GRAM matches Gram matrices (Gatys et al.); MOMENTS matches each
 * channel's mean and standard deviation (Li et al. 2017, "Demystifying Neural Style
 * Transfer"): cheaper (O(C N) a layer, not O(C^2 N)), and it keeps less of the
 * style's texture. Style masks need GRAM. */
typedef enum { NST_STYLE_LOSS_GRAM = 0, NST_STYLE_LOSS_MOMENTS = 1 } nst_style_loss_kind;
/* How nst_schedule splits a run into coarse-to-fine stages. AUTO: a half-size stage
 * first where the picture is large enough (see nst_schedule); ONE: a single stage. */
typedef enum { NST_STAGES_AUTO = 0, NST_STAGES_ONE = 1 } nst_stages;

/* What the progress callback sees after each iteration (iteration 0 is the
 * initial image). Loss terms are weighted; loss is their sum. range is the AUTO loss
 * scale's penalty on values outside 0..255 (0 while the picture stays in range, and
 * always 0 with RAW). */
#define NST_MAX_TERMS 8
typedef struct nst_progress {
    int iter, iterations;
    double time_s;                 /* seconds since the optimization started */
    double loss;                   /* the sum of the terms below */
    /* The loss's terms, weighted, in order: "content", "style", "tv", then "range"
     * (the loss scale AUTO's penalty on values outside 0..255); "temporal" comes after
     * "tv" in runs with temporal targets (video). A later version may
     * add terms: look them up by name (nst_progress_term). */
    int n_terms;
    const char *term_name[NST_MAX_TERMS];
    double term[NST_MAX_TERMS];
    const void *internal;          /* for nst_progress_image */
} nst_progress;
/* The term named name ("content", "style", "tv", "temporal", "range"); 0 when p has none. */
double nst_progress_term(const nst_progress *p, const char *name);
/* Return nonzero to stop the run: nst_transfer then returns NST_ERR_INTERRUPTED
 * with the current image in *out. */
typedef int (*nst_progress_fn)(const nst_progress *p, void *user);
/* The current image (RGB 0..255), during a progress callback. */
int nst_progress_image(const nst_progress *p, nst_image *out, nst_error *err);

#define NST_MAX_LAYERS 16
#define NST_MAX_STYLES 16

typedef struct nst_params {
    int iterations;                 /* default 150 (in all, across nst_schedule's stages) */
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
    nst_precision precision;        /* default auto: bf16 convolutions where the CPU has AMX
                                       (faster there), else fp32; bf16 asks for them wherever
                                       the CPU has AVX512-BF16 or AMX */
    nst_loss_scale loss_scale;      /* default AUTO */
    nst_style_loss_kind style_loss; /* default GRAM */
    nst_stages stages;              /* what nst_schedule gives (default AUTO); the
                                       presets tutorial and gatys set ONE */
    nst_preserve_colors preserve_colors;
    float init_noise_blend;         /* 0..1: mixes this much noise into the start (default 0) */
    /* jcjohnson's --normalize_gradients: each loss term's gradient on a layer is divided
     * by its L1 norm before it is added. */
    int normalize_gradients;
    /* Spatial control (guided Gram matrices, Gatys 2017). style_masks[s] (n_styles of them,
     * or NULL) is a grayscale mask for style s, white inside, resized to the content:
     * each region's Gram statistics are matched to its own style. content_mask (or NULL)
     * weights the content loss per pixel (white 1, black 0). Masks use channel 0 (R). */
    const nst_image *style_masks;
    const nst_image *content_mask;
    /* Temporal consistency (Ruder, Dosovitskiy and Brox 2016, "Artistic style transfer for
     * videos"): with temporal_weight > 0 and n_temporal pictures in temporal_targets (each
     * an earlier stylized frame warped to this one along the optical flow, resized to the
     * content), the loss adds the term "temporal": temporal_weight times the sum over
     * targets j of the mean over the picture's values of mask_j * (x - target_j)^2, in 0..1
     * units under the AUTO loss scale (the model's units under RAW). temporal_masks holds
     * n_temporal grayscale masks (channel 0, white 1: kept, black 0: ignored, e.g. where
     * the flow is not consistent) or is NULL (all ones). nst_transfer_scales resizes the
     * targets and masks for each stage; with preserve_colors LUMINANCE the targets'
     * luminance is used, as the optimization sees only luminance. */
#define NST_MAX_TEMPORAL 8
    float temporal_weight;
    int n_temporal;                 /* 0 .. NST_MAX_TEMPORAL */
    const nst_image *temporal_targets;
    const nst_image *temporal_masks;
    /* Refuse runs whose estimated memory exceeds this many bytes (0: no limit). */
    unsigned long long max_memory;
    /* Checkpoints. With checkpoint set (a file name), the whole state of the optimization
     * (the picture, its loss and gradient, the optimizer's memory, the iteration) is
     * written there atomically every checkpoint_every iterations (default 50; 0: only
     * at the end), when the progress callback stops the run, and at the end. A failed
     * write stops the run with NST_ERR_IO and the current picture in *out. With resume
     * set, the run goes on from that checkpoint instead of starting afresh, and ends as
     * the uninterrupted run would have, bit for bit (same backend and threads). It must
     * come from the same pictures, model and settings; only iterations may differ. */
    const char *checkpoint;
    int checkpoint_every;
    const char *resume;
    nst_progress_fn progress;
    void *progress_user;
} nst_params;

void nst_params_default(nst_params *p);
/* "default", "tutorial" or "gatys": sets the fields a preset names. */
int nst_params_preset(nst_params *p, const char *name, nst_error *err);
/* The default stages of a run whose result has longest side `size`, for
 * nst_transfer_scales: writes 1 or 2 longest sides (ascending) to scales and the
 * iterations of each to iterations, and returns how many. With p->stages AUTO and
 * size >= NST_SCHEDULE_MIN_SIZE and p->iterations >= 2: a stage at size/2 with two
 * thirds of p->iterations (rounded down), then one at size with the rest; else one
 * stage. */
#define NST_SCHEDULE_MIN_SIZE 256
int nst_schedule(const nst_params *p, int size, int scales[2], int iterations[2]);
/* The layers a run would use with this model, as comma-separated lists. */
int nst_resolve_layers(const nst_model *m, const nst_params *p, char *content, size_t content_len,
                       char *style, size_t style_len, nst_error *err);
/* The compute a run with p would use: "onednn fp32", "onednn bf16", "openblas", "reference"... */
/* Makes OpenBLAS (when nst was built with it) run one thread per call, for the whole
 * process: the fastest with nst's own OpenMP threads, which then split each product
 * between them (two thread pools spinning against each other were 3x slower on 2
 * cores). The library never changes it by itself; the nst program calls this at start.
 * Returns 1 when OpenBLAS is in use, else 0 (and does nothing). */
int nst_blas_single_threaded(void);
const char *nst_backend_name(const nst_params *p);
/* Bytes a run would allocate at its peak (networks, optimizer, targets, pictures), for a
 * w x h content and n_styles style pictures of style_w[s] x style_h[s]: a style picture
 * larger than the content can set the peak, while its network computes the targets. */
size_t nst_estimate_bytes(const nst_model *m, const nst_params *p, int w, int h, const int *style_w,
                          const int *style_h, int n_styles);

/* Runs the optimization. content and styles are used at the size given (resize
 * them first). *out receives the result (RGB, unclamped values are clamped on
 * save). On NST_ERR_INTERRUPTED and NST_ERR_NUMERIC, and on NST_ERR_IO from a
 * checkpoint that could not be written, *out holds the last good image. */
int nst_transfer(const nst_model *m, const nst_image *content, const nst_image *styles,
                 int n_styles, const nst_params *p, nst_image *out, nst_error *err);
/* 1 when *out, after nst_transfer or nst_transfer_scales returned status, holds a
 * picture to keep: the result (NST_OK), or the last good picture after
 * NST_ERR_INTERRUPTED, NST_ERR_NUMERIC or NST_ERR_IO from a checkpoint that could not
 * be written; else 0 (*out is then empty). */
int nst_transfer_kept(int status, const nst_image *out);

/* Coarse to fine. content and styles are given at any size: stage k resizes the content
 * so its longest side is scales[k] (ascending) and the styles to scales[k]*style_scale,
 * runs iterations[k] iterations starting from the content at that size plus the
 * previous stage's stylization (its result minus its content), upsampled (the first
 * stage starts as p->init says), and the last stage's result goes to *out.
 * The progress callback's iter and time_s count on across stages (time_s from the
 * stage a checkpoint resumes in, after --resume). nst_schedule gives the default stages;
 * nst_transfer alone always runs one. */
int nst_transfer_scales(const nst_model *m, const nst_image *content, const nst_image *styles,
                        int n_styles, const int *scales, const int *iterations, int n_scales,
                        float style_scale, const nst_params *p, nst_image *out, nst_error *err);

/* ---- Colour (used by preserve_colors; public for embedding programs) ---------- */
/* out = content's chroma (Cb, Cr) with result's luminance (Y); result and content the same size. */
int nst_color_keep_chroma(nst_image *out, const nst_image *result, const nst_image *content, nst_error *err);
/* out = luminance Y of img in all three channels, then (if ref is not NULL) shifted and
 * scaled so its mean and standard deviation match ref's luminance. */
int nst_color_luminance(nst_image *out, const nst_image *img, const nst_image *ref, nst_error *err);
/* out = img with its colours transformed linearly (x' = A x + b) so that their mean and
 * covariance match ref's (A from matrix square roots of the covariances). */
int nst_color_match(nst_image *out, const nst_image *img, const nst_image *ref, nst_error *err);


/* ---- Video --------------------------------------------------------------------
 * Frames of a video file, read and written through FFmpeg's libraries (MP4/H.264,
 * WebM/VP9, Matroska, ...; nst_video_available() says whether nst was built with
 * them), or of a numbered picture sequence: a path with one printf-style %d, %05d, ...
 * ("frames/%05d.png"), read from the first of numbers 0..4 that exists, written from 1.
 * Frames are nst_images (RGB 0..255). */
#define NST_VIDEO_MAX_FRAMES 1000000
typedef struct nst_video_reader nst_video_reader;
typedef struct nst_video_writer nst_video_writer;
typedef struct nst_video_info {
    int w, h;                /* every frame's size */
    int n_frames;            /* counted when opened (every frame decoded once) */
    int fps_num, fps_den;    /* frame rate (a sequence: 25/1) */
} nst_video_info;
/* 1 when nst was built with FFmpeg's libraries (video files) and its video plugin
 * loads, else 0 (sequences only). FFmpeg and OpenCV are not linked into libnst: they
 * sit in a plugin, libnst-video.so, that the first video file or flow loads (so that a
 * program that never touches video never loads them). It is looked for next to
 * libnst.so and in its nst/ folder, next to the program, in ../lib/nst from it and in
 * its parent folder, and in the install's lib/nst; the environment variable
 * NST_VIDEO_PLUGIN, a path, comes first. */
int nst_video_available(void);
/* Loads the video plugin if it is not loaded yet: NST_OK, or why it cannot be (not
 * found, cannot be loaded, another version's, or nst built without FFmpeg and OpenCV). */
int nst_video_plugin_check(nst_error *err);
/* 1 when path is meant as a picture sequence pattern: it holds a '%' other than "%%"
 * (open and create then accept exactly one %d or %0Nd, N up to 20, with every other
 * '%' doubled, and refuse anything else with NST_ERR_USAGE), else 0. */
int nst_video_is_sequence(const char *path);
/* The file name of frame `number` of a picture sequence pattern (as nst_video_create
 * writes them from 1, and nst_video_open reads them from the first of 0..4 that exists),
 * into buf of size bytes: NST_OK, NST_ERR_USAGE for a bad pattern or a buf too small, or
 * NST_ERR_NOMEM. */
int nst_video_frame_path(char *buf, size_t size, const char *pattern, long long number, nst_error *err);
/* Opens path and reads it through once, so that a truncated, empty, audio-only or
 * zero-frame video, or frames over max_pixels (<= 0: no limit) or over 16384 pixels a
 * side, are refused here with one line naming the file (or the sequence's frame) and
 * the problem. Video files: MP4/MOV, Matroska/WebM or AVI holding H.264, HEVC, VP8,
 * VP9, AV1, MPEG-4, MJPEG, PNG or raw video; anything else is refused. info (may be
 * NULL) receives the size, count and rate. */
int nst_video_open(nst_video_reader **out, const char *path, long long max_pixels, nst_video_info *info,
                   nst_error *err);
/* The next frame into *frame (allocated here; free it with nst_image_free); reading
 * past the last frame is NST_ERR_USAGE. */
int nst_video_read(nst_video_reader *r, nst_image *frame, nst_error *err);
void nst_video_close(nst_video_reader *r);
/* Creates a video of w x h frames at fps_num/fps_den frames a second, the format by
 * the extension (.mp4, .mov, .mkv: H.264; .webm: VP9), written to a temporary file
 * that nst_video_finish renames into place; or a picture sequence (each frame written
 * atomically as it comes). H.264 and VP9 need an even w and h. */
int nst_video_create(nst_video_writer **out, const char *path, int w, int h, int fps_num, int fps_den,
                     nst_error *err);
/* Appends a frame (w x h, as created). */
int nst_video_write(nst_video_writer *v, const nst_image *frame, nst_error *err);
/* ok = 1: flushes the encoder and renames the file into place (a video without frames
 * is refused, NST_ERR_USAGE); ok = 0: removes the temporary file (an existing file of
 * that name is left untouched). A sequence's frames are in place already and stay.
 * Frees v either way; NULL is fine. */
int nst_video_finish(nst_video_writer *v, int ok, nst_error *err);

/* ---- Optical flow (for video) -------------------------------------------------
 * A flow field is (2,h,w), planar: dx then dy, in pixels. The flow from a to b says
 * where each pixel of a is in b: a(p) ~ b(p + flow(p)). Computed by OpenCV's DIS
 * (dense inverse search) when nst was built with it (nst_flow_available()). Each
 * function allocates its output (free it with nst_flow_free or nst_image_free) only
 * when it succeeds: whatever *out held before is neither freed nor changed. Inputs
 * with a NaN or infinite value are refused (NST_ERR_USAGE). */
typedef struct nst_flow {
    int w, h;
    float *data;
} nst_flow;
/* 1 when nst was built with OpenCV and the video plugin (see nst_video_available)
 * loads, else 0 (nst_flow_compute then refuses). */
int nst_flow_available(void);
/* The flow from a to b (pictures of the same size, at least 16x16), into *out
 * (allocated here). DIS (OpenCV's preset MEDIUM, refined down to full resolution) on
 * the pictures' luminance; on one OpenCV thread, so the same pictures always give the
 * same bytes (nst sets OpenCV's thread count, process-wide, to 1). Without OpenCV:
 * NST_ERR_USAGE. */
int nst_flow_compute(nst_flow *out, const nst_image *a, const nst_image *b, nst_error *err);
/* out(p) = img(p + flow(p)), bilinear, clamped at the border: with the flow from frame
 * i to frame i-1, the stylized frame i-1 carried to frame i. img and flow of the same
 * size. */
int nst_flow_warp(nst_image *out, const nst_image *img, const nst_flow *flow, nst_error *err);
/* Ruder et al.'s consistency mask for frame i, from backward = the flow from frame i
 * to i-1 and forward = the flow from i-1 to i: 0 (black) where they disagree
 * (occlusions) or at motion boundaries, 255 (white) elsewhere, in all three channels.
 * With w_b = backward(p) and w_f = forward(p + w_b) (bilinear), p is 0 when p + w_b
 * leaves the picture, when |w_f + w_b|^2 > 0.01 (|w_f|^2 + |w_b|^2) + 0.5, or when
 * |grad u_b|^2 + |grad v_b|^2 > 0.01 |w_b|^2 + 0.002 (central differences, one-sided
 * at the border). */
int nst_flow_consistency(nst_image *mask, const nst_flow *backward, const nst_flow *forward, nst_error *err);
/* Frees; safe on a zeroed or freed flow and on NULL. */
void nst_flow_free(nst_flow *flow);

#ifdef __cplusplus
}
#endif
#endif
