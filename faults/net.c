/* SPDX-License-Identifier: MIT */
/* Network faults. loss and blackhole: the net_filter classifier in
 * direct-action mode on the interface's clsact hook, dropping with
 * TC_ACT_STOLEN. latency: a sabot-owned ifb device with netem as its root;
 * the classifier in classic mode steers only matching packets to it with
 * act_mirred. The interface's own root qdisc is never touched. */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <syslog.h>

#include "../agent/host.h"
#include "../agent/scenario.h"
#include "fault.h"
#include "net_filter.h"
#include "tc.h"

/* Filters sabot creates carry this in the upper half of their handle. */
#define SABOT_HANDLE_MAGIC 0x5ab0U
#define SABOT_PRIO_BASE 0xc000U

static uint64_t netns_self(void) {
        struct stat st;
        return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Run in the network namespace with inode ino: found through a named
 * namespace (/run/netns) or any process living in it. Returns the fd to
 * come back with (-1: already there), -ESRCH when the namespace is gone,
 * and with it every interface that lived in it. */
static int netns_enter(uint64_t ino) {
        if (!ino || ino == netns_self())
                return -1;
        int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (back < 0)
                return -errno;
        const char *dirs[] = {"/run/netns", "/proc"};
        for (int k = 0; k < 2; k++) {
                DIR *d = opendir(dirs[k]);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = readdir(d))) {
                        char p[PATH_MAX];
                        struct stat st;
                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof p, k ? "/proc/%s/ns/net" : "/run/netns/%s", de->d_name);
                        if (stat(p, &st) < 0 || (uint64_t)st.st_ino != ino)
                                continue;
                        int fd = open(p, O_RDONLY | O_CLOEXEC);
                        if (fd >= 0 && setns(fd, CLONE_NEWNET) == 0) {
                                close(fd);
                                closedir(d);
                                return back;
                        }
                        if (fd >= 0)
                                close(fd);
                }
                closedir(d);
        }
        close(back);
        return -ESRCH;
}

static void netns_leave(int back) {
        if (back >= 0) {
                (void)setns(back, CLONE_NEWNET);
                close(back);
        }
}

/* The interface still is the one recorded: same index, same name. */
static bool same_dev(const struct jentry *e) {
        char name[IF_NAMESIZE];
        return if_indextoname((unsigned)e->ifindex, name) && streq(name, e->dev);
}

typedef int (*net_revert_fn)(struct nl_sock *sk, const struct jentry *e);

static int in_netns(const struct jentry *e, net_revert_fn fn) {
        int back = netns_enter(e->netns);
        if (back == -ESRCH)
                return 0;
        if (back < -1)
                return back;
        struct nl_sock *sk = NULL;
        int r = tc_open(&sk);
        if (r >= 0)
                r = fn(sk, e);
        tc_close(sk);
        netns_leave(back);
        return r;
}

static int revert_filter(struct nl_sock *sk, const struct jentry *e) {
        if (!same_dev(e))
                return 0;
        int r = tc_filter_del(sk, e->ifindex, e->ingress, (uint16_t)e->prio, e->handle);
        return r == -ENOENT || r == -EINVAL || r == -ENODEV ? 0 : r;
}

static int revert_clsact(struct nl_sock *sk, const struct jentry *e) {
        if (!same_dev(e))
                return 0;
        int r = tc_clsact_del_if_empty(sk, e->ifindex);
        /* Someone else's filters on it now: theirs to keep. */
        return r == -EBUSY ? 0 : r;
}

static int revert_ifb(struct nl_sock *sk, const struct jentry *e) { return tc_ifb_del(sk, e->dev); }

int net_revert_filter(const struct jentry *e) { return in_netns(e, revert_filter); }
int net_revert_clsact(const struct jentry *e) { return in_netns(e, revert_clsact); }
int net_revert_ifb(const struct jentry *e) { return in_netns(e, revert_ifb); }

/* ---- probing, in a throwaway network namespace ---- */

/* Whether module NAME is in this kernel's modules.dep (1), built in (2),
 * neither (0), or the lists cannot be read (-1). */
