// option_table.h: every option of `nst` in one table. Parsing (the command line and
// --config files), --help, OUTPUT.json and the bash completion all read it, so an
// option is added or changed in one place.
#ifndef NST_CLI_OPTION_TABLE_H
#define NST_CLI_OPTION_TABLE_H
#include <jansson.h>
#include <stddef.h>
#include "options.h"
#include "config.h"

typedef enum cli_kind {
    CLI_FLAG,     // no value; an int field, 1 when given
    CLI_INT,      // an integer from imin to imax, into an int field
    CLI_INT64,    // the same into a long long (or unsigned long long) field
    CLI_FLOAT,    // a number from fmin to fmax, into a float field
    CLI_BYTES,    // a byte count (cli_parse_bytes) into an unsigned long long field
    CLI_CHOICE,   // one of words ('|'-separated), its value (values[k], else k) into an int field
    CLI_FILE,     // a file name, kept as a const char * field
    CLI_TEXT,     // other text, read by the option's own setter
} cli_kind;

// What the bash completion offers after the option.
typedef enum cli_completion {
    CLI_COMPLETE_NOTHING,        // a number or other free text
    CLI_COMPLETE_FILE,
    CLI_COMPLETE_FILE_LIST,      // FILE[,FILE...]: the file after the last comma
    CLI_COMPLETE_WORDS,          // one of words
    CLI_COMPLETE_WORDS_OR_FILE,  // one of words, or a file
    CLI_COMPLETE_WORD_LIST,      // a comma-separated list of words (layer names)
} cli_completion;

// OUTPUT.json: an option not written there (side outputs, --quiet, --config...)
#define CLI_NOT_WRITTEN 1u
// not a key of --config files (--config, --help, --version)
#define CLI_NOT_IN_CONFIG 2u
// an option of `nst video` only: refused by picture runs, written only by video runs
#define CLI_VIDEO 4u

typedef struct cli_option cli_option;
// Applies value v (NULL for a flag, whose state is `on`) to o; opt names the option in
// messages ("--size", or "FILE: \"size\"" from a --config file). Returns 0 or -1.
typedef int (*cli_setter)(cli_options *o, const cli_option *d, const char *v, int on, const char *opt,
                          nst_error *err);

// What the OUTPUT.json writers share: the run, and the first string that was not UTF-8.
typedef struct cli_json_ctx {
    const cli_options *o;
    const cli_run_info *run;
    const char *bad_string;
} cli_json_ctx;
// The option's value in OUTPUT.json; NULL with *omit set when it is not written this
// time, NULL alone on failure.
typedef json_t *(*cli_writer)(const cli_option *d, cli_json_ctx *c, int *omit);

struct cli_option {
    const char *name;          // long name without "--": also its key in --config files and OUTPUT.json
    char short_name;           // 0: none
    cli_kind kind;
    const char *metavar;       // its value in --help: "FILE", "N", "auto|raw"
    const char *group;         // the --help heading that starts before it (NULL: none)
    const char *help;          // what it does, for --help
    const char *default_value; // its default as a value of the option ("512"); NULL when it has none
    const char *default_note;  // what the default means or is, in words ("none", "off"); NULL: nothing
    int required;              // --help says "(required)"
    long long imin, imax;      // CLI_INT, CLI_INT64 (and the items of an integer list)
    double fmin, fmax;         // CLI_FLOAT (and the items of a list of numbers)
    const char *words;         // CLI_CHOICE and the completion of words: '|'-separated
    const int *values;         // CLI_CHOICE: what each word stores (NULL: its index)
    size_t field;              // offsetof(cli_options, ...) of what the generic setter writes
    cli_setter set;            // NULL: the generic setter of its kind
    cli_writer put;            // NULL: the generic OUTPUT.json writer of its kind
    cli_completion complete;
    unsigned flags;            // CLI_NOT_WRITTEN, CLI_NOT_IN_CONFIG, CLI_VIDEO
};

extern const cli_option cli_option_table[];
extern const size_t cli_option_count;

// The option with this long name (no dashes), or NULL.
const cli_option *cli_option_find(const char *name);
// The option an argument names ("--size", "-c"), or NULL.
const cli_option *cli_option_of_arg(const char *arg);
// Applies option d (its setter, else the generic one of its kind).
int cli_option_apply(cli_options *o, const cli_option *d, const char *v, int on, const char *opt, nst_error *err);
// Its OUTPUT.json value (its writer, else the generic one of its kind).
json_t *cli_option_json(const cli_option *d, cli_json_ctx *c, int *omit);
// The k-th of d->words into buf ("" past the last); returns buf.
const char *cli_option_word(const cli_option *d, int k, char *buf, size_t n);

// The bash completion script, from the table (`nst completion bash`).
void cli_completion_bash(FILE *out);

#endif
