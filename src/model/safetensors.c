// safetensors.c: reads a whole safetensors file and validates its header before
// any tensor is touched: every tensor's byte range must match its shape and dtype,
// lie inside the data section and not overlap another tensor.
#include "model/safetensors.h"
#include "model/dtype.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_MAX_HEADER (100u * 1000u * 1000u)  // 100 MB, as the format's own readers
#define ST_MAX_DIMS 8
#define ST_MAX_NUMEL ((int64_t)1 << 40)       // far above any real tensor, no overflow

typedef struct st_tensor {
    char *name;
    int dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;  // byte offsets inside the data section
} st_tensor;

struct nsti_st_file {
    char *path;         // for messages
    uint8_t *buf;       // the whole file
    size_t size;
    size_t data_start;  // 8 + header length
    st_tensor *t;
    int n;
    char **meta_key, **meta_val;
    int n_meta;
};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

// Reads all of `path` into a malloc'd buffer.
static int read_file(const char *path, uint8_t **out, size_t *out_size, nst_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return nsti_fail(err, NST_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX / 2) {
        fclose(fp);
        return nsti_fail(err, NST_ERR_LIMIT, "%s: file too large (%lld bytes)", path,
                        (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(fp);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, fp);
    int failed = ferror(fp);
    fclose(fp);
    if (got != size || failed) {
        free(buf);
        return nsti_fail(err, NST_ERR_IO, "%s: read %zu of %zu bytes", path, got, size);
    }
    *out = buf;
    *out_size = size;
    return NST_OK;
}

void nsti_st_close(nsti_st_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->n_meta; i++) { free(f->meta_key[i]); free(f->meta_val[i]); }
    free(f->t);
    free(f->meta_key);
    free(f->meta_val);
    free(f->buf);
    free(f->path);
    free(f);
}

static int parse_metadata(nsti_st_file *f, json_t *meta, nst_error *err) {
    if (!json_is_object(meta))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: __metadata__ is not an object", f->path);
    size_t cap = json_object_size(meta);
    f->meta_key = calloc(cap ? cap : 1, sizeof *f->meta_key);
    f->meta_val = calloc(cap ? cap : 1, sizeof *f->meta_val);
    if (!f->meta_key || !f->meta_val)
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", f->path);
    const char *key;
    json_t *val;
    json_object_foreach(meta, key, val) {
        if (!json_is_string(val))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: __metadata__ value of '%s' is not a string",
                            f->path, key);
        int i = f->n_meta;
        f->meta_key[i] = dup_str(key);
        f->meta_val[i] = dup_str(json_string_value(val));
        if (!f->meta_key[i] || !f->meta_val[i]) {
            free(f->meta_key[i]);
            free(f->meta_val[i]);
            return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", f->path);
        }
        f->n_meta++;
    }
    return NST_OK;
}

// Fills t (whose name is set) from its JSON entry, checking it against the data size.
static int parse_tensor(const nsti_st_file *f, st_tensor *t, json_t *e, uint64_t data_len,
                        nst_error *err) {
    const char *p = f->path, *nm = t->name;
    if (!json_is_object(e))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: header entry is not an object", p, nm);
    json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape");
    json_t *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: missing or non-string dtype", p, nm);
    t->dtype = nsti_dtype_from_name(json_string_value(jd));
    if (t->dtype < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: unsupported dtype '%s' (F32, F16, BF16)",
                        p, nm, json_string_value(jd));
    if (!json_is_array(js))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: missing or non-array shape", p, nm);
    if (json_array_size(js) > ST_MAX_DIMS)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: %zu dimensions (at most %d)", p, nm,
                        json_array_size(js), ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        json_t *v = json_array_get(js, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: shape[%d] is not a non-negative integer",
                            p, nm, d);
        t->shape[d] = (int64_t)json_integer_value(v);
        if (t->shape[d] > ST_MAX_NUMEL || (t->shape[d] && numel > ST_MAX_NUMEL / t->shape[d]))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: shape has too many elements", p, nm);
        numel *= t->shape[d];
    }
    if (!json_is_array(jo) || json_array_size(jo) != 2 ||
        !json_is_integer(json_array_get(jo, 0)) || !json_is_integer(json_array_get(jo, 1)))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: data_offsets is not a pair of integers",
                        p, nm);
    long long b = json_integer_value(json_array_get(jo, 0));
    long long en = json_integer_value(json_array_get(jo, 1));
    if (b < 0 || en < 0 || en < b)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: data offsets [%lld, %lld] are reversed or negative",
                        p, nm, b, en);
    if ((uint64_t)en > data_len)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s: data offsets [%lld, %lld] past the end of the file (%zu bytes)",
                        p, nm, b, en, f->size);
    uint64_t want = (uint64_t)numel * (uint64_t)nsti_dtype_size(t->dtype);
    if ((uint64_t)(en - b) != want)
        return nsti_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s: data offsets [%lld, %lld] hold %lld bytes, but shape and dtype need %llu",
                        p, nm, b, en, en - b, (unsigned long long)want);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)en;
    return NST_OK;
}

