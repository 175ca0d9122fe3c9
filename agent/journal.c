/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "host.h"
#include "journal.h"
#include "kind.h"
#include "state.h"

/* Values are written percent-encoded so that paths with spaces or '='
 * stay one token. */
static void encode(const char *s, char *out, size_t len) {
        size_t o = 0;
        for (; *s && o + 4 < len; s++) {
                unsigned char c = (unsigned char)*s;
                if (isalnum(c) || strchr("._/@:+-", c))
                        out[o++] = (char)c;
                else
                        o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
        }
        out[o] = '\0';
}

static char *decode(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned v;
                if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2]) &&
                    sscanf(s + 1, "%2x", &v) == 1) {
                        *o++ = (char)v;
                        s += 2;
                } else
                        *o++ = *s;
        }
        *o = '\0';
        return out;
}

void journal_encode(const char *s, char *out, size_t len) { encode(s, out, len); }

char *journal_decode(const char *s) { return decode(s); }

/* Each record is written as "\nBODY ." by one write on an O_APPEND fd:
 * the runner, its guardian and abort may append to the same journal. A
 * write cut short (a full disk) leaves a partial record without its " ."
 * end, which the reader ignores; the next record starts on a line of its
 * own whoever writes it, so nothing is ever glued onto the partial one. The
 * header, first in a new file, has no leading newline. */
static int append_line(struct journal *j, const char *fmt, ...) _printf_(2, 3);
static int append_line(struct journal *j, const char *fmt, ...) {
        char buf[PATH_MAX * 3 + 256];
        bool first = j->next_seq == 0;
        size_t o = first ? 0 : 1;
        buf[0] = '\n';
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf + o, sizeof buf - o - 3, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof buf - o - 3)
                return -ENAMETOOLONG;
        size_t len = o + (size_t)n;
        memcpy(buf + len, " .", 2);
        len += 2;
        if (first)
                buf[len++] = '\n';
        /* Revert records still pending (journal_batch_begin) go first, in
         * the same write: they must not come after a newer apply. */
        struct iovec iov[2] = {{j->pending, j->pending_len}, {buf, len}};
        bool with_pending = j->pending_len > 0;
        size_t total = len + (with_pending ? j->pending_len : 0);
        ssize_t w = writev(j->fd, with_pending ? iov : iov + 1, with_pending ? 2 : 1);
        int r = w < 0 ? -errno : (size_t)w != total ? -ENOSPC : 0;
        if (r >= 0 && fdatasync(j->fd) < 0)
                r = -errno;
        if (with_pending) {
                if (r < 0)
                        j->unrecorded += j->pending_n;
                j->pending_len = 0;
                j->pending_n = 0;
        }
        if (r < 0 && !j->write_err)
                j->write_err = r;
        return r;
}

/* Keep one revert record for the batch's write: -ENOMEM when it cannot. */
static int pending_push(struct journal *j, unsigned seq) {
        char rec[48];
        int n = snprintf(rec, sizeof rec, "\nrevert seq=%u .", seq);
        if (j->pending_len + (size_t)n > j->pending_cap) {
                size_t cap = j->pending_cap ? j->pending_cap * 2 : 1024;
                while (cap < j->pending_len + (size_t)n)
                        cap *= 2;
                char *p = realloc(j->pending, cap);
                if (!p)
                        return -ENOMEM;
                j->pending = p;
                j->pending_cap = cap;
        }
        memcpy(j->pending + j->pending_len, rec, (size_t)n);
        j->pending_len += (size_t)n;
        j->pending_n++;
        return 0;
}

void journal_batch_begin(struct journal *j) { j->batch++; }

int journal_batch_commit(struct journal *j) {
        if (j->batch > 0 && --j->batch > 0)
                return 0;
        if (j->pending_len == 0)
                return 0;
        /* Several records, each "\nBODY .", in one write on the O_APPEND
         * fd: cut short by a full disk, the whole ones before the cut stand
         * and the cut one is ignored, as for single records. */
        ssize_t w = write(j->fd, j->pending, j->pending_len);
        int r = w < 0 ? -errno : (size_t)w != j->pending_len ? -ENOSPC : 0;
        if (r >= 0 && fdatasync(j->fd) < 0)
                r = -errno;
        if (r < 0) {
                j->unrecorded += j->pending_n;
                if (!j->write_err)
                        j->write_err = r;
        }
        j->pending_len = 0;
        j->pending_n = 0;
        return r;
}

