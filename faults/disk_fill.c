/* SPDX-License-Identifier: MIT */
/* disk-fill: a sabot-named file in a directory, grown with fallocate to a
 * share of its filesystem (percent = 90%: until 90% of it is used) or by a
 * size, never past the policy's min_free_disk.
 *
 * The directory, and every one above it, must be root's and writable by
 * nobody else unless sticky (validate refuses it otherwise, and apply
 * walks it again from / with O_PATH|O_NOFOLLOW and fills through the fd
 * it checked): a user who may write it could rename the fill away.
 *
 * What frees the space: the file is made unnamed (O_TMPFILE) and its fd
 * held for the window by the runner, and a duplicate handed to the
 * guardian (SCM_RIGHTS). The revert truncates the file to nothing through
 * whichever of them it finds (its own, else the runner's or the
 * guardian's, taken with pidfd_getfd: `sabot abort` from another
 * process), which frees its blocks whatever its name has become; then it
 * unlinks the name if it is still the file (below). Only when no process
 * of the run holds it (runner and guardian both dead: `sabot recover`) is
 * the checked unlink all there is, and a name gone is then reported as
 * space that could not be freed.
 *
 * The journal lives on /run (tmpfs): a full disk never blocks the revert,
 * and a truncate or an unlink needs no space. The file is named while
 * empty, then recorded, then grown: the directory's path, device and
 * inode and the file's name and inode are journaled, and a record says
 * that the file had that name. The revert acts relative to the directory
 * opened without following a link and checked to be the one recorded,
 * and unlinks the name only if it is the file recorded: a directory or a
 * file swapped for a link (or another one) between apply and revert
 * makes it refuse, never unlink something else.
 *
 * The file outlives a reboot and the journal on /run does not: it is also
 * recorded in the state dir (STATE/fills/RUN-FAULT, fsync'd with its
 * directory), while there is room yet; the revert removes the record
 * after the unlink, and `sabot recover` at boot unlinks what a record
 * names that no journal accounts for, by the same checks (the filesystem
 * then known by its statfs id as well as its device number, which a
 * reboot may change). A crash between naming the file and recording it
 * leaves an empty file. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <syslog.h>

#include "../agent/host.h"
#include "../agent/state.h"
#include "fault.h"

static const char *const keys[] = {"path", "percent", "size", NULL};

/* What one fallocate call grows the file by (a build may set another, to
 * see tests/hostile/test_disk_fill_outlasts_grace.sh fail without steps). */
#ifndef FILL_STEP
#define FILL_STEP (256ULL << 20)
#endif

static const struct fault_key_doc key_docs[] = {
        {"path", "required",
         "the directory whose filesystem is filled; it and every directory above it must be root's and writable by "
         "no one else unless sticky, with no symbolic link on the way (validate refuses it otherwise); the revert "
         "truncates the file through the fd the runner or the guardian holds, whatever its name has become"},
        {"percent", "none",
         "fill until this share of the filesystem is used; one of percent and size; never past the policy's min_free_disk"},
        {NULL},
};

#define FILL_PREFIX ".sabot-fill-"
/* STATE/FILLS_DIR/RUN-FAULT: the record of .sabot-fill-RUN-FAULT. */
#define FILLS_DIR "fills"
#define RECORD_HEAD "sabot-fill 1 "

/* What identifies a fill, in its journal entry and in its record. */
struct fill_id {
        const char *path; /* the directory */
        char dev[16];     /* its device, "MAJOR:MINOR" */
        uint64_t fsid;    /* its filesystem's statfs id, 0 if none */
        uint64_t dir_ino;
        const char *name; /* the file, in it */
        uint64_t ino;
        uid_t uid;
};
static int record_write(const char *state, const char *rname, const struct journal *j, const struct fill_id *id);

/* Whether users other than root may change what is in a directory with
 * this owner and mode: its owner (any name in it), or anyone with write
 * permission unless it is sticky (then only names they own). */
static bool dir_open_to_others(const struct stat *st) {
        return st->st_uid != 0 || ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX));
}

/* The directory at path, opened component by component from / with
 * O_PATH|O_NOFOLLOW (no link anywhere, no '..'), each one checked: root's,
 * and writable by nobody else unless sticky. A user who may write the
 * directory or any above it could rename the fill (or the directory)
 * away, and its name would no longer lead to it. Its fd (O_RDONLY) in
 * *ret_fd: what is checked is what is used. -EPERM, -ELOOP, -ENOTDIR,
 * -EINVAL with why: refused; another -errno (ENOENT: it is not there). */
static int dir_walk(const char *path, int *ret_fd, char *why, size_t len) {
        if (!path || path[0] != '/') {
                snprintf(why, len, "%s is not an absolute path", path ? path : "(none)");
                return -EINVAL;
        }
        _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char shown[PATH_MAX] = "/";
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        for (const char *p = path;;) {
                if (dir_open_to_others(&st)) {
                        snprintf(why, len, "%s (mode %04o, owner uid %u) may be written by users other than root "
                                 "and is not sticky: they could rename the fill away", shown,
                                 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
                        return -EPERM;
                }
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t l = strcspn(p, "/");
                char comp[NAME_MAX + 1];
                if (l > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, l);
                comp[l] = '\0';
                p += l;
                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        snprintf(why, len, "%s has a '..' in it", path);
                        return -EINVAL;
                }
                size_t sl = strlen(shown);
                snprintf(shown + sl, sizeof shown - sl, "%s%s", sl > 1 ? "/" : "", comp);
                int nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return -errno;
                close(fd);
                fd = nfd;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode)) {
                        snprintf(why, len, "%s is a symbolic link (give the path it leads to)", shown);
                        return -ELOOP;
                }
                if (!S_ISDIR(st.st_mode)) {
                        snprintf(why, len, "%s is not a directory", shown);
                        return -ENOTDIR;
                }
        }
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        *ret_fd = dfd;
        return 0;
}

