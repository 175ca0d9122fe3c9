/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/tc.h>

#include "../agent/util.h"
#include "tc.h"

int nl_to_errno(int e) {
        if (e >= 0)
                return e;
        switch (-e) {
        case NLE_EXIST: return -EEXIST;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_NODEV: return -ENODEV;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_INVAL: return -EINVAL;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_BUSY: return -EBUSY;
        case NLE_RANGE: return -ERANGE;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_INTR: return -EINTR;
        case NLE_MSGSIZE: return -EMSGSIZE;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        default: return -EIO;
        }
}

int tc_open(struct nl_sock **ret) {
        struct nl_sock *sk = nl_socket_alloc();
        if (!sk)
                return -ENOMEM;
        int r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sk);
                return nl_to_errno(r);
        }
        *ret = sk;
        return 0;
}

void tc_close(struct nl_sock *sk) {
        if (sk)
                nl_socket_free(sk);
}

static uint32_t hook(bool ingress) {
        return TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

/* Send a request and wait for the kernel's answer. */
static int talk(struct nl_sock *sk, struct nl_msg *msg) {
        int r = nl_send_auto(sk, msg);
        nlmsg_free(msg);
        if (r < 0)
                return nl_to_errno(r);
        return nl_to_errno(nl_wait_for_ack(sk));
}

static struct nl_msg *tc_msg(int type, int flags, int ifindex, uint32_t parent, uint32_t handle, uint32_t info) {
        struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);
        if (!msg)
                return NULL;
        struct tcmsg t = {
                .tcm_family = AF_UNSPEC,
                .tcm_ifindex = ifindex,
                .tcm_parent = parent,
                .tcm_handle = handle,
                .tcm_info = info,
        };
        if (nlmsg_append(msg, &t, sizeof t, NLMSG_ALIGNTO) < 0) {
                nlmsg_free(msg);
                return NULL;
        }
        return msg;
}

int tc_clsact_add(struct nl_sock *sk, int ifindex) {
        struct nl_msg *msg = tc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex, TC_H_CLSACT,
                                    TC_H_MAKE(TC_H_CLSACT, 0), 0);
        if (!msg || nla_put_string(msg, TCA_KIND, "clsact") < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return talk(sk, msg);
}

struct list_ctx {
        struct tc_filter_id *v;
        size_t n;
        int err;
};

static int list_cb(struct nl_msg *msg, void *arg) {
        struct list_ctx *c = arg;
        struct nlmsghdr *h = nlmsg_hdr(msg);
        if (h->nlmsg_type != RTM_NEWTFILTER)
                return NL_OK;
        struct tcmsg *t = nlmsg_data(h);
        struct nlattr *tb[TCA_MAX + 1];
        if (nlmsg_parse(h, sizeof *t, tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND])
                return NL_OK;
        struct tc_filter_id id = {.prio = (uint16_t)(t->tcm_info >> 16), .protocol = (uint16_t)(t->tcm_info & 0xffff),
                                  .handle = t->tcm_handle, .chain = tb[TCA_CHAIN] ? nla_get_u32(tb[TCA_CHAIN]) : 0};
        snprintf(id.kind, sizeof id.kind, "%s", nla_get_string(tb[TCA_KIND]));
        if (streq(id.kind, "bpf") && tb[TCA_OPTIONS]) {
                struct nlattr *ob[TCA_BPF_MAX + 1];
                if (nla_parse_nested(ob, TCA_BPF_MAX, tb[TCA_OPTIONS], NULL) >= 0 && ob[TCA_BPF_ID])
                        id.prog_id = nla_get_u32(ob[TCA_BPF_ID]);
        }
        if (array_push(&c->v, &c->n, sizeof id, &id) < 0)
                c->err = -ENOMEM;
        return NL_OK;
}

/* Dump the filters (or chains) of a clsact hook through fn. No clsact at
 * all is not an error: nothing is attached. */
