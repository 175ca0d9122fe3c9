/* SPDX-License-Identifier: MIT */
/* libFuzzer: the same bytes as a scenario and as a host policy, then the
 * scenario against the built-in policy and against the fuzzed one. Nothing
 * here touches the host. */
#include <stdint.h>

#include "../../agent/policy.h"
#include "../../agent/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct diags d = {0};
        struct scenario *s = NULL;
        struct policy *p = NULL, *def = policy_new_default();
        (void)scenario_parse("fuzz.ini", (const char *)data, size, &s, &d);
        (void)policy_parse("fuzz-policy.ini", (const char *)data, size, &p, &d);
        if (s && def) {
                struct limits eff;
                policy_check(def, s, &eff, &d);
                if (p)
                        policy_check(p, s, &eff, &d);
                /* The formatters the plan uses, on whatever was parsed. */
                for (size_t i = 0; i < s->n_faults; i++) {
                        char *a = format_cidr_list(&s->faults[i]->dst), *b = format_port_list(&s->faults[i]->dport);
                        free(a);
                        free(b);
                }
        }
        FILE *null = fopen("/dev/null", "we");
        if (null) {
                diags_print(&d, null);
                fclose(null);
        }
        diags_free(&d);
        scenario_free(s);
        policy_free(p);
        policy_free(def);
        return 0;
}
