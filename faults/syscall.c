/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "../agent/scenario.h"
#include "../agent/journal.h"
#include "../agent/host.h"
#include "../agent/loop.h"
#include "rand.h"
#include "sys_fault_loader.h"
#include "syscall.h"

struct held_call {
        uint64_t id;
        uint64_t due_ns; /* CLOCK_MONOTONIC */
        int fd;
        int slot; /* in notify_shared.held, or -1 */
        struct fault_run *fr;
};

struct notify_state;

/* One launched target's listener, watched on the run's loop. */
struct listener {
        struct notify_state *ns;
        int fd, ti;
        struct loop_source *src;
};

/* The seccomp backend's state for a run (both kinds share it). */
struct notify_state {
        struct fault_ctx c;
        struct held_call *held; /* syscall-delay: calls waiting for their delay */
        size_t n_held;
        struct loop_source *timer;    /* fires at the earliest due_ns */
        struct notify_shared *shared; /* with the guardian, or NULL */
        unsigned *listener; /* by exec target: its listener's number in shared */
        struct listener l[NOTIFY_MAX_LISTENERS];
        size_t n_l;
};

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

static int respond(int fd, uint64_t id, int err) {
        struct seccomp_notif_resp resp = {.id = id};
        if (err)
                resp.error = -err;
        else
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

static void on_alarm(int sig) { (void)sig; }

/* How SECCOMP_IOCTL_NOTIF_RECV behaves once its fd was readable and the
 * caller that made it so went away (killed) before the receive: RECV_FAST,
 * it returns ENOENT at once (the kernel counts a pending request per
 * notification and does not take it back when the caller leaves, so a
 * receive after readiness finds a count and never sleeps: kernel/seccomp.c,
 * recv_wait_event); RECV_MAY_BLOCK, it slept until a guard interrupted it;
 * RECV_UNKNOWN, not probed (here: this process never launched a target). */
enum { RECV_UNKNOWN, RECV_FAST, RECV_MAY_BLOCK };
static int recv_behaviour = RECV_UNKNOWN;

static void install_alarm(void) {
        static bool installed;
        if (installed)
                return;
        struct sigaction sa = {.sa_handler = on_alarm};
        sigemptyset(&sa.sa_mask);
        installed = sigaction(SIGALRM, &sa, NULL) == 0;
}

/* The guarded receive: a one-shot timer interrupts it (EINTR, nothing to
 * receive); the handler is installed without SA_RESTART for that. */
static int recv_guarded(int fd, struct seccomp_notif *req, long usec) {
        install_alarm();
        struct itimerval it = {.it_value = {0, usec}}, off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &it, NULL);
        int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? -errno : 0;
        setitimer(ITIMER_REAL, &off, NULL);
        return r;
}

/* SECCOMP_IOCTL_NOTIF_RECV sleeps until a notification comes. Called only
 * once the fd was readable: where the probe showed the kernel never sleeps
 * then, a plain ioctl (no system call but the receive); elsewhere, or not
 * probed, the 100 ms guard. */
static int recv_notif(int fd, struct seccomp_notif *req) {
        memset(req, 0, sizeof *req);
        if (recv_behaviour == RECV_FAST)
                return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? -errno : 0;
        return recv_guarded(fd, req, 100000);
}

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Linux 6.6 and later: the caller and the runner wake each other on the
 * waker's CPU, as a pipe's ping-pong would. 0, or -EINVAL (-ENOTTY) where
 * the kernel lacks it: nothing changes then. The flag is the filter's, so
 * any holder of the listener may set it; it is taken by value. */
static int set_sync_wake_up(int fd) {
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0 ? -errno
                                                                                                         : 0;
}

/* The probe: a child installs a filter notifying getppid(2) and forks a
 * grandchild that calls it (the child keeps the filter alive, as a
 * target's other processes would); once the listener is readable the
 * grandchild is killed and reaped, then one guarded receive tells. Run
 * once per process, before the first target is launched: a few ms. */
