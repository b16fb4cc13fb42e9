// pickle.c: a small pickle virtual machine restricted to torch state dicts.
// Objects live in a registry owned by the parser and are freed together, so
// shared (memoized) and even self-referencing objects need no reference counts.
#include "model/pickle.h"
#include "model/dtype.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Limits far above what torch writes for a VGG19 state dict (about 500 objects).
#define MAX_OBJECTS (1 << 17)
#define MAX_ITEMS (1 << 20)     // pointers held by all containers together
#define MAX_STACK (1 << 16)
#define MAX_MARKS 64
#define MAX_MEMO (1 << 17)
#define MAX_STR (1 << 20)
#define MAX_GLOBAL_LINE 128
#define MAX_KEY 64
#define MAX_TENSORS (1 << 16)

enum kind { K_NONE, K_BOOL, K_INT, K_BIGINT, K_FLOAT, K_STR, K_TUPLE, K_LIST, K_DICT, K_GLOBAL,
            K_STORAGE, K_TENSOR };
// What an allowed global may do: be called (REDUCE) as a dict, tensor or torch.Size
// constructor, or name a storage type in a persistent id. Nothing else.
enum role { R_DICT, R_REBUILD_V2, R_REBUILD, R_SIZE, R_TENSOR_CLASS, R_STORAGE };

// `legacy` entries appear only in pre-1.6 files: _rebuild_tensor (PyTorch 0.2-0.3),
// tensor classes built with BUILD (0.1), torch.Size, and storages saved from a GPU.
static const struct { const char *module, *name; enum role role; int dtype, legacy; } allowed[] = {
    {"collections", "OrderedDict", R_DICT, -1, 0},
    {"torch._utils", "_rebuild_tensor_v2", R_REBUILD_V2, -1, 0},
    {"torch", "FloatStorage", R_STORAGE, NST_DT_F32, 0},
    {"torch", "HalfStorage", R_STORAGE, NST_DT_F16, 0},
    {"torch", "BFloat16Storage", R_STORAGE, NST_DT_BF16, 0},
    {"torch._utils", "_rebuild_tensor", R_REBUILD, -1, 1},
    {"torch", "Size", R_SIZE, -1, 1},
    {"torch", "FloatTensor", R_TENSOR_CLASS, NST_DT_F32, 1},
    {"torch", "HalfTensor", R_TENSOR_CLASS, NST_DT_F16, 1},
    {"torch", "BFloat16Tensor", R_TENSOR_CLASS, NST_DT_BF16, 1},
    {"torch.cuda", "FloatStorage", R_STORAGE, NST_DT_F32, 1},
    {"torch.cuda", "HalfStorage", R_STORAGE, NST_DT_F16, 1},
    {"torch.cuda", "BFloat16Storage", R_STORAGE, NST_DT_BF16, 1},
    {"torch.cuda", "FloatTensor", R_TENSOR_CLASS, NST_DT_F32, 1},
    {"torch.cuda", "HalfTensor", R_TENSOR_CLASS, NST_DT_F16, 1},
    {"torch.cuda", "BFloat16Tensor", R_TENSOR_CLASS, NST_DT_BF16, 1},
};
#define N_ALLOWED (sizeof allowed / sizeof allowed[0])

typedef struct obj obj;
struct obj {
    enum kind kind;
    int64_t i;        // K_INT, K_BOOL, K_GLOBAL (index in allowed[]), K_BIGINT (bytes)
    double f;         // K_FLOAT
    char *s;          // K_STR, NUL-terminated, owned; K_BIGINT: its little-endian bytes
    obj **items;      // K_TUPLE / K_LIST; K_DICT keys and values alternate; owned array
    size_t n, cap;
    // K_STORAGE (and K_TENSOR, whose dtype a tensor class may set before BUILD)
    int dtype;
    const char *key;  // points into a K_STR object's text
    int64_t numel;    // of the whole storage
    int64_t view_offset, view_numel;  // a legacy storage view: elements it covers
    // K_TENSOR; storage is NULL until a legacy tensor class's BUILD sets it
    obj *storage;
    int64_t offset;
    int ndim;
    int64_t shape[NST_PKL_MAX_DIMS], stride[NST_PKL_MAX_DIMS];
};

typedef struct parser {
    const uint8_t *buf;
    size_t len, pos, op_at;  // op_at: offset of the opcode being run, for messages
    const char *path, *entry;
    nst_error *err;
    obj **all;               // every object, owned
    size_t n_all, cap_all;
    obj **stack;
    size_t sp;
    size_t marks[MAX_MARKS];
    int n_marks;
    obj **memo;
    size_t memo_cap, memo_count;
    size_t n_items;
    int legacy;              // a pre-1.6 file: its globals and persistent ids
    int truncated;           // the data ended inside the pickle
} parser;