/* RUN_DIR/runs, checked: made when create. */
static int runs_dir_open(const char *run_dir, bool create, int *ret_fd) {
        _cleanup_close_ int rfd = -1;
        int r = dirs_open(run_dir, create, &rfd);
        if (r < 0)
                return r;
        int fd = openat_dir_trusted(rfd, run_dir, "runs", create, 0700);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

static struct journal *journal_new(void) {
        struct journal *j = calloc(1, sizeof *j);
        if (j)
                j->fd = j->dfd = -1;
        return j;
}

int journal_create(const char *run_dir, const char *run_id, const char *scenario, struct journal **ret) {
        char dir[PATH_MAX], name[NAME_MAX + 1], path[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/runs", run_dir) >= (int)sizeof dir ||
            snprintf(name, sizeof name, "%s" JOURNAL_SUFFIX, run_id) >= (int)sizeof name ||
            snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                return -ENAMETOOLONG;
        struct journal *j = journal_new();
        if (!j)
                return -ENOMEM;
        int r = runs_dir_open(run_dir, true, &j->dfd);
        if (r < 0) {
                journal_free(j);
                return r;
        }
        j->fd = openat(j->dfd, name, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (j->fd < 0) {
                r = -errno;
                journal_free(j);
                return r;
        }
        j->path = strdup(path);
        j->name = strdup(name);
        j->run_id = strdup(run_id);
        j->scenario = strdup(scenario);
        j->runner_pid = getpid();
        (void)proc_starttime(j->runner_pid, &j->runner_start);
        j->started_wall_ns = wall_now();
        j->next_seq = 0; /* the header goes first */
        char esc[PATH_MAX * 3];
        encode(scenario, esc, sizeof esc);
        r = !j->path || !j->name || !j->run_id || !j->scenario
                    ? -ENOMEM
                    : append_line(j, "sabot-journal " JOURNAL_VERSION " run=%s pid=%d start=%llu scenario=%s wall=%llu",
                                  run_id, (int)j->runner_pid, (unsigned long long)j->runner_start, esc,
                                  (unsigned long long)j->started_wall_ns);
        j->next_seq = 1;
        if (r >= 0)
                /* The directory entry must survive a crash too. */
                (void)fsync(j->dfd);
        if (r < 0) {
                (void)unlinkat(j->dfd, name, 0);
                journal_free(j);
                return r;
        }
        *ret = j;
        return 0;
}

int journal_reserve(struct journal *j, size_t bytes) {
        /* Blocks beyond the end, kept for the appends to come: a run dir
         * that fills up later cannot fail them. */
        struct stat st;
        if (fstat(j->fd, &st) < 0)
                return -errno;
        if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, st.st_size, (off_t)bytes) < 0)
                return errno == EOPNOTSUPP ? 0 : -errno;
        return 0;
}

int journal_set_guardian(struct journal *j, pid_t pid) {
        j->guardian_pid = pid;
        (void)proc_starttime(pid, &j->guardian_start);
        return append_line(j, "guardian pid=%d start=%llu", (int)pid, (unsigned long long)j->guardian_start);
}

int journal_apply(struct journal *j, struct jentry *e) {
        char cg[PATH_MAX * 3] = "-", nm[256] = "-", val[JOURNAL_VALUE_MAX * 3] = "-";
        if (e->value && strlen(e->value) >= JOURNAL_VALUE_MAX)
                return -E2BIG;
        if (e->value)
                encode(e->value, val, sizeof val);
        if (e->cgroup)
                encode(e->cgroup, cg, sizeof cg);
        if (e->name)
                encode(e->name, nm, sizeof nm);
        e->seq = j->next_seq;
        int r = append_line(j, "apply seq=%u kind=%s pid=%d start=%llu cgroup=%s name=%s dev=%s ifindex=%d hook=%s "
                               "prio=%u handle=%u netns=%llu prog=%u file=%s value=%s", e->seq, e->kind, (int)e->pid,
                            (unsigned long long)e->start, cg, nm, e->dev[0] ? e->dev : "-", e->ifindex,
                            e->ingress ? "ingress" : "egress", e->prio, e->handle, (unsigned long long)e->netns, e->prog,
                            e->file[0] ? e->file : "-", val);
        if (r < 0)
                return r;
        struct jentry copy = *e;
        copy.cgroup = e->cgroup ? strdup(e->cgroup) : NULL;
        copy.name = e->name ? strdup(e->name) : NULL;
        copy.value = e->value ? strdup(e->value) : NULL;
        r = array_push(&j->v, &j->n, sizeof copy, &copy);
        if (r < 0) {
                free(copy.cgroup);
                free(copy.name);
                free(copy.value);
                return r;
        }
        j->next_seq++;
        return 0;
}

int journal_reverted(struct journal *j, unsigned seq) {
        /* Done whether or not the record reaches the disk: the revert
         * succeeded, so the object is gone, and reverting it again (from a
         * journal without this line) finds nothing and succeeds. */
        for (size_t i = 0; i < j->n; i++)
                if (j->v[i].seq == seq)
                        j->v[i].reverted = true;
        if (j->batch > 0 && pending_push(j, seq) >= 0)
                return 0;
        int r = append_line(j, "revert seq=%u", seq);
        if (r < 0)
                j->unrecorded++;
        return r;
}

size_t journal_outstanding(const struct journal *j) {
        size_t n = 0;
        for (size_t i = 0; i < j->n; i++)
                n += !j->v[i].reverted;
        return n;
}

/* "key=value" tokens of a line. */
static const char *field(char *line, const char *key, char *buf, size_t len) {
        size_t kl = strlen(key);
        for (char *p = line; (p = strstr(p, key)); p += kl)
                if ((p == line || p[-1] == ' ') && p[kl] == '=') {
                        size_t n = strcspn(p + kl + 1, " \n");
                        if (n >= len)
                                return NULL;
                        memcpy(buf, p + kl + 1, n);
                        buf[n] = '\0';
                        return buf;
                }
        return NULL;
}

static unsigned long long field_ull(char *line, const char *key) {
        char b[32];
        return field(line, key, b, sizeof b) ? strtoull(b, NULL, 10) : 0;
}

int journal_load(const char *path, struct journal **ret) {
        /* PATH is RUN_DIR/runs/NAME: the run dir is walked and checked,
         * runs and NAME are opened in it without following links. */
        const char *slash = strrchr(path, '/');
        char run_dir[PATH_MAX];
        size_t dl = slash ? (size_t)(slash - path) : 0;
        if (!slash || dl < 5 || strncmp(path + dl - 5, "/runs", 5) != 0 || dl - 5 >= sizeof run_dir)
                return -EINVAL;
        snprintf(run_dir, sizeof run_dir, "%.*s", (int)(dl - 5), path);
        const char *name = slash + 1;
        if (!*name || strlen(name) > NAME_MAX)
                return -EINVAL;
        struct journal *j = journal_new();
        if (!j)
                return -ENOMEM;
        int r = runs_dir_open(run_dir[0] ? run_dir : "/", false, &j->dfd);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)dl, path);
        /* One open for reading and for appending reverts. */
        if (r >= 0) {
                j->fd = openat_trusted(j->dfd, dir, name, O_RDWR | O_APPEND, 0);
                r = j->fd < 0 ? j->fd : 0;
        }
        j->path = strdup(path);
        j->name = strdup(name);
        if (r >= 0 && (!j->path || !j->name))
                r = -ENOMEM;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (r >= 0)
                r = read_full_fd(j->fd, 64 * 1024 * 1024, &buf, &len);
        if (r < 0) {
                journal_free(j);
                return r;
        }
        j->next_seq = 1;
        bool v1 = strncmp(buf, "sabot-journal 1 ", 16) == 0;
        char tmp[PATH_MAX * 3];
        /* A NUL (zeros where a crash left a record's data unwritten) ends
         * a line as a newline does: neither the records before it nor
         * those appended after it are lost, and a record it cuts is not
         * whole. */
        for (char *c = buf; (c = memchr(c, '\0', len - (size_t)(c - buf))); c++)
                *c = '\n';
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                /* A record cut short by a crash or a full disk has no " ."
                 * end: it is not trusted. (Version 1 journals had none.) */
                if (!v1) {
                        size_t ll = strlen(l);
                        if (ll < 2 || strcmp(l + ll - 2, " .") != 0)
                                continue;
                        l[ll - 2] = '\0';
                }
                if (strncmp(l, "sabot-journal ", 14) == 0) {
                        free(j->run_id), free(j->scenario);
                        j->run_id = field(l, "run", tmp, sizeof tmp) ? strdup(tmp) : NULL;
                        j->scenario = field(l, "scenario", tmp, sizeof tmp) ? decode(tmp) : NULL;
                        j->runner_pid = (pid_t)field_ull(l, "pid");
                        j->runner_start = field_ull(l, "start");
                        j->started_wall_ns = field_ull(l, "wall");
                } else if (strncmp(l, "guardian ", 9) == 0) {
                        j->guardian_pid = (pid_t)field_ull(l, "pid");
                        j->guardian_start = field_ull(l, "start");
                } else if (strncmp(l, "apply ", 6) == 0) {
                        struct jentry e = {.seq = (unsigned)field_ull(l, "seq")};
                        if (!e.seq || !field(l, "kind", e.kind, sizeof e.kind) || !field(l, "name", tmp, sizeof tmp))
                                continue;
                        e.pid = (pid_t)field_ull(l, "pid");
                        e.start = field_ull(l, "start");
                        e.name = streq(tmp, "-") ? NULL : decode(tmp);
                        if (field(l, "cgroup", tmp, sizeof tmp) && !streq(tmp, "-"))
                                e.cgroup = decode(tmp);
                        if (field(l, "dev", tmp, sizeof tmp) && !streq(tmp, "-") && strlen(tmp) < sizeof e.dev)
                                memcpy(e.dev, tmp, strlen(tmp) + 1);
                        e.ifindex = (int)field_ull(l, "ifindex");
                        e.ingress = field(l, "hook", tmp, sizeof tmp) && streq(tmp, "ingress");
                        e.prio = (uint32_t)field_ull(l, "prio");
                        e.handle = (uint32_t)field_ull(l, "handle");
                        e.netns = field_ull(l, "netns");
                        e.prog = (uint32_t)field_ull(l, "prog");
                        if (field(l, "file", tmp, sizeof tmp) && !streq(tmp, "-") && strlen(tmp) < sizeof e.file)
                                memcpy(e.file, tmp, strlen(tmp) + 1);
                        if (field(l, "value", tmp, sizeof tmp) && !streq(tmp, "-"))
                                e.value = decode(tmp);
                        if (array_push(&j->v, &j->n, sizeof e, &e) < 0) {
                                free(e.name), free(e.cgroup), free(e.value);
                                journal_free(j);
                                return -ENOMEM;
                        }
                        if (e.seq >= j->next_seq)
                                j->next_seq = e.seq + 1;
                } else if (strncmp(l, "revert ", 7) == 0) {
                        unsigned seq = (unsigned)field_ull(l, "seq");
                        for (size_t i = 0; i < j->n; i++)
                                if (j->v[i].seq == seq)
                                        j->v[i].reverted = true;
                } else if (strncmp(l, "end", 3) == 0)
                        j->ended = true;
        }
        *ret = j;
        return 0;
}

