/* SPDX-License-Identifier: MIT */
/* The kinds' registry: the lists the model reads (agent/kind.h) and the
 * engine's lookup, made from faults/registry.h's one list. */
#include "fault.h"
#include "process.h"

#define FAULT_KIND_DECLARE(id, name) extern const struct fault_ops name##_ops;
FAULT_KINDS(FAULT_KIND_DECLARE)
#undef FAULT_KIND_DECLARE

static const struct fault_ops *const all[] = {
#define FAULT_KIND_OPS(id, name) [FAULT_##id] = &name##_ops,
        FAULT_KINDS(FAULT_KIND_OPS)
#undef FAULT_KIND_OPS
};

const struct fault_kind *const fault_kinds[] = {
#define FAULT_KIND_MODEL(id, name) [FAULT_##id] = &name##_ops.kind,
        FAULT_KINDS(FAULT_KIND_MODEL)
#undef FAULT_KIND_MODEL
};
const size_t n_fault_kinds = ELEMENTSOF(fault_kinds);
_Static_assert(ELEMENTSOF(fault_kinds) <= 32, "allowed_types is a 32-bit mask of kinds");

/* A launched target's entries (agent/run.c launches it): no fault kind's. */
const struct jentry_kind jentry_kinds_other[] = {
        {"exec", process_revert_exec, process_describe_exec, false},
        {"exec-cgroup", process_revert_cgroup, process_describe_cgroup, false},
        {NULL},
};

const struct fault_backend *fault_backend_at(size_t i) {
        for (size_t t = 0; t < ELEMENTSOF(all); t++) {
                bool first = true;
                for (size_t k = 0; k < t && first; k++)
                        first = all[k]->backend != all[t]->backend;
                if (first && i-- == 0)
                        return all[t]->backend;
        }
        return NULL;
}

const struct fault_ops *fault_ops_get(int type) {
        return type >= 0 && (size_t)type < ELEMENTSOF(all) ? all[type] : NULL;
}

_Static_assert(_FAULT_TYPE_MAX <= FAULT_KINDS_MAX, "a set of kinds is a 32-bit FAULT_MASK");