__attribute__((format(printf, 3, 4)))
static int fail(parser *p, int code, const char *fmt, ...) {
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nsti_fail(p->err, code, "%s: %s: %s (pickle offset %zu)", p->path, p->entry, msg,
                    p->op_at);
}
#if defined(NST_ANALYZE) && defined(__clang_analyzer__)   // make analyze only
// The analyzer does not follow calls to variadic functions: show it that fail returns code.
#define fail(p, code, ...) (fail((p), (code), __VA_ARGS__), (code))
#endif

// The code of the failure just reported, which a caller passes on; never NST_OK (so a
// caller cannot mistake a failure for success, and the static analyzer can see it).
static int failure_code(const parser *p) {
    return p->err->code != NST_OK ? p->err->code : NST_ERR_FORMAT;
}

static obj *new_obj(parser *p, enum kind kind) {
    if (p->n_all >= MAX_OBJECTS) {
        fail(p, NST_ERR_LIMIT, "more than %d objects", MAX_OBJECTS);
        return NULL;
    }
    if (p->n_all == p->cap_all) {
        size_t cap = p->cap_all ? 2 * p->cap_all : 256;
        obj **a = realloc(p->all, cap * sizeof *a);
        if (!a) { fail(p, NST_ERR_NOMEM, "out of memory"); return NULL; }
        p->all = a;
        p->cap_all = cap;
    }
    obj *o = calloc(1, sizeof *o);
    if (!o) { fail(p, NST_ERR_NOMEM, "out of memory"); return NULL; }
    o->kind = kind;
    p->all[p->n_all++] = o;
    return o;
}

static int add_item(parser *p, obj *c, obj *item) {
    if (p->n_items >= MAX_ITEMS) return fail(p, NST_ERR_LIMIT, "more than %d container items", MAX_ITEMS);
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        obj **a = realloc(c->items, cap * sizeof *a);
        if (!a) return fail(p, NST_ERR_NOMEM, "out of memory");
        c->items = a;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    p->n_items++;
    return NST_OK;
}

// --- the stack; MARK splits it into frames, and no pop may cross a mark ---

static size_t frame_base(const parser *p) { return p->n_marks ? p->marks[p->n_marks - 1] : 0; }

static int push(parser *p, obj *o) {
    if (!o) return failure_code(p);
    if (p->sp >= MAX_STACK) return fail(p, NST_ERR_LIMIT, "stack deeper than %d", MAX_STACK);
    p->stack[p->sp++] = o;
    return NST_OK;
}

static obj *pop(parser *p) {
    if (p->sp <= frame_base(p)) { fail(p, NST_ERR_FORMAT, "stack underflow"); return NULL; }
    return p->stack[--p->sp];
}

static obj *top(parser *p) {
    if (p->sp <= frame_base(p)) { fail(p, NST_ERR_FORMAT, "stack underflow"); return NULL; }
    return p->stack[p->sp - 1];
}

// Ends the innermost frame: *first is where its items start on the stack, and
// *under (if asked) the object just below them, which SETITEMS / APPENDS fill.
static int pop_mark(parser *p, size_t *first, obj **under) {
    if (p->n_marks == 0) return fail(p, NST_ERR_FORMAT, "no MARK on the stack");
    *first = p->marks[--p->n_marks];
    if (under) {
        if (*first <= frame_base(p)) return fail(p, NST_ERR_FORMAT, "stack underflow");
        *under = p->stack[*first - 1];
    }
    return NST_OK;
}

// --- reading operands ---

static int need(parser *p, size_t n) {
    if (n > p->len - p->pos) {
        p->truncated = 1;
        return fail(p, NST_ERR_FORMAT, "truncated in the middle of an opcode");
    }
    return NST_OK;
}

static uint64_t rd_le(parser *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p->buf[p->pos + (size_t)i];
    p->pos += (size_t)n;
    return v;
}

static int make_int(parser *p, int64_t v) {
    obj *o = new_obj(p, K_INT);
    if (o) o->i = v;
    return push(p, o);
}

static int make_str(parser *p, uint64_t n) {
    if (n > MAX_STR) return fail(p, NST_ERR_LIMIT, "string of %llu bytes (limit %d)",
                                 (unsigned long long)n, MAX_STR);
    if (need(p, (size_t)n)) return failure_code(p);
    if (memchr(p->buf + p->pos, 0, (size_t)n)) return fail(p, NST_ERR_FORMAT, "string holds a NUL byte");
    obj *o = new_obj(p, K_STR);
    if (!o) return failure_code(p);
    o->s = malloc((size_t)n + 1);
    if (!o->s) return fail(p, NST_ERR_NOMEM, "out of memory");
    memcpy(o->s, p->buf + p->pos, (size_t)n);
    o->s[n] = 0;
    p->pos += (size_t)n;
    return push(p, o);
}