static int hook_dump(struct nl_sock *sk, int type, int ifindex, bool ingress, nl_recvmsg_msg_cb_t fn, void *arg) {
        struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
        struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = hook(ingress)};
        if (!msg || nlmsg_append(msg, &t, sizeof t, NLMSG_ALIGNTO) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        int r = nl_send_auto(sk, msg);
        nlmsg_free(msg);
        if (r < 0)
                return nl_to_errno(r);
        struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
        if (!cb)
                return -ENOMEM;
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
        r = nl_recvmsgs(sk, cb);
        nl_cb_put(cb);
        if (r == -NLE_INVAL || r == -NLE_OBJ_NOTFOUND)
                return 0;
        return r < 0 ? nl_to_errno(r) : 0;
}

static int filter_dump(struct nl_sock *sk, int ifindex, bool ingress, nl_recvmsg_msg_cb_t fn, void *arg) {
        return hook_dump(sk, RTM_GETTFILTER, ifindex, ingress, fn, arg);
}

struct chain_ctx {
        uint32_t *v;
        size_t n;
        int err;
};

static int chain_cb(struct nl_msg *msg, void *arg) {
        struct chain_ctx *c = arg;
        struct nlmsghdr *h = nlmsg_hdr(msg);
        struct nlattr *tb[TCA_MAX + 1];
        if (h->nlmsg_type != RTM_NEWCHAIN || nlmsg_parse(h, sizeof(struct tcmsg), tb, TCA_MAX, NULL) < 0 ||
            !tb[TCA_CHAIN])
                return NL_OK;
        uint32_t chain = nla_get_u32(tb[TCA_CHAIN]);
        if (array_push(&c->v, &c->n, sizeof chain, &chain) < 0)
                c->err = -ENOMEM;
        return NL_OK;
}

int tc_chain_list(struct nl_sock *sk, int ifindex, bool ingress, uint32_t **ret, size_t *ret_n) {
        struct chain_ctx c = {0};
        int r = hook_dump(sk, RTM_GETCHAIN, ifindex, ingress, chain_cb, &c);
        if (r >= 0 && c.err < 0)
                r = c.err;
        if (r < 0) {
                free(c.v);
                return r;
        }
        *ret = c.v;
        *ret_n = c.n;
        return 0;
}

int tc_chain_add(struct nl_sock *sk, int ifindex, bool ingress, uint32_t chain) {
        struct nl_msg *msg = tc_msg(RTM_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, ifindex, hook(ingress), 0, 0);
        if (!msg || nla_put_u32(msg, TCA_CHAIN, chain) < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return talk(sk, msg);
}

static int count_cb(struct nl_msg *msg, void *arg) {
        if (nlmsg_hdr(msg)->nlmsg_type == RTM_NEWTFILTER)
                (*(int *)arg)++;
        return NL_OK;
}

int tc_filter_count(struct nl_sock *sk, int ifindex, bool ingress) {
        int n = 0, r = filter_dump(sk, ifindex, ingress, count_cb, &n);
        return r < 0 ? r : n;
}

int tc_filter_list(struct nl_sock *sk, int ifindex, bool ingress, struct tc_filter_id **ret, size_t *ret_n) {
        struct list_ctx c = {0};
        int r = filter_dump(sk, ifindex, ingress, list_cb, &c);
        if (r >= 0 && c.err < 0)
                r = c.err;
        if (r < 0) {
                free(c.v);
                return r;
        }
        *ret = c.v;
        *ret_n = c.n;
        return 0;
}

int tc_link_list(struct nl_sock *sk, struct tc_link **ret, size_t *ret_n) {
        struct nl_cache *cache = NULL;
        int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
        if (r < 0)
                return nl_to_errno(r);
        struct tc_link *v = NULL;
        size_t n = 0;
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                struct tc_link x = {.ifindex = rtnl_link_get_ifindex(l)};
                const char *type = rtnl_link_get_type(l), *name = rtnl_link_get_name(l);
                snprintf(x.name, sizeof x.name, "%s", name ? name : "");
                x.ifb = type && streq(type, "ifb");
                if (array_push(&v, &n, sizeof x, &x) < 0) {
                        free(v);
                        nl_cache_free(cache);
                        return -ENOMEM;
                }
        }
        nl_cache_free(cache);
        *ret = v;
        *ret_n = n;
        return 0;
}

