/* SPDX-License-Identifier: MIT */
/* Scenario and policy files: read once, from the open file that was
 * checked; trust required for unattended runs and for the policy. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "../../agent/conf.h"
#include "testutil.h"

static char dir[] = "/tmp/sabot-conf-XXXXXX";

static void setup(void) { ck_assert_ptr_nonnull(mkdtemp(dir)); ck_assert_int_eq(chmod(dir, 0755), 0); }
static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
        strcpy(dir, "/tmp/sabot-conf-XXXXXX");
}

static void put(const char *path, const char *text, mode_t mode) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
        ck_assert_int_eq(chmod(path, mode), 0);
}

static char *printed(struct diags *d) {
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        diags_print(d, f);
        fclose(f);
        return out;
}

START_TEST(test_scenario_trust) {
        char p[PATH_MAX - 16], l[PATH_MAX];
        snprintf(p, sizeof p, "%s/s.ini", dir);
        put(p, "[scenario]\nname = s\nduration = 1s\n[fault f]\ntype = loss\ninterface = lo\npercent = 5%\n", 0666);
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_load_trusted(p, true, &s, &d), -EPERM);
        ck_assert_ptr_null(s);
        char *out = printed(&d);
        ck_assert_ptr_nonnull(strstr(out, "s.ini is writable by everyone; unattended runs read only files that only "
                                          "root can change: chmod go-w"));
        free(out);
        diags_free(&d);
        /* Without trust it is read: validate and plan on a user's own file. */
        ck_assert_int_eq(scenario_load_trusted(p, false, &s, &d), 0);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(d.errors, 0);
        scenario_free(s);
        s = NULL;
        diags_free(&d);
        /* A root-owned symlink to a root-owned file is fine. */
        ck_assert_int_eq(chmod(p, 0644), 0);
        snprintf(l, sizeof l, "%s/link.ini", dir);
        ck_assert_int_eq(symlink("s.ini", l), 0);
        ck_assert_int_eq(scenario_load_trusted(l, true, &s, &d), 0);
        ck_assert_ptr_nonnull(s);
        scenario_free(s);
        diags_free(&d);
}
END_TEST

START_TEST(test_policy_always_trusted) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/policy.ini", dir);
        put(p, "[limits]\nmax_loss = 10%\n", 0664);
        struct diags d = {0};
        struct policy *pol = NULL;
        ck_assert_int_eq(policy_load(p, false, &pol, &d), -EPERM);
        ck_assert_ptr_null(pol);
        char *out = printed(&d);
        ck_assert_ptr_nonnull(strstr(out, "policy.ini is writable by its group"));
        free(out);
        diags_free(&d);
        /* A directory above it that others can write is as bad. */
        ck_assert_int_eq(chmod(p, 0644), 0);
        ck_assert_int_eq(chmod(dir, 0777), 0);
        ck_assert_int_eq(policy_load(p, false, &pol, &d), -EPERM);
        diags_free(&d);
        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(policy_load(p, false, &pol, &d), 0);
        ck_assert_ptr_nonnull(pol);
        policy_free(pol);
        diags_free(&d);
        /* A missing default policy is the built-in one; a missing named one is an error. */
        snprintf(p, sizeof p, "%s/absent/policy.ini", dir);
        ck_assert_int_eq(policy_load(p, true, &pol, &d), 0);
        policy_free(pol);
        ck_assert_int_eq(policy_load(p, false, &pol, &d), -ENOENT);
        diags_free(&d);
}
END_TEST

int main(void) {
        Suite *s = suite_create("conf");
        TCase *tc = tcase_create("conf");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_scenario_trust);
        tcase_add_test(tc, test_policy_always_trusted);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
