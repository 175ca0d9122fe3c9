/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "host.h"
#include "systemd_lib.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s) {
        char *w = s;
        for (char *r = s; *r;) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w++ = *r++;
        }
        *w = '\0';
}

int cgroup2_mount_from_mountinfo(FILE *f, char **ret) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                /* id parent major:minor root mountpoint opts [optional...] - fstype src superopts */
                char *sep = strstr(line, " - ");
                if (!sep)
                        continue;
                char fstype[32];
                if (sscanf(sep + 3, "%31s", fstype) != 1 || !streq(fstype, "cgroup2"))
                        continue;
                char *save = NULL, *tok = strtok_r(line, " ", &save);
                for (int i = 0; tok && i < 4; i++)
                        tok = strtok_r(NULL, " ", &save);
                if (!tok)
                        continue;
                unescape_octal(tok);
                char *m = strdup(tok);
                if (!m)
                        return -ENOMEM;
                *ret = m;
                return 0;
        }
        return -ENOENT;
}

int host_meminfo(uint64_t *ret_total, uint64_t *ret_avail) {
        _cleanup_fclose_ FILE *fp = fopen("/proc/meminfo", "re");
        char line[256];
        unsigned long long v;
        uint64_t total = 0, avail = 0;
        if (!fp)
                return -errno;
        while (fgets(line, sizeof line, fp)) {
                if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
                        total = (uint64_t)v << 10;
                else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
                        avail = (uint64_t)v << 10;
        }
        if (!total || !avail)
                return -ENODATA;
        *ret_total = total;
        *ret_avail = avail;
        return 0;
}

int cgroup2_mount(char **ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        return cgroup2_mount_from_mountinfo(f, ret);
}

/* Depth-first search for a directory named `name`; systemd places a unit's
 * cgroup wherever its slice is, so there is no fixed path. */
static int find_dir(const char *dir, const char *name, int depth, unsigned *budget, char **ret) {
        if (depth > 8 || *budget == 0)
                return -ENOENT;
        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        int r = -ENOENT;
        struct dirent *de;
        while (r == -ENOENT && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (--*budget == 0)
                        break;
                char sub[PATH_MAX];
                if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
                        continue;
                if (streq(de->d_name, name)) {
                        r = (*ret = strdup(sub)) ? 0 : -ENOMEM;
                        break;
                }
                r = find_dir(sub, name, depth + 1, budget, ret);
                if (r == 0 || r == -ENOMEM)
                        break;
                r = -ENOENT; /* unreadable or vanished subtrees: keep looking */
        }
        closedir(d);
        return r;
}

/* The interface that carries ControlGroup for a unit of this type. */
static const char *unit_interface(const char *unit) {
        static const struct {
                const char *suffix, *iface;
        } t[] = {
                {".service", "org.freedesktop.systemd1.Service"}, {".scope", "org.freedesktop.systemd1.Scope"},
                {".slice", "org.freedesktop.systemd1.Slice"},     {".socket", "org.freedesktop.systemd1.Socket"},
                {".mount", "org.freedesktop.systemd1.Mount"},     {".swap", "org.freedesktop.systemd1.Swap"},
        };
        size_t l = strlen(unit);
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                size_t k = strlen(t[i].suffix);
                if (l > k && streq(unit + l - k, t[i].suffix))
                        return t[i].iface;
        }
        return NULL;
}

/* Ask systemd (PID 1) for a unit's cgroup, relative to the cgroup2 root
 * ("/system.slice/x.service"): what systemd put the unit in, never a
 * nested container's cgroup that happens to have the same name.
 * -ENOENT: systemd knows no such running unit (or the unit's type has no
 * cgroup); -EHOSTUNREACH: systemd could not be asked; -ENOSYS: systemd is
 * not PID 1 (then the caller walks the tree). */
static int systemd_unit_cgroup(const char *unit, char **ret) {
        if (!systemd_booted())
                return -ENOSYS;
        const char *iface = unit_interface(unit);
        if (!iface)
                return -ENOENT;
        sd_bus *bus = NULL;
        if (systemd_bus_open(&bus) < 0)
                return -EHOSTUNREACH;
        char *cg = NULL;
        int r = systemd_unit_property(bus, unit, iface, "ControlGroup", &cg);
        systemd_bus_close(bus);
        if (r < 0)
                /* Not loaded: not running either. */
                return r == -ENOENT ? -ENOENT : -EHOSTUNREACH;
        /* Empty while the unit is inactive. Anything else must be a plain
         * absolute path below the root. */
        if (!cg[0])
                r = -ENOENT;
        else if (cg[0] != '/' || strstr(cg, "/../") || (strlen(cg) >= 3 && streq(cg + strlen(cg) - 3, "/..")))
                r = -EBADMSG;
        else {
                *ret = cg;
                return 0;
        }
        free(cg);
        return r;
}

