// help.c: --help and the bash completion, written from the option table.
#include <stdio.h>
#include "options.h"
#include "option_table.h"
#include <string.h>

#define HELP_WIDTH 90    // the longest line of --help
#define HELP_COLUMN 30   // where the descriptions start

// text, wrapped at spaces to HELP_WIDTH, each line after the first indented to HELP_COLUMN;
// `at` is the column the first line starts at.
static void print_wrapped(FILE *out, const char *text, int at) {
    while (*text) {
        int room = HELP_WIDTH - at, len = (int)strlen(text);
        if (len > room) {   // break at the last space that fits (or the first one, for a long word)
            int cut = room;
            while (cut > 0 && text[cut] != ' ') cut--;
            if (cut == 0) cut = (int)strcspn(text, " ");
            len = cut;
        }
        fprintf(out, "%.*s\n", len, text);
        text += len;
        while (*text == ' ') text++;
        if (*text) fprintf(out, "%*s", HELP_COLUMN, "");
        at = HELP_COLUMN;
    }
}

// An option's entry: "  -c, --content FILE", then its description and default.
static void print_option(FILE *out, const cli_option *d) {
    char left[128], text[1024];
    int n = d->short_name ? snprintf(left, sizeof left, "  -%c, --%s", d->short_name, d->name)
                          : snprintf(left, sizeof left, "  --%s", d->name);
    if (d->metavar) n += snprintf(left + n, sizeof left - (size_t)n, " %s", d->metavar);
    const char *sep = d->help && d->help[0] ? " " : "";
    if (d->required) snprintf(text, sizeof text, "%s%s(required)", d->help, sep);
    else if (d->default_value || d->default_note)
        snprintf(text, sizeof text, "%s%s(default%s%s%s%s)", d->help ? d->help : "", sep,
                 d->default_value ? " " : "", d->default_value ? d->default_value : "", d->default_note ? ": " : "",
                 d->default_note ? d->default_note : "");
    else snprintf(text, sizeof text, "%s", d->help ? d->help : "");
    fputs(left, out);
    if (n >= HELP_COLUMN) fprintf(out, "\n%*s", HELP_COLUMN, "");   // too long: the text goes below
    else fprintf(out, "%*s", HELP_COLUMN - n, "");
    print_wrapped(out, text, HELP_COLUMN);
}

void cli_usage(FILE *out) {
    fputs("usage: nst -c CONTENT -s STYLE[,STYLE...] -o OUTPUT [options]\n"
          "       nst --config FILE.json [options]\n"
          "       nst model info FILE\n"
          "       nst model convert IN OUT.safetensors [--dtype f32|f16]\n"
          "       nst completion bash\n"
          "       nst video -c VIDEO -s STYLE[,STYLE...] -o OUTPUT [options]\n"
          "       nst batch JOBS.jsonl [--workers N] [--job-index I] [--quiet]\n"
          "\n"
          "Neural style transfer (Gatys et al.) with VGG19, on the CPU.\n"
          "\n", out);
    for (size_t i = 0; i < cli_option_count; i++) {
        if (cli_option_table[i].group) fprintf(out, "%s:\n", cli_option_table[i].group);
        print_option(out, &cli_option_table[i]);
    }
    fputs("\n"
          "Exit codes: 0 done, 1 other failure, 2 usage error (also a bad key or value in a\n"
          "--config file, a --resume checkpoint of another run), 3 missing, unreadable or\n"
          "malformed input file (also a --config file that is not a JSON object, a damaged\n"
          "checkpoint), missing layer or unwritable output or checkpoint, 4 too large\n"
          "(--max-pixels, --max-memory) or out of memory, 5 the loss or gradient became NaN or\n"
          "infinite (the last good picture is written), 130/143 interrupted by SIGINT/SIGTERM\n"
          "(the current picture, checkpoint, plot, animation, contact sheet and OUTPUT.json are\n"
          "written first; 3 if the checkpoint cannot be written).\n"
          "`nst completion bash` prints the bash completion script. `nst batch --help` tells of\n"
          "batches, one run per line of JOBS.jsonl. `nst video` stylizes a video or a picture\n"
          "sequence (frames/%05d.png) frame by frame with the options above and the video ones.\n"
          "See nst(1) for more.\n", out);
}

