/* SPDX-License-Identifier: MIT */
#pragma once

#include "../agent/scenario.h" /* FAULT_MASK */

/* The one list of fault kinds. A kind is one file, faults/NAME.c, that
 * defines `const struct fault_ops NAME_ops` (faults/fault.h), and one line
 * here: X(ID, NAME). The order is the order kinds are listed in messages
 * ("use one of latency, loss, ..."); a fault's type is the kind's index.
 * See faults/README.md. */
#define FAULT_KINDS(X)                 \
        X(LATENCY, latency)            \
        X(LOSS, loss)                  \
        X(BLACKHOLE, blackhole)        \
        X(CORRUPT, corrupt)            \
        X(DUPLICATE, duplicate)        \
        X(REORDER, reorder)            \
        X(BANDWIDTH, bandwidth)        \
        X(DNS, dns)                    \
        X(TCP_RESET, tcp_reset)        \
        X(SYSCALL_ERROR, syscall_error) \
        X(SYSCALL_DELAY, syscall_delay) \
        X(KILL, kill)                  \
        X(PAUSE, pause)                \
        X(SERVICE, service)            \
        X(CPU, cpu)                    \
        X(MEMORY, memory)              \
        X(IO, io)                      \
        X(PIDS, pids)                  \
        X(DISK_FILL, disk_fill)        \
        X(STRESS, stress)              \
        X(CLOCK, clock)

/* FAULT_LATENCY, ...: for faults/ alone (and the run loop until it asks
 * the kinds instead): code outside faults/ names no kind. */
enum fault_type {
#define FAULT_KIND_ID(id, name) FAULT_##id,
        FAULT_KINDS(FAULT_KIND_ID)
#undef FAULT_KIND_ID
        _FAULT_TYPE_MAX,
};

/* Kinds that share a mechanism (net.c, syscall.c, process.c, cgroup.c). */
#define FAULTS_NET                                                                                   \
        (FAULT_MASK(FAULT_LATENCY) | FAULT_MASK(FAULT_LOSS) | FAULT_MASK(FAULT_BLACKHOLE) |                  \
         FAULT_MASK(FAULT_CORRUPT) | FAULT_MASK(FAULT_DUPLICATE) | FAULT_MASK(FAULT_REORDER) |              \
         FAULT_MASK(FAULT_BANDWIDTH) | FAULT_MASK(FAULT_DNS) | \
         FAULT_MASK(FAULT_TCP_RESET))
#define FAULTS_PROC (FAULT_MASK(FAULT_KILL) | FAULT_MASK(FAULT_PAUSE))
#define FAULTS_SYSCALL (FAULT_MASK(FAULT_SYSCALL_ERROR) | FAULT_MASK(FAULT_SYSCALL_DELAY))
#define FAULTS_CGROUP (FAULT_MASK(FAULT_CPU) | FAULT_MASK(FAULT_MEMORY) | FAULT_MASK(FAULT_IO) | FAULT_MASK(FAULT_PIDS))
