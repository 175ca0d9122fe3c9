/* SPDX-License-Identifier: MIT */
#pragma once

#include "diag.h"
#include "parse.h"

/* The INI reader shared by scenario and policy files: inih splits lines into
 * sections and key = value pairs; a table of keys maps each key to a strict
 * parser and a field. Every problem becomes a FILE:LINE diagnostic and
 * parsing goes on, so one pass reports all of them. */

#define CONF_MAX_KEYS 96
#define CONF_MAX_FILE (1024 * 1024)

/* Every section object starts with this header. */
struct conf_obj {
        int kind;
        char *name;    /* NULL for unnamed sections such as [scenario] */
        unsigned line; /* of the [section] header */
        /* line where each key of the table was set, by table index; 0 = unset */
        unsigned key_line[CONF_MAX_KEYS];
        /* set when the key's value was refused: rules that read the value
         * skip it, so one mistake gives one message */
        bool key_bad[CONF_MAX_KEYS];
};

struct conf_key {
        int kind; /* section kind the key belongs to */
        const char *key;
        value_parser_t parse;
        size_t offset; /* of the field inside the section object */
        uint32_t only; /* owner-defined mask (e.g. fault types); 0 = always */
        /* For the manual (packaging/man/gen-man.c) and messages: the
         * value's type and range, its default ("required" if none), what
         * it does, in one line. */
        const char *help;
        const char *def;
        const char *desc;
};

struct conf_spec {
        const char *const *kinds; /* section words by kind, e.g. "fault" */
        size_t n_kinds;
        const struct conf_key *keys;
        size_t n_keys;
        /* Make (or find) the object of a [word name] header. Report problems
         * into d and return NULL to skip the section's keys. */
        struct conf_obj *(*section)(void *ctx, int kind, const char *name, unsigned line,
                                    struct diags *d, const char *file);
        /* Optional, for the message about an unknown key, asked once the
         * whole section was read: whether something in obj narrows its keys
         * (a fault's type, an slo's probe), and then what, in words, into
         * buf ("loss", "probe = http"); and whether key k applies to obj.
         * NULL, or narrows() false: every key of the section's kind. */
        bool (*narrows)(const struct conf_obj *obj, char *buf, size_t len);
        bool (*applies)(const struct conf_obj *obj, const struct conf_key *k);
};

/* Optimal string alignment distance (Damerau-Levenshtein: insertions,
 * deletions, substitutions, adjacent transpositions) between a and b,
 * ASCII case ignored; at most CONF_DISTANCE_MAX + 1 (the words differ
 * more than a typo). */
#define CONF_DISTANCE_MAX 2
unsigned conf_distance(const char *a, const char *b);

/* Parse a buffer (need not be NUL-terminated; NUL bytes are refused). */
int conf_parse(const struct conf_spec *spec, const char *file, const char *buf, size_t len,
               void *ctx, struct diags *d);

/* Index of key in the table, or -1. */
int conf_key_index(const struct conf_spec *spec, int kind, const char *key);
/* Line where key was set in obj, 0 if unset. */
unsigned conf_line(const struct conf_spec *spec, const struct conf_obj *obj, const char *key);
/* Whether key was set and its value parsed. */
bool conf_ok(const struct conf_spec *spec, const struct conf_obj *obj, const char *key);

/* Read a scenario or policy file by one walk from / (see util.h
 * path_open_trusted), so that what is checked is what is parsed. With
 * require_trust, a file or directory on the way that someone other than
 * root could change is an error diagnostic at level and -EPERM; without
 * it, *ret_trusted says (may be NULL). Other errors are returned without
 * a diagnostic. */
int conf_read(const char *path, bool require_trust, enum diag_level level, char **ret_buf, size_t *ret_len,
              bool *ret_trusted, struct diags *d);