// ---- The bash completion -----------------------------------------------------------

// d->words with spaces for '|'.
static void print_words(FILE *out, const cli_option *d) {
    for (const char *w = d->words; *w; w++) fputc(*w == '|' ? ' ' : *w, out);
}

// The case patterns of the options completed as `kind`: "-c|--content|-o|--output".
static void print_patterns(FILE *out, cli_completion kind) {
    int first = 1, col = 8;
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        if (d->complete != kind || d->kind == CLI_FLAG) continue;
        int len = (int)strlen(d->name) + 3 + (d->short_name ? 3 : 0);
        if (!first && col + len > 100) { fputs("|\\\n        ", out); col = 8; }
        else if (!first) fputc('|', out);
        if (d->short_name) fprintf(out, "-%c|", d->short_name);
        fprintf(out, "--%s", d->name);
        col += len;
        first = 0;
    }
}

static void print_option_words(FILE *out) {
    int col = 15;
    fputs("    local opts=\"", out);
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        char word[48];
        int n = d->short_name ? snprintf(word, sizeof word, "-%c --%s", d->short_name, d->name)
                              : snprintf(word, sizeof word, "--%s", d->name);
        if (i && col + n + 1 > 100) { fputs("\n        ", out); col = 8; }
        else if (i) { fputc(' ', out); col++; }
        fputs(word, out);
        col += n;
    }
    fputs("\"\n", out);
}

static const char completion_head[] =
    "# bash completion for nst (neural style transfer)             -*- shell-script -*-\n"
    "# Written by `nst completion bash` from nst's option table; installed to\n"
    "# share/bash-completion/completions/nst, or source it by hand. Completes options, the\n"
    "# values of the options that take a word from a list, and file names for the options\n"
    "# that take a file. Needs nothing from the bash-completion package.\n"
    "\n"
    "_nst_files() {\n"
    "    # file names (and directories to walk into) matching the word being completed\n"
    "    local cur=$1 IFS=$'\\n'\n"
    "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
    "    compopt -o filenames 2>/dev/null\n"
    "}\n"
    "\n"
    "_nst() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\n"
    "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
    "    COMPREPLY=()\n"
    "\n";

static const char completion_subcommands[] =
    "\n"
    "    # nst model info FILE | nst model convert IN OUT [--dtype f32|f16] | nst completion bash\n"
    "    if [[ ${COMP_WORDS[1]-} == model ]]; then\n"
    "        if ((COMP_CWORD == 2)); then\n"
    "            COMPREPLY=($(compgen -W \"info convert\" -- \"$cur\"))\n"
    "        elif [[ $prev == --dtype ]]; then\n"
    "            COMPREPLY=($(compgen -W \"f32 f16\" -- \"$cur\"))\n"
    "        elif [[ ${COMP_WORDS[2]-} == convert && $cur == -* ]]; then\n"
    "            COMPREPLY=($(compgen -W \"--dtype\" -- \"$cur\"))\n"
    "        else\n"
    "            _nst_files \"$cur\"\n"
    "        fi\n"
    "        return 0\n"
    "    fi\n"
    "    if [[ ${COMP_WORDS[1]-} == completion ]]; then\n"
    "        ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W \"bash\" -- \"$cur\"))\n"
    "        return 0\n"
    "    fi\n"
    "    # nst batch JOBS.jsonl [--workers N] [--job-index I] [--quiet]\n"
    "    if [[ ${COMP_WORDS[1]-} == batch ]]; then\n"
    "        if [[ $prev == --workers || $prev == --job-index ]]; then\n"
    "            :\n"
    "        elif [[ $cur == -* ]]; then\n"
    "            COMPREPLY=($(compgen -W \"--workers --job-index -q --quiet -h --help\" -- \"$cur\"))\n"
    "        else\n"
    "            _nst_files \"$cur\"\n"
    "        fi\n"
    "        return 0\n"
    "    fi\n"
    "\n"
    "    case $prev in\n";

