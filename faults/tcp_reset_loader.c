/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../agent/scenario.h"
#include "bpf_common.h"
#include "tcp_reset_loader.h"
#include "tcp_reset.skel.h"

_Static_assert(SCENARIO_MAX_PORT_RANGES == TR_MAX_PORT_RANGES, "the validator's port ceiling is the program's");
_Static_assert(SCENARIO_MAX_CIDRS == TR_MAX_CIDRS, "the validator's CIDR ceiling is the program's");
_Static_assert(SCENARIO_MAX_PROTECTED_PORTS == TR_MAX_PROTECTED, "the protected ports' ceiling is the program's");

static int fill_ranges(const struct port_list *l, volatile struct tr_port_range *out, size_t max, volatile __u32 *n) {
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

static int fill_cidrs(const struct cidr_list *l, struct bpf_map *m4, struct bpf_map *m6) {
        if (!l || l->n == 0)
                return 0;
        if (l->n > TR_MAX_CIDRS)
                return -E2BIG;
        __u8 one = 1;
        for (size_t i = 0; i < l->n; i++) {
                const struct cidr *c = &l->v[i];
                int r;
                if (c->family == AF_INET) {
                        struct tr_lpm4 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 4);
                        r = bpf_map__update_elem(m4, &k, sizeof k, &one, sizeof one, BPF_ANY);
                } else {
                        struct tr_lpm6 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 16);
                        r = bpf_map__update_elem(m6, &k, sizeof k, &one, sizeof one, BPF_ANY);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int tcp_reset_load(const struct tcp_reset_spec *spec, struct tcp_reset_bpf **ret) {
        struct tcp_reset_bpf *skel = tcp_reset_bpf__open();
        if (!skel)
                return -errno;
        struct tcp_reset_bpf__rodata *ro = skel->rodata;
        ro->probability = spec->probability;
        ro->seed = spec->seed;
        ro->l3_offset = spec->l3_offset;
        ro->egress = spec->egress;
        ro->cgroup_id = spec->cgroup_id;
        ro->cgroup_level = spec->cgroup_level;
        ro->match_dst = spec->dst && spec->dst->n;
        ro->match_src = spec->src && spec->src->n;
        int r = fill_ranges(spec->protected_ports, ro->protected_ports, TR_MAX_PROTECTED, &ro->n_protected);
        if (r >= 0)
                r = fill_ranges(spec->dport, ro->dports, TR_MAX_PORT_RANGES, &ro->n_dport);
        if (r >= 0)
                r = fill_ranges(spec->sport, ro->sports, TR_MAX_PORT_RANGES, &ro->n_sport);
        if (r >= 0)
                r = tcp_reset_bpf__load(skel);
        if (r >= 0)
                r = fill_cidrs(spec->dst, skel->maps.sabot_tr_dst4, skel->maps.sabot_tr_dst6);
        if (r >= 0)
                r = fill_cidrs(spec->src, skel->maps.sabot_tr_src4, skel->maps.sabot_tr_src6);
        if (r < 0) {
                tcp_reset_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
}

int tcp_reset_prog_fd(struct tcp_reset_bpf *skel) { return bpf_program__fd(skel->progs.sabot_tcp_reset); }

int tcp_reset_learn_fd(struct tcp_reset_bpf *skel) { return bpf_program__fd(skel->progs.sabot_tcp_reset_learn); }

int tcp_reset_id_of(int fd, uint32_t *ret) {
        struct bpf_prog_info info = {0};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return -errno;
        *ret = info.id;
        return 0;
}

int tcp_reset_prog_id(struct tcp_reset_bpf *skel, uint32_t *ret) { return tcp_reset_id_of(tcp_reset_prog_fd(skel), ret); }

int tcp_reset_counters(struct tcp_reset_bpf *skel, uint64_t ret[_TR_COUNTERS]) {
        return bpf_percpu_sum(skel->maps.sabot_tr_counters, _TR_COUNTERS, ret);
}

void tcp_reset_free(struct tcp_reset_bpf *skel) { tcp_reset_bpf__destroy(skel); }
