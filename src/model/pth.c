// pth.c: the zip side of torch's format, through libzip. Entry sizes come from the
// central directory; every read is checked to deliver exactly that many bytes
// (libzip verifies the CRC when an entry is read to its end). Files in the legacy
// (pre-1.6) format are indexed by model/pth_legacy.c and read here with stdio.
#include "model/pth.h"
#include "model/dtype.h"
#include "model/pickle.h"
#include "model/pth_legacy.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#define MAX_PICKLE ((zip_uint64_t)64 << 20)   // a VGG19 state dict's data.pkl is ~5 KB
#define MAX_STORAGE ((zip_uint64_t)2 << 30)   // the largest VGG19 tensor is ~400 MB

struct nsti_pth_file {
    char *path;
    zip_t *zip;
    char *prefix;       // "<prefix>/", owned
    nsti_pkl_tensor *t;
    int n;
    FILE *fp;           // legacy format: the open file, and each tensor's
    uint64_t *at;       // file offset of its first element
};

void nsti_pth_close(nsti_pth_file *f) {
    if (!f) return;
    if (f->zip) zip_discard(f->zip);  // read-only: nothing to write back
    if (f->fp) fclose(f->fp);
    free(f->at);
    nsti_pkl_free(f->t, f->n);
    free(f->prefix);
    free(f->path);
    free(f);
}

static int open_zip(nsti_pth_file *f, nst_error *err) {
    int code = 0;
    // ZIP_CHECKCONS: also compare local headers with the central directory.
    f->zip = zip_open(f->path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (f->zip) return NST_OK;
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    int rc;
    if (code == ZIP_ER_NOENT && access(f->path, R_OK) == 0)   // the file is there: a record it points to is not
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: malformed zip archive: a record it points to is missing (such as a "
                      "zip64 record for a size of 0xffffffff)", f->path);
    else
        rc = nsti_fail(err, code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_NOENT ? NST_ERR_IO : NST_ERR_FORMAT,
                      "%s: cannot open as a zip archive: %s", f->path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return rc;
}

// Finds the single "<prefix>/data.pkl" entry and remembers the prefix.
static int find_pickle(nsti_pth_file *f, zip_int64_t *idx, nst_error *err) {
    zip_int64_t n = zip_get_num_entries(f->zip, 0);
    *idx = -1;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(f->zip, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!name) continue;
        const char *slash = strchr(name, '/');
        if (!slash || slash == name || strcmp(slash, "/data.pkl") != 0) continue;
        if (*idx >= 0)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: more than one data.pkl in the archive", f->path);
        *idx = i;
        size_t plen = (size_t)(slash - name) + 1;
        if (plen > 256) return nsti_fail(err, NST_ERR_FORMAT, "%s: data.pkl prefix too long", f->path);
        f->prefix = malloc(plen + 1);
        if (!f->prefix) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", f->path);
        memcpy(f->prefix, name, plen);
        f->prefix[plen] = 0;
    }
    if (*idx < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: zip archive without <name>/data.pkl: not a torch.save file",
                        f->path);
    return NST_OK;
}

static int entry_size(nsti_pth_file *f, zip_int64_t idx, const char *what, zip_uint64_t cap,
                      zip_uint64_t *size, nst_error *err) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(f->zip, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: no size: %s", f->path, what,
                        zip_strerror(f->zip));
    if (st.size > cap)
        return nsti_fail(err, NST_ERR_LIMIT, "%s: zip entry %s: %llu bytes exceeds the limit of %llu",
                        f->path, what, (unsigned long long)st.size, (unsigned long long)cap);
    *size = st.size;
    return NST_OK;
}

// Reads zip entry idx whole into a malloc'd buffer; `what` names it in messages.
static int read_entry(nsti_pth_file *f, zip_int64_t idx, const char *what, zip_uint64_t cap,
                      uint8_t **out, size_t *out_size, nst_error *err) {
    zip_uint64_t size;
    *out = NULL;
    int rc = entry_size(f, idx, what, cap, &size, err);
    if (rc != NST_OK) return rc;
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    if (!buf) return nsti_fail(err, NST_ERR_NOMEM, "%s: zip entry %s: out of memory", f->path, what);
    zip_file_t *zf = zip_fopen_index(f->zip, (zip_uint64_t)idx, 0);
    if (!zf) {
        free(buf);
        return nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: cannot open: %s", f->path, what,
                        zip_strerror(f->zip));
    }
    zip_uint64_t got = 0;
    while (got < size) {
        zip_int64_t r = zip_fread(zf, buf + got, size - got);
        if (r < 0) {
            rc = nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: read failed: %s", f->path, what,
                          zip_file_strerror(zf));
            break;
        }
        if (r == 0) break;
        got += (zip_uint64_t)r;
    }
    // Reading one byte more must hit the end; libzip checks the CRC there.
    uint8_t extra;
    zip_int64_t r = rc == NST_OK && got == size ? zip_fread(zf, &extra, 1) : 0;
    if (rc == NST_OK && got != size)
        rc = nsti_fail(err, NST_ERR_FORMAT,
                      "%s: zip entry %s: the central directory says %llu bytes, but only %llu could be read",
                      f->path, what, (unsigned long long)size, (unsigned long long)got);
    else if (rc == NST_OK && r > 0)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: holds more than the central directory's %llu bytes",
                      f->path, what, (unsigned long long)size);
    else if (rc == NST_OK && r < 0)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: damaged: %s", f->path, what,
                      zip_file_strerror(zf));
    if (zip_fclose(zf) != 0 && rc == NST_OK)
        rc = nsti_fail(err, NST_ERR_FORMAT, "%s: zip entry %s: damaged (bad checksum)", f->path, what);
    if (rc != NST_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_size = (size_t)size;
    return NST_OK;
}