// LONG1: a little-endian two's complement integer of n bytes; only int64 fits,
// except in legacy files, whose magic number takes 10 bytes (kept as bytes).
static int make_long(parser *p, size_t n) {
    if (n > 8 && p->legacy && n <= 16) {
        if (need(p, n)) return failure_code(p);
        obj *o = new_obj(p, K_BIGINT);
        if (!o || !(o->s = malloc(n))) return o ? fail(p, NST_ERR_NOMEM, "out of memory") : failure_code(p);
        memcpy(o->s, p->buf + p->pos, n);
        o->i = (int64_t)n;
        p->pos += n;
        return push(p, o);
    }
    if (n > 8) return fail(p, NST_ERR_LIMIT, "LONG1 of %zu bytes does not fit 64 bits", n);
    if (need(p, n)) return failure_code(p);
    uint64_t v = n ? rd_le(p, (int)n) : 0;
    if (n && n < 8 && (v >> (8 * n - 1) & 1)) v |= ~(uint64_t)0 << (8 * n);  // sign-extend
    return make_int(p, (int64_t)v);
}

static int make_global(parser *p, const char *module, const char *name) {
    for (size_t g = 0; g < N_ALLOWED; g++)
        if ((!allowed[g].legacy || p->legacy) && strcmp(module, allowed[g].module) == 0 &&
            strcmp(name, allowed[g].name) == 0) {
            obj *o = new_obj(p, K_GLOBAL);
            if (o) o->i = (int64_t)g;
            return push(p, o);
        }
    return fail(p, NST_ERR_FORMAT, "forbidden global '%s %s'", module, name);
}

// GLOBAL's operand: "module\nname\n".
static int read_line(parser *p, char *out) {
    size_t i = 0;
    for (;;) {
        if (p->pos >= p->len) {
            p->truncated = 1;
            return fail(p, NST_ERR_FORMAT, "truncated in the middle of GLOBAL");
        }
        char c = (char)p->buf[p->pos++];
        if (c == '\n') break;
        if (i + 1 >= MAX_GLOBAL_LINE || c == 0) return fail(p, NST_ERR_FORMAT, "malformed GLOBAL operand");
        out[i++] = c;
    }
    out[i] = 0;
    return NST_OK;
}

static int make_tuple(parser *p, size_t first) {
    obj *t = new_obj(p, K_TUPLE);
    if (!t) return failure_code(p);
    for (size_t i = first; i < p->sp; i++)
        if (add_item(p, t, p->stack[i])) return failure_code(p);
    p->sp = first;
    return push(p, t);
}

static int tuple_n(parser *p, size_t n) {
    if (p->sp - frame_base(p) < n) return fail(p, NST_ERR_FORMAT, "stack underflow");
    return make_tuple(p, p->sp - n);
}

// --- the object-building opcodes ---