static int by_begin(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

// Two tensors may not share bytes: sort by start and compare neighbours.
static int check_overlap(const nsti_st_file *f, nst_error *err) {
    const st_tensor **order = malloc((size_t)(f->n ? f->n : 1) * sizeof *order);
    if (!order) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", f->path);
    int k = 0;
    for (int i = 0; i < f->n; i++)
        if (f->t[i].end > f->t[i].begin) order[k++] = &f->t[i];  // empty tensors own no bytes
    qsort(order, (size_t)k, sizeof *order, by_begin);
    int rc = NST_OK;
    for (int i = 1; i < k && rc == NST_OK; i++) {
        const st_tensor *a = order[i - 1], *b = order[i];
        if (b->begin < a->end)
            rc = nsti_fail(err, NST_ERR_FORMAT,
                          "%s: tensors %s [%llu, %llu] and %s [%llu, %llu] overlap", f->path,
                          a->name, (unsigned long long)a->begin, (unsigned long long)a->end,
                          b->name, (unsigned long long)b->begin, (unsigned long long)b->end);
    }
    free(order);
    return rc;
}

static int parse_header(nsti_st_file *f, nst_error *err) {
    const char *p = f->path;
    if (f->size == 0) return nsti_fail(err, NST_ERR_FORMAT, "%s: empty file", p);
    if (f->size < 8)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: file too short for a safetensors header (%zu bytes)",
                        p, f->size);
    // The header is JSON text right after its 8-byte length. A file with a binary byte there
    // is no model at all (the sniffing before found no zip, pickle or HDF5 signature either).
    unsigned char first = f->size > 8 ? f->buf[8] : 0;
    if (f->size > 8 && (first < 0x20 || first > 0x7e) && first != '\t' && first != '\n' && first != '\r')
        return nsti_fail(err, NST_ERR_FORMAT,
                         "%s: not a model file (not safetensors, nor torch.save's .pth, nor Keras' .h5)", p);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->buf[i];
    if (hlen > ST_MAX_HEADER)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: not a model file, or a damaged one: read as safetensors, its header would be %llu bytes "
                         "(at most 100 MB); nor is it a .pth or .h5 file", p,
                        (unsigned long long)hlen);
    if (hlen > f->size - 8)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: header length %llu past the end of the file (%zu bytes)",
                        p, (unsigned long long)hlen, f->size);
    f->data_start = 8 + (size_t)hlen;
    uint64_t data_len = f->size - f->data_start;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)f->buf + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: header is not valid JSON: %s (line %d, column %d)", p,
                        jerr.text, jerr.line, jerr.column);
    int rc = NST_OK;
    if (!json_is_object(root)) {
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: header is not a JSON object", p);
        goto done;
    }
    size_t cap = json_object_size(root);
    f->t = calloc(cap ? cap : 1, sizeof *f->t);
    if (!f->t) {
        rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", p);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            rc = parse_metadata(f, val, err);
        } else {
            st_tensor *t = &f->t[f->n];
            t->name = dup_str(key);
            if (!t->name) rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", p);
            else {
                f->n++;
                rc = parse_tensor(f, t, val, data_len, err);
            }
        }
        if (rc != NST_OK) goto done;
    }
    rc = check_overlap(f, err);
done:
    json_decref(root);
    return rc;
}

int nsti_st_open(nsti_st_file **out, const char *path, nst_error *err) {
    *out = NULL;
    nsti_st_file *f = calloc(1, sizeof *f);
    if (!f) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    f->path = dup_str(path);
    int rc = f->path ? NST_OK : nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (rc == NST_OK) rc = read_file(path, &f->buf, &f->size, err);
    if (rc == NST_OK) rc = parse_header(f, err);
    if (rc != NST_OK) {
        nsti_st_close(f);
        return rc;
    }
    *out = f;
    return NST_OK;
}

int nsti_st_count(const nsti_st_file *f) { return f->n; }

const char *nsti_st_name(const nsti_st_file *f, int i) {
    return i >= 0 && i < f->n ? f->t[i].name : NULL;
}

const char *nsti_st_metadata(const nsti_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_key[i], key) == 0) return f->meta_val[i];
    return NULL;
}

int nsti_st_metadata_count(const nsti_st_file *f) { return f->n_meta; }

static const st_tensor *find(const nsti_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *nsti_st_dtype(const nsti_st_file *f, const char *name) {
    const st_tensor *t = find(f, name);
    return t ? nsti_dtype_name(t->dtype) : NULL;
}

int nsti_st_read_f32(nsti_st_file *f, const char *name, float **data, int64_t shape[8],
                    int *ndim, nst_error *err) {
    *data = NULL;
    const st_tensor *t = find(f, name);
    if (!t) return nsti_fail(err, NST_ERR_MODEL, "%s: no tensor named %s", f->path, name);
    size_t n = (size_t)((t->end - t->begin) / (uint64_t)nsti_dtype_size(t->dtype));
    float *d = malloc(n ? n * sizeof *d : 1);
    if (!d) return nsti_fail(err, NST_ERR_NOMEM, "%s: tensor %s: out of memory", f->path, name);
    nsti_dtype_to_f32(t->dtype, f->buf + f->data_start + t->begin, d, n);
    for (int i = 0; i < 8; i++) shape[i] = i < t->ndim ? t->shape[i] : 0;
    *ndim = t->ndim;
    *data = d;
    return NST_OK;
}
