/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "../agent/parse.h"
#include <linux/types.h>

#include "../bpf/dns_filter.h"

struct dns_filter_bpf;

/* What one dns fault's program matches and answers. */
struct dns_filter_spec {
        uint32_t rcode;      /* DNS_RCODE_*, or DNS_DROP */
        ratio_t probability; /* RATIO_ONE: every matching query */
        uint32_t l3_offset;  /* 14 on Ethernet, 0 on L3 devices */
        /* The domains in wire form, lower case (dns_domain_wire). */
        const struct dns_domain *domains;
        size_t n_domains;
        const struct cidr_list *dst;
        const struct port_list *dport; /* NULL or empty: 53 */
        const struct port_list *protected_ports;
        uint64_t cgroup_id; /* 0 = any */
        uint32_t cgroup_level;
};

/* A domain name ("Example.COM", "internal.", at most 253 characters
 * without the final dot, labels of 1..63 letters, digits, '-' or '_') in
 * wire form, lower case: 0, or -EINVAL with why. */
int dns_domain_wire(const char *name, struct dns_domain *ret, char *why, size_t len);

/* Open, configure and load the program (not attached): 0 or a negative
 * errno; -E2BIG when the spec has more entries than it holds. */
int dns_filter_load(const struct dns_filter_spec *spec, struct dns_filter_bpf **ret);
/* Whose queries a loaded program matches (0: anyone's), until it is set
 * again; spec's cgroup fields are set this way at the load. */
int dns_filter_set_cgroup(struct dns_filter_bpf *skel, uint64_t id, uint32_t level);
int dns_filter_prog_fd(struct dns_filter_bpf *skel);
int dns_filter_prog_id(struct dns_filter_bpf *skel, uint32_t *ret);
/* Sum of the per-CPU counters, indexed by enum dns_counter. */
int dns_filter_counters(struct dns_filter_bpf *skel, uint64_t ret[_DNS_COUNTERS]);
void dns_filter_free(struct dns_filter_bpf *skel);
