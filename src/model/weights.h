// weights.h: a VGG network's conv weights loaded from safetensors, torchvision .pth or
// Keras HDF5, and the network's layer table, derived from the file (see layout.c).
#ifndef NST_WEIGHTS_H
#define NST_WEIGHTS_H
#include <stdint.h>
#include "util/status.h"

// Capacity, not an architecture: VGG19 has 16 conv layers, VGG16 13.
#define NST_MAX_CONVS 32

// One conv layer of the table: 3x3, stride 1, padding 1, then a ReLU; a 2x2 pooling
// may precede it. Names count blocks (a block ends at a pooling): "conv3_2".
typedef struct nsti_conv_layer {
    int feature;       // its index in torchvision's `features` Sequential
    int cin, cout;     // channels in and out
    int pool_before;   // 1: a 2x2 pooling precedes it
    int block, sub;    // convBLOCK_SUB, both from 1
    char name[32];     // "conv3_2"
} nsti_conv_layer;

// How a model expects its input image: x[c] = (rgb[src(c)] * scale - mean[c]) / std[c],
// where rgb is 0..255 and src(c) reverses the channel order when bgr is set.
typedef struct nsti_input_norm {
    int bgr;          // 1: channel 0 of the model input is blue
    float scale;      // 1 (caffe: 0..255) or 1/255 (torchvision: 0..1)
    float mean[3];    // in the model's channel order, after scaling
    float std[3];     // 1,1,1 for caffe
    const char *name; // "caffe" or "torchvision"
} nsti_input_norm;

extern const nsti_input_norm nsti_norm_caffe;
extern const nsti_input_norm nsti_norm_torchvision;

typedef struct nsti_vgg_weights {
    int n_conv;                          // conv layers present: conv1_1 .. the n_conv-th, contiguous
    nsti_conv_layer layer[NST_MAX_CONVS]; // the layer table, from the file's tensors
    float *weight[NST_MAX_CONVS];        // (Cout, Cin, 3, 3) float32, owned
    float *bias[NST_MAX_CONVS];          // (Cout) float32, owned
    nsti_input_norm norm;           // from metadata, else the format's convention
    int norm_from_metadata;        // 1 when the file stated its input convention
    char norm_reason[192];         // how the convention was decided, for `nst model info`
    char dtype[8];                 // dtype stored in the file: "F32", "F16" or "BF16"
} nsti_vgg_weights;

// The layer table from the conv layers' `features` indices: a ReLU follows each conv,
// so the next conv is 2 indices on, or 3 when a pooling sits between. Sets
// layer[i].feature/pool_before/block/sub/name for i < n (channels are left to the
// caller). Returns 0, or -1 with *bad set to the first index that breaks the rule.
int nsti_layout_from_features(nsti_conv_layer *layer, const int *feature, int n, int *bad);
// "vgg19", "vgg16", "vgg13" or "vgg11" when the table is all of one of those, else
// "vgg" (a part of one, or another stack of 3x3 convs).
const char *nsti_layout_arch(const nsti_conv_layer *layer, int n);
// Index of the layer named "conv3_2" (or "relu3_2": relu set to 1), -1 if none.
int nsti_layout_find(const nsti_conv_layer *layer, int n, const char *name, int *relu);

// Loads by content (zip magic -> .pth, else safetensors). The layer table comes from
// the tensors' names and shapes, each checked against the layer before it; rejects
// NaN/Inf, ignores classifier.*, accepts keys with or without "features.".
int nsti_weights_load(nsti_vgg_weights *w, const char *path, nst_error *err);
// Overrides the input convention ("caffe" or "torchvision"), as --model-input does.
int nsti_weights_set_input(nsti_vgg_weights *w, const char *convention, nst_error *err);
void nsti_weights_free(nsti_vgg_weights *w);
// Writes a compact conv-only safetensors file (dtype "F32" or "F16") with the input
// convention in __metadata__, atomically (temporary file, then rename).
int nsti_weights_save(const nsti_vgg_weights *w, const char *path, const char *dtype, nst_error *err);

#endif
