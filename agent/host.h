/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

/* Read-only views of this host: cgroup2, processes. Nothing here changes it. */

/* The cgroup2 mount point from a mountinfo stream (most hosts:
 * /sys/fs/cgroup; hybrid layouts: /sys/fs/cgroup/unified). -ENOENT if none. */
int cgroup2_mount_from_mountinfo(FILE *f, char **ret);
int cgroup2_mount(char **ret);
/* MemTotal and MemAvailable of /proc/meminfo, in bytes. */
int host_meminfo(uint64_t *ret_total, uint64_t *ret_avail);
/* Find the cgroup directory of a systemd unit below root: from systemd
 * over sd-bus when it is PID 1 (-ENOENT when it runs no such unit,
 * -EHOSTUNREACH when it could not be asked), by a walk of the tree
 * otherwise. */
int cgroup_find_unit(const char *root, const char *unit, char **ret);
/* Pids in a cgroup and all its descendants, sorted, without duplicates. */
int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n);

int proc_comm(pid_t pid, char buf[static 16]);
/* The start time of a process in clock ticks since boot (/proc/PID/stat
 * field 22): with the pid, it names one process for its whole life. */
int proc_starttime(pid_t pid, uint64_t *ret);
/* The state letter of /proc/PID/stat ('R', 'S', 'T', 'Z', ...). */
int proc_state(pid_t pid, char *ret);
/* 1 if a kernel thread, 0 if not, negative errno (-ESRCH if gone). */
int proc_is_kthread(pid_t pid);
int proc_exe(pid_t pid, char **ret);
/* The process's cgroup2 path (relative, "/system.slice/x.service"). */
int proc_cgroup(pid_t pid, char **ret);
/* Whether this process is in the initial pid namespace. */
bool pid_ns_initial(void);
/* All pids in /proc, sorted. */
int proc_list(pid_t **ret, size_t *ret_n);
bool proc_exists(pid_t pid);
/* Read a pidfile: one positive pid, an optional newline. -EXDEV when the
 * file lives on procfs or sysfs (directly or through a symlink): numbers
 * there (ns_last_pid, a counter) name no particular process. */
int pidfile_read(const char *path, pid_t *ret);
/* The parent and the process group of a process (/proc/PID/stat). */
int proc_parent(pid_t pid, pid_t *ret_ppid, pid_t *ret_pgid);
/* 1 if pid is a process of a live sabot run, whichever run dir it uses:
 * a process running sabot's binary (the same file as ours, or one called
 * sabot whose comm is sabot or sabot-guardian: another build, or one a
 * package upgrade replaced), or a descendant of one in its process group
 * (SLO probe children and their children: launched targets get their own
 * process group, so they stay eligible). 0 if not, negative errno. */
int proc_is_sabot(pid_t pid);
/* Whether pid itself runs sabot's binary: the same file as this process's
 * (even deleted), or a copy whose file is named sabot and whose comm (as
 * read already, or NULL to read it) is sabot or sabot-guardian. */
bool proc_runs_sabot(pid_t pid, const char *comm);