static bool walk_refused(int r) { return r == -EPERM || r == -ELOOP || r == -ENOTDIR || r == -EINVAL; }

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        if (f->target)
                diag_error(d, s->file, fault_line(f, "target"), "type = disk-fill fills a directory's filesystem, "
                           "not a target's: remove 'target'");
        fault_require(s, f, "path", " (the directory whose filesystem it fills, e.g. /var/tmp)", d);
        /* Where it exists now; apply walks it again, and fills through
         * the fd it checked. */
        char why[PATH_MAX + 256];
        _cleanup_close_ int dfd = -1;
        int r = f->path ? dir_walk(f->path, &dfd, why, sizeof why) : 0;
        if (walk_refused(r))
                diag_error(d, s->file, fault_line(f, "path"), "%s; the fill's directory, and every directory above "
                           "it, must be root's and writable by no one else unless sticky (such as /var/tmp)", why);
        bool has_p = fault_line(f, "percent"), has_s = fault_line(f, "size");
        if (has_p == has_s)
                diag_error(d, s->file, has_s ? fault_line(f, "size") : f->hdr.line,
                           "fault '%s' (type = disk-fill) needs exactly one of 'percent' (the share of the "
                           "filesystem used at the end, e.g. 90%%) or 'size' (bytes to allocate, e.g. 1G)",
                           f->hdr.name);
        if (has_p && fault_ok(f, "percent") && f->percent == 0)
                diag_error(d, s->file, fault_line(f, "percent"), "percent = 0%% fills nothing; use 1%% to 100%%");
        if (has_s && fault_ok(f, "size") && f->size == 0)
                diag_error(d, s->file, fault_line(f, "size"), "size = 0 fills nothing; use a size such as 1G");
}

/* The filesystem of f's directory now, and what the fill would allocate:
 * wanted (before the reserve) and allowed (after it). */
struct fill_calc {
        uint64_t total, used, avail, reserve, wanted, allowed;
        /* A filesystem in memory (tmpfs, ramfs): what it is given is RAM
         * that no OOM kill gives back, so min_free_memory bounds it too. */
        bool in_memory, mem_capped;
        uint64_t mem_avail, mem_reserve;
};

static bool type_in_memory(long type) { return type == TMPFS_MAGIC || type == RAMFS_MAGIC; }

/* An overlay's upper directory, where its writes go, from the super
 * options of the mount of dev in /proc/self/mountinfo ("upperdir=",
 * octal escapes undone). NULL if none is found. */
static char *overlay_upper(dev_t dev) {
        _cleanup_fclose_ FILE *m = fopen("/proc/self/mountinfo", "re");
        if (!m)
                return NULL;
        char want[32];
        snprintf(want, sizeof want, "%u:%u", major(dev), minor(dev));
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, m) > 0) {
                /* ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SOURCE SUPER */
                char *save = NULL, *id = strtok_r(line, " ", &save), *parent = strtok_r(NULL, " ", &save),
                     *mm = strtok_r(NULL, " ", &save);
                if (!id || !parent || !mm || !streq(mm, want))
                        continue;
                char *sep = strstr(save ? save : "", " - ");
                char *opts = sep ? strstr(sep, "upperdir=") : NULL;
                if (!opts)
                        return NULL;
                opts += strlen("upperdir=");
                char *out = malloc(strlen(opts) + 1), *o = out;
                if (!out)
                        return NULL;
                for (const char *i = opts; *i && *i != ',' && *i != ' ' && *i != '\n'; i++) {
                        if (i[0] == '\\' && i[1] >= '0' && i[1] <= '7' && i[2] >= '0' && i[2] <= '7' && i[3] >= '0' &&
                            i[3] <= '7') {
                                *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                                i += 3;
                        } else
                                *o++ = *i;
                }
                *o = '\0';
                return out;
        }
        return NULL;
}

/* Whether a fill of the filesystem of dev (of type type) takes RAM: a
 * tmpfs or ramfs, or an overlay whose upper directory is on one (a live
 * system, a container on tmpfs: the overlay's own type said nothing).
 * An overlay whose upper directory cannot be told is taken for RAM: the
 * bound of min_free_memory holds as well as min_free_disk's. */
static bool in_memory(long type, dev_t dev) {
        if (type_in_memory(type))
                return true;
        if (type != OVERLAYFS_SUPER_MAGIC)
                return false;
        _cleanup_free_ char *upper = overlay_upper(dev);
        struct statfs uf;
        if (!upper || statfs(upper, &uf) < 0)
                return true;
        return type_in_memory((long)uf.f_type) || uf.f_type == OVERLAYFS_SUPER_MAGIC;
}

static void calc_from(const struct fault *f, const struct limits *eff, const struct statvfs *sv, bool in_memory,
                      struct fill_calc *ret) {
        uint64_t bs = sv->f_frsize ? sv->f_frsize : sv->f_bsize;
        struct fill_calc k = {
                .total = (uint64_t)sv->f_blocks * bs,
                .used = (uint64_t)(sv->f_blocks - sv->f_bfree) * bs,
                /* What is free for unprivileged users: what df shows, and
                 * what the host's services have. */
                .avail = (uint64_t)sv->f_bavail * bs,
        };
        k.reserve = reserve_bytes(&eff->min_free_disk, k.total);
        if (f->size)
                k.wanted = f->size;
        else {
                uint64_t want_used = (uint64_t)((unsigned __int128)k.total * f->percent / RATIO_ONE);
                k.wanted = want_used > k.used ? want_used - k.used : 0;
        }
        uint64_t room = k.avail > k.reserve ? k.avail - k.reserve : 0;
        k.in_memory = in_memory;
        if (in_memory) {
                uint64_t mem_total;
                uint64_t mem_room = 0; /* unknown: nothing */
                if (host_meminfo(&mem_total, &k.mem_avail) >= 0) {
                        k.mem_reserve = reserve_bytes(&eff->min_free_memory, mem_total);
                        mem_room = k.mem_avail > k.mem_reserve ? k.mem_avail - k.mem_reserve : 0;
                }
                if (mem_room < room) {
                        room = mem_room;
                        k.mem_capped = k.wanted > room;
                }
        }
        k.allowed = k.wanted < room ? k.wanted : room;
        *ret = k;
}

static int calc(const struct fault *f, const struct limits *eff, struct fill_calc *ret) {
        struct statvfs sv;
        struct statfs sf;
        struct stat st;
        if (!f->path || statvfs(f->path, &sv) < 0 || statfs(f->path, &sf) < 0 || stat(f->path, &st) < 0)
                return f->path ? -errno : -EINVAL;
        calc_from(f, eff, &sv, in_memory((long)sf.f_type, st.st_dev), ret);
        return 0;
}

