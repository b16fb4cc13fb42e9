// layout.c: a VGG network's layer table, derived from where its conv layers sit in
// torchvision's `features` Sequential. Between two convs there is a ReLU (indices 2
// apart) or a ReLU and a pooling (3 apart); a pooling ends a block. VGG11..19 all
// follow this rule, so the table is data read from the model file, not a constant.
#include "model/weights.h"
#include <stdio.h>
#include <string.h>

int nsti_layout_from_features(nsti_conv_layer *layer, const int *feature, int n, int *bad) {
    int block = 1, sub = 0;
    for (int i = 0; i < n; i++) {
        int gap = i ? feature[i] - feature[i - 1] : 2;
        if ((i == 0 && feature[0] != 0) || (gap != 2 && gap != 3)) {   // conv1_1 is features.0
            *bad = i;
            return -1;
        }
        layer[i].feature = feature[i];
        layer[i].pool_before = gap == 3 && i > 0;
        if (layer[i].pool_before) block++, sub = 0;
        layer[i].block = block;
        layer[i].sub = ++sub;
        snprintf(layer[i].name, sizeof layer[i].name, "conv%d_%d", block, sub);
    }
    return 0;
}

const char *nsti_layout_arch(const nsti_conv_layer *layer, int n) {
    static const struct { const char *name; int per_block[5]; } known[] = {
        {"vgg19", {2, 2, 4, 4, 4}}, {"vgg16", {2, 2, 3, 3, 3}},
        {"vgg13", {2, 2, 2, 2, 2}}, {"vgg11", {1, 1, 2, 2, 2}},
    };
    int per_block[6] = {0};
    for (int i = 0; i < n; i++) {
        if (layer[i].block > 5) return "vgg";
        per_block[layer[i].block]++;
    }
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        if (!memcmp(per_block + 1, known[k].per_block, sizeof known[k].per_block)) return known[k].name;
    return "vgg";
}

int nsti_layout_find(const nsti_conv_layer *layer, int n, const char *name, int *relu) {
    if (strncmp(name, "conv", 4) == 0) *relu = 0;
    else if (strncmp(name, "relu", 4) == 0) *relu = 1;
    else return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(layer[i].name + 4, name + 4)) return i;
    return -1;
}
