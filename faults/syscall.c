/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>

#include "../agent/scenario.h"
#include "../agent/journal.h"
#include "../agent/host.h"
#include "sys_fault.h"
#include "syscall.h"

static bool uses_seccomp(const struct scenario *s, const struct fault *f) {
        return (FAULT_MASK(f->type) & FAULTS_SYSCALL) && f->target_index >= 0 &&
               s->targets[f->target_index]->sel == SEL_EXEC && f->backend != BACKEND_BPF;
}

int *syscall_notify_set(const struct scenario *s, int ti, size_t *ret_n) {
        int *v = NULL;
        size_t n = 0;
        for (size_t i = 0; i < s->n_faults; i++) {
                const struct fault *f = s->faults[i];
                if (f->target_index != ti || !uses_seccomp(s, f))
                        continue;
                for (size_t k = 0; k < f->syscalls.n; k++) {
                        bool have = false;
                        for (size_t j = 0; j < n; j++)
                                have = have || v[j] == f->syscalls.nr[k];
                        if (!have && array_push(&v, &n, sizeof(int), &f->syscalls.nr[k]) < 0) {
                                free(v);
                                return NULL;
                        }
                }
        }
        if (n) {
                /* execve too: the target must not exec before the runner holds
                 * the listener, or it would be lost (exec closes the child's
                 * copy) and every call would fail with ENOSYS. */
                int ev = SYS_execve;
                bool have = false;
                for (size_t j = 0; j < n; j++)
                        have = have || v[j] == ev;
                if (!have && array_push(&v, &n, sizeof(int), &ev) < 0) {
                        free(v);
                        return NULL;
                }
        }
        *ret_n = n;
        return v;
}

static void on_alarm(int sig) { (void)sig; }

/* SECCOMP_IOCTL_NOTIF_RECV sleeps until a notification comes; if the one
 * that made the fd readable went away first (its caller was killed), it
 * would sleep for good. A one-shot timer interrupts it: EINTR, nothing to
 * receive. The handler is installed without SA_RESTART for that. */
static int recv_notif(int fd, struct seccomp_notif *req) {
        static bool installed;
        if (!installed) {
                struct sigaction sa = {.sa_handler = on_alarm};
                sigemptyset(&sa.sa_mask);
                if (sigaction(SIGALRM, &sa, NULL) < 0)
                        return -errno;
                installed = true;
        }
        memset(req, 0, sizeof *req);
        struct itimerval it = {.it_value = {0, 100000}}, off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &it, NULL);
        int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? -errno : 0;
        setitimer(ITIMER_REAL, &off, NULL);
        return r;
}

static int respond(int fd, uint64_t id, int err) {
        struct seccomp_notif_resp resp = {.id = id};
        if (err)
                resp.error = -err;
        else
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

/* Read a NUL-terminated string from the target's memory, page by page. */
static int read_string(pid_t pid, uint64_t addr, char *buf, size_t len) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/mem", (int)pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t got = 0;
        while (got < len - 1) {
                size_t page = 4096 - ((addr + got) & 4095), want = page < len - 1 - got ? page : len - 1 - got;
                ssize_t n = pread(fd, buf + got, want, (off_t)(addr + got));
                if (n <= 0)
                        break;
                if (memchr(buf + got, '\0', (size_t)n)) {
                        close(fd);
                        return 0;
                }
                got += (size_t)n;
        }
        close(fd);
        buf[got] = '\0';
        return got ? 0 : -EFAULT;
}

