/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "log.h"
#include "systemd_lib.h"

/* Info by default: a strike, a launched target. -v: debug. */
static int max_level = LOG_INFO;
static char identifier[32] = "sabot";
static char run_id[160], scenario[128];

/* Kinds and their MESSAGE_IDs: fixed forever, explained by
 * packaging/sabot.catalog. */
static const struct {
        const char *name, *id;
} events[EVT_MAX] = {
        [EVT_START >> EVT_SHIFT] = {"start", "102f2a41c6aa443ab6a602c5bd54f9c4"},
        [EVT_APPLY >> EVT_SHIFT] = {"apply", "16cdf8af0f6d4fc09edf40399284a227"},
        [EVT_STRIKE >> EVT_SHIFT] = {"strike", "877746388fcc408ab9b51cbce3cf7945"},
        [EVT_REVERT >> EVT_SHIFT] = {"revert", "bdd02b554c42470eb5440924cfae4cdc"},
        [EVT_REVERT_FAILED >> EVT_SHIFT] = {"revert-failed", "0f2ee123ae07441ab470d851cd4d0969"},
        [EVT_BREACH >> EVT_SHIFT] = {"breach", "7d886f601b1c4bf1918e12c24d6f4547"},
        [EVT_ABORT >> EVT_SHIFT] = {"abort", "67144375909044869b57f570c1b14565"},
        [EVT_REFUSED >> EVT_SHIFT] = {"refused", "23c15cd71b434a678bae8436d6e4a3af"},
        [EVT_INVALID >> EVT_SHIFT] = {"invalid", "1846f3a91e7041468e662cb6c5bac8dc"},
        [EVT_END >> EVT_SHIFT] = {"end", "dcacb7cbc10c4a10afb78404cca4b885"},
        [EVT_NO_CHAOS >> EVT_SHIFT] = {"no-chaos", "8ed2d1b6a7ee494ebeb85768aa8a37fc"},
};

void log_set_max_level(int level) { max_level = level; }
int log_get_max_level(void) { return max_level; }

void log_set_identifier(const char *id) { snprintf(identifier, sizeof identifier, "%s", id); }

void log_set_run(const char *id, const char *name) {
        snprintf(run_id, sizeof run_id, "%s", id ? id : "");
        snprintf(scenario, sizeof scenario, "%s", name ? name : "");
}

const char *log_event_to_string(int ev) {
        unsigned k = (unsigned)LOG_EVENT_OF(ev) >> EVT_SHIFT;
        return k < EVT_MAX ? events[k].name : NULL;
}

/* systemd gives a service whose stderr is the journal the stream's
 * "DEV:INODE" in $JOURNAL_STREAM; a child whose stderr was redirected
 * inherits the variable, so the fd itself must still be that stream. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        if (!e || !*e)
                return false;
        char *end;
        errno = 0;
        uintmax_t dev = strtoumax(e, &end, 10);
        if (errno || end == e || *end != ':')
                return false;
        const char *p = end + 1;
        uintmax_t ino = strtoumax(p, &end, 10);
        if (errno || end == p || *end)
                return false;
        struct stat st;
        return fstat(STDERR_FILENO, &st) == 0 && (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

static int journal_mode = -1;
static bool journal_lib;

bool log_to_journal(void) {
        if (journal_mode < 0) {
                journal_mode = stderr_is_journal();
                /* Loaded here, at the first line, and only under systemd:
                 * a process started from a shell (the kill switch over
                 * SSH) never pays for it. Without it, the stream below. */
                char why[256];
                journal_lib = journal_mode && systemd_lib_load(why, sizeof why) >= 0;
        }
        return journal_mode;
}

#define FIELD(iov, n, buf, ...)                                                                                       \
        do {                                                                                                          \
                snprintf(buf, sizeof buf, __VA_ARGS__);                                                               \
                iov[n++] = (struct iovec){.iov_base = buf, .iov_len = strlen(buf)};                                   \
        } while (0)

/* One entry to journald; a negative errno if it could not be sent. */
static int send_journal(int prio, int ev, int err, const char *fault, const char *msg) {
        struct iovec iov[10];
        int n = 0;
        char m[2100], p[16], ident[64], e[32], run[200], sc[160], fa[300], evn[48], id[48];
        FIELD(iov, n, m, "MESSAGE=%s", msg);
        FIELD(iov, n, p, "PRIORITY=%d", prio);
        FIELD(iov, n, ident, "SYSLOG_IDENTIFIER=%s", identifier);
        if (err)
                FIELD(iov, n, e, "ERRNO=%d", err < 0 ? -err : err);
        if (run_id[0])
                FIELD(iov, n, run, "SABOT_RUN=%s", run_id);
        if (scenario[0])
                FIELD(iov, n, sc, "SABOT_SCENARIO=%s", scenario);
        if (fault && *fault)
                FIELD(iov, n, fa, "SABOT_FAULT=%s", fault);
        unsigned k = (unsigned)LOG_EVENT_OF(ev) >> EVT_SHIFT;
        if (k && k < EVT_MAX) {
                FIELD(iov, n, evn, "SABOT_EVENT=%s", events[k].name);
                FIELD(iov, n, id, "MESSAGE_ID=%s", events[k].id);
        }
        /* The plain function: no CODE_FILE or CODE_LINE, which would
         * name this file. */
        return sdl.journal_sendv(iov, n);
}

static void emit(int level, int err, const char *fault, bool prefixed, const char *msg) {
        int prio = LOG_PRI(level);
        if (log_to_journal()) {
                /* sd_journal_sendv drops the line and reports success when
                 * journald's socket is missing (ENOENT): look first. */
                struct stat st;
                if (journal_lib && stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode) &&
                    send_journal(prio, level, err, fault, msg) >= 0)
                        return;
                /* journald is not there: the stream reads the prefix. */
                fprintf(stderr, "<%d>%s%s\n", prio, prefixed ? "sabot: " : "", msg);
                return;
        }
        fprintf(stderr, "%s%s\n", prefixed ? "sabot: " : "", msg);
}

static int log_v(int level, int err, const char *fault, const char *fmt, va_list ap) {
        if (LOG_PRI(level) > max_level)
                return err < 0 ? err : -err;
        int saved = errno;
        if (err != 0)
                errno = err < 0 ? -err : err; /* for %m */
        char buf[2048];
        int o = 0;
        if (fault && *fault)
                o = snprintf(buf, sizeof buf, "%s: ", fault);
        if (o < 0 || (size_t)o >= sizeof buf)
                o = 0;
        vsnprintf(buf + o, sizeof buf - (size_t)o, fmt, ap);
        emit(level, err, fault, true, buf);
        errno = saved;
        return err < 0 ? err : -err;
}

int log_internal(int level, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = log_v(level, err, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int log_fault(int level, const char *fault, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = log_v(level, 0, fault, fmt, ap);
        va_end(ap);
        return r;
}

void log_line(int level, const char *text) {
        if (LOG_PRI(level) > max_level)
                return;
        int saved = errno;
        emit(level, 0, NULL, false, text);
        errno = saved;
}