int cgroup_find_unit(const char *root, const char *unit, char **ret) {
        char p[PATH_MAX];
        struct stat st;
        _cleanup_free_ char *cg = NULL;
        int r = systemd_unit_cgroup(unit, &cg);
        if (r >= 0) {
                if ((size_t)snprintf(p, sizeof p, "%s%s", root, cg) >= sizeof p)
                        return -ENAMETOOLONG;
                if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
                        return -ENOENT;
                return (*ret = strdup(p)) ? 0 : -ENOMEM;
        }
        /* With systemd as PID 1 and its bus down, a guess by name could
         * pick a nested container's cgroup: say it, pick nothing. */
        if (r != -ENOSYS)
                return r;
        /* Without systemd as PID 1: system units live in system.slice,
         * the common case first. */
        snprintf(p, sizeof p, "%s/system.slice/%s", root, unit);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                return (*ret = strdup(p)) ? 0 : -ENOMEM;
        unsigned budget = 100000;
        return find_dir(root, unit, 0, &budget, ret);
}

static int pid_cmp(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return x < y ? -1 : x > y;
}

static void sort_unique(pid_t *v, size_t *n) {
        if (*n < 2)
                return;
        qsort(v, *n, sizeof *v, pid_cmp);
        size_t w = 1;
        for (size_t i = 1; i < *n; i++)
                if (v[i] != v[w - 1])
                        v[w++] = v[i];
        *n = w;
}

static int collect_pids(const char *path, int depth, pid_t **v, size_t *n) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/cgroup.procs", path);
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f)
                return -errno;
        long pid;
        while (fscanf(f, "%ld", &pid) == 1)
                if (pid > 0) {
                        pid_t x = (pid_t)pid;
                        if (array_push(v, n, sizeof x, &x) < 0)
                                return -ENOMEM;
                }
        if (depth > 16)
                return 0;
        DIR *d = opendir(path);
        if (!d)
                return -errno;
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        char sub[PATH_MAX];
                        if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < (int)sizeof sub) {
                                r = collect_pids(sub, depth + 1, v, n);
                                if (r == -ENOENT) /* removed meanwhile */
                                        r = 0;
                        }
                }
        closedir(d);
        return r;
}