static int probe_recv(bool *ret_sync) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0);
        int up[2] = {-1, -1}, go[2] = {-1, -1};
        if (r >= 0 && (pipe2(up, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0))
                r = -errno;
        pid_t pid = -1, self = getpid();
        if (r >= 0 && (pid = fork()) < 0)
                r = -errno;
        if (pid == 0) {
                /* Both end with the runner, wherever it is killed: nothing
                 * of the probe outlives it. */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != self)
                        _exit(0);
                close(up[0]);
                close(go[1]);
                int v[2] = {-1, -1};
                if (seccomp_load(ctx) == 0 && (v[0] = seccomp_notify_fd(ctx)) >= 0) {
                        pid_t g = fork();
                        if (g == 0) {
                                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                                (void)syscall(SYS_getppid); /* held: the notified call */
                                _exit(0);
                        }
                        v[1] = g;
                }
                (void)!write(up[1], v, sizeof v);
                char b;
                (void)!read(go[0], &b, 1);
                /* With this copy closed, a call still held has no listener
                 * left (the runner's is gone by now) and fails. */
                if (v[0] >= 0)
                        close(v[0]);
                if (v[1] > 0)
                        (void)waitpid(v[1], NULL, 0);
                _exit(0);
        }
        seccomp_release(ctx);
        if (up[1] >= 0)
                close(up[1]);
        if (go[0] >= 0)
                close(go[0]);
        int v[2] = {-1, -1}, pfd = -1, nfd = -1, gfd = -1;
        struct pollfd u = {.fd = up[0], .events = POLLIN};
        if (r >= 0 && (poll(&u, 1, 2000) != 1 || read(up[0], v, sizeof v) != (ssize_t)sizeof v || v[0] < 0 || v[1] <= 0))
                r = -EIO;
        if (r >= 0 && ((pfd = sys_pidfd_open(pid)) < 0 || (nfd = sys_pidfd_getfd(pfd, v[0])) < 0 ||
                       (gfd = sys_pidfd_open(v[1])) < 0))
                r = -errno;
        struct pollfd p = {.fd = nfd, .events = POLLIN};
        if (r >= 0 && (poll(&p, 1, 2000) != 1 || !(p.revents & POLLIN)))
                r = -ETIMEDOUT;
        if (r >= 0) {
                (void)sys_pidfd_send_signal(gfd, SIGKILL);
                struct pollfd g = {.fd = gfd, .events = POLLIN};
                if (poll(&g, 1, 2000) != 1)
                        r = -ETIMEDOUT;
        }
        if (r >= 0) {
                struct seccomp_notif req = {0};
                int q = recv_guarded(nfd, &req, 200000);
                if (q == 0)
                        (void)respond(nfd, req.id, 0), r = -EAGAIN; /* not what was asked */
                else
                        r = q == -ENOENT ? RECV_FAST : q == -EINTR ? RECV_MAY_BLOCK : q;
                *ret_sync = set_sync_wake_up(nfd) == 0;
        }
        if (gfd >= 0) {
                (void)sys_pidfd_send_signal(gfd, SIGKILL);
                close(gfd);
        }
        if (nfd >= 0)
                close(nfd);
        if (pfd >= 0)
                close(pfd);
        if (up[0] >= 0)
                close(up[0]);
        if (go[1] >= 0)
                close(go[1]); /* the child reaps the grandchild and exits */
        if (pid > 0) {
                if (r < 0)
                        (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
        }
        return r;
}

static bool sync_wake_up_avail;

/* Once per process; a failed probe keeps the guard. */
static void probe_recv_once(void) {
        static bool done;
        if (done)
                return;
        done = true;
        int r = probe_recv(&sync_wake_up_avail);
        recv_behaviour = r == RECV_FAST ? RECV_FAST : RECV_MAY_BLOCK;
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

/* A user-space draw: no system call per notification. */
static bool roll(ratio_t p) { return rand_chance(p); }

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
        (void)loop_timer_at(ns->timer, next, 0);
}

/* A notification arrived on fd for exec target ti. */
static int notify_handle(struct notify_state *ns, struct fault_run *frs, size_t n_frs, int ti, int fd) {
        struct seccomp_notif req;
        int q = recv_notif(fd, &req);
        if (q < 0)
                return q == -ENOENT || q == -EINTR ? 0 : q; /* the caller went away */
        if (ns->shared)
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
                if (ns->shared && (h.slot = hold_slot(ns->shared, ns->listener[ti], req.id)) < 0)
                        break;
                if (array_push(&ns->held, &ns->n_held, sizeof h, &h) < 0) {
                        unhold_slot(ns->shared, h.slot);
                        break;
                }
                arm(ns);
                return 0;
        }
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

