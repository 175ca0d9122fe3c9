/* SPDX-License-Identifier: MIT */
#include "log.h"
#include "prepare.h"

int prepare_policy(const char *path, bool is_default, struct policy **ret, struct diags *d) {
        struct policy *p = NULL;
        size_t before = d->errors;
        int r = policy_load(path, is_default, &p, d);
        if (r >= 0 && d->errors > before)
                r = -EINVAL;
        if (r < 0) {
                policy_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int prepare_scenario(const char *path, bool require_trust, const struct policy *p, struct limits *ret_eff,
                     struct scenario **ret, struct diags *d) {
        _cleanup_(scenario_freep) struct scenario *s = NULL;
        size_t before = d->errors;
        int r = scenario_load_trusted(path, require_trust, &s, d);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !s)
                return -EINVAL;
        log_set_run(NULL, s->head.name);
        policy_check(p, s, ret_eff, d);
        *ret = TAKE_PTR(s);
        return d->errors > before ? -EINVAL : 0;
}
