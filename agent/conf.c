/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <sys/stat.h>

#include "conf.h"

struct reader {
        const struct conf_spec *spec;
        void *ctx;
        struct diags *d;
        const char *file;
        const char *buf;
        size_t len, pos;
        unsigned line;
        bool expect_handler; /* the line fed to inih was key = value */
        bool handler_called;
        struct conf_obj *obj; /* current section, NULL if none or invalid */
        bool in_bad_section;  /* suppress key errors after a bad header */
        /* Unknown keys of the current section, reported when it ends: what
         * narrows its keys (a fault's type) may come after them. */
        struct {
                char key[64];
                unsigned line;
        } pending[16];
        size_t n_pending;
};

unsigned conf_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return streq(a, b) ? 0 : CONF_DISTANCE_MAX + 1;
        if ((la > lb ? la - lb : lb - la) > CONF_DISTANCE_MAX)
                return CONF_DISTANCE_MAX + 1;
        /* Three rows of the table: i-2, i-1 and i. */
        unsigned row[3][65];
        for (size_t j = 0; j <= lb; j++)
                row[0][j] = (unsigned)j;
        for (size_t i = 1; i <= la; i++) {
                unsigned *cur = row[i % 3], *prev = row[(i - 1) % 3], *prev2 = row[(i + 1) % 3];
                cur[0] = (unsigned)i;
                for (size_t j = 1; j <= lb; j++) {
                        int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
                        unsigned v = prev[j - 1] + (ca != cb);
                        if (prev[j] + 1 < v)
                                v = prev[j] + 1;
                        if (cur[j - 1] + 1 < v)
                                v = cur[j - 1] + 1;
                        if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
                                v = prev2[j - 2] + 1;
                        cur[j] = v;
                }
        }
        unsigned v = row[la % 3][lb];
        return v > CONF_DISTANCE_MAX ? CONF_DISTANCE_MAX + 1 : v;
}

/* An unknown key in obj: the keys that apply to it, and the nearest of
 * them if it is near enough to be a typo (one edit for keys of up to 4
 * characters, two above). */
static void report_unknown_key(struct reader *r, const char *key, unsigned line) {
        const struct conf_spec *spec = r->spec;
        const struct conf_obj *obj = r->obj;
        char what[64] = "";
        bool narrowed = spec->narrows && spec->narrows(obj, what, sizeof what);
        char allowed[1024] = "";
        const char *nearest = NULL;
        unsigned best = strlen(key) <= 4 ? 1 : CONF_DISTANCE_MAX;
        for (size_t i = 0; i < spec->n_keys; i++) {
                const struct conf_key *k = &spec->keys[i];
                if (k->kind != obj->kind || (narrowed && !spec->applies(obj, k)))
                        continue;
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                         allowed[0] ? ", " : "", k->key);
                unsigned dist = conf_distance(key, k->key);
                if (dist <= best && (!nearest || dist < best))
                        nearest = k->key, best = dist;
        }
        char mean[96] = "";
        if (nearest)
                snprintf(mean, sizeof mean, " did you mean '%s'?", nearest);
        diag_error(r->d, r->file, line, "unknown key '%s' in [%s];%s %s%s: %s", key, spec->kinds[obj->kind], mean,
                   narrowed ? "keys for " : "allowed keys", narrowed ? what : "", allowed);
}

static void flush_pending(struct reader *r) {
        for (size_t i = 0; i < r->n_pending; i++)
                report_unknown_key(r, r->pending[i].key, r->pending[i].line);
        r->n_pending = 0;
}

static void reader_finish_line(struct reader *r) {
        /* inih calls the handler for every key = value line we feed it; if it
         * did not, it found the line malformed. We classify lines first, so
         * this is only a safety net. */
        if (r->expect_handler && !r->handler_called)
                diag_error(r->d, r->file, r->line, "syntax error; expected [section], key = value, or "
                                                   "a comment starting with ; or #");
        r->expect_handler = r->handler_called = false;
}