static char *mib(char buf[static FORMAT_MAX], uint64_t bytes) {
        if (bytes >= 10ULL << 30)
                snprintf(buf, FORMAT_MAX, "%.1fG", (double)bytes / (1 << 30));
        else
                snprintf(buf, FORMAT_MAX, "%.1fM", (double)bytes / (1 << 20));
        return buf;
}

/* Where the host is known at validate time (the directory exists), a fill
 * that would cross min_free_disk is refused before the run. */
static void check_limits(const struct scenario *s, const struct fault *f, struct limit_check *lc) {
        (void)s;
        struct fill_calc k;
        char a[FORMAT_MAX], b[FORMAT_MAX], what[512];
        if (f->percent && lc->eff->min_free_disk.is_share && !f->size &&
            (uint64_t)f->percent + lc->eff->min_free_disk.share > RATIO_ONE) {
                snprintf(what, sizeof what, "percent = %s (of the filesystem used)", format_ratio(a, f->percent));
                lc->over(lc, LIMIT_FREE_DISK, fault_line(f, "percent"), what);
                return;
        }
        if (calc(f, lc->eff, &k) < 0 || k.allowed >= k.wanted)
                return;
        if (k.mem_capped) {
                snprintf(what, sizeof what, "%s = %s on %s, a filesystem in memory, would leave %s of MemAvailable, "
                         "which", f->size ? "size" : "percent", f->size ? mib(a, f->size) : format_ratio(a, f->percent),
                         f->path, mib(b, k.mem_avail > k.wanted ? k.mem_avail - k.wanted : 0));
                lc->over(lc, LIMIT_FREE_MEMORY, fault_line(f, f->size ? "size" : "percent"), what);
                return;
        }
        snprintf(what, sizeof what, "%s = %s would leave %s free of %s on %s, which",
                 f->size ? "size" : "percent", f->size ? mib(a, f->size) : format_ratio(a, f->percent),
                 mib(b, k.avail > k.wanted ? k.avail - k.wanted : 0), mib((char[FORMAT_MAX]){0}, k.total), f->path);
        lc->over(lc, LIMIT_FREE_DISK, fault_line(f, f->size ? "size" : "percent"), what);
}