static int module_listed(const char *name) {
        struct utsname u;
        if (uname(&u) < 0)
                return -1;
        static const char *const lists[] = {"modules.builtin", "modules.dep"};
        char want[64];
        int n = snprintf(want, sizeof want, "/%s.ko", name), found = -1;
        for (int i = 0; i < 2; i++) {
                char p[PATH_MAX], line[1024];
                snprintf(p, sizeof p, "/lib/modules/%s/%s", u.release, lists[i]);
                FILE *f = fopen(p, "re");
                if (!f)
                        continue;
                found = found < 0 ? 0 : found;
                while (found == 0 && fgets(line, sizeof line, f)) {
                        /* modules.dep: "kernel/net/sched/sch_netem.ko[.xz]: deps" */
                        char *end = strpbrk(line, ":\n");
                        if (end)
                                *end = '\0';
                        char *at = strstr(line, want);
                        if (at && (at[n] == '\0' || at[n] == '.'))
                                found = i == 0 ? 2 : 1;
                }
                fclose(f);
                if (found > 0)
                        break;
        }
        return found;
}

/* What to do about a missing network feature, without advising modprobe
 * where it cannot help: kernels built without loadable modules have no
 * /proc/modules, and a module that is not shipped cannot be loaded. */
static const char *kernel_hint(char *buf, size_t len, int err, const char *mod, const char *config) {
        /* A missing qdisc, filter, action or link kind is ENOENT or
         * EOPNOTSUPP; anything else (EPERM, ENOMEM) is not about modules. */
        if (err != -ENOENT && err != -EOPNOTSUPP) {
                buf[0] = '\0';
                return buf;
        }
        static const char stock[] = "Debian 12's linux-image-amd64, -cloud-amd64 and -6.12-amd64 have it";
        int fd = open("/proc/sys/kernel/modules_disabled", O_RDONLY | O_CLOEXEC);
        char c = '0';
        if (fd >= 0) {
                (void)!read(fd, &c, 1);
                close(fd);
        }
        int listed = module_listed(mod);
        if (listed == 2)
                snprintf(buf, len, ": %s is built in, yet refused", config);
        else if (access("/proc/modules", F_OK) < 0)
                snprintf(buf, len, ": this kernel lacks %s and loads no modules; %s", config, stock);
        else if (c == '1')
                snprintf(buf, len, ": module loading is disabled (kernel.modules_disabled); %s needs %s", mod, config);
        else if (listed == 0)
                snprintf(buf, len, ": this kernel ships no %s module (%s); %s", mod, config, stock);
        else
                snprintf(buf, len, ": try 'modprobe %s' (%s)", mod, config);
        return buf;
}

