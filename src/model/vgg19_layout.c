// vgg19_layout.c: where VGG19's 16 conv layers sit in torchvision's `features`
// Sequential (ReLUs and max-pools take the other indices) and their channel counts.
#include "model/weights.h"

static const struct { int feature, cin, cout; const char *name; } layout[NST_VGG_CONVS] = {
    {0, 3, 64, "conv1_1"},      {2, 64, 64, "conv1_2"},
    {5, 64, 128, "conv2_1"},    {7, 128, 128, "conv2_2"},
    {10, 128, 256, "conv3_1"},  {12, 256, 256, "conv3_2"},
    {14, 256, 256, "conv3_3"},  {16, 256, 256, "conv3_4"},
    {19, 256, 512, "conv4_1"},  {21, 512, 512, "conv4_2"},
    {23, 512, 512, "conv4_3"},  {25, 512, 512, "conv4_4"},
    {28, 512, 512, "conv5_1"},  {30, 512, 512, "conv5_2"},
    {32, 512, 512, "conv5_3"},  {34, 512, 512, "conv5_4"},
};

static int valid(int i) { return i >= 0 && i < NST_VGG_CONVS; }

int nst_vgg_cin(int i) { return valid(i) ? layout[i].cin : 0; }
int nst_vgg_cout(int i) { return valid(i) ? layout[i].cout : 0; }
const char *nst_vgg_conv_name(int i) { return valid(i) ? layout[i].name : NULL; }
int nst_vgg_feature_index(int i) { return valid(i) ? layout[i].feature : -1; }
