/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "../faults/fault.h"
#include "policy.h"

static const char *const policy_kinds[_POL_MAX] = {[POL_LIMITS] = "limits", [POL_PROTECT] = "protect",
                                                   [POL_PROBES] = "probes"};

static const struct conf_key policy_keys[] = {
        LIMIT_KEYS(POL_LIMITS, struct limits),
        {POL_PROTECT, "ports", parse_port_list, offsetof(struct protect, ports), 0, "port list", "22",
         "never delayed or dropped, in either direction"},
        {POL_PROTECT, "units", parse_unit_list, offsetof(struct protect, units), 0,
         "unit list", "ssh.service, sshd.service, systemd-journald.service",
         "units whose processes are never touched"},
        {POL_PROTECT, "comms", parse_comm_list, offsetof(struct protect, comms), 0,
         "process name list", "sshd, systemd-journal",
         "process names never touched"},
        {POL_PROTECT, "interfaces", parse_ifname_list, offsetof(struct protect, interfaces), 0,
         "interface list", "none",
         "interfaces no network fault may name"},
        {POL_PROBES, "user", parse_user_name, offsetof(struct probes, user), 0, "user name", "nobody",
         "the unprivileged user exec SLO probes run as"},
};

struct policy_ctx {
        struct policy *p;
        bool seen[_POL_MAX];
};

static struct conf_obj *policy_section(void *ctx, int kind, const char *name, unsigned line,
                                       struct diags *d, const char *file) {
        struct policy_ctx *c = ctx;
        struct conf_obj *obj = kind == POL_LIMITS    ? &c->p->limits.hdr
                               : kind == POL_PROTECT ? &c->p->protect.hdr
                                                     : &c->p->probes.hdr;
        if (name) {
                diag_error(d, file, line, "[%s] takes no name; write [%s]", policy_kinds[kind], policy_kinds[kind]);
                return NULL;
        }
        if (c->seen[kind]) {
                diag_error(d, file, line, "[%s] appears twice (first at line %u); merge them",
                           policy_kinds[kind], obj->line);
                return NULL;
        }
        c->seen[kind] = true;
        obj->line = line;
        return obj;
}

const struct conf_spec policy_spec = {
        .kinds = policy_kinds,
        .n_kinds = _POL_MAX,
        .keys = policy_keys,
        .n_keys = ELEMENTSOF(policy_keys),
        .section = policy_section,
};

struct policy *policy_new_default(void) {
        struct policy *p = calloc(1, sizeof *p);
        if (!p)
                return NULL;
        /* Conservative ceilings for a host nobody wrote a policy for: faults
         * that hurt but leave the service able to recover. */
        p->limits = (struct limits){
                .hdr.kind = POL_LIMITS,
                .max_duration = 3600 * NSEC_PER_SEC,
                .max_delay = 5 * NSEC_PER_SEC,
                .max_loss = RATIO_ONE / 2,
                .max_corrupt = RATIO_ONE / 2,
                /* Shaped slower than this, a link is a blackhole by another
                 * name: blackhole says so and is capped by its own policy. */
                .min_bandwidth = 1000000,
                .max_dns_percent = RATIO_ONE,
                .max_tcp_reset_percent = RATIO_ONE,
                .max_kill_count = 10,
                .max_kill_percent = RATIO_ONE / 2,
                .min_survivors = 1,
                /* disk-fill and stress leave this much for the host's own
                 * work (and for the revert: an unlink needs no space). */
                .min_free_disk = {.share = RATIO_ONE / 20, .is_share = true},
                .min_free_memory = {.share = RATIO_ONE / 10, .is_share = true},
                .max_clock_offset = 365 * 86400,
                .allowed_types = fault_types_all(),
        };
        p->protect.hdr.kind = POL_PROTECT;
        p->probes.hdr.kind = POL_PROBES;
        /* exec SLO probes run unprivileged: a check command cannot become
         * a way to run anything as root. */
        p->probes.user = strdup("nobody");
        struct port_range ssh = {22, 22};
        if (array_push(&p->protect.ports.v, &p->protect.ports.n, sizeof ssh, &ssh) < 0 ||
            strv_push(&p->protect.comms, "sshd") < 0 || strv_push(&p->protect.comms, "systemd-journal") < 0 ||
            strv_push(&p->protect.units, "ssh.service") < 0 || strv_push(&p->protect.units, "sshd.service") < 0 ||
            strv_push(&p->protect.units, "systemd-journald.service") < 0 || !p->probes.user) {
                policy_free(p);
                return NULL;
        }
        return p;
}

