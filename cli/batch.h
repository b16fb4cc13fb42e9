// batch.h: `nst batch JOBS.jsonl`, one run per line of a JSON Lines file.
#ifndef NST_CLI_BATCH_H
#define NST_CLI_BATCH_H

// argv[0] is "batch". Returns the exit status: the number of failed jobs (at most
// 100), 125 when the batch cannot start, 130/143 when interrupted.
int cli_batch_command(int argc, char **argv);

#endif
