/* SPDX-License-Identifier: MIT */
/* disk-fill: a sabot-named file in a directory, grown with fallocate to a
 * share of its filesystem (percent = 90%: until 90% of it is used) or by a
 * size, never past the policy's min_free_disk; the revert unlinks it.
 *
 * The journal lives on /run (tmpfs): a full disk never blocks the revert,
 * and an unlink needs no space. The file is recorded before it gets its
 * name (the directory's path, device and inode; the file's name and
 * inode): it is made unnamed, and a crash before it is named frees it.
 * The revert acts relative to the
 * directory opened without following a link and checked to be the one
 * recorded, and unlinks the name only if it is the file recorded: a
 * directory or a file swapped for a link (or another one) between apply
 * and revert makes it refuse, never unlink something else. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "fault.h"

static const char *const keys[] = {"path", "percent", "size", NULL};

static const struct fault_key_doc key_docs[] = {
        {"path", "required", "the directory (not a link to one) whose filesystem is filled"},
        {"percent", "none",
         "fill until this share of the filesystem is used; one of percent and size; never past the policy's min_free_disk"},
        {NULL},
};

#define FILL_PREFIX ".sabot-fill-"

static void check(struct scenario *s, struct fault *f, struct diags *d) {
        if (f->target)
                diag_error(d, s->file, fault_line(f, "target"), "type = disk-fill fills a directory's filesystem, "
                           "not a target's: remove 'target'");
        fault_require(s, f, "path", " (the directory whose filesystem it fills, e.g. /var/tmp)", d);
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
};

static void calc_from(const struct fault *f, const struct limits *eff, const struct statvfs *sv,
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
        k.allowed = k.wanted < room ? k.wanted : room;
        *ret = k;
}

static int calc(const struct fault *f, const struct limits *eff, struct fill_calc *ret) {
        struct statvfs sv;
        if (!f->path || statvfs(f->path, &sv) < 0)
                return f->path ? -errno : -EINVAL;
        calc_from(f, eff, &sv, ret);
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
}

/* ---- the run ---- */

struct fill_run {
        char *path; /* the directory */
        int dfd;    /* it, held for the window */
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
        free(q);
}

static void dev_string(dev_t dev, char buf[static 16]) {
        snprintf(buf, 16, "%u:%u", major(dev), minor(dev));
}

static uint64_t avail_of(int dfd) {
        struct statvfs sv;
        if (fstatvfs(dfd, &sv) < 0)
                return 0;
        return (uint64_t)sv.f_bavail * (sv.f_frsize ? sv.f_frsize : sv.f_bsize);
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
        q->dfd = -1;
        fr->priv = q;
        fr->priv_free = fill_run_free;
        if (!(q->path = strdup(f->path)))
                return -ENOMEM;
        /* The directory is opened once, never through a link in its last
         * component; everything after is relative to it. */
        q->dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (q->dfd < 0)
                return fault_fail(fr, -errno, "cannot open directory %s", f->path);
        struct stat dst;
        struct statvfs sv;
        if (fstat(q->dfd, &dst) < 0 || fstatvfs(q->dfd, &sv) < 0)
                return -errno;
        /* Checked again now: the disk may have filled since the plan. */
        struct fill_calc k;
        calc_from(f, &c->pl->eff, &sv, &k);
        q->avail0 = q->avail1 = k.avail;
        if (k.allowed == 0) {
                if (k.wanted == 0) {
                        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s is already %s used: nothing to fill", f->path,
                                    format_ratio(a, (ratio_t)((unsigned __int128)k.used * RATIO_ONE / (k.total ? k.total : 1))));
                        return 0;
                }
                return fault_fail(fr, -ENOSPC, "%s has %s free, no more than min_free_disk keeps (%s): nothing "
                                  "may be filled", f->path, mib(a, k.avail), mib(b, k.reserve));
        }
        q->capped = k.allowed < k.wanted;
        /* The file is made unnamed (O_TMPFILE) and grown first: until it
         * is linked, a crash frees it with the fd. Its inode is journaled
         * before it gets its name, so the one record says exactly which
         * file the revert may unlink. */
        _cleanup_close_ int fd = openat(q->dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                return fault_fail(fr, -errno, "cannot make a file in %s%s", f->path,
                                  errno == EOPNOTSUPP ? " (its filesystem has no O_TMPFILE)" : "");
        struct stat fst;
        if (fstat(fd, &fst) < 0)
                return -errno;
        char dev[16];
        dev_string(dst.st_dev, dev);
        struct jentry e = {.kind = "disk-fill", .cgroup = f->path, .name = f->hdr.name, .value = name,
                           .netns = dst.st_ino, .start = fst.st_ino};
        memcpy(e.dev, dev, sizeof e.dev);
        int r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                return r;
        if (fallocate(fd, 0, 0, (off_t)k.allowed) < 0)
                return fault_fail(fr, -errno, "fallocate of %s on %s", mib(a, k.allowed), f->path);
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
        /* Its name, in the directory opened above (linkat of the fd
         * through /proc: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH). */
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (linkat(AT_FDCWD, proc, q->dfd, name, AT_SYMLINK_FOLLOW) < 0)
                return fault_fail(fr, -errno, "cannot name the fill %s/%s", f->path, name);
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
        (void)c;
        const struct fill_run *q = fr->priv;
        char a[FORMAT_MAX], b[FORMAT_MAX], d[FORMAT_MAX];
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

static int revert(const struct jentry *e) {
        if (!e->cgroup || e->cgroup[0] != '/' || !fill_name_ok(e->value) || !e->dev[0] || !e->netns || !e->start)
                return -EBADMSG;
        _cleanup_close_ int dfd = open(e->cgroup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* The directory is gone, and the file with it. */
        if (dfd < 0 && errno == ENOENT)
                return 0;
        if (dfd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ESTALE : -errno;
        struct stat dst, st;
        char dev[16];
        if (fstat(dfd, &dst) < 0)
                return -errno;
        dev_string(dst.st_dev, dev);
        /* Another directory at that path (a link or a rename in the way):
         * the file, if any, is not where the journal says; nothing here
         * is sabot's to unlink. */
        if (!streq(dev, e->dev) || dst.st_ino != e->netns)
                return -ESTALE;
        if (fstatat(dfd, e->value, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISREG(st.st_mode) || st.st_dev != dst.st_dev || st.st_uid != geteuid())
                return -ESTALE;
        /* Only the file recorded, by its inode. */
        if (st.st_ino != e->start)
                return -ESTALE;
        if (unlinkat(dfd, e->value, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 0;
}

static void describe_entry(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "removed %s/%s", e->cgroup ? e->cgroup : "?", e->value ? e->value : "?");
}

static void doctor(doctor_row_fn row, void *ud) {
        row(ud, "disk-fill (fallocate)", "", NULL, false);
}

static const struct fault_backend backend = {.title = "disk fill", .doctor = doctor};

static const struct jentry_kind entries[] = {{"disk-fill", revert, describe_entry, false}, {NULL}};

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