/* The delay timer fired: let due calls continue. */
static void notify_timer(struct loop_source *src, uint32_t events, void *ud) {
        (void)src, (void)events;
        uint64_t now = mono_now();
        release_where(ud, is_due, &now);
}

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

int syscall_probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
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
                return fault_fail(fr, r, "cannot attach the eBPF programs");
        }
        fr->priv = priv;
        fr->priv_free = bpf_priv_free;
        char a[FORMAT_MAX];
        struct strv names = {.v = f->syscalls.name, .n = f->syscalls.n};
        char *list = format_strv(&names);
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "failing %s of target %s with %s, probability %s%s%s (eBPF, %zu hook%s)",
                    list ? list : "?", t->hdr.name, errno_to_name(f->err), format_ratio(a, f->probability),
                    f->path ? ", under " : "", f->path ? f->path : "", n, n == 1 ? "" : "s");
        free(list);
        return 0;
}

int syscall_apply(struct fault_ctx *c, struct fault_run *fr) {
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
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "failing %s of launched pid %d with %s, probability %s%s%s", list ? list : "?",
                            (int)c->exec_pids[f->target_index], errno_to_name(f->err), format_ratio(a, f->probability),
                            f->path ? ", under " : "", f->path ? f->path : "");
        else {
                char b[FORMAT_MAX];
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "holding %s of launched pid %d for %s, probability %s%s%s", list ? list : "?",
                            (int)c->exec_pids[f->target_index], format_duration(b, f->delay),
                            format_ratio(a, f->probability), f->path ? ", under " : "", f->path ? f->path : "");
        }
        free(list);
        return 0;
}

void syscall_finish(struct fault_ctx *c, struct fault_run *fr) {
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

bool fault_uses_bpf(const struct scenario *s, const struct fault *f) {
        if (!(FAULT_MASK(f->type) & FAULTS_SYSCALL) || f->target_index < 0)
                return false;
        return f->backend == BACKEND_BPF || (f->backend == BACKEND_AUTO && s->targets[f->target_index]->sel != SEL_EXEC);
}

/* ---- what the syscall kinds share before a run ---- */

void syscall_check(struct scenario *s, struct fault *f, const char *does, struct diags *d) {
        if (fault_ok(f, "probability") && f->probability == 0)
                diag_warning(d, s->file, fault_line(f, "probability"), "probability = 0%% %s nothing", does);
}

void syscall_check_backend(struct scenario *s, struct fault *f, struct diags *d) {
        if (f->target_index >= 0 && f->backend == BACKEND_SECCOMP && s->targets[f->target_index]->sel != SEL_EXEC)
                diag_error(d, s->file, fault_line(f, "backend"), "backend = seccomp works only for "
                           "targets that sabot launches (exec = ...); target '%s' uses %s",
                           f->target, selector_to_string(s->targets[f->target_index]->sel));
}

void syscall_describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        const struct resolved_target *rt = f->target_index >= 0 ? &pl->targets[f->target_index] : NULL;
        char a[FORMAT_MAX];
        fprintf(out, ", probability %s%s%s\n", format_ratio(a, f->probability), f->path ? ", under " : "",
                f->path ? f->path : "");
        fprintf(out, "      target %s; backend %s\n", f->target,
                f->backend == BACKEND_SECCOMP ? "seccomp"
                : f->backend == BACKEND_BPF   ? "bpf"
                : rt && rt->t->sel == SEL_EXEC ? "seccomp (auto: launched target)"
                                                : "bpf (auto: running target)");
}

char *syscall_names(const struct fault *f) {
        struct strv names = {.v = f->syscalls.name, .n = f->syscalls.n};
        return format_strv(&names);
}