int tc_clsact_del_if_empty(struct nl_sock *sk, int ifindex) {
        /* One hook at a time: with many filters left, one dump says so. */
        int n = tc_filter_count(sk, ifindex, false);
        if (n == 0)
                n = tc_filter_count(sk, ifindex, true);
        if (n < 0)
                return n;
        if (n > 0)
                return -EBUSY;
        struct nl_msg *msg = tc_msg(RTM_DELQDISC, 0, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0), 0);
        if (!msg)
                return -ENOMEM;
        int r = talk(sk, msg);
        return r == -ENOENT || r == -EINVAL ? 0 : r;
}

int tc_bpf_add(struct nl_sock *sk, int ifindex, bool ingress, uint16_t prio, uint32_t handle, int prog_fd,
               const char *name, bool direct, int redirect_ifindex) {
        struct nl_msg *msg = tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex, hook(ingress), handle,
                                    TC_H_MAKE((uint32_t)prio << 16, htons(ETH_P_ALL)));
        if (!msg)
                return -ENOMEM;
        struct nlattr *opts, *acts, *act, *aopts;
        int r = nla_put_string(msg, TCA_KIND, "bpf");
        if (r >= 0 && !(opts = nla_nest_start(msg, TCA_OPTIONS)))
                r = -1;
        if (r >= 0)
                r = nla_put_u32(msg, TCA_BPF_FD, (uint32_t)prog_fd);
        if (r >= 0)
                r = nla_put_string(msg, TCA_BPF_NAME, name);
        if (r >= 0)
                r = nla_put_u32(msg, TCA_BPF_FLAGS, direct ? TCA_BPF_FLAG_ACT_DIRECT : 0);
        if (r >= 0 && !direct) {
                /* Classic mode: a match (non-zero return) runs this action.
                 * bpf_redirect() to an ifb drops every packet (skb_iif is 0
                 * for locally generated packets): act_mirred does not. */
                struct tc_mirred m = {
                        .action = TC_ACT_STOLEN,
                        .eaction = TCA_EGRESS_REDIR,
                        .ifindex = (uint32_t)redirect_ifindex,
                };
                if (!(acts = nla_nest_start(msg, TCA_BPF_ACT)) || !(act = nla_nest_start(msg, 1)) ||
                    nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0 || !(aopts = nla_nest_start(msg, TCA_ACT_OPTIONS)) ||
                    nla_put(msg, TCA_MIRRED_PARMS, sizeof m, &m) < 0)
                        r = -1;
                else {
                        nla_nest_end(msg, aopts);
                        nla_nest_end(msg, act);
                        nla_nest_end(msg, acts);
                }
        }
        if (r < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        nla_nest_end(msg, opts);
        return talk(sk, msg);
}

