// run.h: one picture's run from parsed options (main.c), for `nst` and `nst batch`.
#ifndef NST_CLI_RUN_H
#define NST_CLI_RUN_H
#include "options.h"

// How a run reports, and what it did.
typedef struct cli_run_how {
    const char *label;       // after "nst: " in each message (a batch job's "JOBS.jsonl:3"); NULL: none
    int no_bar;              // no progress bar, even on a terminal
    int afresh_if_refused;   // a --resume checkpoint refused (another run's, damaged): say so and start afresh
    int wrote_record;        // set when the run wrote OUTPUT.json
} cli_run_how;

// Checks the files, loads the inputs and runs the optimization for o (as cli_parse or
// cli_parse_json left it), printing what nst prints. Takes o (malloc'ed) and frees it.
// how may be NULL: the command line's run. Returns the exit code.
int cli_run_options(cli_options *o, cli_run_how *how);

#endif
