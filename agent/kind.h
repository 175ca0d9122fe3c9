/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "journal.h"

/* Fault kinds as the model sees them. The model names no kind: it reads
 * them from the one list of kinds, the registry (faults/registry.c), which
 * this header declares and the registry defines. So includes go only
 * down (model <- faults <- engine <- CLI) while the kinds still say which
 * keys they take and check their own sections. */

struct scenario;
struct fault;
struct diags;

/* A journal entry kind (struct jentry's kind): how its change is undone
 * from the record alone (idempotent: already gone is success), and what
 * that undoing did, in words, for abort and recover. */
struct jentry_kind {
        const char *kind;
        int (*revert)(const struct jentry *e);
        /* NULL: the kind's word itself */
        void (*describe)(const struct jentry *e, char *buf, size_t len);
        bool netns; /* lives in the network namespace e->netns names */
};

/* What one of a kind's keys means for it, where the key table's words
 * (shared by every kind that takes the key) say too little: the manual
 * prints these under the kind. NULL: the table's. */
struct fault_key_doc {
        const char *key;
        const char *def;
        const char *desc;
};

/* The model's half of a fault kind: struct fault_ops (faults/fault.h)
 * starts with it. */
struct fault_kind {
        const char *name; /* type = NAME */
        /* What it does, in one line, for the manual (packaging/man/gen-man.c). */
        const char *summary;
        /* The [fault] keys it takes beyond type, start, duration and target
         * (the keys of agent/scenario.c's table marked FAULT_KEY_OF_KIND);
         * NULL-terminated. */
        const char *const *keys;
        /* Its own words for some of them, ended by {NULL}; may be NULL. */
        const struct fault_key_doc *key_docs;
        /* Its share of checking a section, after its keys and window were
         * checked and its target looked up (f->target_index, -1 if none or
         * not found); problems go to d with the section's lines. */
        void (*check)(struct scenario *s, struct fault *f, struct diags *d);
        /* The journal entry kinds its apply records, ended by {NULL}. */
        const struct jentry_kind *entries;
};

/* Defined by the registry (faults/registry.c): every kind, a fault's type
 * being its index here; and the entry kinds that no fault kind owns (a
 * launched target's), ended by {NULL}. */
extern const struct fault_kind *const fault_kinds[];
extern const size_t n_fault_kinds;
/* At most this many kinds: a set of them is a 32-bit FAULT_MASK. */
#define FAULT_KINDS_MAX 32
extern const struct jentry_kind jentry_kinds_other[];

/* The entry kind of e->kind, from the kinds' lists; NULL if none. */
const struct jentry_kind *jentry_kind_find(const char *kind);