static int probe(const struct scenario *s, const struct fault *f, char *why, size_t len) {
        (void)s;
        struct stat st;
        if (!f->path || lstat(f->path, &st) < 0) {
                snprintf(why, len, "%s: %s", f->path ? f->path : "?", strerror(errno));
                return -EOPNOTSUPP;
        }
        if (!S_ISDIR(st.st_mode)) {
                snprintf(why, len, "%s is not a directory%s", f->path, S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
                return -EOPNOTSUPP;
        }
        return 0;
}

static void describe(FILE *out, const struct plan *pl, size_t i) {
        const struct fault *f = pl->faults[i].f;
        struct fill_calc k;
        char a[FORMAT_MAX], b[FORMAT_MAX], c[FORMAT_MAX], r[FORMAT_MAX];
        if (calc(f, &pl->eff, &k) < 0) {
                fprintf(out, "      fill %s (cannot read its filesystem now: %s)\n", f->path, strerror(errno));
                return;
        }
        fprintf(out, "      file %s/" FILL_PREFIX "RUN-%s: allocate %s (%s free of %s now -> %s; min_free_disk keeps %s), "
                     "unlinked at the window's end\n", f->path, f->hdr.name, mib(a, k.allowed), mib(b, k.avail),
                mib(c, k.total), mib((char[FORMAT_MAX]){0}, k.avail - k.allowed), mib(r, k.reserve));
        if (k.in_memory)
                fprintf(out, "      %s is in memory: the fill is RAM (MemAvailable %s now; min_free_memory keeps %s)\n",
                        f->path, mib(a, k.mem_avail), mib(b, k.mem_reserve));
}

/* ---- the run ---- */

struct fill_run {
        char *path; /* the directory */
        int dfd;    /* it, held for the window */
        int fd;     /* the fill, held for the window: its revert truncates it */
        uint64_t allocated, avail0, avail1;
        bool capped;
};

static void fill_run_free(void *p) {
        struct fill_run *q = p;
        if (!q)
                return;
        free(q->path);
        if (q->dfd >= 0)
                close(q->dfd);
        if (q->fd >= 0)
                close(q->fd);
        free(q);
}

static void dev_string(dev_t dev, char buf[static 16]) {
        snprintf(buf, 16, "%u:%u", major(dev), minor(dev));
}

/* The filesystem's statfs id (ext4, btrfs: from its UUID), 0 when none:
 * unlike the device number, a reboot keeps it. */
static uint64_t fsid_of(int fd) {
        struct statfs sf;
        uint64_t v = 0;
        _Static_assert(sizeof sf.f_fsid == sizeof v, "fsid_t is 64 bits");
        if (fstatfs(fd, &sf) == 0)
                memcpy(&v, &sf.f_fsid, sizeof v);
        return v;
}

static uint64_t avail_of(int dfd) {
        struct statvfs sv;
        if (fstatvfs(dfd, &sv) < 0)
                return 0;
        return (uint64_t)sv.f_bavail * (sv.f_frsize ? sv.f_frsize : sv.f_bsize);
}

/* The fill shrunk FILL_STEP at a time down to one step, the guardian
 * told between them (the revert's truncate frees the rest). */
static void give_back(struct fault_ctx *c, int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return;
        for (uint64_t sz = (uint64_t)st.st_size; sz > FILL_STEP;) {
                sz -= FILL_STEP;
                if (ftruncate(fd, (off_t)sz) < 0)
                        break;
                fault_beat(c);
        }
}

static int apply(struct fault_ctx *c, struct fault_run *fr) {
        const struct fault *f = fr->f;
        char a[FORMAT_MAX], b[FORMAT_MAX], name[NAME_MAX + 1];
        if (!c->j->run_id ||
            snprintf(name, sizeof name, FILL_PREFIX "%s-%s", c->j->run_id, f->hdr.name) >= (int)sizeof name)
                return fault_fail(fr, -ENAMETOOLONG, "the file's name is too long");
        struct fill_run *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->dfd = q->fd = -1;
        fr->priv = q;
        fr->priv_free = fill_run_free;
        if (!(q->path = strdup(f->path)))
                return -ENOMEM;
        /* The directory is opened once, by the walk that checks it and
         * every one above it (validate's check, again now); everything
         * after is relative to it. */
        char why[PATH_MAX + 256];
        int wr = dir_walk(f->path, &q->dfd, why, sizeof why);
        if (walk_refused(wr))
                return fault_fail(fr, wr, "refusing %s: %s", f->path, why);
        if (wr < 0)
                return fault_fail(fr, wr, "cannot open directory %s", f->path);
        struct stat dst;
        struct statvfs sv;
        struct statfs sf;
        if (fstat(q->dfd, &dst) < 0 || fstatvfs(q->dfd, &sv) < 0 || fstatfs(q->dfd, &sf) < 0)
                return -errno;
        /* Checked again now: the disk (or memory) may have filled since
         * the plan. */
        struct fill_calc k;
        calc_from(f, &c->pl->eff, &sv, in_memory((long)sf.f_type, dst.st_dev), &k);
        q->avail0 = q->avail1 = k.avail;
        if (k.allowed == 0) {
                if (k.wanted == 0) {
                        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s is already %s used: nothing to fill", f->path,
                                    format_ratio(a, (ratio_t)((unsigned __int128)k.used * RATIO_ONE / (k.total ? k.total : 1))));
                        return 0;
                }
                if (k.in_memory && k.mem_avail <= k.mem_reserve + k.avail)
                        return fault_fail(fr, -ENOSPC, "%s is in memory and MemAvailable is %s, no more than "
                                          "min_free_memory keeps (%s): nothing may be filled", f->path,
                                          mib(a, k.mem_avail), mib(b, k.mem_reserve));
                return fault_fail(fr, -ENOSPC, "%s has %s free, no more than min_free_disk keeps (%s): nothing "
                                  "may be filled", f->path, mib(a, k.avail), mib(b, k.reserve));
        }
        q->capped = k.allowed < k.wanted;
        /* The file is made unnamed (O_TMPFILE) and held open for the
         * window, by the runner and by the guardian: the revert truncates
         * it through that fd, which frees its blocks whatever its name has
         * become (renamed away, linked elsewhere, its directory swapped),
         * then unlinks the name if it is still the file's. */
        int fd = q->fd = openat(q->dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                return fault_fail(fr, -errno, "cannot make a file in %s%s", f->path,
                                  errno == EOPNOTSUPP ? " (its filesystem has no O_TMPFILE)" : "");
        struct stat fst;
        if (fstat(fd, &fst) < 0)
                return -errno;
        if (c->guardian_hold) {
                int g = c->guardian_hold(c->ud, fd);
                if (g < 0)
                        return fault_fail(fr, g, "cannot hand the fill to the guardian");
        }
        char dev[16];
        dev_string(dst.st_dev, dev);
        /* The record for after a reboot, while there is room: journaled
         * first (its revert removes it), written and made durable once
         * the file is named (still empty), before anything is allocated:
         * a record says its file had that name. */
        const char *rname = name + strlen(FILL_PREFIX);
        /* Absolute: abort and recover revert from other directories. */
        char state[PATH_MAX], cwd[PATH_MAX];
        bool rel = c->state_dir && c->state_dir[0] != '/';
        if (!c->state_dir || (rel && !getcwd(cwd, sizeof cwd)) ||
            snprintf(state, sizeof state, "%s%s%s", rel ? cwd : "", rel ? "/" : "", c->state_dir) >= (int)sizeof state)
                return fault_fail(fr, -EINVAL, "no state dir to record the fill in");
        struct jentry er = {.kind = "disk-fill-rec", .cgroup = state, .name = f->hdr.name, .value = (char *)rname};
        int r = journal_apply(c->j, &er);
        if (r >= 0)
                r = fault_track(fr, er.seq);
        if (r < 0)
                return r;
        /* The file's own entry before it has a name (after the record's:
         * reverted first): a crash between the name and the record then
         * leaves an entry whose revert unlinks the name (before, nothing
         * did: an empty file stayed for good). Before the name exists, its
         * revert finds nothing to do. */
        struct jentry e = {.kind = "disk-fill", .cgroup = f->path, .name = f->hdr.name, .value = name,
                           .netns = dst.st_ino, .start = fst.st_ino};
        memcpy(e.dev, dev, sizeof e.dev);
        r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                return r;
        /* Its name, in the directory checked above (linkat of the fd
         * through /proc: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, q->dfd, name, AT_SYMLINK_FOLLOW) < 0)
                return fault_fail(fr, -errno, "cannot name the fill %s/%s", f->path, name);
        struct fill_id id = {.path = f->path, .fsid = fsid_of(q->dfd), .dir_ino = dst.st_ino, .name = name,
                             .ino = fst.st_ino, .uid = geteuid()};
        memcpy(id.dev, dev, sizeof id.dev);
        r = record_write(state, rname, c->j, &id);
        if (r < 0) {
                (void)unlinkat(q->dfd, name, 0);
                bool trust = r == -EPERM || r == -ELOOP;
                return fault_fail(fr, r, "cannot record the fill in %s/" FILLS_DIR " (where it is found after a "
                                  "reboot)%s%s", state, trust ? ": " : "", trust ? trust_last() : "");
        }
        /* In steps, the guardian told between them: one fallocate of
         * gigabytes took 20 s on a loaded tmpfs, past its grace, and the
         * runner was taken for hung and killed. */
        for (uint64_t done = 0; done < k.allowed;) {
                uint64_t step = k.allowed - done < FILL_STEP ? k.allowed - done : FILL_STEP;
                if (fallocate(fd, 0, (off_t)done, (off_t)step) < 0) {
                        int e = -errno;
                        /* What it took goes back in steps as well: the
                         * failed fault is not finished, and its revert's
                         * one truncate could outlast the grace. */
                        give_back(c, fd);
                        return fault_fail(fr, e, "fallocate of %s on %s", mib(a, k.allowed), f->path);
                }
                done += step;
                fault_beat(c);
        }
        /* Others write too: if the reserve was crossed meanwhile, give
         * back what crossed it. */
        uint64_t now = avail_of(q->dfd);
        if (now < k.reserve) {
                uint64_t give = k.reserve - now;
                uint64_t keep = give < k.allowed ? k.allowed - give : 0;
                if (ftruncate(fd, (off_t)keep) >= 0) {
                        k.allowed = keep;
                        q->capped = true;
                }
                now = avail_of(q->dfd);
        }
        q->allocated = k.allowed;
        q->avail1 = now;
        fr->strikes = 1;
        fr->hits = (unsigned)(k.allowed >> 20);
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "allocated %s in %s/%s%s: %s free -> %s (min_free_disk keeps %s)",
                    mib(a, k.allowed), f->path, name, q->capped ? " (capped by min_free_disk)" : "",
                    mib(b, q->avail0), mib((char[FORMAT_MAX]){0}, now), mib((char[FORMAT_MAX]){0}, k.reserve));
        return 0;
}

