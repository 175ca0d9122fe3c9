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

static int fill_cidrs(struct net_filter_bpf *skel, const struct cidr_list *l, bool dst) {
        if (!l || l->n == 0)
                return 0;
        if (l->n > NET_MAX_CIDRS)
                return -E2BIG;
        __u8 one = 1;
        for (size_t i = 0; i < l->n; i++) {
                const struct cidr *c = &l->v[i];
                int r;
                if (c->family == AF_INET) {
                        struct net_lpm4 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 4);
                        r = bpf_map__update_elem(dst ? skel->maps.sabot_dst4 : skel->maps.sabot_src4, &k,
                                                 sizeof k, &one, sizeof one, BPF_ANY);
                } else {
                        struct net_lpm6 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 16);
                        r = bpf_map__update_elem(dst ? skel->maps.sabot_dst6 : skel->maps.sabot_src6, &k,
                                                 sizeof k, &one, sizeof one, BPF_ANY);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int net_filter_load(const struct net_filter_spec *spec, struct net_filter_bpf **ret) {
        struct net_filter_bpf *skel = net_filter_bpf__open();
        if (!skel)
                return -errno;
        static const __u32 protos[] = {
                [PROTO_ANY] = NET_PROTO_ANY, [PROTO_TCP] = NET_PROTO_TCP,
                [PROTO_UDP] = NET_PROTO_UDP, [PROTO_ICMP] = NET_PROTO_ICMP,
        };
        struct net_filter_bpf__rodata *ro = skel->rodata;
        ro->action = spec->action;
        ro->probability = spec->probability;
        ro->correlation = spec->correlation;
        ro->l3_offset = spec->l3_offset;
        ro->proto = spec->protocol >= 0 && spec->protocol < (int)ELEMENTSOF(protos) ? protos[spec->protocol] : 0;
        ro->cgroup_id = spec->cgroup_id;
        ro->cgroup_level = spec->cgroup_level;
        ro->match_cidrs = (spec->dst && spec->dst->n ? NET_MATCH_DST : 0) |
                          (spec->src && spec->src->n ? NET_MATCH_SRC : 0);
        int r = fill_ranges(spec->protected_ports, ro->protected_ports, NET_MAX_PROTECTED, &ro->n_protected);
        if (r >= 0)
                r = fill_ranges(spec->dport, ro->dports, NET_MAX_PORT_RANGES, &ro->n_dport);
        if (r >= 0)
                r = fill_ranges(spec->sport, ro->sports, NET_MAX_PORT_RANGES, &ro->n_sport);
        if (r >= 0)
                r = net_filter_bpf__load(skel);
        if (r >= 0)
                r = fill_cidrs(skel, spec->dst, true);
        if (r >= 0)
                r = fill_cidrs(skel, spec->src, false);
        if (r < 0) {
                net_filter_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
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

int net_filter_counters(struct net_filter_bpf *skel, uint64_t ret[_NET_COUNTERS]) {
        return bpf_percpu_sum(skel->maps.sabot_counters, _NET_COUNTERS, ret);
}

void net_filter_free(struct net_filter_bpf *skel) { net_filter_bpf__destroy(skel); }
