// signals.c: see signals.h.
#include "signals.h"
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static void *take_signals(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    for (;;) pause();   // the handlers the run installed run here
    return NULL;
}

int cli_signals_to_one_thread(void) {
    static int started;
    if (started) return 0;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, &old)) return -1;
    pthread_attr_t attr;
    pthread_t thread;
    int ok = !pthread_attr_init(&attr) && !pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) &&
             !pthread_create(&thread, &attr, take_signals, NULL);
    pthread_attr_destroy(&attr);
    if (!ok) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -1;
    }
    started = 1;
    return 0;
}
