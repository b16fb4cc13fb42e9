// checkpoint.c: writing and reading the state of an optimization (see checkpoint.h).
#include "transfer/checkpoint.h"
#include "util/atomic_file.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char magic[8] = {'N', 'S', 'T', 'C', 'K', 'P', 'T', 0};
enum { CHUNK = 4096 };   // values converted per write or read

// ---- Little-endian fields ----------------------------------------------------------

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(p, v);
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static double get_f64(const unsigned char *p) {
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

// ---- Writing -------------------------------------------------------------------------

typedef struct writer {
    FILE *f;
    uLong crc;
    int failed;
} writer;

// n is at most CHUNK * 4 bytes (the header, a converted block, a value).
static void write_bytes(writer *w, const void *p, size_t n) {
    if (w->failed) return;
    w->crc = crc32(w->crc, p, (uInt)n);
    if (fwrite(p, 1, n, w->f) != n) w->failed = 1;
}

static void write_floats(writer *w, const float *v, size_t n) {
    unsigned char buf[CHUNK * 4];
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, &v[i + j], 4);
            put_u32(buf + 4 * j, u);
        }
        write_bytes(w, buf, 4 * k);
    }
}

static void write_f64(writer *w, double d) {
    unsigned char b[8];
    put_f64(b, d);
    write_bytes(w, b, 8);
}

// Where the loss terms' values sit in the header: the first three where nst 0.4 put
// content, style and tv, so its files read the same.
static const int term_slot[NST_CHECKPOINT_TERMS] = {64, 72, 80, 104, 112, 120};

int nsti_checkpoint_write(const char *path, const nsti_checkpoint *ck, nst_error *err) {
    size_t n = (size_t)3 * ck->w * ck->h;
    const nsti_lbfgs *o = ck->lbfgs;
    unsigned char hdr[NST_CHECKPOINT_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, magic, 8);
    put_u32(hdr + 8, NST_CHECKPOINT_VERSION);
    put_u32(hdr + 12, (uint32_t)ck->optimizer);
    put_u32(hdr + 16, (uint32_t)ck->stage);
    put_u32(hdr + 20, (uint32_t)ck->iter);
    put_u32(hdr + 24, (uint32_t)ck->w);
    put_u32(hdr + 28, (uint32_t)ck->h);
    put_u32(hdr + 32, ck->fingerprint);
    put_u32(hdr + 36, o ? (uint32_t)o->history : 0);
    put_u32(hdr + 40, o ? (uint32_t)o->count : 0);
    put_u64(hdr + 48, o ? (uint64_t)o->iter : (uint64_t)ck->adam->t);
    put_f64(hdr + 56, ck->loss);
    for (int i = 0; i < ck->n_terms && i < NST_CHECKPOINT_TERMS; i++) put_f64(hdr + term_slot[i], ck->term[i]);
    put_f64(hdr + 88, ck->elapsed_s);
    put_f64(hdr + 96, ck->range);

    nst_atomic_file af;
    int rc = nsti_atomic_open_reusing(&af, path, err);
    if (rc) return rc;
    writer w = {af.f, crc32(0L, Z_NULL, 0), 0};
    write_bytes(&w, hdr, sizeof hdr);
    write_floats(&w, ck->x, n);
    write_floats(&w, ck->grad, n);
    if (o) {
        for (int k = o->count - 1; k >= 0; k--) {   // oldest first
            int j = (o->head - k + o->history) % o->history;
            write_f64(&w, o->rho[j]);
            write_floats(&w, o->s[j], n);
            write_floats(&w, o->y[j], n);
        }
    } else {
        write_floats(&w, ck->adam->m, n);
        write_floats(&w, ck->adam->v, n);
    }
    unsigned char tail[4];
    put_u32(tail, (uint32_t)w.crc);
    write_bytes(&w, tail, 4);
    if (w.failed) {
        int e = errno;
        nst_atomic_close(&af, 0, NULL);
        return nsti_fail(err, NST_ERR_IO, "%s: cannot write the checkpoint: %s", path, strerror(e));
    }
    return nst_atomic_close(&af, 1, err);
}

// ---- Reading -------------------------------------------------------------------------