static void finish(struct fault_ctx *c, struct fault_run *fr) {
        const struct fill_run *q = fr->priv;
        char a[FORMAT_MAX], b[FORMAT_MAX], d[FORMAT_MAX];
        /* Given back in steps too, the guardian told between them, before
         * the revert's truncate to nothing: freeing gigabytes of a tmpfs
         * in one call outlasted the guardian's grace as well (6 GiB: the
         * runner was killed as hung at the window's end). */
        if (q && q->fd >= 0)
                give_back(c, q->fd);
        if (!q || !q->allocated)
                snprintf(fr->outcome, sizeof fr->outcome, "nothing allocated");
        else
                snprintf(fr->outcome, sizeof fr->outcome, "allocated %s in %s%s: free %s -> %s", mib(a, q->allocated),
                         q->path, q->capped ? " (capped by min_free_disk)" : "", mib(b, q->avail0), mib(d, q->avail1));
}

static void progress(struct fault_run *fr, char *buf, size_t len) {
        const struct fill_run *q = fr->priv;
        char a[FORMAT_MAX], b[FORMAT_MAX];
        if (!q || !q->allocated)
                snprintf(buf, len, "nothing allocated");
        else
                snprintf(buf, len, "allocated %s, %s free now", mib(a, q->allocated), mib(b, avail_of(q->dfd)));
}

/* ---- the revert, from the entry alone ---- */

static bool fill_name_ok(const char *name) {
        return name && strncmp(name, FILL_PREFIX, strlen(FILL_PREFIX)) == 0 && !strchr(name, '/') &&
               strlen(name) > strlen(FILL_PREFIX);
}

/* Unlink id's file if its name is still that file: 1 when unlinked, 0
 * when already gone (the directory or the name), -ESTALE when something
 * else is there now, another negative errno when it cannot tell; why
 * says what was left and why. Relative to the directory opened without
 * following a link and checked to be the one recorded (by_fsid: by its
 * device or, after a reboot, its filesystem's id); the name is checked
 * without following it. Between the check and the unlink only someone
 * who may write the directory can swap the name, and then what goes is
 * a name of theirs (never a file through a link; in a sticky directory
 * such as /var/tmp nobody else can rename root's file at all). */
static int fill_unlink(const struct fill_id *id, bool by_fsid, char *why, size_t len) {
        if (!fill_name_ok(id->name)) {
                snprintf(why, len, "%s is not a sabot fill's name", id->name ? id->name : "(none)");
                return -EBADMSG;
        }
        if (!id->path || id->path[0] != '/' || !id->dev[0] || !id->dir_ino || !id->ino) {
                snprintf(why, len, "the directory or the file is not recorded");
                return -EBADMSG;
        }
        _cleanup_close_ int dfd = open(id->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* The directory is gone (and the file with it, unless it was moved
         * away: the caller tells). */
        if (dfd < 0 && errno == ENOENT) {
                snprintf(why, len, "%s is gone", id->path);
                return 0;
        }
        if (dfd < 0) {
                int r = -errno;
                struct stat lst;
                /* O_DIRECTORY before O_NOFOLLOW: a link is ENOTDIR too. */
                bool link = r == -ELOOP || (r == -ENOTDIR && lstat(id->path, &lst) == 0 && S_ISLNK(lst.st_mode));
                snprintf(why, len, "%s %s", id->path,
                         link ? "is a symbolic link" : r == -ENOTDIR ? "is not a directory" : strerror(-r));
                return r == -ELOOP || r == -ENOTDIR ? -ESTALE : r;
        }
        struct stat dst, st;
        char dev[16];
        if (fstat(dfd, &dst) < 0) {
                snprintf(why, len, "%s: %s", id->path, strerror(errno));
                return -errno;
        }
        dev_string(dst.st_dev, dev);
        /* Another directory at that path (a link or a rename in the way):
         * the file, if any, is not where it was recorded; nothing here is
         * sabot's to unlink. */
        bool same_fs = streq(dev, id->dev) || (by_fsid && id->fsid && fsid_of(dfd) == id->fsid);
        if (!same_fs || dst.st_ino != id->dir_ino) {
                snprintf(why, len, "%s is another directory (device %s inode %llu; the fill's was %s inode %llu)",
                         id->path, dev, (unsigned long long)dst.st_ino, id->dev, (unsigned long long)id->dir_ino);
                return -ESTALE;
        }
        if (fstatat(dfd, id->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT) {
                        snprintf(why, len, "its name is gone from %s", id->path);
                        return 0;
                }
                snprintf(why, len, "%s", strerror(errno));
                return -errno;
        }
        /* Only the file recorded: a regular file of root's, by its inode. */
        if (S_ISLNK(st.st_mode))
                snprintf(why, len, "a symbolic link, not the file sabot made");
        else if (!S_ISREG(st.st_mode))
                snprintf(why, len, "not a regular file (mode %o), not the file sabot made", (unsigned)st.st_mode);
        else if (st.st_dev != dst.st_dev)
                snprintf(why, len, "another filesystem is mounted on it");
        else if (st.st_uid != id->uid || id->uid != geteuid())
                snprintf(why, len, "owned by uid %u, not the file sabot made", (unsigned)st.st_uid);
        else if (st.st_ino != id->ino)
                snprintf(why, len, "another file (inode %llu; the fill was inode %llu)", (unsigned long long)st.st_ino,
                         (unsigned long long)id->ino);
        else {
                if (unlinkat(dfd, id->name, 0) < 0) {
                        if (errno == ENOENT) {
                                snprintf(why, len, "its name is gone from %s", id->path);
                                return 0;
                        }
                        snprintf(why, len, "%s", strerror(errno));
                        return -errno;
                }
                /* Durable before its record goes. */
                (void)fsync(dfd);
                return 1;
        }
        return -ESTALE;
}

/* One of pid's fds (pfd its pidfd, taken with pidfd_getfd; pfd < 0: our
 * own) that is the fill dev:ino, a regular file of ours: a duplicate of
 * it, or -1. */
static int held_by(int pfd, pid_t pid, dev_t dev, uint64_t ino) {
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/fd", pfd < 0 ? (int)getpid() : (int)pid);
        DIR *d = opendir(dir);
        if (!d)
                return -1;
        int found = -1;
        for (struct dirent *de; found < 0 && (de = readdir(d));) {
                char *end;
                long n = strtol(de->d_name, &end, 10);
                if (*end || end == de->d_name || n < 0 || n > INT32_MAX || (pfd < 0 && n == dirfd(d)))
                        continue;
                int fd = pfd < 0 ? fcntl((int)n, F_DUPFD_CLOEXEC, 0) : sys_pidfd_getfd(pfd, (int)n);
                if (fd < 0)
                        continue;
                struct stat st;
                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev && st.st_ino == ino &&
                    st.st_uid == geteuid())
                        found = fd;
                else
                        close(fd);
        }
        closedir(d);
        return found;
}

