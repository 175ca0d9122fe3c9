/* SPDX-License-Identifier: MIT */
#pragma once

#include "fault.h"

extern const struct fault_ops dns_ops;

/* Load the program of every dns fault of sc (not attached), before the
 * run, where the guardian's watch of the heartbeat does not count yet:
 * its window then only attaches it. One that fails to load here is tried
 * again, and said, at its fault's apply. 0 or the first negative errno. */
int dns_preload(const struct scenario *sc, const struct port_list *protected_ports);