static int read_floats(FILE *f, float *v, size_t n) {
    unsigned char buf[CHUNK * 4];
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t k = n - i < CHUNK ? n - i : CHUNK;
        if (fread(buf, 4, k, f) != k) return -1;
        for (size_t j = 0; j < k; j++) {
            uint32_t u = get_u32(buf + 4 * j);
            memcpy(&v[i + j], &u, 4);
        }
    }
    return 0;
}

static int finite_all(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

// The file's size, and whether its last 4 bytes are the CRC-32 of the rest.
static int check_crc(FILE *f, const char *name, long long *size, nst_error *err) {
    if (fseeko(f, 0, SEEK_END) || (*size = ftello(f)) < 0 || fseeko(f, 0, SEEK_SET))
        return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint: %s", name, strerror(errno));
    if (*size < NST_CHECKPOINT_HEADER + 4)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: not an nst checkpoint (%lld bytes, too short)", name, *size);
    unsigned char buf[1 << 16];
    uLong crc = crc32(0L, Z_NULL, 0);
    long long left = *size - 4;
    while (left > 0) {
        size_t k = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
        if (fread(buf, 1, k, f) != k)
            return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint: %s", name,
                            ferror(f) ? strerror(errno) : "the file shrank while it was read");
        crc = crc32(crc, buf, (uInt)k);
        left -= (long long)k;
    }
    unsigned char tail[4];
    if (fread(tail, 1, 4, f) != 4) return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint", name);
    if (fseeko(f, 0, SEEK_SET))
        return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint: %s", name, strerror(errno));
    if (get_u32(tail) != (uint32_t)crc) {
        unsigned char head[8];
        if (fread(head, 1, 8, f) != 8 || memcmp(head, magic, 8))
            return nsti_fail(err, NST_ERR_FORMAT, "%s: not an nst checkpoint", name);
        return nsti_fail(err, NST_ERR_FORMAT, "%s: the checkpoint is damaged or cut short (checksum mismatch)", name);
    }
    return NST_OK;
}

static int read_header(FILE *f, const char *name, unsigned char *hdr, long long *size, nst_error *err) {
    int rc = check_crc(f, name, size, err);
    if (rc) return rc;
    if (fread(hdr, 1, NST_CHECKPOINT_HEADER, f) != NST_CHECKPOINT_HEADER)
        return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint", name);
    if (memcmp(hdr, magic, 8)) return nsti_fail(err, NST_ERR_FORMAT, "%s: not an nst checkpoint", name);
    uint32_t version = get_u32(hdr + 8);
    if (version != NST_CHECKPOINT_VERSION)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: checkpoint version %u; this nst reads version %d", name,
                        (unsigned)version, NST_CHECKPOINT_VERSION);
    return NST_OK;
}