/* The fill's file through an fd that a process of its run still holds:
 * ours (the runner reverting, or the guardian, which was handed one),
 * else the runner's or the guardian's (sabot abort, from another
 * process), each known by its pid and start time. -1 when none does. */
static int held_fd(const struct journal *j, const struct fill_id *id) {
        unsigned maj, mnr;
        char tail;
        if (sscanf(id->dev, "%u:%u%c", &maj, &mnr, &tail) != 2)
                return -1;
        dev_t dev = makedev(maj, mnr);
        int fd = held_by(-1, 0, dev, id->ino);
        for (int i = 0; fd < 0 && j && i < 2; i++) {
                pid_t pid = i ? j->guardian_pid : j->runner_pid;
                uint64_t start = i ? j->guardian_start : j->runner_start;
                if (pid <= 0 || pid == getpid())
                        continue;
                int pfd = sys_pidfd_open(pid);
                /* Checked once its pidfd holds the pid: the same process. */
                if (pfd >= 0 && process_alive(pid, start))
                        fd = held_by(pfd, pid, dev, id->ino);
                if (pfd >= 0)
                        close(pfd);
        }
        return fd;
}

/* What the last revert here left, for describe_entry / describe_record
 * (abort and recover print them after the revert). */
static struct {
        char kind[16];
        unsigned seq;
        char value[NAME_MAX * 2]; /* the fill's name, or its record's: the run's id is in it */
        bool freed; /* truncated through a held fd */
        char why[PATH_MAX + 512];
} last;

static void last_set(const struct jentry *e, bool freed, const char *why) {
        snprintf(last.kind, sizeof last.kind, "%s", e->kind);
        last.seq = e->seq;
        snprintf(last.value, sizeof last.value, "%s", e->value ? e->value : "");
        last.freed = freed;
        snprintf(last.why, sizeof last.why, "%s", why);
}

static const char *last_why(const struct jentry *e, bool *freed) {
        bool same = last.seq == e->seq && streq(last.kind, e->kind) && e->value && streq(last.value, e->value);
        *freed = same && last.freed;
        return same && last.why[0] ? last.why : NULL;
}

/* Free id's file: truncated to nothing through an fd its run still holds
 * (whatever its name is now: renamed, linked elsewhere, its directory
 * swapped: the blocks go with the truncate), then its name unlinked if it
 * is still the file (fill_unlink: its failure is still the result, the
 * space back or not). With no such fd (runner and guardian
 * dead: recover), only the checked unlink; then a name or directory gone
 * is, with named, a failure: the record says the file had that name, so
 * someone moved it away (its blocks stay taken) or removed it, and which
 * cannot be told. 1 when freed, 0 when nothing was there, or fill_unlink's
 * negative errno with why. */
/* The fills this process freed or unlinked (dev, inode): the record's
 * revert, after the entry's, then finds the name gone for a known reason. */
static struct {
        char dev[16];
        uint64_t ino;
} done_here[32];
static size_t n_done_here;

static void done_add(const struct fill_id *id) {
        size_t i = n_done_here < ELEMENTSOF(done_here) ? n_done_here++ : (n_done_here++ % ELEMENTSOF(done_here));
        memcpy(done_here[i].dev, id->dev, sizeof done_here[i].dev);
        done_here[i].ino = id->ino;
}

static bool done_find(const struct fill_id *id) {
        for (size_t i = 0; i < n_done_here && i < ELEMENTSOF(done_here); i++)
                if (done_here[i].ino == id->ino && streq(done_here[i].dev, id->dev))
                        return true;
        return false;
}

static int fill_free(const struct journal *j, const struct fill_id *id, bool by_fsid, bool named, bool *ret_freed,
                     char *why, size_t len) {
        why[0] = '\0';
        int hfd = held_fd(j, id);
        bool freed = hfd >= 0 && ftruncate(hfd, 0) == 0;
        if (hfd >= 0)
                close(hfd);
        *ret_freed = freed;
        char uwhy[PATH_MAX + 256] = "";
        int r = fill_unlink(id, by_fsid, uwhy, sizeof uwhy);
        if (freed || r > 0)
                done_add(id);
        if (freed) {
                /* The space is back; a name that is not the file's is not
                 * ours to touch, and the revert still fails for it: the
                 * name (an empty file) is left, and recover retries. */
                if (r < 0) {
                        snprintf(why, len, "its space is back (truncated through the fd its run held), but %s", uwhy);
                        return r;
                }
                return 1;
        }
        if (r == 0 && named && uwhy[0] && !done_find(id)) {
                snprintf(why, len, "%s and no process holds the file (inode %llu on device %s) open: someone who "
                         "may write a directory on its path moved it away, and its blocks stay taken until it is "
                         "removed, or removed it", uwhy, (unsigned long long)id->ino, id->dev);
                return -ESTALE;
        }
        snprintf(why, len, "%s", uwhy);
        return r;
}

static int revert_in(const struct journal *j, const struct jentry *e) {
        if (!e->cgroup || !e->value)
                return -EBADMSG;
        struct fill_id id = {.path = e->cgroup, .dir_ino = e->netns, .name = e->value, .ino = e->start,
                             .uid = geteuid()};
        memcpy(id.dev, e->dev, sizeof id.dev);
        char why[PATH_MAX + 512];
        bool freed;
        /* Not named: a name gone is the record's to report (its entry is
         * reverted next, from the record that outlives this journal). */
        int r = fill_free(j, &id, false, false, &freed, why, sizeof why);
        last_set(e, freed, r < 0 ? why : "");
        return r < 0 ? r : 0;
}