int policy_parse(const char *file, const char *buf, size_t len, struct policy **ret, struct diags *d) {
        _cleanup_(policy_freep) struct policy *p = policy_new_default();
        if (!p || !(p->path = strdup(file)))
                return -ENOMEM;
        /* Keys the file sets replace the defaults; a list given in the file
         * replaces the default list, so the parsers must start empty. */
        struct protect defaults = p->protect;
        p->protect = (struct protect){.hdr.kind = POL_PROTECT};
        struct policy_ctx c = {.p = p};
        int r = conf_parse(&policy_spec, file, buf, len, &c, d);
        if (!conf_line(&policy_spec, &p->protect.hdr, "ports"))
                p->protect.ports = defaults.ports, defaults.ports = (struct port_list){0};
        if (!conf_line(&policy_spec, &p->protect.hdr, "units"))
                p->protect.units = defaults.units, defaults.units = (struct strv){0};
        if (!conf_line(&policy_spec, &p->protect.hdr, "comms"))
                p->protect.comms = defaults.comms, defaults.comms = (struct strv){0};
        port_list_free(&defaults.ports);
        strv_free(&defaults.units);
        strv_free(&defaults.comms);
        strv_free(&defaults.interfaces);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int policy_load(const char *path, bool is_default, struct policy **ret, struct diags *d) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        /* Always trusted, and parsed from the one open that was checked. */
        int r = conf_read(path, true, DIAG_ERROR, &buf, &len, NULL, d);
        if (r == -ENOENT && is_default) {
                *ret = policy_new_default();
                return *ret ? 0 : -ENOMEM;
        }
        if (r == -EPERM)
                return r;
        if (r < 0) {
                diag_error(d, path, 0, "cannot read the host policy: %s", strerror(-r));
                return r;
        }
        return policy_parse(path, buf, len, ret, d);
}

void policy_free(struct policy *p) {
        if (!p)
                return;
        free(p->path);
        port_list_free(&p->protect.ports);
        strv_free(&p->protect.units);
        strv_free(&p->protect.comms);
        strv_free(&p->protect.interfaces);
        free(p->probes.user);
        free(p);
}

bool file_is_trusted(const char *path, struct diags *d, enum diag_level level) {
        _cleanup_free_ char *buf = NULL;
        int r = conf_read(path, true, level, &buf, NULL, NULL, d);
        if (r < 0 && r != -EPERM)
                diags_add(d, level, path, 0, "cannot check that only root can change it: %s", strerror(-r));
        return r >= 0;
}

/* Where an effective limit comes from, for messages. */
struct limit_src {
        char where[PATH_MAX + 64];
};

static void src_policy(struct limit_src *w, const struct policy *p, const char *key) {
        unsigned l = p->path ? conf_line(&policy_spec, &p->limits.hdr, key) : 0;
        if (!p->path)
                snprintf(w->where, sizeof w->where, "the built-in host policy");
        else if (l)
                snprintf(w->where, sizeof w->where, "the host policy %s:%u", p->path, l);
        else
                snprintf(w->where, sizeof w->where, "the host policy %s (built-in default)", p->path);
}

static const char *const limit_keys[_LIMIT_MAX] = {
        "max_duration", "max_delay", "max_loss", "max_corrupt", "min_bandwidth", "max_dns_percent", "max_tcp_reset_percent", "max_kill_count", "max_kill_percent", "min_survivors",
        "min_free_disk", "min_free_memory", "max_clock_offset", "allowed_types",
};

static void types_to_string(uint32_t mask, char *buf, size_t len) {
        buf[0] = '\0';
        for (size_t t = 0; t < n_fault_kinds; t++)
                if (mask & FAULT_MASK(t))
                        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
                                 fault_type_to_string((int)t));
        if (!buf[0])
                snprintf(buf, len, "(none)");
}

static void reserve_value(const struct reserve *r, char buf[static FORMAT_MAX]) {
        if (r->is_share)
                format_ratio(buf, r->share);
        else
                snprintf(buf, FORMAT_MAX, "%lluB", (unsigned long long)r->bytes);
}

/* A reserve kept less than b's: in different units (bytes, a share) they
 * cannot be compared without the host, so that is refused as looser. */
static bool reserve_looser(const struct reserve *a, const struct reserve *b) {
        if (a->is_share != b->is_share)
                return true;
        return a->is_share ? a->share < b->share : a->bytes < b->bytes;
}

