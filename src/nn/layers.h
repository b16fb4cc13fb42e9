// layers.h: VGG's layers on single images, batch 1, planar (C,H,W) float32.
// Forward and backward (to the input only: the weights are frozen).
// Convolutions are 3x3, stride 1, padding 1.
#ifndef NST_LAYERS_H
#define NST_LAYERS_H
#include <stddef.h>

// out is (Cout,H,W), inp is (Cin,H,W), weight is (Cout,Cin,3,3), bias (Cout) or NULL.
void nsti_conv3x3_forward_ref(float *out, const float *inp, const float *weight,
                             const float *bias, int cin, int cout, int h, int w);
// dinp is (Cin,H,W), dout is (Cout,H,W); weight as in the forward pass.
void nsti_conv3x3_backward_ref(float *dinp, const float *dout, const float *weight,
                              int cin, int cout, int h, int w);

// im2col + GEMM. col is scratch of col_floats floats (at least cin*9*w).
void nsti_conv3x3_forward_gemm(float *out, const float *inp, const float *weight,
                              const float *bias, int cin, int cout, int h, int w,
                              float *col, size_t col_floats);
// The gradient to the input of a 3x3 same-padded convolution is itself such a
// convolution, with weights transposed (in<->out) and flipped: this makes them.
// wflip is (Cin,Cout,3,3).
void nsti_conv3x3_flip_weights(float *wflip, const float *weight, int cin, int cout);

// In place. The backward pass masks with the forward output: relu'(x) = (relu(x) > 0).
void nsti_relu_forward(float *x, size_t n);
// dx is (n), y is relu's output (n).
void nsti_relu_backward(float *dx, const float *y, size_t n);

// 2x2 pooling, stride 2; odd sizes are floored as in PyTorch. out is (C,H/2,W/2).
void nsti_maxpool_forward(float *out, const float *inp, int c, int h, int w);
// dinp is (C,H,W), overwritten; each window's gradient goes to its first maximum.
void nsti_maxpool_backward(float *dinp, const float *dout, const float *inp, int c, int h, int w);
void nsti_avgpool_forward(float *out, const float *inp, int c, int h, int w);
void nsti_avgpool_backward(float *dinp, const float *dout, int c, int h, int w);

#endif
