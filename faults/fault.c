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

int fault_fail(struct fault_run *fr, int err, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(fr->outcome, sizeof fr->outcome, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof fr->outcome)
                snprintf(fr->outcome + n, sizeof fr->outcome - (size_t)n, ": %s", strerror(-err));
        return err;
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

int fault_revert_entry(const struct jentry *e) {
        const struct jentry_kind *k = jentry_kind_find(e->kind);
        return k ? k->revert(e) : -EBADMSG;
}

void fault_require_target(struct scenario *s, const struct fault *f, struct diags *d) {
        fault_require(s, f, "target", " (the [target NAME] to act on)", d);
}

void fault_beat(struct fault_ctx *c) {
        if (c && c->beat)
                c->beat(c->ud);
}