static char *rtrim(char *s) {
        size_t l = strlen(s);
        while (l > 0 && isspace((unsigned char)s[l - 1]))
                s[--l] = '\0';
        return s;
}

/* Inline comments: ';' or '#' after whitespace, as in the scenario language. */
static void strip_inline_comment(char *s) {
        for (char *p = s + 1; *p; p++)
                if ((*p == ';' || *p == '#') && isspace((unsigned char)p[-1])) {
                        *p = '\0';
                        break;
                }
        rtrim(s);
}

static void section_header(struct reader *r, char *line) {
        if (r->obj)
                flush_pending(r);
        r->obj = NULL;
        r->in_bad_section = true;
        char *end = strchr(line, ']');
        if (!end) {
                diag_error(r->d, r->file, r->line, "section header without ']'; write [kind] or [kind NAME]");
                return;
        }
        *end = '\0';
        char *rest = end + 1;
        while (isspace((unsigned char)*rest))
                rest++;
        if (*rest && *rest != ';' && *rest != '#') {
                diag_error(r->d, r->file, r->line, "text after the section header: '%s'; only a "
                                                   "comment may follow ']'", rest);
                return;
        }
        char *word = line + 1;
        while (isspace((unsigned char)*word))
                word++;
        rtrim(word);
        char *name = word + strcspn(word, " \t");
        if (*name) {
                *name++ = '\0';
                while (isspace((unsigned char)*name))
                        name++;
        }
        for (size_t k = 0; k < r->spec->n_kinds; k++)
                if (streq(word, r->spec->kinds[k])) {
                        r->obj = r->spec->section(r->ctx, (int)k, *name ? name : NULL, r->line, r->d,
                                                  r->file);
                        r->in_bad_section = !r->obj;
                        return;
                }
        char allowed[256] = "";
        for (size_t k = 0; k < r->spec->n_kinds; k++)
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s[%s]",
                         k ? ", " : "", r->spec->kinds[k]);
        diag_error(r->d, r->file, r->line, "unknown section [%s]; allowed sections: %s", word, allowed);
}

static char *reader_next(char *str, int num, void *stream) {
        struct reader *r = stream;
        reader_finish_line(r);
        if (r->pos >= r->len)
                return NULL;

        const char *start = r->buf + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t linelen = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += linelen + (nl ? 1 : 0);
        r->line++;
        if (linelen > 0 && start[linelen - 1] == '\r')
                linelen--;

        /* What inih gets: the line without leading blanks or comments, so
         * indentation never turns into inih's multi-line continuation and
         * both ';' and '#' comment out the rest of a line. */
        str[0] = '\n';
        str[1] = '\0';
        if (linelen + 2 > (size_t)num) {
                diag_error(r->d, r->file, r->line, "line is longer than %d characters", num - 2);
                return str;
        }
        char line[linelen + 1];
        memcpy(line, start, linelen);
        line[linelen] = '\0';

        char *s = line;
        while (isspace((unsigned char)*s))
                s++;
        if (*s == '\0' || *s == ';' || *s == '#')
                return str;
        if (*s == '[') {
                section_header(r, s);
                return str;
        }
        strip_inline_comment(s);
        size_t sep = strcspn(s, "=:");
        if (s[sep] != '=') {
                diag_error(r->d, r->file, r->line, "expected key = value, a [section] or a comment");
                return str;
        }
        if (sep == 0) {
                diag_error(r->d, r->file, r->line, "missing key before '='");
                return str;
        }
        /* The section is ours to track: feed inih a fixed one. */
        snprintf(str, (size_t)num, "%s\n", s);
        r->expect_handler = true;
        return str;
}

