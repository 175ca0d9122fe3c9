/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "fault.h"
#include "../agent/scenario.h"
#include "syscall.h"

void fault_event(struct fault_ctx *c, int level, const struct fault *f, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (c->event)
                c->event(c->ud, level, f, fmt, ap);
        va_end(ap);
}

int fault_target_cgroup(struct fault_ctx *c, const struct fault *f, uint64_t *ret_id, uint32_t *ret_level) {
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int r = plan_resolve_target(c->pl, c->pl->s->targets[f->target_index], &rt);
        if (r >= 0 && !rt.cgroup)
                r = -ENOENT;
        if (r >= 0) {
                struct stat st;
                if (stat(rt.cgroup, &st) < 0)
                        r = -errno;
                else {
                        *ret_id = (uint64_t)st.st_ino;
                        uint32_t level = 0;
                        for (const char *p = rt.cgroup + strlen(c->pl->cgroup_root); *p; p++)
                                level += *p == '/';
                        *ret_level = level;
                }
        }
        return r;
}

int fault_track(struct fault_run *fr, unsigned seq) {
        return array_push(&fr->seqs, &fr->n_seqs, sizeof seq, &seq);
}

const struct fault_ops *fault_ops_get(int type) {
        static const struct fault_ops *const all[] = {&kill_ops,      &pause_ops,         &loss_ops,         &blackhole_ops,
                                                      &latency_ops,   &syscall_error_ops, &syscall_delay_ops};
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (all[i]->type == type)
                        return all[i];
        return NULL;
}

/* Journal entry kinds and how each is undone. */
static const struct {
        const char *kind;
        int (*revert)(const struct jentry *e);
} revert_kinds[] = {
        {"stop", process_revert_stop},
        {"freeze", process_revert_freeze},
        {"exec", process_revert_exec},
        {"exec-cgroup", process_revert_cgroup},
        {"tcfilter", net_revert_filter},
        {"clsact", net_revert_clsact},
        {"ifb", net_revert_ifb},
        {"bpf", syscall_revert_bpf},
};

int fault_revert_entry(const struct jentry *e) {
        for (size_t i = 0; i < ELEMENTSOF(revert_kinds); i++)
                if (streq(e->kind, revert_kinds[i].kind))
                        return revert_kinds[i].revert(e);
        return -EBADMSG;
}
