/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/sys_fault.bpf.c and faults/sys_fault.c. */
#pragma once

/* Counters, per CPU. */
enum sys_counter { SYS_SEEN, SYS_FAILED, _SYS_COUNTERS };
