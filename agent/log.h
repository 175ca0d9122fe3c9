/* SPDX-License-Identifier: MIT */
#pragma once

#include <syslog.h>

#include "util.h"

/* Logs go to stderr. When stderr is not a terminal each line carries a
 * "<N>" syslog level prefix, which journald reads as the priority. */
void log_set_max_level(int level);
int log_get_max_level(void);
int log_internal(int level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, err, ...) log_internal(level, err, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
/* %m in the format expands to strerror(-err); returns err (negative). */
#define log_error_errno(err, ...) log_internal(LOG_ERR, err, __VA_ARGS__)
#define log_warning_errno(err, ...) log_internal(LOG_WARNING, err, __VA_ARGS__)
