// signals.h: SIGINT and SIGTERM delivered to one thread that does nothing else.
#ifndef NST_CLI_SIGNALS_H
#define NST_CLI_SIGNALS_H

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts
// after (OpenMP's, which run oneDNN's generated kernels), and starts one thread that
// takes them: a signal handler's frame pushed onto a thread inside a generated kernel
// corrupted the heap now and then (glibc: "corrupted size vs. prev_size", one
// interrupt in 40). Call it before any OpenMP region runs; once per process is enough
// (later calls do nothing). Returns 0, or -1 when the thread could not start (signals
// then stay where they were).
int cli_signals_to_one_thread(void);

#endif
