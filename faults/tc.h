/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "../agent/parse.h"

/* Traffic-control operations over rtnetlink (libnl-route-3). Each returns 0
 * or a negative errno (libnl's codes translated at this boundary). They
 * act on the network namespace of the calling thread. */

struct nl_sock;

int tc_open(struct nl_sock **ret);
void tc_close(struct nl_sock *sk);

/* The clsact hook: 0 when created, -EEXIST when one is already there. */
int tc_clsact_add(struct nl_sock *sk, int ifindex);
/* Delete the clsact qdisc, but only when no filter is left on either of
 * its hooks (others may have attached some): -EBUSY otherwise. */
int tc_clsact_del_if_empty(struct nl_sock *sk, int ifindex);
/* An empty filter chain on a clsact hook: inert (nothing jumps to it), and
 * it goes with the qdisc. -EEXIST when there. */
int tc_chain_add(struct nl_sock *sk, int ifindex, bool ingress, uint32_t chain);
/* The explicitly created chains of a clsact hook (none without a clsact). */
int tc_chain_list(struct nl_sock *sk, int ifindex, bool ingress, uint32_t **ret, size_t *ret_n);
/* Filters on a clsact hook (ingress = true: ingress, else egress). */
int tc_filter_count(struct nl_sock *sk, int ifindex, bool ingress);

/* A cls_bpf filter on a clsact hook. direct: direct-action (the program's
 * verdict is the action); else classic mode with an act_mirred egress
 * redirect to redirect_ifindex on a match. -EEXIST when prio/handle is
 * taken. */
int tc_bpf_add(struct nl_sock *sk, int ifindex, bool ingress, uint16_t prio, uint32_t handle, int prog_fd,
               const char *name, bool direct, int redirect_ifindex);
int tc_filter_del(struct nl_sock *sk, int ifindex, bool ingress, uint16_t prio, uint32_t handle);

/* An ifb device, created up. */
int tc_ifb_add(struct nl_sock *sk, const char *name, int *ret_ifindex);
/* Delete a link by name, only if it is an ifb (-EPERM otherwise). */
int tc_ifb_del(struct nl_sock *sk, const char *name);

/* netem's parameters, each 0 when unused. Every ratio with its
 * correlation (netem's "percent [correlation]"). */
struct netem_prob {
        ratio_t p, correlation;
};
struct netem_spec {
        uint64_t delay_ns, jitter_ns;
        ratio_t correlation; /* of the delay */
        const char *distribution; /* NULL or "uniform": none; else a tc .dist table */
        struct netem_prob loss, duplicate, corrupt, reorder; /* reorder needs delay_ns */
        /* Loss by the simple Gilbert model (TCA_NETEM_LOSS, NETEM_LOSS_GE):
         * good -> bad with ge_p, bad -> good with ge_r; every packet in the
         * bad state is lost, none in the good. Used when ge_r > 0, instead
         * of loss. */
        ratio_t ge_p, ge_r;
        /* Loss by the 4-state model (TCA_NETEM_LOSS, NETEM_LOSS_GI), when
         * gi is set, instead of loss: pXY is the chance of going from state
         * X to Y (1: passed in a gap, 2: passed in a burst, 3: lost in a
         * burst, 4: lost alone; 4 always goes back to 1). */
        bool gi;
        ratio_t p13, p31, p32, p23, p14;
        uint64_t rate_bytes; /* bytes per second; 0: no rate limit */
        uint32_t limit;    /* packets netem may hold; 0: netem's 1000 */
};
/* Where iproute2 keeps netem's distribution tables; -ENOENT if NAME.dist
 * is in none of them. */
int tc_dist_find(const char *name, char *ret_path, size_t len);
/* netem as the root qdisc of ifindex. */
int tc_netem_add(struct nl_sock *sk, int ifindex, const struct netem_spec *spec);

/* Every filter on a clsact hook, of any kind and chain; a classifier
 * instance (kind, prio, protocol) also shows as one with handle 0. */
struct tc_filter_id {
        uint16_t prio;
        uint16_t protocol; /* network order, as tcm_info carries it */
        uint32_t handle;
        uint32_t chain;
        uint32_t prog_id; /* cls_bpf: the program's id; else 0 */
        char kind[16];
};
int tc_filter_list(struct nl_sock *sk, int ifindex, bool ingress, struct tc_filter_id **ret, size_t *ret_n);
/* Names and indexes of the links of this namespace, and whether each is an ifb. */
struct tc_link {
        char name[16];
        int ifindex;
        bool ifb;
};
int tc_link_list(struct nl_sock *sk, struct tc_link **ret, size_t *ret_n);

/* The netlink error behind a libnl code. */
int nl_to_errno(int nlerr);