static int handler(void *user, const char *section, const char *key, const char *value) {
        struct reader *r = user;
        (void)section;
        r->handler_called = true;
        if (!r->expect_handler)
                return 1;
        diags_note_key(r->d, r->file, r->line, key);
        if (!r->obj) {
                if (!r->in_bad_section)
                        diag_error(r->d, r->file, r->line, "'%s' is outside any section; put it under "
                                                           "a [section] header", key);
                return 1;
        }
        const struct conf_spec *spec = r->spec;
        int idx = conf_key_index(spec, r->obj->kind, key);
        if (idx < 0) {
                size_t n = r->n_pending;
                if (n < ELEMENTSOF(r->pending) && strlen(key) < sizeof r->pending[n].key) {
                        strcpy(r->pending[n].key, key);
                        r->pending[n].line = r->line;
                        r->n_pending++;
                } else
                        report_unknown_key(r, key, r->line);
                return 1;
        }
        if (r->obj->key_line[idx]) {
                diag_error(r->d, r->file, r->line, "'%s' is set twice in this section (first at line "
                                                   "%u); set each key once", key, r->obj->key_line[idx]);
                return 1;
        }
        r->obj->key_line[idx] = r->line;
        if (!*value) {
                r->obj->key_bad[idx] = true;
                diag_error(r->d, r->file, r->line, "'%s' has no value", key);
                return 1;
        }
        char err[PARSE_ERR_MAX] = "";
        const struct conf_key *k = &spec->keys[idx];
        int q = k->parse(value, (char *)r->obj + k->offset, err);
        if (q < 0)
                r->obj->key_bad[idx] = true;
        if (q == -ENOMEM)
                diag_error(r->d, r->file, r->line, "%s: out of memory", key);
        else if (q < 0)
                diag_error(r->d, r->file, r->line, "%s: %s", key, err);
        return 1;
}

/* Keys by (kind, name) in a hash table built on first use, one per key
 * table: every LINE()/OK() of a check is a lookup, so a scan of the table
 * per lookup made validating grow with keys x lookups x sections. Open
 * addressing, 4 x CONF_MAX_KEYS slots (at most a quarter full). */
#define CONF_INDEX_SLOTS (4 * CONF_MAX_KEYS)
struct conf_index {
        const struct conf_spec *spec;
        const struct conf_key *keys; /* what it was built from */
        size_t n_keys;
        int16_t slot[CONF_INDEX_SLOTS]; /* key index + 1; 0: empty */
};

static unsigned key_hash(int kind, const char *key) {
        uint32_t h = 2166136261u ^ (uint32_t)kind;
        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h % CONF_INDEX_SLOTS;
}

static const struct conf_index *conf_index_of(const struct conf_spec *spec) {
        /* The scenario and policy tables, and a test's own. */
        static struct conf_index cache[4];
        for (size_t c = 0; c < ELEMENTSOF(cache); c++) {
                struct conf_index *x = &cache[c];
                if (x->spec == spec && x->keys == spec->keys && x->n_keys == spec->n_keys)
                        return x;
                if (x->spec || spec->n_keys > CONF_MAX_KEYS)
                        continue;
                /* The first key of a (kind, name) wins, as a scan would find. */
                for (size_t i = 0; i < spec->n_keys; i++) {
                        unsigned h = key_hash(spec->keys[i].kind, spec->keys[i].key);
                        bool dup = false;
                        for (; x->slot[h]; h = (h + 1) % CONF_INDEX_SLOTS) {
                                const struct conf_key *k = &spec->keys[x->slot[h] - 1];
                                if (k->kind == spec->keys[i].kind && streq(k->key, spec->keys[i].key)) {
                                        dup = true;
                                        break;
                                }
                        }
                        if (!dup)
                                x->slot[h] = (int16_t)(i + 1);
                }
                x->spec = spec, x->keys = spec->keys, x->n_keys = spec->n_keys;
                return x;
        }
        return NULL;
}