static void syscall_doctor(doctor_row_fn row, void *ud) {
        char why[512] = "";
        bool notify = syscall_seccomp_supported(why, sizeof why) >= 0;
        row(ud, "launched targets (seccomp notify)", notify ? "" : why, NULL, false);
        if (notify) {
                /* The probe a run makes before its first launch: what each
                 * intercepted call costs beyond RECV and SEND. */
                probe_recv_once();
                snprintf(why, sizeof why, "%s%s%s",
                         recv_behaviour == RECV_FAST ? "" : "a receive may block once its caller died: a 100 ms timer "
                                                            "guards each (2 system calls more per call)",
                         recv_behaviour != RECV_FAST && !sync_wake_up_avail ? "; " : "",
                         sync_wake_up_avail ? "" : "no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6)");
                row(ud, "seccomp notify: RECV+SEND only", why, NULL, true);
        }
        struct sys_fault_bpf *skel = NULL;
        /* A target that cannot exist: loaded and attached, it fails nothing. */
        struct sys_fault_spec spec = {.tgid = INT32_MAX, .err = EIO, .probability = RATIO_ONE};
        int r = sys_fault_load(&spec, &skel);
        why[0] = '\0';
        if (r < 0)
                snprintf(why, sizeof why, "fmod_ret on security_file_open does not load: %s", strerror(-r));
        else
                sys_fault_free(skel);
        row(ud, "running processes (eBPF LSM hooks)", why,
            "a kernel with CONFIG_BPF_LSM (or CONFIG_FUNCTION_ERROR_INJECTION) that allows tracing "
            "programs, as Debian 12's linux-image-amd64, -cloud-amd64 and -6.12-amd64 do, under "
            "lockdown too (integrity and confidentiality); some sandboxes refuse them", false);
}

const struct fault_backend syscall_backend = {.title = "syscall faults", .doctor = syscall_doctor};

/* ---- launched targets: the filter, its listener ---- */

/* The listener a seccomp filter hands out lands on the lowest free fd:
 * the child frees everything above stderr but this one, so it is 3. */
#define NOTIFY_FD 3
#define ERR_FD 100

static bool is_notify_fd(int fd) {
        char p[64], buf[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, buf, sizeof buf - 1);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return strstr(buf, "seccomp notify") != NULL;
}

/* Until the target has exec'd: take its listener, and let every call it
 * makes meanwhile (execve among them) continue. The guardian gets the
 * listener before any of those calls is answered, and each id received
 * goes to the shared page first: if this process dies now, the guardian
 * answers them. The very first one (the child's own execve) could only be
 * lost before its id is stored; the child then never runs the target, and
 * the guardian ends it. */
static int adopt_listener(struct fault_ctx *c, struct notify_shared *sh, pid_t pid, int errfd, int *ret_notify,
                          unsigned *ret_li, int *ret_child_errno) {
        int pidfd = sys_pidfd_open(pid), nfd = -1, r = 0;
        unsigned li = 0;
        if (pidfd < 0)
                return -errno;
        for (int ms = 0; ms < 10000; ms++) {
                if (nfd < 0) {
                        nfd = sys_pidfd_getfd(pidfd, NOTIFY_FD);
                        if (nfd >= 0 && !is_notify_fd(nfd))
                                close(nfd), nfd = -1;
                        if (nfd >= 0 && c->guardian_give) {
                                int q = c->guardian_give(c->ud, nfd);
                                if (q < 0) {
                                        r = q;
                                        break;
                                }
                                li = (unsigned)q;
                        }
                }
                struct pollfd p[2] = {{.fd = errfd, .events = POLLIN}, {.fd = nfd, .events = POLLIN}};
                if (poll(p, nfd >= 0 ? 2 : 1, 1) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (nfd >= 0 && (p[1].revents & POLLIN))
                        (void)syscall_notify_drain(nfd, sh, li);
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        int e = 0;
                        ssize_t n = read(errfd, &e, sizeof e);
                        if (n == (ssize_t)sizeof e) {
                                *ret_child_errno = e;
                                break;
                        }
                        if (n == 0) /* exec'd: the error pipe closed on exec */
                                break;
                }
        }
        close(pidfd);
        if (r >= 0 && nfd < 0 && !*ret_child_errno)
                r = -ETIMEDOUT;
        if (r < 0 && nfd >= 0)
                close(nfd);
        else {
                *ret_notify = nfd;
                *ret_li = li;
        }
        return r;
}

static void listener_event(struct loop_source *src, uint32_t events, void *ud) {
        struct listener *l = ud;
        struct notify_state *ns = l->ns;
        if (notify_handle(ns, ns->c.frs, ns->c.n_frs, l->ti, l->fd) < 0 || (events & (EPOLLHUP | EPOLLERR))) {
                loop_remove(src); /* the target is gone */
                l->src = NULL;
        }
}

