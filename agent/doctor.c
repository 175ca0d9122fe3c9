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
#include "../faults/sys_fault.h"
#include "../faults/syscall.h"
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

int doctor_main(bool json) {
        _cleanup_(json_object_putp) struct json_object *doc = json ? json_doc_new("doctor") : NULL;
        if (json && !doc)
                return EXIT_INTERNAL;
        if (doc)
                json_add(doc, "checks", checks = json_object_new_array());
        int missing = 0;
        char why[PATH_MAX + 512];

        group("process faults");
        int fd = sys_pidfd_open(getpid());
        snprintf(why, sizeof why, "%s", fd < 0 ? strerror(errno) : "");
        if (fd >= 0)
                close(fd);
        missing += row("kill, pause (pidfd signals)", why, "Linux 5.3 or later");
        char *cg = NULL, *own = NULL, p[PATH_MAX];
        why[0] = '\0';
        if (cgroup2_mount(&cg) < 0)
                snprintf(why, sizeof why, "cgroup2 is not mounted");
        else {
                /* The root cgroup has no cgroup.freeze: look in a child, made
                 * for the look and removed, when sabot runs in the root. */
                char probe[PATH_MAX] = "";
                if (proc_cgroup(getpid(), &own) >= 0 && !streq(own, "/"))
                        snprintf(p, sizeof p, "%s%s/cgroup.freeze", cg, own);
                else if (snprintf(probe, sizeof probe, "%s/sabot-doctor-%d", cg, (int)getpid()) > 0 && mkdir(probe, 0700) == 0)
                        snprintf(p, sizeof p, "%s/cgroup.freeze", probe);
                else
                        snprintf(p, sizeof p, "%s/cgroup.freeze", cg);
                if (access(p, F_OK) < 0)
                        snprintf(why, sizeof why, "no %s", p);
                if (probe[0])
                        rmdir(probe);
        }
        /* Not fatal: pause falls back to SIGSTOP. */
        row_req("pause by cgroup.freeze", why, why[0] ? "Linux 5.2 or later with cgroup v2; pause uses SIGSTOP meanwhile" : NULL,
                false);
        free(cg);
        free(own);

        group("network faults");
        struct net_support s;
        net_probe(&s);
        missing += row("loss, blackhole (clsact + cls_bpf)", s.clsact_why, NULL);
        missing += row("latency: ifb", s.ifb_why, NULL);
        missing += row("latency: netem", s.netem_why, NULL);
        missing += row("latency: act_mirred", s.mirred_why, NULL);

        group("syscall faults");
        why[0] = '\0';
        missing += row("launched targets (seccomp notify)", syscall_seccomp_supported(why, sizeof why) < 0 ? why : "",
                       NULL);
        struct sys_fault_bpf *skel = NULL;
        /* A target that cannot exist: loaded and attached, it fails nothing. */
        struct sys_fault_spec spec = {.tgid = INT32_MAX, .err = EIO, .probability = RATIO_ONE};
        int r = sys_fault_load(&spec, &skel);
        why[0] = '\0';
        if (r < 0)
                snprintf(why, sizeof why, "fmod_ret on security_file_open does not load: %s", strerror(-r));
        else
                sys_fault_free(skel);
        missing += row("running processes (eBPF LSM hooks)", why,
                       "a kernel with CONFIG_BPF_LSM (or CONFIG_FUNCTION_ERROR_INJECTION) that allows tracing "
                       "programs, as Debian 12's linux-image-amd64, -cloud-amd64 and -6.12-amd64 do, under "
                       "lockdown too (integrity and confidentiality); some sandboxes refuse them");

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
