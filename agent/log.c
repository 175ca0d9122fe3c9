/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "log.h"

static int max_level = LOG_NOTICE; /* -v: LOG_DEBUG */

void log_set_max_level(int level) { max_level = level; }
int log_get_max_level(void) { return max_level; }

int log_internal(int level, int err, const char *fmt, ...) {
        if (level > max_level)
                return err < 0 ? err : -err;
        int saved = errno;
        if (err != 0)
                errno = err < 0 ? -err : err; /* for %m */
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "sabot: %s\n", buf);
        else
                fprintf(stderr, "<%d>sabot: %s\n", level, buf);
        errno = saved;
        return err < 0 ? err : -err;
}