/* A value of one limit as text. */
static void limit_value(const struct limits *l, int which, char buf[static FORMAT_MAX]) {
        switch (which) {
        case LIMIT_DURATION: format_duration(buf, l->max_duration); break;
        case LIMIT_DELAY: format_duration(buf, l->max_delay); break;
        case LIMIT_LOSS: format_ratio(buf, l->max_loss); break;
        case LIMIT_CORRUPT: format_ratio(buf, l->max_corrupt); break;
        case LIMIT_BANDWIDTH: format_rate(buf, l->min_bandwidth); break;
        case LIMIT_DNS_PERCENT: format_ratio(buf, l->max_dns_percent); break;
        case LIMIT_TCP_RESET_PERCENT: format_ratio(buf, l->max_tcp_reset_percent); break;
        case LIMIT_KILL_COUNT: snprintf(buf, FORMAT_MAX, "%u", l->max_kill_count); break;
        case LIMIT_KILL_PERCENT: format_ratio(buf, l->max_kill_percent); break;
        case LIMIT_SURVIVORS: snprintf(buf, FORMAT_MAX, "%u", l->min_survivors); break;
        case LIMIT_FREE_DISK: reserve_value(&l->min_free_disk, buf); break;
        case LIMIT_FREE_MEMORY: reserve_value(&l->min_free_memory, buf); break;
        case LIMIT_CLOCK_OFFSET: format_clock_offset(buf, (int64_t)l->max_clock_offset, false); break;
        default: types_to_string(l->allowed_types, buf, FORMAT_MAX); break;
        }
}

/* Whether scenario value a is looser than the policy's b, for limit which. */
static bool looser(const struct limits *a, const struct limits *b, int which) {
        switch (which) {
        case LIMIT_DURATION: return a->max_duration > b->max_duration;
        case LIMIT_DELAY: return a->max_delay > b->max_delay;
        case LIMIT_LOSS: return a->max_loss > b->max_loss;
        case LIMIT_CORRUPT: return a->max_corrupt > b->max_corrupt;
        case LIMIT_BANDWIDTH: return a->min_bandwidth < b->min_bandwidth;
        case LIMIT_DNS_PERCENT: return a->max_dns_percent > b->max_dns_percent;
        case LIMIT_TCP_RESET_PERCENT: return a->max_tcp_reset_percent > b->max_tcp_reset_percent;
        case LIMIT_KILL_COUNT: return a->max_kill_count > b->max_kill_count;
        case LIMIT_KILL_PERCENT: return a->max_kill_percent > b->max_kill_percent;
        case LIMIT_SURVIVORS: return a->min_survivors < b->min_survivors;
        case LIMIT_FREE_DISK: return reserve_looser(&a->min_free_disk, &b->min_free_disk);
        case LIMIT_FREE_MEMORY: return reserve_looser(&a->min_free_memory, &b->min_free_memory);
        case LIMIT_CLOCK_OFFSET: return a->max_clock_offset > b->max_clock_offset;
        default: return (a->allowed_types & ~b->allowed_types) != 0;
        }
}

static void take(struct limits *eff, const struct limits *from, int which) {
        switch (which) {
        case LIMIT_DURATION: eff->max_duration = from->max_duration; break;
        case LIMIT_DELAY: eff->max_delay = from->max_delay; break;
        case LIMIT_LOSS: eff->max_loss = from->max_loss; break;
        case LIMIT_CORRUPT: eff->max_corrupt = from->max_corrupt; break;
        case LIMIT_BANDWIDTH: eff->min_bandwidth = from->min_bandwidth; break;
        case LIMIT_DNS_PERCENT: eff->max_dns_percent = from->max_dns_percent; break;
        case LIMIT_TCP_RESET_PERCENT: eff->max_tcp_reset_percent = from->max_tcp_reset_percent; break;
        case LIMIT_KILL_COUNT: eff->max_kill_count = from->max_kill_count; break;
        case LIMIT_KILL_PERCENT: eff->max_kill_percent = from->max_kill_percent; break;
        case LIMIT_SURVIVORS: eff->min_survivors = from->min_survivors; break;
        case LIMIT_FREE_DISK: eff->min_free_disk = from->min_free_disk; break;
        case LIMIT_FREE_MEMORY: eff->min_free_memory = from->min_free_memory; break;
        case LIMIT_CLOCK_OFFSET: eff->max_clock_offset = from->max_clock_offset; break;
        default: eff->allowed_types = from->allowed_types; break;
        }
}

/* What the kinds report against the ceilings (struct limit_check). */
struct policy_limit_check {
        struct limit_check lc;
        const char *file;
        const struct limit_src *src;
        struct diags *d;
};

static void limit_over(struct limit_check *lc, enum limit_key which, unsigned line, const char *what) {
        struct policy_limit_check *p = (struct policy_limit_check *)lc;
        char c[FORMAT_MAX];
        limit_value(lc->eff, which, c);
        diag_error(p->d, p->file, line, "%s exceeds %s = %s set by %s", what, limit_keys[which], c, p->src[which].where);
}

static void limit_under(struct limit_check *lc, enum limit_key which, unsigned line, const char *what) {
        struct policy_limit_check *p = (struct policy_limit_check *)lc;
        char c[FORMAT_MAX];
        limit_value(lc->eff, which, c);
        diag_error(p->d, p->file, line, "%s is below %s = %s set by %s; a fault may only %s", what, limit_keys[which], c,
                   p->src[which].where, which == LIMIT_BANDWIDTH ? "leave more bandwidth" : "keep more survivors");
}

