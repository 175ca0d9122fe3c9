/* SPDX-License-Identifier: MIT */
/* sabot doctor: which fault kinds and backends this host supports, found
 * by trying (in a throwaway network namespace, or with programs that match
 * nothing), each with the reason and remedy when not. */
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <sys/syscall.h>

#include "curl_lib.h"
#include "../faults/fault.h"
#include "doctor.h"
#include "host.h"
#include "run.h"

static int row(const char *what, const char *why, const char *remedy) {
        if (!why || !*why) {
                printf("  %-34s ok\n", what);
                return 0;
        }
        printf("  %-34s UNSUPPORTED: %s\n", what, why);
        if (remedy && *remedy)
                printf("  %-34s   remedy: %s\n", "", remedy);
        return 1;
}

struct tally {
        int missing;
};

static void kind_row(void *ud, const char *what, const char *why, const char *remedy, bool advisory) {
        struct tally *t = ud;
        int m = row(what, why, remedy);
        if (!advisory)
                t->missing += m;
}

int doctor_main(void) {
        struct tally t = {0};
        char why[PATH_MAX + 512];

        /* Each mechanism once, in the order of the kinds that use it. */
        const struct fault_backend *b;
        for (size_t i = 0; (b = fault_backend_at(i)); i++) {
                printf("%s\n", b->title);
                b->doctor(kind_row, &t);
        }
        int missing = t.missing;

        printf("slo probes\n");
        missing += row("http, prometheus (libcurl)", curl_lib_load(why, sizeof why) < 0 ? why : "", NULL);
        missing += row("psi (/proc/pressure)", access("/proc/pressure/cpu", R_OK) < 0 ? strerror(errno) : "",
                       "a kernel with CONFIG_PSI (and psi=1 on its command line where it is off by default), as "
                       "Debian 12's stock kernels have");

        printf(missing ? "\n%d kind%s unsupported here: scenarios using %s exit 6 before touching anything\n"
                       : "\neverything is supported\n",
               missing, missing == 1 ? " is" : "s are", missing == 1 ? "it" : "them");
        return missing ? EXIT_UNSUPPORTED : EXIT_HELD;
}
