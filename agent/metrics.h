/* SPDX-License-Identifier: MIT */
#pragma once

#include "journal.h"
#include "state.h"

struct run;
struct scenario;

/* node_exporter's textfile format, one file per scenario (--metrics-file):
 * whether chaos is armed on the host, the last run (exit code, time,
 * duration, faults), the last success, and counters carried over from the
 * file's previous contents: runs by result, aborts by reason, faults
 * applied and reverted by kind. Every label value comes from a fixed list
 * (the scenario's name is [a-z0-9-]+). The file is replaced whole, under
 * a lock on its directory, so that writers never lose a count.
 *
 * Who writes it: the runner at its end (or when it is refused); whoever
 * reverts a run whose runner died (its guardian, `sabot abort`, `sabot
 * recover`) counts it as killed (exit code -1); `sabot abort`, `arm`,
 * `disarm` and `recover` set the armed gauge in every file a run of this
 * host has written (listed under STATE/metrics/). */

/* The last run of r, written to path (r->exit_code and times set). */
int metrics_write(const struct run *r, const char *path);
/* At a run's start, with the journal created and before any fault: where
 * a killed run is to be counted (beside the journal), and the file listed
 * for the armed gauge's updates. */
int metrics_begin(const struct dirs *d, struct journal *j, const struct scenario *s, const char *path);
/* Before removing the journal of a run whose runner died: count the run
 * as killed in its metrics file, if it named one. Logs what fails. */
void metrics_count_killed(struct journal *j);
/* The run is counted: a journal kept for a retry is not counted again. */
void metrics_counted(struct journal *j);
/* The armed gauge of every listed file, as the latch is now. */
void metrics_refresh_armed(const struct dirs *d);