int nsti_checkpoint_read_file(FILE *f, const char *name, nsti_checkpoint *ck, nst_error *err) {
    static const char *const optimizers[] = {"L-BFGS", "Adam"};
    unsigned char hdr[NST_CHECKPOINT_HEADER];
    long long size;
    int rc = read_header(f, name, hdr, &size, err);
    if (rc) return rc;
    uint32_t optimizer = get_u32(hdr + 12), stage = get_u32(hdr + 16), iter = get_u32(hdr + 20);
    uint32_t w = get_u32(hdr + 24), h = get_u32(hdr + 28), fingerprint = get_u32(hdr + 32);
    uint32_t history = get_u32(hdr + 36), count = get_u32(hdr + 40);
    uint64_t steps = get_u64(hdr + 48);
    if (optimizer > 1) return nsti_fail(err, NST_ERR_FORMAT, "%s: unknown optimizer %u in the checkpoint", name, (unsigned)optimizer);
    if (stage != (uint32_t)ck->stage)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint is of stage %u of a --scales run, not of %s %d", name,
                        (unsigned)stage + 1, ck->stage ? "stage" : "a run without --scales or its stage", ck->stage + 1);
    if (w != (uint32_t)ck->w || h != (uint32_t)ck->h)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint is of a %ux%u picture; this run's is %dx%d", name,
                        (unsigned)w, (unsigned)h, ck->w, ck->h);
    if (optimizer != (uint32_t)ck->optimizer)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint was made with %s; this run uses %s", name,
                        optimizers[optimizer], optimizers[ck->optimizer & 1]);
    if (ck->lbfgs && history != (uint32_t)ck->lbfgs->history)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint was made with L-BFGS history %u; this run has %d", name,
                        (unsigned)history, ck->lbfgs->history);
    if (fingerprint != ck->fingerprint)
        return nsti_fail(err, NST_ERR_USAGE, "%s: the checkpoint was made with other pictures, model or settings; resume "
                        "with the same ones (only the iterations and the output options may change)", name);
    if (iter > 100000000u || steps > 100000000u || (ck->lbfgs && count > history) || (!ck->lbfgs && count))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: the checkpoint's counters are out of range", name);
    size_t n = (size_t)3 * w * h;
    long long want = NST_CHECKPOINT_HEADER + 8LL * n + 4 +
                     (ck->lbfgs ? (long long)count * (8 + 8LL * n) : 8LL * n);
    if (size != want)
        return nsti_fail(err, NST_ERR_FORMAT, "%s: the checkpoint is %lld bytes; its header says %lld", name, size, want);

    int bad = read_floats(f, ck->x, n) || read_floats(f, ck->grad, n);
    int finite = !bad && finite_all(ck->x, n) && finite_all(ck->grad, n);
    if (ck->lbfgs) {
        nsti_lbfgs *o = ck->lbfgs;
        for (uint32_t j = 0; !bad && j < count; j++) {   // oldest first, into 0..count-1
            unsigned char b[8];
            bad = fread(b, 1, 8, f) != 8 || read_floats(f, o->s[j], n) || read_floats(f, o->y[j], n);
            o->rho[j] = bad ? 0 : get_f64(b);
            finite = finite && !bad && isfinite(o->rho[j]) && o->rho[j] > 0 && finite_all(o->s[j], n) &&
                     finite_all(o->y[j], n);
        }
        o->count = (int)count;
        o->head = (int)count - 1;
        o->iter = (long)steps;
    } else {
        bad = bad || read_floats(f, ck->adam->m, n) || read_floats(f, ck->adam->v, n);
        finite = finite && !bad && finite_all(ck->adam->m, n) && finite_all(ck->adam->v, n);
        ck->adam->t = (long)steps;
    }
    if (bad) return nsti_fail(err, NST_ERR_IO, "%s: cannot read the checkpoint", name);
    ck->iter = (int)iter;
    ck->loss = get_f64(hdr + 56);
    for (int i = 0; i < NST_CHECKPOINT_TERMS; i++) {
        ck->term[i] = i < ck->n_terms ? get_f64(hdr + term_slot[i]) : 0;
        finite = finite && isfinite(ck->term[i]);
    }
    ck->elapsed_s = get_f64(hdr + 88);
    ck->range = get_f64(hdr + 96);
    if (!finite || !isfinite(ck->loss) || !(ck->range >= 0 && isfinite(ck->range)) ||
        !(ck->elapsed_s >= 0 && ck->elapsed_s < 1e12))
        return nsti_fail(err, NST_ERR_FORMAT, "%s: the checkpoint holds NaN, infinite or out-of-range values", name);
    return NST_OK;
}

int nsti_checkpoint_read(const char *path, nsti_checkpoint *ck, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nsti_fail(err, NST_ERR_IO, "%s: cannot open the checkpoint: %s", path, strerror(errno));
    int rc = nsti_checkpoint_read_file(f, path, ck, err);
    fclose(f);
    return rc;
}

int nsti_checkpoint_stage(const char *path, int *stage, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nsti_fail(err, NST_ERR_IO, "%s: cannot open the checkpoint: %s", path, strerror(errno));
    unsigned char hdr[NST_CHECKPOINT_HEADER];
    long long size;
    int rc = read_header(f, path, hdr, &size, err);
    fclose(f);
    if (rc) return rc;
    uint32_t s = get_u32(hdr + 16);
    if (s >= 1024) return nsti_fail(err, NST_ERR_FORMAT, "%s: the checkpoint's stage %u is out of range", path, (unsigned)s);
    *stage = (int)s;
    return NST_OK;
}