static int revert(const struct jentry *e) { return revert_in(journal_reverting(), e); }

static void describe_entry(const struct jentry *e, char *buf, size_t len) {
        bool freed;
        const char *why = last_why(e, &freed);
        if (why)
                snprintf(buf, len, "left %s/%s: %s", e->cgroup ? e->cgroup : "?", e->value ? e->value : "?", why);
        else
                snprintf(buf, len, "removed %s/%s", e->cgroup ? e->cgroup : "?", e->value ? e->value : "?");
}

/* ---- the record in the state dir, for after a reboot ---- */

struct fill_rec {
        char *run, *path, *name;
        pid_t pid; /* the runner, and its start time */
        uint64_t start;
        struct fill_id id;
};

static void fill_rec_done(struct fill_rec *r) {
        free(r->run);
        free(r->path);
        free(r->name);
        *r = (struct fill_rec){0};
}

static int record_write(const char *state, const char *rname, const struct journal *j, const struct fill_id *id) {
        _cleanup_close_ int sfd = -1, dfd = -1;
        char path[PATH_MAX * 3], name[NAME_MAX * 3 + 1], run[NAME_MAX * 3 + 1];
        int r = dirs_open(state, true, &sfd);
        if (r < 0)
                return r;
        dfd = openat_dir_trusted(sfd, state, FILLS_DIR, true, 0700);
        if (dfd < 0)
                return dfd;
        (void)fsync(sfd); /* FILLS_DIR itself, when it was just made */
        journal_encode(id->path, path, sizeof path);
        journal_encode(id->name, name, sizeof name);
        journal_encode(j->run_id ? j->run_id : "-", run, sizeof run);
        FILE *f = replace_fopen(dfd, rname, 0600);
        if (!f)
                return -errno;
        fprintf(f, RECORD_HEAD "run=%s pid=%d start=%llu path=%s dev=%s fsid=%llx dir_ino=%llu name=%s ino=%llu "
                   "uid=%u .\n", run, (int)j->runner_pid, (unsigned long long)j->runner_start, path, id->dev,
                (unsigned long long)id->fsid, (unsigned long long)id->dir_ino, name, (unsigned long long)id->ino,
                (unsigned)id->uid);
        return replace_fclose(dfd, f, rname, true);
}

static bool parse_u64(const char *v, int base, uint64_t *ret) {
        char *end;
        if (!isxdigit((unsigned char)*v) || (base == 10 && !isdigit((unsigned char)*v)))
                return false;
        errno = 0;
        unsigned long long n = strtoull(v, &end, base);
        if (errno || *end)
                return false;
        *ret = n;
        return true;
}

/* One key=value of a record into rec: false when it is not a valid one. */
static bool record_field(struct fill_rec *rec, const char *k, const char *v) {
        uint64_t n;
        if (streq(k, "run"))
                return !rec->run && (rec->run = journal_decode(v));
        if (streq(k, "path"))
                return !rec->path && (rec->path = journal_decode(v));
        if (streq(k, "name"))
                return !rec->name && (rec->name = journal_decode(v));
        if (streq(k, "dev")) {
                if (strlen(v) >= sizeof rec->id.dev)
                        return false;
                memcpy(rec->id.dev, v, strlen(v) + 1);
                return true;
        }
        if (streq(k, "pid")) {
                if (!parse_u64(v, 10, &n) || n > INT32_MAX)
                        return false;
                rec->pid = (pid_t)n;
                return true;
        }
        if (streq(k, "uid")) {
                if (!parse_u64(v, 10, &n) || n >= UINT32_MAX)
                        return false;
                rec->id.uid = (uid_t)n;
                return true;
        }
        if (streq(k, "start"))
                return parse_u64(v, 10, &rec->start);
        if (streq(k, "fsid"))
                return parse_u64(v, 16, &rec->id.fsid);
        if (streq(k, "dir_ino"))
                return parse_u64(v, 10, &rec->id.dir_ino);
        if (streq(k, "ino"))
                return parse_u64(v, 10, &rec->id.ino);
        return true; /* a key a later version adds */
}

/* Read DFD/RNAME (root's alone, never through a link) into rec. */
static int record_read(int dfd, const char *shown, const char *rname, struct fill_rec *rec, char *why, size_t len) {
        *rec = (struct fill_rec){.id.uid = (uid_t)-1};
        _cleanup_close_ int fd = openat_trusted(dfd, shown, rname, O_RDONLY | O_NONBLOCK, 0);
        if (fd < 0) {
                snprintf(why, len, "%s", fd == -EPERM || fd == -ELOOP ? trust_last() : strerror(-fd));
                return fd;
        }
        _cleanup_free_ char *buf = NULL;
        size_t l = 0;
        int r = read_full_fd(fd, 64 * 1024, &buf, &l);
        if (r < 0) {
                snprintf(why, len, "%s", strerror(-r));
                return r;
        }
        while (l && buf[l - 1] == '\n')
                buf[--l] = '\0';
        bool ok = l == strlen(buf) && strncmp(buf, RECORD_HEAD, strlen(RECORD_HEAD)) == 0 && l >= 2 &&
                  strcmp(buf + l - 2, " .") == 0;
        if (ok)
                buf[l - 2] = '\0';
        for (char *save = NULL, *t = ok ? strtok_r(buf + strlen(RECORD_HEAD), " ", &save) : NULL; ok && t;
             t = strtok_r(NULL, " ", &save)) {
                char *v = strchr(t, '=');
                if (!(ok = v != NULL))
                        break;
                *v++ = '\0';
                ok = record_field(rec, t, v);
        }
        rec->id.path = rec->path;
        rec->id.name = rec->name;
        if (!ok || !rec->run || !rec->path || !rec->name || rec->id.uid == (uid_t)-1) {
                fill_rec_done(rec);
                snprintf(why, len, "not a whole disk-fill record");
                return -EBADMSG;
        }
        return 0;
}

