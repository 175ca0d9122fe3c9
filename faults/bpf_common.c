/* SPDX-License-Identifier: MIT */
#include <bpf/libbpf.h>
#include <stdarg.h>

#include "../agent/log.h"
#include "bpf_common.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        int lvl = level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG;
        if (lvl > log_get_max_level())
                return 0;
        char buf[1024];
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_internal(lvl, 0, "libbpf: %s", buf);
        return 0;
}

void bpf_log_setup(void) { libbpf_set_print(libbpf_print); }
