/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include "util.h"

/* Problems found in a file, each tied to FILE:LINE. Library code collects
 * them here; the command prints them once. */
enum diag_level { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
        char *file;
        unsigned line; /* 0: about the whole file */
        enum diag_level level;
        char *msg;
        size_t seq; /* insertion order, to keep the sort stable */
};

struct diags {
        struct diag *v;
        size_t n;
        size_t errors;
};

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
               const char *fmt, ...) _printf_(5, 6);
#define diag_error(d, f, l, ...) diags_add(d, DIAG_ERROR, f, l, __VA_ARGS__)
#define diag_warning(d, f, l, ...) diags_add(d, DIAG_WARNING, f, l, __VA_ARGS__)
#define diag_note(d, f, l, ...) diags_add(d, DIAG_NOTE, f, l, __VA_ARGS__)

/* Stable sort by file, then line; prints "file:line: [warning: ]msg". */
void diags_print(struct diags *d, FILE *out);
/* Whether any diagnostic's message contains needle (for tests). */
const struct diag *diags_find(const struct diags *d, const char *needle);
void diags_free(struct diags *d);