static int valid_key(const obj *key) {
    return key->kind == K_STR && key->s[0] && strlen(key->s) <= MAX_KEY &&
           strspn(key->s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(key->s);
}

// ('storage', <storage type>, key, location, numel) -> a storage reference. Legacy
// files add view_metadata: None, or (view key, offset, size) for a slice of the storage.
static int persistent_load(parser *p) {
    obj *pid = pop(p);
    if (!pid) return failure_code(p);
    size_t want = p->legacy ? 6 : 5;
    if (pid->kind != K_TUPLE || pid->n != want || pid->items[0]->kind != K_STR ||
        strcmp(pid->items[0]->s, "storage") != 0)
        return fail(p, NST_ERR_FORMAT, "persistent id is not a ('storage', ...) tuple of %zu items", want);
    obj *type = pid->items[1], *key = pid->items[2], *numel = pid->items[4];
    if (type->kind != K_GLOBAL || allowed[type->i].role != R_STORAGE)
        return fail(p, NST_ERR_FORMAT, "persistent id names no storage type");
    if (!valid_key(key)) return fail(p, NST_ERR_FORMAT, "malformed storage key");
    if (numel->kind != K_INT || numel->i < 0)
        return fail(p, NST_ERR_FORMAT, "storage %s: element count is not a non-negative integer", key->s);
    obj *s = new_obj(p, K_STORAGE);
    if (!s) return failure_code(p);
    s->dtype = allowed[type->i].dtype;
    s->key = key->s;
    s->numel = numel->i;
    s->view_numel = numel->i;
    obj *view = p->legacy ? pid->items[5] : NULL;
    if (view && view->kind != K_NONE) {
        obj *const *v = view->items;
        if (view->kind != K_TUPLE || view->n != 3 || v[0]->kind != K_STR || v[1]->kind != K_INT ||
            v[2]->kind != K_INT || v[1]->i < 0 || v[2]->i < 0)
            return fail(p, NST_ERR_FORMAT, "storage %s: view metadata is not (key, offset, size)", key->s);
        if (v[1]->i > s->numel || v[2]->i > s->numel - v[1]->i)
            return fail(p, NST_ERR_FORMAT, "storage %s: view [%lld, +%lld) past its %lld elements", key->s,
                        (long long)v[1]->i, (long long)v[2]->i, (long long)s->numel);
        s->view_offset = v[1]->i;
        s->view_numel = v[2]->i;
    }
    return push(p, s);
}

// Reads a tuple of non-negative ints into v; *n gets its length.
static int int_tuple(parser *p, const obj *t, int64_t *v, int *n, const char *what) {
    if (t->kind != K_TUPLE) return fail(p, NST_ERR_FORMAT, "tensor %s is not a tuple", what);
    if (t->n > NST_PKL_MAX_DIMS)
        return fail(p, NST_ERR_FORMAT, "tensor has %zu dimensions (at most %d)", t->n, NST_PKL_MAX_DIMS);
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != K_INT || t->items[i]->i < 0)
            return fail(p, NST_ERR_FORMAT, "tensor %s holds a value that is not a non-negative integer", what);
        v[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return NST_OK;
}

// Fills tensor t from (storage, offset, size, stride), the arguments every form shares.
static int set_tensor(parser *p, obj *t, obj *const *a) {
    if (a[0]->kind != K_STORAGE) return fail(p, NST_ERR_FORMAT, "tensor without a storage");
    if (a[1]->kind != K_INT || a[1]->i < 0)
        return fail(p, NST_ERR_FORMAT, "tensor storage offset is not a non-negative integer");
    int nstride = 0;
    if (int_tuple(p, a[2], t->shape, &t->ndim, "size") ||
        int_tuple(p, a[3], t->stride, &nstride, "stride"))
        return failure_code(p);
    if (nstride != t->ndim)
        return fail(p, NST_ERR_FORMAT, "tensor size and stride differ in length");
    t->storage = a[0];
    t->offset = a[1]->i;
    return NST_OK;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]),
// or in legacy files _rebuild_tensor(storage, offset, size, stride).
static int rebuild_tensor(parser *p, const obj *args, int v2) {
    if (v2 ? args->n != 6 && args->n != 7 : args->n != 4)
        return fail(p, NST_ERR_FORMAT, "%s called with %zu arguments", v2 ? "_rebuild_tensor_v2" : "_rebuild_tensor",
                    args->n);
    if (v2 && args->items[4]->kind != K_BOOL) return fail(p, NST_ERR_FORMAT, "tensor requires_grad is not a bool");
    obj *t = new_obj(p, K_TENSOR);
    if (!t) return failure_code(p);
    if (set_tensor(p, t, args->items)) return failure_code(p);
    t->dtype = t->storage->dtype;
    return push(p, t);
}

// Python 2's OrderedDict pickles its items as one argument: a list of [key, value].
static int dict_from_pairs(parser *p, const obj *args) {
    obj *d = new_obj(p, K_DICT), *l = args->items[0];
    if (!d) return failure_code(p);
    if (l->kind != K_LIST && l->kind != K_TUPLE) return fail(p, NST_ERR_FORMAT, "OrderedDict of a non-list");
    for (size_t i = 0; i < l->n; i++) {
        obj *kv = l->items[i];
        if ((kv->kind != K_LIST && kv->kind != K_TUPLE) || kv->n != 2)
            return fail(p, NST_ERR_FORMAT, "OrderedDict item is not a (key, value) pair");
        if (add_item(p, d, kv->items[0]) || add_item(p, d, kv->items[1])) return failure_code(p);
    }
    return push(p, d);
}

