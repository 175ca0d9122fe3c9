/* SPDX-License-Identifier: MIT */
/* Network faults. loss and blackhole: the net_filter classifier in
 * direct-action mode on the interface's clsact hook, dropping with
 * TC_ACT_STOLEN. latency: a sabot-owned ifb device with netem as its root;
 * the classifier in classic mode steers only matching packets to it with
 * act_mirred. The interface's own root qdisc is never touched. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <linux/if_ether.h>
#include <dirent.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <syslog.h>

#include "../agent/host.h"
#include "../agent/scenario.h"
#include "fault.h"
#include "net.h"
#include "net_filter_loader.h"
#include "tc.h"

/* Filters sabot creates carry the runner's pid in their handle, under a
 * tag: pid_max is at most 2^22 (PID_MAX_LIMIT), the tag takes the 10 bits
 * above. The sweep tells a live run's filter from an orphan by that pid,
 * whatever run dir either was started with. (0x16a is also the top of the
 * 0x5ab0xxxx handles of earlier versions.) */
#define SABOT_PID_BITS 22
#define SABOT_PID_MASK ((1U << SABOT_PID_BITS) - 1)
#define SABOT_HANDLE_TAG 0x16aU
#define SABOT_HANDLE(pid) (SABOT_HANDLE_TAG << SABOT_PID_BITS | ((uint32_t)(pid) & SABOT_PID_MASK))
#define SABOT_HANDLE_PID(h) ((pid_t)((h) & SABOT_PID_MASK))
#define IS_SABOT_HANDLE(h) ((h) >> SABOT_PID_BITS == SABOT_HANDLE_TAG)
/* A clsact qdisc sabot created carries an empty chain, inert, with this tag
 * and the creator's pid in its index (chain indexes stop below 2^28,
 * TC_ACT_EXT_VAL_MASK): the kernel itself then says whose the qdisc is, so
 * whoever removes the last sabot filter on it (the runner, its guardian,
 * abort or recover, of this run or another) removes it too, and never a
 * clsact someone else made. */
#define SABOT_CHAIN_TAG 0x16U
#define SABOT_CHAIN(pid) (SABOT_CHAIN_TAG << SABOT_PID_BITS | ((uint32_t)(pid) & SABOT_PID_MASK))
#define IS_SABOT_CHAIN(c) ((c) >> SABOT_PID_BITS == SABOT_CHAIN_TAG)
/* Fault i of a scenario filters at priority SABOT_PRIO_BASE + i: distinct
 * within a run, and with the scenario ceiling it cannot wrap. */
#define SABOT_PRIO_BASE 0xc000U
_Static_assert(SABOT_PRIO_BASE + SCENARIO_MAX_FAULTS - 1 <= 0xffffU, "tc priorities would wrap");

static uint64_t netns_self(void) {
        struct stat st;
        return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Enter the namespace at path if it is the one with inode ino: 1 entered,
 * 0 not that one, <0 it is but setns failed (kept in *err). */
static int try_enter(const char *path, uint64_t ino, int *err) {
        struct stat st;
        if (stat(path, &st) < 0 || (uint64_t)st.st_ino != ino || !S_ISREG(st.st_mode))
                return 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *err = -errno;
                return 0;
        }
        int r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 1;
        close(fd);
        /* A file that only shares the number is not a namespace (EINVAL). */
        if (r < 0 && r != -EINVAL)
                *err = r;
        return r > 0;
}

/* nsfs bind mounts anywhere in our mount namespace: "net:[INO]" is their
 * root in mountinfo. */
static int enter_by_mount(uint64_t ino, int *err) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return 0;
        char line[4096], want[64];
        snprintf(want, sizeof want, "net:[%llu]", (unsigned long long)ino);
        int r = 0;
        while (!r && fgets(line, sizeof line, f)) {
                char *save = NULL, *fld[5] = {0};
                fld[0] = strtok_r(line, " ", &save);
                for (int k = 1; k < 5 && fld[k - 1]; k++)
                        fld[k] = strtok_r(NULL, " ", &save);
                if (!fld[4] || !streq(fld[3], want))
                        continue;
                /* Mount points escape space, tab, newline and backslash as \ooo. */
                char path[PATH_MAX];
                size_t o = 0;
                for (const char *c = fld[4]; *c && o + 1 < sizeof path; c++) {
                        if (c[0] == '\\' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' &&
                            c[3] <= '7') {
                                path[o++] = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0'));
                                c += 3;
                        } else
                                path[o++] = *c;
                }
                path[o] = '\0';
                r = try_enter(path, ino, err);
        }
        fclose(f);
        return r;
}

/* A namespace held only by a process's open file (setns fds, a pidfd
 * holder, `unshare --net` children that moved on). */
