/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "../faults/fault.h"
#include "host.h"
#include "journal.h"

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

static int append_line(struct journal *j, const char *fmt, ...) _printf_(2, 3);
static int append_line(struct journal *j, const char *fmt, ...) {
        char buf[PATH_MAX * 3 + 256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof buf - 1)
                return -ENAMETOOLONG;
        buf[n++] = '\n';
        /* One write per line on an O_APPEND fd: the runner, its guardian and
         * abort may append to the same journal. */
        ssize_t w = write(j->fd, buf, (size_t)n);
        if (w < 0)
                return -errno;
        if (w != n)
                return -EIO;
        if (fdatasync(j->fd) < 0)
                return -errno;
        return 0;
}

static uint64_t now_wall_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int journal_create(const char *run_dir, const char *run_id, const char *scenario, struct journal **ret) {
        char dir[PATH_MAX], path[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/runs", run_dir);
        if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (snprintf(path, sizeof path, "%s/%s" JOURNAL_SUFFIX, dir, run_id) >= (int)sizeof path)
                return -ENAMETOOLONG;
        struct journal *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (j->fd < 0) {
                int r = -errno;
                free(j);
                return r;
        }
        j->path = strdup(path);
        j->run_id = strdup(run_id);
        j->scenario = strdup(scenario);
        j->runner_pid = getpid();
        (void)proc_starttime(j->runner_pid, &j->runner_start);
        j->started_wall_ns = now_wall_ns();
        j->next_seq = 1;
        char esc[PATH_MAX * 3];
        encode(scenario, esc, sizeof esc);
        int r = !j->path || !j->run_id || !j->scenario ? -ENOMEM
                : append_line(j, "sabot-journal 1 run=%s pid=%d start=%llu scenario=%s wall=%llu", run_id,
                              (int)j->runner_pid, (unsigned long long)j->runner_start, esc,
                              (unsigned long long)j->started_wall_ns);
        if (r >= 0) {
                /* The directory entry must survive a crash too. */
                _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void)fsync(dfd);
        }
        if (r < 0) {
                unlink(path);
                journal_free(j);
                return r;
        }
        *ret = j;
        return 0;
}

int journal_set_guardian(struct journal *j, pid_t pid) {
        j->guardian_pid = pid;
        (void)proc_starttime(pid, &j->guardian_start);
        return append_line(j, "guardian pid=%d start=%llu", (int)pid, (unsigned long long)j->guardian_start);
}

int journal_apply(struct journal *j, struct jentry *e) {
        char cg[PATH_MAX * 3] = "-", nm[256] = "-";
        if (e->cgroup)
                encode(e->cgroup, cg, sizeof cg);
        if (e->name)
                encode(e->name, nm, sizeof nm);
        e->seq = j->next_seq;
        int r = append_line(j, "apply seq=%u kind=%s pid=%d start=%llu cgroup=%s name=%s dev=%s ifindex=%d hook=%s "
                               "prio=%u handle=%u netns=%llu prog=%u", e->seq, e->kind, (int)e->pid, (unsigned long long)e->start,
                            cg, nm, e->dev[0] ? e->dev : "-", e->ifindex, e->ingress ? "ingress" : "egress", e->prio,
                            e->handle, (unsigned long long)e->netns, e->prog);
        if (r < 0)
                return r;
        struct jentry copy = *e;
        copy.cgroup = e->cgroup ? strdup(e->cgroup) : NULL;
        copy.name = e->name ? strdup(e->name) : NULL;
        r = array_push(&j->v, &j->n, sizeof copy, &copy);
        if (r < 0) {
                free(copy.cgroup);
                free(copy.name);
                return r;
        }
        j->next_seq++;
        return 0;
}

int journal_reverted(struct journal *j, unsigned seq) {
        int r = append_line(j, "revert seq=%u", seq);
        if (r < 0)
                return r;
        for (size_t i = 0; i < j->n; i++)
                if (j->v[i].seq == seq)
                        j->v[i].reverted = true;
        return 0;
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
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r = read_full_file(path, 64 * 1024 * 1024, &buf, &len);
        if (r < 0)
                return r;
        struct journal *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        j->path = strdup(path);
        if (j->fd < 0 || !j->path) {
                r = j->fd < 0 ? -errno : -ENOMEM;
                journal_free(j);
                return r;
        }
        j->next_seq = 1;
        char tmp[PATH_MAX * 3];
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                /* A line cut short by a crash has no newline: strtok_r still
                 * yields it, but it is the last one and is only trusted when
                 * complete (its fields parse). */
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
                        if (array_push(&j->v, &j->n, sizeof e, &e) < 0) {
                                free(e.name), free(e.cgroup);
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

static bool in_set(unsigned seq, const unsigned *seqs, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (seqs[i] == seq)
                        return true;
        return false;
}

static int revert_entries(struct journal *j, const unsigned *seqs, size_t n_seqs, unsigned *ret_failed,
                          journal_revert_cb done, void *ud) {
        int reverted = 0, first_err = 0;
        unsigned failed = 0;
        for (size_t i = j->n; i-- > 0;) {
                struct jentry *e = &j->v[i];
                if (e->reverted || (seqs && !in_set(e->seq, seqs, n_seqs)))
                        continue;
                int r = fault_revert_entry(e);
                if (r >= 0)
                        r = journal_reverted(j, e->seq);
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

int journal_remove(struct journal *j) {
        char slo[PATH_MAX];
        if (journal_sibling(j->path, ".slo", slo) == 0)
                (void)unlink(slo);
        if (journal_sibling(j->path, ".slo.tmp", slo) == 0) /* a runner that died mid-write */
                (void)unlink(slo);
        if (unlink(j->path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

void journal_free(struct journal *j) {
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        for (size_t i = 0; i < j->n; i++) {
                free(j->v[i].cgroup);
                free(j->v[i].name);
        }
        free(j->v);
        free(j->path);
        free(j->run_id);
        free(j->scenario);
        free(j);
}

int journal_list(const char *run_dir, char ***ret, size_t *ret_n) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/runs", run_dir);
        char **v = NULL;
        size_t n = 0;
        DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name), sl = strlen(JOURNAL_SUFFIX);
                if (l <= sl || !streq(de->d_name + l - sl, JOURNAL_SUFFIX))
                        continue;
                char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, de->d_name) < 0 || array_push(&v, &n, sizeof p, &p) < 0) {
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