static int reduce(parser *p) {
    obj *args = pop(p), *fn = args ? pop(p) : NULL;
    if (!fn) return failure_code(p);
    if (fn->kind != K_GLOBAL) return fail(p, NST_ERR_FORMAT, "REDUCE on something not callable");
    if (args->kind != K_TUPLE) return fail(p, NST_ERR_FORMAT, "REDUCE arguments are not a tuple");
    switch (allowed[fn->i].role) {
    case R_DICT:
        if (args->n == 1 && p->legacy) return dict_from_pairs(p, args);
        if (args->n != 0) return fail(p, NST_ERR_FORMAT, "OrderedDict called with arguments");
        return push(p, new_obj(p, K_DICT));
    case R_REBUILD_V2: return rebuild_tensor(p, args, 1);
    case R_REBUILD: return rebuild_tensor(p, args, 0);
    case R_SIZE:    // torch.Size((...)) is its tuple
        if (args->n != 1 || args->items[0]->kind != K_TUPLE)
            return fail(p, NST_ERR_FORMAT, "torch.Size called without one tuple");
        return push(p, args->items[0]);
    case R_TENSOR_CLASS: {  // an empty tensor of the class's type; BUILD sets it
        if (args->n != 0) return fail(p, NST_ERR_FORMAT, "tensor class called with arguments");
        obj *t = new_obj(p, K_TENSOR);
        if (t) t->dtype = allowed[fn->i].dtype;
        return push(p, t);
    }
    case R_STORAGE: break;
    }
    return fail(p, NST_ERR_FORMAT, "REDUCE on the storage type '%s %s'", allowed[fn->i].module,
                allowed[fn->i].name);
}

// BUILD: sets a legacy tensor class's (storage, offset, size, stride); on a dict it is
// the _metadata torch attaches to state dicts, which is ignored.
static int build(parser *p) {
    obj *state = pop(p), *o = state ? top(p) : NULL;
    if (!o) return failure_code(p);
    if (o->kind == K_DICT) return NST_OK;
    if (o->kind != K_TENSOR || o->storage)
        return fail(p, NST_ERR_FORMAT, "BUILD on something not a dict or new tensor");
    if (state->kind != K_TUPLE || state->n != 4)
        return fail(p, NST_ERR_FORMAT, "tensor state is not (storage, offset, size, stride)");
    if (set_tensor(p, o, state->items)) return failure_code(p);
    if (o->storage->dtype != o->dtype)
        return fail(p, NST_ERR_FORMAT, "storage %s holds %s but its tensor class is %s", o->storage->key,
                    nsti_dtype_name(o->storage->dtype), nsti_dtype_name(o->dtype));
    return NST_OK;
}

static int set_items(parser *p, obj *dict, size_t first) {
    if (dict->kind != K_DICT) return fail(p, NST_ERR_FORMAT, "SETITEM on something not a dict");
    if ((p->sp - first) % 2) return fail(p, NST_ERR_FORMAT, "SETITEMS with an odd number of items");
    for (size_t i = first; i < p->sp; i++)
        if (add_item(p, dict, p->stack[i])) return failure_code(p);
    p->sp = first;
    return NST_OK;
}

static int append_items(parser *p, obj *list, size_t first) {
    if (list->kind != K_LIST) return fail(p, NST_ERR_FORMAT, "APPEND on something not a list");
    for (size_t i = first; i < p->sp; i++)
        if (add_item(p, list, p->stack[i])) return failure_code(p);
    p->sp = first;
    return NST_OK;
}

static int memo_put(parser *p, uint64_t idx) {
    obj *o = top(p);
    if (!o) return failure_code(p);
    if (idx >= MAX_MEMO) return fail(p, NST_ERR_LIMIT, "memo index %llu (limit %d)",
                                     (unsigned long long)idx, MAX_MEMO);
    if (idx >= p->memo_cap) {
        size_t cap = p->memo_cap ? p->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        obj **m = realloc(p->memo, cap * sizeof *m);
        if (!m) return fail(p, NST_ERR_NOMEM, "out of memory");
        memset(m + p->memo_cap, 0, (cap - p->memo_cap) * sizeof *m);
        p->memo = m;
        p->memo_cap = cap;
    }
    if (!p->memo[idx]) p->memo_count++;
    p->memo[idx] = o;
    return NST_OK;
}

static int memo_get(parser *p, uint64_t idx) {
    if (idx >= p->memo_cap || !p->memo[idx])
        return fail(p, NST_ERR_FORMAT, "memo index %llu was never stored", (unsigned long long)idx);
    return push(p, p->memo[idx]);
}

