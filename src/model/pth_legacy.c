// pth_legacy.c: torch.save's format before PyTorch 1.6 (torchvision's and
// neural-style-pt's VGG19 files among others). The pickles come first, then each
// listed storage as an 8-byte little-endian element count and its raw elements.
// The pickles' length is unknown until parsed, so a prefix of the file is read and
// doubled while the parser runs off its end. Anything after the last storage is
// refused, like every other length that does not add up.
#include "model/pth_legacy.h"
#include "model/dtype.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PICKLE ((uint64_t)64 << 20)    // as for the zip format's data.pkl
#define MAX_STORAGE ((uint64_t)2 << 30)    // the largest VGG19 tensor is ~400 MB
#define FIRST_READ ((uint64_t)64 << 10)    // a VGG19 state dict's pickles take ~6 KB

// One listed storage: its type and size come from the tensors that use it.
typedef struct storage {
    const char *key;
    int dtype;           // -1 until a tensor uses it
    int64_t numel;
    uint64_t at;         // file offset of its first element
} storage;

static int by_key(const void *a, const void *b) {
    return strcmp((*(const storage *const *)a)->key, (*(const storage *const *)b)->key);
}

static int read_at(FILE *fp, uint64_t off, void *buf, size_t n) {
    return fseeko(fp, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n ? 0 : -1;
}

// Reads growing prefixes of the file until the pickles parse (or fail for good).
static int parse_pickles(FILE *fp, const char *path, uint64_t size, nsti_pkl_legacy *l, nst_error *err) {
    uint64_t cap = size < MAX_PICKLE ? size : MAX_PICKLE, want = cap < FIRST_READ ? cap : FIRST_READ;
    uint8_t *buf = NULL;
    int rc;
    for (;;) {
        uint8_t *nb = realloc(buf, want ? (size_t)want : 1);
        if (!nb) {
            free(buf);
            return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        }
        buf = nb;
        if (read_at(fp, 0, buf, (size_t)want)) {
            free(buf);
            return nsti_fail(err, NST_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        }
        rc = nsti_pkl_legacy_parse(buf, (size_t)want, path, l, err);
        if (rc == NST_OK || !l->truncated || want == cap) break;
        want = 2 * want < cap ? 2 * want : cap;
    }
    free(buf);
    if (rc != NST_OK && l->truncated && cap < size)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: legacy torch.save pickles larger than the limit of %llu bytes",
                        path, (unsigned long long)MAX_PICKLE);
    return rc;
}

// Gives each listed storage the dtype and size its tensors declare; every tensor's
// storage must be listed, once, and every listed one used (else its size is unknown).
static int match_storages(const char *path, const nsti_pkl_legacy *l, storage *s, storage **sorted,
                          nst_error *err) {
    for (int i = 0; i < l->n_keys; i++) {
        s[i] = (storage){.key = l->keys[i], .dtype = -1};
        sorted[i] = &s[i];
    }
    qsort(sorted, (size_t)l->n_keys, sizeof *sorted, by_key);
    for (int i = 1; i < l->n_keys; i++)
        if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: legacy torch.save: storage %s is listed twice", path,
                            sorted[i]->key);
    for (int i = 0; i < l->n; i++) {
        const nsti_pkl_tensor *t = &l->t[i];
        storage probe = {.key = t->storage_key}, *pp = &probe;
        storage **hit = bsearch(&pp, sorted, (size_t)l->n_keys, sizeof *sorted, by_key);
        if (!hit)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: legacy torch.save: tensor %s: storage %s is missing",
                            path, t->name, t->storage_key);
        storage *st = *hit;
        if (st->dtype < 0) {
            st->dtype = t->dtype;
            st->numel = t->storage_numel;
        } else if (st->dtype != t->dtype || st->numel != t->storage_numel)
            return nsti_fail(err, NST_ERR_FORMAT,
                            "%s: legacy torch.save: tensors disagree on the type or size of storage %s",
                            path, st->key);
    }
    for (int i = 0; i < l->n_keys; i++)
        if (s[i].dtype < 0)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: legacy torch.save: storage %s is listed but no tensor uses it",
                            path, s[i].key);
    return NST_OK;
}