static zip_int64_t locate_storage(nsti_pth_file *f, const char *key, char *name, size_t cap) {
    snprintf(name, cap, "%sdata/%s", f->prefix, key);
    return zip_name_locate(f->zip, name, ZIP_FL_ENC_RAW);
}

// Each tensor's elements must lie inside its storage entry, whose size must match
// what the pickle declares.
static int check_storages(nsti_pth_file *f, nst_error *err) {
    char name[512];
    for (int i = 0; i < f->n; i++) {
        const nsti_pkl_tensor *t = &f->t[i];
        zip_int64_t idx = locate_storage(f, t->storage_key, name, sizeof name);
        if (idx < 0)
            return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: storage entry %s is missing", f->path,
                            t->name, name);
        zip_uint64_t size;
        int rc = entry_size(f, idx, name, MAX_STORAGE, &size, err);
        if (rc != NST_OK) return rc;
        uint64_t esz = (uint64_t)nsti_dtype_size(t->dtype);
        if ((uint64_t)t->storage_numel * esz != size)
            return nsti_fail(err, NST_ERR_FORMAT,
                            "%s: tensor %s: storage entry %s holds %llu bytes, but the pickle declares %lld elements of %llu bytes",
                            f->path, t->name, name, (unsigned long long)size, (long long)t->storage_numel,
                            (unsigned long long)esz);
    }
    return NST_OK;
}

int nsti_pth_sniff(const uint8_t *head, size_t n) {
    if (n >= 4 && (memcmp(head, "PK\x03\x04", 4) == 0 || memcmp(head, "PK\x05\x06", 4) == 0))
        return NST_PTH_ZIP;
    // PROTO 2..5, a FRAME (protocol 4+), then LONG1 of 10 bytes: the magic number
    size_t i = n > 2 && head[1] >= 4 && head[2] == 0x95 ? 11 : 2;
    if (n >= i + 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5 && head[i] == 0x8a && head[i + 1] == 10)
        return NST_PTH_LEGACY;
    return 0;
}

const char *nsti_pth_format(const nsti_pth_file *f) { return f->fp ? "pth (legacy)" : "pth (zip)"; }