// Runs one opcode; at STOP sets *result.
static int step(parser *p, obj **result) {
    p->op_at = p->pos;
    if (p->pos >= p->len) {
        p->truncated = 1;
        return fail(p, NST_ERR_FORMAT, "truncated: no STOP opcode");
    }
    uint8_t op = p->buf[p->pos++];
    obj *a = NULL, *b = NULL;
    size_t first = 0;
    char module[MAX_GLOBAL_LINE], name[MAX_GLOBAL_LINE];
    switch (op) {
    case 0x80:  // PROTO
        if (need(p, 1)) return failure_code(p);
        if (p->buf[p->pos] < 2 || p->buf[p->pos] > 5)
            return fail(p, NST_ERR_FORMAT, "unsupported pickle protocol %d", p->buf[p->pos]);
        p->pos++;
        return NST_OK;
    case 0x95:  // FRAME: a length hint only
        if (need(p, 8)) return failure_code(p);
        if (rd_le(p, 8) > p->len - p->pos) {
            p->truncated = 1;   // a legacy file's prefix may end inside a frame
            return fail(p, NST_ERR_FORMAT, "FRAME past the end of the data");
        }
        return NST_OK;
    case '}': return push(p, new_obj(p, K_DICT));
    case ')': return push(p, new_obj(p, K_TUPLE));
    case ']': return push(p, new_obj(p, K_LIST));
    case '(':   // MARK
        if (p->n_marks >= MAX_MARKS) return fail(p, NST_ERR_LIMIT, "MARKs nested deeper than %d", MAX_MARKS);
        p->marks[p->n_marks++] = p->sp;
        return NST_OK;
    case 't':
        if (pop_mark(p, &first, NULL)) return failure_code(p);
        return make_tuple(p, first);
    case 0x85: return tuple_n(p, 1);
    case 0x86: return tuple_n(p, 2);
    case 0x87: return tuple_n(p, 3);
    case 'X': return need(p, 4) ? failure_code(p) : make_str(p, rd_le(p, 4));
    case 0x8c: return need(p, 1) ? failure_code(p) : make_str(p, rd_le(p, 1));
    case 0x8d: return need(p, 8) ? failure_code(p) : make_str(p, rd_le(p, 8));
    case 'U': return need(p, 1) ? failure_code(p) : make_str(p, rd_le(p, 1));  // Python 2's str
    case 'T': return need(p, 4) ? failure_code(p) : make_str(p, rd_le(p, 4));
    case 'J': return need(p, 4) ? failure_code(p) : make_int(p, (int32_t)(uint32_t)rd_le(p, 4));
    case 'K': return need(p, 1) ? failure_code(p) : make_int(p, (int64_t)rd_le(p, 1));
    case 'M': return need(p, 2) ? failure_code(p) : make_int(p, (int64_t)rd_le(p, 2));
    case 0x8a: return need(p, 1) ? failure_code(p) : make_long(p, (size_t)rd_le(p, 1));
    case 0x88:
    case 0x89:
        if (!(a = new_obj(p, K_BOOL))) return failure_code(p);
        a->i = op == 0x88;
        return push(p, a);
    case 'N': return push(p, new_obj(p, K_NONE));
    case 'G': { // BINFLOAT: a big-endian double
        if (need(p, 8)) return failure_code(p);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | p->buf[p->pos++];
        if (!(a = new_obj(p, K_FLOAT))) return failure_code(p);
        memcpy(&a->f, &u, sizeof a->f);
        return push(p, a);
    }
    case 'c':
        if (read_line(p, module) || read_line(p, name)) return failure_code(p);
        return make_global(p, module, name);
    case 0x93:  // STACK_GLOBAL
        if (!(b = pop(p)) || !(a = pop(p))) return failure_code(p);
        if (a->kind != K_STR || b->kind != K_STR)
            return fail(p, NST_ERR_FORMAT, "STACK_GLOBAL operands are not strings");
        return make_global(p, a->s, b->s);
    case 'R': return reduce(p);
    case 'b': return build(p);
    case 'Q': return persistent_load(p);
    case 's':
        if (!pop(p) || !pop(p) || !(a = top(p))) return failure_code(p);
        p->sp += 2;  // key and value are still in place above the dict
        return set_items(p, a, p->sp - 2);
    case 'u':
        if (pop_mark(p, &first, &a)) return failure_code(p);
        return set_items(p, a, first);
    case 'a':
        if (!pop(p) || !(a = top(p))) return failure_code(p);
        p->sp += 1;
        return append_items(p, a, p->sp - 1);
    case 'e':
        if (pop_mark(p, &first, &a)) return failure_code(p);
        return append_items(p, a, first);
    case 'q': return need(p, 1) ? failure_code(p) : memo_put(p, rd_le(p, 1));
    case 'r': return need(p, 4) ? failure_code(p) : memo_put(p, rd_le(p, 4));
    case 0x94: return memo_put(p, p->memo_count);
    case 'h': return need(p, 1) ? failure_code(p) : memo_get(p, rd_le(p, 1));
    case 'j': return need(p, 4) ? failure_code(p) : memo_get(p, rd_le(p, 4));
    case '.':
        if (!(a = pop(p))) return failure_code(p);
        *result = a;
        return NST_OK;
    default:
        return fail(p, NST_ERR_FORMAT, "unsupported pickle opcode 0x%02x", op);
    }
}

