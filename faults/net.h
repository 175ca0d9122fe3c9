/* SPDX-License-Identifier: MIT */
#pragma once

#include "fault.h"
#include "tc.h"

/* The network mechanism that latency, loss and blackhole share
 * (faults/net.c): the classifier on the interface's clsact hook, for
 * latency an ifb device with netem. The kinds' files hold what differs. */

/* The journal entries a network fault records. */
#define NET_ENTRY_FILTER {"tcfilter", net_revert_filter, NULL, true}
#define NET_ENTRY_CLSACT {"clsact", net_revert_clsact, NULL, true}
#define NET_ENTRY_IFB {"ifb", net_revert_ifb, NULL, true}
/* A window of a rule in a shared classifier (loss, blackhole): the
 * classifier's clsact and filter are the run's entries, reverted with the
 * run; each window journals this, whose revert turns its rule off. */
#define NET_ENTRY_RULE {"netrule", net_revert_rule, NULL, true}
int net_revert_rule(const struct jentry *e);
int net_revert_filter(const struct jentry *e);
int net_revert_clsact(const struct jentry *e);
int net_revert_ifb(const struct jentry *e);

/* The keys every network kind takes, as the start of its keys list. */
#define NET_KEYS "interface", "direction", "dst", "src", "dport", "sport", "protocol"

/* What every network kind checks: interface, and target (egress only,
 * a unit or cgroup target). */
void net_check(struct scenario *s, struct fault *f, struct diags *d);
/* The plan's lines of fault i: the interface, then what (WHAT, a line
 * the kind writes), the match, and what it would create. */
void net_describe_iface(FILE *out, const struct plan *pl, size_t i);
void net_describe_match(FILE *out, const struct plan *pl, size_t i, const char *creates);

/* What this kernel supports for network faults, tried in a throwaway
 * network namespace; each *_why is empty when supported. */
struct net_support {
        char clsact_why[256], ifb_why[256], mirred_why[256], netem_why[256];
};
void net_probe(struct net_support *ret);
/* Remove sabot-tagged objects that no live run holds: ifb devices named
 * sabot-*, cls_bpf filters with sabot's handle and clsact qdiscs with its
 * marker chain, in this network namespace and every named one
 * (/run/netns). A run is live when live[] (journals) has it or its runner,
 * whose pid the object carries, is a live sabot process. Reports each
 * removal (err 0) and each failure (err < 0, counted in ret_failed: a
 * namespace it cannot enter, an object it cannot remove); returns the
 * number removed. */
int net_sweep(struct journal *const *live, size_t n_live, void (*report)(const char *what, int err, void *ud), void *ud,
              unsigned *ret_failed);
extern const struct fault_backend net_backend;
/* The members of struct fault_ops that every network kind shares; each
 * kind's .apply fills in a struct net_params and calls net_apply. */
#define NET_OPS                                                                                     \
        .backend = &net_backend, .counter_names = {"matched", "acted_on"}, .finish = net_finish,    \
        .reach = FAULT_REACH_CGROUP, .holds = FAULT_HOLDS_PROTECTED_PORTS
/* What "would create" says in the plan of a kind that uses netem. */
#define NET_CREATES_NETEM                                                                           \
        "at the run's start, a sabot ifb device with a netem root qdisc (this fault's parameters), " \
        "clsact qdisc (if absent), a sabot cls_bpf filter with mirred redirect, its rule off; "     \
        "the window turns the rule on and off"
/* The netem a netem kind's fault steers its packets to, defined in the
 * kind's file: what its apply asks for, and what the run's start builds
 * before the first window (net_attach_preloaded). loss_netem: false for
 * loss without burst or model (the shared classifier's). */
void latency_netem(const struct fault *f, struct netem_spec *ret);
void corrupt_netem(const struct fault *f, struct netem_spec *ret);
void duplicate_netem(const struct fault *f, struct netem_spec *ret);
void reorder_netem(const struct fault *f, struct netem_spec *ret);
void bandwidth_netem(const struct fault *f, struct netem_spec *ret);
bool loss_netem(const struct fault *f, struct netem_spec *ret);
/* Whether this host has clsact and cls_bpf (loss, blackhole), and for
 * the kinds that use netem ifb, netem, act_mirred and the distribution's
 * table; and the tc priority of f free of others' filters. */