static const char completion_tail[] =
    "    esac\n"
    "\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "    elif ((COMP_CWORD == 1)); then\n"
    "        COMPREPLY=($(compgen -W \"model completion batch video\" -- \"$cur\"))\n"
    "        [[ -n $cur ]] || COMPREPLY=($(compgen -W \"$opts model completion batch video\" -- \"$cur\"))\n"
    "    else\n"
    "        _nst_files \"$cur\"\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "\n"
    "complete -F _nst nst\n";

// The case arm of each option whose value is a word from a list (or a word or a file).
static void print_word_arms(FILE *out) {
    for (size_t i = 0; i < cli_option_count; i++) {
        const cli_option *d = &cli_option_table[i];
        if (d->complete == CLI_COMPLETE_WORDS) {
            fprintf(out, "        --%s) COMPREPLY=($(compgen -W \"", d->name);
            print_words(out, d);
            fputs("\" -- \"$cur\")); return 0 ;;\n", out);
        } else if (d->complete == CLI_COMPLETE_WORDS_OR_FILE) {
            fprintf(out, "        --%s)\n            COMPREPLY=($(compgen -W \"", d->name);
            print_words(out, d);
            fputs("\" -- \"$cur\"))\n"
                  "            local IFS=$'\\n'\n"
                  "            COMPREPLY+=($(compgen -f -- \"$cur\"))\n"
                  "            compopt -o filenames 2>/dev/null\n"
                  "            return 0 ;;\n", out);
        }
    }
}

void cli_completion_bash(FILE *out) {
    fputs(completion_head, out);
    print_option_words(out);
    // the words of the lists of words (layer names), one variable for all of them
    const cli_option *listed = NULL;
    for (size_t i = 0; i < cli_option_count && !listed; i++)
        if (cli_option_table[i].complete == CLI_COMPLETE_WORD_LIST) listed = &cli_option_table[i];
    if (listed) {
        fputs("    local words=\"", out);
        int col = 17;
        for (const char *w = listed->words; *w;) {
            int len = (int)strcspn(w, "|");
            if (col + len + 1 > 100) { fputs("\n       ", out); col = 7; }
            fprintf(out, "%s%.*s", w == listed->words ? "" : " ", len, w);
            col += len + 1;
            w += len + (w[len] ? 1 : 0);
        }
        fputs("\"\n", out);
    }
    fputs(completion_subcommands, out);
    print_word_arms(out);
    if (listed) {
        fputs("        ", out);
        print_patterns(out, CLI_COMPLETE_WORD_LIST);
        fputs(")\n"
              "            # a comma-separated list: complete the last item\n"
              "            local head=${cur%,*} item=${cur##*,}\n"
              "            [[ $cur == *,* ]] && head=\"$head,\" || head=\n"
              "            COMPREPLY=($(compgen -P \"$head\" -W \"$words\" -- \"$item\"))\n"
              "            compopt -o nospace 2>/dev/null\n"
              "            return 0 ;;\n", out);
    }
    fputs("        ", out);
    print_patterns(out, CLI_COMPLETE_FILE_LIST);
    fputs(")\n"
          "            # FILE[,FILE...]: complete the file after the last comma\n"
          "            local head=${cur%,*} item=${cur##*,} IFS=$'\\n'\n"
          "            [[ $cur == *,* ]] && head=\"$head,\" || head=\n"
          "            COMPREPLY=($(compgen -P \"$head\" -f -- \"$item\"))\n"
          "            compopt -o filenames 2>/dev/null\n"
          "            return 0 ;;\n"
          "        ", out);
    print_patterns(out, CLI_COMPLETE_FILE);
    fputs(")\n            _nst_files \"$cur\"; return 0 ;;\n        ", out);
    print_patterns(out, CLI_COMPLETE_NOTHING);
    fputs(")\n            return 0 ;;   # a number or a list of them: nothing to offer\n", out);
    fputs(completion_tail, out);
}
