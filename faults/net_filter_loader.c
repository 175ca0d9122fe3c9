/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
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
                [PROTO_ICMPV6] = NET_PROTO_ICMPV6,
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

/* Set bit in every port of l in the 65536-entry array map. */
static int fill_ports(const struct bpf_map *map, const struct port_list *l, __u64 bit) {
        size_t len = 65536 * sizeof(__u64);
        __u64 *v = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
        if (v == MAP_FAILED)
                return -errno;
        for (size_t i = 0; i < l->n; i++)
                for (uint32_t port = l->v[i].lo; port <= l->v[i].hi; port++)
                        v[port] |= bit;
        munmap(v, len);
        return 0;
}

/* Whether CIDR q holds CIDR c (same family, q no longer, c's address in q). */
static bool cidr_holds(const struct cidr *q, const struct cidr *c) {
        if (q->family != c->family || q->prefix > c->prefix)
                return false;
        unsigned full = q->prefix / 8, rest = q->prefix % 8;
        if (memcmp(q->addr, c->addr, full) != 0)
                return false;
        if (!rest)
                return true;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return (q->addr[full] & mask) == (c->addr[full] & mask);
}

/* The prefilter trie of one side (dst or src): each CIDR of the first
 * rules, with the bits of every rule with a CIDR holding it. */
static int fill_cidr_prefilter(struct net_filter_bpf *skel, const struct net_filter_spec *const *rules, size_t n,
                               bool dst, __u64 *ret_any) {
        size_t m = n < NET_FAST_RULES ? n : NET_FAST_RULES;
        for (size_t k = 0; k < m; k++) {
                const struct cidr_list *l = dst ? rules[k]->dst : rules[k]->src;
                if (!l || !l->n) {
                        *ret_any |= 1ULL << k;
                        continue;
                }
                for (size_t i = 0; i < l->n; i++) {
                        const struct cidr *c = &l->v[i];
                        __u64 bits = 0;
                        for (size_t k2 = 0; k2 < m; k2++) {
                                const struct cidr_list *l2 = dst ? rules[k2]->dst : rules[k2]->src;
                                for (size_t i2 = 0; l2 && i2 < l2->n; i2++)
                                        if (cidr_holds(&l2->v[i2], c))
                                                bits |= 1ULL << k2;
                        }
                        int r;
                        if (c->family == AF_INET) {
                                struct net_plpm4 key = {.prefixlen = c->prefix};
                                memcpy(key.addr, c->addr, 4);
                                r = bpf_map__update_elem(dst ? skel->maps.sabot_pdst4 : skel->maps.sabot_psrc4, &key,
                                                         sizeof key, &bits, sizeof bits, BPF_ANY);
                        } else {
                                struct net_plpm6 key = {.prefixlen = c->prefix};
                                memcpy(key.addr, c->addr, 16);
                                r = bpf_map__update_elem(dst ? skel->maps.sabot_pdst6 : skel->maps.sabot_psrc6, &key,
                                                         sizeof key, &bits, sizeof bits, BPF_ANY);
                        }
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* The prefilter of the first NET_FAST_RULES rules: by protocol class and
 * by each port list (a rule without one takes any port). */
static int fill_prefilter(struct net_filter_bpf *skel, const struct net_filter_spec *const *rules, size_t n) {
        static const __u64 classes[] = {[PROTO_ANY] = 0x1f, [PROTO_TCP] = 1U << 1, [PROTO_UDP] = 1U << 2,
                                        [PROTO_ICMP] = 1U << 3 | 1U << 4, [PROTO_ICMPV6] = 1U << 4};
        struct net_filter_bpf__bss *b = skel->bss;
        for (size_t k = 0; k < n && k < NET_FAST_RULES; k++) {
                const struct net_filter_spec *spec = rules[k];
                __u64 bit = 1ULL << k;
                __u64 cl = spec->protocol >= 0 && spec->protocol < (int)ELEMENTSOF(classes) ? classes[spec->protocol] : 0x1f;
                for (int c = 0; c < NET_PCLASSES; c++)
                        if (cl & (1U << c))
                                b->proto_mask[c] |= bit;
                int r = 0;
                if (spec->dport && spec->dport->n)
                        r = fill_ports(skel->maps.sabot_dport, spec->dport, bit);
                else
                        b->dport_any |= bit;
                if (r >= 0 && spec->sport && spec->sport->n)
                        r = fill_ports(skel->maps.sabot_sport, spec->sport, bit);
                else if (r >= 0)
                        b->sport_any |= bit;
                if (r < 0)
                        return r;
        }
        int r = fill_cidr_prefilter(skel, rules, n, true, &b->dst_any);
        if (r >= 0)
                r = fill_cidr_prefilter(skel, rules, n, false, &b->src_any);
        return r;
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
        /* The per-rule maps sized for these rules, not the ceiling. */
        __u32 nr = n ? (__u32)n : 1;
        int r = bpf_map__set_max_entries(skel->maps.sabot_rules, nr);
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.sabot_last, nr);
        if (r >= 0)
                r = bpf_map__set_max_entries(skel->maps.sabot_counters, NET_RULE_COUNTER(nr, NET_MATCHED));
        if (r < 0) {
                net_filter_bpf__destroy(skel);
                return r;
        }
        struct net_filter_bpf__rodata *ro = skel->rodata;
        ro->l3_offset = l3_offset;
        ro->n_rules = (__u32)n;
        ro->classic = classic;
        r = fill_ranges(protected_ports, ro->protected_ports, NET_MAX_PROTECTED, &ro->n_protected);
        if (r >= 0)
                r = net_filter_bpf__load(skel);
        for (size_t k = 0; k < n && r >= 0; k++)
                r = fill_rule(skel, (__u32)k, rules[k], 0, true);
        if (r >= 0 && !skel->bss)
                r = -EOPNOTSUPP; /* a kernel without mmap'able maps (before 5.5) */
        if (r >= 0)
                r = fill_prefilter(skel, rules, n);
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
                if (r < 0)
                        break;
                ret[NET_MATCHED] += n[NET_MATCHED];
                ret[NET_ACTED] += n[NET_ACTED];
        }
        return r;
}

void net_filter_free(struct net_filter_bpf *skel) { net_filter_bpf__destroy(skel); }
