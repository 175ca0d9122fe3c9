/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../agent/scenario.h"
#include "bpf_common.h"
#include "net_filter_loader.h"
#include "net_filter.skel.h"

_Static_assert(SCENARIO_MAX_PORT_RANGES == NET_MAX_PORT_RANGES, "the validator's port ceiling is the classifier's");
_Static_assert(SCENARIO_MAX_CIDRS == NET_MAX_CIDRS, "the validator's CIDR ceiling is the classifier's");
_Static_assert(SCENARIO_MAX_PROTECTED_PORTS == NET_MAX_PROTECTED, "the protected ports' ceiling is the classifier's");

static int fill_ranges(const struct port_list *l, volatile struct net_port_range *out, size_t max,
                       volatile __u32 *n) {
        if (!l)
                return 0;
        if (l->n > max)
                return -E2BIG;
        for (size_t i = 0; i < l->n; i++) {
                out[i].lo = l->v[i].lo;
                out[i].hi = l->v[i].hi;
        }
        *n = (__u32)l->n;
        return 0;
}

static int fill_cidrs(struct net_filter_bpf *skel, __u32 rule, const struct cidr_list *l, bool dst) {
        if (!l || l->n == 0)
                return 0;
        if (l->n > NET_MAX_CIDRS)
                return -E2BIG;
        __u8 one = 1;
        for (size_t i = 0; i < l->n; i++) {
                const struct cidr *c = &l->v[i];
                int r;
                if (c->family == AF_INET) {
                        struct net_lpm4 k = {.prefixlen = 32 + c->prefix, .rule = rule};
                        memcpy(k.addr, c->addr, 4);
                        r = bpf_map__update_elem(dst ? skel->maps.sabot_dst4 : skel->maps.sabot_src4, &k,
                                                 sizeof k, &one, sizeof one, BPF_ANY);
                } else {
                        struct net_lpm6 k = {.prefixlen = 32 + c->prefix, .rule = rule};
                        memcpy(k.addr, c->addr, 16);
                        r = bpf_map__update_elem(dst ? skel->maps.sabot_dst6 : skel->maps.sabot_src6, &k,
                                                 sizeof k, &one, sizeof one, BPF_ANY);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fill_rule(struct net_filter_bpf *skel, __u32 id, const struct net_filter_spec *spec, int ifindex,
                     bool cidrs) {
        static const __u32 protos[] = {
                [PROTO_ANY] = NET_PROTO_ANY, [PROTO_TCP] = NET_PROTO_TCP,
                [PROTO_UDP] = NET_PROTO_UDP, [PROTO_ICMP] = NET_PROTO_ICMP,
        };
        struct net_rule r = {
                .action = spec->action,
                .ifindex = ifindex > 0 ? (__u32)ifindex : 0,
                .probability = spec->probability,
                .correlation = spec->correlation,
                .proto = spec->protocol >= 0 && spec->protocol < (int)ELEMENTSOF(protos) ? protos[spec->protocol] : 0,
                .cgroup_id = spec->cgroup_id,
                .cgroup_level = spec->cgroup_level,
                .match_cidrs = (spec->dst && spec->dst->n ? NET_MATCH_DST : 0) |
                               (spec->src && spec->src->n ? NET_MATCH_SRC : 0),
        };
        int q = fill_ranges(spec->dport, r.dports, NET_MAX_PORT_RANGES, &r.n_dport);
        if (q >= 0)
                q = fill_ranges(spec->sport, r.sports, NET_MAX_PORT_RANGES, &r.n_sport);
        if (q >= 0)
                q = bpf_map__update_elem(skel->maps.sabot_rules, &id, sizeof id, &r, sizeof r, BPF_ANY);
        if (q >= 0 && cidrs)
                q = fill_cidrs(skel, id, spec->dst, true);
        if (q >= 0 && cidrs)
                q = fill_cidrs(skel, id, spec->src, false);
        return q;
}

/* Rules are checked before the program is loaded: a spec too big fails
 * without a load. */
static int check_rule(const struct net_filter_spec *spec) {
        if ((spec->dport && spec->dport->n > NET_MAX_PORT_RANGES) || (spec->sport && spec->sport->n > NET_MAX_PORT_RANGES) ||
            (spec->dst && spec->dst->n > NET_MAX_CIDRS) || (spec->src && spec->src->n > NET_MAX_CIDRS))
                return -E2BIG;
        return 0;
}

static int classifier_load(uint32_t l3_offset, const struct port_list *protected_ports,
                           const struct net_filter_spec *const *rules, size_t n, bool classic,
                           struct net_filter_bpf **ret) {
        if (n > NET_MAX_RULES)
                return -E2BIG;
        for (size_t k = 0; k < n; k++)
                if (check_rule(rules[k]) < 0)
                        return -E2BIG;
        struct net_filter_bpf *skel = net_filter_bpf__open();
        if (!skel)
                return -errno;
        struct net_filter_bpf__rodata *ro = skel->rodata;
        ro->l3_offset = l3_offset;
        ro->n_rules = (__u32)n;
        ro->classic = classic;
        int r = fill_ranges(protected_ports, ro->protected_ports, NET_MAX_PROTECTED, &ro->n_protected);
        if (r >= 0)
                r = net_filter_bpf__load(skel);
        for (size_t k = 0; k < n && r >= 0; k++)
                r = fill_rule(skel, (__u32)k, rules[k], 0, true);
        if (r >= 0 && !skel->bss)
                r = -EOPNOTSUPP; /* a kernel without mmap'able maps (before 5.5) */
        if (r < 0) {
                net_filter_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
}

int net_classifier_load(uint32_t l3_offset, const struct port_list *protected_ports,
                        const struct net_filter_spec *const *rules, size_t n, struct net_filter_bpf **ret) {
        return classifier_load(l3_offset, protected_ports, rules, n, false, ret);
}

int net_classifier_set(struct net_filter_bpf *skel, unsigned rule, const struct net_filter_spec *spec,
                       int redirect_ifindex) {
        if (rule >= skel->rodata->n_rules)
                return -ERANGE;
        __u64 bit = 1ULL << (rule % 64);
        if (spec) {
                int q = check_rule(spec);
                if (q >= 0)
                        q = fill_rule(skel, rule, spec, redirect_ifindex, false);
                if (q < 0)
                        return q;
                __atomic_fetch_or(&skel->bss->enabled[rule / 64], bit, __ATOMIC_SEQ_CST);
        } else
                __atomic_fetch_and(&skel->bss->enabled[rule / 64], ~bit, __ATOMIC_SEQ_CST);
        return 0;
}

int net_filter_load(const struct net_filter_spec *spec, struct net_filter_bpf **ret) {
        const struct net_filter_spec *one[1] = {spec};
        *ret = NULL;
        int r = classifier_load(spec->l3_offset, spec->protected_ports, one, 1, spec->action == NET_ACT_CLASSIFY, ret);
        if (r >= 0)
                r = net_classifier_set(*ret, 0, spec, 0);
        if (r < 0 && *ret) {
                net_filter_bpf__destroy(*ret);
                *ret = NULL;
        }
        return r;
}

int net_filter_prog_fd(struct net_filter_bpf *skel) { return bpf_program__fd(skel->progs.sabot_net); }

int net_filter_prog_id(struct net_filter_bpf *skel, uint32_t *ret) {
        struct bpf_prog_info info = {0};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(net_filter_prog_fd(skel), &info, &len) < 0)
                return -errno;
        *ret = info.id;
        return 0;
}

/* One per-CPU counter, summed. */
static int counter(struct net_filter_bpf *skel, __u32 k, uint64_t *ret) {
        int ncpu = libbpf_num_possible_cpus();
        if (ncpu < 0)
                return ncpu;
        __u64 vals[ncpu];
        int r = bpf_map__lookup_elem(skel->maps.sabot_counters, &k, sizeof k, vals, sizeof(__u64) * (size_t)ncpu, 0);
        if (r < 0)
                return r;
        *ret = 0;
        for (int c = 0; c < ncpu; c++)
                *ret += vals[c];
        return 0;
}

int net_rule_counters(struct net_filter_bpf *skel, unsigned rule, uint64_t ret[_NET_COUNTERS]) {
        if (rule >= NET_MAX_RULES)
                return -ERANGE;
        int r = counter(skel, NET_SEEN, &ret[NET_SEEN]);
        if (r >= 0)
                r = counter(skel, NET_PROTECTED, &ret[NET_PROTECTED]);
        if (r >= 0)
                r = counter(skel, NET_RULE_COUNTER(rule, NET_MATCHED), &ret[NET_MATCHED]);
        if (r >= 0)
                r = counter(skel, NET_RULE_COUNTER(rule, NET_ACTED), &ret[NET_ACTED]);
        return r;
}

int net_filter_counters(struct net_filter_bpf *skel, uint64_t ret[_NET_COUNTERS]) {
        uint64_t n[_NET_COUNTERS];
        int r = net_rule_counters(skel, 0, ret);
        for (unsigned k = 1; r >= 0 && k < skel->rodata->n_rules; k++) {
                r = net_rule_counters(skel, k, n);
                ret[NET_MATCHED] += n[NET_MATCHED];
                ret[NET_ACTED] += n[NET_ACTED];
        }
        return r;
}

void net_filter_free(struct net_filter_bpf *skel) { net_filter_bpf__destroy(skel); }
