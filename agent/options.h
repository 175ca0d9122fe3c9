/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* Command-line options as data (after xdp-tools' lib/util/params.h): each
 * option is declared once, with where its value goes and its help text;
 * getopt_long's table, the parsing and the --help lines are made from the
 * declarations. Values land in a caller's struct, by offset: a bool for a
 * flag, a const char * (pointing into argv) for a string. */

enum option_type {
        OPTION_FLAG,
        OPTION_STRING,
};

struct option_def {
        const char *name;    /* long name, without "--" */
        char short_name;     /* 0: none */
        enum option_type type;
        const char *metavar; /* what a string option takes, e.g. "PATH" */
        const char *help;    /* one line; '\n' continues it, indented */
        size_t offset;       /* of the field in the caller's struct */
        bool stop;           /* parsing stops when it is seen (--help, --version) */
};

#define DEFINE_FLAG(lname, sname, type_, field, help_)                                                     \
        {.name = (lname), .short_name = (sname), .type = OPTION_FLAG, .help = (help_),                      \
         .offset = offsetof(type_, field)}
#define DEFINE_STRING(lname, type_, field, metavar_, help_)                                               \
        {.name = (lname), .type = OPTION_STRING, .metavar = (metavar_), .help = (help_),                    \
         .offset = offsetof(type_, field)}

/* The options of one parse: each list is NULL-terminated. */
struct option_set {
        const struct option_def *const *lists[3];
};

/* Parse argv with the options of set into args. With stop_at_operand,
 * parsing ends at the first operand (POSIX "+"); otherwise options may
 * follow operands. Returns 1 when an option marked stop was seen (*ret_stop
 * says which), 0 when all were parsed (*ret_optind: the first operand), and
 * -EINVAL after getopt has printed a usage error. */
int options_parse(const struct option_set *set, int argc, char **argv, bool stop_at_operand, void *args,
                  const struct option_def **ret_stop, int *ret_optind);

/* "  -v, --verbose        debug logging", one line per option, continued
 * lines indented under the help text. */
void options_print_help(const struct option_def *const *list, FILE *out);
