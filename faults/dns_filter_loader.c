/* SPDX-License-Identifier: MIT */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../agent/scenario.h"
#include "bpf_common.h"
#include "dns_filter_loader.h"
#include "dns_filter.skel.h"

_Static_assert(SCENARIO_MAX_PORT_RANGES == DNS_MAX_PORT_RANGES, "the validator's port ceiling is the program's");
_Static_assert(SCENARIO_MAX_CIDRS == DNS_MAX_CIDRS, "the validator's CIDR ceiling is the program's");
_Static_assert(SCENARIO_MAX_PROTECTED_PORTS == DNS_MAX_PROTECTED, "the protected ports' ceiling is the program's");

int dns_domain_wire(const char *name, struct dns_domain *ret, char *why, size_t len) {
        size_t n = strlen(name);
        if (n && name[n - 1] == '.')
                n--; /* the root's dot, written or not */
        if (n == 0) {
                snprintf(why, len, "an empty name (every name is under the root: leave out domains instead)");
                return -EINVAL;
        }
        if (n > 253) {
                snprintf(why, len, "'%s' is longer than 253 characters", name);
                return -EINVAL;
        }
        memset(ret, 0, sizeof *ret);
        size_t o = 0, lab = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || name[i] == '.') {
                        size_t l = i - lab;
                        if (l == 0 || l > 63) {
                                snprintf(why, len, "'%s' has a label of %zu characters; each label is 1 to 63", name, l);
                                return -EINVAL;
                        }
                        ret->name[o++] = (uint8_t)l;
                        for (size_t k = lab; k < i; k++)
                                ret->name[o++] = (uint8_t)tolower((unsigned char)name[k]);
                        lab = i + 1;
                        continue;
                }
                unsigned char c = (unsigned char)name[i];
                if (!isalnum(c) && c != '-' && c != '_') {
                        snprintf(why, len, "'%s' has '%c'; a name is letters, digits, '-' and '_' in labels split by '.'",
                                 name, isprint(c) ? c : '?');
                        return -EINVAL;
                }
        }
        ret->name[o++] = 0;
        ret->len = (uint32_t)o;
        return 0;
}

static int fill_ranges(const struct port_list *l, volatile struct dns_port_range *out, size_t max, volatile __u32 *n) {
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

static int fill_cidrs(struct dns_filter_bpf *skel, const struct cidr_list *l) {
        if (!l || l->n == 0)
                return 0;
        if (l->n > DNS_MAX_CIDRS)
                return -E2BIG;
        __u8 one = 1;
        for (size_t i = 0; i < l->n; i++) {
                const struct cidr *c = &l->v[i];
                int r;
                if (c->family == AF_INET) {
                        struct dns_lpm4 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 4);
                        r = bpf_map__update_elem(skel->maps.sabot_dns_dst4, &k, sizeof k, &one, sizeof one, BPF_ANY);
                } else {
                        struct dns_lpm6 k = {.prefixlen = c->prefix};
                        memcpy(k.addr, c->addr, 16);
                        r = bpf_map__update_elem(skel->maps.sabot_dns_dst6, &k, sizeof k, &one, sizeof one, BPF_ANY);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int dns_filter_load(const struct dns_filter_spec *spec, struct dns_filter_bpf **ret) {
        if (spec->n_domains > DNS_MAX_DOMAINS)
                return -E2BIG;
        struct dns_filter_bpf *skel = dns_filter_bpf__open();
        if (!skel)
                return -errno;
        struct dns_filter_bpf__rodata *ro = skel->rodata;
        ro->rcode = spec->rcode;
        ro->probability = spec->probability;
        ro->l3_offset = spec->l3_offset;
        ro->match_dst = spec->dst && spec->dst->n;
        for (size_t i = 0; i < spec->n_domains; i++) {
                ro->domains[i].len = spec->domains[i].len;
                for (size_t k = 0; k < sizeof spec->domains[i].name; k++)
                        ro->domains[i].name[k] = spec->domains[i].name[k];
        }
        ro->n_domains = (__u32)spec->n_domains;
        int r = fill_ranges(spec->protected_ports, ro->protected_ports, DNS_MAX_PROTECTED, &ro->n_protected);
        if (r >= 0 && spec->dport && spec->dport->n)
                r = fill_ranges(spec->dport, ro->dports, DNS_MAX_PORT_RANGES, &ro->n_dport);
        else if (r >= 0) {
                ro->dports[0].lo = ro->dports[0].hi = 53;
                ro->n_dport = 1;
        }
        if (r >= 0)
                r = dns_filter_bpf__load(skel);
        if (r >= 0)
                r = fill_cidrs(skel, spec->dst);
        if (r >= 0)
                r = dns_filter_set_cgroup(skel, spec->cgroup_id, spec->cgroup_level);
        if (r < 0) {
                dns_filter_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
}

int dns_filter_set_cgroup(struct dns_filter_bpf *skel, uint64_t id, uint32_t level) {
        /* Mapped by libbpf (BPF_F_MMAPABLE, Linux 5.5; the program needs
         * bpf_loop, 5.17): a plain store, no system call. */
        if (!skel->bss)
                return -EOPNOTSUPP;
        skel->bss->cgroup_level = level;
        skel->bss->cgroup_id = id;
        return 0;
}

int dns_filter_prog_fd(struct dns_filter_bpf *skel) { return bpf_program__fd(skel->progs.sabot_dns); }

int dns_filter_prog_id(struct dns_filter_bpf *skel, uint32_t *ret) {
        struct bpf_prog_info info = {0};
        uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(dns_filter_prog_fd(skel), &info, &len) < 0)
                return -errno;
        *ret = info.id;
        return 0;
}

int dns_filter_counters(struct dns_filter_bpf *skel, uint64_t ret[_DNS_COUNTERS]) {
        return bpf_percpu_sum(skel->maps.sabot_dns_counters, _DNS_COUNTERS, ret);
}

void dns_filter_free(struct dns_filter_bpf *skel) { dns_filter_bpf__destroy(skel); }