int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n) {
        pid_t *v = NULL;
        size_t n = 0;
        int r = collect_pids(path, 0, &v, &n);
        if (r < 0) {
                free(v);
                return r;
        }
        sort_unique(v, &n);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int read_proc_file(pid_t pid, const char *what, char *buf, size_t len) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        ssize_t k = read(fd, buf, len - 1);
        if (k < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        buf[k] = '\0';
        return (int)k;
}

int proc_comm(pid_t pid, char buf[static 16]) {
        char tmp[64];
        int r = read_proc_file(pid, "comm", tmp, sizeof tmp);
        if (r < 0)
                return r;
        tmp[strcspn(tmp, "\n")] = '\0';
        tmp[15] = '\0'; /* TASK_COMM_LEN */
        memcpy(buf, tmp, 16);
        return 0;
}

/* Fields of /proc/PID/stat after the comm, which may hold spaces and ')'. */
static int proc_stat_tail(pid_t pid, char *buf, size_t len, char **ret) {
        int r = read_proc_file(pid, "stat", buf, len);
        if (r < 0)
                return r;
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EIO;
        *ret = p + 2;
        return 0;
}

int proc_state(pid_t pid, char *ret) {
        char buf[1024], *t;
        int r = proc_stat_tail(pid, buf, sizeof buf, &t);
        if (r < 0)
                return r;
        *ret = t[0];
        return 0;
}

int proc_starttime(pid_t pid, uint64_t *ret) {
        char buf[1024], *t;
        int r = proc_stat_tail(pid, buf, sizeof buf, &t);
        if (r < 0)
                return r;
        /* t starts at field 3 (state); starttime is field 22. */
        for (int f = 3; f < 22; f++) {
                t = strchr(t, ' ');
                if (!t)
                        return -EIO;
                t++;
        }
        char *end;
        unsigned long long v = strtoull(t, &end, 10);
        if (end == t)
                return -EIO;
        *ret = v;
        return 0;
}

int proc_is_kthread(pid_t pid) {
        char buf[1024], *t;
        int r = proc_stat_tail(pid, buf, sizeof buf, &t);
        if (r < 0)
                return r;
        unsigned long flags = 0;
        /* state ppid pgrp session tty_nr tpgid flags */
        if (sscanf(t, "%*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
                return -EIO;
        return (flags & 0x00200000UL) ? 1 : 0; /* PF_KTHREAD */
}

int proc_exe(pid_t pid, char **ret) {
        char p[64], buf[PATH_MAX];
        snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
        ssize_t k = readlink(p, buf, sizeof buf - 1);
        if (k < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        buf[k] = '\0';
        return (*ret = strdup(buf)) ? 0 : -ENOMEM;
}

int proc_cgroup(pid_t pid, char **ret) {
        char buf[8192];
        int r = read_proc_file(pid, "cgroup", buf, sizeof buf);
        if (r < 0)
                return r;
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (strncmp(l, "0::", 3) == 0)
                        return (*ret = strdup(l + 3)) ? 0 : -ENOMEM;
        return -ENOENT;
}

int proc_list(pid_t **ret, size_t *ret_n) {
        DIR *d = opendir("/proc");
        if (!d)
                return -errno;
        pid_t *v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0 || !isdigit((unsigned char)de->d_name[0]))
                        continue;
                pid_t x = (pid_t)pid;
                if (array_push(&v, &n, sizeof x, &x) < 0) {
                        closedir(d);
                        free(v);
                        return -ENOMEM;
                }
        }
        closedir(d);
        sort_unique(v, &n);
        *ret = v;
        *ret_n = n;
        return 0;
}

bool proc_exists(pid_t pid) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d", (int)pid);
        return access(p, F_OK) == 0;
}

#define PROC_SUPER_MAGIC_ 0x9fa0
#define SYSFS_MAGIC_ 0x62656572

int pidfile_read(const char *path, pid_t *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        /* Checked on the open file, so a symlink swapped after a check by
         * name cannot lead into /proc. */
        struct statfs sf;
        struct stat st;
        if (fstatfs(fd, &sf) < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (sf.f_type == PROC_SUPER_MAGIC_ || sf.f_type == SYSFS_MAGIC_)
                return -EXDEV;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        char buf[64];
        ssize_t k = read(fd, buf, sizeof buf - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        size_t len = (size_t)k;
        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        if (len == 0 || len > 7 || buf[strspn(buf, "0123456789")] != '\0')
                return -EBADMSG;
        long v = strtol(buf, NULL, 10);
        if (v <= 0 || v > 4194304)
                return -EBADMSG;
        *ret = (pid_t)v;
        return 0;
}

int proc_parent(pid_t pid, pid_t *ret_ppid, pid_t *ret_pgid) {
        char buf[1024], *t;
        int r = proc_stat_tail(pid, buf, sizeof buf, &t);
        if (r < 0)
                return r;
        int ppid, pgid;
        if (sscanf(t, "%*c %d %d", &ppid, &pgid) != 2)
                return -EIO;
        *ret_ppid = (pid_t)ppid;
        *ret_pgid = (pid_t)pgid;
        return 0;
}

/* Whether pid's effective uid is root (the Uid line's second field). */
static bool proc_euid_root(pid_t pid) {
        char buf[4096];
        if (read_proc_file(pid, "status", buf, sizeof buf) < 0)
                return false;
        const char *u = strstr(buf, "\nUid:");
        unsigned ruid, euid;
        return u && sscanf(u + 5, "%u %u", &ruid, &euid) == 2 && euid == 0;
}

bool proc_runs_sabot(pid_t pid, const char *comm) {
        static struct stat self;
        static bool have_self;
        if (!have_self)
                have_self = stat("/proc/self/exe", &self) == 0;
        char p[64];
        struct stat st;
        snprintf(p, sizeof p, "/proc/%d/exe", (int)pid);
        /* stat follows the link to the file itself, even when deleted.
         * What protects a process is being sabot's run: a root process.
         * Anyone may start the binary, and what it then forks would be
         * out of reach of every fault. */
        bool have = stat(p, &st) == 0;
        if (have_self && have && st.st_dev == self.st_dev && st.st_ino == self.st_ino)
                return proc_euid_root(pid);
        /* Another copy: a different build, or the binary a package upgrade
         * replaced under a live run ("/usr/sbin/sabot (deleted)"). Both the
         * file's name and the comm must say sabot: a comm alone is anyone's
         * to choose (and what is not called sabot needs no look at its file). */
        char own[16];
        if (!comm && proc_comm(pid, own) < 0)
                return false;
        if (!comm)
                comm = own;
        if (!streq(comm, "sabot") && !streq(comm, "sabot-guardian"))
                return false;
        _cleanup_free_ char *exe = NULL;
        if (proc_exe(pid, &exe) < 0)
                return false;
        size_t l = strlen(exe);
        if (l > 10 && streq(exe + l - 10, " (deleted)"))
                exe[l - 10] = '\0';
        const char *base = strrchr(exe, '/');
        /* And a copy only root could have put there, run by root: a user's
         * own program called sabot is not one. */
        return base && streq(base + 1, "sabot") && have && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
               proc_euid_root(pid);
}

int proc_is_sabot(pid_t pid) {
        pid_t pgid0 = -1;
        /* Up the parent chain while the process group stays the same: SLO
         * probes (and what they start) share their runner's group, launched
         * targets are leaders of their own (setpgid at launch). */
        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                pid_t ppid, pgid;
                int r = proc_parent(pid, &ppid, &pgid);
                if (r < 0)
                        return depth == 0 ? r : 0;
                if (depth == 0)
                        pgid0 = pgid;
                else if (pgid != pgid0)
                        return 0;
                if (proc_runs_sabot(pid, NULL))
                        return 1;
                pid = ppid;
        }
        return 0;
}

/* The initial pid namespace's inode number (PROC_PID_INIT_INO, fixed
 * since Linux 3.8): a pid seen from another names another process, or
 * none. */
#define PID_NS_INIT_INO 0xEFFFFFFCu
bool pid_ns_initial(void) {
        struct stat st;
        return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == PID_NS_INIT_INO;
}