static int open_fills(const char *state, int *ret_fd) {
        _cleanup_close_ int sfd = -1;
        int r = dirs_open(state, false, &sfd);
        if (r < 0)
                return r;
        int fd = openat_dir_trusted(sfd, state, FILLS_DIR, false, 0);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* The record DFD/RNAME acted on: its file freed (fill_free: truncated
 * through an fd of j's runner or guardian where one is alive, unlinked if
 * it is still there and still the one recorded), then the record removed.
 * What fill_free returns. */
static int record_act(const struct journal *j, int dfd, const char *shown, const char *rname,
                      const struct fill_rec *rec, char *why, size_t len) {
        bool freed;
        int r = fill_free(j, &rec->id, true, true, &freed, why, len);
        if (r < 0)
                return r;
        if (unlinkat(dfd, rname, 0) < 0 && errno != ENOENT) {
                r = -errno;
                snprintf(why, len, "cannot remove its record %s/%s: %s", shown, rname, strerror(errno));
                return r;
        }
        (void)fsync(dfd);
        return r;
}

/* The "disk-fill-rec" entry: the state dir (cgroup) and the record's name
 * (value). The "disk-fill" entry, newer, has unlinked the file by then;
 * what is left is the record, or a file the checks refuse. */
static int revert_record_in(const struct journal *j, const struct jentry *e) {
        if (!e->cgroup || !e->value || strchr(e->value, '/') || e->value[0] == '.')
                return -EBADMSG;
        _cleanup_close_ int dfd = -1;
        int r = open_fills(e->cgroup, &dfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char shown[PATH_MAX], why[PATH_MAX + 512] = "";
        snprintf(shown, sizeof shown, "%s/" FILLS_DIR, e->cgroup);
        struct fill_rec rec;
        r = record_read(dfd, shown, e->value, &rec, why, sizeof why);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                r = record_act(j, dfd, shown, e->value, &rec, why, sizeof why);
        if (r > 0 && rec.path) {
                char w[sizeof last.why];
                snprintf(w, sizeof w, "removed %s/%s and dropped its record %s/%s", rec.path, rec.name, shown, e->value);
                last_set(e, true, w);
        } else if (r < 0 && rec.path) {
                char w[sizeof last.why];
                snprintf(w, sizeof w, "%s/%s: %s; record kept: %s/%s (remove it once that is dealt with)", rec.path,
                         rec.name, why, shown, e->value);
                last_set(e, false, w);
        } else
                last_set(e, false, r < 0 ? why : "");
        fill_rec_done(&rec);
        return r < 0 ? r : 0;
}

static int revert_record(const struct jentry *e) { return revert_record_in(journal_reverting(), e); }

static void describe_record(const struct jentry *e, char *buf, size_t len) {
        bool freed;
        const char *why = last_why(e, &freed);
        if (why)
                snprintf(buf, len, "%s%s", freed ? "" : "left ", why);
        else
                snprintf(buf, len, "dropped its record %s/" FILLS_DIR "/%s", e->cgroup ? e->cgroup : "?",
                         e->value ? e->value : "?");
}

static bool run_live(struct journal *const *live, size_t n_live, const char *run) {
        for (size_t i = 0; i < n_live; i++)
                if (live[i]->run_id && streq(live[i]->run_id, run))
                        return true;
        return false;
}

/* recover: every record that no live run holds (by its journal here, or
 * its runner for another run dir); after a reboot, all of them. */
static int sweep_state(const char *state, struct journal *const *live, size_t n_live,
                       void (*report)(const char *what, int err, void *ud), void *ud, unsigned *ret_failed) {
        *ret_failed = 0;
        _cleanup_close_ int dfd = -1;
        int r = open_fills(state, &dfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        char shown[PATH_MAX];
        snprintf(shown, sizeof shown, "%s/" FILLS_DIR, state);
        int lfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
        DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
        if (!dir) {
                r = -errno;
                if (lfd >= 0)
                        close(lfd);
                return r;
        }
        int removed = 0;
        for (struct dirent *de; (de = readdir(dir));) {
                const char *n = de->d_name;
                size_t l = strlen(n);
                if (n[0] == '.')
                        continue;
                /* A record a crash cut short: its file was never named. */
                if (l > 4 && streq(n + l - 4, ".tmp")) {
                        (void)unlinkat(dfd, n, 0);
                        continue;
                }
                char what[PATH_MAX * 3 + 512], why[PATH_MAX + 256] = "";
                struct fill_rec rec;
                r = record_read(dfd, shown, n, &rec, why, sizeof why);
                if (r == -ENOENT)
                        continue;
                if (r >= 0 && (run_live(live, n_live, rec.run) || process_alive(rec.pid, rec.start))) {
                        fill_rec_done(&rec);
                        continue; /* a live run's */
                }
                if (r >= 0)
                        r = record_act(NULL, dfd, shown, n, &rec, why, sizeof why);
                if (r >= 0) {
                        snprintf(what, sizeof what, r > 0 ? "%s/%s (a disk-fill of run %s)"
                                                          : "the record of %s/%s (run %s; the file was already gone)",
                                 rec.path, rec.name, rec.run);
                        removed++;
                } else if (rec.path)
                        snprintf(what, sizeof what, "left %s/%s: %s; record kept: %s/%s (remove it once that is dealt "
                                 "with)", rec.path, rec.name, why, shown, n);
                else
                        snprintf(what, sizeof what, "refusing the disk-fill record %s/%s: %s; nothing it names is "
                                 "touched", shown, n, why);
                if (r < 0)
                        ++*ret_failed;
                report(what, r < 0 ? r : 0, ud);
                fill_rec_done(&rec);
        }
        closedir(dir);
        return removed;
}

static void doctor(doctor_row_fn row, void *ud) {
        row(ud, "disk-fill (fallocate)", "", NULL, false);
}

static const struct fault_backend backend = {
        .title = "disk fill", .doctor = doctor, .sweep_state = sweep_state, .sweep_what = "disk fills"};

/* "disk-fill-rec" is journaled first, so reverted last (newest first). */
static const struct jentry_kind entries[] = {
        {"disk-fill", revert, describe_entry, false}, {"disk-fill-rec", revert_record, describe_record, false}, {NULL}};

const struct fault_ops disk_fill_ops = {
        .kind = {.name = "disk-fill", .summary = "fills a directory's filesystem with a sabot-named file for the window",
                 .keys = keys, .key_docs = key_docs, .check = check, .entries = entries},
        .check_limits = check_limits,
        .backend = &backend,
        .probe = probe,
        .describe = describe,
        .counter_names = {"fills", "mib"},
        .apply = apply,
        .finish = finish,
        .progress = progress,
};
