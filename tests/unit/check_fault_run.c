/* SPDX-License-Identifier: MIT */
/* The run-time side of the kinds' ops, without root: what the live view
 * and the report show, and the launch hooks the engine and the guardian
 * reach the syscall kinds through. */
#include "../../faults/fault.h"
#include "../../faults/syscall.h"
#include "testutil.h"

static struct fault_run run_of(struct fault *f, enum fault_state st, unsigned strikes, unsigned hits) {
        return (struct fault_run){.f = f, .state = st, .strikes = strikes, .hits = hits};
}

START_TEST(test_progress) {
        static const struct {
                int type;
                const char *want;
                const char *keys[2];
        } cases[] = {
                {FAULT_LOSS, "dropped 3 of 9 packets", {"matched", "acted_on"}},
                {FAULT_BLACKHOLE, "dropped 3 of 9 packets", {"matched", "acted_on"}},
                {FAULT_LATENCY, "delayed 3 packets", {"matched", "acted_on"}},
                {FAULT_KILL, "strikes 9, killed 3", {"strikes", "processes"}},
                {FAULT_PAUSE, "stopped 3", {"strikes", "processes"}},
                {FAULT_SYSCALL_ERROR, "failed 3 of 9 calls", {"matched", "acted_on"}},
                {FAULT_SYSCALL_DELAY, "held 3 of 9 calls", {"matched", "acted_on"}},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct fault_ops *ops = fault_ops_get(cases[i].type);
                ck_assert_ptr_nonnull(ops);
                ck_assert_ptr_nonnull(ops->progress);
                struct fault f = {.type = cases[i].type, .target_index = -1};
                /* Done: the counters as kept (no kernel counter is read). */
                struct fault_run fr = run_of(&f, FR_DONE, 9, 3);
                char buf[128] = "";
                ops->progress(&fr, buf, sizeof buf);
                ck_assert_str_eq(buf, cases[i].want);
                ck_assert_str_eq(ops->counter_names[0], cases[i].keys[0]);
                ck_assert_str_eq(ops->counter_names[1], cases[i].keys[1]);
        }
}
END_TEST

START_TEST(test_launch_tables) {
        const struct fault_launch_ops *v[8];
        /* Both syscall kinds share one table (one listener per target);
         * clock has its own (LD_PRELOAD), with no page and nothing to
         * answer for the guardian. */
        ck_assert_uint_eq(fault_launch_tables(v, 8), 2);
        ck_assert_ptr_eq(fault_ops_get(FAULT_SYSCALL_ERROR)->launch, v[0]);
        ck_assert_ptr_eq(fault_ops_get(FAULT_SYSCALL_DELAY)->launch, v[0]);
        ck_assert_ptr_eq(fault_ops_get(FAULT_CLOCK)->launch, v[1]);
        ck_assert_uint_eq(v[1]->shared_size, 0);
        ck_assert_ptr_null(v[1]->fail_open);
        ck_assert_ptr_null(v[1]->adopt);
        for (int t = 0; t < _FAULT_TYPE_MAX; t++)
                if (!(FAULT_MASK(t) & FAULTS_SYSCALL) && t != FAULT_CLOCK)
                        ck_assert_ptr_null(fault_ops_get(t)->launch);
        ck_assert_uint_eq(fault_shared_size(), sizeof(struct notify_shared));
        ck_assert_uint_ge(FAULT_GIVEN_FDS_MAX, NOTIFY_MAX_LISTENERS);
        /* Nothing given: nothing to answer. */
        ck_assert_int_eq(fault_fail_open(NULL, NULL, 0, 0, 0), 0);
}
END_TEST

START_TEST(test_fault_fail) {
        struct fault f = {.type = FAULT_LOSS};
        struct fault_run fr = run_of(&f, FR_ACTIVE, 0, 0);
        ck_assert_int_eq(fault_fail(&fr, -EPERM, "cannot load the classifier"), -EPERM);
        ck_assert_str_eq(fr.outcome, "cannot load the classifier: Operation not permitted");
}
END_TEST

START_TEST(test_reach) {
        /* A unit's or cgroup's processes by cgroup: network, syscall and
         * cgroup kinds; a launched tree: the syscall kinds only. */
        for (int t = 0; t < _FAULT_TYPE_MAX; t++) {
                unsigned reach = fault_ops_get(t)->reach;
                ck_assert_int_eq(!!(reach & FAULT_REACH_CGROUP), !!(FAULT_MASK(t) & (FAULTS_NET | FAULTS_SYSCALL | FAULTS_CGROUP)));
                ck_assert_int_eq(!!(reach & FAULT_REACH_TREE), !!(FAULT_MASK(t) & FAULTS_SYSCALL));
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("fault_run");
        TCase *tc = tcase_create("ops");
        tcase_add_test(tc, test_progress);
        tcase_add_test(tc, test_launch_tables);
        tcase_add_test(tc, test_fault_fail);
        tcase_add_test(tc, test_reach);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
