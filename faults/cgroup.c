/* SPDX-License-Identifier: MIT */
/* cgroup squeezes: lower one interface file of a target's own cgroup2
 * directory (cpu.max, memory.high, io.max, pids.max) for the window; the
 * value before is journaled first and written back at the end. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "../agent/host.h"
#include "cgroup.h"

/* The files a "cgroup-file" entry may name: a forged or damaged journal
 * cannot make a revert write anything else. */
static const char *const squeeze_files[] = {"cpu.max", "memory.high", "io.max", "pids.max", NULL};

static bool squeeze_file(const char *file) {
        for (size_t i = 0; squeeze_files[i]; i++)
                if (streq(file, squeeze_files[i]))
                        return true;
        return false;
}

int cgroup2_open_file(const char *cgroup, const char *file, int flags) {
        if (!cgroup || cgroup[0] != '/' || strstr(cgroup, "/../") || strstr(cgroup, "/./") || strchr(file, '/'))
                return -EBADMSG;
        _cleanup_close_ int dfd = open(cgroup, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        struct statfs sf;
        if (fstatfs(dfd, &sf) < 0)
                return -errno;
        if (sf.f_type != CGROUP2_SUPER_MAGIC)
                return -EMEDIUMTYPE;
        int fd = openat(dfd, file, flags | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cgroup2_write_file(const char *cgroup, const char *file, const char *value) {
        _cleanup_close_ int fd = cgroup2_open_file(cgroup, file, O_WRONLY);
        if (fd < 0)
                return fd;
        size_t l = strlen(value);
        ssize_t n = write(fd, value, l);
        return n < 0 ? -errno : (size_t)n == l ? 0 : -EIO;
}

/* One of the squeezes' files only: a forged or damaged journal cannot make
 * a revert write anything else. */
static int open_cgroup_file(const char *cgroup, const char *file, int flags) {
        return squeeze_file(file) ? cgroup2_open_file(cgroup, file, flags) : -EBADMSG;
}

/* The whole file, without its last newline. */
static int read_cgroup_file(const char *cgroup, const char *file, char *buf, size_t len) {
        _cleanup_close_ int fd = open_cgroup_file(cgroup, file, O_RDONLY);
        if (fd < 0)
                return fd;
        ssize_t n = read(fd, buf, len - 1);
        if (n < 0)
                return -errno;
        if ((size_t)n == len - 1)
                return -E2BIG;
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return 0;
}

static int write_cgroup_file(const char *cgroup, const char *file, const char *value) {
        return squeeze_file(file) ? cgroup2_write_file(cgroup, file, value) : -EBADMSG;
}

int cgroup_revert_file(const struct jentry *e) {
        if (!e->value || !e->file[0])
                return -EBADMSG;
        int r = write_cgroup_file(e->cgroup, e->file, e->value);
        /* A cgroup that is gone took its limit along; so did a device that
         * is gone (io.max: ENODEV). */
        return r == -ENOENT || (r == -ENODEV && streq(e->file, "io.max")) ? 0 : r;
}

void cgroup_describe_file(const struct jentry *e, char *buf, size_t len) {
        snprintf(buf, len, "restored %s of %s to '%s'", e->file, e->cgroup ? e->cgroup : "?", e->value ? e->value : "?");
}

int cgroup_device(const char *device, char buf[static 32]) {
        if (!device)
                return -EINVAL;
        if (device[0] != '/') {
                snprintf(buf, 32, "%s", device);
                return 0;
        }
        struct stat st;
        if (stat(device, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        snprintf(buf, 32, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
        return 0;
}

void cgroup_check_target(struct scenario *s, const struct fault *f, struct diags *d) {
        fault_require_target(s, f, d);
        if (f->target_index < 0)
                return;
        const struct target *t = s->targets[f->target_index];
        if (t->sel != SEL_UNIT && t->sel != SEL_CGROUP)
                diag_error(d, s->file, fault_line(f, "target"),
                           "type = %s squeezes a target's own cgroup: target '%s' must select unit = or "
                           "cgroup =, not processes", fault_type_to_string(f->type), f->target);
}

/* The cgroup directory target t names below root. */
static int target_cgroup_path(const char *root, const struct target *t, char **ret) {
        if (t->sel == SEL_UNIT)
                return cgroup_find_unit(root, t->unit, ret);
        const char *p = t->cgroup;
        while (*p == '/')
                p++;
        return asprintf(ret, "%s/%s", root, p) < 0 ? -ENOMEM : 0;
}

/* Whether word is one of the space-separated words of list. */
static bool has_word(const char *list, const char *word) {
        size_t l = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p++)
                if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' ' || p[l] == '\n'))
                        return true;
        return false;
}

static const char *systemd_accounting(const char *controller) {
        return streq(controller, "cpu")      ? "CPUAccounting"
               : streq(controller, "memory") ? "MemoryAccounting"
               : streq(controller, "io")     ? "IOAccounting"
                                             : "TasksAccounting";
}

int cgroup_probe(const struct scenario *s, const struct fault *f, const struct cgroup_squeeze *sq, char *why,
                 size_t len) {
        _cleanup_free_ char *root = NULL, *cg = NULL;
        if (f->target_index < 0)
                return -EINVAL;
        const struct target *t = s->targets[f->target_index];
        if (cgroup2_mount(&root) < 0) {
                snprintf(why, len, "cgroup2 is not mounted");
                return -EOPNOTSUPP;
        }
        int r = target_cgroup_path(root, t, &cg);
        if (r < 0 || access(cg, F_OK) < 0) {
                snprintf(why, len, "target '%s' has no cgroup below %s", t->hdr.name, root);
                return -EOPNOTSUPP;
        }
        char parent[PATH_MAX], ctl[512] = "";
        snprintf(parent, sizeof parent, "%s", cg);
        char *slash = strrchr(parent, '/');
        if (!slash || streq(cg, root)) {
                snprintf(why, len, "%s is the cgroup2 root, which has no %s", cg, sq->file);
                return -EOPNOTSUPP;
        }
        *slash = '\0';
        char p[PATH_MAX + 32];
        snprintf(p, sizeof p, "%s/cgroup.subtree_control", parent);
        _cleanup_fclose_ FILE *fp = fopen(p, "re");
        if (!fp || !fgets(ctl, sizeof ctl, fp) || !has_word(ctl, sq->controller)) {
                ctl[strcspn(ctl, "\n")] = '\0';
                snprintf(why, len, "the %s controller is not enabled for %s: %s has '%s'; enable it there "
                         "(echo +%s > %s) or for the unit (systemd: %s=yes)", sq->controller, cg, p,
                         ctl[0] ? ctl : "none", sq->controller, p, systemd_accounting(sq->controller));
                return -EOPNOTSUPP;
        }
        snprintf(p, sizeof p, "%s/%s", cg, sq->file);
        if (access(p, W_OK) < 0) {
                snprintf(why, len, "cannot write %s: %s", p, strerror(errno));
                return -EOPNOTSUPP;
        }
        return 0;
}

/* The device's line of io.max (or NULL) in buf. */
static const char *io_line(const char *all, const char *dev, char *buf, size_t len) {
        size_t l = strlen(dev);
        for (const char *p = all; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, dev, l) == 0 && p[l] == ' ') {
                        snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
                        return buf;
                }
        return NULL;
}

/* The value now and the one to write: -EALREADY with why in new when
 * there is nothing to tighten. old gets what the revert must write. */
static int squeeze_values(const struct fault *f, const char *cgroup, const struct cgroup_squeeze *sq, char *dev,
                          char *old, size_t len, char *new, size_t nlen) {
        char all[4096], line[512];
        int r = 0;
        dev[0] = '\0';
        if (streq(sq->file, "io.max")) {
                r = cgroup_device(f->device, dev);
                if (r < 0)
                        return r;
        }
        r = read_cgroup_file(cgroup, sq->file, all, sizeof all);
        if (r < 0)
                return r;
        const char *cur = all;
        if (dev[0]) {
                cur = io_line(all, dev, line, sizeof line);
                /* No line: no limit; that is what the revert writes. */
                if (cur)
                        snprintf(old, len, "%s", cur);
                else
                        snprintf(old, len, "%s rbps=max wbps=max riops=max wiops=max", dev);
        } else if (strlen(cur) >= len)
                return -E2BIG;
        else
                memcpy(old, cur, strlen(cur) + 1);
        return sq->value(f, dev, cur, new, nlen);
}

void cgroup_describe(FILE *out, const struct plan *pl, size_t i, const struct cgroup_squeeze *sq) {
        const struct fault *f = pl->faults[i].f;
        const struct resolved_target *rt = f->target_index >= 0 ? &pl->targets[f->target_index] : NULL;
        char intent[256], dev[32], old[512], new[512];
        sq->intent(f, intent, sizeof intent);
        if (!rt || !rt->cgroup) {
                fprintf(out, "      %s of target %s's cgroup (not found now): %s\n", sq->file, f->target, intent);
                return;
        }
        int r = squeeze_values(f, rt->cgroup, sq, dev, old, sizeof old, new, sizeof new);
        if (r == -EALREADY)
                fprintf(out, "      %s/%s: '%s' stays (%s; %s)\n", rt->cgroup, sq->file, old, new, intent);
        else if (r < 0)
                fprintf(out, "      %s/%s (cannot read it now: %s%s): %s\n", rt->cgroup, sq->file, strerror(-r),
                        r == -ENOENT ? "; is the controller enabled for it? see 'sabot doctor'" : "", intent);
        else
                fprintf(out, "      %s/%s: '%s' -> '%s' (%s), restored at the window's end\n", rt->cgroup, sq->file,
                        old, new, intent);
}

/* The run's state of one squeeze: the counter at the window's start. */
struct squeeze_run {
        const struct cgroup_squeeze *sq;
        char *cgroup;
        uint64_t stat0;
        bool has_stat;
};

static void squeeze_run_free(void *p) {
        struct squeeze_run *q = p;
        if (q)
                free(q->cgroup);
        free(q);
}

static int read_stat(const char *cgroup, const struct cgroup_squeeze *sq, uint64_t *ret) {
        char p[PATH_MAX], line[256];
        if (!sq->stat_file || snprintf(p, sizeof p, "%s/%s", cgroup, sq->stat_file) >= (int)sizeof p)
                return -ENOENT;
        _cleanup_fclose_ FILE *fp = fopen(p, "re");
        if (!fp)
                return -errno;
        size_t l = strlen(sq->stat_key);
        while (fgets(line, sizeof line, fp))
                if (strncmp(line, sq->stat_key, l) == 0 && line[l] == ' ') {
                        *ret = strtoull(line + l + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

int cgroup_apply(struct fault_ctx *c, struct fault_run *fr, const struct cgroup_squeeze *sq) {
        const struct fault *f = fr->f;
        _cleanup_resolved_target_ struct resolved_target rt = {0};
        int r = plan_resolve_target(c->pl, c->pl->s->targets[f->target_index], &rt);
        if (r >= 0 && !rt.cgroup)
                r = -ENOENT;
        if (r < 0)
                return r;
        char dev[32], old[JOURNAL_VALUE_MAX], new[512];
        r = squeeze_values(f, rt.cgroup, sq, dev, old, sizeof old, new, sizeof new);
        if (r == -EALREADY) {
                fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s/%s is '%s', already as tight (%s): left alone", rt.cgroup,
                            sq->file, old, new);
                return 0;
        }
        if (r < 0)
                return fault_fail(fr, r, "cannot read the current %s of %s", sq->file, rt.cgroup);
        struct squeeze_run *q = calloc(1, sizeof *q);
        if (!q || !(q->cgroup = strdup(rt.cgroup))) {
                squeeze_run_free(q);
                return -ENOMEM;
        }
        q->sq = sq;
        q->has_stat = read_stat(rt.cgroup, sq, &q->stat0) >= 0;
        fr->priv = q;
        fr->priv_free = squeeze_run_free;
        struct jentry e = {.kind = "cgroup-file", .cgroup = rt.cgroup, .name = f->hdr.name, .value = old};
        snprintf(e.file, sizeof e.file, "%s", sq->file);
        r = journal_apply(c->j, &e);
        if (r >= 0)
                r = fault_track(fr, e.seq);
        if (r < 0)
                return r;
        r = write_cgroup_file(rt.cgroup, sq->file, new);
        if (r < 0)
                return fault_fail(fr, r, "cannot write '%s' to %s/%s", new, rt.cgroup, sq->file);
        fr->strikes = 1;
        fault_event(c, LOG_NOTICE | EVT_APPLY, f, "%s/%s: '%s' -> '%s'", rt.cgroup, sq->file, old, new);
        return 0;
}

void cgroup_finish(struct fault_ctx *c, struct fault_run *fr) {
        (void)c;
        struct squeeze_run *q = fr->priv;
        uint64_t now;
        if (!q)
                snprintf(fr->outcome, sizeof fr->outcome, "nothing written: already as tight");
        else if (q->has_stat && read_stat(q->cgroup, q->sq, &now) >= 0) {
                fr->hits = (unsigned)(now - q->stat0 > UINT32_MAX ? UINT32_MAX : now - q->stat0);
                snprintf(fr->outcome, sizeof fr->outcome, "%s/%s squeezed; %s %s +%llu during the window", q->cgroup,
                         q->sq->file, q->sq->stat_file, q->sq->stat_key, (unsigned long long)(now - q->stat0));
        } else
                snprintf(fr->outcome, sizeof fr->outcome, "%s/%s squeezed", q->cgroup, q->sq->file);
}

void cgroup_progress(struct fault_run *fr, char *buf, size_t len) {
        const struct squeeze_run *q = fr->priv;
        uint64_t now;
        if (!q)
                snprintf(buf, len, "nothing written: already as tight");
        else if (q->has_stat && read_stat(q->cgroup, q->sq, &now) >= 0)
                snprintf(buf, len, "%s %s +%llu", q->sq->stat_file, q->sq->stat_key, (unsigned long long)(now - q->stat0));
        else
                snprintf(buf, len, "%s squeezed", q->sq->file);
}

static void cgroup_doctor(doctor_row_fn row, void *ud) {
        _cleanup_free_ char *root = NULL;
        char why[PATH_MAX + 128] = "", ctl[512] = "", p[PATH_MAX] = "";
        if (cgroup2_mount(&root) >= 0) {
                snprintf(p, sizeof p, "%s/cgroup.controllers", root);
                _cleanup_fclose_ FILE *fp = fopen(p, "re");
                if (fp && fgets(ctl, sizeof ctl, fp))
                        ctl[strcspn(ctl, "\n")] = '\0';
        }
        /* One row a kind: each needs its controller on cgroup2. */
        static const char *const ctls[] = {"cpu", "memory", "io", "pids"};
        for (size_t i = 0; i < ELEMENTSOF(ctls); i++) {
                char what[64];
                snprintf(what, sizeof what, "%s (cgroup2 %s controller)", ctls[i], ctls[i]);
                if (!root)
                        snprintf(why, sizeof why, "cgroup2 is not mounted");
                else if (has_word(ctl, ctls[i]))
                        why[0] = '\0';
                else
                        snprintf(why, sizeof why, "not in %s ('%s'; on a hybrid host the controllers are v1's)", p,
                                 ctl[0] ? ctl : "none");
                row(ud, what, why,
                    "a unified cgroup2 hierarchy; the target's parent must list it in cgroup.subtree_control", false);
        }
}

const struct fault_backend cgroup_backend = {.title = "cgroup squeezes", .doctor = cgroup_doctor};
