// term_tv.c: total variation of the picture, in 0..1 units under AUTO (the picture is
// in pixels: / 255^2), in the model's own units under RAW.
#include "transfer/terms.h"
#include "transfer/objective.h"
#include "loss/losses.h"

static void eval_image(nsti_term *t, nsti_objective *obj, const float *v, float *grad) {
    if (t->weight == 0) return;
    t->last = nsti_tv_loss(grad, v, 3, obj->net.h[0], obj->net.w[0],
                       obj->auto_scale ? t->weight / (255.0f * 255.0f) : t->weight);
}

const nsti_term_kind nsti_term_tv = {.name = "tv", .source = NST_TARGET_NONE, .eval_image = eval_image};