static void probe_child(int wfd) {
        struct net_support s = {0};
        struct nl_sock *sk = NULL;
        int r = unshare(CLONE_NEWNET);
        if (r < 0)
                snprintf(s.clsact_why, sizeof s.clsact_why, "cannot create a network namespace to try in: %s", strerror(errno));
        else if ((r = tc_open(&sk)) < 0)
                snprintf(s.clsact_why, sizeof s.clsact_why, "rtnetlink: %s", strerror(-r));
        int lo = (int)if_nametoindex("lo");
        char hint[192];
        struct net_filter_bpf *skel = NULL;
        struct net_filter_spec spec = {.probability = RATIO_ONE, .l3_offset = 14};
        if (!s.clsact_why[0] && (r = tc_clsact_add(sk, lo)) < 0)
                snprintf(s.clsact_why, sizeof s.clsact_why, "cannot create a clsact qdisc (%s)%s", strerror(-r),
                         kernel_hint(hint, sizeof hint, r, "sch_ingress", "CONFIG_NET_SCH_INGRESS"));
        if (!s.clsact_why[0] && (r = net_filter_load(&spec, &skel)) < 0)
                snprintf(s.clsact_why, sizeof s.clsact_why, "cannot load the tc classifier (%s): the kernel needs "
                         "BPF (CONFIG_BPF_SYSCALL) and CAP_BPF/CAP_NET_ADMIN", strerror(-r));
        if (!s.clsact_why[0] && (r = tc_bpf_add(sk, lo, false, 1, 1, net_filter_prog_fd(skel), "sabot_probe", true, 0)) < 0)
                snprintf(s.clsact_why, sizeof s.clsact_why, "cannot attach a cls_bpf filter (%s)%s", strerror(-r),
                         kernel_hint(hint, sizeof hint, r, "cls_bpf", "CONFIG_NET_CLS_BPF"));
        int ifb = 0;
        if (sk && (r = tc_ifb_add(sk, "sabot-probe", &ifb)) < 0)
                snprintf(s.ifb_why, sizeof s.ifb_why, "cannot create an ifb device (%s)%s", strerror(-r),
                         kernel_hint(hint, sizeof hint, r, "ifb", "CONFIG_IFB"));
        struct netem_spec ne = {.delay_ns = 1000000};
        if (!s.ifb_why[0] && (r = tc_netem_add(sk, ifb, &ne)) < 0)
                snprintf(s.netem_why, sizeof s.netem_why, "cannot create a netem qdisc (%s)%s", strerror(-r),
                         kernel_hint(hint, sizeof hint, r, "sch_netem", "CONFIG_NET_SCH_NETEM"));
        else if (s.ifb_why[0])
                snprintf(s.netem_why, sizeof s.netem_why, "not tried: no ifb device");
        if (!s.clsact_why[0] && ifb &&
            (r = tc_bpf_add(sk, lo, true, 2, 2, net_filter_prog_fd(skel), "sabot_probe", false, ifb)) < 0)
                snprintf(s.mirred_why, sizeof s.mirred_why, "cannot add an act_mirred redirect (%s)%s", strerror(-r),
                         kernel_hint(hint, sizeof hint, r, "act_mirred", "CONFIG_NET_ACT_MIRRED"));
        else if (s.clsact_why[0] || !ifb)
                snprintf(s.mirred_why, sizeof s.mirred_why, "not tried: %s", s.clsact_why[0] ? "no cls_bpf" : "no ifb device");
        if (skel)
                net_filter_free(skel);
        tc_close(sk);
        (void)!write(wfd, &s, sizeof s);
        _exit(0);
}

void net_probe(struct net_support *ret) {
        static struct net_support cached;
        static bool done;
        if (done) {
                *ret = cached;
                return;
        }
        memset(&cached, 0, sizeof cached);
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                snprintf(cached.clsact_why, sizeof cached.clsact_why, "pipe: %s", strerror(errno));
                goto out;
        }
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                probe_child(p[1]);
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &cached, sizeof cached) != (ssize_t)sizeof cached)
                snprintf(cached.clsact_why, sizeof cached.clsact_why, "the probe did not finish");
        close(p[0]);
        if (pid > 0)
                waitpid(pid, NULL, 0);
out:
        done = true;
        *ret = cached;
}

static int probe_drop(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        (void)sc;
        struct net_support s;
        (void)f;
        net_probe(&s);
        if (!s.clsact_why[0])
                return 0;
        snprintf(why, len, "%s", s.clsact_why);
        return -EOPNOTSUPP;
}

static const char *dist_name(int d) {
        return d == DIST_NORMAL ? "normal" : d == DIST_PARETO ? "pareto" : d == DIST_PARETONORMAL ? "paretonormal" : NULL;
}

static int probe_latency(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        (void)sc;
        struct net_support s;
        char p[256];
        const char *dist = dist_name(f->distribution);
        if (dist && tc_dist_find(dist, p, sizeof p) < 0) {
                snprintf(why, len, "netem's %s.dist table is not installed (looked in /usr/lib/x86_64-linux-gnu/tc, "
                         "/usr/lib/tc, /usr/lib64/tc, /usr/local/lib/tc); install iproute2, or leave out distribution",
                         dist);
                return -EOPNOTSUPP;
        }
        net_probe(&s);
        const char *w = s.clsact_why[0] ? s.clsact_why : s.ifb_why[0] ? s.ifb_why : s.netem_why[0] ? s.netem_why : s.mirred_why;
        if (!w[0])
                return 0;
        snprintf(why, len, "%s", w);
        return -EOPNOTSUPP;
}

