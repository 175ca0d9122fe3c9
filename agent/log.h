/* SPDX-License-Identifier: MIT */
#pragma once

#include <syslog.h>

#include "util.h"

/* Logs go to stderr, as plain text ("sabot: ..."). When stderr is the
 * journal (systemd sets $JOURNAL_STREAM to the stream's DEV:INODE), every
 * line goes to journald natively (sd_journal_sendv) with its priority and
 * the fields SABOT_RUN, SABOT_SCENARIO, SABOT_FAULT, SABOT_EVENT and, for
 * the events below, a MESSAGE_ID that packaging/sabot.catalog explains; if
 * journald cannot be reached, the line goes to stderr with a "<N>" prefix,
 * which the stream reads as the priority. */

/* What a line tells, or'ed into its level: log_internal(LOG_NOTICE |
 * EVT_APPLY, ...). Each kind has a fixed MESSAGE_ID. */
#define EVT_SHIFT 12
enum log_event {
        EVT_NONE = 0,
        EVT_START = 1 << EVT_SHIFT,         /* a run started */
        EVT_APPLY = 2 << EVT_SHIFT,         /* a fault applied */
        EVT_STRIKE = 3 << EVT_SHIFT,        /* one strike of a repeated fault */
        EVT_REVERT = 4 << EVT_SHIFT,        /* a fault reverted */
        EVT_REVERT_FAILED = 5 << EVT_SHIFT, /* something could not be reverted */
        EVT_BREACH = 6 << EVT_SHIFT,        /* an SLO breached */
        EVT_ABORT = 7 << EVT_SHIFT,         /* the kill switch, a signal, a lost guardian */
        EVT_REFUSED = 8 << EVT_SHIFT,       /* a run refused: disarmed, another run active */
        EVT_INVALID = 9 << EVT_SHIFT,       /* a scenario or policy refused as invalid */
        EVT_END = 10 << EVT_SHIFT,          /* a run ended, everything reverted */
        EVT_NO_CHAOS = 11 << EVT_SHIFT,     /* chaos did not happen (exit 7) */
};
#define EVT_MAX 12
#define LOG_EVENT_OF(level) ((level) & ~((1 << EVT_SHIFT) - 1))

void log_set_max_level(int level);
int log_get_max_level(void);
/* SYSLOG_IDENTIFIER of every line from now on ("sabot-guardian" in the
 * guardian); the default is "sabot". */
void log_set_identifier(const char *id);
/* SABOT_RUN and SABOT_SCENARIO of every line from now on (NULL: none). */
void log_set_run(const char *run_id, const char *scenario);
/* Whether lines go to journald natively. */
bool log_to_journal(void);
/* The name of an event kind ("apply"), NULL for EVT_NONE. */
const char *log_event_to_string(int ev);

int log_internal(int level, int err, const char *fmt, ...) _printf_(3, 4);
/* A line of fault fault ("NAME: ..." on stderr, SABOT_FAULT=NAME). */
int log_fault(int level, const char *fault, const char *fmt, ...) _printf_(3, 4);
/* A line printed as it is, without the "sabot: " prefix (file:line
 * diagnostics); in the journal, with its priority. */
void log_line(int level, const char *text);

#define log_full_errno(level, err, ...) log_internal(level, err, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_crit(...) log_internal(LOG_CRIT, 0, __VA_ARGS__)
/* %m in the format expands to strerror(-err); returns err (negative). */
#define log_error_errno(err, ...) log_internal(LOG_ERR, err, __VA_ARGS__)
#define log_warning_errno(err, ...) log_internal(LOG_WARNING, err, __VA_ARGS__)
