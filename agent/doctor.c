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

int doctor_main(void) {
        int missing = 0;
        char why[PATH_MAX + 512];

        printf("process faults\n");
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
        row("pause by cgroup.freeze", why, why[0] ? "Linux 5.2 or later with cgroup v2; pause uses SIGSTOP meanwhile" : NULL);
        free(cg);
        free(own);

        printf("network faults\n");
        struct net_support s;
        net_probe(&s);
        missing += row("loss, blackhole (clsact + cls_bpf)", s.clsact_why, NULL);
        missing += row("latency: ifb", s.ifb_why, NULL);
        missing += row("latency: netem", s.netem_why, NULL);
        missing += row("latency: act_mirred", s.mirred_why, NULL);

        printf("syscall faults\n");
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