const struct jentry_kind *jentry_kind_find(const char *kind) {
        for (size_t i = 0; i <= n_fault_kinds; i++) {
                const struct jentry_kind *v = i < n_fault_kinds ? fault_kinds[i]->entries : jentry_kinds_other;
                for (; v && v->kind; v++)
                        if (streq(v->kind, kind))
                                return v;
        }
        return NULL;
}

static bool in_set(unsigned seq, const unsigned *seqs, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (seqs[i] == seq)
                        return true;
        return false;
}

/* The journal whose entry is being reverted (journal_reverting). */
static const struct journal *reverting;

const struct journal *journal_reverting(void) { return reverting; }

static int revert_entries(struct journal *j, const unsigned *seqs, size_t n_seqs, unsigned *ret_failed,
                          journal_revert_cb done, void *ud) {
        int reverted = 0, first_err = 0;
        unsigned failed = 0;
        /* Every entry undone before any is recorded (journal_batch_begin). */
        journal_batch_begin(j);
        for (size_t i = j->n; i-- > 0;) {
                struct jentry *e = &j->v[i];
                if (e->reverted || (seqs && !in_set(e->seq, seqs, n_seqs)))
                        continue;
                const struct jentry_kind *k = jentry_kind_find(e->kind);
                reverting = j;
                int r = k ? k->revert(e) : -EBADMSG;
                reverting = NULL;
                if (r >= 0)
                        (void)journal_reverted(j, e->seq); /* done even if it could not be recorded */
                if (done)
                        done(j, e, r, ud);
                if (r < 0) {
                        failed++;
                        if (!first_err)
                                first_err = r;
                        continue;
                }
                reverted++;
        }
        (void)journal_batch_commit(j); /* the reverts are done even if it fails */
        if (ret_failed)
                *ret_failed = failed;
        return first_err ? first_err : reverted;
}