// Checks one state-dict entry and copies it out.
static int take_tensor(parser *p, const obj *key, const obj *val, nsti_pkl_tensor *t) {
    if (key->kind != K_STR) return fail(p, NST_ERR_FORMAT, "state dict key is not a string");
    const char *nm = key->s;
    if (val->kind != K_TENSOR) return fail(p, NST_ERR_FORMAT, "state dict value '%s' is not a tensor", nm);
    int64_t numel = 1, expect = 1;
    for (int d = 0; d < val->ndim; d++) {
        if (val->shape[d] && numel > (INT64_MAX / 4) / val->shape[d])
            return fail(p, NST_ERR_FORMAT, "tensor %s: too many elements", nm);
        numel *= val->shape[d];
    }
    // Row-major contiguity; a dimension of size 1 may carry any stride.
    for (int d = val->ndim - 1; d >= 0 && numel > 0; d--) {
        if (val->shape[d] != 1 && val->stride[d] != expect)
            return fail(p, NST_ERR_FORMAT, "tensor %s: strides are not contiguous", nm);
        expect *= val->shape[d];
    }
    const obj *s = val->storage;
    if (!s) return fail(p, NST_ERR_FORMAT, "tensor %s: a tensor class never given its storage", nm);
    // Within the storage, or within the slice of it a legacy storage view covers.
    if (val->offset > s->view_numel || numel > s->view_numel - val->offset)
        return fail(p, NST_ERR_FORMAT,
                    "tensor %s: elements [%lld, %lld) past the end of storage %s (%lld elements)", nm,
                    (long long)val->offset, (long long)(val->offset + numel), s->key, (long long)s->view_numel);
    t->name = strdup(nm);
    t->storage_key = strdup(s->key);
    if (!t->name || !t->storage_key) return fail(p, NST_ERR_NOMEM, "out of memory");
    t->dtype = s->dtype;
    t->storage_numel = s->numel;
    t->offset = s->view_offset + val->offset;
    t->ndim = val->ndim;
    memcpy(t->shape, val->shape, sizeof t->shape);
    memcpy(t->stride, val->stride, sizeof t->stride);
    return NST_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp((*(const nsti_pkl_tensor *const *)a)->name, (*(const nsti_pkl_tensor *const *)b)->name);
}