int conf_key_index(const struct conf_spec *spec, int kind, const char *key) {
        const struct conf_index *x = conf_index_of(spec);
        if (!x) {
                for (size_t i = 0; i < spec->n_keys; i++)
                        if (spec->keys[i].kind == kind && streq(spec->keys[i].key, key))
                                return (int)i;
                return -1;
        }
        for (unsigned h = key_hash(kind, key); x->slot[h]; h = (h + 1) % CONF_INDEX_SLOTS) {
                const struct conf_key *k = &spec->keys[x->slot[h] - 1];
                if (k->kind == kind && streq(k->key, key))
                        return x->slot[h] - 1;
        }
        return -1;
}

unsigned conf_line(const struct conf_spec *spec, const struct conf_obj *obj, const char *key) {
        int i = conf_key_index(spec, obj->kind, key);
        return i < 0 ? 0 : obj->key_line[i];
}

bool conf_ok(const struct conf_spec *spec, const struct conf_obj *obj, const char *key) {
        int i = conf_key_index(spec, obj->kind, key);
        return i >= 0 && obj->key_line[i] && !obj->key_bad[i];
}

int conf_parse(const struct conf_spec *spec, const char *file, const char *buf, size_t len,
               void *ctx, struct diags *d) {
        if (spec->n_keys > CONF_MAX_KEYS)
                return -E2BIG;
        if (memchr(buf, '\0', len)) {
                diag_error(d, file, 0, "contains a NUL byte; scenario and policy files are text");
                return 0;
        }
        /* inih skips a UTF-8 BOM only on its own first line; drop it here. */
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
                buf += 3, len -= 3;

        struct reader r = {
                .spec = spec, .ctx = ctx, .d = d, .file = file, .buf = buf, .len = len,
        };
        int q = ini_parse_stream(reader_next, &r, handler, &r);
        reader_finish_line(&r);
        if (r.obj)
                flush_pending(&r);
        if (q < 0)
                return -ENOMEM;
        return 0;
}

/* What a trust problem means for an unattended run, with the remedy. */
static void trust_diag(struct diags *d, enum diag_level level, const char *file, const struct trust *t) {
        switch (t->issue) {
        case TRUST_OWNER:
                diags_add(d, level, file, 0, "%s is owned by uid %u; unattended runs read only files owned by root: "
                          "chown root %s", t->path, (unsigned)t->uid, t->path);
                break;
        case TRUST_WRITABLE:
                diags_add(d, level, file, 0, "%s is writable by %s; unattended runs read only files that only root "
                          "can change: chmod go-w %s", t->path, (t->mode & S_IWOTH) ? "everyone" : "its group", t->path);
                break;
        default: {
                char b[sizeof t->path + 64];
                diags_add(d, level, file, 0, "%s; unattended runs read only files that only root can change",
                          trust_describe(t, b, sizeof b));
        }
        }
}

int conf_read(const char *path, bool require_trust, enum diag_level level, char **ret_buf, size_t *ret_len,
              bool *ret_trusted, struct diags *d) {
        struct trust t;
        /* One walk: the first problem is noted, and decides below. */
        int fd = path_open_trusted(path, 0, 0, &t);
        bool trusted = fd >= 0 && t.issue == TRUST_OK;
        if (fd >= 0 && !trusted && require_trust) {
                close(fd);
                trust_diag(d, level, path, &t);
                return -EPERM;
        }
        /* Without require_trust it is read all the same (validate, plan, a
         * run on a terminal). */
        if (fd < 0 && !require_trust && fd != -ENOMEM) {
                /* What the walk cannot follow (a /proc magic link such as
                 * /dev/stdin) is still readable, only not trusted. */
                fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
                trusted = false;
        }
        if (fd < 0)
                return fd;
        int r = read_full_fd(fd, CONF_MAX_FILE, ret_buf, ret_len);
        close(fd);
        if (r >= 0 && ret_trusted)
                *ret_trusted = trusted;
        return r;
}
