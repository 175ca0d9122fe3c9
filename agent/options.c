/* SPDX-License-Identifier: MIT */
#include <getopt.h>

#include "options.h"

enum { OPTION_VAL_BASE = 0x100, OPTIONS_MAX = 64, HELP_COLUMN = 20 };

int options_parse(const struct option_set *set, int argc, char **argv, bool stop_at_operand, void *args,
                  const struct option_def **ret_stop, int *ret_optind) {
        const struct option_def *defs[OPTIONS_MAX];
        struct option longs[OPTIONS_MAX + 1];
        char shorts[2 * OPTIONS_MAX + 2];
        size_t n = 0, ns = 0;

        /* No leading ':': getopt prints the usage errors itself. */
        if (stop_at_operand)
                shorts[ns++] = '+';
        for (size_t l = 0; l < ELEMENTSOF(set->lists); l++)
                for (const struct option_def *const *p = set->lists[l]; p && *p; p++) {
                        if (n >= OPTIONS_MAX)
                                return -E2BIG;
                        const struct option_def *d = *p;
                        defs[n] = d;
                        longs[n] = (struct option){
                                .name = d->name,
                                .has_arg = d->type == OPTION_STRING ? required_argument : no_argument,
                                .val = d->short_name ? d->short_name : OPTION_VAL_BASE + (int)n,
                        };
                        if (d->short_name) {
                                shorts[ns++] = d->short_name;
                                if (d->type == OPTION_STRING)
                                        shorts[ns++] = ':';
                        }
                        n++;
                }
        longs[n] = (struct option){0};
        shorts[ns] = '\0';

        /* 0, not 1: glibc then starts afresh, forgetting an earlier "+"
         * mode, so a command's options may follow its operands. */
        optind = 0;
        int o;
        while ((o = getopt_long(argc, argv, shorts, longs, NULL)) >= 0) {
                const struct option_def *d = NULL;
                if (o >= OPTION_VAL_BASE && o < OPTION_VAL_BASE + (int)n)
                        d = defs[o - OPTION_VAL_BASE];
                else
                        for (size_t i = 0; i < n && !d; i++)
                                if (defs[i]->short_name && defs[i]->short_name == o)
                                        d = defs[i];
                if (!d)
                        return -EINVAL; /* '?': getopt said what */
                char *field = (char *)args + d->offset;
                if (d->type == OPTION_FLAG)
                        *(bool *)field = true;
                else
                        *(const char **)field = optarg;
                if (d->stop) {
                        *ret_stop = d;
                        return 1;
                }
        }
        *ret_optind = optind;
        return 0;
}

void options_print_help(const struct option_def *const *list, FILE *out) {
        for (const struct option_def *const *p = list; p && *p; p++) {
                const struct option_def *d = *p;
                char col[128] = "";
                if (d->short_name)
                        snprintf(col, sizeof col, "-%c, ", d->short_name);
                int l = (int)strlen(col);
                l += snprintf(col + l, sizeof col - (size_t)l, "--%s%s%s", d->name, d->metavar ? " " : "",
                              d->metavar ? d->metavar : "");
                /* A name too long for the column still gets its space. */
                fprintf(out, "  %-*s%s ", HELP_COLUMN, col, l >= HELP_COLUMN ? " " : "");
                for (const char *h = d->help; *h; h++) {
                        fputc(*h, out);
                        if (*h == '\n')
                                fprintf(out, "%*s", HELP_COLUMN + 3, "");
                }
                fputc('\n', out);
        }
}
