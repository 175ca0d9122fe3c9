/* SPDX-License-Identifier: MIT */
/* The kinds' launch tables, for the engine and the guardian, which know
 * no kind by name. */
#include "fault.h"
#include "../agent/scenario.h"

size_t fault_launch_tables(const struct fault_launch_ops **ret, size_t max) {
        size_t n = 0;
        for (int t = 0; t < _FAULT_TYPE_MAX; t++) {
                const struct fault_ops *ops = fault_ops_get(t);
                if (!ops || !ops->launch)
                        continue;
                bool have = false;
                for (size_t i = 0; i < n; i++)
                        have = have || ret[i] == ops->launch;
                if (!have && n < max)
                        ret[n++] = ops->launch;
        }
        return n;
}

/* One page, one owner: a second table that wanted one would need its own
 * share of it (and of the fds given), which no kind needs yet. */
size_t fault_shared_size(void) {
        const struct fault_launch_ops *v[_FAULT_TYPE_MAX];
        size_t n = fault_launch_tables(v, _FAULT_TYPE_MAX), size = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i]->shared_size > size)
                        size = v[i]->shared_size;
        return size;
}

int fault_fail_open(const void *shared, const int *fds, size_t n_fds, unsigned from, unsigned to) {
        const struct fault_launch_ops *v[_FAULT_TYPE_MAX];
        size_t n = fault_launch_tables(v, _FAULT_TYPE_MAX);
        int answered = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i]->fail_open)
                        answered += v[i]->fail_open(shared, fds, n_fds, from, to);
        return answered;
}
