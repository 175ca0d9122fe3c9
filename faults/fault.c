/* SPDX-License-Identifier: MIT */
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
        {"tcfilter", net_revert_filter},
        {"clsact", net_revert_clsact},
        {"ifb", net_revert_ifb},
};

int fault_revert_entry(const struct jentry *e) {
        for (size_t i = 0; i < ELEMENTSOF(revert_kinds); i++)
                if (streq(e->kind, revert_kinds[i].kind))
                        return revert_kinds[i].revert(e);
        return -EBADMSG;
}