int journal_revert_all(struct journal *j, unsigned *ret_failed, journal_revert_cb done, void *ud) {
        return revert_entries(j, NULL, 0, ret_failed, done, ud);
}

int journal_revert_some(struct journal *j, const unsigned *seqs, size_t n_seqs, unsigned *ret_failed) {
        /* A fault that created nothing (a kill) reverts nothing: revert_entries
         * takes a NULL set as "every entry". */
        if (n_seqs == 0) {
                if (ret_failed)
                        *ret_failed = 0;
                return 0;
        }
        return revert_entries(j, seqs, n_seqs, ret_failed, NULL, NULL);
}

int journal_sibling(const char *journal_path, const char *suffix, char buf[static PATH_MAX]) {
        size_t l = strlen(journal_path), sl = strlen(JOURNAL_SUFFIX);
        if (l <= sl || !streq(journal_path + l - sl, JOURNAL_SUFFIX))
                return -EINVAL;
        if (snprintf(buf, PATH_MAX, "%.*s%s", (int)(l - sl), journal_path, suffix) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

static int sibling_name(const struct journal *j, const char *suffix, char buf[static NAME_MAX + 1]) {
        size_t l = strlen(j->name), sl = strlen(JOURNAL_SUFFIX);
        if (l <= sl || !streq(j->name + l - sl, JOURNAL_SUFFIX))
                return -EINVAL;
        if (snprintf(buf, NAME_MAX + 1, "%.*s%s", (int)(l - sl), j->name, suffix) > NAME_MAX - 4)
                return -ENAMETOOLONG;
        return 0;
}

int journal_sibling_write(struct journal *j, const char *suffix, const char *text, size_t len) {
        char name[NAME_MAX + 1];
        int r = sibling_name(j, suffix, name);
        if (r < 0)
                return r;
        int fd = replace_open(j->dfd, name, 0600);
        if (fd < 0)
                return fd;
        r = write(fd, text, len) == (ssize_t)len ? 0 : errno ? -errno : -ENOSPC;
        if (r >= 0)
                /* Not durable: what it holds (the SLO states for `sabot
                 * status`) is rewritten twice a second from the run loop,
                 * where an fsync on a busy disk took seconds and cost the
                 * runner its guardian's heartbeats; a crash loses nothing
                 * that the journal does not hold. */
                r = replace_commit(j->dfd, fd, name, false);
        else
                replace_abort(j->dfd, name);
        close(fd);
        return r;
}

int journal_sibling_read(const struct journal *j, const char *suffix, size_t max, char **ret) {
        char name[NAME_MAX + 1], dir[PATH_MAX];
        int r = sibling_name(j, suffix, name);
        if (r < 0)
                return r;
        snprintf(dir, sizeof dir, "%.*s", (int)(strlen(j->path) - strlen(j->name) - 1), j->path);
        _cleanup_close_ int fd = openat_trusted(j->dfd, dir, name, O_RDONLY | O_NONBLOCK, 0);
        if (fd < 0)
                return fd;
        return read_full_fd(fd, max, ret, NULL);
}

int journal_remove(struct journal *j) {
        char name[NAME_MAX + 1];
        /* .metrics: where the run is counted if it was killed (metrics.c). */
        static const char *const siblings[] = {".slo", ".metrics"};
        for (size_t i = 0; i < ELEMENTSOF(siblings); i++)
                if (sibling_name(j, siblings[i], name) == 0) {
                        (void)unlinkat(j->dfd, name, 0);
                        replace_abort(j->dfd, name); /* a runner that died mid-write */
                }
        /* Removing the journal is the last record of a run: it needs no
         * free space. */
        if (unlinkat(j->dfd, j->name, 0) < 0 && errno != ENOENT)
                return -errno;
        (void)fsync(j->dfd);
        return 0;
}

void journal_free(struct journal *j) {
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        if (j->dfd >= 0)
                close(j->dfd);
        free(j->name);
        for (size_t i = 0; i < j->n; i++) {
                free(j->v[i].cgroup);
                free(j->v[i].name);
                free(j->v[i].value);
        }
        free(j->v);
        free(j->pending);
        free(j->path);
        free(j->run_id);
        free(j->scenario);
        free(j);
}

int journal_list(const char *run_dir, char ***ret, size_t *ret_n) {
        char **v = NULL;
        size_t n = 0;
        int dfd = -1;
        int r = runs_dir_open(run_dir, false, &dfd);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        DIR *d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return r;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name), sl = strlen(JOURNAL_SUFFIX);
                if (l <= sl || !streq(de->d_name + l - sl, JOURNAL_SUFFIX))
                        continue;
                char *p = NULL;
                if (asprintf(&p, "%s/runs/%s", run_dir, de->d_name) < 0 || array_push(&v, &n, sizeof p, &p) < 0) {
                        free(p);
                        closedir(d);
                        paths_free(v, n);
                        return -ENOMEM;
                }
        }
        closedir(d);
        *ret = v;
        *ret_n = n;
        return 0;
}

void paths_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

bool process_alive(pid_t pid, uint64_t start) {
        uint64_t now;
        char st;
        if (pid <= 0 || proc_starttime(pid, &now) < 0 || now != start)
                return false;
        /* A zombie has finished: it holds nothing. */
        return proc_state(pid, &st) == 0 && st != 'Z' && st != 'X';
}