/* ---- apply ---- */

struct net_priv {
        struct net_filter_bpf *skel;
};

static void net_priv_free(void *p) {
        struct net_priv *n = p;
        if (n && n->skel)
                net_filter_free(n->skel);
        free(n);
}

/* Devices without a link-layer header hand the classifier the IP header
 * first (tun, wireguard, ipip). */
static uint32_t l3_offset_of(const char *dev) {
        char p[PATH_MAX], buf[32] = "";
        snprintf(p, sizeof p, "/sys/class/net/%s/type", dev);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (n > 0) {
                        long t = strtol(buf, NULL, 10);
                        if (t == 65534 || t == 768 || t == 776 || t == 778)
                                return 0;
                }
        }
        return 14;
}

static int journal_net(struct fault_ctx *c, struct fault_run *fr, const char *kind, const char *dev, int ifindex,
                       bool ingress, uint32_t prio, uint32_t handle) {
        struct jentry e = {.ifindex = ifindex, .ingress = ingress, .prio = prio, .handle = handle,
                           .netns = netns_self(), .name = fr->f->hdr.name};
        snprintf(e.kind, sizeof e.kind, "%s", kind);
        snprintf(e.dev, sizeof e.dev, "%s", dev);
        int r = journal_apply(c->j, &e);
        return r < 0 ? r : fault_track(fr, e.seq) < 0 ? -ENOMEM : (int)e.seq;
}

static int fault_index(struct fault_ctx *c, const struct fault *f) {
        for (size_t i = 0; i < c->pl->s->n_faults; i++)
                if (c->pl->s->faults[i] == f)
                        return (int)i;
        return 0;
}