#define SLINE(obj, key) conf_line(&scenario_spec, &(obj)->hdr, key)

void policy_check(const struct policy *p, const struct scenario *s, struct limits *ret_eff, struct diags *d) {
        struct limits eff = p->limits;
        struct limit_src src[_LIMIT_MAX];
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX];

        for (int i = 0; i < _LIMIT_MAX; i++) {
                src_policy(&src[i], p, limit_keys[i]);
                unsigned line = s->has_limits ? SLINE(&s->limits, limit_keys[i]) : 0;
                if (!line)
                        continue;
                if (looser(&s->limits, &p->limits, i)) {
                        limit_value(&s->limits, i, a);
                        limit_value(&p->limits, i, b);
                        bool units = (i == LIMIT_FREE_DISK &&
                                      s->limits.min_free_disk.is_share != p->limits.min_free_disk.is_share) ||
                                     (i == LIMIT_FREE_MEMORY &&
                                      s->limits.min_free_memory.is_share != p->limits.min_free_memory.is_share);
                        diag_error(d, s->file, line, "%s = %s would loosen %s (%s = %s); a scenario's "
                                   "[limits] may only tighten the host policy%s", limit_keys[i], a,
                                   src[i].where, limit_keys[i], b,
                                   units ? " (a size and a percentage cannot be compared before the run: write it "
                                           "in the policy's unit)" : "");
                        continue;
                }
                take(&eff, &s->limits, i);
                snprintf(src[i].where, sizeof src[i].where, "the scenario's [limits] (line %u)", line);
        }

#define OVER(which, line, fmt, ...)                                                                \
        do {                                                                                       \
                limit_value(&eff, which, c);                                                       \
                diag_error(d, s->file, line, fmt " exceeds %s = %s set by %s", __VA_ARGS__,        \
                           limit_keys[which], c, src[which].where);                                \
        } while (0)

        if (s->has_head && s->head.duration > eff.max_duration)
                OVER(LIMIT_DURATION, SLINE(&s->head, "duration"), "duration = %s", format_duration(a, s->head.duration));

        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = s->faults[i];
                if (f->type < 0)
                        continue;
                if (!(eff.allowed_types & FAULT_MASK(f->type))) {
                        char types[32 * 16]; /* every kind's name: FORMAT_MAX cut the list */
                        types_to_string(eff.allowed_types, types, sizeof types);
                        diag_error(d, s->file, SLINE(f, "type"), "type = %s is not allowed on this host: "
                                   "allowed_types = %s, set by %s", fault_type_to_string(f->type), types,
                                   src[LIMIT_TYPES].where);
                }
                const struct fault_ops *ops = fault_ops_get(f->type);
                if (ops->check_limits) {
                        struct policy_limit_check lc = {
                                .lc = {.eff = &eff, .over = limit_over, .under = limit_under},
                                .file = s->file, .src = src, .d = d,
                        };
                        ops->check_limits(s, f, &lc.lc);
                }
                if (f->interface && strv_contains(&p->protect.interfaces, f->interface))
                        diag_error(d, s->file, SLINE(f, "interface"), "interface %s is protected by the "
                                   "host policy ([protect] interfaces); choose another interface", f->interface);
                const struct port_list *pl[2] = {&f->dport, &f->sport};
                for (int k = 0; k < 2; k++)
                        for (size_t j = 0; j < pl[k]->n; j++) {
                                const struct port_range *r = &pl[k]->v[j];
                                bool all = true;
                                for (unsigned port = r->lo; port <= r->hi && all; port++)
                                        all = port_list_contains(&p->protect.ports, (uint16_t)port);
                                if (all)
                                        diag_error(d, s->file, SLINE(f, k ? "sport" : "dport"),
                                                   "%s %u%s%.0u is protected by the host policy ([protect] "
                                                   "ports): its traffic is never touched, so this match "
                                                   "selects nothing", k ? "sport" : "dport", r->lo,
                                                   r->lo == r->hi ? "" : "-", r->lo == r->hi ? 0 : r->hi);
                        }
        }

        for (size_t i = 0; i < s->n_targets; i++) {
                const struct target *t = s->targets[i];
                if (t->sel == SEL_UNIT && t->unit && strv_contains(&p->protect.units, t->unit))
                        diag_error(d, s->file, t->sel_line, "unit %s is protected by the host policy "
                                   "([protect] units); it cannot be a target", t->unit);
                if (t->sel == SEL_COMM && t->comm && strv_contains(&p->protect.comms, t->comm))
                        diag_error(d, s->file, t->sel_line, "process name %s is protected by the host "
                                   "policy ([protect] comms); it cannot be a target", t->comm);
        }
#undef OVER
        if (ret_eff)
                *ret_eff = eff;
}