static int enter_by_fd(uint64_t ino, int *err) {
        DIR *d = opendir("/proc");
        if (!d)
                return 0;
        char want[64];
        snprintf(want, sizeof want, "net:[%llu]", (unsigned long long)ino);
        struct dirent *de;
        int r = 0;
        while (!r && (de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                char dir[64];
                snprintf(dir, sizeof dir, "/proc/%.20s/fd", de->d_name);
                DIR *fd = opendir(dir);
                if (!fd)
                        continue;
                struct dirent *fe;
                while (!r && (fe = readdir(fd))) {
                        char p[128], link[64];
                        if (fe->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof p, "%s/%.32s", dir, fe->d_name);
                        ssize_t n = readlink(p, link, sizeof link - 1);
                        if (n <= 0)
                                continue;
                        link[n] = '\0';
                        if (streq(link, want))
                                r = try_enter(p, ino, err);
                }
                closedir(fd);
        }
        closedir(d);
        return r;
}

/* Run in the network namespace with inode ino, found through a named
 * namespace (/run/netns), any process living in it, an nsfs
 * mount anywhere, or an open file of any process. Returns the fd to come
 * back with (-1: already there); -ESRCH when nothing that sabot can see
 * holds it; another negative errno when it was found but cannot be
 * entered. */
static int netns_enter(uint64_t ino) {
        /* Namespaces this process looked for everywhere and did not find:
         * the other entries of a journal need not scan every fd again. */
        static uint64_t not_found[8];
        static unsigned n_not_found;
        if (!ino || ino == netns_self())
                return -1;
        for (unsigned i = 0; i < n_not_found && i < ELEMENTSOF(not_found); i++)
                if (not_found[i] == ino)
                        return -ESRCH;
        int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (back < 0)
                return -errno;
        int err = 0;
        const char *dirs[] = {"/run/netns", "/proc"};
        for (int k = 0; k < 2; k++) {
                DIR *d = opendir(dirs[k]);
                if (!d)
                        continue;
                struct dirent *de;
                int in = 0;
                while (!in && (de = readdir(d))) {
                        char p[PATH_MAX];
                        if (de->d_name[0] == '.' || (k && (de->d_name[0] < '0' || de->d_name[0] > '9')))
                                continue;
                        snprintf(p, sizeof p, k ? "/proc/%s/ns/net" : "/run/netns/%s", de->d_name);
                        in = try_enter(p, ino, &err);
                }
                closedir(d);
                if (in)
                        return back;
        }
        if (enter_by_mount(ino, &err) || enter_by_fd(ino, &err))
                return back;
        close(back);
        if (err < 0)
                return err;
        not_found[n_not_found++ % ELEMENTSOF(not_found)] = ino;
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

static bool same_hook(const struct fault *a, const struct fault *b);
static size_t shared_index(const struct scenario *sc, const struct fault *f);
static uint32_t l3_offset_of(const char *dev);

/* ---- the shared classifiers: one per interface and direction ---- */

struct net_cls {
        pid_t owner; /* who loaded it: a forked guardian's copy is not its */
        const struct fault **faults; /* rule k is faults[k]'s */
        bool *on;
        size_t n;
        unsigned n_on; /* rules on */
        struct net_filter_bpf *skel;
        uint32_t prog_id;
        /* the index in its scenario of faults[0] (of the first fault
         * sharing it): its tc priority is SABOT_PRIO_BASE + idx */
        size_t idx;
        /* A netem kind's own classifier (classic mode, one rule): its
         * packets go, through its filter's act_mirred, to the ifb with
         * this netem as root, built with the filter. */
        bool netem;
        struct netem_spec ne;
        char ifb_name[IF_NAMESIZE];
        int ifb;
        /* where its filter is attached; ifindex 0: not attached */
        int ifindex;
        uint64_t netns;
        uint32_t prio, handle;
};
/* Each allocated on its own: a window's net_priv keeps a pointer to its
 * classifier, which a later load (growing the array) must not move. */
static struct net_cls **cls_v;
static size_t cls_n;

static struct net_cls *cls_find(const struct fault *f, unsigned *ret_rule) {
        for (size_t i = 0; i < cls_n; i++) {
                struct net_cls *k = cls_v[i];
                if (k->owner != getpid())
                        continue;
                for (size_t r = 0; r < k->n; r++)
                        if (k->faults[r] == f) {
                                *ret_rule = (unsigned)r;
                                return k;
                        }
        }
        return NULL;
}

/* What a journal entry of a shared filter names, in the runner that made it. */
static struct net_cls *cls_of_entry(const struct jentry *e, unsigned *ret_rule) {
        for (size_t i = 0; i < cls_n; i++) {
                struct net_cls *k = cls_v[i];
                if (k->owner != getpid() || !k->ifindex || k->ifindex != e->ifindex || k->netns != e->netns ||
                    k->prio != e->prio || k->handle != e->handle)
                        continue;
                *ret_rule = UINT_MAX;
                for (size_t r = 0; r < k->n && e->name; r++)
                        if (streq(k->faults[r]->hdr.name, e->name))
                                *ret_rule = (unsigned)r;
                return k;
        }
        return NULL;
}

/* A process forked from the runner (the guardian) holds copies of the
 * runner's classifiers: let them go, so that a program still loaded means
 * a filter still attached somewhere (in_netns). */
static void cls_drop_foreign(void) {
        for (size_t i = 0; i < cls_n; i++)
                if (cls_v[i]->owner != getpid() && cls_v[i]->skel) {
                        net_filter_free(cls_v[i]->skel);
                        cls_v[i]->skel = NULL;
                }
}

/* Load the classifier of f's interface and direction with a rule for each
 * fault of sc that shares it, all off. */
static int cls_load(const struct scenario *sc, const struct fault *f, const struct port_list *protected_ports) {
        size_t n = 0;
        for (size_t i = 0; i < sc->n_faults; i++)
                n += net_shares_classifier(sc->faults[i]) && same_hook(sc->faults[i], f);
        if (!n || n > NET_MAX_RULES)
                return -E2BIG;
        struct net_cls **v = realloc(cls_v, (cls_n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        cls_v = v;
        struct net_cls *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        *k = (struct net_cls){.owner = getpid(), .n = n, .idx = shared_index(sc, f)};
        k->faults = calloc(n, sizeof *k->faults);
        k->on = calloc(n, sizeof *k->on);
        struct net_filter_spec *specs = calloc(n, sizeof *specs);
        const struct net_filter_spec **pv = calloc(n, sizeof *pv);
        int r = k->faults && k->on && specs && pv ? 0 : -ENOMEM;
        for (size_t i = 0, m = 0; r >= 0 && i < sc->n_faults; i++) {
                const struct fault *g = sc->faults[i];
                if (!net_shares_classifier(g) || !same_hook(g, f))
                        continue;
                k->faults[m] = g;
                specs[m] = (struct net_filter_spec){.probability = RATIO_ONE, .dst = &g->dst, .src = &g->src,
                                                    .dport = &g->dport, .sport = &g->sport, .protocol = g->protocol};
                pv[m] = &specs[m];
                m++;
        }
        if (r >= 0)
                r = net_classifier_load(l3_offset_of(f->interface), protected_ports, pv, n, &k->skel);
        if (r >= 0)
                r = net_filter_prog_id(k->skel, &k->prog_id);
        free(specs);
        free(pv);
        if (r < 0) {
                if (k->skel)
                        net_filter_free(k->skel);
                free(k->faults);
                free(k->on);
                free(k);
                return r;
        }
        cls_v[cls_n++] = k;
        return 0;
}

/* The netem f's windows steer to; false: f is no netem kind's. */
static bool netem_of(const struct fault *f, struct netem_spec *ret) {
        const struct fault_ops *ops = fault_ops_get(f->type);
        if (!ops || ops->backend != &net_backend || !f->interface)
                return false;
        static const struct {
                const char *kind;
                void (*fn)(const struct fault *, struct netem_spec *);
        } kinds[] = {{"latency", latency_netem},
                     {"corrupt", corrupt_netem},
                     {"duplicate", duplicate_netem},
                     {"reorder", reorder_netem},
                     {"bandwidth", bandwidth_netem}};
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                if (streq(ops->kind.name, kinds[k].kind)) {
                        kinds[k].fn(f, ret);
                        return true;
                }
        return streq(ops->kind.name, "loss") && loss_netem(f, ret);
}

/* A netem kind's fault f (number idx of its scenario): its own classifier
 * in classic mode with its one rule, off, and the netem it steers to. */
static int cls_load_netem(const struct fault *f, size_t idx, const struct netem_spec *ne,
                          const struct port_list *protected_ports) {
        struct net_cls **v = realloc(cls_v, (cls_n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        cls_v = v;
        struct net_cls *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        *k = (struct net_cls){.owner = getpid(), .n = 1, .idx = idx, .netem = true, .ne = *ne};
        k->faults = calloc(1, sizeof *k->faults);
        k->on = calloc(1, sizeof *k->on);
        struct net_filter_spec spec = {.action = NET_ACT_CLASSIFY, .probability = RATIO_ONE,
                                       .l3_offset = l3_offset_of(f->interface), .dst = &f->dst, .src = &f->src,
                                       .dport = &f->dport, .sport = &f->sport, .protocol = f->protocol,
                                       .protected_ports = protected_ports};
        int r = k->faults && k->on ? net_filter_load(&spec, &k->skel) : -ENOMEM;
        /* Loaded on: off until its window. */
        if (r >= 0)
                r = net_classifier_set(k->skel, 0, NULL, 0);
        if (r >= 0)
                r = net_filter_prog_id(k->skel, &k->prog_id);
        if (r < 0) {
                if (k->skel)
                        net_filter_free(k->skel);
                free(k->faults);
                free(k->on);
                free(k);
                return r;
        }
        k->faults[0] = f;
        cls_v[cls_n++] = k;
        return 0;
}

int net_preload(const struct scenario *sc, const struct port_list *protected_ports) {
        int first = 0;
        for (size_t i = 0; i < sc->n_faults; i++) {
                unsigned rule;
                const struct fault *f = sc->faults[i];
                struct netem_spec ne;
                if (cls_find(f, &rule))
                        continue;
                int r = 0;
                if (net_shares_classifier(f))
                        r = cls_load(sc, f, protected_ports);
                else if (netem_of(f, &ne))
                        r = cls_load_netem(f, i, &ne, protected_ports);
                if (r < 0 && !first)
                        first = r;
        }
        return first;
}

typedef int (*net_revert_fn)(struct nl_sock *sk, const struct jentry *e);

/* Whether the BPF program with this id is still loaded. A tc filter holds
 * its program: once the runner that loaded it is gone, a loaded program
 * means its filter still exists somewhere. */
static bool prog_loaded(uint32_t id) {
        int fd = bpf_prog_get_fd_by_id(id);
        if (fd >= 0) {
                close(fd);
                return true;
        }
        return errno != ENOENT;
}

static int in_netns(const struct jentry *e, net_revert_fn fn) {
        cls_drop_foreign();
        int back = netns_enter(e->netns);
        if (back == -ESRCH) {
                /* Nothing sabot can see holds the namespace: gone with
                 * everything in it, or held where we cannot look (a
                 * socket, a mount in another mount namespace). Only the
                 * fault's program tells which; without it, say so. */
                if (e->prog && !prog_loaded(e->prog))
                        return 0;
                return -EHOSTUNREACH;
        }
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

/* The pid in sabot's marker chain on the clsact of ifindex: 1 and the pid
 * when the clsact is sabot's, 0 when it is not (or there is none). */
static int clsact_creator(struct nl_sock *sk, int ifindex, pid_t *ret_pid) {
        uint32_t *v = NULL;
        size_t n = 0;
        int r = tc_chain_list(sk, ifindex, false, &v, &n);
        if (r < 0)
                return r;
        r = 0;
        for (size_t i = 0; i < n && !r; i++)
                if (IS_SABOT_CHAIN(v[i])) {
                        *ret_pid = SABOT_HANDLE_PID(v[i]);
                        r = 1;
                }
        free(v);
        return r;
}

/* The clsact goes with the last filter on it, when sabot created it. */
static int clsact_drop_if_last(struct nl_sock *sk, int ifindex) {
        pid_t creator;
        int r = clsact_creator(sk, ifindex, &creator);
        if (r <= 0)
                return r;
        r = tc_clsact_del_if_empty(sk, ifindex);
        /* Filters left on it: the revert of the last sabot one removes it;
         * someone else's keep it. */
        return r == -EBUSY ? 0 : r;
}

static int revert_filter(struct nl_sock *sk, const struct jentry *e) {
        if (!same_dev(e))
                return 0;
        /* In the runner, a shared classifier's filter goes with every
         * rule in it: the next window on the hook attaches it again. */
        unsigned rule;
        struct net_cls *k = cls_of_entry(e, &rule);
        if (k) {
                for (size_t i = 0; i < k->n; i++)
                        if (k->on[i]) {
                                (void)net_classifier_set(k->skel, (unsigned)i, NULL, 0);
                                k->on[i] = false;
                        }
                k->n_on = 0;
                k->ifindex = 0;
                k->ifb = 0; /* goes with the run's "ifb" entry, journaled before */
        }
        int r = tc_filter_del(sk, e->ifindex, e->ingress, (uint16_t)e->prio, e->handle);
        if (r < 0 && r != -ENOENT && r != -EINVAL && r != -ENODEV)
                return r;
        return clsact_drop_if_last(sk, e->ifindex);
}

static int revert_clsact(struct nl_sock *sk, const struct jentry *e) {
        if (!same_dev(e))
                return 0;
        return clsact_drop_if_last(sk, e->ifindex);
}

static int revert_ifb(struct nl_sock *sk, const struct jentry *e) { return tc_ifb_del(sk, e->dev); }

int net_revert_filter(const struct jentry *e) { return in_netns(e, revert_filter); }
/* A window of a shared classifier: in the runner, its rule turned off.
 * Anywhere else there is nothing of its own to undo: the rule lives in
 * the classifier, which goes with the run's "tcfilter" entry. */
static int revert_nothing(struct nl_sock *sk, const struct jentry *e) {
        (void)sk, (void)e;
        return 0;
}

int net_revert_rule(const struct jentry *e) {
        unsigned rule;
        struct net_cls *k = cls_of_entry(e, &rule);
        if (k) {
                if (rule < k->n && k->on[rule]) {
                        (void)net_classifier_set(k->skel, rule, NULL, 0);
                        k->on[rule] = false;
                        k->n_on--;
                }
                return 0;
        }
        /* Reverted only where its namespace is reachable, as the
         * classifier's own entries: never "done" for a namespace that
         * cannot be found while the classifier may live in it. */
        return in_netns(e, revert_nothing);
}
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
        pid_t pid;
        if (pipe2(p, O_CLOEXEC) < 0) {
                snprintf(cached.clsact_why, sizeof cached.clsact_why, "pipe: %s", strerror(errno));
                goto out;
        }
        pid = fork();
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

/* loss (without burst) and blackhole: their rules live in the one
 * classifier of their interface and direction, loaded at preflight; the
 * netem kinds keep a classic filter each (its act_mirred steers to its
 * ifb: from egress, a bpf_redirect to an ifb is dropped by the ifb). */
bool net_shares_classifier(const struct fault *f) {
        const struct fault_ops *ops = fault_ops_get(f->type);
        if (!ops || ops->backend != &net_backend || !f->interface)
                return false;
        /* loss in bursts (burst, model = 4state) is netem's. */
        return streq(ops->kind.name, "blackhole") ||
               (streq(ops->kind.name, "loss") && !f->burst && f->loss_model == LOSS_MODEL_NONE);
}

static bool same_hook(const struct fault *a, const struct fault *b) {
        return streq(a->interface, b->interface) && (a->direction == DIR_INGRESS) == (b->direction == DIR_INGRESS);
}

/* The index of the first fault of sc sharing f's classifier: its tc
 * priority is the classifier's. */
static size_t shared_index(const struct scenario *sc, const struct fault *f) {
        for (size_t i = 0; i < sc->n_faults; i++)
                if (net_shares_classifier(sc->faults[i]) && same_hook(sc->faults[i], f))
                        return i;
        return 0;
}

/* The tc priority fault f will filter at must hold no filter sabot did not
 * create: the kernel refuses a cls_bpf filter beside another kind at one
 * priority, and sabot joins no one else's classifier. Found here, before
 * anything is touched, rather than at apply after other faults were. */
static int probe_prio(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        size_t idx = 0;
        while (idx < sc->n_faults && sc->faults[idx] != f)
                idx++;
        if (idx < sc->n_faults && net_shares_classifier(f))
                idx = shared_index(sc, f);
        int ifindex = f->interface ? (int)if_nametoindex(f->interface) : 0;
        if (!ifindex || idx >= SCENARIO_MAX_FAULTS)
                return 0; /* validation says what is wrong with those */
        bool ingress = f->direction == DIR_INGRESS;
        uint16_t prio = (uint16_t)(SABOT_PRIO_BASE + idx);
        struct nl_sock *sk = NULL;
        struct tc_filter_id *v = NULL;
        size_t n = 0;
        int r = tc_open(&sk);
        if (r >= 0)
                r = tc_filter_list(sk, ifindex, ingress, &v, &n);
        tc_close(sk);
        if (r < 0) {
                snprintf(why, len, "cannot list the tc filters of %s %s: %s", f->interface, ingress ? "ingress" : "egress",
                         strerror(-r));
                return r;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                const struct tc_filter_id *x = &v[i];
                if (x->prio != prio || x->chain != 0)
                        continue;
                if (!streq(x->kind, "bpf") || x->protocol != htons(ETH_P_ALL) || (x->handle && !IS_SABOT_HANDLE(x->handle))) {
                        snprintf(why, len, "tc priority %u on %s %s, which this fault (number %zu of the scenario) filters at, "
                                 "holds a %s filter sabot did not create (handle 0x%x); sabot never joins or replaces "
                                 "filters it did not create: move that filter to another priority", prio, f->interface,
                                 ingress ? "ingress" : "egress", idx + 1, x->kind, x->handle);
                        r = -EBUSY;
                } else if (x->handle == SABOT_HANDLE(getpid())) {
                        snprintf(why, len, "a sabot filter at tc priority %u on %s %s carries this run's pid (left by an "
                                 "earlier run): 'sabot recover' removes it", prio, f->interface, ingress ? "ingress" : "egress");
                        r = -EBUSY;
                }
        }
        free(v);
        return r;
}

int net_probe_drop(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        struct net_support s;
        net_probe(&s);
        if (!s.clsact_why[0])
                return probe_prio(sc, f, why, len);
        snprintf(why, len, "%s", s.clsact_why);
        return -EOPNOTSUPP;
}

const char *net_dist_name(int d) {
        return d == DIST_NORMAL ? "normal" : d == DIST_PARETO ? "pareto" : d == DIST_PARETONORMAL ? "paretonormal" : NULL;
}

int net_probe_netem(const struct scenario *sc, const struct fault *f, char *why, size_t len) {
        struct net_support s;
        char p[256];
        const char *dist = net_dist_name(f->distribution);
        if (dist && tc_dist_find(dist, p, sizeof p) < 0) {
                snprintf(why, len, "netem's %s.dist table is not installed (looked in /usr/lib/x86_64-linux-gnu/tc, "
                         "/usr/lib/tc, /usr/lib64/tc, /usr/local/lib/tc); install iproute2, or leave out distribution",
                         dist);
                return -EOPNOTSUPP;
        }
        net_probe(&s);
        const char *w = s.clsact_why[0] ? s.clsact_why : s.ifb_why[0] ? s.ifb_why : s.netem_why[0] ? s.netem_why : s.mirred_why;
        if (!w[0])
                return probe_prio(sc, f, why, len);
        snprintf(why, len, "%s", w);
        return -EOPNOTSUPP;
}

/* ---- apply ---- */

struct net_cls;
struct net_priv {
        struct net_cls *cls; /* the classifier its rule is in (shared, or a netem kind's own) */
        unsigned rule;
        /* the classifier's counts when the window opened */
        uint64_t seen0, protected0, matched0, acted0;
        uint32_t prog_id;
        const char *done; /* the outcome's verb (struct net_params) */
        char done_how[128];
        bool netem;
};

static void rule_off(struct net_priv *priv);
static void net_priv_free(void *p) {
        struct net_priv *n = p;
        rule_off(n);
        free(n);
}

/* Not in glibc's <net/if_arp.h>; the kernel's numbers (uapi if_arp.h). */
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/* Where the IP header starts on dev: 14 behind Ethernet's (and
 * loopback's), 0 on an IP-only link (tun, WireGuard, IP tunnels: no
 * link-layer header); -EPROTONOSUPPORT on any other link
 * type (in *ret_type), whose header the program would misread; another
 * negative errno when dev cannot be asked (no such interface: -ENODEV). */
int net_l3_offset(const char *dev, long *ret_type) {
        /* Asked in this network namespace (sysfs shows the one it was
         * mounted in): SIOCGIFHWADDR gives the link type. */
        struct ifreq ifr = {0};
        *ret_type = -1;
        if (!dev || strlen(dev) >= sizeof ifr.ifr_name)
                return -EINVAL;
        memcpy(ifr.ifr_name, dev, strlen(dev));
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                return -errno;
        long t = *ret_type = ifr.ifr_hwaddr.sa_family;
        if (t == ARPHRD_ETHER || t == ARPHRD_LOOPBACK)
                return ETH_HLEN;
        if (t == ARPHRD_NONE || t == ARPHRD_TUNNEL || t == ARPHRD_TUNNEL6 || t == ARPHRD_SIT || t == ARPHRD_IPGRE ||
            t == ARPHRD_IP6GRE || t == ARPHRD_RAWIP)
                return 0;
        return -EPROTONOSUPPORT;
}

/* For the classifiers: the offset, or Ethernet's where the link type is
 * unknown (as before; dns and tcp-reset refuse such a link). Asked in
 * this network namespace: sysfs, read here before, showed its mount's,
 * so from inside another every link looked like Ethernet. */
static uint32_t l3_offset_of(const char *dev) {
        long type;
        int l3 = net_l3_offset(dev, &type);
        return l3 < 0 ? ETH_HLEN : (uint32_t)l3;
}

/* One journal entry of fault f's (named so, with its program prog); track:
 * the window's own (its revert at the window's end undoes it), else the
 * run's, reverted with everything at the run's end. */
static int journal_entry(struct fault_ctx *c, struct fault_run *track, char *name, uint32_t prog, const char *kind,
                         const char *dev, int ifindex, bool ingress, uint32_t prio, uint32_t handle) {
        struct jentry e = {.ifindex = ifindex, .ingress = ingress, .prio = prio, .handle = handle,
                           .netns = netns_self(), .name = name, .prog = prog};
        snprintf(e.kind, sizeof e.kind, "%s", kind);
        snprintf(e.dev, sizeof e.dev, "%s", dev);
        int r = journal_apply(c->j, &e);
        if (r < 0 || !track)
                return r < 0 ? r : (int)e.seq;
        return fault_track(track, e.seq) < 0 ? -ENOMEM : (int)e.seq;
}

static int journal_net(struct fault_ctx *c, struct fault_run *fr, const char *kind, const char *dev, int ifindex,
                       bool ingress, uint32_t prio, uint32_t handle) {
        struct net_priv *priv = fr->priv;
        /* A shared classifier's clsact and filter are the run's, not this
         * fault's: they stay while the run lasts (inert while no rule is
         * on) and go with the run's revert of everything, or with
         * whoever reverts the journal (guardian, abort, recover). */
        bool run_s = priv && priv->cls && !streq(kind, "netrule");
        return journal_entry(c, run_s ? NULL : fr, fr->f->hdr.name, priv ? priv->prog_id : 0, kind, dev, ifindex, ingress,
                             prio, handle);
}

/* The clsact (made when absent, with sabot's marker chain) and a cls_bpf
 * filter of prog_fd on ifindex's hook, journaled as fault `name`'s
 * (track: as the window fr's, else as the run's): the clsact after it is
 * created, not before (the revert deletes it when empty, and a
 * pre-existing one that is empty must never be taken for ours after a
 * crash; an empty clsact left by a crash in between changes no
 * traffic), the filter before it is attached. */
static int hook_attach(struct fault_ctx *c, struct fault_run *track, char *name, uint32_t prog_id, struct nl_sock *sk,
                       const char *dev, int ifindex, bool ingress, uint32_t prio, uint32_t handle, int prog_fd, bool direct,
                       int ifb) {
        int r = tc_clsact_add(sk, ifindex);
        if (r >= 0) {
                r = tc_chain_add(sk, ifindex, false, SABOT_CHAIN(getpid()));
                if (r >= 0)
                        r = journal_entry(c, track, name, prog_id, "clsact", dev, ifindex, false, 0, 0);
                if (r < 0)
                        (void)tc_clsact_del_if_empty(sk, ifindex); /* ours, just made, and empty */
        } else if (r == -EEXIST)
                r = 0;
        if (r < 0)
                return r;
        r = journal_entry(c, track, name, prog_id, "tcfilter", dev, ifindex, ingress, prio, handle);
        if (r >= 0)
                r = tc_bpf_add(sk, ifindex, ingress, (uint16_t)prio, handle, prog_fd, "sabot_net", direct, ifb);
        /* Another run's last filter went between our clsact check and this
         * filter, and took its (empty) clsact with it: make ours, once. */
        if ((r == -EINVAL || r == -ENOENT) && tc_clsact_add(sk, ifindex) >= 0) {
                r = tc_chain_add(sk, ifindex, false, SABOT_CHAIN(getpid()));
                if (r >= 0)
                        r = journal_entry(c, track, name, prog_id, "clsact", dev, ifindex, false, 0, 0);
                if (r >= 0)
                        r = tc_bpf_add(sk, ifindex, ingress, (uint16_t)prio, handle, prog_fd, "sabot_net", direct, ifb);
                else
                        (void)tc_clsact_del_if_empty(sk, ifindex);
        }
        return r < 0 ? r : 0;
}

static int fault_index(struct fault_ctx *c, const struct fault *f) {
        for (size_t i = 0; i < c->pl->s->n_faults; i++)
                if (c->pl->s->faults[i] == f)
                        return (int)i;
        return 0;
}

/* What classifier k needs before its rules can be turned on, made and
 * journaled as the run's (reverted with the run's end, or by whoever
 * reverts the journal): for a netem kind's, its ifb (journaled before it
 * is made) with the fault's netem as root; then the clsact and k's
 * filter (hook_attach). Called at the run's start, or at a window when
 * that failed. What went wrong is in why. */
static int cls_attach(struct fault_ctx *c, struct net_cls *k, struct nl_sock *sk, char *why, size_t len) {
        const struct fault *f = k->faults[0];
        bool ingress = f->direction == DIR_INGRESS;
        int ifindex = (int)if_nametoindex(f->interface), ifb = 0, r = 0;
        uint32_t prio = SABOT_PRIO_BASE + (uint32_t)k->idx, handle = SABOT_HANDLE(getpid());
        snprintf(why, len, "%s", "");
        if (!ifindex) {
                snprintf(why, len, "%s: no such interface", f->interface);
                return -ENODEV;
        }
        bool made_ifb = false;
        char have[IF_NAMESIZE];
        if (k->netem && k->ifb && if_indextoname((unsigned)k->ifb, have) && streq(have, k->ifb_name)) {
                /* Its interface came back with another index: the ifb,
                 * journaled when it was made, serves again. */
                ifb = k->ifb;
        } else if (k->netem) {
                /* sabot-<pid in hex>-<fault>: unique per run, and a sweep can
                 * tell sabot's ifb devices apart by the prefix. IFNAMSIZ
                 * leaves two characters after sabot-<pid>-: the fault's
                 * index in base 36, unique up to 1296 faults
                 * (SCENARIO_MAX_FAULTS is 1024); idx % 100 was not. */
                static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
                _Static_assert(SCENARIO_MAX_FAULTS <= 36 * 36, "ifb names must stay unique");
                snprintf(k->ifb_name, sizeof k->ifb_name, "sabot-%x-%c%c", (unsigned)getpid() & SABOT_PID_MASK,
                         b36[k->idx / 36 % 36], b36[k->idx % 36]);
                r = journal_entry(c, NULL, f->hdr.name, k->prog_id, "ifb", k->ifb_name, 0, false, 0, 0);
                if (r >= 0 && (r = tc_ifb_add(sk, k->ifb_name, &ifb)) >= 0)
                        made_ifb = true;
                if (r == -EEXIST)
                        snprintf(why, len, "%s already exists (left by an earlier run?): 'sabot recover' removes it",
                                 k->ifb_name);
                else if (r < 0)
                        snprintf(why, len, "cannot create %s", k->ifb_name);
                if (r >= 0 && (r = tc_netem_add(sk, ifb, &k->ne)) < 0)
                        snprintf(why, len, "cannot create netem on %s", k->ifb_name);
        }
        if (r >= 0) {
                r = hook_attach(c, NULL, f->hdr.name, k->prog_id, sk, f->interface, ifindex, ingress, prio, handle,
                                net_filter_prog_fd(k->skel), !k->netem, ifb);
                if (r == -EEXIST)
                        snprintf(why, len, "a sabot filter (prio %u) is already on %s: 'sabot recover' removes it", prio,
                                 f->interface);
        }
        if (r < 0) {
                /* Nothing half made left for the window to trip on (its
                 * entry reverts to nothing). */
                if (made_ifb)
                        (void)tc_ifb_del(sk, k->ifb_name);
                return r;
        }
        k->ifindex = ifindex;
        k->netns = netns_self();
        k->prio = prio;
        k->handle = handle;
        k->ifb = ifb;
        return 0;
}

int net_apply(struct fault_ctx *c, struct fault_run *fr, const struct net_params *np) {
        const struct fault *f = fr->f;
        bool ingress = f->direction == DIR_INGRESS, netem = np->netem != NULL;
        int ifindex = (int)if_nametoindex(f->interface);
        if (!ifindex)
                return -ENODEV;
        int r = 0;
        struct net_filter_spec spec = {
                .action = netem ? NET_ACT_CLASSIFY : NET_ACT_DROP,
                .probability = netem ? RATIO_ONE : np->probability,
                .correlation = netem ? 0 : np->correlation,
                .l3_offset = l3_offset_of(f->interface),
                .dst = &f->dst, .src = &f->src, .dport = &f->dport, .sport = &f->sport,
                .protocol = f->protocol,
                .protected_ports = &c->pl->p->protect.ports,
        };
        if (f->target_index >= 0 && (r = fault_target_cgroup(c, f, &spec.cgroup_id, &spec.cgroup_level)) < 0) {
                return fault_fail(fr, r, "cannot find the cgroup of target %s", f->target);
        }
        struct net_priv *priv = calloc(1, sizeof *priv);
        if (!priv)
                return -ENOMEM;
        fr->priv = priv;
        fr->priv_free = net_priv_free;
        priv->done = np->done;
        snprintf(priv->done_how, sizeof priv->done_how, "%s", np->done_how ? np->done_how : "");
        priv->netem = netem;
        /* Loaded at preflight (the shared classifier of the hook, or a
         * netem kind's own); here only when it was not (a caller without
         * one, or its load failed there). */
        struct net_cls *k = cls_find(f, &priv->rule);
        if (!k) {
                if (netem)
                        r = cls_load_netem(f, (size_t)fault_index(c, f), np->netem, &c->pl->p->protect.ports);
                else if (net_shares_classifier(f))
                        r = cls_load(c->pl->s, f, &c->pl->p->protect.ports);
                else
                        r = -EINVAL;
                if (r >= 0)
                        k = cls_find(f, &priv->rule);
        }
        if (!k)
                return fault_fail(fr, r < 0 ? r : -ENOENT, "cannot load the classifier");
        priv->cls = k;
        priv->prog_id = k->prog_id;
        /* Its filter (and for netem its ifb) is there, made at the run's
         * start and journaled then: the window's opening is its rule
         * turned on, one journal entry and one map update and a bit; its
         * closing (net_finish) the bit cleared. Else made now, as the
         * run's, as the run's start would have. */
        if (!k->ifindex || k->ifindex != ifindex || k->netns != netns_self()) {
                struct nl_sock *sk = NULL;
                char why[256];
                if ((r = tc_open(&sk)) < 0)
                        return r;
                r = cls_attach(c, k, sk, why, sizeof why);
                tc_close(sk);
                if (r < 0)
                        return why[0] ? fault_fail(fr, r, "%s", why) : r;
        }
        /* The window's own entry: its revert turns the rule off. */
        r = journal_net(c, fr, "netrule", f->interface, ifindex, ingress, k->prio, k->handle);
        if (r >= 0) {
                uint64_t n[_NET_COUNTERS] = {0};
                (void)net_rule_counters(k->skel, priv->rule, n);
                priv->seen0 = n[NET_SEEN];
                priv->protected0 = n[NET_PROTECTED];
                priv->matched0 = n[NET_MATCHED];
                priv->acted0 = n[NET_ACTED];
                r = net_classifier_set(k->skel, priv->rule, &spec, k->ifb);
                if (r < 0)
                        (void)fault_fail(fr, r, "cannot turn on the rule in the classifier of %s", f->interface);
                else if (!k->on[priv->rule]) {
                        k->on[priv->rule] = true;
                        k->n_on++;
                }
        }
        if (r >= 0) {
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s %s: %s%s%s", f->interface, ingress ? "ingress" : "egress",
                            np->doing, k->netem ? " through " : "", k->netem ? k->ifb_name : "");
        }
        return r < 0 ? r : 0;
}

/* The run's entry of fault f, if c has one: NULL for callers without. */
static const struct fault_run *run_of(struct fault_ctx *c, const struct fault *f) {
        for (size_t i = 0; i < c->n_frs; i++)
                if (c->frs[i].f == f)
                        return &c->frs[i];
        return NULL;
}

static bool in_scenario(const struct scenario *sc, const struct fault *f) {
        for (size_t i = 0; i < sc->n_faults; i++)
                if (sc->faults[i] == f)
                        return true;
        return false;
}

int net_attach_preloaded(struct fault_ctx *c) {
        int first = 0;
        for (size_t i = 0; i < cls_n; i++) {
                struct net_cls *k = cls_v[i];
                if (k->owner != getpid() || !k->skel || k->ifindex || !in_scenario(c->pl->s, k->faults[0]))
                        continue;
                const struct fault *f = k->faults[0];
                /* A netem fault skipped as unsupported (--skip-unsupported)
                 * gets nothing built. */
                const struct fault_run *fr = run_of(c, f);
                if (k->netem && fr && fr->state == FR_SKIPPED)
                        continue;
                bool ingress = f->direction == DIR_INGRESS;
                struct nl_sock *sk = NULL;
                char why[256] = "";
                int r = tc_open(&sk);
                if (r >= 0)
                        r = cls_attach(c, k, sk, why, sizeof why);
                tc_close(sk);
                if (r >= 0 && k->netem) {
                        fault_event(c, LOG_INFO, f, "%s %s: built for the run: %s with netem, its filter attached (its "
                                    "rule off until its window)", f->interface, ingress ? "ingress" : "egress", k->ifb_name);
                        continue;
                }
                if (r >= 0) {
                        fault_event(c, LOG_INFO, NULL, "%s %s: classifier attached for the run (%zu rule%s, each off until "
                                    "its window)", f->interface, ingress ? "ingress" : "egress", k->n, k->n == 1 ? "" : "s");
                        continue;
                }
                fault_event(c, LOG_WARNING, k->netem ? f : NULL, "%s %s: the %s could not be %s at the run's start (%s%s%s); "
                            "its first window tries again", f->interface, ingress ? "ingress" : "egress",
                            k->netem ? "fault's ifb, netem and filter" : "classifier", k->netem ? "built" : "attached",
                            why, why[0] ? ": " : "", strerror(-r));
                if (!first)
                        first = r;
        }
        return first;
}

static int net_counters(struct fault_run *fr, uint64_t n[static _NET_COUNTERS]) {
        struct net_priv *priv = fr->priv;
        if (!priv || !priv->cls || !priv->cls->skel || net_rule_counters(priv->cls->skel, priv->rule, n) < 0)
                return -ENODATA;
        /* The classifier's counts since this window opened. */
        n[NET_SEEN] -= priv->seen0;
        n[NET_PROTECTED] -= priv->protected0;
        n[NET_MATCHED] -= priv->matched0;
        n[NET_ACTED] -= priv->acted0;
        fr->strikes = (unsigned)n[NET_MATCHED];
        fr->hits = (unsigned)n[NET_ACTED];
        return 0;
}

static void net_count(struct fault_run *fr) {
        uint64_t n[_NET_COUNTERS] = {0};
        if (fr->state == FR_ACTIVE)
                (void)net_counters(fr, n);
}

void net_drop_progress(struct fault_run *fr, char *buf, size_t len) {
        net_count(fr);
        snprintf(buf, len, "dropped %u of %u packets", fr->hits, fr->strikes);
}

void net_latency_progress(struct fault_run *fr, char *buf, size_t len) {
        net_count(fr);
        snprintf(buf, len, "delayed %u packets", fr->hits);
}

void net_netem_progress(struct fault_run *fr, char *buf, size_t len) {
        net_count(fr);
        snprintf(buf, len, "steered %u of %u packets to netem", fr->hits, fr->strikes);
}

/* The window's end for a rule of a shared classifier: its bit cleared. */
static void rule_off(struct net_priv *priv) {
        struct net_cls *k = priv ? priv->cls : NULL;
        if (!k || k->owner != getpid() || priv->rule >= k->n || !k->on[priv->rule])
                return;
        (void)net_classifier_set(k->skel, priv->rule, NULL, 0);
        k->on[priv->rule] = false;
        k->n_on--;
}

void net_finish(struct fault_ctx *c, struct fault_run *fr) {
        uint64_t n[_NET_COUNTERS] = {0};
        (void)c;
        int q = net_counters(fr, n);
        rule_off(fr->priv);
        if (q < 0)
                return;
        struct net_priv *priv = fr->priv;
        if (priv->netem)
                snprintf(fr->outcome, sizeof fr->outcome, "%s %llu of %llu packets seen%s%s (%llu protected)", priv->done,
                         (unsigned long long)n[NET_ACTED], (unsigned long long)n[NET_SEEN],
                         priv->done_how[0] ? " " : "", priv->done_how, (unsigned long long)n[NET_PROTECTED]);
        else
                snprintf(fr->outcome, sizeof fr->outcome, "%s %llu of %llu matching packets (%llu seen, %llu protected)",
                         priv->done, (unsigned long long)n[NET_ACTED], (unsigned long long)n[NET_MATCHED],
                         (unsigned long long)n[NET_SEEN], (unsigned long long)n[NET_PROTECTED]);
}

/* ---- what the network kinds share before a run ---- */

void net_check(struct scenario *s, struct fault *f, struct diags *d) {
        fault_require(s, f, "interface", " (the interface to disturb, e.g. eth0)", d);
        if (fault_line(f, "target") && f->direction == DIR_INGRESS)
                diag_error(d, s->file, fault_line(f, "target"), "'target' applies only to direction = "
                           "egress: the kernel attributes packets to a process cgroup only when "
                           "they leave; use src/dst/ports to select ingress traffic");
        if (f->target_index >= 0 && s->targets[f->target_index]->sel != SEL_UNIT &&
            s->targets[f->target_index]->sel != SEL_CGROUP)
                diag_error(d, s->file, fault_line(f, "target"), "a network fault selects a target's traffic by its "
                           "cgroup, so target '%s' must use unit or cgroup, not %s (a process's cgroup may "
                           "hold others)", f->target, selector_to_string(s->targets[f->target_index]->sel));
        /* protocol = icmpv6 with addresses of IPv4 alone could match nothing. */
        const char *const lists[] = {"dst", "src"};
        const struct cidr_list *cl[] = {&f->dst, &f->src};
        for (size_t k = 0; f->protocol == PROTO_ICMPV6 && k < ELEMENTSOF(cl); k++) {
                bool v6 = false;
                for (size_t j = 0; j < cl[k]->n; j++)
                        v6 |= cl[k]->v[j].family == AF_INET6;
                if (cl[k]->n && !v6)
                        diag_error(d, s->file, fault_line(f, lists[k]), "protocol = icmpv6 matches IPv6 packets "
                                   "only, and %s has no IPv6 prefix: the fault could match nothing; add one, or "
                                   "use protocol = icmp for IPv4's ICMP", lists[k]);
        }
        /* Ports are TCP's and UDP's: ICMP with one could match nothing. */
        const char *const ports[] = {"dport", "sport"};
        const struct port_list *pv[] = {&f->dport, &f->sport};
        for (size_t k = 0; (f->protocol == PROTO_ICMP || f->protocol == PROTO_ICMPV6) && k < ELEMENTSOF(pv); k++)
                if (pv[k]->n)
                        diag_error(d, s->file, fault_line(f, ports[k]), "protocol = %s has no ports, so %s could "
                                   "match nothing; ports go with protocol = tcp, udp or any (TCP and UDP)",
                                   f->protocol == PROTO_ICMP ? "icmp" : "icmpv6", ports[k]);
}

void net_describe_iface(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        if (pl->faults[i].ifindex)
                fprintf(out, "      %s (ifindex %d), %s\n", f->interface, pl->faults[i].ifindex,
                        f->direction == DIR_EGRESS ? "egress" : "ingress");
        else
                fprintf(out, "      ! %s: no such interface on this host\n", f->interface);
}

void net_describe_match(FILE *out, const struct plan *pl, size_t i, const char *creates) {
        const struct fault *f = pl->faults[i].f;
        static const char *const proto[] = {"any", "tcp", "udp", "icmp", "icmpv6"};
        _cleanup_free_ char *dst = format_cidr_list(&f->dst), *src = format_cidr_list(&f->src),
                            *dp = format_port_list(&f->dport), *sp = format_port_list(&f->sport),
                            *prot = format_port_list(&pl->p->protect.ports);
        fprintf(out, "      match:");
        bool any = false;
        if (f->dst.n)
                fprintf(out, " dst %s;", dst), any = true;
        if (f->src.n)
                fprintf(out, " src %s;", src), any = true;
        if (f->dport.n)
                fprintf(out, " dport %s;", dp), any = true;
        if (f->sport.n)
                fprintf(out, " sport %s;", sp), any = true;
        if (f->protocol)
                fprintf(out, " protocol %s;", proto[f->protocol]), any = true;
        if (f->target)
                fprintf(out, " traffic of target %s;", f->target), any = true;
        fprintf(out, "%s never ports %s\n", any ? "" : " all traffic;", prot && *prot ? prot : "(none)");
        fprintf(out, "      would create: %s\n", creates);
}

static void net_doctor(doctor_row_fn row, void *ud) {
        struct net_support s;
        net_probe(&s);
        row(ud, "loss, blackhole (clsact + cls_bpf)", s.clsact_why, NULL, false);
        row(ud, "latency: ifb", s.ifb_why, NULL, false);
        row(ud, "latency: netem", s.netem_why, NULL, false);
        row(ud, "latency: act_mirred", s.mirred_why, NULL, false);
        /* The other kinds that use netem need what latency needs. */
        const char *w = s.clsact_why[0] ? s.clsact_why : s.ifb_why[0] ? s.ifb_why : s.netem_why[0] ? s.netem_why : s.mirred_why;
        row(ud, "corrupt/duplicate/reorder/bandwidth", w, NULL, false);
}

const struct fault_backend net_backend = {
        .title = "network faults", .doctor = net_doctor, .sweep = net_sweep, .sweep_what = "network objects"};

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

/* Whether pid is a live sabot process that was already running at
 * not_after (ns since boot; 0: any time), i.e. the runner that made an
 * object tagged with its pid, not a process that reused the pid since. */
static bool sabot_alive(pid_t pid, uint64_t not_after) {
        char st, comm[16];
        _cleanup_free_ char *exe = NULL;
        if (pid <= 0 || pid == getpid() || proc_state(pid, &st) < 0 || st == 'Z' || st == 'X')
                return false;
        bool named = proc_comm(pid, comm) >= 0 && strncmp(comm, "sabot", 5) == 0;
        if (!named && proc_exe(pid, &exe) >= 0) {
                const char *base = strrchr(exe, '/');
                named = strncmp(base ? base + 1 : exe, "sabot", 5) == 0;
        }
        if (!named)
                return false;
        uint64_t start;
        long hz = sysconf(_SC_CLK_TCK);
        if (!not_after || hz <= 0 || proc_starttime(pid, &start) < 0)
                return true;
        /* Start times count clock ticks since boot, rounded down. */
        return start * (NSEC_PER_SEC / (uint64_t)hz) <= not_after;
}

/* When the program with this id was loaded, in ns since boot; 0 unknown. */
static uint64_t prog_load_time(uint32_t id) {
        int fd = id ? bpf_prog_get_fd_by_id(id) : -1;
        if (fd < 0)
                return 0;
        struct bpf_prog_info info = {0};
        uint32_t len = sizeof info;
        int r = bpf_obj_get_info_by_fd(fd, &info, &len);
        close(fd);
        return r < 0 ? 0 : info.load_time;
}

/* The pid an ifb name sabot-<hex pid>-<n> carries, or 0. */
static pid_t ifb_pid(const char *name) {
        char *end;
        if (strncmp(name, "sabot-", 6) != 0 || !isxdigit((unsigned char)name[6]))
                return 0;
        unsigned long v = strtoul(name + 6, &end, 16);
        return *end == '-' && v <= SABOT_PID_MASK ? (pid_t)v : 0;
}

struct sweep {
        struct journal *const *live;
        size_t n_live;
        void (*report)(const char *what, int err, void *ud);
        void *ud;
        unsigned swept, failed;
};

static void sweep_report(struct sweep *sw, int err, const char *fmt, ...) _printf_(3, 4);
static void sweep_report(struct sweep *sw, int err, const char *fmt, ...) {
        char what[PATH_MAX + 256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (err < 0)
                sw->failed++;
        else if (err == 0)
                sw->swept++;
        sw->report(what, err, sw->ud);
}


/* What no live run holds, in the namespace we are in: a live run is one
 * with a journal in our run dir, or whose runner (the pid in the object's
 * tag) is a live sabot process, whatever run dir it was started with. */
static void sweep_here(struct sweep *sw, const char *where) {
        struct nl_sock *sk = NULL;
        struct tc_link *links = NULL;
        size_t n = 0;
        int r = tc_open(&sk);
        if (r >= 0)
                r = tc_link_list(sk, &links, &n);
        if (r < 0) {
                sweep_report(sw, r, "cannot list the links%s", where);
                tc_close(sk);
                return;
        }
        uint64_t ns = netns_self();
        for (size_t i = 0; i < n; i++) {
                const char *dev = links[i].name;
                for (int in = 0; in < 2; in++) {
                        struct tc_filter_id *f = NULL;
                        size_t nf = 0;
                        if ((r = tc_filter_list(sk, links[i].ifindex, in, &f, &nf)) < 0) {
                                sweep_report(sw, r, "cannot list the filters of %s %s%s", dev, in ? "ingress" : "egress",
                                             where);
                                continue;
                        }
                        for (size_t k = 0; k < nf; k++) {
                                if (!f[k].handle || f[k].chain || !streq(f[k].kind, "bpf") || !IS_SABOT_HANDLE(f[k].handle) ||
                                    journaled(sw->live, sw->n_live, "tcfilter", ns, dev, f[k].prio, f[k].handle))
                                        continue;
                                uint64_t loaded = prog_load_time(f[k].prog_id);
                                if (sabot_alive(SABOT_HANDLE_PID(f[k].handle), loaded))
                                        continue; /* a live run's, from another run dir */
                                r = tc_filter_del(sk, links[i].ifindex, in, f[k].prio, f[k].handle);
                                if (r != -ENOENT) /* gone meanwhile: its owner reverted it */
                                        sweep_report(sw, r, "orphaned sabot filter (prio %u, handle 0x%x) on %s %s%s",
                                                     f[k].prio, f[k].handle, dev, in ? "ingress" : "egress", where);
                        }
                        free(f);
                }
                pid_t creator;
                if (clsact_creator(sk, links[i].ifindex, &creator) > 0 && !sabot_alive(creator, 0) &&
                    !journaled(sw->live, sw->n_live, "clsact", ns, dev, 0, 0)) {
                        r = tc_clsact_del_if_empty(sk, links[i].ifindex);
                        if (r != -EBUSY)
                                sweep_report(sw, r, "orphaned sabot clsact on %s%s", dev, where);
                }
                pid_t owner = ifb_pid(dev);
                if (links[i].ifb && strncmp(dev, "sabot-", 6) == 0 && !journaled(sw->live, sw->n_live, "ifb", ns, dev, 0, 0) &&
                    !sabot_alive(owner, 0)) {
                        r = tc_ifb_del(sk, dev);
                        sweep_report(sw, r, "orphaned ifb device %s%s", dev, where);
                }
        }
        free(links);
        tc_close(sk);
}

int net_sweep(struct journal *const *live, size_t n_live, void (*report)(const char *what, int err, void *ud), void *ud,
              unsigned *ret_failed) {
        struct sweep sw = {.live = live, .n_live = n_live, .report = report, .ud = ud};
        /* From another pid namespace (a container, unshare -p) the pid in
         * an object's tag names another process or none: a live run of
         * the host would be taken for dead and its filters removed under
         * it (seen: tests in pid namespaces of their own took other
         * tests' live filters). */
        if (!pid_ns_initial()) {
                /* A note (err > 0), not a failure: the journals were
                 * reverted; what no journal names is left for a sabot of
                 * the host's pid namespace. */
                sweep_report(&sw, 1, "sabot objects no journal names: this sabot runs in a pid namespace of its own "
                                     "and cannot tell a live run's from a dead one's; run 'sabot recover' from the "
                                     "host's pid namespace");
                *ret_failed = 0;
                return 0;
        }
        sweep_here(&sw, "");
        DIR *d = opendir("/run/netns");
        int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (back < 0)
                sweep_report(&sw, -errno, "cannot open our own network namespace to come back to");
        struct dirent *de;
        while (d && back >= 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char p[PATH_MAX], where[PATH_MAX + 16];
                snprintf(p, sizeof p, "/run/netns/%s", de->d_name);
                snprintf(where, sizeof where, " in netns %s", de->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        sweep_report(&sw, -errno, "cannot open network namespace %s", p);
                        continue;
                }
                if (setns(fd, CLONE_NEWNET) == 0) {
                        sweep_here(&sw, where);
                        if (setns(back, CLONE_NEWNET) < 0) {
                                /* Never go on sweeping from the wrong namespace. */
                                sweep_report(&sw, -errno, "cannot return to our network namespace");
                                close(fd);
                                break;
                        }
                } else if (errno != EINVAL) /* EINVAL: a stale name, no namespace mounted on it */
                        sweep_report(&sw, -errno, "cannot enter network namespace %s", p);
                close(fd);
        }
        if (back >= 0)
                close(back);
        if (d)
                closedir(d);
        *ret_failed = sw.failed;
        return (int)sw.swept;
}

/* ---- netem's queue ---- */

/* Room for what the rate lets through while packets wait their delay, and
 * for a queue of NET_QUEUE_NS at the rate on top: a limit below rate x
 * delay would drop nearly every packet of a busy link. Full-size frames;
 * never below 64 packets, never above a million. */
#define NET_QUEUE_NS (100 * NSEC_PER_MSEC)
uint32_t net_netem_limit(uint64_t rate_bits, uint64_t delay_ns) {
        unsigned __int128 bytes = (unsigned __int128)rate_bits / 8 * (delay_ns + NET_QUEUE_NS) / NSEC_PER_SEC;
        unsigned __int128 n = (bytes + 1499) / 1500;
        return n < 64 ? 64 : n > 1000000 ? 1000000 : (uint32_t)n;
}

/* ---- a kind's own classifier (dns) ---- */

int net_attach(struct fault_ctx *c, struct fault_run *fr, int prog_fd, uint32_t prog_id, const char *name) {
        return net_attach_hook(c, fr, prog_fd, prog_id, name, fr->f->direction == DIR_INGRESS);
}

int net_attach_hook(struct fault_ctx *c, struct fault_run *fr, int prog_fd, uint32_t prog_id, const char *name,
                    bool ingress) {
        const struct fault *f = fr->f;
        int ifindex = (int)if_nametoindex(f->interface);
        if (!ifindex)
                return -ENODEV;
        uint32_t prio = SABOT_PRIO_BASE + (uint32_t)fault_index(c, f), handle = SABOT_HANDLE(getpid());
        struct jentry e = {.ifindex = ifindex, .netns = netns_self(), .name = f->hdr.name, .prog = prog_id};
        snprintf(e.dev, sizeof e.dev, "%s", f->interface);
        struct nl_sock *sk = NULL;
        int r = tc_open(&sk);
        if (r < 0)
                return r;
        /* As net_apply: the clsact journaled once it is ours, the filter
         * before it is attached, and a clsact that another run's revert
         * took away between the two made again, once. */
        for (int tries = 0; tries < 2; tries++) {
                r = tc_clsact_add(sk, ifindex);
                if (r >= 0) {
                        r = tc_chain_add(sk, ifindex, false, SABOT_CHAIN(getpid()));
                        snprintf(e.kind, sizeof e.kind, "clsact");
                        e.ingress = false, e.prio = 0, e.handle = 0;
                        if (r >= 0 && (r = journal_apply(c->j, &e)) >= 0 && fault_track(fr, e.seq) < 0)
                                r = -ENOMEM;
                        if (r < 0) {
                                (void)tc_clsact_del_if_empty(sk, ifindex);
                                break;
                        }
                } else if (r != -EEXIST)
                        break;
                if (tries == 0) {
                        snprintf(e.kind, sizeof e.kind, "tcfilter");
                        e.ingress = ingress, e.prio = prio, e.handle = handle;
                        if ((r = journal_apply(c->j, &e)) < 0 || (r = fault_track(fr, e.seq) < 0 ? -ENOMEM : 0) < 0)
                                break;
                }
                r = tc_bpf_add(sk, ifindex, ingress, (uint16_t)prio, handle, prog_fd, name, true, 0);
                if (r != -EINVAL && r != -ENOENT)
                        break;
        }
        if (r == -EEXIST)
                (void)fault_fail(fr, r, "a sabot filter (prio %u) is already on %s: 'sabot recover' removes it", prio,
                                 f->interface);
        tc_close(sk);
        return r < 0 ? r : 0;
}
