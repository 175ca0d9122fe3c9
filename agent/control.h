/* SPDX-License-Identifier: MIT */
#pragma once

#include "state.h"

/* The kill switch: disarm, stop every run, revert everything any journal
 * still holds, print what and how long. 0 when nothing remains applied. */
int control_abort(const struct dirs *d, const char *reason, bool json);
int control_arm(const struct dirs *d);
int control_disarm(const struct dirs *d, const char *reason);
int control_status(const struct dirs *d, bool json);
/* Revert what journals of dead runs still hold and remove them. */
int control_recover(const struct dirs *d);