static int readlink_proc(pid_t pid, const char *what, char *buf, size_t len) {
        char p[96];
        snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
        ssize_t n = readlink(p, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* The file a call acts on, as an absolute path: path arguments resolved
 * against the cwd or the dirfd, fd arguments through /proc/PID/fd. -ENOENT
 * when the call names no file. */
static int call_path(const struct seccomp_notif *req, char *buf, size_t len) {
        pid_t pid = (pid_t)req->pid;
        const __u64 *a = req->data.args;
        int path_arg = -1, dirfd_arg = -1, fd_arg = -1;
        switch (req->data.nr) {
        case SYS_open: case SYS_creat: case SYS_unlink: case SYS_mkdir: case SYS_rmdir: case SYS_rename:
        case SYS_truncate: case SYS_stat: case SYS_lstat: case SYS_access: case SYS_chmod: case SYS_chown:
        case SYS_execve: case SYS_readlink: case SYS_link: case SYS_symlink:
                path_arg = 0;
                break;
        case SYS_openat: case SYS_openat2: case SYS_unlinkat: case SYS_mkdirat: case SYS_renameat: case SYS_renameat2:
        case SYS_newfstatat: case SYS_faccessat: case SYS_faccessat2: case SYS_fchmodat: case SYS_fchownat:
        case SYS_readlinkat: case SYS_statx:
                path_arg = 1, dirfd_arg = 0;
                break;
        case SYS_read: case SYS_write: case SYS_pread64: case SYS_pwrite64: case SYS_readv: case SYS_writev:
        case SYS_preadv: case SYS_pwritev: case SYS_preadv2: case SYS_pwritev2: case SYS_fsync: case SYS_fdatasync:
        case SYS_ftruncate: case SYS_fstat: case SYS_lseek: case SYS_fallocate: case SYS_fchmod: case SYS_fchown:
        case SYS_sync_file_range: case SYS_flock: case SYS_getdents64: case SYS_close:
                fd_arg = 0;
                break;
        default:
                return -ENOENT;
        }
        char what[32];
        if (fd_arg >= 0) {
                snprintf(what, sizeof what, "fd/%d", (int)a[fd_arg]);
                return readlink_proc(pid, what, buf, len);
        }
        char rel[PATH_MAX];
        int r = read_string(pid, a[path_arg], rel, sizeof rel);
        if (r < 0)
                return r;
        if (rel[0] == '/') {
                snprintf(buf, len, "%s", rel);
                return 0;
        }
        char base[PATH_MAX];
        if (dirfd_arg >= 0 && (int)a[dirfd_arg] != AT_FDCWD)
                snprintf(what, sizeof what, "fd/%d", (int)a[dirfd_arg]);
        else
                snprintf(what, sizeof what, "cwd");
        r = readlink_proc(pid, what, base, sizeof base);
        if (r < 0)
                return r;
        if (snprintf(buf, len, "%s/%s", streq(base, "/") ? "" : base, rel) >= (int)len)
                return -ENAMETOOLONG;
        return 0;
}

static bool under(const char *path, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(path, prefix, l) == 0 && (prefix[l - 1] == '/' || path[l] == '\0' || path[l] == '/');
}

static bool roll(ratio_t p) {
        return p >= RATIO_ONE || (uint32_t)(((uint64_t)arc4random() * RATIO_ONE) >> 32) < p;
}

/* Plain stores into the shared page: the guardian reads them only after
 * this process is gone (its exit orders them before the pidfd and the
 * socket report it). Release order anyway, so that "seen" and "used" are
 * never observed before the id they cover. */
static void note_received(struct notify_shared *sh, unsigned li, uint64_t id) {
        if (li >= NOTIFY_MAX_LISTENERS)
                return;
        __atomic_store_n(&sh->l[li].last, id, __ATOMIC_RELAXED);
        __atomic_store_n(&sh->l[li].seen, 1, __ATOMIC_RELEASE);
}

static int hold_slot(struct notify_shared *sh, unsigned li, uint64_t id) {
        for (int i = 0; i < NOTIFY_MAX_HELD; i++)
                if (!sh->held[i].used) {
                        sh->held[i].id = id;
                        sh->held[i].listener = li;
                        __atomic_store_n(&sh->held[i].used, 1, __ATOMIC_RELEASE);
                        return i;
                }
        return -ENOSPC;
}

static void unhold_slot(struct notify_shared *sh, int slot) {
        if (sh && slot >= 0 && slot < NOTIFY_MAX_HELD)
                __atomic_store_n(&sh->held[slot].used, 0, __ATOMIC_RELEASE);
}

static void arm(struct notify_state *ns) {
        uint64_t next = 0;
        for (size_t i = 0; i < ns->n_held; i++)
                if (!next || ns->held[i].due_ns < next)
                        next = ns->held[i].due_ns;
        struct itimerspec its = {0};
        if (next)
                its.it_value = (struct timespec){(time_t)(next / NSEC_PER_SEC), (long)(next % NSEC_PER_SEC)};
        timerfd_settime(ns->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int syscall_notify_handle(struct fault_ctx *c, struct notify_state *ns, struct fault_run *frs, size_t n_frs, int ti,
                          int fd) {
        struct seccomp_notif req;
        int q = recv_notif(fd, &req);
        if (q < 0)
                return q == -ENOENT || q == -EINTR ? 0 : q; /* the caller went away */
        if (ns->shared && ns->listener)
                note_received(ns->shared, ns->listener[ti], req.id);
        char path[PATH_MAX];
        int have_path = -1;
        for (size_t i = 0; i < n_frs; i++) {
                struct fault_run *fr = &frs[i];
                const struct fault *f = fr->f;
                if (fr->state != FR_ACTIVE || f->target_index != ti || !(FAULT_MASK(f->type) & FAULTS_SYSCALL))
                        continue;
                bool named = false;
                for (size_t k = 0; k < f->syscalls.n; k++)
                        named = named || f->syscalls.nr[k] == (int)req.data.nr;
                if (!named)
                        continue;
                if (f->path) {
                        if (have_path < 0) {
                                have_path = call_path(&req, path, sizeof path) >= 0;
                                /* What was read is only meaningful if the call
                                 * is still the one that was notified. */
                                if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0)
                                        return 0;
                        }
                        if (!have_path || !under(path, f->path))
                                continue;
                }
                fr->strikes++; /* calls that matched */
                if (!roll(f->probability))
                        continue;
                fr->hits++;
                if (f->type == FAULT_SYSCALL_ERROR) {
                        (void)respond(fd, req.id, f->err); /* -ENOENT: the caller went away */
                        return 0;
                }
                struct held_call h = {.id = req.id, .due_ns = mono_now() + f->delay, .fd = fd, .slot = -1, .fr = fr};
                /* Held only where the guardian can see it: with no slot
                 * free, the call goes on undelayed. */
                if (ns->shared && ns->listener && (h.slot = hold_slot(ns->shared, ns->listener[ti], req.id)) < 0)
                        break;
                if (array_push(&ns->held, &ns->n_held, sizeof h, &h) < 0) {
                        unhold_slot(ns->shared, h.slot);
                        break;
                }
                arm(ns);
                return 0;
        }
        (void)c;
        int r = respond(fd, req.id, 0);
        return r == -ENOENT ? 0 : r;
}

static void release_where(struct notify_state *ns, bool (*pred)(const struct held_call *, const void *), const void *arg) {
        size_t w = 0;
        for (size_t i = 0; i < ns->n_held; i++) {
                if (pred(&ns->held[i], arg)) {
                        (void)respond(ns->held[i].fd, ns->held[i].id, 0);
                        unhold_slot(ns->shared, ns->held[i].slot);
                } else
                        ns->held[w++] = ns->held[i];
        }
        ns->n_held = w;
        arm(ns);
}

static bool is_due(const struct held_call *h, const void *now) { return h->due_ns <= *(const uint64_t *)now; }
static bool of_fault(const struct held_call *h, const void *fr) { return !fr || h->fr == fr; }

void syscall_notify_timer(struct notify_state *ns) {
        uint64_t x, now = mono_now();
        (void)!read(ns->tfd, &x, sizeof x);
        release_where(ns, is_due, &now);
}

void syscall_notify_release(struct notify_state *ns, const struct fault_run *fr) { release_where(ns, of_fault, fr); }

int syscall_notify_drain(int fd, struct notify_shared *sh, unsigned li) {
        int n = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
                struct seccomp_notif req;
                if (recv_notif(fd, &req) < 0)
                        break;
                if (sh)
                        note_received(sh, li, req.id);
                n += respond(fd, req.id, 0) >= 0;
        }
        return n;
}

int syscall_notify_fail_open(const struct notify_shared *sh, const int *fds, size_t n_fds, unsigned from, unsigned to) {
        int n = 0;
        if (to > NOTIFY_SCAN_IDS)
                to = NOTIFY_SCAN_IDS;
        /* Held calls first: they may have waited longest. One already
         * answered gives ENOENT, harmless. */
        for (size_t i = 0; sh && from == 0 && i < NOTIFY_MAX_HELD; i++) {
                if (!__atomic_load_n(&sh->held[i].used, __ATOMIC_ACQUIRE))
                        continue;
                uint32_t li = sh->held[i].listener;
                if (li < n_fds)
                        n += respond(fds[li], sh->held[i].id, 0) >= 0;
        }
        /* Then the last id received on each listener and those after it: a
         * call the runner received and had not answered yet, or received
         * after its last store. An id not received yet gives EINPROGRESS
         * (the drain below gets it), one answered or unknown ENOENT. */
        for (size_t li = 0; sh && li < n_fds && li < NOTIFY_MAX_LISTENERS; li++) {
                if (!__atomic_load_n(&sh->l[li].seen, __ATOMIC_ACQUIRE))
                        continue;
                uint64_t last = sh->l[li].last;
                for (uint64_t k = from; k <= to; k++)
                        n += respond(fds[li], last + k, 0) >= 0;
        }
        for (size_t li = 0; li < n_fds; li++)
                n += syscall_notify_drain(fds[li], NULL, 0);
        return n;
}

/* ---- fault ops ---- */

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        if (!uses_seccomp(s, f)) {
                /* Running processes: the eBPF backend. */
                struct sys_fault_bpf *skel = NULL;
                struct sys_fault_spec spec = {.tgid = INT32_MAX, .err = EIO, .probability = RATIO_ONE};
                int r = sys_fault_load(&spec, &skel);
                if (r < 0) {
                        snprintf(why, len, "the eBPF backend for running processes does not load here (fmod_ret on "
                                 "security_file_open: %s): this kernel refuses tracing programs (Debian 12's "
                                 "linux-image-amd64, -cloud-amd64 and -6.12-amd64 load them); launch the target "
                                 "with exec = to use the seccomp backend", strerror(-r));
                        return -EOPNOTSUPP;
                }
                sys_fault_free(skel);
                return 0;
        }
        return syscall_seccomp_supported(why, len);
}

int syscall_seccomp_supported(char *why, size_t len) {
        char buf[256] = "";
        int fd = open("/proc/sys/kernel/seccomp/actions_avail", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, buf, sizeof buf - 1);
                buf[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        /* Built into the kernel or not there at all: no module to load. */
        if (!strstr(buf, "user_notif")) {
                snprintf(why, len, "this kernel lacks seccomp user notification (Linux 5.5 or later with "
                         "CONFIG_SECCOMP_FILTER; Debian 12's linux-image-amd64, -cloud-amd64 and -6.12-amd64 have it)");
                return -EOPNOTSUPP;
        }
        if (seccomp_api_get() < 5) {
                snprintf(why, len, "libseccomp %u.%u is too old for seccomp user notification (2.5 or later)",
                         seccomp_version()->major, seccomp_version()->minor);
                return -EOPNOTSUPP;
        }
        return 0;
}


/* ---- the eBPF backend: running processes ---- */

struct bpf_priv {
        struct sys_fault_bpf *skel;
};

static void bpf_priv_free(void *p) {
        struct bpf_priv *b = p;
        if (b && b->skel)
                sys_fault_free(b->skel);
        free(b);
}

/* The programs stay attached while the process holding their links lives;
 * the runner detaches them itself (finish), and a runner that cannot is
 * made to exit: that is the only way to detach tracing programs. */
int syscall_revert_bpf(const struct jentry *e) {
        if (e->pid == getpid() || !process_alive(e->pid, e->start))
                return 0;
        int fd = sys_pidfd_open(e->pid);
        if (fd < 0)
                return errno == ESRCH ? 0 : -errno;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        (void)sys_pidfd_send_signal(fd, SIGTERM);
        if (poll(&p, 1, 100) == 0) {
                (void)sys_pidfd_send_signal(fd, SIGKILL);
                (void)poll(&p, 1, 2000);
        }
        close(fd);
        return process_alive(e->pid, e->start) ? -EBUSY : 0;
}

static int apply_bpf(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        const struct target *t = c->pl->s->targets[f->target_index];
        struct sys_fault_spec spec = {.err = f->err, .probability = f->probability, .path = f->path};
        const char *progs[64];
        size_t n = 0;
        for (size_t i = 0; i < f->syscalls.n && n < ELEMENTSOF(progs); i++) {
                const struct bpf_hook *h = bpf_hook_for(f->syscalls.name[i]);
                if (!h)
                        return -EOPNOTSUPP; /* refused by validation */
                spec.perm_mask |= h->perm;
                bool have = false;
                for (size_t k = 0; k < n; k++)
                        have = have || streq(progs[k], h->prog);
                if (!have)
                        progs[n++] = h->prog;
        }
        spec.progs = progs;
        spec.n_progs = n;
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int r;
        if (t->sel == SEL_UNIT || t->sel == SEL_CGROUP)
                r = fault_target_cgroup(c, f, &spec.cgroup_id, &spec.cgroup_level);
        else {
                /* The processes that match now; their later children are not
                 * targeted (a unit or cgroup target is, whole). */
                r = plan_resolve_target(c->pl, t, &rt);
                spec.tgids = rt.pids;
                spec.n_tgids = rt.n_pids;
                if (r >= 0 && !rt.n_pids)
                        r = -ESRCH;
        }
        struct bpf_priv *priv = calloc(1, sizeof *priv);
        if (r >= 0 && !priv)
                r = -ENOMEM;
        /* Journaled before it is attached: the entry names the process
         * whose links hold the programs (this one). */
        struct jentry e = {.kind = "bpf", .pid = getpid(), .name = f->hdr.name};
        if (r >= 0 && (r = proc_starttime(e.pid, &e.start)) >= 0 && (r = journal_apply(c->j, &e)) >= 0)
                r = fault_track(fr, e.seq);
        if (r >= 0)
                r = sys_fault_load(&spec, &priv->skel);
        if (r < 0) {
                free(priv);
                fault_event(c, LOG_ERR, f, "cannot attach the eBPF programs: %s", strerror(-r));
                return r;
        }
        fr->priv = priv;
        fr->priv_free = bpf_priv_free;
        char a[FORMAT_MAX];
        struct strv names = {.v = f->syscalls.name, .n = f->syscalls.n};
        char *list = format_strv(&names);
        fault_event(c, LOG_WARNING, f, "failing %s of target %s with %s, probability %s%s%s (eBPF, %zu hook%s)",
                    list ? list : "?", t->hdr.name, errno_to_name(f->err), format_ratio(a, f->probability),
                    f->path ? ", under " : "", f->path ? f->path : "", n, n == 1 ? "" : "s");
        free(list);
        return 0;
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        const struct scenario *s = c->pl->s;
        if (fault_uses_bpf(s, f))
                return apply_bpf(c, fr);
        if (!uses_seccomp(s, f))
                return -EOPNOTSUPP; /* refused in preflight */
        char a[FORMAT_MAX];
        struct strv names = {.v = f->syscalls.name, .n = f->syscalls.n};
        char *list = format_strv(&names);
        if (f->type == FAULT_SYSCALL_ERROR)
                fault_event(c, LOG_WARNING, f, "failing %s of launched pid %d with %s, probability %s%s%s", list ? list : "?",
                            (int)c->exec_pids[f->target_index], errno_to_name(f->err), format_ratio(a, f->probability),
                            f->path ? ", under " : "", f->path ? f->path : "");
        else {
                char b[FORMAT_MAX];
                fault_event(c, LOG_WARNING, f, "holding %s of launched pid %d for %s, probability %s%s%s", list ? list : "?",
                            (int)c->exec_pids[f->target_index], format_duration(b, f->delay),
                            format_ratio(a, f->probability), f->path ? ", under " : "", f->path ? f->path : "");
        }
        free(list);
        return 0;
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        (void)c;
        struct bpf_priv *b = fault_uses_bpf(c->pl->s, fr->f) ? fr->priv : NULL;
        if (b && b->skel) {
                uint64_t n[_SYS_COUNTERS] = {0};
                (void)sys_fault_counters(b->skel, n);
                fr->strikes = (unsigned)n[SYS_SEEN];
                fr->hits = (unsigned)n[SYS_FAILED];
                /* Detach now: the window is over. */
                sys_fault_free(b->skel);
                b->skel = NULL;
        }
        snprintf(fr->outcome, sizeof fr->outcome, "%s %u of %u matching calls", fr->f->type == FAULT_SYSCALL_ERROR ? "failed"
                 : "held", fr->hits, fr->strikes);
}

const struct fault_ops syscall_error_ops = {
        .type = FAULT_SYSCALL_ERROR, .probe = probe, .apply = apply, .finish = finish,
};
const struct fault_ops syscall_delay_ops = {
        .type = FAULT_SYSCALL_DELAY, .probe = probe, .apply = apply, .finish = finish,
};