int tc_filter_del(struct nl_sock *sk, int ifindex, bool ingress, uint16_t prio, uint32_t handle) {
        struct nl_msg *msg = tc_msg(RTM_DELTFILTER, 0, ifindex, hook(ingress), handle,
                                    TC_H_MAKE((uint32_t)prio << 16, htons(ETH_P_ALL)));
        if (!msg || nla_put_string(msg, TCA_KIND, "bpf") < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        return talk(sk, msg);
}

int tc_ifb_add(struct nl_sock *sk, const char *name, int *ret_ifindex) {
        struct rtnl_link *l = rtnl_link_alloc();
        if (!l)
                return -ENOMEM;
        rtnl_link_set_name(l, name);
        int r = rtnl_link_set_type(l, "ifb");
        if (r >= 0) {
                rtnl_link_set_flags(l, IFF_UP);
                r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
        }
        rtnl_link_put(l);
        if (r < 0)
                return nl_to_errno(r);
        int idx = (int)if_nametoindex(name);
        if (!idx)
                return -errno;
        /* Some kernels ignore IFF_UP at creation. */
        struct rtnl_link *change = rtnl_link_alloc(), *orig = rtnl_link_alloc();
        if (change && orig) {
                rtnl_link_set_ifindex(orig, idx);
                rtnl_link_set_flags(change, IFF_UP);
                r = nl_to_errno(rtnl_link_change(sk, orig, change, 0));
        }
        rtnl_link_put(change);
        rtnl_link_put(orig);
        if (r < 0)
                return r;
        *ret_ifindex = idx;
        return 0;
}

int tc_ifb_del(struct nl_sock *sk, const char *name) {
        struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r < 0)
                return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? 0 : nl_to_errno(r);
        const char *type = rtnl_link_get_type(l);
        if (!type || !streq(type, "ifb")) {
                rtnl_link_put(l);
                return -EPERM; /* never delete what is not an ifb */
        }
        r = rtnl_link_delete(sk, l);
        rtnl_link_put(l);
        r = nl_to_errno(r);
        return r == -ENOENT || r == -ENODEV ? 0 : r;
}

int tc_dist_find(const char *name, char *ret_path, size_t len) {
        static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc",
                                           "/usr/local/lib/tc"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                snprintf(ret_path, len, "%s/%s.dist", dirs[i], name);
                if (access(ret_path, R_OK) == 0)
                        return 0;
        }
        return -ENOENT;
}

/* iproute2's distribution tables: one signed 16-bit value per word, at
 * most the kernel's limit. */
#define MAXDIST 65536
static int load_dist(const char *name, int16_t **ret, size_t *ret_n) {
        char p[256];
        if (tc_dist_find(name, p, sizeof p) < 0)
                return -ENOENT;
        {
                FILE *f = fopen(p, "re");
                if (!f)
                        return -errno;
                int16_t *v = malloc(MAXDIST * sizeof *v);
                size_t n = 0;
                char line[1024];
                while (v && fgets(line, sizeof line, f))
                        for (char *save = NULL, *w = line[0] == '#' ? NULL : strtok_r(line, " \t\n", &save); w && n < MAXDIST;
                             w = strtok_r(NULL, " \t\n", &save))
                                v[n++] = (int16_t)strtol(w, NULL, 10);
                fclose(f);
                if (!v)
                        return -ENOMEM;
                *ret = v;
                *ret_n = n;
                return 0;
        }
}

/* netem's probabilities: UINT32_MAX is 100%. */
static uint32_t netem_u32(ratio_t r) { return (uint32_t)((uint64_t)r * UINT32_MAX / RATIO_ONE); }

