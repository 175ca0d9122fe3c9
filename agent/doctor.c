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
#include "json.h"
#include "run.h"

/* With --json: each row goes here, under the last group, instead of out. */
static struct json_object *checks;
static const char *group_name;

static void group(const char *name) {
        group_name = name;
        if (!checks)
                printf("%s\n", name);
}

/* A row; required: an unsupported one counts as missing (exit 6). */
static int row_json(const char *what, const char *why, const char *remedy, bool required) {
        bool ok = !why || !*why;
        struct json_object *o = json_object_new_object();
        json_add(o, "group", json_str(group_name));
        json_add(o, "what", json_str(what));
        json_add(o, "supported", json_object_new_boolean(ok));
        json_add(o, "required", json_object_new_boolean(required));
        json_add(o, "reason", ok ? NULL : json_str(why));
        json_add(o, "remedy", !ok && remedy && *remedy ? json_str(remedy) : NULL);
        json_object_array_add(checks, o);
        return !ok;
}

static int row_req(const char *what, const char *why, const char *remedy, bool required) {
        if (checks)
                return row_json(what, why, remedy, required);
        if (!why || !*why) {
                printf("  %-34s ok\n", what);
                return 0;
        }
        printf("  %-34s UNSUPPORTED: %s\n", what, why);
        if (remedy && *remedy)
                printf("  %-34s   remedy: %s\n", "", remedy);
        return 1;
}

static int row(const char *what, const char *why, const char *remedy) { return row_req(what, why, remedy, true); }

struct tally {
        int missing;
};

static void kind_row(void *ud, const char *what, const char *why, const char *remedy, bool advisory) {
        struct tally *t = ud;
        int m = row_req(what, why, remedy, !advisory);
        if (!advisory)
                t->missing += m;
}

int doctor_main(bool json) {
        _cleanup_(json_object_putp) struct json_object *doc = json ? json_doc_new("doctor") : NULL;
        if (json && !doc)
                return EXIT_INTERNAL;
        if (doc)
                json_add(doc, "checks", checks = json_object_new_array());
        struct tally t = {0};
        char why[PATH_MAX + 512];

        /* Each mechanism once, in the order of the kinds that use it. */
        const struct fault_backend *b;
        for (size_t i = 0; (b = fault_backend_at(i)); i++) {
                group(b->title);
                b->doctor(kind_row, &t);
        }
        int missing = t.missing;

        group("slo probes");
        missing += row("http, prometheus (libcurl)", curl_lib_load(why, sizeof why) < 0 ? why : "", NULL);
        missing += row("psi (/proc/pressure)", access("/proc/pressure/cpu", R_OK) < 0 ? strerror(errno) : "",
                       "a kernel with CONFIG_PSI (and psi=1 on its command line where it is off by default), as "
                       "Debian 12's stock kernels have");

        if (doc) {
                json_add(doc, "unsupported", json_object_new_int(missing));
                (void)json_print(doc, stdout);
                checks = NULL;
                return missing ? EXIT_UNSUPPORTED : EXIT_HELD;
        }
        printf(missing ? "\n%d kind%s unsupported here: scenarios using %s exit 6 before touching anything\n"
                       : "\neverything is supported\n",
               missing, missing == 1 ? " is" : "s are", missing == 1 ? "it" : "them");
        return missing ? EXIT_UNSUPPORTED : EXIT_HELD;
}