// Walks the storages in file order: each count must equal what the pickle declared
// and its data must lie inside the file; the last one must end the file.
static int walk_storages(FILE *fp, const char *path, uint64_t size, uint64_t off, storage *s, int n,
                         nst_error *err) {
    for (int i = 0; i < n; i++) {
        uint8_t c[8];
        if (off > size || size - off < 8)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: legacy torch.save: truncated at the element count of storage %s",
                            path, s[i].key);
        if (read_at(fp, off, c, 8)) return nsti_fail(err, NST_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        uint64_t count = 0;
        for (int k = 7; k >= 0; k--) count = count << 8 | c[k];
        if (count != (uint64_t)s[i].numel)
            return nsti_fail(err, NST_ERR_FORMAT,
                            "%s: legacy torch.save: storage %s holds %llu elements, but the pickle declares %lld",
                            path, s[i].key, (unsigned long long)count, (long long)s[i].numel);
        uint64_t esz = (uint64_t)nsti_dtype_size(s[i].dtype);
        if (count > MAX_STORAGE / esz)
            return nsti_fail(err, NST_ERR_LIMIT, "%s: legacy torch.save: storage %s: %llu elements exceed the limit of %llu bytes",
                            path, s[i].key, (unsigned long long)count, (unsigned long long)MAX_STORAGE);
        off += 8;
        if (count * esz > size - off)
            return nsti_fail(err, NST_ERR_FORMAT,
                            "%s: legacy torch.save: storage %s needs %llu bytes, but the file ends after %llu (truncated)",
                            path, s[i].key, (unsigned long long)(count * esz), (unsigned long long)(size - off));
        s[i].at = off;
        off += count * esz;
    }
    if (off != size)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: legacy torch.save: %llu bytes after the last storage", path,
                        (unsigned long long)(size - off));
    return NST_OK;
}

int nsti_pth_legacy_index(FILE *fp, const char *path, nsti_pkl_tensor **t, int *n, uint64_t **at,
                         nst_error *err) {
    *t = NULL;
    *n = 0;
    *at = NULL;
    off_t end = fseeko(fp, 0, SEEK_END) == 0 ? ftello(fp) : -1;
    if (end < 0) return nsti_fail(err, NST_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
    uint64_t size = (uint64_t)end;
    nsti_pkl_legacy l;
    int rc = parse_pickles(fp, path, size, &l, err);
    if (rc != NST_OK) return rc;
    storage *s = calloc(l.n_keys ? (size_t)l.n_keys : 1, sizeof *s);
    storage **sorted = calloc(l.n_keys ? (size_t)l.n_keys : 1, sizeof *sorted);
    uint64_t *off = calloc(l.n ? (size_t)l.n : 1, sizeof *off);
    if (!s || !sorted || !off) rc = nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (rc == NST_OK) rc = match_storages(path, &l, s, sorted, err);
    if (rc == NST_OK) rc = walk_storages(fp, path, size, l.data_start, s, l.n_keys, err);
    for (int i = 0; rc == NST_OK && i < l.n; i++) {
        storage probe = {.key = l.t[i].storage_key}, *pp = &probe;
        storage **hit = bsearch(&pp, sorted, (size_t)l.n_keys, sizeof *sorted, by_key);
        off[i] = (*hit)->at + (uint64_t)l.t[i].offset * (uint64_t)nsti_dtype_size(l.t[i].dtype);
    }
    free(s);
    free(sorted);
    if (rc != NST_OK) {
        free(off);
        nsti_pkl_legacy_free(&l);
        return rc;
    }
    *t = l.t;
    *n = l.n;
    *at = off;
    l.t = NULL;
    l.n = 0;
    nsti_pkl_legacy_free(&l);
    return NST_OK;
}