int tc_netem_add(struct nl_sock *sk, int ifindex, const struct netem_spec *spec) {
        /* Built by hand: libnl 3.7's rtnl_qdisc_add() overruns its message
         * buffer when a delay distribution is attached (caught by ASan on
         * Debian 12's libnl-route-3-200 3.7.0). */
        int16_t *dist = NULL;
        size_t n_dist = 0;
        if (spec->distribution && !streq(spec->distribution, "uniform")) {
                int r = load_dist(spec->distribution, &dist, &n_dist);
                if (r < 0)
                        return r;
        }
        struct nl_msg *msg = nlmsg_alloc_size(64 * 1024 + n_dist * sizeof *dist);
        if (!msg) {
                free(dist);
                return -ENOMEM;
        }
        struct tcmsg t = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = TC_H_ROOT,
                          .tcm_handle = TC_HANDLE(1, 0)};
        /* netem's options are a struct tc_netem_qopt followed by attributes.
         * The 64-bit nanosecond fields override the qopt's tick fields. */
        struct tc_netem_qopt q = {
                .limit = spec->limit ? spec->limit : 1000,
                .loss = spec->ge_r || spec->gi ? 0 : netem_u32(spec->loss.p),
                .duplicate = netem_u32(spec->duplicate.p),
                /* Reorder every packet the dice choose (iproute2 sets gap 1
                 * likewise): gap 0 would never reorder. */
                .gap = spec->reorder.p ? 1 : 0,
        };
        struct tc_netem_corr corr = {
                .delay_corr = netem_u32(spec->correlation),
                .loss_corr = spec->ge_r || spec->gi ? 0 : netem_u32(spec->loss.correlation),
                .dup_corr = netem_u32(spec->duplicate.correlation),
        };
        struct tc_netem_reorder reorder = {netem_u32(spec->reorder.p), netem_u32(spec->reorder.correlation)};
        struct tc_netem_corrupt corrupt = {netem_u32(spec->corrupt.p), netem_u32(spec->corrupt.correlation)};
        struct tc_netem_rate rate = {.rate = (uint32_t)(spec->rate_bytes > UINT32_MAX ? UINT32_MAX : spec->rate_bytes)};
        uint64_t rate64 = spec->rate_bytes;
        /* h = 0: nothing passes in the bad state; k1 = 0: nothing is lost in the good one. */
        struct tc_netem_gemodel ge = {.p = netem_u32(spec->ge_p), .r = netem_u32(spec->ge_r), .h = 0, .k1 = 0};
        struct tc_netem_gimodel gi = {.p13 = netem_u32(spec->p13), .p31 = netem_u32(spec->p31),
                                      .p32 = netem_u32(spec->p32), .p14 = netem_u32(spec->p14),
                                      .p23 = netem_u32(spec->p23)};
        int64_t lat = (int64_t)spec->delay_ns, jit = (int64_t)spec->jitter_ns;
        struct nlattr *o = NULL, *lo = NULL;
        int r = nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, RTM_NEWQDISC, 0,
                          NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) ? 0 : -1;
        if (r >= 0)
                r = nlmsg_append(msg, &t, sizeof t, NLMSG_ALIGNTO);
        if (r >= 0)
                r = nla_put_string(msg, TCA_KIND, "netem");
        if (r >= 0 && !(o = nla_nest_start(msg, TCA_OPTIONS)))
                r = -1;
        if (r >= 0)
                r = nlmsg_append(msg, &q, sizeof q, NLMSG_ALIGNTO);
        if (r >= 0)
                r = nla_put(msg, TCA_NETEM_CORR, sizeof corr, &corr);
        if (r >= 0)
                r = nla_put(msg, TCA_NETEM_LATENCY64, sizeof lat, &lat);
        if (r >= 0 && jit)
                r = nla_put(msg, TCA_NETEM_JITTER64, sizeof jit, &jit);
        if (r >= 0 && n_dist)
                r = nla_put(msg, TCA_NETEM_DELAY_DIST, (int)(n_dist * sizeof *dist), dist);
        if (r >= 0 && spec->reorder.p)
                r = nla_put(msg, TCA_NETEM_REORDER, sizeof reorder, &reorder);
        if (r >= 0 && spec->corrupt.p)
                r = nla_put(msg, TCA_NETEM_CORRUPT, sizeof corrupt, &corrupt);
        if (r >= 0 && spec->rate_bytes)
                r = nla_put(msg, TCA_NETEM_RATE, sizeof rate, &rate);
        if (r >= 0 && spec->rate_bytes > UINT32_MAX)
                r = nla_put(msg, TCA_NETEM_RATE64, sizeof rate64, &rate64);
        if (r >= 0 && (spec->ge_r || spec->gi)) {
                if (!(lo = nla_nest_start(msg, TCA_NETEM_LOSS)))
                        r = -1;
                if (r >= 0)
                        r = spec->gi ? nla_put(msg, NETEM_LOSS_GI, sizeof gi, &gi)
                                     : nla_put(msg, NETEM_LOSS_GE, sizeof ge, &ge);
                if (r >= 0)
                        nla_nest_end(msg, lo);
        }
        free(dist);
        if (r < 0) {
                nlmsg_free(msg);
                return -ENOMEM;
        }
        nla_nest_end(msg, o);
        return talk(sk, msg);
}
