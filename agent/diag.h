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

/* Which key each line of a file set (noted by the parser), so that a
 * diagnostic can name its key in machine-readable output. */
struct diag_key {
        char *file;
        unsigned line;
        char *key;
        size_t seq; /* noted order: the first noted for a line wins */
};

struct diags {
        struct diag *v;
        size_t n;
        size_t errors;
        /* Set by whoever wants keys (--json): only then are they noted. */
        bool want_keys;
        struct diag_key *keys;
        size_t n_keys;
        bool keys_unsorted; /* noted out of (file, line) order since the last sort */
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
/* Note that file:line sets key; the key of a diagnostic on that line, or
 * NULL (a section header, a line that is no key = value, the whole file). */
void diags_note_key(struct diags *d, const char *file, unsigned line, const char *key);
/* A binary search when the keys are in order (noted so, or sorted since). */
const char *diags_key(const struct diags *d, const struct diag *x);
/* The same over diagnostics taken in their sorted order, from *pos (0 at
 * the first): one pass over the keys for them all. */
const char *diags_key_next(const struct diags *d, const struct diag *x, size_t *pos);
/* Sort by file, then line (as diags_print does); the keys too. */
void diags_sort(struct diags *d);
const char *diag_level_to_string(enum diag_level level);