static int net_apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        bool ingress = f->direction == DIR_INGRESS, latency = f->type == FAULT_LATENCY;
        int ifindex = (int)if_nametoindex(f->interface);
        if (!ifindex)
                return -ENODEV;
        int idx = fault_index(c, f), r;
        struct net_filter_spec spec = {
                .action = latency ? NET_ACT_CLASSIFY : NET_ACT_DROP,
                .probability = f->type == FAULT_LOSS ? f->percent : RATIO_ONE,
                .correlation = f->type == FAULT_LOSS ? f->correlation : 0,
                .l3_offset = l3_offset_of(f->interface),
                .dst = &f->dst, .src = &f->src, .dport = &f->dport, .sport = &f->sport,
                .protocol = f->protocol,
                .protected_ports = &c->pl->p->protect.ports,
        };
        if (f->target_index >= 0 && (r = fault_target_cgroup(c, f, &spec.cgroup_id, &spec.cgroup_level)) < 0) {
                fault_event(c, LOG_ERR, f, "cannot find the cgroup of target %s: %s", f->target, strerror(-r));
                return r;
        }
        struct net_priv *priv = calloc(1, sizeof *priv);
        if (!priv)
                return -ENOMEM;
        fr->priv = priv;
        fr->priv_free = net_priv_free;
        r = net_filter_load(&spec, &priv->skel);
        if (r < 0) {
                fault_event(c, LOG_ERR, f, "cannot load the classifier: %s", strerror(-r));
                return r;
        }
        struct nl_sock *sk = NULL;
        r = tc_open(&sk);
        if (r < 0)
                return r;
        int ifb = 0;
        char ifb_name[IF_NAMESIZE] = "";
        if (latency) {
                /* sabot-<pid in hex>-<fault>: unique per run, and a sweep can
                 * tell sabot's ifb devices apart by the prefix. */
                snprintf(ifb_name, sizeof ifb_name, "sabot-%x-%u", (unsigned)getpid() & 0xffffffU, (unsigned)idx % 100U);
                r = journal_net(c, fr, "ifb", ifb_name, 0, false, 0, 0);
                if (r >= 0)
                        r = tc_ifb_add(sk, ifb_name, &ifb);
                if (r == -EEXIST)
                        fault_event(c, LOG_ERR, f, "%s already exists (left by an earlier run?): 'sabot recover' removes it",
                                    ifb_name);
                struct netem_spec ne = {
                        .delay_ns = f->delay,
                        .jitter_ns = f->jitter,
                        .correlation = f->correlation,
                        .distribution = dist_name(f->distribution),
                };
                if (r >= 0 && (r = tc_netem_add(sk, ifb, &ne)) < 0)
                        fault_event(c, LOG_ERR, f, "cannot create netem on %s: %s", ifb_name, strerror(-r));
                if (r < 0)
                        goto out;
        }
        /* The clsact qdisc is journaled after it is created, not before: the
         * revert deletes it (when empty), and a pre-existing one that is
         * empty must never be taken for ours after a crash. An empty clsact
         * left behind by a crash in between changes no traffic. */
        r = tc_clsact_add(sk, ifindex);
        if (r >= 0)
                r = journal_net(c, fr, "clsact", f->interface, ifindex, false, 0, 0);
        else if (r == -EEXIST)
                r = 0;
        if (r < 0)
                goto out;
        uint32_t prio = SABOT_PRIO_BASE + (uint32_t)idx, handle = SABOT_HANDLE_MAGIC << 16 | ((uint32_t)getpid() & 0xffff);
        r = journal_net(c, fr, "tcfilter", f->interface, ifindex, ingress, prio, handle);
        if (r >= 0)
                r = tc_bpf_add(sk, ifindex, ingress, (uint16_t)prio, handle, net_filter_prog_fd(priv->skel), "sabot_net",
                               !latency, ifb);
        if (r == -EEXIST)
                fault_event(c, LOG_ERR, f, "a sabot filter (prio %u) is already on %s: 'sabot recover' removes it", prio,
                            f->interface);
        if (r >= 0) {
                char a[FORMAT_MAX], b[FORMAT_MAX];
                if (latency)
                        fault_event(c, LOG_WARNING, f, "%s %s: delaying matching packets by %s%s%s through %s", f->interface,
                                    ingress ? "ingress" : "egress", format_duration(a, f->delay), f->jitter ? " ± " : "",
                                    f->jitter ? format_duration(b, f->jitter) : "", ifb_name);
                else if (f->type == FAULT_LOSS)
                        fault_event(c, LOG_WARNING, f, "%s %s: dropping %s of matching packets", f->interface,
                                    ingress ? "ingress" : "egress", format_ratio(a, f->percent));
                else
                        fault_event(c, LOG_WARNING, f, "%s %s: dropping every matching packet", f->interface,
                                    ingress ? "ingress" : "egress");
        }
out:
        tc_close(sk);
        return r < 0 ? r : 0;
}

static int net_counters(struct fault_run *fr, uint64_t n[static _NET_COUNTERS]) {
        struct net_priv *priv = fr->priv;
        if (!priv || !priv->skel || net_filter_counters(priv->skel, n) < 0)
                return -ENODATA;
        fr->strikes = (unsigned)n[NET_MATCHED];
        fr->hits = (unsigned)n[NET_ACTED];
        return 0;
}

static void net_count(struct fault_run *fr) {
        uint64_t n[_NET_COUNTERS] = {0};
        (void)net_counters(fr, n);
}

static void net_finish(struct fault_ctx *c, struct fault_run *fr) {
        uint64_t n[_NET_COUNTERS] = {0};
        (void)c;
        if (net_counters(fr, n) < 0)
                return;
        if (fr->f->type == FAULT_LATENCY)
                snprintf(fr->outcome, sizeof fr->outcome, "delayed %llu of %llu packets seen (%llu protected)",
                         (unsigned long long)n[NET_ACTED], (unsigned long long)n[NET_SEEN],
                         (unsigned long long)n[NET_PROTECTED]);
        else
                snprintf(fr->outcome, sizeof fr->outcome, "dropped %llu of %llu matching packets (%llu seen, %llu protected)",
                         (unsigned long long)n[NET_ACTED], (unsigned long long)n[NET_MATCHED],
                         (unsigned long long)n[NET_SEEN], (unsigned long long)n[NET_PROTECTED]);
}

