/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>

#include "../agent/log.h"
#include "bpf_common.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        /* Below sabot's own lines, which log what failed, once (the
         * default shows info): -v shows libbpf's detail. */
        (void)level;
        int lvl = LOG_DEBUG;
        if (lvl > log_get_max_level())
                return 0;
        char buf[1024];
        vsnprintf(buf, sizeof buf, fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_internal(lvl, 0, "%s", buf); /* libbpf prefixes its own */
        return 0;
}

void bpf_log_setup(void) { libbpf_set_print(libbpf_print); }

int bpf_percpu_sum(const struct bpf_map *map, uint32_t n, uint64_t *ret) {
        int ncpu = libbpf_num_possible_cpus();
        if (ncpu < 0)
                return ncpu;
        __u64 vals[ncpu];
        for (__u32 k = 0; k < n; k++) {
                int r = bpf_map__lookup_elem(map, &k, sizeof k, vals, sizeof(__u64) * (size_t)ncpu, 0);
                if (r < 0)
                        return r;
                ret[k] = 0;
                for (int c = 0; c < ncpu; c++)
                        ret[k] += vals[c];
        }
        return 0;
}
