/* SPDX-License-Identifier: MIT */
#pragma once

#include <check.h>
#include <stdio.h>

#include "../../agent/diag.h"
#include "../../agent/policy.h"
#include "../../agent/scenario.h"

/* Parse text as scenario t.ini, check it against policy p (the built-in one
 * when NULL) and return every diagnostic as printed, one per line. */
static inline char *scenario_problems(const char *text, const struct policy *p) {
        struct diags d = {0};
        struct scenario *s = NULL;
        ck_assert_int_eq(scenario_parse("t.ini", text, strlen(text), &s, &d), 0);
        ck_assert_ptr_nonnull(s);
        struct policy *def = NULL;
        if (!p)
                p = def = policy_new_default();
        policy_check(p, s, NULL, &d);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        diags_print(&d, f);
        fclose(f);
        diags_free(&d);
        scenario_free(s);
        policy_free(def);
        return out;
}

#define ck_assert_contains(hay, needle)                                                            \
        ck_assert_msg(strstr((hay), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (hay))
#define ck_assert_not_contains(hay, needle)                                                        \
        ck_assert_msg(strstr((hay), (needle)) == NULL, "did not expect \"%s\" in:\n%s", (needle), (hay))

/* A minimal valid head to build scenarios on. */
#define HEAD "[scenario]\nname = t\nduration = 5m\n"

static inline int run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
