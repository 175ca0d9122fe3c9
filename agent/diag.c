/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "diag.h"

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
               const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);

        struct diag x = {
                .file = strdup(file ? file : "-"),
                .line = line,
                .level = level,
                .msg = strdup(buf),
                .seq = d->n,
        };
        if (!x.file || !x.msg || array_push(&d->v, &d->n, sizeof x, &x) < 0) {
                /* Out of memory while reporting: keep the count right so the
                 * caller still refuses the input. */
                free(x.file);
                free(x.msg);
        }
        if (level == DIAG_ERROR)
                d->errors++;
}

static int diag_cmp(const void *a, const void *b) {
        const struct diag *x = a, *y = b;
        int c = strcmp(x->file, y->file);
        if (c != 0)
                return c;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        /* qsort is not stable: keep insertion order within a line. */
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diags_sort(struct diags *d) {
        if (d->n > 1)
                qsort(d->v, d->n, sizeof d->v[0], diag_cmp);
}

void diags_print(struct diags *d, FILE *out) {
        diags_sort(d);
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *x = &d->v[i];
                const char *lvl = x->level == DIAG_WARNING ? "warning: "
                                  : x->level == DIAG_NOTE  ? "note: "
                                                           : "";
                if (x->line)
                        fprintf(out, "%s:%u: %s%s\n", x->file, x->line, lvl, x->msg);
                else
                        fprintf(out, "%s: %s%s\n", x->file, lvl, x->msg);
        }
}

const struct diag *diags_find(const struct diags *d, const char *needle) {
        for (size_t i = 0; i < d->n; i++)
                if (strstr(d->v[i].msg, needle))
                        return &d->v[i];
        return NULL;
}

void diags_note_key(struct diags *d, const char *file, unsigned line, const char *key) {
        if (!d->want_keys)
                return;
        struct diag_key k = {.file = strdup(file ? file : "-"), .line = line, .key = strdup(key)};
        /* Out of memory: the diagnostic just names no key. */
        if (!k.file || !k.key || array_push(&d->keys, &d->n_keys, sizeof k, &k) < 0) {
                free(k.file);
                free(k.key);
        }
}

const char *diags_key(const struct diags *d, const struct diag *x) {
        if (!x->line)
                return NULL;
        for (size_t i = 0; i < d->n_keys; i++)
                if (d->keys[i].line == x->line && streq(d->keys[i].file, x->file))
                        return d->keys[i].key;
        return NULL;
}

const char *diag_level_to_string(enum diag_level level) {
        return level == DIAG_WARNING ? "warning" : level == DIAG_NOTE ? "note" : "error";
}

void diags_free(struct diags *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].file);
                free(d->v[i].msg);
        }
        free(d->v);
        for (size_t i = 0; i < d->n_keys; i++) {
                free(d->keys[i].file);
                free(d->keys[i].key);
        }
        free(d->keys);
        *d = (struct diags){0};
}
