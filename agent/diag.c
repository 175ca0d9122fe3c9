/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "diag.h"
#include "log.h"

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

/* A key against file:line: <0, 0, >0 as file:line comes before it. */
static int key_cmp(const char *file, unsigned line, const struct diag_key *k) {
        int c = strcmp(file, k->file);
        return c ? c : line < k->line ? -1 : line > k->line;
}

static int diag_key_cmp(const void *a, const void *b) {
        const struct diag_key *x = a, *y = b;
        int c = key_cmp(x->file, x->line, y);
        return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diags_sort(struct diags *d) {
        if (d->n > 1)
                qsort(d->v, d->n, sizeof d->v[0], diag_cmp);
        /* One file's keys come in line order: sorted already. */
        if (d->keys_unsorted)
                qsort(d->keys, d->n_keys, sizeof d->keys[0], diag_key_cmp);
        d->keys_unsorted = false;
}

void diags_print(struct diags *d, FILE *out) {
        diags_sort(d);
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *x = &d->v[i];
                const char *lvl = x->level == DIAG_WARNING ? "warning: "
                                  : x->level == DIAG_NOTE  ? "note: "
                                                           : "";
                char line[2048];
                if (x->line)
                        snprintf(line, sizeof line, "%s:%u: %s%s", x->file, x->line, lvl, x->msg);
                else
                        snprintf(line, sizeof line, "%s: %s%s", x->file, lvl, x->msg);
                /* On stderr, a log line with its priority (in the journal,
                 * an error is PRIORITY=3: `journalctl -p err` shows it). */
                if (out == stderr)
                        log_line(x->level == DIAG_ERROR     ? LOG_ERR | EVT_INVALID
                                 : x->level == DIAG_WARNING ? LOG_WARNING
                                                            : LOG_INFO,
                                 line);
                else
                        fprintf(out, "%s\n", line);
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
        struct diag_key k = {.file = strdup(file ? file : "-"), .line = line, .key = strdup(key), .seq = d->n_keys};
        /* Out of memory: the diagnostic just names no key. */
        if (!k.file || !k.key || array_push(&d->keys, &d->n_keys, sizeof k, &k) < 0) {
                free(k.file);
                free(k.key);
                return;
        }
        if (d->n_keys > 1 && diag_key_cmp(&d->keys[d->n_keys - 2], &d->keys[d->n_keys - 1]) > 0)
                d->keys_unsorted = true;
}

/* Before, a scan of every key for each diagnostic: quadratic in a file
 * with many of both. */
const char *diags_key(const struct diags *d, const struct diag *x) {
        if (!x->line)
                return NULL;
        if (d->keys_unsorted) {
                for (size_t i = 0; i < d->n_keys; i++)
                        if (!key_cmp(x->file, x->line, &d->keys[i]))
                                return d->keys[i].key;
                return NULL;
        }
        size_t lo = 0, hi = d->n_keys; /* the first key not before file:line */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (key_cmp(x->file, x->line, &d->keys[mid]) > 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < d->n_keys && !key_cmp(x->file, x->line, &d->keys[lo]) ? d->keys[lo].key : NULL;
}

const char *diags_key_next(const struct diags *d, const struct diag *x, size_t *pos) {
        if (d->keys_unsorted)
                return diags_key(d, x);
        if (!x->line)
                return NULL;
        while (*pos < d->n_keys && key_cmp(x->file, x->line, &d->keys[*pos]) > 0)
                (*pos)++;
        return *pos < d->n_keys && !key_cmp(x->file, x->line, &d->keys[*pos]) ? d->keys[*pos].key : NULL;
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
