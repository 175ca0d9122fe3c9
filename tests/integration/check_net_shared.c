/* SPDX-License-Identifier: MIT */
/* Root: the shared classifiers (one per interface and direction) through
 * net_apply itself, in a network namespace of the test's own. */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../../agent/journal.h"
#include "../../faults/fault.h"
#include "../../faults/net.h"
#include "../unit/testutil.h"

static void no_event(void *ud, int level, const struct fault *f, const char *fmt, va_list ap) {
        (void)ud, (void)level, (void)f, (void)fmt, (void)ap;
}

/* Windows opened one after another on four hooks, none of the classifiers
 * loaded before (a caller without net_preload, or a load that failed at
 * preflight): each apply loads its own, and the first window's end must
 * still find its classifier. Before, the classifiers were one array that
 * each load grew (moved): the first window's end read freed memory. */
START_TEST(test_later_load_keeps_earlier_windows) {
        /* The veth and the journal die with the test's process, whatever
         * its end: its own network namespace, a tmpfs of its own on /tmp. */
        ck_assert_int_eq(unshare(CLONE_NEWNET | CLONE_NEWNS), 0);
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        ck_assert_int_eq(mount("tmpfs", "/tmp", "tmpfs", 0, "mode=0700,size=16m"), 0);
        char veth[64];
        snprintf(veth, sizeof veth, "ip link add sabot-ns%d type veth peer name sabot-np%d", (int)getpid(), (int)getpid());
        ck_assert_int_eq(system(veth), 0);
        char ini[1024];
        int n = snprintf(ini, sizeof ini,
                         "[scenario]\nname = shared\nduration = 1h\n"
                         "[fault a]\ntype = blackhole\ninterface = lo\nprotocol = udp\ndport = 9\n"
                         "[fault b]\ntype = blackhole\ninterface = lo\ndirection = ingress\nprotocol = udp\ndport = 9\n"
                         "[fault c]\ntype = loss\npercent = 50%%\ninterface = sabot-ns%d\nprotocol = udp\ndport = 9\n"
                         "[fault d]\ntype = blackhole\ninterface = sabot-ns%d\ndirection = ingress\nprotocol = udp\n",
                         (int)getpid(), (int)getpid());
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_parse("shared.ini", ini, (size_t)n, &s, &d), 0);
        ck_assert_uint_eq(d.errors, 0);
        ck_assert_uint_eq(s->n_faults, 4);
        struct policy *p = policy_new_default();
        const char *dir = "/tmp";
        struct journal *j = NULL;
        ck_assert_int_eq(journal_create(dir, "check-shared", "shared", &j), 0);
        struct plan pl = {.s = s, .p = p};
        struct fault_run frs[4];
        for (size_t i = 0; i < 4; i++) {
                ck_assert(net_shares_classifier(s->faults[i]));
                frs[i] = (struct fault_run){.f = s->faults[i]};
        }
        struct fault_ctx c = {.j = j, .pl = &pl, .event = no_event, .frs = frs, .n_frs = 4};
        for (size_t i = 0; i < 4; i++) {
                frs[i].state = FR_ACTIVE;
                int r = fault_ops_get(frs[i].f->type)->apply(&c, &frs[i]);
                ck_assert_msg(r == 0, "apply %s: %s (%s)", frs[i].f->hdr.name, strerror(-r), frs[i].outcome);
        }
        /* The windows end in the order they opened: a's classifier was the
         * first loaded. */
        for (size_t i = 0; i < 4; i++) {
                fault_ops_get(frs[i].f->type)->finish(&c, &frs[i]);
                ck_assert_msg(strstr(frs[i].outcome, "matching packets"), "%s: %s", frs[i].f->hdr.name, frs[i].outcome);
                unsigned failed = 0;
                ck_assert_int_ge(journal_revert_some(j, frs[i].seqs, frs[i].n_seqs, &failed), 0);
                ck_assert_uint_eq(failed, 0);
        }
        unsigned failed = 0;
        ck_assert_int_ge(journal_revert_all(j, &failed, NULL, NULL), 0);
        ck_assert_uint_eq(failed, 0);
        for (size_t i = 0; i < 4; i++) {
                frs[i].priv_free(frs[i].priv);
                free(frs[i].seqs);
        }
        journal_remove(j);
        journal_free(j);
        policy_free(p);
        scenario_free(s);
}
END_TEST

int main(void) {
        Suite *s = suite_create("net_shared");
        TCase *tc = tcase_create("apply");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_later_load_keeps_earlier_windows);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
