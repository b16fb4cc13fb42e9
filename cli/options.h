// options.h: the command line of `nst` (run mode), and --config files.
#ifndef NST_CLI_OPTIONS_H
#define NST_CLI_OPTIONS_H
#include <jansson.h>
#include <stdio.h>
#include "nst.h"

#define CLI_MAX_SCALES 16
#define CLI_POOL_BYTES 65536   // the strings read from --config files
enum { CLI_FLOW_DIS = 0, CLI_FLOW_NONE = 1 };
// nst video's default --temporal-weight (measured: README, "Video")
#define CLI_VIDEO_TEMPORAL_WEIGHT "50"

typedef struct cli_options {
    const char *content;
    char styles[NST_MAX_STYLES][1024];
    int n_styles;
    const char *output;
    const char *model;
    const char *log_path;
    const char *init_path;       // --init FILE
    int size;
    float style_scale;
    long long max_pixels;
    int save_every;
    int quiet;
    const char *plot_path;       // --plot FILE.svg|FILE.png
    const char *animate_path;    // --animate FILE.gif
    int animate_every;           // --animate-every N; 0: iterations/50, at least 1
    const char *contact_path;    // --contact-sheet FILE
    // --iterations N[,N...]: one value (also in params.iterations), or one per scale
    int iterations[CLI_MAX_SCALES];
    int n_iterations;
    int scales[CLI_MAX_SCALES];  // --scales: ascending longest sides; n_scales 0 without
    int n_scales;
    int scales_auto;             // 1: the stages above came from nst_schedule (--scales auto)
    int n_blend;                 // weights given to --style-blend-weights (0: none)
    char style_masks[NST_MAX_STYLES][1024];   // --style-mask, one per style
    int n_style_masks;
    const char *content_mask;    // --content-mask FILE
    const char *preset;          // the last --preset given (NULL: none)
    const char *model_input;     // --model-input caffe|torchvision (NULL: auto)
    int max_memory_given;        // --max-memory was given (else the physical memory)
    // nst video (the options of the table's video group; refused elsewhere)
    int video;                   // 1: a video run
    int flow;                    // --flow: CLI_FLOW_DIS or CLI_FLOW_NONE
    int frame_iterations;        // --frame-iterations N: frames after the first (0: half of the first's)
    int temporal_frames[NST_MAX_TEMPORAL];   // --temporal-frames 1,2,4: earlier frames each frame is tied to
    int n_temporal_frames;
    int fps;                     // --fps N: a picture sequence's frame rate
    nst_params params;
    char pool[CLI_POOL_BYTES];   // storage for strings from --config
    size_t pool_used;
} cli_options;

// o's state before any option: the defaults of the library and of the CLI.
void cli_options_default(cli_options *o);
// The same for a picture run (video 0) or a video run (1: nst video's options apply, with their defaults).
void cli_options_default_mode(cli_options *o, int video);
// Parses argv into o (defaults first). Returns 0 to run, 1 when --help or
// --version was printed, -1 on an error (message and code in err: NST_ERR_USAGE for
// a usage error, NST_ERR_IO / NST_ERR_FORMAT for a --config file that cannot be read
// or is not a JSON object).
int cli_parse(cli_options *o, int argc, char **argv, nst_error *err);
// The same for `nst video` (argv after "video"): the video options apply, with their defaults.
int cli_parse_video(cli_options *o, int argc, char **argv, nst_error *err);
// Parses one JSON object, as a --config file holding only it, into o (defaults first):
// the same keys, then the same checks as cli_parse. label (a file, "JOBS.jsonl:3")
// begins every message. Returns 0 to run, or -1 (message and code in err).
int cli_parse_json(cli_options *o, const char *label, const json_t *obj, nst_error *err);
// The same for a video run (video 1: nst video's options apply) or a picture's (0).
int cli_parse_json_mode(cli_options *o, int video, const char *label, const json_t *obj, nst_error *err);
// The JSON object in a file (a --config file, OUTPUT.json): json_decref it after; NULL
// (err set: NST_ERR_IO unreadable, NST_ERR_FORMAT not JSON or not an object) on failure.
json_t *cli_read_json_object(const char *path, nst_error *err);
// --help, from the option table (help.c).
void cli_usage(FILE *out);
// The model path: --model, else $NST_MODEL, else the per-user default.
const char *cli_model_path(const cli_options *o, char *buf, size_t n);
const char *cli_default_model_path(char *buf, size_t n);
// Style s (loaded at full size) as the run will resize it (--size, --style-scale): NST_OK,
// or NST_ERR_LIMIT when a --style-scale above 1 would take it past --max-pixels, before
// anything is resized.
int cli_check_style_size(const cli_options *o, int s, const nst_image *style_full, nst_error *err);
// nst_resolve_layers for a run of o on model m (from model_path); a layer the model lacks
// is said with the file's name and the options that choose layers.
int cli_resolve_layers(const cli_options *o, const nst_model *m, const char *model_path, char *content, size_t content_len,
                       char *style, size_t style_len, nst_error *err);
// This machine's physical memory in bytes (0 when unknown): --max-memory's default.
unsigned long long cli_physical_memory(void);
// Parses a byte count: digits with an optional fraction and suffix K, M, G or T
// (powers of 1024; "KiB", "KB", "k" and so on too). Returns 0, or -1 when s is not one.
int cli_parse_bytes(const char *s, unsigned long long *out);

#endif