static int launch_begin(struct fault_ctx *c, void *shared, void **ret_state) {
        struct notify_state *ns = calloc(1, sizeof *ns);
        if (!ns)
                return -ENOMEM;
        ns->c = *c;
        ns->shared = shared;
        ns->listener = calloc(c->pl->s->n_targets + 1, sizeof *ns->listener);
        int r = ns->listener ? loop_add_timer(c->loop, "syscall-delay: held calls due", LOOP_FIRST, notify_timer, ns,
                                              &ns->timer)
                             : -ENOMEM;
        if (r < 0) {
                free(ns->listener);
                free(ns);
                return r;
        }
        *ret_state = ns;
        return 0;
}

static int launch_prepare(void *st, struct fault_ctx *c, int ti, void **ret_child) {
        (void)st;
        size_t n = 0;
        _cleanup_free_ int *nrs = syscall_notify_set(c->pl->s, ti, &n);
        if (!n) {
                *ret_child = NULL;
                return 0;
        }
        probe_recv_once();
        /* Built here: the child only loads it. Without no_new_privs, so
         * setuid programs in the target keep working (root may). */
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = !ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ? -ENOMEM : 0;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nrs[i], 0);
        if (r < 0) {
                if (ctx)
                        seccomp_release(ctx);
                return r;
        }
        *ret_child = ctx;
        return 0;
}

static int launch_child(void *child, int errfd) {
        if (dup3(errfd, ERR_FD, O_CLOEXEC) < 0)
                return -errno;
        close_range(NOTIFY_FD, ERR_FD - 1, 0);
        close_range(ERR_FD + 1, ~0U, 0);
        /* From here on every notified call waits for the runner, which is
         * taking the listener from fd 3. */
        int q = seccomp_load(child);
        if (q < 0) {
                int e = -q;
                (void)!write(ERR_FD, &e, sizeof e);
                return q;
        }
        return ERR_FD;
}

static int launch_adopt(void *st, struct fault_ctx *c, int ti, pid_t pid, int errfd, int *ret_child_errno) {
        struct notify_state *ns = st;
        if (ns->n_l >= NOTIFY_MAX_LISTENERS)
                return -EMFILE;
        int nfd = -1;
        unsigned li = 0;
        int r = adopt_listener(c, ns->shared, pid, errfd, &nfd, &li, ret_child_errno);
        if (r < 0 || *ret_child_errno) {
                if (nfd >= 0)
                        close(nfd);
                return r;
        }
        ns->listener[ti] = li;
        (void)set_sync_wake_up(nfd); /* where the kernel has it */
        struct listener *l = &ns->l[ns->n_l];
        *l = (struct listener){.ns = ns, .fd = nfd, .ti = ti};
        r = loop_add_fd(c->loop, "syscall: a launched target's seccomp listener", nfd, EPOLLIN, LOOP_NORMAL,
                        listener_event, l, &l->src);
        if (r < 0) {
                /* The guardian holds it too: it answers, if we die. */
                close(nfd);
                return r;
        }
        ns->n_l++;
        return 0;
}

static void launch_discard(void *child) { seccomp_release(child); }

static void launch_release(void *st, const struct fault_run *fr) { release_where(st, of_fault, fr); }

static void launch_end(void *st) {
        struct notify_state *ns = st;
        if (!ns)
                return;
        for (size_t i = 0; i < ns->n_l; i++) {
                loop_remove(ns->l[i].src);
                close(ns->l[i].fd);
        }
        loop_remove(ns->timer);
        free(ns->held);
        free(ns->listener);
        free(ns);
}

static int launch_fail_open(const void *shared, const int *fds, size_t n_fds, unsigned from, unsigned to) {
        return syscall_notify_fail_open(shared, fds, n_fds, from, to);
}

const struct fault_launch_ops syscall_seccomp_launch = {
        .what = "a seccomp notify filter",
        .shared_size = sizeof(struct notify_shared),
        .begin = launch_begin,
        .prepare = launch_prepare,
        .child = launch_child,
        .adopt = launch_adopt,
        .discard = launch_discard,
        .release = launch_release,
        .end = launch_end,
        .fail_open = launch_fail_open,
};

void syscall_progress(struct fault_run *fr, char *buf, size_t len) {
        snprintf(buf, len, "%s %u of %u calls", fr->f->type == FAULT_SYSCALL_ERROR ? "failed" : "held", fr->hits,
                 fr->strikes);
}