// A key given twice would make the file ambiguous: sort the names and compare neighbours.
static int find_duplicate(parser *p, const nsti_pkl_tensor *t, size_t n) {
    const nsti_pkl_tensor **order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return fail(p, NST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) order[i] = &t[i];
    qsort(order, n, sizeof *order, by_name);
    int rc = NST_OK;
    for (size_t i = 1; i < n && rc == NST_OK; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            rc = fail(p, NST_ERR_FORMAT, "state dict key '%s' appears twice", order[i]->name);
    free(order);
    return rc;
}

// Runs one pickle from p->pos to its STOP, with a fresh stack and memo (each
// pickle of a legacy file has its own); objects stay in the registry.
static int run_one(parser *p, obj **result) {
    if (!p->stack && !(p->stack = malloc(MAX_STACK * sizeof *p->stack)))
        return fail(p, NST_ERR_NOMEM, "out of memory");
    p->sp = 0;
    p->n_marks = 0;
    if (p->memo) memset(p->memo, 0, p->memo_cap * sizeof *p->memo);
    p->memo_count = 0;
    *result = NULL;
    while (!*result)
        if (step(p, result)) return failure_code(p);
    return NST_OK;
}

// The state dict: a dict of tensors, checked and copied out.
static int run(parser *p, nsti_pkl_tensor **out, int *n_out) {
    obj *result = NULL;
    if (run_one(p, &result)) return failure_code(p);
    if (result->kind != K_DICT) return fail(p, NST_ERR_FORMAT, "the pickle holds no state dict");
    size_t n = result->n / 2;
    if (n > MAX_TENSORS) return fail(p, NST_ERR_LIMIT, "more than %d tensors", MAX_TENSORS);
    nsti_pkl_tensor *t = calloc(n ? n : 1, sizeof *t);
    if (!t) return fail(p, NST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (take_tensor(p, result->items[2 * i], result->items[2 * i + 1], &t[i])) {
            nsti_pkl_free(t, (int)n);
            return failure_code(p);
        }
    if (find_duplicate(p, t, n)) {
        nsti_pkl_free(t, (int)n);
        return failure_code(p);
    }
    *out = t;
    *n_out = (int)n;
    return NST_OK;
}

static void free_parser(parser *p) {
    for (size_t i = 0; i < p->n_all; i++) {
        free(p->all[i]->s);
        free(p->all[i]->items);
        free(p->all[i]);
    }
    free(p->all);
    free(p->stack);
    free(p->memo);
}

int nsti_pkl_state_dict(const uint8_t *buf, size_t len, const char *path, const char *entry,
                       nsti_pkl_tensor **out, int *n_out, nst_error *err) {
    nst_error local = {NST_OK, ""};
    parser p = {.buf = buf, .len = len, .path = path, .entry = entry, .err = &local};
    *out = NULL;
    *n_out = 0;
    int rc = run(&p, out, n_out);
    free_parser(&p);
    if (rc != NST_OK && err) *err = local;
    return rc;
}

// --- the legacy (pre-1.6) stream ---

// torch.save's magic number 0x1950a86a20f9469cfc6c, as LONG1 stores it (little-endian).
static const uint8_t legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static const obj *dict_get(const obj *d, const char *key) {
    for (size_t i = 0; i + 1 < d->n; i += 2)
        if (d->items[i]->kind == K_STR && strcmp(d->items[i]->s, key) == 0) return d->items[i + 1];
    return NULL;
}

// The magic number, the format version (1001) and sys_info, which must say
// little-endian: storages are raw bytes in the saving machine's order.
static int legacy_header(parser *p) {
    obj *o;
    p->entry = "legacy torch.save header";
    if (run_one(p, &o)) return failure_code(p);
    if (o->kind != K_BIGINT || o->i != 10 || memcmp(o->s, legacy_magic, 10) != 0)
        return fail(p, NST_ERR_FORMAT, "wrong magic number: not a torch.save file");
    if (run_one(p, &o)) return failure_code(p);
    if (o->kind != K_INT) return fail(p, NST_ERR_FORMAT, "the format version is not an integer");
    if (o->i != 1001)
        return fail(p, NST_ERR_FORMAT, "format version %lld (only 1001 is known)", (long long)o->i);
    if (run_one(p, &o)) return failure_code(p);
    const obj *le = o->kind == K_DICT ? dict_get(o, "little_endian") : NULL;
    if (!le || le->kind != K_BOOL) return fail(p, NST_ERR_FORMAT, "sys_info does not say little_endian");
    if (!le->i) return fail(p, NST_ERR_FORMAT, "saved on a big-endian machine, which is not supported");
    return NST_OK;
}

static int legacy_keys(parser *p, nsti_pkl_legacy *out) {
    obj *o;
    p->entry = "legacy storage key list";
    if (run_one(p, &o)) return failure_code(p);
    if (o->kind != K_LIST) return fail(p, NST_ERR_FORMAT, "not a list");
    if (o->n > MAX_TENSORS) return fail(p, NST_ERR_LIMIT, "more than %d storages", MAX_TENSORS);
    out->keys = calloc(o->n ? o->n : 1, sizeof *out->keys);
    if (!out->keys) return fail(p, NST_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->n; i++) {
        if (!valid_key(o->items[i])) return fail(p, NST_ERR_FORMAT, "malformed storage key");
        if (!(out->keys[i] = strdup(o->items[i]->s))) return fail(p, NST_ERR_NOMEM, "out of memory");
        out->n_keys = (int)i + 1;
    }
    return NST_OK;
}

int nsti_pkl_legacy_parse(const uint8_t *buf, size_t len, const char *path, nsti_pkl_legacy *out,
                         nst_error *err) {
    nst_error local = {NST_OK, ""};
    parser p = {.buf = buf, .len = len, .path = path, .err = &local, .legacy = 1};
    memset(out, 0, sizeof *out);
    int rc = legacy_header(&p);
    if (rc == NST_OK) {
        p.entry = "legacy state dict pickle";
        rc = run(&p, &out->t, &out->n);
    }
    if (rc == NST_OK) rc = legacy_keys(&p, out);
    out->data_start = p.pos;
    free_parser(&p);
    if (rc != NST_OK) {
        nsti_pkl_legacy_free(out);
        out->truncated = p.truncated;
        if (err) *err = local;
    }
    return rc;
}

void nsti_pkl_legacy_free(nsti_pkl_legacy *l) {
    nsti_pkl_free(l->t, l->n);
    for (int i = 0; l->keys && i < l->n_keys; i++) free(l->keys[i]);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

void nsti_pkl_free(nsti_pkl_tensor *t, int n) {
    if (!t) return;
    for (int i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].storage_key);
    }
    free(t);
}