static int open_legacy(nsti_pth_file *f, nst_error *err) {
    f->fp = fopen(f->path, "rb");
    if (!f->fp) return nsti_fail(err, NST_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
    return nsti_pth_legacy_index(f->fp, f->path, &f->t, &f->n, &f->at, err);
}

// A file starting with a pickle's PROTO opcode is taken as the legacy format (whose
// reader then names what is wrong with it); anything else as a zip archive.
static int is_legacy(const char *path) {
    uint8_t head[1] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;  // the zip reader reports it
    size_t n = fread(head, 1, 1, fp);
    fclose(fp);
    return n == 1 && head[0] == 0x80;
}

int nsti_pth_open(nsti_pth_file **out, const char *path, nst_error *err) {
    *out = NULL;
    nsti_pth_file *f = calloc(1, sizeof *f);
    if (!f) return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    f->path = strdup(path);
    if (!f->path) {
        free(f);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    nst_error local = {NST_OK, ""};
    zip_int64_t pkl = -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (is_legacy(path)) {
        int rc = open_legacy(f, &local);
        if (rc != NST_OK) {
            if (err) *err = local;
            nsti_pth_close(f);
            return rc;
        }
        *out = f;
        return NST_OK;
    }
    int rc = open_zip(f, &local);
    if (rc == NST_OK) rc = find_pickle(f, &pkl, &local);
    const char *pkl_name = rc == NST_OK ? zip_get_name(f->zip, (zip_uint64_t)pkl, ZIP_FL_ENC_RAW) : NULL;
    if (rc == NST_OK) rc = read_entry(f, pkl, pkl_name, MAX_PICKLE, &buf, &len, &local);
    if (rc == NST_OK) rc = nsti_pkl_state_dict(buf, len, path, pkl_name, &f->t, &f->n, &local);
    free(buf);
    if (rc == NST_OK) rc = check_storages(f, &local);
    if (rc != NST_OK) {
        if (err) *err = local;
        nsti_pth_close(f);
        return rc;
    }
    *out = f;
    return NST_OK;
}

int nsti_pth_count(const nsti_pth_file *f) { return f->n; }

const char *nsti_pth_name(const nsti_pth_file *f, int i) {
    return i >= 0 && i < f->n ? f->t[i].name : NULL;
}

static const nsti_pkl_tensor *find(const nsti_pth_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *nsti_pth_dtype(const nsti_pth_file *f, const char *name) {
    const nsti_pkl_tensor *t = find(f, name);
    return t ? nsti_dtype_name(t->dtype) : NULL;
}

// Legacy files: the tensor's elements, found at open, read straight from the file.
static int read_legacy(nsti_pth_file *f, const nsti_pkl_tensor *t, float **data, int64_t shape[8],
                       int *ndim, nst_error *err) {
    size_t numel = 1, esz = (size_t)nsti_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
    const uint64_t at = f->at[t - f->t];
    uint8_t *raw = malloc(numel ? numel * esz : 1);
    float *d = malloc(numel ? numel * sizeof *d : 1);
    int rc = NST_OK;
    if (!raw || !d) rc = nsti_fail(err, NST_ERR_NOMEM, "%s: tensor %s: out of memory", f->path, t->name);
    else if (fseeko(f->fp, (off_t)at, SEEK_SET) != 0 || fread(raw, 1, numel * esz, f->fp) != numel * esz)
        rc = nsti_fail(err, NST_ERR_IO, "%s: tensor %s: cannot read %zu bytes at offset %llu (file changed?)",
                      f->path, t->name, numel * esz, (unsigned long long)at);
    if (rc != NST_OK) {
        free(raw);
        free(d);
        return rc;
    }
    nsti_dtype_to_f32(t->dtype, raw, d, numel);
    free(raw);
    for (int i = 0; i < 8; i++) shape[i] = i < t->ndim ? t->shape[i] : 0;
    *ndim = t->ndim;
    *data = d;
    return NST_OK;
}

int nsti_pth_read_f32(nsti_pth_file *f, const char *name, float **data, int64_t shape[8],
                     int *ndim, nst_error *err) {
    *data = NULL;
    const nsti_pkl_tensor *t = find(f, name);
    if (!t) return nsti_fail(err, NST_ERR_MODEL, "%s: no tensor named %s", f->path, name);
    if (f->fp) return read_legacy(f, t, data, shape, ndim, err);
    char entry[512];
    zip_int64_t idx = locate_storage(f, t->storage_key, entry, sizeof entry);
    if (idx < 0)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: storage entry %s is missing", f->path,
                        name, entry);
    char what[640];
    snprintf(what, sizeof what, "%s (tensor %s)", entry, name);
    nst_error local = {NST_OK, ""};
    uint8_t *buf;
    size_t size;
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
    size_t esz = (size_t)nsti_dtype_size(t->dtype);
    // A storage is read whole (its CRC is checked at the end), so it may not be much
    // larger than the tensor needs: a small file must not make us inflate gigabytes.
    zip_uint64_t need = (zip_uint64_t)(t->offset + numel) * esz, cap = 2 * need + ((zip_uint64_t)16 << 20);
    int rc = read_entry(f, idx, what, cap < MAX_STORAGE ? cap : MAX_STORAGE, &buf, &size, &local);
    if (rc != NST_OK) {
        if (err) *err = local;
        return rc;
    }
    // Sizes were checked at open; recheck against what was actually read.
    if ((uint64_t)(t->offset + numel) * esz > size) {
        free(buf);
        return nsti_fail(err, NST_ERR_FORMAT, "%s: tensor %s: storage entry %s is too small", f->path,
                        name, entry);
    }
    float *d = malloc(numel ? (size_t)numel * sizeof *d : 1);
    if (!d) {
        free(buf);
        return nsti_fail(err, NST_ERR_NOMEM, "%s: tensor %s: out of memory", f->path, name);
    }
    nsti_dtype_to_f32(t->dtype, buf + (size_t)t->offset * esz, d, (size_t)numel);
    free(buf);
    for (int i = 0; i < 8; i++) shape[i] = i < t->ndim ? t->shape[i] : 0;
    *ndim = t->ndim;
    *data = d;
    return NST_OK;
}
