// weights.h: VGG19 conv weights loaded from safetensors or torchvision .pth.
#ifndef NST_WEIGHTS_H
#define NST_WEIGHTS_H
#include <stdint.h>
#include "util/status.h"

#define NST_VGG_CONVS 16

// How a model expects its input image: x[c] = (rgb[src(c)] * scale - mean[c]) / std[c],
// where rgb is 0..255 and src(c) reverses the channel order when bgr is set.
typedef struct nst_input_norm {
    int bgr;          // 1: channel 0 of the model input is blue
    float scale;      // 1 (caffe: 0..255) or 1/255 (torchvision: 0..1)
    float mean[3];    // in the model's channel order, after scaling
    float std[3];     // 1,1,1 for caffe
    const char *name; // "caffe" or "torchvision"
} nst_input_norm;

extern const nst_input_norm nst_norm_caffe;
extern const nst_input_norm nst_norm_torchvision;

typedef struct nst_vgg_weights {
    int n_conv;                    // conv layers present: conv1_1 .. the n_conv-th, contiguous
    float *weight[NST_VGG_CONVS];  // (Cout, Cin, 3, 3) float32, owned
    float *bias[NST_VGG_CONVS];    // (Cout) float32, owned
    nst_input_norm norm;           // from metadata, else the format's convention
    int norm_from_metadata;        // 1 when the file stated its input convention
    char norm_reason[192];         // how the convention was decided, for `nst model info`
    char dtype[8];                 // dtype stored in the file: "F32", "F16" or "BF16"
} nst_vgg_weights;

// VGG19's conv shapes: channels in and out of conv layer i (0-based), names "conv1_1"...
int nst_vgg_cin(int i);
int nst_vgg_cout(int i);
const char *nst_vgg_conv_name(int i);
int nst_vgg_feature_index(int i);   // torchvision features.N index of conv i

// Loads by content (zip magic -> .pth, else safetensors). Checks every shape against
// VGG19, rejects NaN/Inf, ignores classifier.*, accepts keys with or without "features.".
int nst_weights_load(nst_vgg_weights *w, const char *path, nst_error *err);
// Overrides the input convention ("caffe" or "torchvision"), as --model-input does.
int nst_weights_set_input(nst_vgg_weights *w, const char *convention, nst_error *err);
void nst_weights_free(nst_vgg_weights *w);
// Writes a compact conv-only safetensors file (dtype "F32" or "F16") with the input
// convention in __metadata__, atomically (temporary file, then rename).
int nst_weights_save(const nst_vgg_weights *w, const char *path, const char *dtype, nst_error *err);

#endif
