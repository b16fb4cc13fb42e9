// Two sessions at once: two nst_transfer runs in two threads, sharing one model but
// with their own pictures, settings, thread counts, kernels and progress callbacks,
// each end with the bytes it ends with alone, and each callback sees only its run.
// A session leaves the calling thread's OpenMP thread count as it found it.
#include "testlib.h"
#include "nst.h"
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct session {
    const nst_model *model;
    nst_image content, style;
    nst_params p;
    nst_image out;
    int rc;
    nst_error err;
    // what its progress callback saw
    int calls, last_iter, foreign;   // foreign: a call whose user pointer was not this session
    int wrong_threads;               // calls that found another session's OpenMP thread count
} session;

static int count_progress(const nst_progress *p, void *user) {
    session *s = user;
    if (p->iterations != s->p.iterations) s->foreign++;
    if (omp_get_max_threads() != s->p.threads) s->wrong_threads++;   // OpenMP's count is per thread
    s->calls++;
    s->last_iter = p->iter;
    return 0;
}

static void *run_session(void *arg) {
    session *s = arg;
    s->calls = 0; s->last_iter = -1; s->foreign = 0; s->wrong_threads = 0;
    nst_image_free(&s->out);
    s->p.progress = count_progress;
    s->p.progress_user = s;
    s->rc = nst_transfer(s->model, &s->content, &s->style, 1, &s->p, &s->out, &s->err);
    return NULL;
}

static int load_fitted(nst_image *img, const char *name, int size) {
    char path[600];
    snprintf(path, sizeof path, "%s/images/%s", nst_test_shared(), name);
    nst_image full = {0};
    nst_error err;
    int rc = nst_image_load(&full, path, NST_DEFAULT_MAX_PIXELS, &err);
    if (!rc) rc = nst_image_fit(img, &full, size, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    nst_image_free(&full);
    return rc;
}

static void test_two_sessions_in_two_threads(void) {
    char path[600];
    snprintf(path, sizeof path, "%s/models/vgg19-conv1_1-conv3_4.caffe.safetensors", nst_test_shared());
    nst_model *model = NULL;
    nst_error err;
    CHECKF(nst_model_load(&model, path, &err) == 0, "%s", err.msg);
    if (!model) return;
    session a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.model = b.model = model;
    int rc = load_fitted(&a.content, "tubingen.jpg", 64) || load_fitted(&a.style, "starry_night_crop.png", 64) ||
             load_fitted(&b.content, "hoovertowernight.jpg", 56) || load_fitted(&b.style, "picasso_selfport1907.jpg", 48);
    CHECK(rc == 0);
    if (rc) { nst_model_free(model); return; }
    // A: L-BFGS, one thread, the default kernels; B: Adam from noise, two threads, OpenBLAS
    nst_params_default(&a.p);
    a.p.iterations = 12;
    a.p.threads = 1;
    nst_params_default(&b.p);
    b.p.iterations = 15;
    b.p.optimizer = NST_OPTIMIZER_ADAM;
    b.p.lr = 2.0f;
    b.p.init = NST_INIT_NOISE;
    b.p.seed = 3;
    b.p.threads = 2;
    b.p.backend = NST_BACKEND_BLAS;

    // alone, one after the other
    int threads_before = omp_get_max_threads();
    run_session(&a);   // threads = 1
    CHECKF(omp_get_max_threads() == threads_before, "the caller's thread count changed from %d to %d",
           threads_before, omp_get_max_threads());
    run_session(&b);
    CHECKF(a.rc == 0 && b.rc == 0, "%s / %s", a.err.msg, b.err.msg);
    nst_image alone_a = a.out, alone_b = b.out;
    a.out.data = b.out.data = NULL;
    size_t bytes_a = sizeof(float) * 3 * alone_a.w * alone_a.h, bytes_b = sizeof(float) * 3 * alone_b.w * alone_b.h;

    // together, three times
    for (int round = 0; round < 3; round++) {
        pthread_t ta, tb;
        CHECK(pthread_create(&ta, NULL, run_session, &a) == 0);
        CHECK(pthread_create(&tb, NULL, run_session, &b) == 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECKF(a.rc == 0 && b.rc == 0, "round %d: %s / %s", round, a.err.msg, b.err.msg);
        CHECKF(a.out.data && a.out.w == alone_a.w && !memcmp(a.out.data, alone_a.data, bytes_a),
               "round %d: session A differs from its run alone", round);
        CHECKF(b.out.data && b.out.w == alone_b.w && !memcmp(b.out.data, alone_b.data, bytes_b),
               "round %d: session B differs from its run alone", round);
        CHECKF(a.calls == 13 && a.last_iter == 12 && !a.foreign, "A's callback: %d calls, last %d, %d foreign",
               a.calls, a.last_iter, a.foreign);
        CHECKF(b.calls == 16 && b.last_iter == 15 && !b.foreign, "B's callback: %d calls, last %d, %d foreign",
               b.calls, b.last_iter, b.foreign);
        CHECKF(!a.wrong_threads && !b.wrong_threads, "thread counts crossed: %d, %d", a.wrong_threads, b.wrong_threads);
    }
    nst_image_free(&alone_a); nst_image_free(&alone_b);
    session *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        nst_image_free(&both[k]->out);
        nst_image_free(&both[k]->content);
        nst_image_free(&both[k]->style);
    }
    nst_model_free(model);
}

int main(void) {
    TEST(test_two_sessions_in_two_threads);
    return nst_test_summary();
}