int net_probe_drop(const struct scenario *sc, const struct fault *f, char *why, size_t len);
int net_probe_netem(const struct scenario *sc, const struct fault *f, char *why, size_t len);
/* iproute2's name of a delay distribution table, NULL for none. */
const char *net_dist_name(int d);

/* What one kind asks of the mechanism. */
struct net_params {
        /* Set: the classifier steers matching packets to a sabot ifb with
         * this netem as its root. NULL: it drops them itself, each with
         * probability (and correlation). */
        const struct netem_spec *netem;
        ratio_t probability, correlation;
        /* The apply event, "corrupting 5% of matching packets" (the ifb's
         * name follows for netem), and the outcome: "DONE N of M packets
         * seen DONE_HOW": "dropped", or "steered" ... "to netem to corrupt
         * 5% of them" (netem does not count what it did). */
        const char *doing, *done, *done_how;
};
int net_apply(struct fault_ctx *c, struct fault_run *fr, const struct net_params *np);
/* A kind with a classifier of its own (dns): attach its loaded program
 * (direct-action) on fr's interface and direction as net_apply attaches
 * the classifier, journaled as "clsact" (when it made the qdisc) and
 * "tcfilter" entries (NET_ENTRY_CLSACT, NET_ENTRY_FILTER revert them).
 * name: the filter's name in tc's listings. */
int net_attach(struct fault_ctx *c, struct fault_run *fr, int prog_fd, uint32_t prog_id, const char *name);
/* As net_attach, on the hook given rather than fr's direction (tcp-reset
 * on ingress also watches egress): same prio and handle, the other hook. */
int net_attach_hook(struct fault_ctx *c, struct fault_run *fr, int prog_fd, uint32_t prog_id, const char *name,
                    bool ingress);
/* Whether f's rule lives in the one classifier of its interface and
 * direction (loss without burst, blackhole) rather than in a filter of
 * its own (the netem kinds). */
bool net_shares_classifier(const struct fault *f);
/* Where the IP header starts on dev, asked in this network namespace:
 * 14 (Ethernet, loopback), 0 (IP-only links), -EPROTONOSUPPORT for any
 * other link type (in *ret_type), another negative errno when dev cannot
 * be asked. */
int net_l3_offset(const char *dev, long *ret_type);
/* At the run's preflight: load the classifier of every interface and
 * direction with a rule for each of sc's faults there, all off (a
 * window's opening then turns one on), and for each netem kind's fault
 * its own one-rule classic-mode program, off. The first error; a fault
 * whose classifier could not be loaded tries again, and fails, at apply. */
int net_preload(const struct scenario *sc, const struct port_list *protected_ports);
/* At the run's start, once the guardian watches (before the first window):
 * attach every classifier net_preload loaded for a fault of c's scenario
 * (not one skipped), inert (no rule on), each journaled first as the
 * run's "clsact"/"tcfilter" entries; for a netem kind's fault first its
 * ifb ("ifb", journaled before it is made) with the fault's netem as
 * root. All reverted with the run's end (or by the guardian, abort,
 * recover). Every window's opening is then a journal entry ("netrule")
 * and a map update, its closing the rule off. Says each attached
 * (LOG_INFO) and each that could not be (LOG_WARNING: its first window
 * attaches it, or fails, as before); returns the first error. */
int net_attach_preloaded(struct fault_ctx *c);
void net_finish(struct fault_ctx *c, struct fault_run *fr);
/* The live view's text: what a drop (loss, blackhole) or a delay did. */
void net_drop_progress(struct fault_run *fr, char *buf, size_t len);
void net_latency_progress(struct fault_run *fr, char *buf, size_t len);
/* A kind whose packets netem disturbs, which counts none of it. */
void net_netem_progress(struct fault_run *fr, char *buf, size_t len);
/* The netem spec a kind's fault asks for: limit sized by rate and delay. */
uint32_t net_netem_limit(uint64_t rate_bits, uint64_t delay_ns);