const struct fault_ops loss_ops = {
        .type = FAULT_LOSS, .probe = probe_drop, .apply = net_apply, .finish = net_finish,
        .count = net_count,
};
const struct fault_ops blackhole_ops = {
        .type = FAULT_BLACKHOLE, .probe = probe_drop, .apply = net_apply, .finish = net_finish,
        .count = net_count,
};
const struct fault_ops latency_ops = {
        .type = FAULT_LATENCY, .probe = probe_latency, .apply = net_apply, .finish = net_finish,
        .count = net_count,
};

/* ---- the orphan sweep ---- */

static bool journaled(struct journal *const *live, size_t n, const char *kind, uint64_t ns, const char *dev,
                      uint32_t prio, uint32_t handle) {
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < live[i]->n; k++) {
                        const struct jentry *e = &live[i]->v[k];
                        if (streq(e->kind, kind) && e->netns == ns && streq(e->dev, dev) &&
                            (!handle || (e->prio == prio && e->handle == handle)))
                                return true;
                }
        return false;
}

static int sweep_here(struct journal *const *live, size_t n_live, void (*report)(const char *, void *), void *ud,
                      const char *where) {
        struct nl_sock *sk = NULL;
        struct tc_link *links = NULL;
        size_t n = 0;
        int r = tc_open(&sk), swept = 0;
        if (r >= 0)
                r = tc_link_list(sk, &links, &n);
        uint64_t ns = netns_self();
        char what[160];
        for (size_t i = 0; r >= 0 && i < n; i++) {
                for (int in = 0; in < 2; in++) {
                        struct tc_filter_id *f = NULL;
                        size_t nf = 0;
                        if (tc_filter_list(sk, links[i].ifindex, in, &f, &nf) < 0)
                                continue;
                        for (size_t k = 0; k < nf; k++) {
                                if (f[k].handle >> 16 != SABOT_HANDLE_MAGIC ||
                                    journaled(live, n_live, "tcfilter", ns, links[i].name, f[k].prio, f[k].handle))
                                        continue;
                                if (tc_filter_del(sk, links[i].ifindex, in, f[k].prio, f[k].handle) >= 0) {
                                        snprintf(what, sizeof what, "orphaned sabot filter (prio %u, handle 0x%x) on %s %s%s",
                                                 f[k].prio, f[k].handle, links[i].name, in ? "ingress" : "egress", where);
                                        report(what, ud);
                                        swept++;
                                }
                        }
                        free(f);
                }
                if (links[i].ifb && strncmp(links[i].name, "sabot-", 6) == 0 &&
                    !journaled(live, n_live, "ifb", ns, links[i].name, 0, 0) && tc_ifb_del(sk, links[i].name) >= 0) {
                        snprintf(what, sizeof what, "orphaned ifb device %s%s", links[i].name, where);
                        report(what, ud);
                        swept++;
                }
        }
        free(links);
        tc_close(sk);
        return r < 0 ? r : swept;
}

int net_sweep(struct journal *const *live, size_t n_live, void (*report)(const char *what, void *ud), void *ud) {
        int total = sweep_here(live, n_live, report, ud, "");
        if (total < 0)
                return total;
        DIR *d = opendir("/run/netns");
        if (!d)
                return total;
        int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        struct dirent *de;
        while (back >= 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char p[PATH_MAX], where[PATH_MAX + 16];
                snprintf(p, sizeof p, "/run/netns/%s", de->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (setns(fd, CLONE_NEWNET) == 0) {
                        snprintf(where, sizeof where, " in netns %s", de->d_name);
                        int r = sweep_here(live, n_live, report, ud, where);
                        if (r > 0)
                                total += r;
                        (void)setns(back, CLONE_NEWNET);
                }
                close(fd);
        }
        if (back >= 0)
                close(back);
        closedir(d);
        return total;
}
