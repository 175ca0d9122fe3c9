/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types shared by bpf/sys_fault.bpf.c and faults/sys_fault_loader.c. */
#pragma once

/* Counters, per CPU. */
enum sys_counter { SYS_SEEN, SYS_FAILED, _SYS_COUNTERS };

/* security_file_permission()'s mask bits (MAY_WRITE, MAY_READ). */
#define SYS_MAY_WRITE 2
#define SYS_MAY_READ 4

#define SYS_PATH_MAX 256
#define SYS_MAX_TGIDS 1024
