/* SPDX-License-Identifier: MIT */
#pragma once

#include "fault.h"

/* What kill and pause share (faults/process.c): targets' processes by
 * pidfd, the blast radius, the cgroup freezer. The kinds' files hold what
 * differs. */

/* Blast radius of one strike of a kill or pause: how many of `eligible`
 * processes to hit, with count (0 = unset) or percent, never leaving fewer
 * than min_survivors. Percentages round down. */
uint32_t blast_strike_count(uint32_t eligible, uint32_t count, ratio_t percent, uint32_t min_survivors);

/* The keys both kinds take, as the start of their keys lists. */
#define PROCESS_KEYS "percent", "count"
/* target, count or percent, every. */
void process_check(struct scenario *s, struct fault *f, struct diags *d);
/* "3" (count = 3) or "25%" (percent = 25%), in buf. */
const char *process_share(const struct fault *f, char buf[static FORMAT_MAX]);
extern const struct fault_backend process_backend;
/* The members of struct fault_ops that kill and pause share. */
#define PROCESS_OPS                                                                                 \
        .backend = &process_backend, .probe = process_probe, .counter_names = {"strikes", "processes"}
int process_probe(const struct scenario *s, const struct fault *f, char *why, size_t len);
int process_kill_apply(struct fault_ctx *c, struct fault_run *fr);
int process_kill_strike(struct fault_ctx *c, struct fault_run *fr);
int process_pause_apply(struct fault_ctx *c, struct fault_run *fr);
/* The outcome once reverted, and the live view's text. */
void process_kill_reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n);
void process_kill_progress(struct fault_run *fr, char *buf, size_t len);
void process_pause_reverted(struct fault_ctx *c, struct fault_run *fr, unsigned n);
void process_pause_progress(struct fault_run *fr, char *buf, size_t len);

/* The journal entries' words for what their revert did. */
void process_describe_stop(const struct jentry *e, char *buf, size_t len);
void process_describe_freeze(const struct jentry *e, char *buf, size_t len);
void process_describe_exec(const struct jentry *e, char *buf, size_t len);
void process_describe_cgroup(const struct jentry *e, char *buf, size_t len);
