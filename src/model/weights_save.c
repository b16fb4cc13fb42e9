// weights_save.c: writes conv weights as a compact safetensors file. The file is
// built in a temporary sibling and renamed over `path` only once it is complete,
// so a failed save never leaves a half-written model behind.
#include "model/dtype.h"
#include "model/weights.h"
#include "util/atomic_file.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *input_string(const nsti_input_norm *n) {
    return n->bgr ? "caffe: BGR channel order, 0-255 range, mean subtracted"
                  : "torchvision: RGB 0-1, mean/std normalized";
}

static int set_str(json_t *obj, const char *key, const char *val) {
    return json_object_set_new(obj, key, json_string(val));
}

static int set_floats(json_t *obj, const char *key, const float v[3]) {
    char buf[96];
    snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", v[0], v[1], v[2]);
    return set_str(obj, key, buf);
}

// The JSON header (padded with spaces to a multiple of 8, as the format suggests).
static char *make_header(const nsti_vgg_weights *w, int dt, size_t *len) {
    json_t *root = json_object(), *meta = json_object();
    char *text = NULL;
    if (!root || !meta) goto done;
    char layers[32];
    snprintf(layers, sizeof layers, "conv1_1..%s", w->layer[w->n_conv - 1].name);
    int bad = set_str(meta, "input", input_string(&w->norm)) | set_str(meta, "architecture", nsti_layout_arch(w->layer, w->n_conv)) |
              set_str(meta, "layers", layers) | set_floats(meta, "mean", w->norm.mean) |
              set_floats(meta, "std", w->norm.std) | json_object_set(root, "__metadata__", meta);
    size_t offset = 0, esz = (size_t)nsti_dtype_size(dt);
    for (int i = 0; i < w->n_conv && !bad; i++) {
        json_int_t cout = w->layer[i].cout, cin = w->layer[i].cin;
        for (int b = 0; b < 2 && !bad; b++) {
            size_t n = b ? (size_t)cout : (size_t)(cout * cin * 9);
            char key[32];
            snprintf(key, sizeof key, "features.%d.%s", w->layer[i].feature, b ? "bias" : "weight");
            json_t *shape = b ? json_pack("[I]", cout) : json_pack("[I,I,i,i]", cout, cin, 3, 3);
            json_t *e = json_pack("{s:s, s:o, s:[I,I]}", "dtype", nsti_dtype_name(dt), "shape", shape,
                                  "data_offsets", (json_int_t)offset, (json_int_t)(offset + n * esz));
            bad = !e || json_object_set_new(root, key, e);
            offset += n * esz;
        }
    }
    if (bad) goto done;
    text = json_dumps(root, JSON_COMPACT);
    if (!text) goto done;
    size_t n = strlen(text), padded = (n + 7) & ~(size_t)7;
    char *p = realloc(text, padded + 1);
    if (!p) {
        free(text);
        text = NULL;
        goto done;
    }
    text = p;
    memset(text + n, ' ', padded - n);
    text[padded] = 0;
    *len = padded;
done:
    json_decref(meta);
    json_decref(root);
    return text;
}

// Converts all tensors to the file's little-endian layout; refuses values the
// loader would reject (NaN, Inf, or beyond F16's range).
static int make_data(const nsti_vgg_weights *w, int dt, const char *path, uint8_t **out,
                     size_t *out_len, nst_error *err) {
    size_t total = 0, esz = (size_t)nsti_dtype_size(dt);
    for (int i = 0; i < w->n_conv; i++)
        total += (size_t)w->layer[i].cout * ((size_t)w->layer[i].cin * 9 + 1);
    uint8_t *buf = malloc(total * esz), *p = buf;
    if (!buf) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < w->n_conv; i++)
        for (int b = 0; b < 2; b++) {
            const float *src = b ? w->bias[i] : w->weight[i];
            size_t n = b ? (size_t)w->layer[i].cout : (size_t)w->layer[i].cout * (size_t)w->layer[i].cin * 9;
            for (size_t j = 0; j < n; j++) {
                uint32_t u;
                if (dt == NST_DT_F16) {
                    u = nsti_float_to_half(src[j]);
                    *p++ = (uint8_t)u;
                    *p++ = (uint8_t)(u >> 8);
                } else {
                    memcpy(&u, &src[j], 4);
                    for (int k = 0; k < 4; k++) *p++ = (uint8_t)(u >> (8 * k));
                }
                if (!isfinite(src[j]) || (dt == NST_DT_F16 && (u & 0x7c00u) == 0x7c00u)) {
                    free(buf);
                    return nsti_fail(err, NST_ERR_NUMERIC, "%s: %s %s element %zu is %g, not storable as %s",
                                    path, w->layer[i].name, b ? "bias" : "weight", j, src[j],
                                    nsti_dtype_name(dt));
                }
            }
        }
    *out = buf;
    *out_len = total * esz;
    return NST_OK;
}

static int write_all(FILE *fp, const void *p, size_t n) { return fwrite(p, 1, n, fp) == n ? 0 : -1; }

static int write_file(const char *path, const char *header, size_t hlen, const uint8_t *data,
                      size_t dlen, nst_error *err) {
    nst_atomic_file af;
    int rc = nst_atomic_open(&af, path, err);
    if (rc) return rc;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    int bad = write_all(af.f, len8, 8) || write_all(af.f, header, hlen) || write_all(af.f, data, dlen);
    int e = errno;
    rc = nst_atomic_close(&af, !bad, err);
    return bad ? nsti_fail(err, NST_ERR_IO, "%s: cannot write: %s", path, strerror(e)) : rc;
}

int nsti_weights_save(const nsti_vgg_weights *w, const char *path, const char *dtype, nst_error *err) {
    int dt = nsti_dtype_from_name(dtype);
    if (dt != NST_DT_F32 && dt != NST_DT_F16)
        return nsti_fail(err, NST_ERR_USAGE, "%s: cannot save as dtype '%s' (F32 or F16)", path,
                        dtype ? dtype : "(null)");
    if (w->n_conv < 1 || w->n_conv > NST_MAX_CONVS)
        return nsti_fail(err, NST_ERR_USAGE, "%s: cannot save %d conv layers", path, w->n_conv);
    for (int i = 0; i < w->n_conv; i++)
        if (!w->weight[i] || !w->bias[i])
            return nsti_fail(err, NST_ERR_USAGE, "%s: %s has no weights to save", path, w->layer[i].name);
    uint8_t *data = NULL;
    size_t dlen = 0, hlen = 0;
    int rc = make_data(w, dt, path, &data, &dlen, err);
    if (rc != NST_OK) return rc;
    char *header = make_header(w, dt, &hlen);
    if (!header) rc = nsti_fail(err, NST_ERR_NOMEM, "%s: cannot build the header", path);
    else rc = write_file(path, header, hlen, data, dlen, err);
    free(header);
    free(data);
    return rc;
}
